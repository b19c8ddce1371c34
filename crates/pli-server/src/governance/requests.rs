//! The lawful-request lifecycle: received → in review → approved / narrowed / rejected →
//! disclosed → notified → closed. Each step is checked by [`rules`](super::rules) and
//! recorded in the audit log with its effect; refusals are recorded too.
//!
//! Audit details never carry a username: targets appear as commitments.

use super::inventory::{self, Package};
use super::{Actor, Governance, GovernanceError, review, rules};
use crate::clock::Clock;
use crate::store::{GovernanceEffect, NewNotice, ReleaseNotice, Store, StoreError};
use pli_proto::Username;
use pli_proto::api::ServerNotice;
use pli_proto::audit::{date_commitment, target_commitment};
use pli_proto::governance::{
    LegalBasis, NewRequest, RequestState, RequestVersion, RequestView, format_day, parse_day,
};
use rand::Rng;
use serde_json::{Value, json};

/// A fresh secret salt for commitments (hex of 32 random bytes).
pub(crate) fn new_salt() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// What the public log shows of a non-disclosure order while it runs: a commitment to its
/// end date, never the date (a date next to a request would tell whoever fears one that a
/// gagged request exists, and until when). A request entered before salts shows the date.
fn nondisclosure(view: &RequestView) -> Value {
    match (&view.request.nondisclosure_until, view.gag_salt.is_empty()) {
        (None, _) => Value::Null,
        (Some(day), true) => json!(day),
        (Some(day), false) => json!({ "commitment": date_commitment(&view.gag_salt, day) }),
    }
}

/// What the log says about a request: enough for reports and audits, nothing personal.
/// Targets appear as commitments under the request's secret salt. `region` is the policy's
/// the request is held to (its targets' home regions): reports count by region, each under
/// its own policy's bands.
fn summary(view: &RequestView, region: &str) -> Value {
    let mut summary = json!({
        "request_id": view.id,
        "region": region,
        "state": view.state,
        "country": view.request.country,
        "basis": view.request.basis,
        "categories": view.request.categories,
        "targets": view.request.targets.iter().map(|t| target_commitment(&view.commitment_salt, &view.id, t.as_str())).collect::<Vec<_>>(),
        "doc_sha256": view.request.doc_sha256,
        "request_hash": view.hash,
        "nondisclosure_until": nondisclosure(view),
    });
    if rules::rejected_after_disclosure(view) {
        // The second review of an emergency found the disclosure unjustified: reports
        // count these apart.
        summary["rejected_after_disclosure"] = Value::Bool(true);
    }
    summary
}

/// Runs `step` on the stored request and records it; a refused step is recorded as such.
async fn step<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    action: &str,
    id: &str,
    step: impl FnOnce(&mut RequestView, &rules::Policy) -> Result<(), rules::RuleError>,
) -> Result<RequestView, GovernanceError> {
    // A lateness that fell due is in the log before anyone acts on the request.
    review::mark_overdue(governance, store, clock, Some(id)).await?;
    let Some(mut view) = store.request(id).await? else {
        return Err(governance
            .refuse(
                store,
                clock,
                actor,
                action,
                GovernanceError::UnknownRequest,
                json!({ "request_id": id }),
            )
            .await);
    };
    let policy = governance.policy_for(store, &view.request.targets).await?;
    if let Err(err) = step(&mut view, &policy) {
        return Err(governance
            .refuse(
                store,
                clock,
                actor,
                action,
                err.into(),
                summary(&view, &policy.region),
            )
            .await);
    }
    // An edit may have changed the targets, and with them the region.
    let region = governance
        .policy_for(store, &view.request.targets)
        .await?
        .region;
    let mut effect = GovernanceEffect {
        request: Some(view.clone()),
        ..Default::default()
    };
    if action == "request.approve"
        && view.request.basis == LegalBasis::Preservation
        && view.state == RequestState::Approved
    {
        let until = clock.now_ms() + policy.preservation_ms;
        effect.holds = view
            .request
            .targets
            .iter()
            .map(|t| (t.clone(), until))
            .collect();
    }
    governance
        .record(
            store,
            clock,
            actor,
            action,
            "ok",
            summary(&view, &region),
            effect,
        )
        .await?;
    Ok(view)
}

