//! The delivery queue on SQLite: the epoch rule, queueing a message for its recipients
//! (one statement per step for a large group), fetching, acks, and the per-device counters
//! (`queue_lens`) that bound a queue. How long a stored ciphertext lives is `stored.rs`.

use super::SqliteStore;
use super::rows::backend;
use super::stored::{insert_message, release, take_off_queues};
use super::writer::Undo;
use crate::store::error::StoreError;
use crate::store::queue::{
    Accepted, EpochRule, QueueDepths, QueueStore, Queued, Submission, WakeSink,
};
use pli_proto::frame::KIND_MLS;
use pli_proto::{DeviceId, GroupId, MessageId};
use rusqlite::{Connection, OptionalExtension, params};

impl QueueStore for SqliteStore {
    async fn advance_epoch(&self, group: &GroupId, rule: EpochRule) -> Result<u64, StoreError> {
        let group = group.clone();
        self.write(move |c| apply_epoch_rule(c, &group, rule)).await
    }

    async fn queue_lengths(
        &self,
        devices: &[DeviceId],
    ) -> Result<Vec<(DeviceId, u64)>, StoreError> {
        let devices = devices.to_vec();
        self.read(move |c| queue_lengths(c, &devices)).await
    }

    async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        self.read(|c| {
            let sql = QueueDepths::query("queue_lens", "len");
            let width = 2 + crate::store::QUEUE_DEPTH_BOUNDS.len();
            let figures = c
                .query_row(&sql, [], |row| {
                    (0..width)
                        .map(|i| row.get::<_, i64>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)?;
            Ok(QueueDepths::from_row(&figures))
        })
        .await
    }

    async fn deliver(
        &self,
        kind: u8,
        payload: Vec<u8>,
        devices: Vec<DeviceId>,
        now_ms: u64,
        expires_ms: Option<u64>,
    ) -> Result<Option<MessageId>, StoreError> {
        self.write(move |c| {
            let id = deliver(c, kind, &payload, &devices, now_ms)?;
            if let (Some(id), Some(at)) = (id, expires_ms) {
                set_expiry(c, id, at)?;
            }
            Ok(id)
        })
        .await
    }

    async fn expire_timed(&self, now_ms: u64) -> Result<u64, StoreError> {
        self.write(move |c| expire_timed(c, now_ms)).await
    }

    async fn submit(&self, submission: Submission) -> Result<Accepted, StoreError> {
        // A submission refuses before it writes unless it also carries a welcome or goes
        // to a large group (`submit_refuses_first`).
        let undo = if submit_refuses_first(&submission) {
            Undo::RefusesFirst
        } else {
            Undo::Savepoint
        };
        self.write_job(move |c| submit(c, &submission), undo, false)
            .await
    }

    async fn group_epoch(&self, group: &GroupId) -> Result<Option<u64>, StoreError> {
        let group = group.clone();
        self.read(move |c| group_epoch(c, &group)).await
    }

    async fn fetch_queue(
        &self,
        device: DeviceId,
        after: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        self.read(move |c| fetch_queue(c, device, after, limit))
            .await
    }

    async fn ack(&self, device: DeviceId, ids: Vec<MessageId>) -> Result<u64, StoreError> {
        // An ack never refuses: it only removes what is there.
        self.write_job(move |c| ack(c, device, &ids), Undo::RefusesFirst, true)
            .await
    }

    /// One process owns the file: every wake-up is local, nothing to relay.
    async fn relay_wakeups(&self, _sink: WakeSink) {}

    /// One process: the hub already replaced any older connection.
    fn announce_connected(&self, _device: DeviceId) {}

    /// One process: the hub already handed it to every connection there is.
    fn relay_ephemeral(&self, _devices: Vec<DeviceId>, _frame: crate::store::EphemeralFrame) {}
}

pub(super) fn group_epoch(conn: &Connection, group: &GroupId) -> Result<Option<u64>, StoreError> {
    conn.prepare_cached("SELECT epoch FROM mls_groups WHERE group_id = ?1")
        .and_then(|mut st| {
            st.query_row([group.as_bytes()], |r| r.get::<_, i64>(0))
                .optional()
        })
        .map(|epoch| epoch.map(|e| e as u64))
        .map_err(backend)
}

/// What a message does to its group's epoch, once the rule has allowed it.
#[derive(Clone, Copy)]
pub(super) enum EpochStep {
    /// The group's first commit: the server starts keeping its epoch, at 1.
    Create,
    /// A commit: the epoch moves on to this.
    Advance(u64),
    /// A proposal or application message in the current epoch.
    Stay(u64),
}

/// Checks the epoch rule without writing: a refusal comes before any write.
pub(super) fn check_epoch_rule(
    conn: &Connection,
    group: &GroupId,
    rule: EpochRule,
) -> Result<EpochStep, StoreError> {
    let current = group_epoch(conn, group)?;
    let stale = |submitted, current| StoreError::StaleEpoch { submitted, current };
    match (rule, current) {
        (EpochRule::Commit { epoch: 0 }, None) => Ok(EpochStep::Create),
        (EpochRule::Commit { epoch }, Some(current)) if epoch == current => {
            Ok(EpochStep::Advance(current + 1))
        }
        (EpochRule::Proposal { epoch } | EpochRule::Application { epoch }, Some(current))
            if epoch == current =>
        {
            Ok(EpochStep::Stay(current))
        }
        (_, None) => Err(StoreError::UnknownGroup),
        (
            EpochRule::Commit { epoch }
            | EpochRule::Proposal { epoch }
            | EpochRule::Application { epoch },
            Some(current),
        ) => Err(stale(epoch, current)),
    }
}

/// Writes what [`check_epoch_rule`] allowed; returns the group's epoch after the message.
fn take_epoch_step(conn: &Connection, group: &GroupId, step: EpochStep) -> Result<u64, StoreError> {
    match step {
        EpochStep::Create => {
            conn.prepare_cached("INSERT INTO mls_groups (group_id, epoch) VALUES (?1, 1)")
                .and_then(|mut st| st.execute([group.as_bytes()]))
                .map_err(backend)?;
            Ok(1)
        }
        EpochStep::Advance(to) => {
            conn.prepare_cached("UPDATE mls_groups SET epoch = ?2 WHERE group_id = ?1")
                .and_then(|mut st| st.execute(params![group.as_bytes(), to as i64]))
                .map_err(backend)?;
            Ok(to)
        }
        EpochStep::Stay(epoch) => Ok(epoch),
    }
}

/// Applies the epoch rule; returns the group's epoch after the message.
pub(super) fn apply_epoch_rule(
    conn: &Connection,
    group: &GroupId,
    rule: EpochRule,
) -> Result<u64, StoreError> {
    let step = check_epoch_rule(conn, group, rule)?;
    take_epoch_step(conn, group, step)
}

/// From this many recipients on, a message is queued with one statement per step for all
/// of them (the ids as a JSON array) instead of one per recipient: a large group's
/// fan-out is then bound by the B-tree writes, not by stepping statements.
const SET_BASED_FROM: usize = 16;

/// Stores one payload and queues it for each of `recipients` (distinct devices), enforcing
/// the depth limit. Below [`SET_BASED_FROM`] recipients a refusal leaves nothing behind
/// (counters already bumped are put back); from there on it leaves bumped counters, and the
/// caller's savepoint rolls the job back.
pub(super) fn enqueue(
    conn: &Connection,
    kind: u8,
    payload: &[u8],
    recipients: &[DeviceId],
    now_ms: u64,
    max_depth: u64,
) -> Result<MessageId, StoreError> {
    if recipients.len() >= SET_BASED_FROM {
        return enqueue_set(conn, kind, payload, recipients, now_ms, max_depth);
    }
    // Counted by `execute` rather than `RETURNING`, which costs a temporary B-tree per row.
    let mut bump = conn
        .prepare_cached("UPDATE queue_lens SET len = len + 1 WHERE device_id = ?1 AND len < ?2")
        .map_err(backend)?;
    for device in recipients {
        let id = device.get() as i64;
        let bumped = bump
            .execute(params![id, max_depth as i64])
            .map_err(backend)?;
        if bumped == 0 {
            let mut unbump = conn
                .prepare_cached("UPDATE queue_lens SET len = len - 1 WHERE device_id = ?1")
                .map_err(backend)?;
            for earlier in recipients.iter().take_while(|earlier| *earlier != device) {
                unbump.execute([earlier.get() as i64]).map_err(backend)?;
            }
            let exists = conn
                .prepare_cached("SELECT 1 FROM devices WHERE device_id = ?1")
                .and_then(|mut st| st.exists([id]))
                .map_err(backend)?;
            return Err(if exists {
                StoreError::QueueFull
            } else {
                StoreError::UnknownRecipient
            });
        }
    }
    let message_id = insert_message(conn, kind, payload, now_ms, recipients.len())?;
    let mut queue = conn
        .prepare_cached("INSERT INTO queue (device_id, message_id) VALUES (?1, ?2)")
        .map_err(backend)?;
    for device in recipients {
        queue
            .execute(params![device.get() as i64, message_id])
            .map_err(backend)?;
    }
    Ok(MessageId(message_id as u64))
}

/// [`enqueue`] for many recipients: each step is one statement over all of them.
fn enqueue_set(
    conn: &Connection,
    kind: u8,
    payload: &[u8],
    recipients: &[DeviceId],
    now_ms: u64,
    max_depth: u64,
) -> Result<MessageId, StoreError> {
    let ids = serde_json::to_string(&recipients.iter().map(|d| d.get()).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let bumped = conn
        .prepare_cached(
            "UPDATE queue_lens SET len = len + 1
             WHERE device_id IN (SELECT value FROM json_each(?1)) AND len < ?2",
        )
        .and_then(|mut st| st.execute(params![ids, max_depth as i64]))
        .map_err(backend)?;
    if bumped < recipients.len() {
        let known: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM devices WHERE device_id IN (SELECT value FROM json_each(?1))",
            )
            .and_then(|mut st| st.query_row([&ids], |r| r.get(0)))
            .map_err(backend)?;
        return Err(if known as usize == recipients.len() {
            StoreError::QueueFull
        } else {
            StoreError::UnknownRecipient
        });
    }
    let message_id = insert_message(conn, kind, payload, now_ms, recipients.len())?;
    conn.prepare_cached(
        "INSERT INTO queue (device_id, message_id) SELECT value, ?2 FROM json_each(?1)",
    )
    .and_then(|mut st| st.execute(params![ids, message_id]))
    .map_err(backend)?;
    Ok(MessageId(message_id as u64))
}

fn unique(devices: &[DeviceId]) -> Vec<DeviceId> {
    let mut devices = devices.to_vec();
    devices.sort_unstable();
    devices.dedup();
    devices
}

/// Whether [`submit`] refuses before it writes, so that it needs no savepoint: without a
/// welcome (whose refusal would come after the message is queued) and below
/// [`SET_BASED_FROM`] recipients (whose refusal comes after the counters are bumped).
/// Counted before duplicates are dropped: a list that only dedups below the threshold
/// keeps its savepoint, which is merely slower.
pub(super) fn submit_refuses_first(s: &Submission) -> bool {
    s.welcome.is_none() && s.recipients.len() < SET_BASED_FROM
}

/// Checks the epoch rule, queues the message (and any welcome), then moves the epoch: the
/// refusals come in that order, each before anything after it is written.
pub(super) fn submit(conn: &Connection, s: &Submission) -> Result<Accepted, StoreError> {
    let step = check_epoch_rule(conn, &s.group, s.rule)?;
    let recipients = unique(&s.recipients);
    let id = enqueue(
        conn,
        KIND_MLS,
        &s.payload,
        &recipients,
        s.now_ms,
        s.max_queue_depth,
    )?;
    if let Some((welcome, new_members)) = &s.welcome {
        enqueue(
            conn,
            KIND_MLS,
            welcome,
            &unique(new_members),
            s.now_ms,
            s.max_queue_depth,
        )?;
    }
    if let Some(at) = s.expires_ms {
        set_expiry(conn, id, at)?;
    }
    let epoch = take_epoch_step(conn, &s.group, step)?;
    Ok(Accepted { id, epoch })
}

/// Gives a just-queued message its disappearing timer's end, in the same transaction.
/// One more statement for a timed message only; every other message keeps the one insert.
fn set_expiry(conn: &Connection, id: MessageId, expires_ms: u64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE messages SET expires_ms = ?2 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![id.0 as i64, expires_ms as i64]))
        .map_err(backend)?;
    Ok(())
}

