//! Residency on SQLite: the global username → region index, moving an account between
//! regions' stores, and the retention sweep.

use super::SqliteStore;
use super::accounts::{erase_devices, ips_of};
use super::moderation::erase_moderation;
use super::queue::enqueue;
use super::rows::{backend, device_id, username};
use super::stored::take_off_queues;
use crate::store::error::StoreError;
use crate::store::moving::ResidencyStore;
use crate::store::moving::{
    AccountExport, ExportedDevice, ExportedKeyPackage, ExportedMessage, Retention, RetentionReport,
};
use pli_proto::Region;
use pli_proto::Username;
use rusqlite::{Connection, OptionalExtension, params};

impl ResidencyStore for SqliteStore {
    async fn claim_username(&self, username: &Username, region: &Region) -> Result<(), StoreError> {
        let (username, region) = (username.clone(), region.clone());
        self.write(move |c| claim_username(c, &username, &region))
            .await
    }

    async fn home_region(&self, username: &Username) -> Result<Option<Region>, StoreError> {
        let username = username.clone();
        self.read(move |c| home_region(c, &username)).await
    }

    async fn regions_in_use(&self) -> Result<Vec<Region>, StoreError> {
        self.read(regions_in_use).await
    }

    async fn release_username(&self, username: &Username) -> Result<(), StoreError> {
        let username = username.clone();
        self.write(move |c| release_username(c, &username)).await
    }

    async fn set_home_region(
        &self,
        username: &Username,
        region: &Region,
    ) -> Result<(), StoreError> {
        let (username, region) = (username.clone(), region.clone());
        self.write(move |c| set_home_region(c, &username, &region))
            .await
    }

    async fn export_account(
        &self,
        username: &Username,
    ) -> Result<Option<AccountExport>, StoreError> {
        let username = username.clone();
        // On the writer: one transaction, so a consistent snapshot.
        self.write(move |c| export_account(c, &username)).await
    }

    async fn import_account(&self, account: AccountExport) -> Result<(), StoreError> {
        self.write(move |c| import_account(c, &account)).await
    }

    /// Then copies the write-ahead log into the database and empties it, so the erased
    /// rows' old page images do not linger there either.
    async fn erase_account(&self, username: &Username) -> Result<(), StoreError> {
        let username = username.clone();
        self.write(move |c| erase_account(c, &username)).await?;
        self.truncate_wal().await
    }

    async fn expire(&self, retention: Retention) -> Result<RetentionReport, StoreError> {
        self.write(move |c| expire(c, &retention)).await
    }
}

fn hash(raw: Vec<u8>) -> Result<[u8; 32], StoreError> {
    raw.try_into()
        .map_err(|_| StoreError::Backend("invalid secret hash row".into()))
}

