//! One error type for every handler. Each module error maps to a stable [`ErrorCode`] and
//! HTTP status; internal failures go out as `internal` with no detail and are logged in a
//! form that holds no user data.

use crate::accounts::AccountError;
use crate::delivery::DeliveryError;
use crate::governance::GovernanceError;
use crate::governance::rules::RuleError;
use crate::governance::staff::InvalidStaffName;
use crate::keys::KeyPackageError;
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pli_proto::ErrorCode;
use pli_proto::error::ErrorBody;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such endpoint",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadRequest,
            "method not allowed here",
        )
    }

    pub fn rate_limited(retry_after_ms: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many requests",
        );
        error.retry_after_secs = Some(retry_after_ms.div_ceil(1000).max(1));
        error
    }

    /// A failure the caller cannot act on. The cause is logged; it must hold no user data.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::internal_unlogged()
    }

    /// A store failure the caller cannot act on, logged by its stable kind only: the
    /// engine's text can quote user data (a value in a constraint message, a path).
    pub fn internal_store(err: &StoreError) -> Self {
        tracing::error!(store_error = err.kind(), "internal error");
        Self::internal_unlogged()
    }

    fn internal_unlogged() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody::new(self.code, self.message))).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // Lets the request log name the code without parsing the body.
        response.extensions_mut().insert(self.code);
        response
    }
}

impl From<crate::directory::DirectoryError> for ApiError {
    fn from(err: crate::directory::DirectoryError) -> Self {
        use crate::directory::DirectoryError as E;
        use StatusCode as S;
        let text = err.to_string();
        match err {
            E::Store(err) => err.into(),
            E::NotInDirectory => Self::new(S::NOT_FOUND, ErrorCode::NotInDirectory, text),
            E::InvalidEpochRange => Self::new(S::BAD_REQUEST, ErrorCode::InvalidEpochRange, text),
            E::NotYetPublished => {
                let mut busy = Self::new(S::SERVICE_UNAVAILABLE, ErrorCode::DirectoryBusy, text);
                busy.retry_after_secs = Some(1);
                busy
            }
            E::Akd(_) => Self::internal(&err),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        use StatusCode as S;
        let text = err.to_string();
        match err {
            StoreError::UsernameTaken => Self::new(S::CONFLICT, ErrorCode::UsernameTaken, text),
            StoreError::UnknownAccount => Self::new(S::NOT_FOUND, ErrorCode::UnknownUser, text),
            StoreError::UnknownRegion => {
                Self::new(S::UNPROCESSABLE_ENTITY, ErrorCode::UnknownRegion, text)
            }
            StoreError::UnknownRecipient => {
                Self::new(S::UNPROCESSABLE_ENTITY, ErrorCode::UnknownRecipient, text)
            }
            StoreError::QueueFull => Self::new(S::CONFLICT, ErrorCode::QueueFull, text),
            StoreError::StaleEpoch { .. } => Self::new(S::CONFLICT, ErrorCode::StaleEpoch, text),
            StoreError::UnknownGroup => Self::new(S::NOT_FOUND, ErrorCode::UnknownGroup, text),
            StoreError::TooManyKeyPackages => {
                Self::new(S::CONFLICT, ErrorCode::TooManyKeyPackages, text)
            }
            StoreError::UnknownDevice => Self::new(S::UNAUTHORIZED, ErrorCode::Unauthorized, text),
            StoreError::DeviceIdTaken => Self::new(S::CONFLICT, ErrorCode::DeviceIdTaken, text),
            StoreError::StaffNameTaken => Self::new(S::CONFLICT, ErrorCode::StaffNameTaken, text),
            StoreError::UnknownStaff => Self::new(S::NOT_FOUND, ErrorCode::UnknownStaff, text),
            StoreError::LastOperator => Self::new(S::CONFLICT, ErrorCode::LastOperator, text),
            StoreError::TotpEnrolled => Self::new(S::CONFLICT, ErrorCode::TotpEnrolled, text),
            StoreError::ReportReplayed => Self::new(S::CONFLICT, ErrorCode::ReportReplayed, text),
            StoreError::AppealExists => Self::new(S::CONFLICT, ErrorCode::AppealExists, text),
            StoreError::UnknownAction => Self::new(S::NOT_FOUND, ErrorCode::UnknownAction, text),
            StoreError::InvalidAppeal => Self::new(S::CONFLICT, ErrorCode::InvalidState, text),
            StoreError::QuotaExceeded => {
                Self::new(S::PAYLOAD_TOO_LARGE, ErrorCode::QuotaExceeded, text)
            }
            // Ids are random, so a taken one is a retried create the client never heard
            // answered: it gets a fresh id by trying again.
            StoreError::AttachmentExists => Self::new(S::CONFLICT, ErrorCode::InvalidState, text),
            StoreError::UnknownAttachment => {
                Self::new(S::NOT_FOUND, ErrorCode::UnknownAttachment, text)
            }
            StoreError::InvalidChunk => Self::new(S::BAD_REQUEST, ErrorCode::InvalidChunk, text),
            StoreError::ChunkOutOfOrder { .. } => {
                Self::new(S::CONFLICT, ErrorCode::ChunkOutOfOrder, text)
            }
            StoreError::AttachmentIncomplete => {
                Self::new(S::CONFLICT, ErrorCode::AttachmentIncomplete, text)
            }
            StoreError::Unavailable => {
                let mut error = Self::new(
                    S::SERVICE_UNAVAILABLE,
                    ErrorCode::OverCapacity,
                    "the server is busy; retry shortly",
                );
                error.retry_after_secs = Some(1);
                error
            }
            StoreError::AuditConflict | StoreError::NoticeReleased | StoreError::Backend(_) => {
                Self::internal_store(&err)
            }
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        let text = err.to_string();
        match err {
            AccountError::InvalidChallenge => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidChallenge, text)
            }
            AccountError::ProofOfWork => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::ProofOfWorkFailed, text)
            }
            AccountError::BadSignatureKey => Self::bad_request(text),
            AccountError::Unauthorized => {
                Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, text)
            }
            AccountError::Store(store) => store.into(),
        }
    }
}

