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
    BadRequest => "bad_request",
    InvalidUsername => "invalid_username",
    UsernameTaken => "username_taken",
    UnknownRegion => "unknown_region",
    InvalidChallenge => "invalid_challenge",
    ProofOfWorkFailed => "proof_of_work_failed",
    Unauthorized => "unauthorized",
    NotFound => "not_found",
    UnknownUser => "unknown_user",
    PayloadTooLarge => "payload_too_large",
    TooManyRecipients => "too_many_recipients",
    UnknownRecipient => "unknown_recipient",
    QueueFull => "queue_full",
    StaleEpoch => "stale_epoch",
    UnknownGroup => "unknown_group",
    GroupExists => "group_exists",
    InvalidMlsMessage => "invalid_mls_message",
    InvalidKeyPackage => "invalid_key_package",
    TooManyKeyPackages => "too_many_key_packages",
    NoKeyPackage => "no_key_package",
    /// On claim (`409`): the user's devices have key packages, but every one of them has
    /// expired (their devices have not been online to replace them). On upload (`400`): the
    /// package has expired already.
    KeyPackageExpired => "key_package_expired",
    /// On upload (`400`): the package's lifetime (`not_after - not_before`) is longer than
    /// `limits::MAX_KEY_PACKAGE_LIFETIME_SECS` (RFC 9420 §7.2).
    KeyPackageLifetimeTooLong => "key_package_lifetime_too_long",
    RateLimited => "rate_limited",
    Forbidden => "forbidden",
    PolicyRefused => "policy_refused",
    InvalidState => "invalid_state",
    UnknownRequest => "unknown_request",
    AlreadyInitialised => "already_initialised",
    StaffNameTaken => "staff_name_taken",
    /// No staff member has that id (`404`): never was, or was revoked.
    UnknownStaff => "unknown_staff",
    /// Refused (`409`): the change would revoke or demote the last operator, leaving no one
    /// able to manage staff.
    LastOperator => "last_operator",
    OverCapacity => "over_capacity",
    NotInDirectory => "not_in_directory",
    InvalidEpochRange => "invalid_epoch_range",
    DirectoryBusy => "directory_busy",
    InvalidEndorsement => "invalid_endorsement",
    DeviceIdTaken => "device_id_taken",
    TooManyDevices => "too_many_devices",
    LastDevice => "last_device",
    UnknownDevice => "unknown_device",
    /// A cosignature from a witness the operator does not list (`403`).
    UnknownWitness => "unknown_witness",
    /// A cosignature that does not verify for the checkpoint it names (`422`).
    BadCosignature => "bad_cosignature",
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
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
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
