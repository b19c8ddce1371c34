//! Accounts and devices on PostgreSQL: registration, authentication, device lists,
//! WebSocket tickets, connection IP addresses, and deletion (a device's queue rows, key
//! packages and tickets go with it). Each runs on one pooled connection or transaction.

use super::rows::{backend, device_id, is_unique_violation, username};
use super::{PostgresStore, commit};
use crate::store::accounts::{AccountStore, DeviceAuth, DeviceRecord, NewAccount, NewDevice};
use crate::store::error::StoreError;
use pli_proto::{DeviceId, Username};
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

impl AccountStore for PostgresStore {
    async fn add_device(&self, username: &Username, device: NewDevice) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        add_device(&mut tx, username, &device).await?;
        commit(tx).await
    }

    async fn remove_device(
        &self,
        username: &Username,
        device: DeviceId,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let removed = remove_device(&mut tx, username, device).await?;
        commit(tx).await?;
        Ok(removed)
    }

    async fn create_account(&self, account: NewAccount) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        create_account(&mut tx, &account).await?;
        commit(tx).await
    }

    async fn device_auth(&self, device: DeviceId) -> Result<Option<DeviceAuth>, StoreError> {
        device_auth(&mut *self.conn().await?, device).await
    }

    async fn touch_last_seen(&self, username: &Username, day: i64) -> Result<(), StoreError> {
        touch_last_seen(&mut *self.conn().await?, username, day).await
    }

    async fn list_devices(
        &self,
        username: &Username,
    ) -> Result<Option<Vec<DeviceRecord>>, StoreError> {
        list_devices(&mut *self.conn().await?, username).await
    }

    async fn create_ws_ticket(
        &self,
        device: DeviceId,
        ticket_hash: [u8; 32],
        expires_ms: u64,
    ) -> Result<(), StoreError> {
        create_ws_ticket(&mut *self.conn().await?, device, &ticket_hash, expires_ms).await
    }

    async fn redeem_ws_ticket(
        &self,
        ticket_hash: [u8; 32],
        now_ms: u64,
    ) -> Result<Option<DeviceId>, StoreError> {
        let mut tx = self.begin().await?;
        let device = redeem_ws_ticket(&mut tx, &ticket_hash, now_ms).await?;
        commit(tx).await?;
        Ok(device)
    }

    async fn record_ip(&self, username: &Username, ip: &str, day: i64) -> Result<(), StoreError> {
        record_ip(&mut *self.conn().await?, username, ip, day).await
    }

    async fn set_profile(
        &self,
        username: &Username,
        profile: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let changed = sqlx::query(
            "UPDATE accounts SET profile = $2 WHERE username = $1 AND deleted_day IS NULL",
        )
        .bind(username.as_str())
        .bind(profile)
        .execute(&mut *self.conn().await?)
        .await
        .map_err(backend)?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::UnknownAccount);
        }
        Ok(())
    }

    async fn profile(&self, username: &Username) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
            "SELECT profile FROM accounts WHERE username = $1 AND deleted_day IS NULL",
        )
        .bind(username.as_str())
        .fetch_optional(&mut *self.conn().await?)
        .await
        .map_err(backend)?;
        Ok(row.and_then(|(profile,)| profile))
    }

    async fn delete_account(&self, username: &Username, day: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let deleted = delete_account(&mut tx, username, day).await?;
        commit(tx).await?;
        Ok(deleted)
    }
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

pub(super) async fn add_device(
    tx: &mut PgConnection,
    user: &Username,
    d: &NewDevice,
) -> Result<(), StoreError> {
    let live: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM accounts WHERE username = $1 AND deleted_day IS NULL FOR UPDATE",
    )
    .bind(user.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    if live.is_none() {
        return Err(StoreError::UnknownAccount);
    }
    sqlx::query(
        "INSERT INTO devices (device_id, username, secret_hash, signature_key, endorsement)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(d.device_id.get() as i64)
    .bind(user.as_str())
    .bind(&d.secret_hash[..])
    .bind(&d.signature_key)
    .bind(crate::store::directory::endorsement_to_row(&d.endorsement))
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::DeviceIdTaken
        } else {
            backend(e)
        }
    })?;
    Ok(())
}

pub(super) async fn remove_device(
    tx: &mut PgConnection,
    user: &Username,
    device: DeviceId,
) -> Result<bool, StoreError> {
    let owned: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM devices WHERE device_id = $1 AND username = $2")
            .bind(device.get() as i64)
            .bind(user.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
    if owned.is_some() {
        erase_devices(tx, user, Some(device)).await?;
    }
    Ok(owned.is_some())
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
    let exists = sqlx::query("SELECT 1 FROM accounts WHERE username = $1 AND deleted_day IS NULL")
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    if exists.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT device_id, signature_key, endorsement FROM devices WHERE username = $1
         ORDER BY device_id",
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
                endorsement: crate::store::directory::endorsement_from_row(
                    r.try_get(2).map_err(backend)?,
                )?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
        .map(Some)
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

/// The account's connection IP addresses, oldest first.
pub(super) async fn ips_of(
    conn: &mut PgConnection,
    user: &Username,
) -> Result<Vec<(i64, String)>, StoreError> {
    sqlx::query_as("SELECT day, ip FROM connection_ips WHERE username = $1 ORDER BY day, ip")
        .bind(user.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn record_ip(
    conn: &mut PgConnection,
    user: &Username,
    ip: &str,
    day: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO connection_ips (username, ip, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(user.as_str())
    .bind(ip)
    .bind(day)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Deletes a live account: its devices go with their keys, packages and queues; the
/// account row stays, marked, until retention erases it. False if no live account.
pub(super) async fn delete_account(
    tx: &mut PgConnection,
    user: &Username,
    day: i64,
) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE accounts SET deleted_day = $2, profile = NULL
         WHERE username = $1 AND deleted_day IS NULL",
    )
    .bind(user.as_str())
    .bind(day)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    if marked.rows_affected() == 0 {
        return Ok(false);
    }
    erase_devices(tx, user, None).await?;
    Ok(true)
}

/// Deletes the account's devices and everything hanging off them.
pub(super) async fn erase_devices(
    tx: &mut PgConnection,
    user: &Username,
    only: Option<DeviceId>,
) -> Result<(), StoreError> {
    let user = user.as_str();
    let only = only.map(|d| d.get() as i64);
    let messages: Vec<i64> = sqlx::query_scalar(
        "SELECT q.message_id FROM queue q JOIN devices d ON d.device_id = q.device_id
         WHERE d.username = $1 AND ($2::bigint IS NULL OR d.device_id = $2)",
    )
    .bind(user)
    .bind(only)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    for sql in [
        "DELETE FROM queue WHERE device_id IN (SELECT device_id FROM devices
           WHERE username = $1 AND ($2::bigint IS NULL OR device_id = $2))",
        "DELETE FROM key_packages WHERE device_id IN (SELECT device_id FROM devices
           WHERE username = $1 AND ($2::bigint IS NULL OR device_id = $2))",
        "DELETE FROM ws_tickets WHERE device_id IN (SELECT device_id FROM devices
           WHERE username = $1 AND ($2::bigint IS NULL OR device_id = $2))",
        "DELETE FROM devices WHERE username = $1 AND ($2::bigint IS NULL OR device_id = $2)",
    ] {
        sqlx::query(sql)
            .bind(user)
            .bind(only)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
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