impl From<KeyPackageError> for ApiError {
    fn from(err: KeyPackageError) -> Self {
        let status = match err {
            KeyPackageError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        let code = match err {
            KeyPackageError::TooLarge => ErrorCode::PayloadTooLarge,
            KeyPackageError::Expired => ErrorCode::KeyPackageExpired,
            KeyPackageError::LifetimeTooLong => ErrorCode::KeyPackageLifetimeTooLong,
            _ => ErrorCode::InvalidKeyPackage,
        };
        Self::new(status, code, err.to_string())
    }
}

impl From<crate::state::RateLimited> for ApiError {
    fn from(limited: crate::state::RateLimited) -> Self {
        ApiError::rate_limited(limited.retry_after_ms)
    }
}

impl From<crate::delivery::accept::AcceptError> for ApiError {
    fn from(err: crate::delivery::accept::AcceptError) -> Self {
        use crate::delivery::accept::AcceptError as E;
        match err {
            E::RateLimited(limited) => limited.into(),
            E::Invalid(invalid) => invalid.into(),
            E::Store(store) => store.into(),
            E::Suspended => suspended(),
        }
    }
}

impl From<crate::attachments::AttachmentError> for ApiError {
    fn from(err: crate::attachments::AttachmentError) -> Self {
        use crate::attachments::AttachmentError as E;
        let text = err.to_string();
        match err {
            E::TooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                text,
            ),
            E::Recipients => Self::new(StatusCode::BAD_REQUEST, ErrorCode::TooManyRecipients, text),
            E::Lifetime => Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, text),
            E::Suspended => suspended(),
            E::RateLimited(limited) => limited.into(),
            E::Store(store) => store.into(),
        }
    }
}

/// The answer to a suspended account's submission, claim or device registration.
pub fn suspended() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::AccountSuspended,
        "this account is suspended by trust & safety: it may receive and delete itself, not send, start conversations or add devices",
    )
}

/// The code a refused submission carries on the delivery socket: the one its HTTP answer
/// would carry ([`crate::delivery::accept::RefusalCode`]).
pub fn refusal_code(err: crate::delivery::accept::AcceptError) -> ErrorCode {
    ApiError::from(err).code
}

