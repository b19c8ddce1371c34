//! Control-plane bodies (HTTP + JSON). Paths are listed on [`paths`]; the server's router
//! and the client's transport both use these constants.

use crate::b64::Bytes64;
use crate::ids::{DeviceId, GroupId, MessageId, Region, Username};
use serde::{Deserialize, Serialize};

/// URL paths of the API, version-prefixed.
pub mod paths {
    pub const HEALTH: &str = "/v1/health";
    pub const CHALLENGE: &str = "/v1/register/challenge";
    pub const ACCOUNTS: &str = "/v1/accounts";
    pub const ACCOUNT_SELF: &str = "/v1/accounts/self";
    pub const SELF_DEVICE: &str = "/v1/devices/self";
    pub const DEVICES: &str = "/v1/devices";
    pub const DEVICE: &str = "/v1/devices/{device_id}";
    pub const KEY_PACKAGES: &str = "/v1/key-packages";
    /// `{username}` is filled in by the caller.
    pub const USER_DEVICES: &str = "/v1/users/{username}/devices";
    pub const USER_CLAIM: &str = "/v1/users/{username}/key-packages/claim";
    pub const MESSAGES: &str = "/v1/messages";
    pub const WEBSOCKET: &str = "/v1/ws";
    pub const WEBSOCKET_TICKET: &str = "/v1/ws/ticket";
    pub const AUDIT_KEY: &str = "/v1/audit/key";
    pub const AUDIT_ENTRIES: &str = "/v1/audit/entries";
    pub const AUDIT_CHECKPOINTS: &str = "/v1/audit/checkpoints";
    pub const AUDIT_CONSISTENCY: &str = "/v1/audit/consistency";
    pub const AUDIT_INCLUSION: &str = "/v1/audit/inclusion";
    pub const AUDIT_COSIGNATURES: &str = "/v1/audit/cosignatures";
    pub const POLICY: &str = "/v1/policy";
    pub const DIRECTORY_KEYS: &str = "/v1/directory/keys";
    pub const DIRECTORY_ROOTS: &str = "/v1/directory/roots";
    pub const DIRECTORY_AUDIT: &str = "/v1/directory/audit";
    pub const DIRECTORY_HISTORY: &str = "/v1/directory/self/history";
    pub const USER_DIRECTORY: &str = "/v1/users/{username}/directory";

    pub fn user_directory(username: &str) -> String {
        USER_DIRECTORY.replace("{username}", username)
    }

    pub fn user_devices(username: &str) -> String {
        USER_DEVICES.replace("{username}", username)
    }

    pub fn device(device: crate::DeviceId) -> String {
        DEVICE.replace("{device_id}", &device.to_string())
    }

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
    pub challenge: String,
    /// Leading zero bits the solution hash must have.
    pub difficulty: u8,
}

/// Registers a username with its first device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    pub username: Username,
    pub challenge: String,
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
    pub username: Username,
    pub device_id: DeviceId,
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddDeviceResponse {
    pub device_id: DeviceId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoveDeviceResponse {
    pub removed: DeviceId,
}

/// Uploads MLS key packages (RFC 9420 `MLSMessage` bytes of type key package).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadKeyPackagesRequest {
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadKeyPackagesResponse {
    pub key_packages_available: u64,
}

/// One of a user's devices as the server lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    pub device_id: DeviceId,
    pub signature_key: Bytes64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDevicesResponse {
    pub username: Username,
    pub devices: Vec<DeviceInfo>,
}

/// A key package claimed for one device of the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimedKeyPackage {
    pub device_id: DeviceId,
    pub key_package: Bytes64,
    /// True when this was the device's last-resort package (it stays on the server).
    pub last_resort: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimResponse {
    pub username: Username,
    pub key_packages: Vec<ClaimedKeyPackage>,
}

/// Welcome for the devices a commit adds, accepted or refused together with the commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WelcomeOut {
    pub message: Bytes64,
    pub recipients: Vec<DeviceId>,
}

/// Submits one MLS message (an RFC 9420 `MLSMessage` carrying a `PrivateMessage`) for a
/// group, to be queued for the listed devices. Recipients come from the sender's MLS
/// state, so the server never needs to keep a membership list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitRequest {
    pub group_id: GroupId,
    pub message: Bytes64,
    pub recipients: Vec<DeviceId>,
    #[serde(default)]
    pub welcome: Option<WelcomeOut>,
}

/// "Accepted": the message is committed to storage for every recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitResponse {
    pub id: MessageId,
    /// The group's epoch after this message (advanced by one for a commit).
    pub epoch: u64,
}

/// A single-use ticket for opening the delivery WebSocket as `/v1/ws?ticket=…`, so the
/// device's long-lived secret never travels in the socket's URL or handshake.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketResponse {
    pub ticket: String,
    pub expires_in_secs: u64,
}

impl std::fmt::Debug for TicketResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketResponse(<redacted>)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    pub status: String,
    pub version: String,
}

/// A notice from the service to a user, delivered like a message (kind 1): today, that
/// some of the account's data was disclosed under a lawful request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerNotice {
    pub text: String,
    pub request_id: String,
    pub authority: String,
    pub country: String,
    pub basis: String,
    pub categories: Vec<String>,
    pub disclosed_day: String,
    /// The salt of the request's target commitments, so the person told can find the
    /// audit entries that name them (`audit::target_commitment`).
    #[serde(default)]
    pub commitment_salt: String,
}
