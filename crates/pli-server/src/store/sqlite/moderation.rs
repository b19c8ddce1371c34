//! SQL for trust & safety actions and standing (`moderation_actions`, `account_standing`).
//!
//! Every write runs on the one writer thread, inside its savepoint: a step that fails
//! undoes the others, and writes never interleave, so the conditional updates below decide
//! an appeal's filing and decision once.

use super::SqliteStore;
use super::rows::backend;
use crate::store::error::StoreError;
use crate::store::moderation::{
    ACTION_COLUMNS, ActionRow, Decision, ExportedAction, ModerationExport, ModerationStore,
    NewAction, StandingChange, action_from_row, new_action_id, overturned_until, standing_change,
    until_from_row, until_to_row,
};
use pli_proto::Username;
use pli_proto::abuse::{ActionKind, ActionView, AppealOutcome};
use rusqlite::{Connection, OptionalExtension, params};

/// Fresh ids tried before recording gives up (each collides with one in 2^53 odds).
const ID_ATTEMPTS: usize = 4;

impl ModerationStore for SqliteStore {
    async fn record_action(&self, action: NewAction) -> Result<u64, StoreError> {
        self.write(move |c| record_action(c, &action)).await
    }

    async fn action(&self, id: u64) -> Result<Option<ActionView>, StoreError> {
        self.read(move |c| {
            let sql =
                format!("SELECT {ACTION_COLUMNS} FROM moderation_actions WHERE action_id = ?1");
            Ok(actions(c, &sql, params![id as i64])?.pop().map(|a| a.view))
        })
        .await
    }

    async fn actions_about(&self, account: &Username) -> Result<Vec<ActionView>, StoreError> {
        let account = account.clone();
        self.read(move |c| {
            Ok(actions_of(c, &account)?
                .into_iter()
                .map(|a| a.view)
                .collect())
        })
        .await
    }

    async fn file_appeal(
        &self,
        id: u64,
        account: &Username,
        text: String,
        filed_ms: u64,
    ) -> Result<(), StoreError> {
        let account = account.clone();
        self.write(move |c| {
            let filed = execute(
                c,
                "UPDATE moderation_actions SET appeal_text = ?3, appeal_filed_ms = ?4
                 WHERE action_id = ?1 AND account = ?2 AND appeal_text IS NULL",
                params![id as i64, account.as_str(), text, filed_ms as i64],
            )?;
            if filed == 1 {
                return Ok(());
            }
            let exists = c
                .prepare_cached(
                    "SELECT 1 FROM moderation_actions WHERE action_id = ?1 AND account = ?2",
                )
                .and_then(|mut st| {
                    st.query_row(params![id as i64, account.as_str()], |_| Ok(()))
                        .optional()
                })
                .map_err(backend)?;
            Err(match exists {
                Some(()) => StoreError::AppealExists,
                None => StoreError::UnknownAction,
            })
        })
        .await
    }

    async fn decide_appeal(&self, id: u64, decision: Decision) -> Result<(), StoreError> {
        self.write(move |c| decide_appeal(c, id, &decision)).await
    }

    async fn suspended_until(
        &self,
        account: &Username,
        now_ms: u64,
    ) -> Result<Option<u64>, StoreError> {
        let account = account.clone();
        self.read(move |c| Ok(standing(c, &account)?.filter(|until| *until > now_ms)))
            .await
    }

    async fn export_moderation(&self, account: &Username) -> Result<ModerationExport, StoreError> {
        let account = account.clone();
        // On the writer: one transaction, so the standing and the actions agree.
        self.write(move |c| {
            Ok(ModerationExport {
                suspended_until_ms: standing(c, &account)?,
                actions: actions_of(c, &account)?,
                account,
            })
        })
        .await
    }

    async fn import_moderation(&self, moved: ModerationExport) -> Result<(), StoreError> {
        self.write(move |c| import_moderation(c, &moved)).await
    }
}

fn execute(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<u64, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute(params))
        .map(|n| n as u64)
        .map_err(backend)
}

/// The stored suspension end of `account`, expired or not.
fn standing(conn: &Connection, account: &Username) -> Result<Option<u64>, StoreError> {
    conn.prepare_cached("SELECT suspended_until_ms FROM account_standing WHERE username = ?1")
        .and_then(|mut st| {
            st.query_row([account.as_str()], |r| r.get::<_, i64>(0))
                .optional()
        })
        .map(|until| until.map(until_from_row))
        .map_err(backend)
}

fn set_standing(
    conn: &Connection,
    account: &Username,
    until: Option<u64>,
) -> Result<(), StoreError> {
    match until {
        Some(until) => execute(
            conn,
            "INSERT INTO account_standing (username, suspended_until_ms) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE SET suspended_until_ms = excluded.suspended_until_ms",
            params![account.as_str(), until_to_row(until)],
        )?,
        None => execute(
            conn,
            "DELETE FROM account_standing WHERE username = ?1",
            [account.as_str()],
        )?,
    };
    Ok(())
}

