//! Control-plane bodies (HTTP + JSON). Paths are listed on [`paths`]; the server's router
//! and the client's transport both use these constants.

use crate::b64::Bytes64;
use crate::ids::{DeviceId, GroupId, MessageId, Region, Username};
use serde::{Deserialize, Serialize};

/// URL paths of the API, version-prefixed.
pub mod paths {
    /// `GET`: liveness and version ([`super::HealthResponse`]).
    pub const HEALTH: &str = "/v1/health";
    /// `GET`: readiness for traffic, 200 or 503 ([`super::HealthResponse`]).
    pub const READY: &str = "/v1/ready";
    /// `GET`: a fresh registration puzzle ([`super::ChallengeResponse`]).
    pub const CHALLENGE: &str = "/v1/register/challenge";
    /// `POST`: registers an account ([`super::RegisterRequest`]).
    pub const ACCOUNTS: &str = "/v1/accounts";
    /// `DELETE`: deletes the caller's account, every device of it.
    pub const ACCOUNT_SELF: &str = "/v1/accounts/self";
    /// `GET`: the calling device and its key-package stock ([`super::SelfDeviceResponse`]).
    pub const SELF_DEVICE: &str = "/v1/devices/self";
    /// `POST`: adds an endorsed device to the caller's account ([`super::AddDeviceRequest`]).
    pub const DEVICES: &str = "/v1/devices";
    /// `DELETE`: removes one of the caller's devices; `{device_id}` is filled in by
    /// [`device`].
    pub const DEVICE: &str = "/v1/devices/{device_id}";
    /// `POST`: relays one sealed part of a history archive (at most
    /// [`crate::limits::MAX_HISTORY_PART_BYTES`], `application/octet-stream`) to another
    /// device of the caller's account; [`device_history`] fills in `{device_id}`.
    pub const DEVICE_HISTORY: &str = "/v1/devices/{device_id}/history";
    /// `POST`: uploads key packages ([`super::UploadKeyPackagesRequest`]).
    pub const KEY_PACKAGES: &str = "/v1/key-packages";
    /// `{username}` is filled in by the caller.
    pub const USER_DEVICES: &str = "/v1/users/{username}/devices";
    /// `POST`: claims one key package per device of a user, to add them to a group.
    pub const USER_CLAIM: &str = "/v1/users/{username}/key-packages/claim";
    /// `POST`: submits one MLS message ([`super::SubmitRequest`]).
    pub const MESSAGES: &str = "/v1/messages";
    /// `POST`: starts an attachment's upload ([`crate::attachment::CreateAttachmentRequest`]).
    pub const ATTACHMENTS: &str = "/v1/attachments";
    /// `GET`: an attachment's upload state ([`crate::attachment::AttachmentStatus`]), for
    /// its uploader and its recipients.
    pub const ATTACHMENT: &str = "/v1/attachments/{id}";
    /// `PUT`: uploads one chunk (the uploader); `GET`: downloads one (a recipient).
    pub const ATTACHMENT_CHUNK: &str = "/v1/attachments/{id}/chunks/{index}";
    /// `POST`: the calling recipient has the whole attachment, verified: once every
    /// recipient said so, the server deletes it.
    pub const ATTACHMENT_FETCHED: &str = "/v1/attachments/{id}/fetched";
    /// `PUT`: stores the account's encrypted profile (at most
    /// [`crate::limits::MAX_PROFILE_BYTES`] of ciphertext, `application/octet-stream`),
    /// replacing the last; `DELETE`: removes it.
    pub const MY_PROFILE: &str = "/v1/me/profile";
    /// `GET`: a user's encrypted profile, which only holders of its profile key can open.
    pub const USER_PROFILE: &str = "/v1/users/{username}/profile";
    /// `POST`: hands an ephemeral MLS message to connected devices
    /// ([`super::EphemeralRequest`]), storing nothing.
    pub const EPHEMERAL: &str = "/v1/ephemeral";
    /// `GET`: upgrades to the delivery WebSocket ([`crate::frame`]), authenticated by a
    /// ticket from [`WEBSOCKET_TICKET`] (or, for tools, the `Authorization` header).
    pub const WEBSOCKET: &str = "/v1/ws";
    /// `POST`: a single-use ticket for [`WEBSOCKET`] ([`super::TicketResponse`]).
    pub const WEBSOCKET_TICKET: &str = "/v1/ws/ticket";
    /// `GET`: the public key that verifies audit checkpoints, reports and disclosure packages.
    pub const AUDIT_KEY: &str = "/v1/audit/key";
    /// `GET`: a page of audit log entries, each as its exact JSON text.
    pub const AUDIT_ENTRIES: &str = "/v1/audit/entries";
    /// `GET`: a page of signed checkpoints, one per log size, with their cosignatures.
    pub const AUDIT_CHECKPOINTS: &str = "/v1/audit/checkpoints";
    /// `GET`: a consistency proof between two log sizes ([`crate::merkle`]).
    pub const AUDIT_CONSISTENCY: &str = "/v1/audit/consistency";
    /// `GET`: an inclusion proof of one entry ([`crate::merkle`]).
    pub const AUDIT_INCLUSION: &str = "/v1/audit/inclusion";
    /// `POST`: a witness's cosignature ([`crate::witness::Cosignature`]).
    pub const AUDIT_COSIGNATURES: &str = "/v1/audit/cosignatures";
    /// `GET`: each served region's published policy ([`crate::policy`]).
    pub const POLICY: &str = "/v1/policy";
    /// `GET`: what the server holds about the caller's account
    /// ([`crate::inventory::Inventory`]), as staff would see it.
    pub const MY_INVENTORY: &str = "/v1/me/inventory";
    /// `GET`: the key directory's keys ([`crate::kt::DirectoryKeysResponse`]).
    pub const DIRECTORY_KEYS: &str = "/v1/directory/keys";
    /// `GET`: signed directory roots ([`crate::kt::RootsResponse`]).
    pub const DIRECTORY_ROOTS: &str = "/v1/directory/roots";
    /// `GET`: append-only proofs between epochs ([`crate::kt::AuditProofResponse`]).
    pub const DIRECTORY_AUDIT: &str = "/v1/directory/audit";
    /// `GET`: the caller's key history proof ([`crate::kt::HistoryResponse`]).
    pub const DIRECTORY_HISTORY: &str = "/v1/directory/self/history";
    /// `GET`: a user's directory lookup proof ([`crate::kt::LookupResponse`]); `{username}`
    /// is filled in by [`user_directory`].
    pub const USER_DIRECTORY: &str = "/v1/users/{username}/directory";
    /// `POST`: report received messages ([`crate::abuse::AbuseReportRequest`]).
    pub const REPORTS: &str = "/v1/reports";
    /// `GET`: the trust & safety actions taken on the caller's account.
    pub const MY_ACTIONS: &str = "/v1/me/actions";
    /// `POST`: appeal one of them ([`crate::abuse::AppealRequest`]).
    pub const MY_ACTION_APPEAL: &str = "/v1/me/actions/{id}/appeal";