pub async fn create<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    request: NewRequest,
) -> Result<RequestView, GovernanceError> {
    let id = hex::encode(rand::rng().random::<[u8; 8]>());
    let view = RequestView {
        id,
        state: RequestState::Received,
        hash: rules::request_hash(&request),
        request,
        entered_by: actor.staff_id,
        edited_by: Vec::new(),
        created_ms: clock.now_ms(),
        approvals: Vec::new(),
        second_review_due_ms: None,
        overdue: false,
        rejection_reason: None,
        package_sha256: None,
        narrowed_from: None,
        commitment_salt: new_salt(),
        gag_salt: new_salt(),
        versions: Vec::new(),
    };
    let policy = governance.policy_for(store, &view.request.targets).await?;
    if let Err(err) = rules::check_request(&view.request, &policy) {
        return Err(governance
            .refuse(
                store,
                clock,
                actor,
                "request.create",
                err.into(),
                summary(&view, &policy.region),
            )
            .await);
    }
    let effect = GovernanceEffect {
        request: Some(view.clone()),
        ..Default::default()
    };
    governance
        .record(
            store,
            clock,
            actor,
            "request.create",
            "ok",
            summary(&view, &policy.region),
            effect,
        )
        .await?;
    Ok(view)
}

pub async fn edit<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    id: &str,
    request: NewRequest,
) -> Result<RequestView, GovernanceError> {
    // The edited request is held to its own targets' regions.
    let policy = governance.policy_for(store, &request.targets).await?;
    let now = clock.now_ms();
    step(
        governance,
        store,
        clock,
        actor,
        "request.edit",
        id,
        |view, _| {
            let replaced = RequestVersion {
                request: view.request.clone(),
                hash: view.hash.clone(),
                replaced_by: actor.staff_id,
                replaced_ms: now,
            };
            rules::edit(view, actor.staff_id, request, &policy)?;
            // Kept for the reviewers' diff between versions (the log has only hashes).
            view.versions.push(replaced);
            Ok(())
        },
    )
    .await
}

pub async fn approve<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    id: &str,
) -> Result<RequestView, GovernanceError> {
    let now = clock.now_ms();
    step(
        governance,
        store,
        clock,
        actor,
        "request.approve",
        id,
        |view, policy| rules::approve(view, actor.staff_id, now, policy),
    )
    .await
}

pub async fn reject<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    id: &str,
    reason: &str,
) -> Result<RequestView, GovernanceError> {
    step(
        governance,
        store,
        clock,
        actor,
        "request.reject",
        id,
        |view, _| rules::reject(view, actor.staff_id, reason),
    )
    .await
}

pub async fn close<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    id: &str,
) -> Result<RequestView, GovernanceError> {
    step(
        governance,
        store,
        clock,
        actor,
        "request.close",
        id,
        |view, _| rules::close(view),
    )
    .await
}

/// A request as stored, once any lateness that fell due is recorded.
pub async fn show<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    id: &str,
) -> Result<RequestView, GovernanceError> {
    review::mark_overdue(governance, store, clock, Some(id)).await?;
    store
        .request(id)
        .await?
        .ok_or(GovernanceError::UnknownRequest)
}

/// Every request, once any lateness that fell due is recorded.
pub async fn list<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
) -> Result<Vec<RequestView>, GovernanceError> {
    review::mark_overdue(governance, store, clock, None).await?;
    Ok(store.list_requests().await?)
}

