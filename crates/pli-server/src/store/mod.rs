//! Storage as domain operations, behind one trait.
//!
//! Callers speak in messaging terms (`submit`, `fetch_queue`, `ack`, `claim_key_packages`),
//! never in rows, so a backend is free to batch, index and lock as its engine prefers. Each
//! operation that writes several rows is one transaction. The contract, shared by every
//! backend and checked by [`conformance`]: `Ok(None)` means "absent", `Err` means the
//! operation failed and changed nothing.
//!
//! - [`sqlite`]: the embedded backend (one file, one writer thread with group commit).
//! - [`postgres`]: the backend for several nodes on one database (sqlx, LISTEN/NOTIFY).
//! - [`directory`]: the key directory's records (akd's tree, value states, roots).
//! - [`governance`]: the records of staff, audit log, lawful requests and notices.
//! - [`key_packages`]: key package records: uploads with their lifetimes, each device's
//!   status (valid and expiring packages), claims.
//! - [`conformance`]: the behaviour suite every backend must pass.

pub mod accounts;
pub mod columns;
pub mod directory;
mod error;
pub mod governance;
pub mod key_packages;
pub mod leases;
pub mod moving;
pub mod postgres;
pub mod queue;
pub mod sqlite;

#[cfg(test)]
pub mod conformance;

use pli_proto::{Region, Username};
use std::future::Future;

pub use accounts::{AccountStore, DeviceAuth, DeviceRecord, NewAccount, NewDevice};
pub use directory::{
    DirectoryStore, KtNodeRow, KtPending, KtRecord, KtRoot, KtState, endorsement_from_row,
    endorsement_to_row,
};
pub use error::StoreError;
pub use governance::{
    AuditAppend, GovernanceEffect, GovernanceStore, InventoryRecord, NewNotice, PendingNotice,
    ReleaseNotice, StaffChange, StaffRecord,
};
pub use key_packages::{
    Claim, ClaimedPackage, KeyPackageStatus, KeyPackageStore, KeyPackageTime, KeyPackageUpload,
    NewKeyPackage,
};
pub use leases::LeaseStore;
pub use moving::{
    AccountExport, Cutoffs, ExportedDevice, ExportedKeyPackage, ExportedMessage, MoveReport,
    Retention, RetentionReport,
};
pub use postgres::{PostgresConfig, PostgresStore};
pub use queue::{
    Accepted, EpochRule, QueueStore, Queued, RemoteWake, STORED_TIME_MS, Submission, WakeSink,
    stored_time,
};
pub use sqlite::SqliteStore;

/// The domain traits and [`Store`], for code that calls store operations on a concrete
/// backend (generic code bound by `S: Store` sees every domain's methods already).
pub mod prelude {
    pub use super::{
        AccountStore, DirectoryStore, GovernanceStore, KeyPackageStore, LeaseStore, QueueStore,
        Store,
    };
}

/// Everything the server persists, as domain operations. Generic callers take `S: Store`;
/// the backend is chosen once, at start-up.
pub trait Store:
    AccountStore
    + KeyPackageStore
    + DirectoryStore
    + LeaseStore
    + QueueStore
    + GovernanceStore
    + Clone
    + Send
    + Sync
    + 'static
{
    // Residency: the global index lives in the global store (`crate::residency`).

    /// Records `username`'s home region in the global index, or
    /// [`StoreError::UsernameTaken`] if it has one.
    fn claim_username(
        &self,
        username: &Username,
        region: &Region,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user's home region from the global index, or `None`.
    fn home_region(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<Region>, StoreError>> + Send;

    /// The regions the index names (to refuse a configuration that would strand accounts).
    fn regions_in_use(&self) -> impl Future<Output = Result<Vec<Region>, StoreError>> + Send;

    /// Removes the user's index entry (a registration that failed in its region).
    fn release_username(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Points the user's index entry at `region` (an account moved).
    fn set_home_region(
        &self,
        username: &Username,
        region: &Region,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every row this store holds about the account, or `None` if it holds none.
    fn export_account(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<AccountExport>, StoreError>> + Send;

    /// Writes an exported account in one transaction, replacing whatever this store held
    /// about it (an earlier, interrupted move); queued messages keep their order.
    fn import_account(
        &self,
        account: AccountExport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes every row about the account (and messages no other queue holds).
    fn erase_account(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes what the region's policy no longer allows keeping, sparing accounts under a
    /// preservation order.
    fn expire(
        &self,
        retention: Retention,
    ) -> impl Future<Output = Result<RetentionReport, StoreError>> + Send;

    /// Moves every row about the account to `region`'s store and leaves none behind.
    /// Only a store of several regions can: a single store answers
    /// [`StoreError::UnknownRegion`].
    fn move_account(
        &self,
        username: &Username,
        region: &Region,
    ) -> impl Future<Output = Result<MoveReport, StoreError>> + Send {
        let _ = (username, region);
        async { Err(StoreError::UnknownRegion) }
    }
}
