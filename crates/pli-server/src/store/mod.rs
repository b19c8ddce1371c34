//! Storage as domain operations, one trait per domain, and [`Store`], their sum.
//!
//! Callers speak in messaging terms (`submit`, `fetch_queue`, `ack`, `claim_key_packages`),
//! never in rows, so a backend is free to batch, index and lock as its engine prefers. Each
//! operation that writes several rows is one transaction. The contract, shared by every
//! backend and checked by [`conformance`]: `Ok(None)` means "absent", `Err` means the
//! operation failed and changed nothing.
//!
//! Each domain is one file here, holding its trait and its record types:
//! - [`accounts`]: [`AccountStore`], accounts and devices: registration, authentication,
//!   device lists, WebSocket tickets, connection IP addresses, deletion.
//! - [`key_packages`]: [`KeyPackageStore`], uploads with their lifetimes, each device's
//!   status (valid and expiring packages), claims.
//! - [`queue`]: [`QueueStore`], the delivery queue: the epoch rule, submit, fetch, ack, the
//!   per-device counters, wake-ups between nodes.
//! - [`leases`]: [`LeaseStore`], background jobs' leases and the server's secrets.
//! - [`governance`]: [`GovernanceStore`], staff, the audit log, lawful requests, preservation
//!   holds, held notices, the data inventory.
//! - [`second_factors`]: [`SecondFactorStore`], staff members' TOTP secrets for the staff
//!   console and the last step each spent.
//! - [`reports`]: [`ReportStore`], abuse reports and their verified messages, in the
//!   reported account's region; replays refused, retention, counts for the inventory.
//! - [`moderation`]: [`ModerationStore`], trust & safety actions on accounts, their
//!   appeals, and each account's standing (suspended until when), in its home region.
//! - [`directory`]: [`DirectoryStore`], the key directory's records (akd's tree, value
//!   states, roots).
//! - [`attachments`]: [`AttachmentStore`], encrypted attachments uploaded in chunks: who
//!   may fetch each one, its quota, its expiry; the bytes through [`blobs`].
//! - [`moving`]: [`ResidencyStore`], the username → region index, moving an account between
//!   regions, retention.
//!
//! [`Store`] is every domain trait at once, with a blanket impl, so code stays generic over
//! `S: Store`; code that holds a concrete backend brings the traits in with
//! [`prelude`]. Each backend follows the same cut: [`sqlite`] and [`postgres`] (and
//! `crate::residency`, which routes each call to the global or a region's store) have one
//! file per domain holding that trait's impl and its SQL, beside a `rows.rs` of shared row
//! helpers and the engine in their `mod.rs`. So a new operation touches its domain's trait
//! file, that domain's file in each backend and in `crate::residency`, and its
//! [`conformance`] file. Files under `store/` import each other from the file that defines
//! an item, never through this one's re-exports, which are for the rest of the crate.
//!
//! - [`sqlite`]: the embedded backend (one file, one writer thread with group commit).
//! - [`postgres`]: the backend for several nodes on one database (sqlx, LISTEN/NOTIFY).
//! - [`columns`]: every column of both backends classified for the data inventory.
//! - [`conformance`]: the behaviour suite every backend must pass, one file per domain.
//! - `upgrades` (tests): a database of every earlier schema version of each backend, seeded
//!   with that era's rows, migrated and read back through these traits.

pub mod accounts;
pub mod attachments;
pub mod blobs;
pub mod columns;
pub mod directory;
mod error;
pub mod governance;
pub mod key_packages;
pub mod leases;
pub mod moderation;
pub mod moving;
pub mod postgres;
pub mod queue;
pub mod reports;
pub mod second_factors;
pub mod sqlite;

#[cfg(test)]
pub mod conformance;
#[cfg(test)]
mod upgrades;

pub use accounts::{AccountStore, DeviceAuth, DeviceRecord, NewAccount, NewDevice};
pub use attachments::{AttachmentState, AttachmentStore, AttachmentUsage, NewAttachment};
pub use blobs::{Blobs, BlobsError};
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
pub use moderation::{
    Decision, ExportedAction, FOREVER_MS, ModerationExport, ModerationStore, NewAction,
};
pub use moving::{
    AccountExport, Cutoffs, ExportedDevice, ExportedKeyPackage, ExportedMessage, MoveReport,
    ResidencyStore, Retention, RetentionReport,
};
pub use postgres::{PostgresConfig, PostgresStore};
pub use queue::{
    Accepted, EphemeralFrame, EpochRule, QUEUE_DEPTH_BOUNDS, QueueDepths, QueueStore, Queued,
    RemoteWake, STORED_TIME_MS, Submission, WakeSink, stored_expiry, stored_time,
};
pub use reports::{ExportedReport, NewReport, ReportCutoffs, ReportStore, StoredReportMessage};
pub use second_factors::{SecondFactorStore, StaffTotp, TotpEnrolment};
pub use sqlite::SqliteStore;

/// The domain traits and [`Store`], for code that calls store operations on a concrete
/// backend (generic code bound by `S: Store` sees every domain's methods already).
pub mod prelude {
    pub use super::{
        AccountStore, AttachmentStore, DirectoryStore, GovernanceStore, KeyPackageStore,
        LeaseStore, ModerationStore, QueueStore, ReportStore, ResidencyStore, SecondFactorStore,
        Store,
    };
}

/// Everything the server persists: every domain's operations. Generic callers take
/// `S: Store`; the backend is chosen once, at start-up. A backend implements the domain
/// traits, and is a `Store` by the blanket impl below.
pub trait Store:
    AccountStore
    + AttachmentStore
    + KeyPackageStore
    + QueueStore
    + LeaseStore
    + GovernanceStore
    + DirectoryStore
    + ResidencyStore
    + SecondFactorStore
    + ReportStore
    + ModerationStore
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + AttachmentStore
        + KeyPackageStore
        + QueueStore
        + LeaseStore
        + GovernanceStore
        + DirectoryStore
        + ResidencyStore
        + SecondFactorStore
        + ReportStore
        + ModerationStore
        + Clone
        + Send
        + Sync
        + 'static
{
}