/// Deletes the queue entries of every message whose timer is over, and with the last of
/// them the message (`stored`'s counting rule), in one transaction.
pub(super) fn expire_timed(conn: &Connection, now_ms: u64) -> Result<u64, StoreError> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS timed_out (device_id INTEGER, message_id INTEGER)",
    )
    .map_err(backend)?;
    let expired = conn
        .prepare_cached(
            "INSERT INTO temp.timed_out (device_id, message_id)
             SELECT q.device_id, q.message_id FROM messages m JOIN queue q ON q.message_id = m.id
             WHERE m.expires_ms IS NOT NULL AND m.expires_ms <= ?1",
        )
        .and_then(|mut st| st.execute([now_ms as i64]))
        .map_err(backend)?;
    if expired == 0 {
        return Ok(0);
    }
    take_off_queues(conn, "temp.timed_out")?;
    Ok(expired as u64)
}

pub(super) fn fetch_queue(
    conn: &Connection,
    device: DeviceId,
    after: Option<MessageId>,
    limit: usize,
) -> Result<Vec<Queued>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT q.message_id, m.payload, m.kind, m.expires_ms FROM queue q JOIN messages m ON m.id = q.message_id
             WHERE q.device_id = ?1 AND q.message_id > ?2 ORDER BY q.message_id LIMIT ?3",
        )
        .map_err(backend)?;
    let after = after.map_or(0, |id| id.0 as i64);
    let rows = st
        .query_map(params![device.get() as i64, after, limit as i64], |r| {
            Ok(Queued {
                id: MessageId(r.get::<_, i64>(0)? as u64),
                payload: r.get(1)?,
                kind: r.get(2)?,
                expires_ms: r.get::<_, Option<i64>>(3)?.map(|at| at as u64),
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

pub(super) fn ack(
    conn: &Connection,
    device: DeviceId,
    ids: &[MessageId],
) -> Result<u64, StoreError> {
    let device = device.get() as i64;
    let mut remove = conn
        .prepare_cached("DELETE FROM queue WHERE device_id = ?1 AND message_id = ?2")
        .map_err(backend)?;
    let mut removed = 0u64;
    for id in ids {
        let id = id.0 as i64;
        if remove.execute(params![device, id]).map_err(backend)? > 0 {
            removed += 1;
            release(conn, id, 1)?;
        }
    }
    if removed > 0 {
        conn.prepare_cached("UPDATE queue_lens SET len = len - ?2 WHERE device_id = ?1")
            .and_then(|mut st| st.execute(params![device, removed as i64]))
            .map_err(backend)?;
    }
    Ok(removed)
}

/// With [`deliver`], the queue half of a submission whose recipients live in other stores
/// than its group's epoch ([`apply_epoch_rule`] is the other half, in the global store).
pub(super) fn queue_lengths(
    conn: &Connection,
    devices: &[DeviceId],
) -> Result<Vec<(DeviceId, u64)>, StoreError> {
    let mut lookup = conn
        .prepare_cached("SELECT len FROM queue_lens WHERE device_id = ?1")
        .map_err(backend)?;
    let mut found = Vec::new();
    for device in devices {
        let len: Option<i64> = lookup
            .query_row([device.get() as i64], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        if let Some(len) = len {
            found.push((*device, len as u64));
        }
    }
    Ok(found)
}

pub(super) fn deliver(
    conn: &Connection,
    kind: u8,
    payload: &[u8],
    devices: &[DeviceId],
    now_ms: u64,
) -> Result<Option<MessageId>, StoreError> {
    let mut present: Vec<DeviceId> = queue_lengths(conn, devices)?
        .into_iter()
        .map(|(device, _)| device)
        .collect();
    present.sort_unstable();
    present.dedup();
    if present.is_empty() {
        return Ok(None);
    }
    enqueue(conn, kind, payload, &present, now_ms, i64::MAX as u64).map(Some)
}