/// Produces the signed package, records its hash, and notifies the targets now or, under a
/// non-disclosure order, when it expires.
pub async fn disclose<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    actor: Actor,
    id: &str,
    max_queue_depth: u64,
) -> Result<Package, GovernanceError> {
    review::mark_overdue(governance, store, clock, Some(id)).await?;
    let Some(mut view) = store.request(id).await? else {
        return Err(governance
            .refuse(
                store,
                clock,
                actor,
                "request.disclose",
                GovernanceError::UnknownRequest,
                json!({ "request_id": id }),
            )
            .await);
    };
    let policy = governance.policy_for(store, &view.request.targets).await?;
    if let Err(err) = rules::check_disclose(&view, &policy) {
        return Err(governance
            .refuse(
                store,
                clock,
                actor,
                "request.disclose",
                err.into(),
                summary(&view, &policy.region),
            )
            .await);
    }
    let now = clock.now_ms();
    let package = inventory::package(
        store,
        &view,
        &governance.policies,
        governance.origin(),
        governance.signing_key(),
        now,
    )
    .await?;
    let package_sha256 = package.sha256();
    view.state = RequestState::Disclosed;
    view.package_sha256 = Some(package_sha256.clone());
    let release_ms = view
        .request
        .nondisclosure_until
        .as_deref()
        .and_then(parse_day)
        .map_or(now, |until| until.max(now));
    let notice = ServerNotice {
        text: format!(
            "Data about your account ({}) was disclosed to {} ({}) on the basis of a {}.",
            view.request
                .categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            view.request.authority,
            view.request.country,
            view.request.basis,
        ),
        request_id: view.id.clone(),
        authority: view.request.authority.clone(),
        country: view.request.country.clone(),
        basis: view.request.basis.to_string(),
        categories: view
            .request
            .categories
            .iter()
            .map(|c| c.to_string())
            .collect(),
        disclosed_day: format_day((now / 86_400_000) as i64),
        commitment_salt: view.commitment_salt.clone(),
    };
    let payload = serde_json::to_vec(&notice).expect("a notice always serialises");
    let found: Vec<Username> = package
        .accounts
        .iter()
        .filter(|a| a.found)
        .map(|a| a.username.clone())
        .collect();
    let new_notices: Vec<NewNotice> = found
        .iter()
        .map(|user| NewNotice {
            request_id: view.id.clone(),
            username: user.clone(),
            payload: payload.clone(),
            release_ms,
        })
        .collect();
    let mut details = summary(&view, &policy.region);
    details["package_sha256"] = Value::String(package_sha256);
    let effect = GovernanceEffect {
        request: Some(view.clone()),
        new_notices,
        ..Default::default()
    };
    governance
        .record(
            store,
            clock,
            actor,
            "request.disclose",
            "ok",
            details,
            effect,
        )
        .await?;
    if release_ms > now {
        for user in &found {
            let details = json!({ "request_id": view.id, "target": target_commitment(&view.commitment_salt, &view.id, user.as_str()), "until": nondisclosure(&view) });
            governance
                .record(
                    store,
                    clock,
                    actor,
                    "notice.delayed",
                    "ok",
                    details,
                    GovernanceEffect::default(),
                )
                .await?;
        }
    }
    release_due(governance, store, clock, None, max_queue_depth).await?;
    Ok(package)
}

/// Sends every held notice whose time has come (for one user, or all), each recorded in the
/// log by the server itself. Returns how many went out.
pub async fn release_due<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    user: Option<&Username>,
    max_queue_depth: u64,
) -> Result<usize, GovernanceError> {
    let now = clock.now_ms();
    let due = store.due_notices(user, now).await?;
    for notice in &due {
        let mut view = store.request(&notice.request_id).await?;
        let salt = view
            .as_ref()
            .map(|v| v.commitment_salt.clone())
            .unwrap_or_default();
        // The order ended (a notice goes out only then): its date and the salt of its
        // commitment are public from now on, so anyone can check what was committed.
        let ended = view.as_ref().and_then(|v| {
            v.request
                .nondisclosure_until
                .as_ref()
                .map(|day| json!({ "day": day, "salt": v.gag_salt }))
        });
        if let Some(view) = view.as_mut()
            && view.state == RequestState::Disclosed
        {
            view.state = RequestState::Notified;
        }
        let effect = GovernanceEffect {
            request: view,
            release: Some(ReleaseNotice {
                notice_id: notice.notice_id,
                username: notice.username.clone(),
                now_ms: crate::store::stored_time(now),
                max_queue_depth,
            }),
            ..Default::default()
        };
        let mut details = json!({
            "request_id": notice.request_id,
            "target": target_commitment(&salt, &notice.request_id, notice.username.as_str()),
        });
        if let Some(ended) = ended {
            details["nondisclosure_ended"] = ended;
        }
        let recorded = governance
            .record(
                store,
                clock,
                Actor::SERVER,
                "notice.sent",
                "ok",
                details,
                effect,
            )
            .await;
        // Another node (or this one, on the user's connection) may have released it first.
        if let Err(err) = recorded
            && !matches!(err, GovernanceError::Store(StoreError::NoticeReleased))
        {
            return Err(err);
        }
    }
    Ok(due.len())
}
