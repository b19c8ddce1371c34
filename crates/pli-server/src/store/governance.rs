//! Records the governance side of the store keeps: staff, the audit log, lawful requests,
//! preservation holds and notices waiting to reach users. Every change to them is written
//! in one transaction with the audit entry that describes it
//! ([`GovernanceStore::governance_commit`]).

use super::accounts::DeviceRecord;
use super::error::StoreError;
use super::key_packages::KeyPackageStatus;
use pli_proto::governance::{RequestView, Role};
use pli_proto::{DeviceId, Username};
use std::future::Future;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRecord {
    pub id: u64,
    pub name: String,
    pub role: Role,
    pub secret_hash: [u8; 32],
}

/// A change to an existing staff member, applied with its audit entry or not at all. The
/// store refuses one that would leave no operator ([`StoreError::LastOperator`]), checked
/// inside the transaction that applies it, and one for an id no member has
/// ([`StoreError::UnknownStaff`]).
///
/// [`StoreError::LastOperator`]: super::StoreError::LastOperator
/// [`StoreError::UnknownStaff`]: super::StoreError::UnknownStaff
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffChange {
    /// Removes the member: their credential stops working at once.
    Revoke { id: u64 },
    /// Replaces the member's credential: the old one stops working at once.
    Rotate { id: u64, secret_hash: [u8; 32] },
    /// Gives the member another role.
    Role { id: u64, role: Role },
}

impl StaffChange {
    pub fn staff_id(&self) -> u64 {
        match self {
            StaffChange::Revoke { id }
            | StaffChange::Rotate { id, .. }
            | StaffChange::Role { id, .. } => *id,
        }
    }

    /// Whether applying it to a member who holds `current` takes an operator away.
    pub fn removes_operator(&self, current: Role) -> bool {
        current == Role::Operator
            && match self {
                StaffChange::Revoke { .. } => true,
                StaffChange::Rotate { .. } => false,
                StaffChange::Role { role, .. } => *role != Role::Operator,
            }
    }
}

/// One audit log entry as appended: its position, bytes, leaf hash and the signed
/// checkpoint of the log including it.
#[derive(Clone, Debug)]
pub struct AuditAppend {
    pub seq: u64,
    pub entry: Vec<u8>,
    pub leaf_hash: [u8; 32],
    pub checkpoint: String,
}

/// A notice to hold until `release_ms`, then queue for every device of `username`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotice {
    pub request_id: String,
    pub username: Username,
    pub payload: Vec<u8>,
    pub release_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNotice {
    pub notice_id: u64,
    pub request_id: String,
    pub username: Username,
}

/// Queues a held notice for its user's devices and forgets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseNotice {
    pub notice_id: u64,
    /// Whose notice it is: it lives in that user's home region.
    pub username: Username,
    pub now_ms: u64,
    pub max_queue_depth: u64,
}

/// What a governance action changes, applied with its audit entry or not at all.
#[derive(Clone, Debug, Default)]
pub struct GovernanceEffect {
    pub staff: Option<StaffRecord>,
    pub staff_change: Option<StaffChange>,
    pub request: Option<RequestView>,
    /// Preservation holds: (user, until).
    pub holds: Vec<(Username, u64)>,
    pub new_notices: Vec<NewNotice>,
    pub release: Option<ReleaseNotice>,
    /// A staff member enrols their console TOTP (once: a second enrolment is refused).
    pub totp: Option<super::second_factors::TotpEnrolment>,
}

/// Everything the server holds about one account (docs/ARCHITECTURE.md, "The data inventory"), as the inventory printout
/// and disclosure packages draw on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryRecord {
    pub username: Username,
    pub created_day: i64,
    pub last_seen_day: Option<i64>,
    pub devices: Vec<DeviceRecord>,
    pub key_packages: Vec<(DeviceId, KeyPackageStatus)>,
    pub queued_messages: u64,
    pub preserved_until_ms: Option<u64>,
    /// The day the user deleted the account, if they did: what is listed is what the
    /// region's policy keeps until retention erases it.
    pub deleted_day: Option<i64>,
    /// Connection IP addresses kept under the region's policy: (day, address), oldest first.
    pub ips: Vec<(i64, String)>,
}

/// The governance records, as domain operations. Reads return plain records; every write
/// goes through `governance_commit`, so no change escapes the audit log.
pub trait GovernanceStore: Send + Sync {
    fn staff(
        &self,
        id: u64,
    ) -> impl Future<Output = Result<Option<StaffRecord>, StoreError>> + Send;

    fn list_staff(&self) -> impl Future<Output = Result<Vec<StaffRecord>, StoreError>> + Send;

    /// Every audit leaf hash, in order (to rebuild the Merkle tree at start-up).
    fn audit_leaves(&self) -> impl Future<Output = Result<Vec<[u8; 32]>, StoreError>> + Send;

    /// Up to `limit` audit entries from position `from`, as stored bytes.
    fn audit_entries(
        &self,
        from: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, StoreError>> + Send;

    /// Signed checkpoints for sizes `from..from + limit`, in order.
    fn audit_checkpoints(
        &self,
        from: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Keeps `witness`'s cosignature line of the checkpoint of log size `size`, replacing
    /// an earlier one by the same witness for that size. Witness cosignatures are public,
    /// like the checkpoints they sign.
    fn add_audit_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every cosignature line of the checkpoints of sizes `from..=to`, as (size, line), in
    /// size order.
    fn audit_cosignatures(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<(u64, String)>, StoreError>> + Send;

    /// Appends `append` (whose `seq` must be the log's current size, else
    /// [`StoreError::AuditConflict`]) and applies `effect`, in one transaction. Without an
    /// append, applies the effect alone: the part of an audited action that lands in the
    /// target's home region after its entry landed in the global store.
    fn governance_commit(
        &self,
        append: Option<AuditAppend>,
        effect: GovernanceEffect,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn request(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RequestView>, StoreError>> + Send;

    fn list_requests(&self) -> impl Future<Output = Result<Vec<RequestView>, StoreError>> + Send;

    /// Everything held about the account, or `None` if it does not exist.
    fn inventory(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<InventoryRecord>, StoreError>> + Send;

    /// Held notices whose release time has come, for one user or all.
    fn due_notices(
        &self,
        username: Option<&Username>,
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<PendingNotice>, StoreError>> + Send;
}
