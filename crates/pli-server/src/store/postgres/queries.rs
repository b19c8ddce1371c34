//! The SQL behind each messaging operation on PostgreSQL, as functions on a transaction.
//!
//! Concurrency is the difference from SQLite, where one writer runs at a time. Here several
//! transactions (and several nodes) run at once, so the delivery path (`pli_submit`,
//! `pli_ack`, functions in the migrations, one statement each) locks what orders it:
//! - a group's row before its epoch is read: commits to one group serialise on it
//!   (`FOR UPDATE`), while application messages only keep it from moving (`FOR SHARE`);
//! - the recipients' device rows, in id order (no deadlocks), *before* a message id is
//!   drawn, so a device's messages commit in id order and a reader that has seen id `n`
//!   never later finds a smaller one appear in its queue;
//! - acks lock nothing shared: a message no queue holds any more is deleted by the ack that
//!   sees so, and the rare one two racing last acks leave behind by the sweeper.

use super::rows::{backend, ids};
use crate::store::{Accepted, EpochRule, Queued, StoreError, Submission};
use pli_proto::{DeviceId, GroupId, MessageId};
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

pub(super) async fn group_epoch(
    conn: &mut PgConnection,
    group: &GroupId,
) -> Result<Option<u64>, StoreError> {
    let epoch: Option<i64> = sqlx::query_scalar("SELECT epoch FROM mls_groups WHERE group_id = $1")
        .bind(group.as_bytes())
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(epoch.map(|e| e as u64))
}

/// Maps pli's own SQLSTATEs (raised by `pli_submit` and `pli_enqueue`) to domain refusals.
pub(super) fn refusal(err: sqlx::Error, submitted: u64) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        match db.code().as_deref() {
            Some("PL001") => {
                return match db.message().parse() {
                    Ok(current) => StoreError::StaleEpoch { submitted, current },
                    Err(_) => StoreError::Backend("invalid stale-epoch refusal".into()),
                };
            }
            Some("PL002") => return StoreError::UnknownGroup,
            Some("PL003") => return StoreError::UnknownRecipient,
            Some("PL004") => return StoreError::QueueFull,
            _ => {}
        }
    }
    backend(err)
}

/// Applies the epoch rule and queues the message and its welcome: one statement (see
/// `migrations/postgres/0002_delivery_functions.sql` for why), run in its own transaction.
pub(super) async fn submit(
    conn: &mut PgConnection,
    s: &Submission,
) -> Result<Accepted, StoreError> {
    let (rule, epoch) = match s.rule {
        EpochRule::Commit { epoch } => (0i16, epoch),
        EpochRule::Proposal { epoch } => (1, epoch),
        EpochRule::Application { epoch } => (2, epoch),
    };
    let (welcome, welcome_to) = match &s.welcome {
        Some((welcome, to)) => (Some(welcome.as_slice()), Some(ids(to))),
        None => (None, None),
    };
    let row = sqlx::query(
        "SELECT accepted_id, accepted_epoch FROM pli_submit($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.group.as_bytes())
    .bind(rule)
    .bind(epoch as i64)
    .bind(&s.payload)
    .bind(ids(&s.recipients))
    .bind(welcome)
    .bind(welcome_to)
    .bind(s.now_ms as i64)
    .bind(s.max_queue_depth as i64)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| refusal(e, epoch))?;
    Ok(Accepted {
        id: MessageId(row.try_get::<i64, _>(0).map_err(backend)? as u64),
        epoch: row.try_get::<i64, _>(1).map_err(backend)? as u64,
    })
}

/// Queues a service notice for devices, inside the caller's transaction.
pub(super) async fn enqueue_notice(
    tx: &mut PgConnection,
    kind: u8,
    payload: &[u8],
    devices: &[DeviceId],
    now_ms: u64,
    max_depth: u64,
) -> Result<MessageId, StoreError> {
    sqlx::query("SELECT pli_lock_devices($1)")
        .bind(ids(devices))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let id: i64 = sqlx::query_scalar("SELECT pli_enqueue($1, $2, $3, $4, $5)")
        .bind(i16::from(kind))
        .bind(payload)
        .bind(ids(devices))
        .bind(now_ms as i64)
        .bind(max_depth as i64)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| refusal(e, 0))?;
    Ok(MessageId(id as u64))
}

pub(super) async fn fetch_queue(
    conn: &mut PgConnection,
    device: DeviceId,
    after: Option<MessageId>,
    limit: usize,
) -> Result<Vec<Queued>, StoreError> {
    let rows = sqlx::query(
        "SELECT q.message_id, m.payload, m.kind FROM queue q JOIN messages m ON m.id = q.message_id
         WHERE q.device_id = $1 AND q.message_id > $2 ORDER BY q.message_id LIMIT $3",
    )
    .bind(device.get() as i64)
    .bind(after.map_or(0, |id| id.0 as i64))
    .bind(limit as i64)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|r| {
            Ok(Queued {
                id: MessageId(r.try_get::<i64, _>(0).map_err(backend)? as u64),
                payload: r.try_get(1).map_err(backend)?,
                kind: r.try_get::<i16, _>(2).map_err(backend)? as u8,
            })
        })
        .collect()
}

pub(super) async fn ack(
    conn: &mut PgConnection,
    device: DeviceId,
    acked: &[MessageId],
) -> Result<u64, StoreError> {
    let acked: Vec<i64> = acked.iter().map(|id| id.0 as i64).collect();
    let removed: i64 = sqlx::query_scalar("SELECT pli_ack($1, $2)")
        .bind(device.get() as i64)
        .bind(&acked)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(removed as u64)
}
