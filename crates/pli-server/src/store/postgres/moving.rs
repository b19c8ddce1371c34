//! Residency on PostgreSQL: the global username → region index, moving an account between
//! regions' databases, and the retention sweep. The export, import, erase and sweep each
//! run inside the caller's transaction.

use super::accounts::{erase_devices, ips_of};
use super::moderation::erase_moderation;
use super::queue::{enqueue_notice, take_off_queues};
use super::rows::{backend, device_id};
use super::{PostgresStore, commit};
use crate::store::error::StoreError;
use crate::store::moving::ResidencyStore;
use crate::store::moving::{
    AccountExport, ExportedDevice, ExportedKeyPackage, ExportedMessage, Retention, RetentionReport,
};
use pli_proto::Region;
use pli_proto::Username;
use sqlx::postgres::PgConnection;

impl ResidencyStore for PostgresStore {
    async fn claim_username(&self, username: &Username, region: &Region) -> Result<(), StoreError> {
        claim_username(&mut *self.conn().await?, username, region).await
    }

    async fn home_region(&self, username: &Username) -> Result<Option<Region>, StoreError> {
        home_region(&mut *self.conn().await?, username).await
    }

    async fn regions_in_use(&self) -> Result<Vec<Region>, StoreError> {
        regions_in_use(&mut *self.conn().await?).await
    }

    async fn release_username(&self, username: &Username) -> Result<(), StoreError> {
        release_username(&mut *self.conn().await?, username).await
    }

    async fn set_home_region(
        &self,
        username: &Username,
        region: &Region,
    ) -> Result<(), StoreError> {
        set_home_region(&mut *self.conn().await?, username, region).await
    }

    async fn export_account(
        &self,
        username: &Username,
    ) -> Result<Option<AccountExport>, StoreError> {
        let mut tx = self.begin().await?;
        let export = export_account(&mut tx, username).await?;
        commit(tx).await?;
        Ok(export)
    }

    async fn import_account(&self, account: AccountExport) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        import_account(&mut tx, &account).await?;
        commit(tx).await?;
        self.notifier
            .wake(account.devices.iter().map(|d| d.device_id).collect());
        Ok(())
    }

    async fn erase_account(&self, username: &Username) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        erase_account(&mut tx, username).await?;
        commit(tx).await
    }

    async fn expire(&self, retention: Retention) -> Result<RetentionReport, StoreError> {
        let mut tx = self.begin().await?;
        let report = expire(&mut tx, &retention).await?;
        commit(tx).await?;
        Ok(report)
    }
}

type MessageRow = (i64, i16, Vec<u8>, i64, i64);