    /// [`MY_ACTION_APPEAL`] for action `id`.
    pub fn my_action_appeal(id: u64) -> String {
        MY_ACTION_APPEAL.replace("{id}", &id.to_string())
    }

    /// [`ATTACHMENT`] for `id`.
    pub fn attachment(id: &crate::attachment::AttachmentId) -> String {
        ATTACHMENT.replace("{id}", &id.to_hex())
    }

    /// [`ATTACHMENT_CHUNK`] for chunk `index` of `id`.
    pub fn attachment_chunk(id: &crate::attachment::AttachmentId, index: u32) -> String {
        ATTACHMENT_CHUNK
            .replace("{id}", &id.to_hex())
            .replace("{index}", &index.to_string())
    }

    /// [`ATTACHMENT_FETCHED`] for `id`.
    pub fn attachment_fetched(id: &crate::attachment::AttachmentId) -> String {
        ATTACHMENT_FETCHED.replace("{id}", &id.to_hex())
    }

    /// [`USER_DIRECTORY`] for `username`.
    pub fn user_directory(username: &str) -> String {
        USER_DIRECTORY.replace("{username}", username)
    }

    /// [`USER_PROFILE`] for `username`.
    pub fn user_profile(username: &str) -> String {
        USER_PROFILE.replace("{username}", username)
    }

    /// [`USER_DEVICES`] for `username`.
    pub fn user_devices(username: &str) -> String {
        USER_DEVICES.replace("{username}", username)
    }

    /// [`DEVICE_HISTORY`] for `device`.
    pub fn device_history(device: crate::DeviceId) -> String {
        DEVICE_HISTORY.replace("{device_id}", &device.to_string())
    }

    /// [`DEVICE`] for `device`.
    pub fn device(device: crate::DeviceId) -> String {
        DEVICE.replace("{device_id}", &device.to_string())
    }

    /// [`USER_CLAIM`] for `username`.
    pub fn user_claim(username: &str) -> String {
        USER_CLAIM.replace("{username}", username)
    }
}

