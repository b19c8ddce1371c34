//! Trust & safety actions: dismissing a report, warning, suspending or banning its account,
//! reinstating one, and appeals. Each action and each appeal is an audit entry (its kind,
//! outcome and region, never a name, so the transparency report counts them), and the
//! account is told by a notice on its devices. An appeal is filed once per action, and a
//! staff member other than the one who took the action decides it.
//!
//! A suspension holds where it is checked: submissions (`delivery::accept`), key-package
//! claims and device registrations; a suspended account still receives and may still
//! delete itself. Taking an action closes the account's delivery sockets on every node, so
//! each one reconnects and reads the new standing.

use crate::clock::Clock;
use crate::governance::{Actor, Governance, GovernanceError};
use crate::state::AppState;
use crate::store::moderation::{Decision, FOREVER_MS, NewAction};
use crate::store::{Store, StoreError};
use pli_proto::Username;
use pli_proto::abuse::{
    ActionKind, ActionView, AppealOutcome, MAX_REASON_BYTES, MAX_SUSPENSION_DAYS, ResolveRequest,
};
use pli_proto::api::ServerNotice;
use pli_proto::frame::KIND_NOTICE;
use serde_json::json;

const DAY_MS: u64 = 86_400_000;

/// Why a moderation step was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    /// A field out of its bounds.
    #[error("{0}")]
    Invalid(&'static str),
    /// No report, or no action, by that id.
    #[error("no such report or action")]
    NotFound,
    /// The staff member who took an action may not decide its appeal.
    #[error("an appeal is decided by a staff member other than the one who took the action")]
    SameStaff,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
}

fn check_reason(reason: &str) -> Result<(), ModerationError> {
    if reason.trim().is_empty() || reason.len() > MAX_REASON_BYTES {
        return Err(ModerationError::Invalid(
            "a reason is 1 to 2000 bytes, and not blank",
        ));
    }
    Ok(())
}

/// Resolves report `report_id` with `request`: the action is taken on the reported account.
pub async fn resolve<S: Store>(
    state: &AppState<S>,
    actor: Actor,
    report_id: u64,
    request: ResolveRequest,
) -> Result<ActionView, ModerationError> {
    check_reason(&request.reason)?;
    let now = state.clock.now_ms();
    let until_ms = match (request.action, request.days) {
        (ActionKind::Suspend, Some(days)) if (1..=MAX_SUSPENSION_DAYS).contains(&days) => {
            Some(now + u64::from(days) * DAY_MS)
        }
        (ActionKind::Suspend, _) => {
            return Err(ModerationError::Invalid(
                "a suspension takes --days, 1 to 3650",
            ));
        }
        (ActionKind::Reinstate, _) => {
            return Err(ModerationError::Invalid(
                "reinstating is done on the account, not on a report",
            ));
        }
        (_, Some(_)) => return Err(ModerationError::Invalid("only a suspension takes days")),
        (ActionKind::Ban, None) => Some(FOREVER_MS),
        (_, None) => None,
    };
    let report = state
        .store
        .report(report_id)
        .await?
        .ok_or(ModerationError::NotFound)?;
    let action = NewAction {
        account: report.reported,
        kind: request.action,
        until_ms,
        reason: request.reason,
        staff_id: actor.staff_id,
        report_id: Some(report_id),
        created_ms: now,
    };
    take(state, actor, action, Some(report.reason.as_str())).await
}

/// Lifts `account`'s suspension or ban.
pub async fn reinstate<S: Store>(
    state: &AppState<S>,
    actor: Actor,
    account: Username,
    reason: String,
) -> Result<ActionView, ModerationError> {
    check_reason(&reason)?;
    let action = NewAction {
        account,
        kind: ActionKind::Reinstate,
        until_ms: None,
        reason,
        staff_id: actor.staff_id,
        report_id: None,
        created_ms: state.clock.now_ms(),
    };
    take(state, actor, action, None).await
}

/// Records `action`, logs it, tells the account, and closes its sockets everywhere.
async fn take<S: Store>(
    state: &AppState<S>,
    actor: Actor,
    action: NewAction,
    report_reason: Option<&str>,
) -> Result<ActionView, ModerationError> {
    let account = action.account.clone();
    let kind = action.kind;
    let days = action
        .until_ms
        .filter(|until| *until != FOREVER_MS)
        .map(|until| until.saturating_sub(action.created_ms).div_ceil(DAY_MS));
    let id = state.store.record_action(action).await?;
    let view = state
        .store
        .action(id)
        .await?
        .ok_or(ModerationError::NotFound)?;
    let region = region_of(&state.governance, &state.store, &account).await?;
    // The reason is staff's own words and may name people, so the public log carries a
    // commitment to it, which the account (told the action's id and reason) can check.
    let reason = reason_commitment(view.id, &view.reason);
    let mut details = json!({ "kind": kind, "region": region, "reason_sha256": reason });
    if let Some(days) = days {
        details["days"] = json!(days);
    }
    if let Some(reason) = report_reason {
        details["report_reason"] = json!(reason);
    }
    state.log_action(actor, "abuse.action", details).await?;
    if kind != ActionKind::Dismiss {
        notify(state, &account, &told(&view)).await?;
    }
    // A socket reads its account's standing when it opens: each one reopens.
    if matches!(
        kind,
        ActionKind::Suspend | ActionKind::Ban | ActionKind::Reinstate
    ) {
        disconnect(state, &account).await?;
    }
    Ok(view)
}

