//! The SQL behind each messaging operation on PostgreSQL, as functions on a transaction.
//!
//! Concurrency is the difference from SQLite, where one writer runs at a time. Here several
//! transactions (and several nodes) run at once, so:
//! - a group's row is locked before its epoch is read: commits to one group serialise on it
//!   (`FOR UPDATE`), while application messages only keep it from moving (`FOR SHARE`);
//! - the recipients' device rows are locked, in id order (no deadlocks), *before* a message
//!   id is drawn, so a device's messages commit in id order and a reader that has seen id
//!   `n` can never later find a smaller one appear in its queue;
//! - a message row is locked before checking whether any queue still holds it, so two
//!   devices acking the last two copies at once cannot both leave it behind.

use crate::store::{
    ClaimedPackage, DeviceAuth, DeviceRecord, EpochRule, KeyPackageStatus, NewAccount, Queued,
    StoreError, Submission,
};
use pli_proto::frame::KIND_MLS;
use pli_proto::{DeviceId, GroupId, MessageId, Username};
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

/// The channel that carries wake-ups between nodes.
pub(super) const WAKE_CHANNEL: &str = "pli_wake";
/// NOTIFY payloads are limited to 8,000 bytes; device ids are sent in chunks well below it.
const WAKE_CHUNK: usize = 300;

/// Waiting for a connection, or losing one, is worth a retry; anything else is a failure.
/// A commit whose connection dropped may or may not have landed: a client's retry is safe,
/// since a repeated MLS message is shown once by its receivers and a repeated commit meets
/// the moved epoch.
pub(super) fn backend(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable
        }
        other => StoreError::Backend(other.to_string()),
    }
}

pub(super) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

pub(super) fn device_id(raw: i64) -> Result<DeviceId, StoreError> {
    DeviceId::new(raw as u64).map_err(|_| StoreError::Backend("invalid device id row".into()))
}

pub(super) fn username(raw: String) -> Result<Username, StoreError> {
    Username::parse(&raw).map_err(|_| StoreError::Backend("invalid username row".into()))
}

fn ids(devices: &[DeviceId]) -> Vec<i64> {
    devices.iter().map(|d| d.get() as i64).collect()
}