impl From<DeliveryError> for ApiError {
    fn from(err: DeliveryError) -> Self {
        let text = err.to_string();
        match err {
            DeliveryError::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                text,
            ),
            DeliveryError::TooManyRecipients => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::TooManyRecipients, text)
            }
            DeliveryError::NoRecipients => Self::bad_request(text),
            DeliveryError::EphemeralTooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                text,
            ),
            DeliveryError::TooManyEphemeralRecipients => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::TooManyRecipients, text)
            }
            DeliveryError::NotApplication => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidMlsMessage, text)
            }
            DeliveryError::NotPrivateMessage
            | DeliveryError::GroupMismatch
            | DeliveryError::BadWelcome => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidMlsMessage, text)
            }
        }
    }
}

impl From<crate::abuse::AbuseError> for ApiError {
    fn from(err: crate::abuse::AbuseError) -> Self {
        use crate::abuse::AbuseError as E;
        use crate::franking::FrankingError as F;
        use StatusCode as S;
        let text = err.to_string();
        match err {
            E::OwnMessage => Self::new(S::UNPROCESSABLE_ENTITY, ErrorCode::OwnMessage, text),
            E::Invalid(_) | E::Franking(F::Malformed) => {
                Self::new(S::BAD_REQUEST, ErrorCode::BadRequest, text)
            }
            E::Franking(F::KeyExpired) => {
                Self::new(S::UNPROCESSABLE_ENTITY, ErrorCode::FrankingKeyExpired, text)
            }
            E::Franking(F::DoesNotVerify) => {
                Self::new(S::UNPROCESSABLE_ENTITY, ErrorCode::BadFranking, text)
            }
            E::Store(err) => err.into(),
            E::Governance(err) => err.into(),
        }
    }
}

impl From<crate::moderation::ModerationError> for ApiError {
    fn from(err: crate::moderation::ModerationError) -> Self {
        use crate::moderation::ModerationError as E;
        let text = err.to_string();
        match err {
            E::Invalid(_) => Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, text),
            E::NotFound => Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, text),
            E::SameStaff => Self::new(StatusCode::FORBIDDEN, ErrorCode::PolicyRefused, text),
            E::Store(err) => err.into(),
            E::Governance(err) => err.into(),
        }
    }
}

impl From<GovernanceError> for ApiError {
    fn from(err: GovernanceError) -> Self {
        let text = err.to_string();
        match err {
            GovernanceError::Store(store) => store.into(),
            GovernanceError::Forbidden => {
                Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, text)
            }
            GovernanceError::UnknownRequest => {
                Self::new(StatusCode::NOT_FOUND, ErrorCode::UnknownRequest, text)
            }
            GovernanceError::UnknownUser => {
                Self::new(StatusCode::NOT_FOUND, ErrorCode::UnknownUser, text)
            }
            GovernanceError::AlreadyInitialised => {
                Self::new(StatusCode::CONFLICT, ErrorCode::AlreadyInitialised, text)
            }
            GovernanceError::Rule(RuleError::Invalid(_)) => Self::bad_request(text),
            GovernanceError::Rule(RuleError::Refused(_)) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::PolicyRefused,
                text,
            ),
            GovernanceError::Rule(RuleError::State(_)) => {
                Self::new(StatusCode::CONFLICT, ErrorCode::InvalidState, text)
            }
        }
    }
}

impl From<InvalidStaffName> for ApiError {
    fn from(err: InvalidStaffName) -> Self {
        Self::bad_request(err.to_string())
    }
}

impl From<crate::devices::DeviceError> for ApiError {
    fn from(err: crate::devices::DeviceError) -> Self {
        use crate::devices::DeviceError as E;
        use StatusCode as S;
        let text = err.to_string();
        match err {
            E::Store(store) => store.into(),
            E::BadSignatureKey | E::BadSecretHash | E::BadDirectoryKeys => Self::bad_request(text),
            E::MalformedEndorsement | E::EndorsementMismatch => {
                Self::new(S::BAD_REQUEST, ErrorCode::InvalidEndorsement, text)
            }
            E::TooManyDevices => Self::new(S::CONFLICT, ErrorCode::TooManyDevices, text),
            E::UnknownDevice => Self::new(S::NOT_FOUND, ErrorCode::UnknownDevice, text),
            E::LastDevice => Self::new(S::CONFLICT, ErrorCode::LastDevice, text),
            E::HistoryToSelf => Self::bad_request(text),
            E::HistoryPartSize => Self::new(S::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, text),
        }
    }
}
