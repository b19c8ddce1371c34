//! The delivery queue on PostgreSQL: the epoch rule, queueing, fetching, acks, the
//! per-device counters, and wake-ups to the other nodes once a write committed.
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

use super::rows::{backend, device_id, ids};
use super::{PostgresStore, commit, wakeups};
use crate::store::error::StoreError;
use crate::store::queue::{
    Accepted, EpochRule, QueueDepths, QueueStore, Queued, Submission, WakeSink,
};
use pli_proto::{DeviceId, GroupId, MessageId};
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

impl QueueStore for PostgresStore {
    async fn advance_epoch(&self, group: &GroupId, rule: EpochRule) -> Result<u64, StoreError> {
        advance_epoch(&mut *self.conn().await?, group, rule).await
    }

    async fn queue_lengths(
        &self,
        devices: &[DeviceId],
    ) -> Result<Vec<(DeviceId, u64)>, StoreError> {
        queue_lengths(&mut *self.conn().await?, devices).await
    }

    async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        let sql = QueueDepths::query("devices", "queue_len");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *self.conn().await?)
            .await
            .map_err(backend)?;
        let width = 2 + crate::store::QUEUE_DEPTH_BOUNDS.len();
        let figures = (0..width)
            .map(|i| row.try_get::<i64, _>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        Ok(QueueDepths::from_row(&figures))
    }

    async fn deliver(
        &self,
        kind: u8,
        payload: Vec<u8>,
        devices: Vec<DeviceId>,
        now_ms: u64,
        expires_ms: Option<u64>,
    ) -> Result<Option<MessageId>, StoreError> {
        let id = match expires_ms {
            None => deliver(&mut *self.conn().await?, kind, &payload, &devices, now_ms).await?,
            Some(at) => {
                let mut tx = self.begin().await?;
                let id = deliver(&mut tx, kind, &payload, &devices, now_ms).await?;
                if let Some(id) = id {
                    set_expiry(&mut tx, id, at).await?;
                }
                commit(tx).await?;
                id
            }
        };
        if id.is_some() {
            self.notifier.wake(devices);
        }
        Ok(id)
    }

    async fn submit(&self, submission: Submission) -> Result<Accepted, StoreError> {
        // One statement, so its own transaction: no round trip while its locks are held. A
        // timed message takes a second statement, in a transaction with the first.
        let accepted = match submission.expires_ms {
            None => submit(&mut *self.conn().await?, &submission).await?,
            Some(at) => {
                let mut tx = self.begin().await?;
                let accepted = submit(&mut tx, &submission).await?;
                set_expiry(&mut tx, accepted.id, at).await?;
                commit(tx).await?;
                accepted
            }
        };
        let mut woken = submission.recipients;
        woken.extend(submission.welcome.into_iter().flat_map(|(_, to)| to));
        self.notifier.wake(woken);
        Ok(accepted)
    }

    async fn expire_timed(&self, now_ms: u64) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let expired: Vec<(i64, i64)> = sqlx::query_as(
            "DELETE FROM queue q USING messages m
              WHERE m.id = q.message_id AND m.expires_ms IS NOT NULL AND m.expires_ms <= $1
             RETURNING q.device_id, q.message_id",
        )
        .bind(now_ms as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        take_off_queues(&mut tx, &expired).await?;
        commit(tx).await?;
        Ok(expired.len() as u64)
    }

    async fn group_epoch(&self, group: &GroupId) -> Result<Option<u64>, StoreError> {
        group_epoch(&mut *self.conn().await?, group).await
    }

    async fn fetch_queue(
        &self,
        device: DeviceId,
        after: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        fetch_queue(&mut *self.conn().await?, device, after, limit).await
    }

    async fn ack(&self, device: DeviceId, ids: Vec<MessageId>) -> Result<u64, StoreError> {
        ack(&mut *self.conn().await?, device, &ids).await
    }

    async fn relay_wakeups(&self, sink: WakeSink) {
        wakeups::relay(&self.signals, self.node, sink).await;
    }

    fn announce_connected(&self, device: DeviceId) {
        self.notifier.connected(device);
    }

    fn relay_ephemeral(&self, devices: Vec<DeviceId>, frame: crate::store::EphemeralFrame) {
        self.notifier.ephemeral(devices, frame);
    }
}

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
        "SELECT q.message_id, m.payload, m.kind, m.expires_ms FROM queue q JOIN messages m ON m.id = q.message_id
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
                expires_ms: r
                    .try_get::<Option<i64>, _>(3)
                    .map_err(backend)?
                    .map(|at| at as u64),
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

/// The first of the two halves of a submission whose recipients live in other databases:
/// the epoch rule alone, in `pli_apply_epoch_rule`; the queues are `pli_deliver`'s, in
/// [`deliver`] (migration 0003).
pub(super) async fn advance_epoch(
    conn: &mut PgConnection,
    group: &GroupId,
    rule: EpochRule,
) -> Result<u64, StoreError> {
    let (code, epoch) = match rule {
        EpochRule::Commit { epoch } => (0i16, epoch),
        EpochRule::Proposal { epoch } => (1, epoch),
        EpochRule::Application { epoch } => (2, epoch),
    };
    let after: i64 = sqlx::query_scalar("SELECT pli_apply_epoch_rule($1, $2, $3)")
        .bind(group.as_bytes())
        .bind(code)
        .bind(epoch as i64)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| refusal(e, epoch))?;
    Ok(after as u64)
}

pub(super) async fn queue_lengths(
    conn: &mut PgConnection,
    devices: &[DeviceId],
) -> Result<Vec<(DeviceId, u64)>, StoreError> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT device_id, queue_len FROM devices WHERE device_id = ANY($1)")
            .bind(ids(devices))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    rows.into_iter()
        .map(|(device, len)| Ok((device_id(device)?, len as u64)))
        .collect()
}

/// Gives a just-queued message its disappearing timer's end, in the caller's transaction.
async fn set_expiry(
    tx: &mut PgConnection,
    id: MessageId,
    expires_ms: u64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET expires_ms = $2 WHERE id = $1")
        .bind(id.0 as i64)
        .bind(expires_ms as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// After queue rows `(device, message)` were deleted: each device's count goes down by
/// its rows, and a message no queue holds any more is deleted (the retention sweep and
/// the timer sweep alike).
pub(super) async fn take_off_queues(
    tx: &mut PgConnection,
    removed: &[(i64, i64)],
) -> Result<(), StoreError> {
    if removed.is_empty() {
        return Ok(());
    }
    let devices: Vec<i64> = removed.iter().map(|(d, _)| *d).collect();
    let messages: Vec<i64> = removed.iter().map(|(_, m)| *m).collect();
    sqlx::query(
        "UPDATE devices d SET queue_len = d.queue_len - e.n
           FROM (SELECT x AS device_id, COUNT(*) AS n FROM unnest($1::BIGINT[]) AS x GROUP BY x) e
          WHERE d.device_id = e.device_id",
    )
    .bind(&devices)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    sqlx::query(
        "DELETE FROM messages m WHERE m.id = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id)",
    )
    .bind(&messages)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn deliver(
    conn: &mut PgConnection,
    kind: u8,
    payload: &[u8],
    devices: &[DeviceId],
    now_ms: u64,
) -> Result<Option<MessageId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT pli_deliver($1, $2, $3, $4)")
        .bind(i16::from(kind))
        .bind(payload)
        .bind(ids(devices))
        .bind(now_ms as i64)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(id.map(|id| MessageId(id as u64)))
}
