//! Key packages on PostgreSQL: uploads, each device's status, claims. Every package records
//! the end of its lifetime (`not_after`, NULL for packages stored before lifetimes were): an
//! expired one is never handed out, and one expiring soon is reported so its device
//! replaces it.

use super::accounts::list_devices;
use super::rows::backend;
use super::{PostgresStore, commit};
use crate::store::error::StoreError;
use crate::store::key_packages::KeyPackageStore;
use crate::store::key_packages::clamp;
use crate::store::key_packages::{
    Claim, ClaimedPackage, KeyPackageStatus, KeyPackageTime, KeyPackageUpload,
};
use pli_proto::{DeviceId, Username};
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

impl KeyPackageStore for PostgresStore {
    async fn add_key_packages(
        &self,
        device: DeviceId,
        upload: KeyPackageUpload,
    ) -> Result<KeyPackageStatus, StoreError> {
        let mut tx = self.begin().await?;
        let status = add_key_packages(&mut tx, device, &upload).await?;
        commit(tx).await?;
        Ok(status)
    }

    async fn key_package_status(
        &self,
        device: DeviceId,
        at: KeyPackageTime,
    ) -> Result<KeyPackageStatus, StoreError> {
        key_package_status(&mut *self.conn().await?, device, at).await
    }

    async fn claim_key_packages(
        &self,
        username: &Username,
        now_s: u64,
        only: Option<DeviceId>,
    ) -> Result<Option<Claim>, StoreError> {
        let mut tx = self.begin().await?;
        let claimed = claim_key_packages(&mut tx, username, now_s, only).await?;
        commit(tx).await?;
        Ok(claimed)
    }
}

pub(super) async fn key_package_status(
    conn: &mut PgConnection,
    device: DeviceId,
    at: KeyPackageTime,
) -> Result<KeyPackageStatus, StoreError> {
    let (now, renew_before) = at.sql();
    let row = sqlx::query(
        "SELECT COUNT(*) FILTER (WHERE NOT k.last_resort),
                COUNT(*) FILTER (WHERE NOT k.last_resort AND k.soon),
                COUNT(*) FILTER (WHERE k.last_resort),
                COUNT(*) FILTER (WHERE k.last_resort AND k.soon)
         FROM devices d
         LEFT JOIN (SELECT device_id, last_resort,
                           (not_after IS NULL OR not_after <= $3) AS soon
                    FROM key_packages WHERE device_id = $1
                    AND (not_after IS NULL OR not_after > $2)) k ON k.device_id = d.device_id
         WHERE d.device_id = $1
         GROUP BY d.device_id",
    )
    .bind(device.get() as i64)
    .bind(now)
    .bind(renew_before)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?
    .ok_or(StoreError::UnknownDevice)?;
    let count = |i: usize| -> Result<u64, StoreError> {
        Ok(row.try_get::<i64, _>(i).map_err(backend)? as u64)
    };
    Ok(KeyPackageStatus {
        available: count(0)?,
        expiring: count(1)?,
        has_last_resort: count(2)? > 0,
        last_resort_expiring: count(3)? > 0,
    })
}

pub(super) async fn add_key_packages(
    tx: &mut PgConnection,
    device: DeviceId,
    upload: &KeyPackageUpload,
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
    let (now, renew_before) = upload.at.sql();
    let gone_by = if upload.replace_expiring {
        renew_before
    } else {
        now
    };
    // Expired (or, when replaced, expiring) one-time packages go first: no claim can use
    // them, and they would hold the slots their replacements need.
    sqlx::query(
        "DELETE FROM key_packages WHERE device_id = $1 AND NOT last_resort
         AND (not_after <= $2 OR ($3 AND not_after IS NULL))",
    )
    .bind(id)
    .bind(gone_by)
    .bind(upload.replace_expiring)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    let before = key_package_status(tx, device, upload.at).await?;
    if before.available as usize + upload.one_time.len() > upload.max_one_time {
        return Err(StoreError::TooManyKeyPackages);
    }
    if !upload.one_time.is_empty() {
        let data: Vec<&[u8]> = upload.one_time.iter().map(|p| p.data.as_slice()).collect();
        let not_after: Vec<i64> = upload.one_time.iter().map(|p| clamp(p.not_after)).collect();
        sqlx::query(
            "INSERT INTO key_packages (device_id, data, last_resort, not_after)
             SELECT $1, data, FALSE, not_after
             FROM UNNEST($2::bytea[], $3::bigint[]) WITH ORDINALITY AS t(data, not_after, n)
             ORDER BY n",
        )
        .bind(id)
        .bind(data)
        .bind(not_after)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    if let Some(package) = &upload.last_resort {
        sqlx::query("DELETE FROM key_packages WHERE device_id = $1 AND last_resort")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO key_packages (device_id, data, last_resort, not_after)
             VALUES ($1, $2, TRUE, $3)",
        )
        .bind(id)
        .bind(&package.data)
        .bind(clamp(package.not_after))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    key_package_status(tx, device, upload.at).await
}

pub(super) async fn claim_key_packages(
    tx: &mut PgConnection,
    user: &Username,
    now_s: u64,
    only: Option<DeviceId>,
) -> Result<Option<Claim>, StoreError> {
    let Some(devices) = list_devices(tx, user).await? else {
        return Ok(None);
    };
    let now = clamp(now_s);
    let mut claim = Claim::default();
    let chosen = devices
        .into_iter()
        .filter(|d| only.is_none_or(|only| d.device_id == only));
    for device in chosen {
        let id = device.device_id.get() as i64;
        // Oldest valid one-time package first; SKIP LOCKED hands a concurrent claim the next
        // one instead of the same one. Expired ones are passed over.
        let one_time = sqlx::query(
            "DELETE FROM key_packages WHERE id = (
                 SELECT id FROM key_packages WHERE device_id = $1 AND NOT last_resort
                 AND (not_after IS NULL OR not_after > $2)
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING data",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let (row, last_resort) = match one_time {
            Some(row) => (Some(row), false),
            None => (
                sqlx::query(
                    "SELECT data FROM key_packages WHERE device_id = $1 AND last_resort
                     AND (not_after IS NULL OR not_after > $2)",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?,
                true,
            ),
        };
        match row {
            Some(row) => claim.packages.push(ClaimedPackage {
                device_id: device.device_id,
                key_package: row.try_get(0).map_err(backend)?,
                last_resort,
            }),
            None => {
                let expired: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM key_packages
                                    WHERE device_id = $1 AND not_after <= $2)",
                )
                .bind(id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                if expired {
                    claim.expired_devices.push(device.device_id);
                }
            }
        }
    }
    Ok(Some(claim))
}
