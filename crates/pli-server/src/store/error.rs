//! [`StoreError`]: why a storage operation failed, and its stable kind for logs.

/// Why a storage operation failed. Domain refusals are distinct variants so handlers can
/// map them to stable API codes; `Backend` covers everything the engine itself reports.
/// Neither `Display` nor `Debug` shows the engine's text (it can quote user data): logs
/// carry [`StoreError::kind`].
#[derive(thiserror::Error)]
pub enum StoreError {
    #[error("the username is already registered")]
    UsernameTaken,
    #[error("the server has no such region")]
    UnknownRegion,
    #[error("no such account")]
    UnknownAccount,
    #[error("a recipient device does not exist")]
    UnknownRecipient,
    #[error("a recipient's queue is full")]
    QueueFull,
    #[error("the message targets epoch {submitted} but the group is at epoch {current}")]
    StaleEpoch { submitted: u64, current: u64 },
    #[error("the group does not exist on this server")]
    UnknownGroup,
    #[error("the device holds its maximum of unclaimed key packages")]
    TooManyKeyPackages,
    #[error("the device does not exist")]
    UnknownDevice,
    #[error("a device with that id exists")]
    DeviceIdTaken,
    /// Another writer appended to the audit log first: reload and retry.
    #[error("the audit log moved on since it was read")]
    AuditConflict,
    #[error("a staff member with that name exists")]
    StaffNameTaken,
    #[error("no staff member has that id")]
    UnknownStaff,
    /// The change would revoke or demote the last operator.
    #[error("the last operator cannot be revoked or demoted")]
    LastOperator,
    /// The staff member has enrolled a TOTP already.
    #[error("a TOTP is enrolled already")]
    TotpEnrolled,
    /// The reporter has reported one of the report's messages already (the same
    /// commitment): the whole report is refused.
    #[error("a message of the report was reported by the same reporter already")]
    ReportReplayed,
    /// The action has an appeal already: an action is appealed once.
    #[error("the action was appealed already")]
    AppealExists,
    /// No such trust & safety action (or, for an appeal, none about the appealing account).
    #[error("no such action")]
    UnknownAction,
    /// The action has no appeal to decide, or its appeal was decided already.
    #[error("the appeal cannot be decided")]
    InvalidAppeal,
    /// The held notice was released already (by another node, or an earlier sweep).
    #[error("the notice was released already")]
    NoticeReleased,
    /// The attachment would take its uploader's account past its quota.
    #[error("the account's attachment quota is used up")]
    QuotaExceeded,
    /// An attachment with that id exists already (ids are random: a retried create).
    #[error("an attachment with that id exists")]
    AttachmentExists,
    /// No attachment by that id that the device may see.
    #[error("no such attachment")]
    UnknownAttachment,
    /// A chunk whose length is not the one its place in the blob gives.
    #[error("the chunk has the wrong length")]
    InvalidChunk,
    /// A chunk past the next one expected: `received` chunks are in.
    #[error("chunk out of order: {received} chunks are uploaded")]
    ChunkOutOfOrder { received: u32 },
    /// A download of a chunk not uploaded yet.
    #[error("the attachment is not uploaded that far yet")]
    AttachmentIncomplete,
    /// The database cannot serve now (no free connection in time, connection lost, statement
    /// timeout, deadlock victim): retrying shortly is right. Usually nothing was changed; a
    /// connection lost during the commit leaves that open, which a retry tolerates (a
    /// repeated MLS message is shown once by its receivers, a repeated commit meets the
    /// moved epoch).
    #[error("the database is unavailable")]
    Unavailable,
    /// The engine failed (I/O, corruption, a closed pool). The text comes from the engine:
    /// it is neither shown nor logged (it can quote user data), and never reaches API
    /// callers; tests may match on it.
    #[error("storage backend failure")]
    Backend(String),
}

impl StoreError {
    /// A stable name for the failure, for logs: never the engine's text.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::UsernameTaken => "username_taken",
            StoreError::UnknownRegion => "unknown_region",
            StoreError::UnknownAccount => "unknown_account",
            StoreError::UnknownRecipient => "unknown_recipient",
            StoreError::QueueFull => "queue_full",
            StoreError::StaleEpoch { .. } => "stale_epoch",
            StoreError::UnknownGroup => "unknown_group",
            StoreError::TooManyKeyPackages => "too_many_key_packages",
            StoreError::UnknownDevice => "unknown_device",
            StoreError::DeviceIdTaken => "device_id_taken",
            StoreError::AuditConflict => "audit_conflict",
            StoreError::StaffNameTaken => "staff_name_taken",
            StoreError::UnknownStaff => "unknown_staff",
            StoreError::LastOperator => "last_operator",
            StoreError::NoticeReleased => "notice_released",
            StoreError::TotpEnrolled => "totp_enrolled",
            StoreError::ReportReplayed => "report_replayed",
            StoreError::AppealExists => "appeal_exists",
            StoreError::UnknownAction => "unknown_action",
            StoreError::InvalidAppeal => "invalid_appeal",
            StoreError::QuotaExceeded => "quota_exceeded",
            StoreError::AttachmentExists => "attachment_exists",
            StoreError::UnknownAttachment => "unknown_attachment",
            StoreError::InvalidChunk => "invalid_chunk",
            StoreError::ChunkOutOfOrder { .. } => "chunk_out_of_order",
            StoreError::AttachmentIncomplete => "attachment_incomplete",
            StoreError::Unavailable => "unavailable",
            StoreError::Backend(_) => "backend",
        }
    }
}

/// The variant and its numbers, never the engine's text.
impl std::fmt::Debug for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::StaleEpoch { submitted, current } => f
                .debug_struct("StaleEpoch")
                .field("submitted", submitted)
                .field("current", current)
                .finish(),
            other => write!(f, "StoreError({})", other.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_text_is_neither_shown_nor_logged() {
        let err = StoreError::Backend("UNIQUE constraint failed: alice@example".into());
        assert_eq!(err.to_string(), "storage backend failure");
        assert_eq!(format!("{err:?}"), "StoreError(backend)");
        assert_eq!(err.kind(), "backend");
        let stale = StoreError::StaleEpoch {
            submitted: 1,
            current: 2,
        };
        assert_eq!(
            format!("{stale:?}"),
            "StaleEpoch { submitted: 1, current: 2 }"
        );
    }
}
