//! SQL for staff members' second factors (`staff_totp`).

use super::PostgresStore;
use super::rows::{backend, is_unique_violation};
use crate::store::error::StoreError;
use crate::store::second_factors::{SecondFactorStore, StaffTotp, TotpEnrolment};
use sqlx::postgres::PgConnection;

impl SecondFactorStore for PostgresStore {
    async fn staff_totp(&self, staff_id: u64) -> Result<Option<StaffTotp>, StoreError> {
        let row: Option<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT secret, last_step FROM staff_totp WHERE staff_id = $1")
                .bind(staff_id as i64)
                .fetch_optional(&mut *self.conn().await?)
                .await
                .map_err(backend)?;
        Ok(row.map(|(secret, last_step)| StaffTotp {
            staff_id,
            secret,
            last_step: last_step as u64,
        }))
    }

    /// One statement: the row lock makes the comparison and the update one step across
    /// nodes.
    async fn spend_totp_step(&self, staff_id: u64, step: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE staff_totp SET last_step = $2 WHERE staff_id = $1 AND last_step < $2",
        )
        .bind(staff_id as i64)
        .bind(step as i64)
        .execute(&mut *self.conn().await?)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }
}

/// Part of a governance commit: the enrolment lands with its audit entry.
pub(super) async fn enrol(
    tx: &mut PgConnection,
    enrolment: &TotpEnrolment,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO staff_totp (staff_id, secret, last_step) VALUES ($1, $2, $3)")
        .bind(enrolment.staff_id as i64)
        .bind(&enrolment.secret)
        .bind(enrolment.last_step as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            let foreign_key =
                matches!(&e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23503"));
            if is_unique_violation(&e) {
                StoreError::TotpEnrolled
            } else if foreign_key {
                StoreError::UnknownStaff
            } else {
                backend(e)
            }
        })?;
    Ok(())
}