/// The hex SHA-256 the log carries for action `id`'s `reason`: domain, id, reason.
pub fn reason_commitment(id: u64, reason: &str) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(b"pli abuse action reason v1");
    hash.update(id.to_be_bytes());
    hash.update(reason.as_bytes());
    hex::encode(hash.finalize())
}

/// What the account is told of `action`.
fn told(action: &ActionView) -> String {
    let what = match action.kind {
        ActionKind::Warn => "Trust & safety warned your account".to_owned(),
        ActionKind::Suspend => format!(
            "Trust & safety suspended your account until {}: you can still receive messages and delete your account, but not send, start conversations or add devices",
            pli_proto::governance::format_day((action.until_ms.unwrap_or(0) / DAY_MS) as i64)
        ),
        ActionKind::Ban => "Trust & safety banned your account: you can still receive messages and delete your account, but not send, start conversations or add devices".to_owned(),
        ActionKind::Reinstate => "Trust & safety lifted your account's suspension".to_owned(),
        ActionKind::Dismiss => "A report about your account was dismissed".to_owned(),
    };
    let appeal = if action.kind == ActionKind::Reinstate {
        String::new()
    } else {
        format!(" You may appeal once: pli appeal {} \"why\".", action.id)
    };
    format!("{what}. Reason: {}.{appeal}", action.reason)
}

/// `account`'s appeal of action `id`.
pub async fn appeal<S: Store>(
    state: &AppState<S>,
    account: &Username,
    id: u64,
    text: String,
) -> Result<ActionView, ModerationError> {
    check_reason(&text)?;
    state
        .store
        .file_appeal(id, account, text, state.clock.now_ms())
        .await?;
    let region = region_of(&state.governance, &state.store, account).await?;
    state
        .log_action(Actor::SERVER, "abuse.appeal", json!({ "region": region }))
        .await?;
    state
        .store
        .action(id)
        .await?
        .ok_or(ModerationError::NotFound)
}

/// Decides the appeal of action `id`; refused to the staff member who took the action.
pub async fn decide<S: Store>(
    state: &AppState<S>,
    actor: Actor,
    id: u64,
    outcome: AppealOutcome,
    reason: String,
) -> Result<ActionView, ModerationError> {
    check_reason(&reason)?;
    let action = state
        .store
        .action(id)
        .await?
        .ok_or(ModerationError::NotFound)?;
    if action.staff_id == actor.staff_id {
        state
            .governance
            .record(
                &state.store,
                state.clock.as_ref(),
                actor,
                "abuse.appeal.decide",
                "denied",
                json!({ "rule": "same_staff" }),
                Default::default(),
            )
            .await?;
        return Err(ModerationError::SameStaff);
    }
    let decision = Decision {
        outcome,
        staff_id: actor.staff_id,
        reason: reason.clone(),
        decided_ms: state.clock.now_ms(),
    };
    state.store.decide_appeal(id, decision).await?;
    let region = region_of(&state.governance, &state.store, &action.account).await?;
    state
        .log_action(
            actor,
            "abuse.appeal.decide",
            json!({ "outcome": outcome, "kind": action.kind, "region": region }),
        )
        .await?;
    let text = match outcome {
        AppealOutcome::Upheld => format!("Your appeal of action {id} was turned down: {reason}."),
        AppealOutcome::Overturned => {
            format!("Your appeal of action {id} succeeded; the action is undone: {reason}.")
        }
    };
    notify(state, &action.account, &text).await?;
    if outcome == AppealOutcome::Overturned {
        disconnect(state, &action.account).await?;
    }
    state
        .store
        .action(id)
        .await?
        .ok_or(ModerationError::NotFound)
}

/// Whether `account` is suspended now: when the suspension ends, if it is.
pub async fn suspended_until<S: Store>(
    store: &S,
    clock: &dyn Clock,
    account: &Username,
) -> Result<Option<u64>, StoreError> {
    store.suspended_until(account, clock.now_ms()).await
}

async fn region_of<S: Store>(
    governance: &Governance,
    store: &S,
    account: &Username,
) -> Result<String, StoreError> {
    Ok(governance
        .policy_for(store, std::slice::from_ref(account))
        .await?
        .region
        .to_string())
}

/// Queues a notice for every device of `account`.
async fn notify<S: Store>(
    state: &AppState<S>,
    account: &Username,
    text: &str,
) -> Result<(), StoreError> {
    let Some(devices) = state.store.list_devices(account).await? else {
        return Ok(());
    };
    let notice = ServerNotice {
        text: text.to_owned(),
        ..ServerNotice::default()
    };
    let payload = serde_json::to_vec(&notice).expect("a notice always serialises");
    let ids: Vec<_> = devices.iter().map(|d| d.device_id).collect();
    state
        .store
        .deliver(
            KIND_NOTICE,
            payload,
            ids.clone(),
            crate::store::stored_time(state.clock.now_ms()),
            None,
        )
        .await?;
    state.hub.wake(ids);
    Ok(())
}

/// Closes `account`'s delivery sockets on every node.
async fn disconnect<S: Store>(state: &AppState<S>, account: &Username) -> Result<(), StoreError> {
    if let Some(devices) = state.store.list_devices(account).await? {
        state.disconnect(devices.into_iter().map(|d| d.device_id));
    }
    Ok(())
}
