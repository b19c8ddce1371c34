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
pub mod sqlite;

#[cfg(test)]
pub mod conformance;

use pli_proto::{DeviceId, GroupId, MessageId, Region, Username};
use std::future::Future;
use std::sync::Arc;

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
pub use sqlite::SqliteStore;

/// What another node says about devices that may be connected to this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteWake {
    /// Their queues grew.
    Devices(Vec<DeviceId>),
    /// The channel was interrupted and wake-ups may have been missed: look at every queue.
    Everyone,
    /// They connected to another node at these wall-clock times (ms): a connection here
    /// made before then is stale and must close, so a device has one consumer of its queue
    /// across the cluster, as on one node. (A connection made after the other node's, say
    /// by a device that moved back quickly, stays.)
    Replaced(Vec<(DeviceId, u64)>),
}

/// Where a store delivers [`RemoteWake`]s (the delivery hub).
pub type WakeSink = Arc<dyn Fn(RemoteWake) + Send + Sync>;

/// How a submitted message relates to its group's epoch. The delivery service's one
/// ordering rule: a commit is accepted only for the group's current epoch, and moves it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochRule {
    /// A commit made in `epoch`. For an unknown group, epoch 0 creates it.
    Commit { epoch: u64 },
    /// A proposal made in `epoch`: only valid in the current epoch.
    Proposal { epoch: u64 },
    /// An application message made in `epoch`: only valid in the current epoch. A sender
    /// that missed a commit (say, a removal) must catch up and re-encrypt, so nothing it
    /// writes is readable by a member who has already left.
    Application { epoch: u64 },
}

/// How finely the store keeps the time a message was accepted: the hour. Retention needs no
/// finer (queue lifetimes are whole days), and a finer time would say more about when
/// someone wrote. A message may so expire up to an hour before its region's queue lifetime
/// is over, never after.
pub const STORED_TIME_MS: u64 = 3_600_000;

/// `now_ms` as the store keeps it: rounded down to [`STORED_TIME_MS`].
pub fn stored_time(now_ms: u64) -> u64 {
    now_ms - now_ms % STORED_TIME_MS
}

/// One message for the delivery service, with everything needed to accept it atomically.
#[derive(Clone)]
pub struct Submission {
    pub group: GroupId,
    pub rule: EpochRule,
    pub payload: Vec<u8>,
    pub recipients: Vec<DeviceId>,
    /// A Welcome for the devices a commit adds; stored in the same transaction.
    pub welcome: Option<(Vec<u8>, Vec<DeviceId>)>,
    pub now_ms: u64,
    pub max_queue_depth: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub id: MessageId,
    pub epoch: u64,
}

/// A queued message as read back for a device.
#[derive(Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: MessageId,
    /// `pli_proto::frame::KIND_MLS` or `KIND_NOTICE`.
    pub kind: u8,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Queued({}, <{} bytes>)", self.id, self.payload.len())
    }
}

/// The domain traits and [`Store`], for code that calls store operations on a concrete
/// backend (generic code bound by `S: Store` sees every domain's methods already).
pub mod prelude {
    pub use super::{
        AccountStore, DirectoryStore, GovernanceStore, KeyPackageStore, LeaseStore, Store,
    };
}

/// Everything the server persists, as domain operations. Generic callers take `S: Store`;
/// the backend is chosen once, at start-up.
pub trait Store:
    AccountStore
    + KeyPackageStore
    + DirectoryStore
    + LeaseStore
    + GovernanceStore
    + Clone
    + Send
    + Sync
    + 'static
{
    // Residency: the global index lives in the global store; `advance_epoch` runs there
    // for groups whose members' queues live in other stores, `queue_lengths` and
    // `deliver` run on those (`crate::residency`).

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

    /// Applies the epoch rule alone, queueing nothing; returns the group's epoch after it.
    fn advance_epoch(
        &self,
        group: &GroupId,
        rule: EpochRule,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Which of `devices` live in this store, with the length of each one's queue.
    fn queue_lengths(
        &self,
        devices: &[DeviceId],
    ) -> impl Future<Output = Result<Vec<(DeviceId, u64)>, StoreError>> + Send;

    /// Queues one payload of `kind` for those of `devices` that live in this store, with no
    /// depth limit (the caller checked it at admission), in one transaction. `None` if none
    /// of them is here any more.
    fn deliver(
        &self,
        kind: u8,
        payload: Vec<u8>,
        devices: Vec<DeviceId>,
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<MessageId>, StoreError>> + Send;

    /// Applies the epoch rule and queues the message (and any welcome) for every recipient,
    /// all in one transaction. When this returns `Ok`, the message is durable.
    fn submit(
        &self,
        submission: Submission,
    ) -> impl Future<Output = Result<Accepted, StoreError>> + Send;

    /// The group's current epoch, or `None` if the server has not seen the group.
    fn group_epoch(
        &self,
        group: &GroupId,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Up to `limit` queued messages for the device with ids above `after`, in id order.
    fn fetch_queue(
        &self,
        device: DeviceId,
        after: Option<MessageId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Queued>, StoreError>> + Send;

    /// Removes the listed messages from the device's queue; ids not in it are ignored.
    /// Returns how many were removed. A message leaves storage once no queue holds it.
    fn ack(
        &self,
        device: DeviceId,
        ids: Vec<MessageId>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Relays wake-ups for messages other processes accepted into `sink`, for as long as
    /// the future is polled. A backend only one process can use returns at once.
    fn relay_wakeups(&self, sink: WakeSink) -> impl Future<Output = ()> + Send;

    /// Tells other processes on this store that `device` is now connected here (they close
    /// any older connection of it: [`RemoteWake::Replaced`]).
    fn announce_connected(&self, device: DeviceId);
}