pub(super) fn export_account(
    conn: &Connection,
    user: &Username,
) -> Result<Option<AccountExport>, StoreError> {
    type AccountRow = (i64, Option<i64>, Option<Vec<u8>>);
    let account: Option<AccountRow> = conn
        .query_row(
            "SELECT created_day, last_seen_day, profile FROM accounts WHERE username = ?1",
            [user.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(backend)?;
    let Some((created_day, last_seen_day, profile)) = account else {
        return Ok(None);
    };
    let mut devices = Vec::new();
    let mut st = conn
        .prepare(
            "SELECT device_id, secret_hash, signature_key, endorsement FROM devices
             WHERE username = ?1 ORDER BY device_id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([user.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })
        .map_err(backend)?;
    for row in rows {
        let (id, secret, signature_key, endorsement) = row.map_err(backend)?;
        devices.push(ExportedDevice {
            device_id: device_id(id)?,
            secret_hash: hash(secret)?,
            signature_key,
            endorsement: crate::store::directory::endorsement_from_row(endorsement)?,
        });
    }
    let mut key_packages = Vec::new();
    let mut st = conn
        .prepare(
            "SELECT k.device_id, k.data, k.last_resort, k.not_after FROM key_packages k
             JOIN devices d ON d.device_id = k.device_id WHERE d.username = ?1 ORDER BY k.id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([user.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .map_err(backend)?;
    for row in rows {
        let (id, data, last_resort, not_after) = row.map_err(backend)?;
        key_packages.push(ExportedKeyPackage {
            device_id: device_id(id)?,
            data,
            last_resort,
            not_after: not_after.map(|t| t.max(0) as u64),
        });
    }
    let mut queued: Vec<ExportedMessage> = Vec::new();
    let mut last_id = None;
    let mut st = conn
        .prepare(
            "SELECT m.id, m.kind, m.payload, m.created_ms, q.device_id FROM queue q
             JOIN messages m ON m.id = q.message_id
             JOIN devices d ON d.device_id = q.device_id
             WHERE d.username = ?1 ORDER BY m.id, q.device_id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([user.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u8>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(backend)?;
    for row in rows {
        let (id, kind, payload, created_ms, device) = row.map_err(backend)?;
        match queued.last_mut() {
            Some(message) if last_id == Some(id) => message.devices.push(device_id(device)?),
            _ => queued.push(ExportedMessage {
                kind,
                payload,
                created_ms: created_ms as u64,
                devices: vec![device_id(device)?],
            }),
        }
        last_id = Some(id);
    }
    let preserved_until_ms: Option<i64> = conn
        .query_row(
            "SELECT until_ms FROM preservation_holds WHERE username = ?1",
            [user.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let mut notices = Vec::new();
    let mut st = conn
        .prepare(
            "SELECT request_id, payload, release_ms FROM pending_notices
             WHERE username = ?1 ORDER BY notice_id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([user.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
        })
        .map_err(backend)?;
    for row in rows {
        notices.push(row.map_err(backend)?);
    }
    Ok(Some(AccountExport {
        ips: ips_of(conn, user)?,
        username: username(user.to_string())?,
        created_day,
        last_seen_day,
        devices,
        key_packages,
        queued,
        preserved_until_ms: preserved_until_ms.map(|ms| ms as u64),
        notices,
        profile,
    }))
}

pub(super) fn import_account(conn: &Connection, a: &AccountExport) -> Result<(), StoreError> {
    erase_account(conn, &a.username)?;
    let user = a.username.as_str();
    conn.execute(
        "INSERT INTO accounts (username, created_day, last_seen_day, profile)
         VALUES (?1, ?2, ?3, ?4)",
        params![user, a.created_day, a.last_seen_day, a.profile],
    )
    .map_err(backend)?;
    for d in &a.devices {
        conn.execute(
            "INSERT INTO devices (device_id, username, secret_hash, signature_key, endorsement)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                d.device_id.get() as i64,
                user,
                &d.secret_hash[..],
                d.signature_key,
                d.endorsement
                    .as_ref()
                    .map(crate::store::directory::endorsement_to_row)
            ],
        )
        .map_err(backend)?;
    }
    for k in &a.key_packages {
        conn.execute(
            "INSERT INTO key_packages (device_id, data, last_resort, not_after)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                k.device_id.get() as i64,
                k.data,
                k.last_resort,
                k.not_after.map(crate::store::key_packages::clamp)
            ],
        )
        .map_err(backend)?;
    }
    for m in &a.queued {
        // Stamped with its original time: the message keeps its age, and so its expiry.
        enqueue(
            conn,
            m.kind,
            &m.payload,
            &m.devices,
            m.created_ms,
            i64::MAX as u64,
        )?;
    }
    if let Some(until) = a.preserved_until_ms {
        conn.execute(
            "INSERT INTO preservation_holds (username, until_ms) VALUES (?1, ?2)",
            params![user, until as i64],
        )
        .map_err(backend)?;
    }
    for (day, ip) in &a.ips {
        conn.execute(
            "INSERT INTO connection_ips (username, ip, day) VALUES (?1, ?2, ?3)",
            params![user, ip, day],
        )
        .map_err(backend)?;
    }
    for (request_id, payload, release_ms) in &a.notices {
        conn.execute(
            "INSERT INTO pending_notices (request_id, username, payload, release_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![request_id, user, payload, *release_ms as i64],
        )
        .map_err(backend)?;
    }
    Ok(())
}

/// Everything the store holds of the account, its trust & safety actions and standing too
/// (`super::moderation`): they are its data, so they go with its row, on a move's old copy
/// and on retention's erasure of a deleted account alike.
pub(super) fn erase_account(conn: &Connection, user: &Username) -> Result<(), StoreError> {
    erase_devices(conn, user, None)?;
    erase_moderation(conn, user)?;
    for sql in [
        "DELETE FROM accounts WHERE username = ?1",
        "DELETE FROM preservation_holds WHERE username = ?1",
        "DELETE FROM pending_notices WHERE username = ?1",
        "DELETE FROM connection_ips WHERE username = ?1",
    ] {
        conn.execute(sql, [user.as_str()]).map_err(backend)?;
    }
    Ok(())
}

pub(super) fn expire(conn: &Connection, r: &Retention) -> Result<RetentionReport, StoreError> {
    let (now, before) = (r.now_ms as i64, r.cutoffs.queue_before_ms as i64);
    let mut st = conn
        .prepare(
            "SELECT username FROM accounts WHERE deleted_day <= ?2 AND username NOT IN
               (SELECT username FROM preservation_holds WHERE until_ms > ?1)",
        )
        .map_err(backend)?;
    let names = st
        .query_map(params![now, r.cutoffs.deleted_through_day], |row| {
            row.get::<_, String>(0)
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let mut erased_accounts = Vec::with_capacity(names.len());
    for name in names {
        let user = username(name)?;
        erase_account(conn, &user)?;
        erased_accounts.push(user);
    }
    let held_devices = "SELECT d.device_id FROM devices d JOIN preservation_holds h
                        ON h.username = d.username WHERE h.until_ms > ?1";
    let held: i64 = conn
        .query_row(
            &format!(
                "SELECT COUNT(*) FROM queue q JOIN messages m ON m.id = q.message_id
                 WHERE m.created_ms < ?2 AND q.device_id IN ({held_devices})"
            ),
            params![now, before],
            |r| r.get(0),
        )
        .map_err(backend)?;
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS expired (device_id INTEGER, message_id INTEGER)",
    )
    .map_err(backend)?;
    let expired = conn
        .execute(
            &format!(
                "INSERT INTO temp.expired (device_id, message_id)
                 SELECT q.device_id, q.message_id FROM queue q JOIN messages m ON m.id = q.message_id
                 WHERE m.created_ms < ?2 AND q.device_id NOT IN ({held_devices})"
            ),
            params![now, before],
        )
        .map_err(backend)?;
    take_off_queues(conn, "temp.expired")?;
    let expired_ips = conn
        .execute(
            "DELETE FROM connection_ips WHERE day < ?2 AND username NOT IN
               (SELECT username FROM preservation_holds WHERE until_ms > ?1)",
            params![now, r.cutoffs.ip_before_day],
        )
        .map_err(backend)?;
    let expired_holds = conn
        .execute("DELETE FROM preservation_holds WHERE until_ms <= ?1", [now])
        .map_err(backend)?;
    Ok(RetentionReport {
        erased_accounts,
        expired_queue_entries: expired as u64,
        held_queue_entries: held as u64,
        expired_holds: expired_holds as u64,
        expired_ips: expired_ips as u64,
        expired_reports: 0,
    })
}

pub(super) fn claim_username(
    conn: &Connection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO home_regions (username, region) VALUES (?1, ?2)
             ON CONFLICT (username) DO NOTHING",
        )
        .and_then(|mut st| st.execute(params![username.as_str(), region.as_str()]))
        .map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::UsernameTaken);
    }
    Ok(())
}

pub(super) fn set_home_region(
    conn: &Connection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO home_regions (username, region) VALUES (?1, ?2)
         ON CONFLICT (username) DO UPDATE SET region = excluded.region",
    )
    .and_then(|mut st| st.execute(params![username.as_str(), region.as_str()]))
    .map_err(backend)?;
    Ok(())
}

pub(super) fn home_region(
    conn: &Connection,
    username: &Username,
) -> Result<Option<Region>, StoreError> {
    let raw: Option<String> = conn
        .prepare_cached("SELECT region FROM home_regions WHERE username = ?1")
        .and_then(|mut st| st.query_row([username.as_str()], |r| r.get(0)).optional())
        .map_err(backend)?;
    raw.map(|r| Region::parse(&r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .transpose()
}

pub(super) fn regions_in_use(conn: &Connection) -> Result<Vec<Region>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT DISTINCT region FROM home_regions ORDER BY region")
        .map_err(backend)?;
    let names = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    names
        .iter()
        .map(|r| Region::parse(r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .collect()
}

pub(super) fn release_username(conn: &Connection, username: &Username) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM home_regions WHERE username = ?1")
        .and_then(|mut st| st.execute([username.as_str()]))
        .map_err(backend)?;
    Ok(())
}
