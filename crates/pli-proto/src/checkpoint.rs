//! Signed checkpoints in the C2SP tlog-checkpoint / signed-note format:
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(key id[4] ‖ Ed25519 signature[64])>
//! ```
//!
//! The key id is the first four bytes of `SHA-256(key name ‖ "\n" ‖ 0x01 ‖ public key)`.
//! An `UnverifiedCheckpoint` becomes a `Checkpoint` only through [`UnverifiedCheckpoint::verify`].

use crate::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// Why a checkpoint is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Not a signed note of origin, size and root; or a key that is not an Ed25519 key.
    #[error("the checkpoint is not a well-formed signed note")]
    Malformed,
    /// No signature line names the expected key (by name and key id).
    #[error("the checkpoint carries no signature by the expected key")]
    NoSignature,
    /// The expected key's signature line is there, but does not verify over the body.
    #[error("the checkpoint's signature does not verify")]
    BadSignature,
}

/// A verified checkpoint: the log named `origin` had `size` entries with this `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (`<host>/audit`, or `<host>/kt` for the key directory).
    pub origin: String,
    /// The number of entries (for the key directory: the epoch).
    pub size: u64,
    /// The Merkle root of those entries ([`crate::merkle::root`]).
    pub root: Hash,
}

/// A checkpoint as received, not yet trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedCheckpoint {
    body: String,
    checkpoint: Checkpoint,
    signatures: Vec<(String, Vec<u8>)>,
}

/// The public half of a log's signing key, as published: `name` and Ed25519 key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    /// The key name that signature lines carry (the log's origin).
    pub name: String,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
}

impl LogKey {
    /// A key as `GET /v1/audit/key` publishes it: its name and base64 Ed25519 key bytes.
    ///
    /// ```
    /// use pli_proto::checkpoint::LogKey;
    /// let key = LogKey::from_published("pli.test/audit", "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=")
    ///     .expect("a valid key");
    /// assert_eq!(key.name, "pli.test/audit");
    /// assert!(LogKey::from_published("x", "not base64").is_err());
    /// ```
    pub fn from_published(name: &str, base64_key: &str) -> Result<Self, CheckpointError> {
        let bytes: [u8; 32] = STANDARD
            .decode(base64_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::Malformed)?;
        Ok(Self {
            name: name.to_owned(),
            key: VerifyingKey::from_bytes(&bytes).map_err(|_| CheckpointError::Malformed)?,
        })
    }
}

fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([0x01]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl Checkpoint {
    /// The note's body, the three lines a signature covers: origin, size, base64 root.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Signs this checkpoint as a signed note, with the key named `name`.
    pub fn sign(&self, name: &str, key: &SigningKey) -> String {
        let body = self.body();
        let signature = key.sign(body.as_bytes());
        let mut blob = key_id(name, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{body}\n\u{2014} {name} {}\n", STANDARD.encode(blob))
    }
}

impl UnverifiedCheckpoint {
    /// Reads a signed note's body and signature lines, checking nothing but their form.
    pub fn parse(note: &str) -> Result<Self, CheckpointError> {
        let (body, signatures) = note.split_once("\n\n").ok_or(CheckpointError::Malformed)?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Malformed)?
            .to_owned();
        let size = lines
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or(CheckpointError::Malformed)?;
        let root: Hash = lines
            .next()
            .and_then(|l| STANDARD.decode(l).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::Malformed)?;
        let signatures = signatures
            .lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let rest = line
                    .strip_prefix("\u{2014} ")
                    .ok_or(CheckpointError::Malformed)?;
                let (name, sig) = rest.rsplit_once(' ').ok_or(CheckpointError::Malformed)?;
                let sig = STANDARD
                    .decode(sig)
                    .map_err(|_| CheckpointError::Malformed)?;
                Ok((name.to_owned(), sig))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            body,
            checkpoint: Checkpoint { origin, size, root },
            signatures,
        })
    }

    /// The claimed size, before verification (to order checkpoints).
    pub fn claimed_size(&self) -> u64 {
        self.checkpoint.size
    }

    /// The checkpoint, if one of its signature lines is `key`'s and verifies over its body;
    /// other lines (witness cosignatures) are ignored.
    ///
    /// A log of three entries, its checkpoint signed with a key from a fixed seed, verified;
    /// then a note whose size was changed, and the same note checked against another key:
    ///
    /// ```
    /// use ed25519_dalek::SigningKey;
    /// use pli_proto::checkpoint::{Checkpoint, CheckpointError, LogKey, UnverifiedCheckpoint};
    /// use pli_proto::merkle::{leaf_hash, root};
    ///
    /// let signing = SigningKey::from_bytes(&[7; 32]);
    /// let key = LogKey { name: "pli.test/audit".into(), key: signing.verifying_key() };
    /// let leaves: Vec<_> = (0..3).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
    /// let checkpoint = Checkpoint { origin: "pli.test/audit".into(), size: 3, root: root(&leaves) };
    /// let note = checkpoint.sign(&key.name, &signing);
    ///
    /// let verified = UnverifiedCheckpoint::parse(&note)?.verify(&key)?;
    /// assert_eq!(verified, checkpoint);
    ///
    /// // A log cut back to two entries cannot reuse the signature.
    /// let edited = note.replace("\n3\n", "\n2\n");
    /// assert_eq!(
    ///     UnverifiedCheckpoint::parse(&edited)?.verify(&key),
    ///     Err(CheckpointError::BadSignature)
    /// );
    /// // Another key of the same name did not sign it.
    /// let impostor = LogKey { key: SigningKey::from_bytes(&[8; 32]).verifying_key(), ..key };
    /// assert_eq!(
    ///     UnverifiedCheckpoint::parse(&note)?.verify(&impostor),
    ///     Err(CheckpointError::NoSignature)
    /// );
    /// # Ok::<(), CheckpointError>(())
    /// ```
    pub fn verify(self, key: &LogKey) -> Result<Checkpoint, CheckpointError> {
        let id = key_id(&key.name, &key.key);
        let (_, blob) = self
            .signatures
            .iter()
            .find(|(name, blob)| *name == key.name && blob.len() == 68 && blob[..4] == id)
            .ok_or(CheckpointError::NoSignature)?;
        let signature =
            Signature::from_slice(&blob[4..]).map_err(|_| CheckpointError::BadSignature)?;
        key.key
            .verify(self.body.as_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature)?;
        Ok(self.checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_notes_verify_only_with_their_key_and_body() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let log_key = LogKey {
            name: "pli.test/audit".into(),
            key: key.verifying_key(),
        };
        let checkpoint = Checkpoint {
            origin: "pli.test/audit".into(),
            size: 3,
            root: [9; 32],
        };
        let note = checkpoint.sign(&log_key.name, &key);
        assert!(note.contains("\n\n\u{2014} pli.test/audit "));
        let parsed = UnverifiedCheckpoint::parse(&note).expect("parse");
        assert_eq!(parsed.clone().verify(&log_key), Ok(checkpoint));
        let forged = note.replace("\n3\n", "\n4\n");
        assert_eq!(
            UnverifiedCheckpoint::parse(&forged)
                .expect("parse")
                .verify(&log_key),
            Err(CheckpointError::BadSignature)
        );
        let other = LogKey {
            name: log_key.name.clone(),
            key: SigningKey::from_bytes(&[8; 32]).verifying_key(),
        };
        assert_eq!(parsed.verify(&other), Err(CheckpointError::NoSignature));
        assert_eq!(
            UnverifiedCheckpoint::parse("nonsense"),
            Err(CheckpointError::Malformed)
        );
    }
}