/// The header devices authenticate with: `Authorization: Pli <device id>.<secret hex>`.
pub const AUTH_SCHEME: &str = "Pli";

/// A proof-of-work puzzle for one registration. The challenge is opaque to the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChallengeResponse {
    /// Opaque server-issued puzzle input; it expires within minutes ([`crate::pow`]).
    pub challenge: String,
    /// Leading zero bits the solution hash must have.
    pub difficulty: u8,
}

/// Registers a username with its first device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// The name to register; part of the proof of work, so a solution is for this name only.
    pub username: Username,
    /// The challenge from [`ChallengeResponse`], returned as received.
    pub challenge: String,
    /// The solution: [`crate::pow::verify`] must accept it for this challenge and username.
    pub nonce: u64,
    /// The device's MLS signature public key (Ed25519, raw bytes).
    pub signature_key: Bytes64,
    /// The account's home region, where all of its data will live; the server's default
    /// region when absent (`GET /v1/policy` lists them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// The new device's credentials. The secret is shown once; the server keeps only its hash.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterResponse {
    /// The registered name.
    pub username: Username,
    /// The first device's id, chosen by the server.
    pub device_id: DeviceId,
    /// The device's secret for `Authorization` (see [`AUTH_SCHEME`]); shown only this once.
    pub device_secret: String,
    /// The home region the account was registered in.
    pub region: Region,
}

impl std::fmt::Debug for RegisterResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterResponse")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// The answer to deleting one's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteAccountResponse {
    /// Days the account's remaining facts (username, creation and last-connection days) are
    /// kept under the home region's policy before they are erased; 0: erased already.
    pub facts_kept_days: u32,
}

/// What the server knows about the calling device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SelfDeviceResponse {
    /// The calling device.
    pub device_id: DeviceId,
    /// Unclaimed one-time key packages left that have not expired; the client tops up when
    /// it runs low.
    pub key_packages_available: u64,
    /// True if the device has a last-resort key package that has not expired.
    pub has_last_resort: bool,
    /// How many of the available one-time packages expire within
    /// `limits::KEY_PACKAGE_RENEWAL_SECS` (or were stored before the server recorded
    /// lifetimes): the client replaces them (`replace_expiring` on upload).
    #[serde(default)]
    pub key_packages_expiring: u64,
    /// True if the last-resort package expires within `limits::KEY_PACKAGE_RENEWAL_SECS`
    /// (or was stored before the server recorded lifetimes): the client uploads a new one.
    #[serde(default)]
    pub last_resort_expiring: bool,
}

/// Adds a device to the caller's account. The new device chose its id and secret (only the
/// secret's SHA-256 travels); the calling device endorses the new key by signing
/// `pli_proto::kt::endorsement_message` with its own signature key, so the user's other
/// devices can tell a device they added from one the server slipped in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddDeviceRequest {
    /// The id the new device chose for itself.
    pub device_id: DeviceId,
    /// The new device's MLS signature public key (Ed25519, raw bytes).
    pub signature_key: Bytes64,
    /// SHA-256 of the new device's secret.
    pub secret_hash: Bytes64,
    /// The calling device's Ed25519 signature over the endorsement message.
    pub endorsement: Bytes64,
    /// The key directory's keys as the calling device pinned them, authenticated for the
    /// new device: the server queues them for it (kind `KIND_LINK_KEYS`), so the new
    /// device takes them from the device that approved it, not from the server.
    #[serde(default)]
    pub directory_keys: Option<crate::kt::LinkedDirectoryKeys>,
}

/// The answer to adding a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddDeviceResponse {
    /// The device added; the key directory lists it from its next epoch.
    pub device_id: DeviceId,
}

/// The answer to removing a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoveDeviceResponse {
    /// The device removed; its connections are closed.
    pub removed: DeviceId,
}

/// Uploads MLS key packages (RFC 9420 `MLSMessage` bytes of type key package).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadKeyPackagesRequest {
    /// One-time key packages, each handed out once.
    #[serde(default)]
    pub key_packages: Vec<Bytes64>,
    /// Replaces the device's last-resort key package: handed out, and kept, only when no
    /// one-time package is left, so a device can always be added to a conversation.
    #[serde(default)]
    pub last_resort: Option<Bytes64>,
    /// Deletes the device's one-time packages that expire within
    /// `limits::KEY_PACKAGE_RENEWAL_SECS` before storing these (their replacements).
    /// Expired packages are deleted at every upload.
    #[serde(default)]
    pub replace_expiring: bool,
}

