//! Transparency reports: computed from the audit log only, signed, and rendered as a
//! self-contained HTML page.
//!
//! A report is made by staff (`POST /admin/v1/reports`), and its making is itself an
//! audit entry (`report.create`, naming the period). The report covers the log up to and
//! including that entry and carries that entry's time, so the log alone determines it: the
//! public transparency page (`crate::transparency`) rebuilds every report staff made, byte
//! for byte as they got it (under the same policy), and stores nothing of its own.

use super::{Governance, GovernanceError};
use crate::store::Store;
use pli_proto::audit::AuditEntry;
use pli_proto::merkle;
use pli_proto::report::{Period, Report, published};

/// Reads the whole audit log (in pages) as entries and leaf hashes.
pub async fn read_log<S: Store>(store: &S) -> Result<Vec<Vec<u8>>, GovernanceError> {
    const PAGE: u64 = 5_000;
    let mut entries = Vec::new();
    loop {
        let page = store.audit_entries(entries.len() as u64, PAGE).await?;
        let done = (page.len() as u64) < PAGE;
        entries.extend(page);
        if done {
            return Ok(entries);
        }
    }
}

/// A report staff made, as the log records it: its `report.create` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Made {
    /// The entry's position; the report covers the log up to and including it.
    pub seq: u64,
    /// When it was made, in milliseconds since the Unix epoch: the report's `generated_ms`.
    pub time_ms: u64,
    /// The period it reports on.
    pub period: Period,
}

/// The audit log as read once: the stored entries (what the root covers) and, decoded,
/// what the figures are computed from.
pub struct Log {
    raw: Vec<Vec<u8>>,
    entries: Vec<AuditEntry>,
}

impl Log {
    pub async fn read<S: Store>(store: &S) -> Result<Self, GovernanceError> {
        let raw = read_log(store).await?;
        let entries = raw.iter().filter_map(|e| AuditEntry::decode(e)).collect();
        Ok(Self { raw, entries })
    }

    /// The log's size.
    pub fn size(&self) -> u64 {
        self.raw.len() as u64
    }

    /// Every report the log records the making of, oldest first.
    pub fn made(&self) -> Vec<Made> {
        self.entries
            .iter()
            .filter(|e| e.action == "report.create" && e.outcome == "ok")
            .filter_map(|e| {
                Some(Made {
                    seq: e.seq,
                    time_ms: e.time_ms,
                    period: Period::parse(e.details["period"].as_str()?)?,
                })
            })
            .collect()
    }

    /// The report whose making the entry at `seq` records, if it records one.
    pub fn made_at(&self, seq: u64) -> Option<Made> {
        self.made().into_iter().find(|m| m.seq == seq)
    }

    /// Builds and signs the report `made` records, from the log up to and including its
    /// entry, with each region's bands as the policy now says.
    pub fn report(&self, governance: &Governance, made: &Made) -> Report {
        let size = (made.seq + 1).min(self.size());
        let leaves: Vec<_> = self.raw[..size as usize]
            .iter()
            .map(|e| merkle::leaf_hash(e))
            .collect();
        let covered: Vec<AuditEntry> = self
            .entries
            .iter()
            .take_while(|e| e.seq < size)
            .cloned()
            .collect();
        let figures = published(&covered, &made.period, &governance.policies.report_bands());
        let mut report = Report {
            origin: governance.origin().to_owned(),
            figures: figures.figures,
            regions: figures.regions,
            period: made.period.clone(),
            log_size: size,
            log_root: hex::encode(merkle::root(&leaves)),
            generated_ms: made.time_ms,
            signature: String::new(),
        };
        report.sign(governance.signing_key());
        report
    }
}

/// A readable, self-contained page (no scripts, no external resources, its style inline):
/// what `pli admin report` writes beside the JSON. The server's own page
/// (`GET /transparency/{id}`) is the same, with its verification section.
pub fn html(report: &Report) -> String {
    crate::transparency::page::report(report, crate::transparency::page::Style::Inline, None)
        .into_string()
}
