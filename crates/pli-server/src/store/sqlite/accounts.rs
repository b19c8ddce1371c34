//! Accounts and devices on SQLite: registration, authentication, device lists, WebSocket
//! tickets, connection IP addresses, and deletion (a device's queue rows, key packages and
//! tickets go with it).

use super::SqliteStore;
use super::rows::{backend, device_id, is_unique_violation, username};
use super::stored::{prepare_release_all, release_all};
use crate::store::accounts::{AccountStore, DeviceAuth, DeviceRecord, NewAccount, NewDevice};
use crate::store::error::StoreError;
use pli_proto::{DeviceId, Username};
use rusqlite::{Connection, OptionalExtension, params};

impl AccountStore for SqliteStore {
    async fn create_account(&self, account: NewAccount) -> Result<(), StoreError> {
        self.write(move |c| create_account(c, &account)).await
    }

    async fn add_device(&self, username: &Username, device: NewDevice) -> Result<(), StoreError> {
        let username = username.clone();
        self.write(move |conn| add_device(conn, &username, &device))
            .await
    }

    async fn remove_device(
        &self,
        username: &Username,
        device: DeviceId,
    ) -> Result<bool, StoreError> {
        let username = username.clone();
        self.write(move |conn| remove_device(conn, &username, device))
            .await
    }

    async fn device_auth(&self, device: DeviceId) -> Result<Option<DeviceAuth>, StoreError> {
        self.read(move |c| device_auth(c, device)).await
    }

    async fn touch_last_seen(&self, username: &Username, day: i64) -> Result<(), StoreError> {
        let username = username.clone();
        self.write(move |c| touch_last_seen(c, &username, day))
            .await
    }

    async fn list_devices(
        &self,
        username: &Username,
    ) -> Result<Option<Vec<DeviceRecord>>, StoreError> {
        let username = username.clone();
        self.read(move |c| list_devices(c, &username)).await
    }

    async fn create_ws_ticket(
        &self,
        device: DeviceId,
        ticket_hash: [u8; 32],
        expires_ms: u64,
    ) -> Result<(), StoreError> {
        self.write(move |c| create_ws_ticket(c, device, &ticket_hash, expires_ms))
            .await
    }

    async fn redeem_ws_ticket(
        &self,
        ticket_hash: [u8; 32],
        now_ms: u64,
    ) -> Result<Option<DeviceId>, StoreError> {
        self.write(move |c| redeem_ws_ticket(c, &ticket_hash, now_ms))
            .await
    }

    async fn record_ip(&self, username: &Username, ip: &str, day: i64) -> Result<(), StoreError> {
        let (username, ip) = (username.clone(), ip.to_owned());
        self.write(move |c| record_ip(c, &username, &ip, day)).await
    }

    async fn set_profile(
        &self,
        username: &Username,
        profile: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let username = username.clone();
        self.write(move |c| set_profile(c, &username, profile.as_deref()))
            .await
    }

    async fn profile(&self, username: &Username) -> Result<Option<Vec<u8>>, StoreError> {
        let username = username.clone();
        self.read(move |c| profile(c, &username)).await
    }

    async fn delete_account(&self, username: &Username, day: i64) -> Result<bool, StoreError> {
        let username = username.clone();
        self.write(move |c| delete_account(c, &username, day)).await
    }
}

fn set_profile(
    conn: &Connection,
    user: &Username,
    profile: Option<&[u8]>,
) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE accounts SET profile = ?2 WHERE username = ?1 AND deleted_day IS NULL",
        )
        .and_then(|mut st| st.execute(params![user.as_str(), profile]))
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::UnknownAccount);
    }
    Ok(())
}

fn profile(conn: &Connection, user: &Username) -> Result<Option<Vec<u8>>, StoreError> {
    conn.prepare_cached("SELECT profile FROM accounts WHERE username = ?1 AND deleted_day IS NULL")
        .and_then(|mut st| {
            st.query_row([user.as_str()], |r| r.get::<_, Option<Vec<u8>>>(0))
                .optional()
        })
        .map(Option::flatten)
        .map_err(backend)
}

pub(super) fn create_account(conn: &Connection, a: &NewAccount) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO accounts (username, created_day) VALUES (?1, ?2)")
        .and_then(|mut st| st.execute(params![a.username.as_str(), a.created_day]))
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::UsernameTaken
            } else {
                backend(e)
            }
        })?;
    conn.prepare_cached(
        "INSERT INTO devices (device_id, username, secret_hash, signature_key)
         VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut st| {
        st.execute(params![
            a.device_id.get() as i64,
            a.username.as_str(),
            &a.secret_hash[..],
            &a.signature_key
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(super) fn add_device(
    conn: &Connection,
    user: &Username,
    d: &NewDevice,
) -> Result<(), StoreError> {
    if !account_exists(conn, user)? {
        return Err(StoreError::UnknownAccount);
    }
    conn.prepare_cached(
        "INSERT INTO devices (device_id, username, secret_hash, signature_key, endorsement)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            d.device_id.get() as i64,
            user.as_str(),
            &d.secret_hash[..],
            &d.signature_key,
            crate::store::directory::endorsement_to_row(&d.endorsement)
        ])
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::DeviceIdTaken
        } else {
            backend(e)
        }
    })?;
    Ok(())
}

pub(super) fn remove_device(
    conn: &Connection,
    user: &Username,
    device: DeviceId,
) -> Result<bool, StoreError> {
    let owned = conn
        .prepare_cached("SELECT 1 FROM devices WHERE device_id = ?1 AND username = ?2")
        .and_then(|mut st| st.exists(params![device.get() as i64, user.as_str()]))
        .map_err(backend)?;
    if owned {
        erase_devices(conn, user, Some(device))?;
    }
    Ok(owned)
}

