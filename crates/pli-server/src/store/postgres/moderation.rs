//! SQL for trust & safety actions and standing (`moderation_actions`, `account_standing`).
//!
//! Several nodes may file or decide the same appeal at once: each is one conditional
//! `UPDATE` of the action's row (`… AND appeal_text IS NULL`, `… AND decision_outcome IS
//! NULL`). PostgreSQL locks the row for the first; the second, once that commits, finds the
//! condition false and changes nothing, and the rows affected say which one won.

use super::rows::backend;
use super::{PostgresStore, commit};
use crate::store::error::StoreError;
use crate::store::moderation::{
    ActionRow, Decision, ExportedAction, ModerationExport, ModerationStore, NewAction,
    StandingChange, action_from_row, new_action_id, overturned_until, standing_change,
    until_from_row, until_to_row,
};
use pli_proto::Username;
use pli_proto::abuse::{ActionKind, ActionView, AppealOutcome};
use sqlx::postgres::PgConnection;

/// An action's row by id, as [`ActionRow`] (the columns of `ACTION_COLUMNS`).
const SELECT_ONE: &str = "SELECT action_id, account, kind, until_ms, reason, staff_id,
    report_id, created_ms, appeal_text, appeal_filed_ms, decision_outcome, decision_staff_id,
    decision_reason, decided_ms FROM moderation_actions WHERE action_id = $1";

/// An account's actions, oldest first (recording order within a millisecond).
const SELECT_ABOUT: &str = "SELECT action_id, account, kind, until_ms, reason, staff_id,
    report_id, created_ms, appeal_text, appeal_filed_ms, decision_outcome, decision_staff_id,
    decision_reason, decided_ms FROM moderation_actions WHERE account = $1
    ORDER BY created_ms, seq";

/// Fresh ids tried before recording gives up (each collides with one in 2^53 odds).
const ID_ATTEMPTS: usize = 4;

impl ModerationStore for PostgresStore {
    /// One transaction; the account's row is share-locked, so a deletion at the same time
    /// waits for it (or makes it [`StoreError::UnknownAccount`]).
    async fn record_action(&self, action: NewAction) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let id = record_action(&mut tx, &action).await?;
        commit(tx).await?;
        Ok(id)
    }

    async fn action(&self, id: u64) -> Result<Option<ActionView>, StoreError> {
        let row: Option<ActionRow> = sqlx::query_as(SELECT_ONE)
            .bind(id as i64)
            .fetch_optional(&mut *self.conn().await?)
            .await
            .map_err(backend)?;
        row.map(|row| action_from_row(row).map(|a| a.view))
            .transpose()
    }

    async fn actions_about(&self, account: &Username) -> Result<Vec<ActionView>, StoreError> {
        let actions = actions_of(&mut *self.conn().await?, account).await?;
        Ok(actions.into_iter().map(|a| a.view).collect())
    }

    async fn file_appeal(
        &self,
        id: u64,
        account: &Username,
        text: String,
        filed_ms: u64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let filed = sqlx::query(
            "UPDATE moderation_actions SET appeal_text = $3, appeal_filed_ms = $4
             WHERE action_id = $1 AND account = $2 AND appeal_text IS NULL",
        )
        .bind(id as i64)
        .bind(account.as_str())
        .bind(&text)
        .bind(filed_ms as i64)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        if filed.rows_affected() == 1 {
            return Ok(());
        }
        let exists: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM moderation_actions WHERE action_id = $1 AND account = $2",
        )
        .bind(id as i64)
        .bind(account.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
        Err(match exists {
            Some(_) => StoreError::AppealExists,
            None => StoreError::UnknownAction,
        })
    }

    async fn decide_appeal(&self, id: u64, decision: Decision) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        decide_appeal(&mut tx, id, &decision).await?;
        commit(tx).await
    }

    async fn suspended_until(
        &self,
        account: &Username,
        now_ms: u64,
    ) -> Result<Option<u64>, StoreError> {
        let until = standing(&mut *self.conn().await?, account).await?;
        Ok(until.filter(|until| *until > now_ms))
    }

    async fn export_moderation(&self, account: &Username) -> Result<ModerationExport, StoreError> {
        // One transaction at REPEATABLE READ, so the standing and the actions agree.
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let export = ModerationExport {
            account: account.clone(),
            suspended_until_ms: standing(&mut tx, account).await?,
            actions: actions_of(&mut tx, account).await?,
        };
        commit(tx).await?;
        Ok(export)
    }

    async fn import_moderation(&self, moved: ModerationExport) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for action in &moved.actions {
            import_action(&mut tx, action).await?;
        }
        set_standing(&mut tx, &moved.account, moved.suspended_until_ms).await?;
        commit(tx).await
    }
}

