//! What every pli directory shares: its akd domain and configuration, its limits, the
//! label of a user, the checkpoints' origin, and why an answer is refused.

use crate::ids::Username;
use akd_core::{AkdLabel, DomainLabel, ExperimentalConfiguration};

/// The domain separator of pli's directories: changing it changes every hash.
#[derive(Clone)]
pub struct PliDirectory;

impl DomainLabel for PliDirectory {
    fn domain_label() -> &'static [u8] {
        b"pli key directory v1"
    }
}

/// The akd configuration every pli directory and client uses.
pub type KtConfig = ExperimentalConfiguration<PliDirectory>;

/// Most devices one user may have listed (bounds the value a client decodes).
pub const MAX_DIRECTORY_DEVICES: usize = 64;
/// The version byte that starts every directory value ([`super::encode_devices`]).
pub(crate) const VALUE_VERSION: u8 = 1;

/// Why a directory answer is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KtError {
    /// A directory value that [`encode_devices`](super::encode_devices) did not write.
    #[error("the directory value is malformed")]
    MalformedValue,
    /// Proof bytes that are not an akd proof.
    #[error("the proof is malformed")]
    MalformedProof,
    /// A proof that does not verify for this user, VRF key and root.
    #[error("the proof does not verify against the signed root")]
    ProofFailed,
    /// A published directory signing key that is not an Ed25519 key.
    #[error("the directory's signing key is malformed")]
    MalformedKey,
    /// Only an ended account's old versions may be forgotten (see [`KeyHistory`](super::KeyHistory)).
    #[error("the directory forgot keys of an account that has not ended")]
    ForgottenTooSoon,
}

/// The directory's label for a user.
pub fn label(user: &Username) -> AkdLabel {
    AkdLabel::from(user.as_str())
}

/// The origin of the directory's checkpoints, and the name of the key that signs them: the
/// audit log origin's host part, then `/kt`.
pub fn origin(log_origin: &str) -> String {
    let host = log_origin.split('/').next().unwrap_or(log_origin);
    format!("{host}/kt")
}
