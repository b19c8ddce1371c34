//! Abuse reports: the messages a recipient reported, once the server verified their
//! franking, for trust & safety to read. The only place the server ever keeps message text,
//! and only what a reporter chose to send.
//!
//! A report lives in the **reported account's home region** (`crate::residency`): it is
//! about that account, and every message in it was sent by that account. Reports are kept
//! for their region's `report_retention_days`, whatever becomes of the accounts they name:
//! they hold no foreign key to accounts, so an account's deletion leaves them. When the
//! reported account moves to another region its reports move with it, under the same ids
//! (`crate::residency`'s move, through [`ReportStore::export_reports`] and
//! [`ReportStore::import_reports`]).
//!
//! Ids are random (below 2^53, so a JavaScript number holds them exactly), as staff and
//! request ids are: they are unique across regions without any coordination between the
//! regions' stores, and they do not depend on the order regions are configured in. Each
//! store's primary key refuses a duplicate; two regions drawing the same id is a chance of
//! one in 2^53 per pair of reports.

use super::error::StoreError;
use pli_proto::Region;
use pli_proto::abuse::{ReportReason, ReportView};
use pli_proto::{DeviceId, Username};
use std::collections::BTreeMap;
use std::future::Future;

/// Ids are drawn from `1..REPORT_ID_BOUND`.
pub const REPORT_ID_BOUND: u64 = 1 << 53;

/// A fresh report id.
pub fn new_report_id() -> u64 {
    use rand::Rng;
    rand::rng().random_range(1..REPORT_ID_BOUND)
}

/// A report's reason as stored (its stable name), read back.
pub fn reason_from_row(raw: &str) -> Result<ReportReason, StoreError> {
    ReportReason::parse(raw).ok_or_else(|| StoreError::Backend("invalid report reason row".into()))
}

/// A verified report, to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReport {
    pub reporter: Username,
    /// The sender of every message in it, whose home region keeps it.
    pub reported: Username,
    pub reason: ReportReason,
    pub note: Option<String>,
    /// Days since the Unix epoch, UTC.
    pub filed_day: u32,
    /// In the reporter's order, which listing keeps.
    pub messages: Vec<StoredReportMessage>,
}

/// One verified message of a report. `Debug` hides the text.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredReportMessage {
    /// The sender's franking commitment: kept only so the same reporter cannot report the
    /// same message twice ([`StoreError::ReportReplayed`]), never shown.
    pub commitment: [u8; 32],
    pub text: String,
    pub sender_device: DeviceId,
    /// The day the server accepted the message.
    pub day: u32,
}

impl std::fmt::Debug for StoredReportMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StoredReportMessage(<{} bytes>, day {})",
            self.text.len(),
            self.day
        )
    }
}

/// A stored report with its id, as a move carries it to another region's store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedReport {
    pub id: u64,
    pub report: NewReport,
}

/// One retention sweep of reports: each region deletes what it filed before its own day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportCutoffs {
    /// What a store of one region applies (and a region with no entry below).
    pub filed_before_day: u32,
    pub by_region: BTreeMap<Region, u32>,
}

impl ReportCutoffs {
    /// The day before which `region` deletes its reports.
    pub fn for_region(&self, region: &Region) -> u32 {
        self.by_region
            .get(region)
            .copied()
            .unwrap_or(self.filed_before_day)
    }
}

/// Abuse reports, as domain operations.
pub trait ReportStore: Send + Sync {
    /// Stores the report and its messages in one transaction, and returns its id. If the
    /// reporter reported any of its messages before (the same commitment, in any earlier
    /// report of theirs, or twice in this one), nothing is stored and the answer is
    /// [`StoreError::ReportReplayed`]; another reporter may report the same message. A
    /// unique key decides, so two filings at once, on one node or several, store one.
    fn file_report(
        &self,
        report: NewReport,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Every report, newest filed first (by day, then the later filing of a store first),
    /// each with its messages.
    fn list_reports(&self) -> impl Future<Output = Result<Vec<ReportView>, StoreError>> + Send;

    /// The report, with its messages in the reporter's order, or `None`.
    fn report(
        &self,
        id: u64,
    ) -> impl Future<Output = Result<Option<ReportView>, StoreError>> + Send;

    /// Retention: deletes the reports filed before `day`, with their messages (and so their
    /// commitments: by then the server key that stamped those messages is past its rotation
    /// window, so they cannot be filed again). Returns how many reports went.
    fn delete_reports_filed_before(
        &self,
        day: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Retention under each region's own period. A single store applies
    /// [`ReportCutoffs::filed_before_day`]; `crate::residency` gives each region its day.
    fn expire_reports(
        &self,
        cutoffs: ReportCutoffs,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.delete_reports_filed_before(cutoffs.filed_before_day)
    }

    /// Every report about `reported` this store holds, with its id and messages (their
    /// commitments too), oldest filed first: what a move carries.
    fn export_reports(
        &self,
        reported: &Username,
    ) -> impl Future<Output = Result<Vec<ExportedReport>, StoreError>> + Send;

    /// Writes moved reports under their ids in one transaction, replacing any this store
    /// holds under those ids (an earlier, interrupted move). A message this store holds a
    /// report of by the same reporter already (filed here while the move ran) is kept once,
    /// in the report that was here first.
    fn import_reports(
        &self,
        reports: Vec<ExportedReport>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes every report about `reported` (a move copied them elsewhere first).
    fn erase_reports_about(
        &self,
        reported: &Username,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// For the data inventory: (reports about the account, reports it filed).
    fn report_counts(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<(u64, u64), StoreError>> + Send;
}
