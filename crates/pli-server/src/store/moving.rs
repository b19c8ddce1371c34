//! Residency: the username → region index, what a region's store hands over when an
//! account moves to another region, and what its retention sweep removes. Moves and sweeps
//! are whole-account or whole-region operations, each one transaction on its store.

use super::error::StoreError;
use pli_proto::{DeviceId, Region, Username};
use std::collections::BTreeMap;
use std::future::Future;

/// Every row a region's store holds about one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountExport {
    pub username: Username,
    pub created_day: i64,
    pub last_seen_day: Option<i64>,
    pub devices: Vec<ExportedDevice>,
    /// In upload order.
    pub key_packages: Vec<ExportedKeyPackage>,
    /// Queued messages in queue order, each with the account's devices it waits for.
    pub queued: Vec<ExportedMessage>,
    pub preserved_until_ms: Option<u64>,
    /// Held notices: (request id, payload, release time).
    pub notices: Vec<(String, Vec<u8>, u64)>,
    /// Connection IP addresses kept under the region's policy: (day, address).
    pub ips: Vec<(i64, String)>,
    /// The encrypted profile, if the account stored one.
    pub profile: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ExportedKeyPackage {
    pub device_id: DeviceId,
    pub data: Vec<u8>,
    pub last_resort: bool,
    /// The end of its lifetime (seconds since the Unix epoch); `None` if it was stored
    /// before the server recorded lifetimes.
    pub not_after: Option<u64>,
}

impl std::fmt::Debug for ExportedKeyPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ExportedKeyPackage({}, <{} bytes>)",
            self.device_id,
            self.data.len()
        )
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct ExportedDevice {
    pub device_id: DeviceId,
    pub secret_hash: [u8; 32],
    pub signature_key: Vec<u8>,
    pub endorsement: Option<pli_proto::kt::Endorsement>,
}

impl std::fmt::Debug for ExportedDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExportedDevice({})", self.device_id)
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct ExportedMessage {
    pub kind: u8,
    pub payload: Vec<u8>,
    pub created_ms: u64,
    pub devices: Vec<DeviceId>,
}

impl std::fmt::Debug for ExportedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExportedMessage(<{} bytes>)", self.payload.len())
    }
}

/// What a move carried from one region's store to another's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveReport {
    pub from: Region,
    pub to: Region,
    pub devices: Vec<DeviceId>,
    pub queued_messages: u64,
}

/// One retention sweep, under the regions' policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    pub now_ms: u64,
    /// What one store applies.
    pub cutoffs: Cutoffs,
    /// Each region's own, which the residency layer hands to that region's store.
    pub by_region: BTreeMap<Region, Cutoffs>,
}

/// Where a region's policy draws its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// Queued messages created before this are deleted undelivered.
    pub queue_before_ms: u64,
    /// Accounts deleted on or before this day are erased (their remaining facts too).
    pub deleted_through_day: i64,
    /// Connection IP addresses seen before this day are deleted (all of them, for a region
    /// that keeps none).
    pub ip_before_day: i64,
}

impl Retention {
    /// The sweep for one region's store.
    pub fn for_region(&self, region: &Region) -> Self {
        Self {
            now_ms: self.now_ms,
            cutoffs: self.by_region.get(region).copied().unwrap_or(self.cutoffs),
            by_region: BTreeMap::new(),
        }
    }
}

/// What a sweep removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Deleted accounts whose facts were erased: their names are free again.
    pub erased_accounts: Vec<Username>,
    /// Queue entries (one per device and message) removed as expired.
    pub expired_queue_entries: u64,
    /// Entries kept past their time because their account is under a preservation order.
    pub held_queue_entries: u64,
    /// Preservation holds that ran out and were removed.
    pub expired_holds: u64,
    /// Connection IP records past their region's period, removed.
    pub expired_ips: u64,
    /// Abuse reports past their region's period: not `expire`'s (it leaves this 0) but
    /// `ReportStore::expire_reports`', which the retention sweep runs beside it.
    pub expired_reports: u64,
}

/// The username → region index, moves between regions and retention, as domain
/// operations. The global index lives in the global store (`crate::residency`).
pub trait ResidencyStore: Send + Sync {
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
