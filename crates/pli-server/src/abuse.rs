//! Abuse reports: a recipient reports messages it received, and the server stores the report
//! only once every message verifies against its franking stamp (`franking`), so trust &
//! safety see exactly what the sender sent, and nobody can be framed.
//!
//! The report is kept in the reported account's home region (the store routes it there),
//! for that region's `report_retention_days`; the audit log gets one entry naming only the
//! reason and the number of messages, which the transparency report counts.

use crate::clock::Clock;
use crate::franking::{Franker, FrankingError};
use crate::governance::{Actor, Governance, GovernanceError};
use crate::store::governance::GovernanceEffect;
use crate::store::reports::{NewReport, StoredReportMessage};
use crate::store::{Store, StoreError};
use pli_proto::Username;
use pli_proto::abuse::{AbuseReportRequest, MAX_REPORT_NOTE_BYTES, MAX_REPORTED_MESSAGES};
use pli_proto::limits::MAX_TEXT_BYTES;

/// The audit log's action for a report received.
pub const REPORT_ACTION: &str = "abuse.report";

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum AbuseError {
    /// The reporter named itself as the sender.
    #[error("a report cannot be about the reporter's own messages")]
    OwnMessage,
    /// No messages, too many, a text or note over its limit.
    #[error("{0}")]
    Invalid(&'static str),
    /// A message does not verify against the server's stamp.
    #[error(transparent)]
    Franking(#[from] FrankingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
}

/// What a report is checked and recorded with.
pub struct Desk<'a, S: Store> {
    pub store: &'a S,
    pub franker: &'a Franker,
    pub governance: &'a Governance,
    pub clock: &'a dyn Clock,
}

impl<S: Store> Desk<'_, S> {
    /// Verifies `request` from `reporter`, stores it and logs it; returns its id. Nothing is
    /// stored unless every message verifies.
    pub async fn file(
        &self,
        reporter: &Username,
        request: AbuseReportRequest,
    ) -> Result<u64, AbuseError> {
        if request.reported == *reporter {
            return Err(AbuseError::OwnMessage);
        }
        if request.messages.is_empty() || request.messages.len() > MAX_REPORTED_MESSAGES {
            return Err(AbuseError::Invalid("a report carries 1 to 50 messages"));
        }
        if request
            .note
            .as_ref()
            .is_some_and(|n| n.len() > MAX_REPORT_NOTE_BYTES)
        {
            return Err(AbuseError::Invalid("a report's note is at most 2000 bytes"));
        }
        if request
            .messages
            .iter()
            .any(|m| m.text.len() > MAX_TEXT_BYTES)
        {
            return Err(AbuseError::Invalid(
                "a reported text exceeds the text limit",
            ));
        }
        let now_ms = self.clock.now_ms();
        let mut messages = Vec::with_capacity(request.messages.len());
        for message in &request.messages {
            let commitment =
                self.franker
                    .verify(&request.reported, &request.conversation, message, now_ms)?;
            messages.push(StoredReportMessage {
                commitment,
                text: message.text.clone(),
                sender_device: message.sender_device,
                day: message.day,
            });
        }
        let count = messages.len();
        let region = self
            .governance
            .policy_for(self.store, std::slice::from_ref(&request.reported))
            .await?
            .region;
        let id = self
            .store
            .file_report(NewReport {
                reporter: reporter.clone(),
                reported: request.reported,
                reason: request.reason,
                note: request.note,
                filed_day: pli_proto::franking::day_of(now_ms),
                messages,
            })
            .await?;
        // Stored first: a failure here leaves a report the log does not count yet, never a
        // count without its report. The entry names no account, only its home region, for
        // the region's figures.
        let details =
            serde_json::json!({ "reason": request.reason, "messages": count, "region": region });
        self.governance
            .record(
                self.store,
                self.clock,
                Actor::SERVER,
                REPORT_ACTION,
                "ok",
                details,
                GovernanceEffect::default(),
            )
            .await?;
        Ok(id)
    }
}