/// The answer to an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadKeyPackagesResponse {
    /// The device's unclaimed one-time packages after the upload.
    pub key_packages_available: u64,
}

/// One of a user's devices as the server lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    /// The device's id.
    pub device_id: DeviceId,
    /// Its MLS signature public key (Ed25519, raw bytes). Unverified: check it against the
    /// key directory ([`crate::kt`]) before trusting it.
    pub signature_key: Bytes64,
}

/// `GET /v1/users/{username}/devices`: the user's devices as the server lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDevicesResponse {
    /// The user asked about.
    pub username: Username,
    /// Every device of the account.
    pub devices: Vec<DeviceInfo>,
}

/// A key package claimed for one device of the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimedKeyPackage {
    /// The device the package is for.
    pub device_id: DeviceId,
    /// The key package (RFC 9420 `MLSMessage` bytes).
    pub key_package: Bytes64,
    /// True when this was the device's last-resort package (it stays on the server).
    pub last_resort: bool,
}

/// The answer to a claim: one package for each of the user's devices that has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimResponse {
    /// The user whose packages these are.
    pub username: Username,
    /// The claimed packages.
    pub key_packages: Vec<ClaimedKeyPackage>,
}

/// Welcome for the devices a commit adds, accepted or refused together with the commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WelcomeOut {
    /// The MLS `Welcome` message.
    pub message: Bytes64,
    /// The devices it is queued for: those the commit adds.
    pub recipients: Vec<DeviceId>,
}

/// Submits one MLS message (an RFC 9420 `MLSMessage` carrying a `PrivateMessage`) for a
/// group, to be queued for the listed devices. Recipients come from the sender's MLS
/// state, so the server never needs to keep a membership list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitRequest {
    /// The group the message is for; its epoch rule is checked from the clear header.
    pub group_id: GroupId,
    /// The `MLSMessage` bytes.
    pub message: Bytes64,
    /// The devices to queue it for.
    pub recipients: Vec<DeviceId>,
    /// A `Welcome` for devices the commit adds, if it adds any.
    #[serde(default)]
    pub welcome: Option<WelcomeOut>,
}

/// An ephemeral MLS message (a typing indicator) for the listed devices that are connected
/// right now: never stored, never queued for a device that is offline, lost if nobody is
/// there to take it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EphemeralRequest {
    /// The group the message is for.
    pub group_id: GroupId,
    /// The `MLSMessage` bytes (an application `PrivateMessage`), at most
    /// [`crate::limits::MAX_EPHEMERAL_BYTES`].
    pub message: Bytes64,
    /// The devices to hand it to, at most [`crate::limits::MAX_EPHEMERAL_RECIPIENTS`].
    pub recipients: Vec<DeviceId>,
}

/// "Accepted": the message is committed to storage for every recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitResponse {
    /// The id the server gave the message.
    pub id: MessageId,
    /// The group's epoch after this message (advanced by one for a commit).
    pub epoch: u64,
}

/// A single-use ticket for opening the delivery WebSocket as `/v1/ws?ticket=…`, so the
/// device's long-lived secret never travels in the socket's URL or handshake.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketResponse {
    /// The ticket, to pass as `?ticket=` (once).
    pub ticket: String,
    /// Seconds until the ticket expires unused.
    pub expires_in_secs: u64,
}

impl std::fmt::Debug for TicketResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketResponse(<redacted>)")
    }
}

/// `GET /v1/health`: whether the server is up, and its version. `GET /v1/ready` answers
/// the same shape: `ready` (200), or `starting`, `draining`, `database_unavailable` (503).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok` when the server answers.
    pub status: String,
    /// The server's crate version.
    pub version: String,
}

/// A notice from the service to a user, delivered like a message (kind 1): that some of
/// the account's data was disclosed under a lawful request (every field), or a trust &
/// safety action on the account (the text alone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ServerNotice {
    /// The notice in plain words, for display.
    pub text: String,
    /// The lawful request the disclosure answered, as the audit log names it.
    pub request_id: String,
    /// The authority that made the request.
    pub authority: String,
    /// The authority's country code.
    pub country: String,
    /// The request's legal basis ([`crate::governance::LegalBasis`]).
    pub basis: String,
    /// The data categories disclosed ([`crate::governance`]).
    pub categories: Vec<String>,
    /// The day the data was disclosed, `YYYY-MM-DD` (UTC).
    pub disclosed_day: String,
    /// The salt of the request's target commitments, so the person told can find the
    /// audit entries that name them (`audit::target_commitment`).
    #[serde(default)]
    pub commitment_salt: String,
}