fn actions(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<ExportedAction>, StoreError> {
    let rows: Vec<ActionRow> = conn
        .prepare_cached(sql)
        .and_then(|mut st| {
            st.query_map(params, |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                    r.get(13)?,
                ))
            })?
            .collect()
        })
        .map_err(backend)?;
    rows.into_iter().map(action_from_row).collect()
}

/// Every action about `account`, oldest first (recording order within a millisecond).
fn actions_of(conn: &Connection, account: &Username) -> Result<Vec<ExportedAction>, StoreError> {
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM moderation_actions WHERE account = ?1
         ORDER BY created_ms, seq"
    );
    actions(conn, &sql, [account.as_str()])
}

fn record_action(conn: &Connection, action: &NewAction) -> Result<u64, StoreError> {
    let live = conn
        .prepare_cached("SELECT 1 FROM accounts WHERE username = ?1 AND deleted_day IS NULL")
        .and_then(|mut st| st.exists([action.account.as_str()]))
        .map_err(backend)?;
    if !live {
        return Err(StoreError::UnknownAccount);
    }
    let change = standing_change(action)?;
    for _ in 0..ID_ATTEMPTS {
        let id = new_action_id();
        let inserted = execute(
            conn,
            "INSERT INTO moderation_actions
                 (action_id, account, kind, until_ms, reason, staff_id, report_id, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (action_id) DO NOTHING",
            params![
                id as i64,
                action.account.as_str(),
                action.kind.as_str(),
                action.until_ms.map(until_to_row),
                action.reason,
                action.staff_id as i64,
                action.report_id.map(|r| r as i64),
                action.created_ms as i64,
            ],
        )?;
        if inserted == 1 {
            match change {
                StandingChange::Until(until) => set_standing(conn, &action.account, Some(until))?,
                StandingChange::Clear => set_standing(conn, &action.account, None)?,
                StandingChange::Keep => {}
            }
            return Ok(id);
        }
    }
    Err(StoreError::Backend("no free action id".into()))
}

fn decide_appeal(conn: &Connection, id: u64, d: &Decision) -> Result<(), StoreError> {
    let decided: Option<(String, String, Option<i64>)> = conn
        .prepare_cached(
            "UPDATE moderation_actions SET decision_outcome = ?2, decision_staff_id = ?3,
                 decision_reason = ?4, decided_ms = ?5
             WHERE action_id = ?1 AND appeal_text IS NOT NULL AND decision_outcome IS NULL
             RETURNING account, kind, until_ms",
        )
        .and_then(|mut st| {
            st.query_row(
                params![
                    id as i64,
                    d.outcome.as_str(),
                    d.staff_id as i64,
                    d.reason,
                    d.decided_ms as i64
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
        .map_err(backend)?;
    let Some((account, kind, until_ms)) = decided else {
        let exists = conn
            .prepare_cached("SELECT 1 FROM moderation_actions WHERE action_id = ?1")
            .and_then(|mut st| st.exists([id as i64]))
            .map_err(backend)?;
        return Err(match exists {
            true => StoreError::InvalidAppeal,
            false => StoreError::UnknownAction,
        });
    };
    if d.outcome != AppealOutcome::Overturned {
        return Ok(());
    }
    let kind = ActionKind::parse(&kind)
        .ok_or_else(|| StoreError::Backend("invalid action row: kind".into()))?;
    if let Some(until) = overturned_until(kind, until_ms.map(until_from_row)) {
        execute(
            conn,
            "DELETE FROM account_standing WHERE username = ?1 AND suspended_until_ms = ?2",
            params![account, until_to_row(until)],
        )?;
    }
    Ok(())
}

fn import_moderation(conn: &Connection, moved: &ModerationExport) -> Result<(), StoreError> {
    for action in &moved.actions {
        let (a, appeal) = (&action.view, action.view.appeal.as_ref());
        execute(
            conn,
            "DELETE FROM moderation_actions WHERE action_id = ?1",
            [a.id as i64],
        )?;
        execute(
            conn,
            "INSERT INTO moderation_actions
                 (action_id, account, kind, until_ms, reason, staff_id, report_id, created_ms,
                  appeal_text, appeal_filed_ms, decision_outcome, decision_staff_id,
                  decision_reason, decided_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                a.id as i64,
                a.account.as_str(),
                a.kind.as_str(),
                a.until_ms.map(until_to_row),
                a.reason,
                a.staff_id as i64,
                a.report_id.map(|r| r as i64),
                a.created_ms as i64,
                appeal.map(|p| p.text.as_str()),
                appeal.map(|p| p.filed_ms as i64),
                appeal.and_then(|p| p.outcome).map(|o| o.as_str()),
                appeal.and_then(|p| p.decided_by).map(|s| s as i64),
                appeal.and_then(|p| p.decision_reason.as_deref()),
                action.decided_ms.map(|ms| ms as i64),
            ],
        )?;
    }
    set_standing(conn, &moved.account, moved.suspended_until_ms)
}

/// Part of erasing an account (`moving.rs`): its standing and the actions about it.
pub(super) fn erase_moderation(conn: &Connection, account: &Username) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM moderation_actions WHERE account = ?1",
        "DELETE FROM account_standing WHERE username = ?1",
    ] {
        execute(conn, sql, [account.as_str()])?;
    }
    Ok(())
}
