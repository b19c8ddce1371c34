//! Trust & safety actions on accounts, their appeals, and each account's standing (whether
//! it is suspended, and until when): account data, kept in the account's home region.
//!
//! The standing is a row of its own, read by primary key on every submission over HTTP,
//! every key-package claim and every device registration, and at the start of each
//! delivery socket: so a suspension holds on every node the moment it is committed (the
//! nodes of one region share its database), and costs one indexed read where it is
//! checked.
//!
//! Action ids are random below 2^53, like report ids (`super::reports`): unique across
//! regions without coordination, and exact in a JavaScript number. Actions and the standing
//! are the account's data: they move with it (`crate::residency`'s move, through
//! [`ModerationStore::export_moderation`] and [`ModerationStore::import_moderation`]), and
//! go with its row when the store erases the account (a move's old copy, or retention
//! after the user deleted it), never before: until then the name stays reserved, and the
//! record of what was done to it is what an appeal or a regulator's question needs.
//!
//! Both backends store a time in a signed 64-bit column. [`FOREVER_MS`] (`u64::MAX`) does
//! not fit, so it is stored as `i64::MAX` and read back as `FOREVER_MS`
//! ([`until_to_row`], [`until_from_row`]): no real suspension ends 292 million years from
//! now, so the two never meet.

use super::error::StoreError;
use pli_proto::Username;
use pli_proto::abuse::{ActionKind, ActionView, AppealOutcome, AppealView};
use std::future::Future;

/// A suspension with no end: a ban.
pub const FOREVER_MS: u64 = u64::MAX;

/// Ids are drawn from `1..ACTION_ID_BOUND`.
pub const ACTION_ID_BOUND: u64 = 1 << 53;

/// A fresh action id.
pub fn new_action_id() -> u64 {
    use rand::Rng;
    rand::rng().random_range(1..ACTION_ID_BOUND)
}

/// A suspension end as stored: [`FOREVER_MS`] (and anything past `i64::MAX`) as `i64::MAX`.
pub fn until_to_row(until_ms: u64) -> i64 {
    i64::try_from(until_ms).unwrap_or(i64::MAX)
}

/// A stored suspension end, read back: `i64::MAX` is [`FOREVER_MS`].
pub fn until_from_row(raw: i64) -> u64 {
    match raw {
        i64::MAX => FOREVER_MS,
        other => other.max(0) as u64,
    }
}

/// What recording `kind` does to the account's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandingChange {
    /// Suspended until then ([`FOREVER_MS`] for a ban).
    Until(u64),
    /// Not suspended.
    Clear,
    /// As it was.
    Keep,
}

/// The standing change `action` makes. A suspension without an end is refused (the domain
/// layer always gives one); a ban is forever whatever `until_ms` says.
pub fn standing_change(action: &NewAction) -> Result<StandingChange, StoreError> {
    Ok(match action.kind {
        ActionKind::Suspend => StandingChange::Until(
            action
                .until_ms
                .ok_or_else(|| StoreError::Backend("a suspension needs an end".into()))?,
        ),
        ActionKind::Ban => StandingChange::Until(FOREVER_MS),
        ActionKind::Reinstate => StandingChange::Clear,
        ActionKind::Warn | ActionKind::Dismiss => StandingChange::Keep,
    })
}

/// The suspension end an overturned action of `kind` had set, to clear only that one: a
/// later suspension or ban of the account stands.
pub fn overturned_until(kind: ActionKind, until_ms: Option<u64>) -> Option<u64> {
    match kind {
        ActionKind::Ban => Some(FOREVER_MS),
        ActionKind::Suspend => until_ms,
        _ => None,
    }
}

