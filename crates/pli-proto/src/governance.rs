//! The vocabulary of governance shared by the server, the admin CLI and auditors: staff
//! roles, legal bases, data categories, lawful-request bodies and views.

use crate::ids::Username;
use serde::{Deserialize, Serialize};

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable name, as JSON and the audit log spell it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The value named `text` (its [`Self::as_str`] spelling), if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        /// Written by hand: the derive does not see the renames inside this macro.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($name::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Shared with the other vocabularies of named values (`abuse`).
pub(crate) use named_enum;

named_enum! {
    /// What a staff member may do. No role can read content: none exists to read.
    Role {
        /// Manages staff, runs reports, retention, moves and directory publication.
        Operator => "operator",
        /// Enters and reviews lawful requests (approves, rejects, discloses, closes); sees
        /// alerts and account inventories.
        Legal => "legal",
        /// Enters and edits lawful requests, but may not approve or disclose.
        TrustSafety => "trust-safety",
        /// Reads staff and requests and makes reports; changes nothing.
        Auditor => "auditor",
    }
}

named_enum! {
    /// The legal basis a request rests on.
    LegalBasis {
        /// A subpoena: enough for subscriber data only.
        Subpoena => "subpoena",
        /// A court order.
        CourtOrder => "court-order",
        /// A search warrant.
        SearchWarrant => "search-warrant",
        /// An imminent threat to life: one approval with a written attestation, and a second
        /// review afterwards.
        Emergency => "emergency",
        /// Holds the targets' inventory from expiry for 90 days; discloses nothing.
        Preservation => "preservation",
        /// A mutual legal assistance treaty request.
        Mlat => "mlat",
    }
}

named_enum! {
    /// The parts of the data inventory a request may ask for. Message content is not one:
    /// the server holds none it can read.
    DataCategory {
        /// Username, home region, creation and last-connection days.
        Subscriber => "subscriber",
        /// Device ids and public keys.
        Devices => "devices",
        /// Connection IP addresses, only where the region's policy keeps any.
        Ip => "ip",
    }
}

named_enum! {
    /// Where a lawful request is in its lifecycle.
    RequestState {
        /// Entered (or edited beyond a narrowing), no approval yet.
        Received => "received",
        /// Approved by fewer reviewers than its basis needs, or narrowed and awaiting review.
        InReview => "in-review",
        /// Has the approvals its basis needs; may be disclosed.
        Approved => "approved",
        /// Approved after an edit that only removed categories or targets.
        Narrowed => "narrowed",
        /// Refused by a reviewer (for an emergency, possibly after disclosure).
        Rejected => "rejected",
        /// The package was produced; notices are sent or held.
        Disclosed => "disclosed",
        /// The targets' notices have gone out (after any non-disclosure order ended).
        Notified => "notified",
        /// Closed by a legal reviewer: nothing more happens to it.
        Closed => "closed",
    }
}

/// A lawful request as entered by staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRequest {
    /// 1 to 200 characters, not all blank.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub authority: String,
    /// ISO 3166-1 alpha-2, upper case.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Z]{2}$"))]
    pub country: String,
    /// The basis it rests on; must be one the targets' region recognises.
    pub basis: LegalBasis,
    /// 1 to 200 characters, not all blank.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub doc_ref: String,
    /// SHA-256 of the legal document, lowercase hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub doc_sha256: String,
    /// 1 to 100 accounts, each named once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub targets: Vec<Username>,
    /// What it asks for; each category needs a minimum basis.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub categories: Vec<DataCategory>,
    /// Day (`YYYY-MM-DD`) until which the user may not be told.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            format = Date,
            pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9])|(0[13-9]|1[0-2])-30|(0[13578]|1[02])-31)$"
        )
    )]
    pub nondisclosure_until: Option<String>,
    /// Required for emergency requests: the imminent threat, in the requester's words.
    #[serde(default)]
    pub attestation: Option<String>,
    /// Day (`YYYY-MM-DD`) the answer is due.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            format = Date,
            pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9])|(0[13-9]|1[0-2])-30|(0[13578]|1[02])-31)$"
        )
    )]
    pub due: Option<String>,
}

