//! Row helpers every PostgreSQL domain file shares: the error mapping (what is worth a
//! retry), and the checked reads of ids and names.

use crate::store::error::StoreError;
use pli_proto::{DeviceId, Username};

/// Waiting for a connection, or losing one, is worth a retry; anything else is a failure.
/// A commit whose connection dropped may or may not have landed: a client's retry is safe,
/// since a repeated MLS message is shown once by its receivers and a repeated commit meets
/// the moved epoch.
pub(super) fn backend(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable
        }
        sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_transient) => {
            StoreError::Unavailable
        }
        other => StoreError::Backend(other.to_string()),
    }
}

/// SQLSTATEs that say "not now" rather than "wrong": connection exceptions (class 08),
/// serialization failure and deadlock victim, too many connections, statement timeout
/// (query canceled), and a server shutting down or starting.
fn is_transient(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "40001" | "40P01" | "53300" | "57014" | "57P01" | "57P03"
        )
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

pub(super) fn ids(devices: &[DeviceId]) -> Vec<i64> {
    devices.iter().map(|d| d.get() as i64).collect()
}