/// One stored action, as both backends read it: `SELECT` [`ACTION_COLUMNS`].
pub type ActionRow = (
    i64,
    String,
    String,
    Option<i64>,
    String,
    i64,
    Option<i64>,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

/// The columns of an [`ActionRow`], in its order.
pub const ACTION_COLUMNS: &str = "action_id, account, kind, until_ms, reason, staff_id, \
    report_id, created_ms, appeal_text, appeal_filed_ms, decision_outcome, decision_staff_id, \
    decision_reason, decided_ms";

/// A stored action, read back, with when its appeal was decided (which the view omits).
pub fn action_from_row(row: ActionRow) -> Result<ExportedAction, StoreError> {
    let (id, account, kind, until_ms, reason, staff_id, report_id, created_ms) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    let (appeal_text, filed_ms, outcome, decided_by, decision_reason, decided_ms) =
        (row.8, row.9, row.10, row.11, row.12, row.13);
    let invalid = |what: &str| StoreError::Backend(format!("invalid action row: {what}"));
    let outcome = outcome
        .map(|raw| AppealOutcome::parse(&raw).ok_or_else(|| invalid("outcome")))
        .transpose()?;
    let appeal = match (appeal_text, filed_ms) {
        (Some(text), Some(filed_ms)) => Some(AppealView {
            text,
            filed_ms: filed_ms as u64,
            outcome,
            decided_by: decided_by.map(|id| id as u64),
            decision_reason,
        }),
        (None, None) => None,
        _ => return Err(invalid("appeal")),
    };
    Ok(ExportedAction {
        view: ActionView {
            id: id as u64,
            account: Username::parse(&account).map_err(|_| invalid("account"))?,
            kind: ActionKind::parse(&kind).ok_or_else(|| invalid("kind"))?,
            until_ms: until_ms.map(until_from_row),
            reason,
            staff_id: staff_id as u64,
            report_id: report_id.map(|id| id as u64),
            created_ms: created_ms as u64,
            appeal,
        },
        decided_ms: decided_ms.map(|ms| ms as u64),
    })
}

/// A stored action whole, as a move carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedAction {
    pub view: ActionView,
    /// When its appeal was decided, if it was.
    pub decided_ms: Option<u64>,
}

/// Everything one store holds on an account's trust & safety: what a move carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModerationExport {
    pub account: Username,
    /// The stored suspension end, expired or not (a ban's is [`FOREVER_MS`]).
    pub suspended_until_ms: Option<u64>,
    /// Oldest first.
    pub actions: Vec<ExportedAction>,
}

impl ModerationExport {
    /// Nothing to carry.
    pub fn is_empty(&self) -> bool {
        self.suspended_until_ms.is_none() && self.actions.is_empty()
    }
}

/// An action to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAction {
    pub account: Username,
    pub kind: ActionKind,
    /// For [`ActionKind::Suspend`], when it ends; [`FOREVER_MS`] for a ban; `None` for the
    /// other kinds.
    pub until_ms: Option<u64>,
    pub reason: String,
    pub staff_id: u64,
    /// The report it resolves, if any.
    pub report_id: Option<u64>,
    pub created_ms: u64,
}

/// An appeal's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub outcome: AppealOutcome,
    pub staff_id: u64,
    pub reason: String,
    pub decided_ms: u64,
}

/// Trust & safety actions, as domain operations.
pub trait ModerationStore: Send + Sync {
    /// Records `action` and applies it to the account's standing in one transaction:
    /// a suspension or ban sets the account's suspension end to `until_ms` (a ban's is
    /// [`FOREVER_MS`]), a reinstatement clears it, a warning or dismissal leaves it. The
    /// answer is the action's id (random, so unique across regions), or
    /// [`StoreError::UnknownAccount`].
    fn record_action(
        &self,
        action: NewAction,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The action, with its appeal, or `None`.
    fn action(
        &self,
        id: u64,
    ) -> impl Future<Output = Result<Option<ActionView>, StoreError>> + Send;

    /// Every action about `account`, oldest first.
    fn actions_about(
        &self,
        account: &Username,
    ) -> impl Future<Output = Result<Vec<ActionView>, StoreError>> + Send;

    /// Files `account`'s appeal of action `id`: once per action
    /// ([`StoreError::AppealExists`]); an action about another account, or none, is
    /// [`StoreError::UnknownAction`].
    fn file_appeal(
        &self,
        id: u64,
        account: &Username,
        text: String,
        filed_ms: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Decides the appeal of action `id`, once ([`StoreError::InvalidAppeal`] if there is
    /// no appeal or it was decided; [`StoreError::UnknownAction`] if the store holds no such
    /// action). Overturning a suspension or ban clears the account's suspension, in the
    /// same transaction, if it is still the one that action set: a later suspension or ban
    /// stands.
    fn decide_appeal(
        &self,
        id: u64,
        decision: Decision,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// When `account`'s suspension ends, if it is suspended at `now_ms` (a ban:
    /// [`FOREVER_MS`]); `None` if it is not.
    fn suspended_until(
        &self,
        account: &Username,
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// What this store holds on `account`: its stored standing and every action about it,
    /// oldest first, appeals and all.
    fn export_moderation(
        &self,
        account: &Username,
    ) -> impl Future<Output = Result<ModerationExport, StoreError>> + Send;

    /// Writes a moved account's actions under their ids and sets its standing to the
    /// moved one, in one transaction, replacing what an earlier, interrupted move left. The
    /// account itself is imported first (`ResidencyStore::import_account`, which erases
    /// what this store held of it); erasing goes with the account
    /// (`ResidencyStore::erase_account`).
    fn import_moderation(
        &self,
        moved: ModerationExport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
