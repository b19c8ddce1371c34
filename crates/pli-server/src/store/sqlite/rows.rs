//! Row helpers every SQLite domain file shares: the error mapping, and the checked reads
//! of ids and names.

use crate::store::error::StoreError;
use pli_proto::{DeviceId, Username};

pub(super) fn backend(err: rusqlite::Error) -> StoreError {
    StoreError::Backend(err.to_string())
}

pub(super) fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

pub(super) fn device_id(raw: i64) -> Result<DeviceId, StoreError> {
    DeviceId::new(raw as u64).map_err(|_| StoreError::Backend("invalid device id row".into()))
}

pub(super) fn username(raw: String) -> Result<Username, StoreError> {
    Username::parse(&raw).map_err(|_| StoreError::Backend("invalid username row".into()))
}
