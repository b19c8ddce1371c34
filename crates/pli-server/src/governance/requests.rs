//! The lawful-request lifecycle: received → in review → approved / narrowed / rejected →
//! disclosed → notified → closed. Each step is checked by [`rules`](super::rules) and
//! recorded in the audit log with its effect; refusals are recorded too.
//!
//! Audit details never carry a username: targets appear as commitments.

use super::inventory::{self, Package};
use super::{Actor, Governance, GovernanceError, rules};
use crate::clock::Clock;
use crate::store::{GovernanceEffect, NewNotice, ReleaseNotice, Store, StoreError};
use pli_proto::Username;
use pli_proto::api::ServerNotice;
use pli_proto::audit::target_commitment;
use pli_proto::governance::{
    LegalBasis, NewRequest, RequestState, RequestView, format_day, parse_day,
};
use rand::Rng;
use serde_json::{Value, json};

/// What the log says about a request: enough for reports and audits, nothing personal.
fn summary(view: &RequestView) -> Value {
    json!({
        "request_id": view.id,
        "state": view.state,
        "country": view.request.country,
        "basis": view.request.basis,
        "categories": view.request.categories,
        "targets": view.request.targets.iter().map(|t| target_commitment(&view.id, t.as_str())).collect::<Vec<_>>(),
        "doc_sha256": view.request.doc_sha256,
        "request_hash": view.hash,
        "nondisclosure_until": view.request.nondisclosure_until,
    })
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
            .refuse(store, clock, actor, action, err.into(), summary(&view))
            .await);
    }
    rules::refresh_overdue(&mut view, clock.now_ms());
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
        .record(store, clock, actor, action, "ok", summary(&view), effect)
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
        created_ms: clock.now_ms(),
        approvals: Vec::new(),
        second_review_due_ms: None,
        overdue: false,
        rejection_reason: None,
        package_sha256: None,
        narrowed_from: None,
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
                summary(&view),
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
            summary(&view),
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
    step(
        governance,
        store,
        clock,
        actor,
        "request.edit",
        id,
        |view, _| rules::edit(view, request, &policy),
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
        |view, _| rules::reject(view, reason),
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

/// A request as stored, with its overdue flag brought up to date.
pub async fn show<S: Store>(
    store: &S,
    clock: &dyn Clock,
    id: &str,
) -> Result<RequestView, GovernanceError> {
    let mut view = store
        .request(id)
        .await?
        .ok_or(GovernanceError::UnknownRequest)?;
    rules::refresh_overdue(&mut view, clock.now_ms());
    Ok(view)
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
    if let Err(err) = rules::check_disclose(&view) {
        return Err(governance
            .refuse(
                store,
                clock,
                actor,
                "request.disclose",
                err.into(),
                summary(&view),
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
    let mut details = summary(&view);
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
            let details = json!({ "request_id": view.id, "target": target_commitment(&view.id, user.as_str()), "until": view.request.nondisclosure_until });
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
                now_ms: now,
                max_queue_depth,
            }),
            ..Default::default()
        };
        let details = json!({
            "request_id": notice.request_id,
            "target": target_commitment(&notice.request_id, notice.username.as_str()),
        });
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
