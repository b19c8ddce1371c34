//! Stable error codes. Every failed API call answers `{"error": {"code": …, "message": …}}`;
//! scripts and clients branch on `code`, whose spelling never changes once released.
//! Messages explain the rule that was broken and never echo user data.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal),* $(,)?) => {
        /// A stable, machine-readable reason for a refusal.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// A code this build does not know (sent by a newer peer).
            #[serde(other)]
            Unknown,
        }

        impl ErrorCode {
            /// Every code, for documentation and exhaustive tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code's stable spelling, as it appears in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                    ErrorCode::Unknown => "unknown",
                }
            }
        }
    };
}

error_codes! {
    /// The request is malformed, or breaks a rule no more specific code names (`400`).
    BadRequest => "bad_request",
    /// The username breaks the naming rules of [`crate::ids::Username`] (`400`).
    InvalidUsername => "invalid_username",
    /// Registration of a name that is already registered (`409`).
    UsernameTaken => "username_taken",
    /// Registration naming a region this server does not serve (`422`).
    UnknownRegion => "unknown_region",
    /// The proof-of-work challenge is malformed, expired or not from this server (`400`).
    InvalidChallenge => "invalid_challenge",
    /// The nonce does not solve the challenge for this username (`400`).
    ProofOfWorkFailed => "proof_of_work_failed",
    /// Missing or invalid device or staff credentials (`401`).
    Unauthorized => "unauthorized",
    /// No such endpoint (`404`).
    NotFound => "not_found",
    /// No account has that name (`404`).
    UnknownUser => "unknown_user",
    /// A body, message or key package is over its size limit ([`crate::limits`]) (`413`).
    PayloadTooLarge => "payload_too_large",
    /// A submission lists more than [`crate::limits::MAX_RECIPIENTS`] devices (`400`).
    TooManyRecipients => "too_many_recipients",
    /// A submission lists a device that does not exist (`422`).
    UnknownRecipient => "unknown_recipient",
    /// A recipient's queue is full; retry after it drains (`409`).
    QueueFull => "queue_full",
    /// The message is for an older epoch than the group's current one: the sender must
    /// process the commits it missed first (`409`).
    StaleEpoch => "stale_epoch",
    /// The group does not exist on this server (`404`).
    UnknownGroup => "unknown_group",
    /// A group with this id exists already (`409`).
    GroupExists => "group_exists",
    /// Not an MLS `PrivateMessage` for the named group, or a bad `Welcome` (`400`).
    InvalidMlsMessage => "invalid_mls_message",
    /// A key package that does not parse or validate (`400`).
    InvalidKeyPackage => "invalid_key_package",
    /// Too many key packages in one upload (`400`), or the device would hold more than its
    /// maximum of unclaimed ones (`409`).
    TooManyKeyPackages => "too_many_key_packages",
    /// On claim (`409`): none of the user's devices has a key package left.
    NoKeyPackage => "no_key_package",
    /// On claim (`409`): the user's devices have key packages, but every one of them has
    /// expired (their devices have not been online to replace them). On upload (`400`): the
    /// package has expired already.
    KeyPackageExpired => "key_package_expired",
    /// On upload (`400`): the package's lifetime (`not_after - not_before`) is longer than
    /// `limits::MAX_KEY_PACKAGE_LIFETIME_SECS` (RFC 9420 §7.2).
    KeyPackageLifetimeTooLong => "key_package_lifetime_too_long",
    /// Too many requests; the answer's `Retry-After` says when to retry (`429`).
    RateLimited => "rate_limited",
    /// The staff member's role does not allow this action (`403`).
    Forbidden => "forbidden",
    /// A governance rule refused the action: a legal basis the region does not recognise, a
    /// reviewer approving a request they entered… (`422`).
    PolicyRefused => "policy_refused",
    /// The lawful request is not in a state that allows this step (`409`).
    InvalidState => "invalid_state",
    /// No lawful request has that id (`404`).
    UnknownRequest => "unknown_request",
    /// Staff exist already: initialising the first operator is done once (`409`).
    AlreadyInitialised => "already_initialised",
    /// A staff member already has that name (`409`).
    StaffNameTaken => "staff_name_taken",
    /// No staff member has that id (`404`): never was, or was revoked.
    UnknownStaff => "unknown_staff",
    /// Refused (`409`): the change would revoke or demote the last operator, leaving no one
    /// able to manage staff.
    LastOperator => "last_operator",
    /// The server is at its connection or storage limit; retry shortly (`503`).
    OverCapacity => "over_capacity",
    /// The key directory does not list the user (`404`).
    NotInDirectory => "not_in_directory",
    /// Directory epochs out of order, beyond the current one, or more than
    /// [`crate::kt::MAX_AUDIT_STEPS`] apart (`400`).
    InvalidEpochRange => "invalid_epoch_range",
    /// Another node is publishing the key directory and has not published the user's change
    /// yet; retry after `Retry-After` (`503`).
    DirectoryBusy => "directory_busy",
    /// A new device's endorsement is not a signature, or does not verify with the calling
    /// device's key ([`crate::kt::Endorsement`]) (`400`).
    InvalidEndorsement => "invalid_endorsement",
    /// A device already has the id the new device chose (`409`).
    DeviceIdTaken => "device_id_taken",
    /// The account has its maximum of devices (`409`).
    TooManyDevices => "too_many_devices",
    /// Refused (`409`): removing the account's last device; deleting the account does that.
    LastDevice => "last_device",
    /// The caller's account has no such device (`404`).
    UnknownDevice => "unknown_device",
    /// A cosignature from a witness the operator does not list (`403`).
    UnknownWitness => "unknown_witness",
    /// A cosignature that does not verify for the checkpoint it names (`422`).
    BadCosignature => "bad_cosignature",
    /// The staff console refused a form: its anti-forgery token was missing or wrong, or
    /// it came from another site (`403`).
    CsrfRefused => "csrf_refused",
    /// The staff console's sign-in: the second factor's code is wrong or out of time
    /// (`401`).
    BadSecondFactor => "bad_second_factor",
    /// The staff console's sign-in: that code was used already (`401`).
    SecondFactorReused => "second_factor_reused",
    /// The staff member has enrolled a second factor already (`409`).
    TotpEnrolled => "totp_enrolled",
    /// The reporter has reported one of these messages already (`409`): each message is
    /// reported once per reporter.
    ReportReplayed => "report_replayed",
    /// A report names the reporter's own account as the sender (`422`).
    OwnMessage => "own_message",
    /// A reported message does not match what the server stamped: the text, sender,
    /// device, conversation, day or stamp differ (`422`).
    BadFranking => "bad_franking",
    /// A reported message is older than the server's franking keys still verify (`422`).
    FrankingKeyExpired => "franking_key_expired",
    /// The account is suspended or banned by trust & safety: it may not send, claim key
    /// packages or add devices (`403`). It still receives, and may delete itself.
    AccountSuspended => "account_suspended",
    /// No trust & safety action by that id about this account (`404`).
    UnknownAction => "unknown_action",
    /// The action was appealed already: each action is appealed once (`409`).
    AppealExists => "appeal_exists",
    /// No attachment by that id that the calling device may see: none was uploaded, it
    /// expired, every recipient fetched it, or the device is not one of its recipients
    /// (`404`).
    UnknownAttachment => "unknown_attachment",
    /// The upload would take the account past its attachment quota; retry once earlier
    /// attachments were fetched or expired (`413`).
    QuotaExceeded => "quota_exceeded",
    /// A chunk past the next one the server expects: upload from
    /// [`crate::attachment::AttachmentStatus::received`] (`409`).
    ChunkOutOfOrder => "chunk_out_of_order",
    /// A chunk whose length is not the one its place in the blob gives
    /// ([`crate::attachment::chunk_len`]) (`400`).
    InvalidChunk => "invalid_chunk",
    /// A download of a chunk not uploaded yet (`409`).
    AttachmentIncomplete => "attachment_incomplete",
    /// The user has stored no profile, or there is no such user (the two are not told
    /// apart) (`404`).
    NoProfile => "no_profile",
    /// The server failed; the message says nothing more, by design (`500`).
    Internal => "internal",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and the explanation of a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// What scripts and clients branch on.
    pub code: ErrorCode,
    /// For people: the rule that was broken, never user data.
    pub message: String,
}

impl ErrorBody {
    /// The body for `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_stable_text() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, *code);
        }
    }

    #[test]
    fn unknown_codes_from_newer_peers_still_parse() {
        let code: ErrorCode = serde_json::from_str("\"some_future_code\"").expect("parse");
        assert_eq!(code, ErrorCode::Unknown);
    }
}
