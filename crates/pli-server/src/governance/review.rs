//! The second review of emergencies. An emergency disclosed on one approval is reviewed
//! again by its deadline; a review not done by then becomes an audit entry
//! (`request.overdue`, by the server) as soon as it falls due, naming every legal reviewer
//! it is for. Each of them reads it among their alerts, which come from the log itself.
//!
//! Falling due is noticed by the minute's governance sweep, and before any staff call that
//! reads or changes requests, so nobody sees or acts on a request whose lateness is not yet
//! in the log.

use super::{Actor, Governance, GovernanceError};
use crate::clock::Clock;
use crate::store::{GovernanceEffect, Store};
use pli_proto::audit::AuditEntry;
use pli_proto::governance::{Role, StaffAlert};
use serde_json::json;

/// Records every second review that fell due and was not done (of the request `only`, or
/// of all). Returns how many it recorded.
pub async fn mark_overdue<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    only: Option<&str>,
) -> Result<usize, GovernanceError> {
    // One node records each lateness once; the reports count a request once in any case.
    let _serial = governance.review_lock.lock().await;
    let now = clock.now_ms();
    let candidates = match only {
        Some(id) => store.request(id).await?.into_iter().collect(),
        None => store.list_requests().await?,
    };
    let mut reviewers: Option<Vec<u64>> = None;
    let mut marked = 0;
    for mut view in candidates {
        let Some(due_ms) = view.second_review_due_ms else {
            continue;
        };
        if !super::rules::falls_overdue(&view, now) {
            continue;
        }
        let notify = match &reviewers {
            Some(ids) => ids.clone(),
            None => {
                let ids: Vec<u64> = store
                    .list_staff()
                    .await?
                    .into_iter()
                    .filter(|s| s.role == Role::Legal)
                    .map(|s| s.id)
                    .collect();
                reviewers = Some(ids.clone());
                ids
            }
        };
        view.overdue = true;
        let details = json!({
            "request_id": view.id,
            "basis": view.request.basis,
            "due_ms": due_ms,
            "notify": notify,
        });
        let effect = GovernanceEffect {
            request: Some(view),
            ..Default::default()
        };
        governance
            .record(
                store,
                clock,
                Actor::SERVER,
                "request.overdue",
                "ok",
                details,
                effect,
            )
            .await?;
        marked += 1;
    }
    Ok(marked)
}

/// The alerts for legal reviewer `staff_id`: every overdue second review the log names
/// them for, oldest first, each saying whether the review is still awaited.
pub async fn alerts<S: Store>(
    store: &S,
    staff_id: u64,
) -> Result<Vec<StaffAlert>, GovernanceError> {
    let mut alerts = Vec::new();
    for raw in super::report::read_log(store).await? {
        let Some(entry) = AuditEntry::decode(&raw) else {
            continue;
        };
        let named = entry.details["notify"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id.as_u64() == Some(staff_id)));
        if entry.action != "request.overdue" || entry.outcome != "ok" || !named {
            continue;
        }
        let Some(request_id) = entry.details["request_id"].as_str() else {
            continue;
        };
        let open = store
            .request(request_id)
            .await?
            .is_some_and(|view| view.second_review_due_ms.is_some());
        alerts.push(StaffAlert {
            seq: entry.seq,
            time_ms: entry.time_ms,
            kind: "second-review-overdue".into(),
            request_id: request_id.to_owned(),
            due_ms: entry.details["due_ms"].as_u64(),
            open,
        });
    }
    Ok(alerts)
}