/// One reviewer's approval of one version of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    /// The approving legal reviewer.
    pub staff_id: u64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The request hash the approval was given for; an edit makes it void.
    pub request_hash: String,
}

/// A request as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestView {
    /// The request's id, as the audit log names it.
    pub id: String,
    /// Where it is in its lifecycle.
    pub state: RequestState,
    /// Its current content.
    pub request: NewRequest,
    /// SHA-256 of the request's canonical JSON: what approvals are bound to.
    pub hash: String,
    /// The staff member who entered it.
    pub entered_by: u64,
    /// Everyone who edited the request since it was entered, each once, in order. They
    /// are its authors as much as the one who entered it: none of them may approve it.
    #[serde(default)]
    pub edited_by: Vec<u64>,
    /// When it was entered, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Approvals of the version as it stands: an edit clears them (the audit log keeps
    /// every approval ever given).
    pub approvals: Vec<Approval>,
    /// Emergency requests: when the second review is due (until it is given), and whether
    /// it fell overdue (set, and logged, by the server when the deadline passed).
    #[serde(default)]
    pub second_review_due_ms: Option<u64>,
    /// Whether that second review fell overdue.
    #[serde(default)]
    pub overdue: bool,
    /// Why it was rejected, if it was.
    #[serde(default)]
    pub rejection_reason: Option<String>,
    /// SHA-256 (hex) of the disclosure package, once disclosed; the audit log carries it too.
    #[serde(default)]
    pub package_sha256: Option<String>,
    /// Set once an edit only narrowed the request (fewer categories or targets).
    #[serde(default)]
    pub narrowed_from: Option<String>,
    /// The secret salt of this request's target commitments (hex; never in the public
    /// log): given to each person named, with their notice, and seen by staff. Empty for a
    /// request entered before salts (its commitments are the unsalted form).
    #[serde(default)]
    pub commitment_salt: String,
    /// The secret salt of the commitment to the non-disclosure date, published with the
    /// date once the order ends.
    #[serde(default)]
    pub gag_salt: String,
    /// The versions an edit replaced, oldest first, so reviewers see what changed between
    /// the version entered and the one they approve. Empty until the first edit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<RequestVersion>,
}

/// A version of a request that an edit replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestVersion {
    /// Its content, as it stood.
    pub request: NewRequest,
    /// Its hash (what approvals of it were bound to).
    pub hash: String,
    /// Who replaced it (the editor).
    pub replaced_by: u64,
    /// When, in milliseconds since the Unix epoch.
    pub replaced_ms: u64,
}

impl RequestView {
    /// Whether an edit only narrowed the request (it is then `narrowed` once re-approved).
    pub fn narrowed(&self) -> bool {
        self.narrowed_from.is_some()
    }

    /// Whether `staff_id` entered or edited the request (and so may not approve it).
    pub fn authored_by(&self, staff_id: u64) -> bool {
        self.entered_by == staff_id || self.edited_by.contains(&staff_id)
    }
}

/// A staff member's credential file, written once by `pli admin init` or
/// `pli admin staff add` and readable by its owner only.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffCredential {
    /// The member's id, the first half of the `Authorization` credential.
    pub staff_id: u64,
    /// The member's name.
    pub name: String,
    /// What the member may do.
    pub role: Role,
    /// The second half of the credential; the server keeps only its hash.
    pub secret: String,
    /// The admin API, if known when the file was written.
    #[serde(default)]
    pub server: Option<String>,
}

impl std::fmt::Debug for StaffCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StaffCredential({}, {}, <secret>)",
            self.staff_id, self.role
        )
    }
}

/// The header scheme staff authenticate with: `Authorization: PliStaff <id>.<secret>`.
pub const STAFF_AUTH_SCHEME: &str = "PliStaff";

/// `POST /admin/v1/staff`: a staff member to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewStaff {
    /// 1 to 64 of `a-z A-Z 0-9 - _ .`, unique among staff.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub name: String,
    /// What the member may do.
    pub role: Role,
}

/// A staff member as `GET /admin/v1/staff` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffInfo {
    /// The member's id, as audit entries name them.
    pub staff_id: u64,
    /// The member's name.
    pub name: String,
    /// What the member may do.
    pub role: Role,
}