/// The stored suspension end of `account`, expired or not.
async fn standing(conn: &mut PgConnection, account: &Username) -> Result<Option<u64>, StoreError> {
    let until: Option<i64> =
        sqlx::query_scalar("SELECT suspended_until_ms FROM account_standing WHERE username = $1")
            .bind(account.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    Ok(until.map(until_from_row))
}

async fn set_standing(
    tx: &mut PgConnection,
    account: &Username,
    until: Option<u64>,
) -> Result<(), StoreError> {
    match until {
        Some(until) => sqlx::query(
            "INSERT INTO account_standing (username, suspended_until_ms) VALUES ($1, $2)
             ON CONFLICT (username) DO UPDATE SET suspended_until_ms = EXCLUDED.suspended_until_ms",
        )
        .bind(account.as_str())
        .bind(until_to_row(until)),
        None => {
            sqlx::query("DELETE FROM account_standing WHERE username = $1").bind(account.as_str())
        }
    }
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Every action about `account`, oldest first (recording order within a millisecond).
async fn actions_of(
    conn: &mut PgConnection,
    account: &Username,
) -> Result<Vec<ExportedAction>, StoreError> {
    let rows: Vec<ActionRow> = sqlx::query_as(SELECT_ABOUT)
        .bind(account.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    rows.into_iter().map(action_from_row).collect()
}

async fn record_action(tx: &mut PgConnection, action: &NewAction) -> Result<u64, StoreError> {
    let live: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM accounts WHERE username = $1 AND deleted_day IS NULL FOR SHARE",
    )
    .bind(action.account.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    if live.is_none() {
        return Err(StoreError::UnknownAccount);
    }
    let change = standing_change(action)?;
    for _ in 0..ID_ATTEMPTS {
        let id = new_action_id();
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO moderation_actions
                 (action_id, account, kind, until_ms, reason, staff_id, report_id, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (action_id) DO NOTHING
             RETURNING action_id",
        )
        .bind(id as i64)
        .bind(action.account.as_str())
        .bind(action.kind.as_str())
        .bind(action.until_ms.map(until_to_row))
        .bind(&action.reason)
        .bind(action.staff_id as i64)
        .bind(action.report_id.map(|r| r as i64))
        .bind(action.created_ms as i64)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if inserted.is_some() {
            match change {
                StandingChange::Until(until) => {
                    set_standing(tx, &action.account, Some(until)).await?
                }
                StandingChange::Clear => set_standing(tx, &action.account, None).await?,
                StandingChange::Keep => {}
            }
            return Ok(id);
        }
    }
    Err(StoreError::Backend("no free action id".into()))
}

async fn decide_appeal(tx: &mut PgConnection, id: u64, d: &Decision) -> Result<(), StoreError> {
    let decided: Option<(String, String, Option<i64>)> = sqlx::query_as(
        "UPDATE moderation_actions SET decision_outcome = $2, decision_staff_id = $3,
             decision_reason = $4, decided_ms = $5
         WHERE action_id = $1 AND appeal_text IS NOT NULL AND decision_outcome IS NULL
         RETURNING account, kind, until_ms",
    )
    .bind(id as i64)
    .bind(d.outcome.as_str())
    .bind(d.staff_id as i64)
    .bind(&d.reason)
    .bind(d.decided_ms as i64)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some((account, kind, until_ms)) = decided else {
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM moderation_actions WHERE action_id = $1")
                .bind(id as i64)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        return Err(match exists {
            Some(_) => StoreError::InvalidAppeal,
            None => StoreError::UnknownAction,
        });
    };
    if d.outcome != AppealOutcome::Overturned {
        return Ok(());
    }
    let kind = ActionKind::parse(&kind)
        .ok_or_else(|| StoreError::Backend("invalid action row: kind".into()))?;
    if let Some(until) = overturned_until(kind, until_ms.map(until_from_row)) {
        sqlx::query("DELETE FROM account_standing WHERE username = $1 AND suspended_until_ms = $2")
            .bind(account)
            .bind(until_to_row(until))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// A moved action under its id, replacing any copy an earlier, interrupted move left.
async fn import_action(tx: &mut PgConnection, action: &ExportedAction) -> Result<(), StoreError> {
    let (a, appeal) = (&action.view, action.view.appeal.as_ref());
    sqlx::query("DELETE FROM moderation_actions WHERE action_id = $1")
        .bind(a.id as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    sqlx::query(
        "INSERT INTO moderation_actions
             (action_id, account, kind, until_ms, reason, staff_id, report_id, created_ms,
              appeal_text, appeal_filed_ms, decision_outcome, decision_staff_id,
              decision_reason, decided_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(a.id as i64)
    .bind(a.account.as_str())
    .bind(a.kind.as_str())
    .bind(a.until_ms.map(until_to_row))
    .bind(&a.reason)
    .bind(a.staff_id as i64)
    .bind(a.report_id.map(|r| r as i64))
    .bind(a.created_ms as i64)
    .bind(appeal.map(|p| p.text.as_str()))
    .bind(appeal.map(|p| p.filed_ms as i64))
    .bind(appeal.and_then(|p| p.outcome).map(|o| o.as_str()))
    .bind(appeal.and_then(|p| p.decided_by).map(|s| s as i64))
    .bind(appeal.and_then(|p| p.decision_reason.as_deref()))
    .bind(action.decided_ms.map(|ms| ms as i64))
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Part of erasing an account (`moving.rs`): its standing and the actions about it.
pub(super) async fn erase_moderation(
    tx: &mut PgConnection,
    account: &Username,
) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM moderation_actions WHERE account = $1",
        "DELETE FROM account_standing WHERE username = $1",
    ] {
        sqlx::query(sql)
            .bind(account.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}
