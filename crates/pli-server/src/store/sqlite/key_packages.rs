//! Key packages on SQLite: uploads, each device's status, claims. Every package records the
//! end of its lifetime (`not_after`, NULL for packages stored before lifetimes were): an
//! expired one is never handed out, and one expiring soon is reported so its device
//! replaces it.

use super::SqliteStore;
use super::accounts::list_devices;
use super::rows::backend;
use crate::store::error::StoreError;
use crate::store::key_packages::KeyPackageStore;
use crate::store::key_packages::clamp;
use crate::store::key_packages::{
    Claim, ClaimedPackage, KeyPackageStatus, KeyPackageTime, KeyPackageUpload,
};
use pli_proto::{DeviceId, Username};
use rusqlite::{Connection, OptionalExtension, params};

impl KeyPackageStore for SqliteStore {
    async fn add_key_packages(
        &self,
        device: DeviceId,
        upload: KeyPackageUpload,
    ) -> Result<KeyPackageStatus, StoreError> {
        self.write(move |c| add_key_packages(c, device, &upload))
            .await
    }

    async fn key_package_status(
        &self,
        device: DeviceId,
        at: KeyPackageTime,
    ) -> Result<KeyPackageStatus, StoreError> {
        self.read(move |c| key_package_status(c, device, at)).await
    }

    async fn claim_key_packages(
        &self,
        username: &Username,
        now_s: u64,
        only: Option<DeviceId>,
    ) -> Result<Option<Claim>, StoreError> {
        let username = username.clone();
        self.write(move |c| claim_key_packages(c, &username, now_s, only))
            .await
    }
}

/// A row is valid at `?2` unless its `not_after` has passed.
const VALID: &str = "(not_after IS NULL OR not_after > ?2)";

pub(super) fn key_package_status(
    conn: &Connection,
    device: DeviceId,
    at: KeyPackageTime,
) -> Result<KeyPackageStatus, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM devices WHERE device_id = ?1")
        .and_then(|mut st| st.exists([device.get() as i64]))
        .map_err(backend)?;
    if !exists {
        return Err(StoreError::UnknownDevice);
    }
    let (now, renew_before) = at.sql();
    let counts: (i64, i64, i64, i64) = conn
        .prepare_cached(&format!(
            "SELECT COALESCE(SUM(last_resort = 0), 0), COALESCE(SUM(last_resort = 0 AND soon), 0),
                    COALESCE(SUM(last_resort = 1), 0), COALESCE(SUM(last_resort = 1 AND soon), 0)
             FROM (SELECT last_resort, (not_after IS NULL OR not_after <= ?3) AS soon
                   FROM key_packages WHERE device_id = ?1 AND {VALID})"
        ))
        .and_then(|mut st| {
            st.query_row(params![device.get() as i64, now, renew_before], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
        })
        .map_err(backend)?;
    Ok(KeyPackageStatus {
        available: counts.0 as u64,
        expiring: counts.1 as u64,
        has_last_resort: counts.2 > 0,
        last_resort_expiring: counts.3 > 0,
    })
}

pub(super) fn add_key_packages(
    conn: &Connection,
    device: DeviceId,
    upload: &KeyPackageUpload,
) -> Result<KeyPackageStatus, StoreError> {
    // Checks that the device exists before anything is written.
    key_package_status(conn, device, upload.at)?;
    let id = device.get() as i64;
    let (now, renew_before) = upload.at.sql();
    let gone_by = if upload.replace_expiring {
        renew_before
    } else {
        now
    };
    // Expired (or, when replaced, expiring) one-time packages go first: no claim can use
    // them, and they would hold the slots their replacements need.
    conn.prepare_cached(
        "DELETE FROM key_packages WHERE device_id = ?1 AND last_resort = 0
         AND (not_after <= ?2 OR (?3 AND not_after IS NULL))",
    )
    .and_then(|mut st| st.execute(params![id, gone_by, upload.replace_expiring]))
    .map_err(backend)?;
    let before = key_package_status(conn, device, upload.at)?;
    if before.available as usize + upload.one_time.len() > upload.max_one_time {
        return Err(StoreError::TooManyKeyPackages);
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO key_packages (device_id, data, last_resort, not_after)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?;
    for package in &upload.one_time {
        insert
            .execute(params![id, package.data, 0, clamp(package.not_after)])
            .map_err(backend)?;
    }
    if let Some(package) = &upload.last_resort {
        conn.prepare_cached("DELETE FROM key_packages WHERE device_id = ?1 AND last_resort = 1")
            .and_then(|mut st| st.execute([id]))
            .map_err(backend)?;
        insert
            .execute(params![id, package.data, 1, clamp(package.not_after)])
            .map_err(backend)?;
    }
    key_package_status(conn, device, upload.at)
}

pub(super) fn claim_key_packages(
    conn: &Connection,
    user: &Username,
    now_s: u64,
    only: Option<DeviceId>,
) -> Result<Option<Claim>, StoreError> {
    let Some(devices) = list_devices(conn, user)? else {
        return Ok(None);
    };
    let now = clamp(now_s);
    let mut claim = Claim::default();
    let chosen = devices
        .into_iter()
        .filter(|d| only.is_none_or(|only| d.device_id == only));
    for device in chosen {
        let id = device.device_id.get() as i64;
        // One-time packages first (oldest first); the last-resort one only when none is
        // left. Expired ones are passed over.
        let row: Option<(i64, Vec<u8>, bool)> = conn
            .prepare_cached(&format!(
                "SELECT id, data, last_resort FROM key_packages WHERE device_id = ?1 AND {VALID}
                 ORDER BY last_resort, id LIMIT 1"
            ))
            .and_then(|mut st| {
                st.query_row(params![id, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
            .map_err(backend)?;
        let Some((row_id, key_package, last_resort)) = row else {
            let expired = conn
                .prepare_cached("SELECT 1 FROM key_packages WHERE device_id = ?1")
                .and_then(|mut st| st.exists([id]))
                .map_err(backend)?;
            if expired {
                claim.expired_devices.push(device.device_id);
            }
            continue;
        };
        if !last_resort {
            conn.prepare_cached("DELETE FROM key_packages WHERE id = ?1")
                .and_then(|mut st| st.execute([row_id]))
                .map_err(backend)?;
        }
        claim.packages.push(ClaimedPackage {
            device_id: device.device_id,
            key_package,
            last_resort,
        });
    }
    Ok(Some(claim))
}