pub(super) async fn export_account(
    tx: &mut PgConnection,
    user: &Username,
) -> Result<Option<AccountExport>, StoreError> {
    type AccountRow = (i64, Option<i64>, Option<Vec<u8>>);
    let account: Option<AccountRow> = sqlx::query_as(
        "SELECT created_day, last_seen_day, profile FROM accounts WHERE username = $1",
    )
    .bind(user.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some((created_day, last_seen_day, profile)) = account else {
        return Ok(None);
    };
    type DeviceRow = (i64, Vec<u8>, Vec<u8>, Option<Vec<u8>>);
    let rows: Vec<DeviceRow> = sqlx::query_as(
        "SELECT device_id, secret_hash, signature_key, endorsement FROM devices
         WHERE username = $1 ORDER BY device_id",
    )
    .bind(user.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let mut devices = Vec::with_capacity(rows.len());
    for (id, secret, signature_key, endorsement) in rows {
        devices.push(ExportedDevice {
            device_id: device_id(id)?,
            secret_hash: secret
                .try_into()
                .map_err(|_| StoreError::Backend("invalid secret hash row".into()))?,
            signature_key,
            endorsement: crate::store::directory::endorsement_from_row(endorsement)?,
        });
    }
    let rows: Vec<(i64, Vec<u8>, bool, Option<i64>)> = sqlx::query_as(
        "SELECT k.device_id, k.data, k.last_resort, k.not_after FROM key_packages k
         JOIN devices d ON d.device_id = k.device_id WHERE d.username = $1 ORDER BY k.id",
    )
    .bind(user.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let mut key_packages = Vec::with_capacity(rows.len());
    for (id, data, last_resort, not_after) in rows {
        key_packages.push(ExportedKeyPackage {
            device_id: device_id(id)?,
            data,
            last_resort,
            not_after: not_after.map(|t| t.max(0) as u64),
        });
    }
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.id, m.kind, m.payload, m.created_ms, q.device_id FROM queue q
         JOIN messages m ON m.id = q.message_id
         JOIN devices d ON d.device_id = q.device_id
         WHERE d.username = $1 ORDER BY m.id, q.device_id",
    )
    .bind(user.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let mut queued: Vec<ExportedMessage> = Vec::new();
    let mut last_id = None;
    for (id, kind, payload, created_ms, device) in rows {
        match queued.last_mut() {
            Some(message) if last_id == Some(id) => message.devices.push(device_id(device)?),
            _ => queued.push(ExportedMessage {
                kind: kind as u8,
                payload,
                created_ms: created_ms as u64,
                devices: vec![device_id(device)?],
            }),
        }
        last_id = Some(id);
    }
    let preserved_until_ms: Option<i64> =
        sqlx::query_scalar("SELECT until_ms FROM preservation_holds WHERE username = $1")
            .bind(user.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
    let rows: Vec<(String, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT request_id, payload, release_ms FROM pending_notices
         WHERE username = $1 ORDER BY notice_id",
    )
    .bind(user.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(Some(AccountExport {
        ips: ips_of(tx, user).await?,
        username: user.clone(),
        created_day,
        last_seen_day,
        devices,
        key_packages,
        queued,
        preserved_until_ms: preserved_until_ms.map(|ms| ms as u64),
        notices: rows
            .into_iter()
            .map(|(id, payload, release)| (id, payload, release as u64))
            .collect(),
        profile,
    }))
}

async fn run(tx: &mut PgConnection, sql: &'static str, user: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(sql)
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected())
}

pub(super) async fn import_account(
    tx: &mut PgConnection,
    a: &AccountExport,
) -> Result<(), StoreError> {
    erase_account(tx, &a.username).await?;
    let user = a.username.as_str();
    sqlx::query(
        "INSERT INTO accounts (username, created_day, last_seen_day, profile)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(user)
    .bind(a.created_day)
    .bind(a.last_seen_day)
    .bind(&a.profile)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    for d in &a.devices {
        sqlx::query(
            "INSERT INTO devices (device_id, username, secret_hash, signature_key, endorsement)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(d.device_id.get() as i64)
        .bind(user)
        .bind(&d.secret_hash[..])
        .bind(&d.signature_key)
        .bind(
            d.endorsement
                .as_ref()
                .map(crate::store::directory::endorsement_to_row),
        )
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    for k in &a.key_packages {
        sqlx::query(
            "INSERT INTO key_packages (device_id, data, last_resort, not_after)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(k.device_id.get() as i64)
        .bind(&k.data)
        .bind(k.last_resort)
        .bind(k.not_after.map(crate::store::key_packages::clamp))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    for m in &a.queued {
        // Stamped with its original time: the message keeps its age, and so its expiry.
        enqueue_notice(
            tx,
            m.kind,
            &m.payload,
            &m.devices,
            m.created_ms,
            i64::MAX as u64,
        )
        .await?;
    }
    if let Some(until) = a.preserved_until_ms {
        sqlx::query("INSERT INTO preservation_holds (username, until_ms) VALUES ($1, $2)")
            .bind(user)
            .bind(until as i64)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    for (day, ip) in &a.ips {
        sqlx::query("INSERT INTO connection_ips (username, ip, day) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(ip)
            .bind(day)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    for (request_id, payload, release_ms) in &a.notices {
        sqlx::query(
            "INSERT INTO pending_notices (request_id, username, payload, release_ms)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(request_id)
        .bind(user)
        .bind(payload)
        .bind(*release_ms as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

/// Everything the store holds of the account, its trust & safety actions and standing too
/// (`super::moderation`): they are its data, so they go with its row, on a move's old copy
/// and on retention's erasure of a deleted account alike.
pub(super) async fn erase_account(
    tx: &mut PgConnection,
    user: &Username,
) -> Result<(), StoreError> {
    erase_devices(tx, user, None).await?;
    erase_moderation(tx, user).await?;
    let user = user.as_str();
    run(tx, "DELETE FROM accounts WHERE username = $1", user).await?;
    run(
        tx,
        "DELETE FROM preservation_holds WHERE username = $1",
        user,
    )
    .await?;
    run(tx, "DELETE FROM pending_notices WHERE username = $1", user).await?;
    run(tx, "DELETE FROM connection_ips WHERE username = $1", user).await?;
    Ok(())
}

pub(super) async fn expire(
    tx: &mut PgConnection,
    r: &Retention,
) -> Result<RetentionReport, StoreError> {
    let (now, before) = (r.now_ms as i64, r.cutoffs.queue_before_ms as i64);
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT username FROM accounts WHERE deleted_day <= $2 AND username NOT IN
           (SELECT username FROM preservation_holds WHERE until_ms > $1)",
    )
    .bind(now)
    .bind(r.cutoffs.deleted_through_day)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let mut erased_accounts = Vec::with_capacity(names.len());
    for name in names {
        let user = super::rows::username(name)?;
        erase_account(tx, &user).await?;
        erased_accounts.push(user);
    }
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM queue q JOIN messages m ON m.id = q.message_id
         JOIN devices d ON d.device_id = q.device_id
         JOIN preservation_holds h ON h.username = d.username AND h.until_ms > $1
         WHERE m.created_ms < $2",
    )
    .bind(now)
    .bind(before)
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    let expired: Vec<(i64, i64)> = sqlx::query_as(
        "DELETE FROM queue q USING messages m, devices d
          WHERE m.id = q.message_id AND d.device_id = q.device_id AND m.created_ms < $2
            AND NOT EXISTS (SELECT 1 FROM preservation_holds h
                             WHERE h.username = d.username AND h.until_ms > $1)
         RETURNING q.device_id, q.message_id",
    )
    .bind(now)
    .bind(before)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    take_off_queues(tx, &expired).await?;
    let expired_ips = sqlx::query(
        "DELETE FROM connection_ips WHERE day < $2 AND username NOT IN
           (SELECT username FROM preservation_holds WHERE until_ms > $1)",
    )
    .bind(now)
    .bind(r.cutoffs.ip_before_day)
    .execute(&mut *tx)
    .await
    .map_err(backend)?
    .rows_affected();
    let expired_holds = sqlx::query("DELETE FROM preservation_holds WHERE until_ms <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
    Ok(RetentionReport {
        erased_accounts,
        expired_queue_entries: expired.len() as u64,
        held_queue_entries: held as u64,
        expired_holds,
        expired_ips,
        expired_reports: 0,
    })
}

pub(super) async fn claim_username(
    conn: &mut PgConnection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO home_regions (username, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(username.as_str())
    .bind(region.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::UsernameTaken);
    }
    Ok(())
}

pub(super) async fn set_home_region(
    conn: &mut PgConnection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO home_regions (username, region) VALUES ($1, $2)
         ON CONFLICT (username) DO UPDATE SET region = excluded.region",
    )
    .bind(username.as_str())
    .bind(region.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn home_region(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<Option<Region>, StoreError> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT region FROM home_regions WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    raw.map(|r| Region::parse(&r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .transpose()
}

pub(super) async fn regions_in_use(conn: &mut PgConnection) -> Result<Vec<Region>, StoreError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT region FROM home_regions ORDER BY region")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    names
        .iter()
        .map(|r| Region::parse(r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .collect()
}

pub(super) async fn release_username(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM home_regions WHERE username = $1")
        .bind(username.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}
