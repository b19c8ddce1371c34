//! SQL for staff members' second factors (`staff_totp`).

use super::SqliteStore;
use super::rows::backend;
use crate::store::error::StoreError;
use crate::store::second_factors::{SecondFactorStore, StaffTotp, TotpEnrolment};
use rusqlite::{Connection, OptionalExtension, params};

impl SecondFactorStore for SqliteStore {
    async fn staff_totp(&self, staff_id: u64) -> Result<Option<StaffTotp>, StoreError> {
        self.read(move |c| staff_totp(c, staff_id)).await
    }

    async fn spend_totp_step(&self, staff_id: u64, step: u64) -> Result<bool, StoreError> {
        self.write(move |c| spend_totp_step(c, staff_id, step))
            .await
    }
}

pub(super) fn staff_totp(
    conn: &Connection,
    staff_id: u64,
) -> Result<Option<StaffTotp>, StoreError> {
    conn.prepare_cached("SELECT secret, last_step FROM staff_totp WHERE staff_id = ?1")
        .and_then(|mut st| {
            st.query_row([staff_id as i64], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()
        })
        .map_err(backend)
        .map(|row| {
            row.map(|(secret, last_step)| StaffTotp {
                staff_id,
                secret,
                last_step: last_step as u64,
            })
        })
}

/// The one writer thread applies writes one at a time, so the comparison and the update
/// are one step.
pub(super) fn spend_totp_step(
    conn: &Connection,
    staff_id: u64,
    step: u64,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE staff_totp SET last_step = ?2 WHERE staff_id = ?1 AND last_step < ?2",
        )
        .and_then(|mut st| st.execute(params![staff_id as i64, step as i64]))
        .map_err(backend)?;
    Ok(changed == 1)
}

/// Part of a governance commit: the enrolment lands with its audit entry.
pub(super) fn enrol(conn: &Connection, enrolment: &TotpEnrolment) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO staff_totp (staff_id, secret, last_step) VALUES (?1, ?2, ?3)")
        .and_then(|mut st| {
            st.execute(params![
                enrolment.staff_id as i64,
                enrolment.secret,
                enrolment.last_step as i64
            ])
        })
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::TotpEnrolled
            }
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                StoreError::UnknownStaff
            }
            other => backend(other),
        })?;
    Ok(())
}
