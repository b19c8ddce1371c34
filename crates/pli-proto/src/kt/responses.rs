//! The API bodies of `/v1/directory/…`.

use super::domain::KtError;
use crate::b64::Bytes64;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

/// `GET /v1/directory/keys`: what a client pins the first time it meets the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryKeysResponse {
    /// The checkpoints' origin line, which is also the signing key's name.
    pub origin: String,
    /// The Ed25519 key that signs directory checkpoints.
    pub signing_key: Bytes64,
    /// The directory's VRF public key (hides usernames in the tree).
    pub vrf_public_key: Bytes64,
}

impl DirectoryKeysResponse {
    /// The key that verifies the directory's checkpoints.
    pub fn log_key(&self) -> Result<crate::checkpoint::LogKey, KtError> {
        let bytes: [u8; 32] = self
            .signing_key
            .as_slice()
            .try_into()
            .map_err(|_| KtError::MalformedKey)?;
        Ok(crate::checkpoint::LogKey {
            name: self.origin.clone(),
            key: VerifyingKey::from_bytes(&bytes).map_err(|_| KtError::MalformedKey)?,
        })
    }
}

/// `GET /v1/users/{username}/directory`: the user's devices as the directory lists them,
/// with the proof and the signed root it verifies against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LookupResponse {
    /// The signed checkpoint of the epoch the proof is for.
    pub root: String,
    /// akd `LookupProof`, protobuf.
    pub proof: Bytes64,
}

/// `GET /v1/directory/self/history`: the calling user's complete key history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    /// The signed checkpoint of the epoch the proof is for.
    pub root: String,
    /// akd `HistoryProof`, protobuf.
    pub proof: Bytes64,
}

/// `GET /v1/directory/roots`: signed checkpoints of epochs `from..`, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RootsResponse {
    /// Signed checkpoints (origin `<host>/kt`, size = epoch), oldest first.
    pub roots: Vec<String>,
}

/// `GET /v1/directory/audit`: append-only proofs for each epoch step in
/// `from..to`, as akd `SingleAppendOnlyProof` protobufs (proof `i` leads from epoch
/// `from + i` to `from + i + 1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditProofResponse {
    /// The first epoch.
    pub from: u64,
    /// The last epoch.
    pub to: u64,
    /// One proof per step, `to - from` of them.
    pub proofs: Vec<Bytes64>,
}

/// Most epoch steps one audit response covers.
pub const MAX_AUDIT_STEPS: u64 = 64;
/// Most roots one roots response lists.
pub const MAX_ROOTS: u64 = 1000;

/// `POST /admin/v1/directory/publish`: the directory's epoch after publishing what was
/// pending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublishResponse {
    /// The directory's current epoch.
    pub epoch: u64,
    /// Users whose device set changed in this publication (0: nothing was pending).
    pub changes: u64,
}