pub(super) fn device_auth(
    conn: &Connection,
    device: DeviceId,
) -> Result<Option<DeviceAuth>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT d.username, d.secret_hash, a.last_seen_day
             FROM devices d JOIN accounts a ON a.username = d.username
             WHERE d.device_id = ?1",
        )
        .and_then(|mut st| {
            st.query_row([device.get() as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(backend)?;
    let Some((name, hash, last_seen_day)) = row else {
        return Ok(None);
    };
    let secret_hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| StoreError::Backend("invalid secret hash row".into()))?;
    Ok(Some(DeviceAuth {
        username: username(name)?,
        secret_hash,
        last_seen_day,
    }))
}

pub(super) fn touch_last_seen(
    conn: &Connection,
    user: &Username,
    day: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE accounts SET last_seen_day = ?2 WHERE username = ?1")
        .and_then(|mut st| st.execute(params![user.as_str(), day]))
        .map_err(backend)?;
    Ok(())
}

fn account_exists(conn: &Connection, user: &Username) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM accounts WHERE username = ?1 AND deleted_day IS NULL")
        .and_then(|mut st| st.exists([user.as_str()]))
        .map_err(backend)
}

pub(super) fn list_devices(
    conn: &Connection,
    user: &Username,
) -> Result<Option<Vec<DeviceRecord>>, StoreError> {
    if !account_exists(conn, user)? {
        return Ok(None);
    }
    let mut st = conn
        .prepare_cached(
            "SELECT device_id, signature_key, endorsement FROM devices WHERE username = ?1
             ORDER BY device_id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([user.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
            ))
        })
        .map_err(backend)?;
    let mut devices = Vec::new();
    for row in rows {
        let (id, signature_key, endorsement) = row.map_err(backend)?;
        devices.push(DeviceRecord {
            device_id: device_id(id)?,
            signature_key,
            endorsement: crate::store::directory::endorsement_from_row(endorsement)?,
        });
    }
    Ok(Some(devices))
}

pub(super) fn create_ws_ticket(
    conn: &Connection,
    device: DeviceId,
    hash: &[u8; 32],
    expires_ms: u64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO ws_tickets (ticket_hash, device_id, expires_ms) VALUES (?1, ?2, ?3)",
    )
    .and_then(|mut st| st.execute(params![&hash[..], device.get() as i64, expires_ms as i64]))
    .map_err(backend)?;
    Ok(())
}

pub(super) fn redeem_ws_ticket(
    conn: &Connection,
    hash: &[u8; 32],
    now_ms: u64,
) -> Result<Option<DeviceId>, StoreError> {
    let found: Option<(i64, i64)> = conn
        .prepare_cached(
            "DELETE FROM ws_tickets WHERE ticket_hash = ?1 RETURNING device_id, expires_ms",
        )
        .and_then(|mut st| {
            st.query_row([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(backend)?;
    conn.prepare_cached("DELETE FROM ws_tickets WHERE expires_ms < ?1")
        .and_then(|mut st| st.execute([now_ms as i64]))
        .map_err(backend)?;
    match found {
        Some((device, expires)) if expires as u64 >= now_ms => Ok(Some(device_id(device)?)),
        _ => Ok(None),
    }
}

/// The account's connection IP addresses, oldest first.
pub(super) fn ips_of(conn: &Connection, user: &Username) -> Result<Vec<(i64, String)>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT day, ip FROM connection_ips WHERE username = ?1 ORDER BY day, ip")
        .map_err(backend)?;
    st.query_map([user.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)
}

pub(super) fn record_ip(
    conn: &Connection,
    user: &Username,
    ip: &str,
    day: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO connection_ips (username, ip, day) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )
    .and_then(|mut st| st.execute(params![user.as_str(), ip, day]))
    .map_err(backend)?;
    Ok(())
}

/// Deletes a live account: its devices go with their keys, packages and queues; the
/// account row stays, marked, until retention erases it. False if no live account.
pub(super) fn delete_account(
    conn: &Connection,
    user: &Username,
    day: i64,
) -> Result<bool, StoreError> {
    let marked = conn
        .execute(
            "UPDATE accounts SET deleted_day = ?2, profile = NULL
             WHERE username = ?1 AND deleted_day IS NULL",
            params![user.as_str(), day],
        )
        .map_err(backend)?;
    if marked == 0 {
        return Ok(false);
    }
    erase_devices(conn, user, None)?;
    Ok(true)
}

/// Deletes the account's devices and everything hanging off them.
pub(super) fn erase_devices(
    conn: &Connection,
    user: &Username,
    only: Option<DeviceId>,
) -> Result<(), StoreError> {
    let user = user.as_str();
    let only = only.map(|d| d.get() as i64);
    prepare_release_all(conn)?;
    conn.execute(
        "INSERT INTO temp.released (id, entries) SELECT q.message_id, COUNT(*) FROM queue q
         JOIN devices d ON d.device_id = q.device_id
         WHERE d.username = ?1 AND (?2 IS NULL OR d.device_id = ?2) GROUP BY q.message_id",
        params![user, only],
    )
    .map_err(backend)?;
    const CHOSEN: &str =
        "SELECT device_id FROM devices WHERE username = ?1 AND (?2 IS NULL OR device_id = ?2)";
    for sql in [
        format!("DELETE FROM queue WHERE device_id IN ({CHOSEN})"),
        format!("DELETE FROM key_packages WHERE device_id IN ({CHOSEN})"),
        format!("DELETE FROM ws_tickets WHERE device_id IN ({CHOSEN})"),
        "DELETE FROM devices WHERE username = ?1 AND (?2 IS NULL OR device_id = ?2)".to_owned(),
    ] {
        conn.execute(&sql, params![user, only]).map_err(backend)?;
    }
    release_all(conn)
}