pub(super) async fn create_account(
    tx: &mut PgConnection,
    a: &NewAccount,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO accounts (username, created_day) VALUES ($1, $2)")
        .bind(a.username.as_str())
        .bind(a.created_day)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::UsernameTaken
            } else {
                backend(e)
            }
        })?;
    sqlx::query(
        "INSERT INTO devices (device_id, username, secret_hash, signature_key)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(a.device_id.get() as i64)
    .bind(a.username.as_str())
    .bind(&a.secret_hash[..])
    .bind(&a.signature_key)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn device_auth(
    conn: &mut PgConnection,
    device: DeviceId,
) -> Result<Option<DeviceAuth>, StoreError> {
    let row = sqlx::query(
        "SELECT d.username, d.secret_hash, a.last_seen_day
         FROM devices d JOIN accounts a ON a.username = d.username
         WHERE d.device_id = $1",
    )
    .bind(device.get() as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some(row) = row else { return Ok(None) };
    let hash: Vec<u8> = row.try_get(1).map_err(backend)?;
    Ok(Some(DeviceAuth {
        username: username(row.try_get(0).map_err(backend)?)?,
        secret_hash: hash
            .try_into()
            .map_err(|_| StoreError::Backend("invalid secret hash row".into()))?,
        last_seen_day: row.try_get(2).map_err(backend)?,
    }))
}

pub(super) async fn touch_last_seen(
    conn: &mut PgConnection,
    user: &Username,
    day: i64,
) -> Result<(), StoreError> {
    // Skips the write (and its WAL record) when the day is already recorded.
    sqlx::query(
        "UPDATE accounts SET last_seen_day = $2
         WHERE username = $1 AND last_seen_day IS DISTINCT FROM $2",
    )
    .bind(user.as_str())
    .bind(day)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn list_devices(
    conn: &mut PgConnection,
    user: &Username,
) -> Result<Option<Vec<DeviceRecord>>, StoreError> {
    let exists = sqlx::query("SELECT 1 FROM accounts WHERE username = $1")
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    if exists.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT device_id, signature_key FROM devices WHERE username = $1 ORDER BY device_id",
    )
    .bind(user.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|r| {
            Ok(DeviceRecord {
                device_id: device_id(r.try_get(0).map_err(backend)?)?,
                signature_key: r.try_get(1).map_err(backend)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
        .map(Some)
}

pub(super) async fn key_package_status(
    conn: &mut PgConnection,
    device: DeviceId,
) -> Result<KeyPackageStatus, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM key_packages WHERE device_id = d.device_id AND NOT last_resort),
                EXISTS (SELECT 1 FROM key_packages WHERE device_id = d.device_id AND last_resort)
         FROM devices d WHERE d.device_id = $1",
    )
    .bind(device.get() as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?
    .ok_or(StoreError::UnknownDevice)?;
    Ok(KeyPackageStatus {
        available: row.try_get::<i64, _>(0).map_err(backend)? as u64,
        has_last_resort: row.try_get(1).map_err(backend)?,
    })
}

pub(super) async fn add_key_packages(
    tx: &mut PgConnection,
    device: DeviceId,
    one_time: &[Vec<u8>],
    last_resort: Option<&[u8]>,
    max_one_time: usize,
) -> Result<KeyPackageStatus, StoreError> {
    let id = device.get() as i64;
    // The device row serialises concurrent uploads, so the limit holds under races.
    let locked = sqlx::query("SELECT 1 FROM devices WHERE device_id = $1 FOR NO KEY UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    if locked.is_none() {
        return Err(StoreError::UnknownDevice);
    }
    let before = key_package_status(tx, device).await?;
    if before.available as usize + one_time.len() > max_one_time {
        return Err(StoreError::TooManyKeyPackages);
    }
    if !one_time.is_empty() {
        sqlx::query(
            "INSERT INTO key_packages (device_id, data, last_resort)
             SELECT $1, data, FALSE FROM UNNEST($2::bytea[]) WITH ORDINALITY AS t(data, n)
             ORDER BY n",
        )
        .bind(id)
        .bind(one_time)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    if let Some(package) = last_resort {
        sqlx::query("DELETE FROM key_packages WHERE device_id = $1 AND last_resort")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO key_packages (device_id, data, last_resort) VALUES ($1, $2, TRUE)",
        )
        .bind(id)
        .bind(package)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    key_package_status(tx, device).await
}

pub(super) async fn claim_key_packages(
    tx: &mut PgConnection,
    user: &Username,
) -> Result<Option<Vec<ClaimedPackage>>, StoreError> {
    let Some(devices) = list_devices(tx, user).await? else {
        return Ok(None);
    };
    let mut claimed = Vec::with_capacity(devices.len());
    for device in devices {
        let id = device.device_id.get() as i64;
        // Oldest one-time package first; SKIP LOCKED hands a concurrent claim the next one
        // instead of the same one.
        let one_time = sqlx::query(
            "DELETE FROM key_packages WHERE id = (
                 SELECT id FROM key_packages WHERE device_id = $1 AND NOT last_resort
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING data",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let (row, last_resort) = match one_time {
            Some(row) => (Some(row), false),
            None => (
                sqlx::query("SELECT data FROM key_packages WHERE device_id = $1 AND last_resort")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?,
                true,
            ),
        };
        if let Some(row) = row {
            claimed.push(ClaimedPackage {
                device_id: device.device_id,
                key_package: row.try_get(0).map_err(backend)?,
                last_resort,
            });
        }
    }
    Ok(Some(claimed))
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

/// Applies the epoch rule with the group's row locked; returns the epoch after the message.
async fn apply_epoch_rule(
    tx: &mut PgConnection,
    group: &GroupId,
    rule: EpochRule,
) -> Result<u64, StoreError> {
    let lock = match rule {
        EpochRule::Commit { .. } => "SELECT epoch FROM mls_groups WHERE group_id = $1 FOR UPDATE",
        _ => "SELECT epoch FROM mls_groups WHERE group_id = $1 FOR SHARE",
    };
    let current: Option<i64> = sqlx::query_scalar(lock)
        .bind(group.as_bytes())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let current = current.map(|e| e as u64);
    match (rule, current) {
        (EpochRule::Commit { epoch: 0 }, None) => {
            // Two creators racing: the second finds the row and loses like a stale commit.
            let created = sqlx::query(
                "INSERT INTO mls_groups (group_id, epoch) VALUES ($1, 1) ON CONFLICT DO NOTHING",
            )
            .bind(group.as_bytes())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if created.rows_affected() == 1 {
                Ok(1)
            } else {
                Err(StoreError::StaleEpoch {
                    submitted: 0,
                    current: group_epoch(tx, group).await?.unwrap_or(1),
                })
            }
        }
        (EpochRule::Commit { epoch }, Some(current)) if epoch == current => {
            sqlx::query("UPDATE mls_groups SET epoch = $2 WHERE group_id = $1")
                .bind(group.as_bytes())
                .bind((current + 1) as i64)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            Ok(current + 1)
        }
        (EpochRule::Proposal { epoch } | EpochRule::Application { epoch }, Some(current))
            if epoch == current =>
        {
            Ok(current)
        }
        (_, None) => Err(StoreError::UnknownGroup),
        (
            EpochRule::Commit { epoch }
            | EpochRule::Proposal { epoch }
            | EpochRule::Application { epoch },
            Some(current),
        ) => Err(StoreError::StaleEpoch {
            submitted: epoch,
            current,
        }),
    }
}

/// Locks the devices' rows in id order; `devices` must be sorted and unique.
async fn lock_devices(tx: &mut PgConnection, devices: &[DeviceId]) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT device_id FROM devices WHERE device_id = ANY($1)
         ORDER BY device_id FOR NO KEY UPDATE",
    )
    .bind(ids(devices))
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Stores one payload and queues it for each device (sorted, unique, already locked),
/// enforcing the depth limit, and tells every node to wake them once this commits.
pub(super) async fn enqueue(
    tx: &mut PgConnection,
    node: u64,
    kind: u8,
    payload: &[u8],
    recipients: &[DeviceId],
    now_ms: u64,
    max_depth: u64,
) -> Result<MessageId, StoreError> {
    let recipient_ids = ids(recipients);
    let bumped = sqlx::query(
        "UPDATE devices SET queue_len = queue_len + 1
         WHERE device_id = ANY($1) AND queue_len < $2",
    )
    .bind(&recipient_ids)
    .bind(max_depth as i64)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    if bumped.rows_affected() != recipients.len() as u64 {
        let known: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE device_id = ANY($1)")
                .bind(&recipient_ids)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        return Err(if known as usize == recipients.len() {
            StoreError::QueueFull
        } else {
            StoreError::UnknownRecipient
        });
    }
    let message_id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (kind, payload, created_ms) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(i16::from(kind))
    .bind(payload)
    .bind(now_ms as i64)
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    sqlx::query("INSERT INTO queue (device_id, message_id) SELECT UNNEST($1::bigint[]), $2")
        .bind(&recipient_ids)
        .bind(message_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    notify_wake(tx, node, recipients).await?;
    Ok(MessageId(message_id as u64))
}

/// NOTIFY is transactional: other nodes hear of the message only once it is committed.
async fn notify_wake(
    tx: &mut PgConnection,
    node: u64,
    devices: &[DeviceId],
) -> Result<(), StoreError> {
    for chunk in devices.chunks(WAKE_CHUNK) {
        let mut payload = format!("{node:x}");
        for device in chunk {
            payload.push(' ');
            payload.push_str(&device.get().to_string());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(WAKE_CHANNEL)
            .bind(payload)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

pub(super) fn unique(devices: &[DeviceId]) -> Vec<DeviceId> {
    let mut devices = devices.to_vec();
    devices.sort_unstable();
    devices.dedup();
    devices
}

pub(super) async fn submit(
    tx: &mut PgConnection,
    node: u64,
    s: &Submission,
) -> Result<crate::store::Accepted, StoreError> {
    let epoch = apply_epoch_rule(tx, &s.group, s.rule).await?;
    let recipients = unique(&s.recipients);
    let new_members = s.welcome.as_ref().map(|(_, to)| unique(to));
    let mut everyone = recipients.clone();
    everyone.extend(new_members.iter().flatten().copied());
    lock_devices(tx, &unique(&everyone)).await?;
    let id = enqueue(
        tx,
        node,
        KIND_MLS,
        &s.payload,
        &recipients,
        s.now_ms,
        s.max_queue_depth,
    )
    .await?;
    if let (Some((welcome, _)), Some(new_members)) = (&s.welcome, &new_members) {
        enqueue(
            tx,
            node,
            KIND_MLS,
            welcome,
            new_members,
            s.now_ms,
            s.max_queue_depth,
        )
        .await?;
    }
    Ok(crate::store::Accepted { id, epoch })
}

/// Queues a service notice for devices that may not be locked yet.
pub(super) async fn enqueue_notice(
    tx: &mut PgConnection,
    node: u64,
    kind: u8,
    payload: &[u8],
    devices: &[DeviceId],
    now_ms: u64,
    max_depth: u64,
) -> Result<MessageId, StoreError> {
    let devices = unique(devices);
    lock_devices(tx, &devices).await?;
    enqueue(tx, node, kind, payload, &devices, now_ms, max_depth).await
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
    tx: &mut PgConnection,
    device: DeviceId,
    acked: &[MessageId],
) -> Result<u64, StoreError> {
    let device = device.get() as i64;
    let wanted: Vec<i64> = acked.iter().map(|id| id.0 as i64).collect();
    let removed: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM queue WHERE device_id = $1 AND message_id = ANY($2) RETURNING message_id",
    )
    .bind(device)
    .bind(&wanted)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    if removed.is_empty() {
        return Ok(0);
    }
    // Lock the messages (in id order), then delete those no queue holds any more: a
    // concurrent ack of another copy commits first or sees ours.
    sqlx::query("SELECT id FROM messages WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&removed)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
    sqlx::query(
        "DELETE FROM messages m WHERE m.id = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id)",
    )
    .bind(&removed)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    sqlx::query("UPDATE devices SET queue_len = queue_len - $2 WHERE device_id = $1")
        .bind(device)
        .bind(removed.len() as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(removed.len() as u64)
}

pub(super) async fn create_ws_ticket(
    conn: &mut PgConnection,
    device: DeviceId,
    hash: &[u8; 32],
    expires_ms: u64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO ws_tickets (ticket_hash, device_id, expires_ms) VALUES ($1, $2, $3)")
        .bind(&hash[..])
        .bind(device.get() as i64)
        .bind(expires_ms as i64)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn redeem_ws_ticket(
    tx: &mut PgConnection,
    hash: &[u8; 32],
    now_ms: u64,
) -> Result<Option<DeviceId>, StoreError> {
    let found = sqlx::query(
        "DELETE FROM ws_tickets WHERE ticket_hash = $1 RETURNING device_id, expires_ms",
    )
    .bind(&hash[..])
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    sqlx::query("DELETE FROM ws_tickets WHERE expires_ms < $1")
        .bind(now_ms as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let Some(row) = found else { return Ok(None) };
    let expires: i64 = row.try_get(1).map_err(backend)?;
    if expires as u64 >= now_ms {
        Ok(Some(device_id(row.try_get(0).map_err(backend)?)?))
    } else {
        Ok(None)
    }
}

pub(super) async fn claim_lease(
    conn: &mut PgConnection,
    job: &str,
    holder: u64,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "INSERT INTO job_leases (job, holder, until_ms) VALUES ($1, $2, $3)
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE job_leases.holder = excluded.holder OR job_leases.until_ms < $4
         RETURNING holder",
    )
    .bind(job)
    .bind(holder as i64)
    .bind(now_ms.saturating_add(ttl_ms) as i64)
    .bind(now_ms as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(row.is_some())
}

pub(super) async fn server_secret(
    conn: &mut PgConnection,
    name: &str,
) -> Result<[u8; 32], StoreError> {
    let fresh: [u8; 32] = rand::random();
    sqlx::query("INSERT INTO server_keys (name, secret) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(&fresh[..])
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    stored
        .try_into()
        .map_err(|_| StoreError::Backend("invalid server key row".into()))
}