/// The body of `POST /admin/v1/staff/{staff_id}/role`: the member's new role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffRoleChange {
    /// The new role, effective from the member's next call.
    pub role: Role,
}

/// Something a staff member must act on (`GET /admin/v1/alerts`), drawn from the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffAlert {
    /// The audit entry that raised it.
    pub seq: u64,
    /// When that entry was written, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// `second-review-overdue`: an emergency's second review missed its deadline.
    pub kind: String,
    /// The request it is about.
    pub request_id: String,
    /// The deadline that was missed, if the alert has one.
    #[serde(default)]
    pub due_ms: Option<u64>,
    /// Whether it still needs doing (the review is still awaited).
    pub open: bool,
}

/// `POST /admin/v1/requests/{id}/reject`: why the request is rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectRequest {
    /// 1 to 2,000 characters, not all blank.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = "\\S")
    )]
    pub reason: String,
}

/// `POST /admin/v1/reports`: the period to report on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRequest {
    /// A quarter or half-year, of a year from 1970 to 9999: `2026-Q4`, `2026-H2`.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-(Q[1-4]|H[12])$")
    )]
    pub period: String,
}

/// The public key that verifies the audit log's checkpoints, reports and packages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditKey {
    /// The key's name: the checkpoints' origin line and the note signature's key name.
    pub name: String,
    /// Ed25519 public key, base64.
    pub public_key: String,
}

/// `GET /v1/audit/entries`: a page of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntries {
    /// Each entry's exact bytes (JSON text); the leaf hash is over these bytes.
    pub entries: Vec<String>,
}

/// `GET /v1/audit/checkpoints`: a page of signed checkpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditCheckpoints {
    /// Signed notes ([`crate::checkpoint`]), with any witness cosignature lines.
    pub checkpoints: Vec<String>,
}

/// `GET /v1/audit/consistency` and `/inclusion`: a Merkle proof ([`crate::merkle`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditProof {
    /// Hashes, hex.
    pub proof: Vec<String>,
}

/// Parses a `YYYY-MM-DD` day into milliseconds since the Unix epoch (UTC midnight).
pub fn parse_day(text: &str) -> Option<u64> {
    let mut parts = text.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || text.len() != 10
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if days < 0 || civil_from_days(days) != (year, month, day) {
        return None;
    }
    Some(days as u64 * 86_400_000)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_bad_dates_are_refused() {
        assert_eq!(parse_day("1970-01-02"), Some(86_400_000));
        assert_eq!(format_day(20_000), "2024-10-04");
        assert_eq!(parse_day(&format_day(20_000)), Some(20_000 * 86_400_000));
        for bad in ["2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", "x"] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(
            serde_json::to_string(&Role::TrustSafety).expect("json"),
            "\"trust-safety\""
        );
        assert_eq!(
            LegalBasis::parse("court-order"),
            Some(LegalBasis::CourtOrder)
        );
        assert_eq!(DataCategory::parse("content"), None);
    }
}

/// `POST /admin/v1/accounts/{username}/region`: move the account's data to another region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoveRequest {
    /// The region to move the account's data to.
    pub region: crate::ids::Region,
}

/// What a move carried (no username: the caller named it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoveResponse {
    /// The account's home region before the move.
    pub from: crate::ids::Region,
    /// Its home region now.
    pub to: crate::ids::Region,
    /// Devices moved.
    pub devices: u64,
    /// Queued messages moved with them.
    pub queued_messages: u64,
}

/// `POST /admin/v1/retention`: what a retention sweep removed, every region together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionResponse {
    /// Deleted accounts whose remaining facts were erased (their names are free again).
    pub erased_accounts: u64,
    /// Queued copies (one per device and message) deleted undelivered past their region's
    /// time-to-live.
    pub expired_queue_entries: u64,
    /// Copies past their time kept because their account is under a preservation order.
    pub held_queue_entries: u64,
    /// Preservation orders that ran out.
    pub expired_holds: u64,
    /// Connection IP records past their region's period (only regions that keep any).
    pub expired_ips: u64,
    /// Abuse reports past their region's `report_retention_days`, deleted with their
    /// messages (absent from an older server's answer).
    #[serde(default)]
    pub expired_reports: u64,
}
