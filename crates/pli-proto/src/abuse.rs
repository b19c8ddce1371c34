//! Abuse reports: what a recipient sends to report messages it received (each with its
//! franking opening and the server's stamp, see [`crate::franking`]), and what trust &
//! safety staff see of a report once the server has verified it.

use crate::b64::Bytes64;
use crate::governance::named_enum;
use crate::ids::{DeviceId, GroupId, Username};
use serde::{Deserialize, Serialize};

/// Most messages one report may carry.
pub const MAX_REPORTED_MESSAGES: usize = 50;

/// Most reports one device may file in an hour (`rate_limited` past it).
pub const REPORTS_PER_HOUR: u32 = 20;

/// Longest note a reporter may add, in bytes of UTF-8.
pub const MAX_REPORT_NOTE_BYTES: usize = 2_000;

named_enum! {
    /// Why a user reports messages.
    ReportReason {
        /// Unsolicited bulk or commercial messages, scams.
        Spam => "spam",
        /// Threats, insults, stalking.
        Harassment => "harassment",
        /// Content the reporter believes is illegal.
        Illegal => "illegal",
        /// Anything else (the note says what).
        Other => "other",
    }
}

/// One reported message: the text as the reporter's device decrypted it, the franking
/// opening that was inside the envelope, and the server's stamp that came with it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportedMessage {
    /// The text, exactly as sent.
    pub text: String,
    /// The sending device, as MLS authenticated it.
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub sender_device: DeviceId,
    /// The message id from the envelope (16 bytes).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub message_id: Bytes64,
    /// The sender's franking key from the envelope (32 bytes).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub franking_key: Bytes64,
    /// The server key that stamped the message.
    pub key_id: u32,
    /// The day the server accepted it (days since the Unix epoch, UTC).
    pub day: u32,
    /// The server's tag (32 bytes).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub tag: Bytes64,
}

/// Redacted: a reported text goes to trust & safety, never to a log.
impl std::fmt::Debug for ReportedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportedMessage(<{} bytes>)", self.text.len())
    }
}

/// `POST /v1/reports`: a report of messages received from one account in one conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbuseReportRequest {
    /// The conversation the messages came in.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub conversation: GroupId,
    /// The account that sent them.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reported: Username,
    /// Why.
    pub reason: ReportReason,
    /// The reporter's own words, at most [`MAX_REPORT_NOTE_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// From 1 to [`MAX_REPORTED_MESSAGES`] messages.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub messages: Vec<ReportedMessage>,
}

/// The answer to a report the server verified and stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportFiled {
    /// The report's id, for the reporter's reference.
    pub id: u64,
}

/// A reported message as trust & safety see it: verified text, sender and day.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifiedMessage {
    /// The text the sender sent, as the franking proved.
    pub text: String,
    /// The sending device.
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub sender_device: DeviceId,
    /// The day the server accepted it.
    pub day: u32,
}

impl std::fmt::Debug for VerifiedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "VerifiedMessage(<{} bytes>, day {})",
            self.text.len(),
            self.day
        )
    }
}

/// A stored report, as `GET /v1/admin/reports` lists it and `…/reports/{id}` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView {
    /// The report's id.
    pub id: u64,
    /// The account reported (the sender of every message).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reported: Username,
    /// The account that reported.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reporter: Username,
    /// Why.
    pub reason: ReportReason,
    /// The reporter's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The day the report was filed.
    pub filed_day: u32,
    /// The verified messages.
    pub messages: Vec<VerifiedMessage>,
}

named_enum! {
    /// What trust & safety do about an account.
    ActionKind {
        /// The report needs nothing done.
        Dismiss => "dismiss",
        /// The account is told that it broke the rules.
        Warn => "warn",
        /// The account may not send, claim key packages or add devices for some days.
        Suspend => "suspend",
        /// The same, with no end.
        Ban => "ban",
        /// A suspension or ban is lifted.
        Reinstate => "reinstate",
    }
}

named_enum! {
    /// How an appeal was decided.
    AppealOutcome {
        /// The action stands.
        Upheld => "upheld",
        /// The action is undone (a suspension or ban is lifted).
        Overturned => "overturned",
    }
}

/// Longest reason staff give for an action, or an account gives for an appeal, in bytes.
pub const MAX_REASON_BYTES: usize = 2_000;

/// Longest suspension, in days (a longer one is a ban).
pub const MAX_SUSPENSION_DAYS: u32 = 3_650;

/// `POST /admin/v1/abuse-reports/{id}/resolve`: what is done about a report's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveRequest {
    /// Dismiss, warn, suspend or ban (reinstating has its own route).
    pub action: ActionKind,
    /// For a suspension: how many days, 1 to [`MAX_SUSPENSION_DAYS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3650))]
    pub days: Option<u32>,
    /// Why, in words the account is shown (at most [`MAX_REASON_BYTES`]).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub reason: String,
}

/// A reason alone: for `POST /admin/v1/accounts/{username}/reinstate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReasonRequest {
    /// Why (at most [`MAX_REASON_BYTES`]).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub reason: String,
}

/// `POST /v1/me/actions/{id}/appeal`: the account asks for an action to be reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppealRequest {
    /// The account's case (at most [`MAX_REASON_BYTES`]).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub text: String,
}

/// `POST /admin/v1/actions/{id}/appeal/decide`: a staff member other than the one who took
/// the action decides its appeal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppealDecisionRequest {
    /// Upheld or overturned.
    pub outcome: AppealOutcome,
    /// Why (at most [`MAX_REASON_BYTES`]).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub reason: String,
}

/// An appeal and, once decided, its decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppealView {
    /// The account's case.
    pub text: String,
    /// When it was filed (milliseconds since the Unix epoch).
    pub filed_ms: u64,
    /// The decision, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AppealOutcome>,
    /// The deciding staff member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<u64>,
    /// Why it was decided so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
}

/// A trust & safety action on an account, as staff and the account see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionView {
    /// The action's id (what an appeal names).
    pub id: u64,
    /// The account acted on.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub account: Username,
    /// What was done.
    pub kind: ActionKind,
    /// For a suspension, when it ends (milliseconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// Why.
    pub reason: String,
    /// The staff member who took it.
    pub staff_id: u64,
    /// The report it resolved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<u64>,
    /// When (milliseconds since the Unix epoch).
    pub created_ms: u64,
    /// The account's appeal, if it made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<AppealView>,
}
