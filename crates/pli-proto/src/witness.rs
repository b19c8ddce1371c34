//! Witness cosignatures on audit checkpoints, in the C2SP `tlog-cosignature` format.
//!
//! A witness is a party outside the operator that keeps the newest checkpoint it verified
//! and co-signs a newer one only after checking it extends what it kept (a consistency
//! proof). A client that requires a witness's cosignature therefore never accepts a
//! checkpoint of a rewritten or cut-back log, unless the witness colludes too.
//!
//! A cosignature is one more signature line on the checkpoint's signed note:
//!
//! ```text
//! — <witness name> <base64(key id[4] ‖ timestamp[8, big-endian] ‖ Ed25519 signature[64])>
//! ```
//!
//! over the message `"cosignature/v1\ntime <timestamp>\n" ‖ <checkpoint body>`, where the
//! key id is the first four bytes of `SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)`. A witness
//! key is written as a C2SP vkey: `<name>+<hex key id>+<base64(0x04 ‖ public key)>`.

use crate::checkpoint::Checkpoint;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// `POST /v1/audit/cosignatures`: a witness hands the log its cosignature of the
/// checkpoint of size `size`. The server keeps it only from a witness its operator lists,
/// and only if it verifies; it then serves it as one more line of that checkpoint's note.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cosignature {
    /// The size of the checkpoint co-signed.
    pub size: u64,
    /// The witness's key, as a vkey (`name+keyid+key`).
    pub witness: String,
    /// The signature line.
    pub cosignature: String,
}

/// The answer to a kept cosignature.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CosignatureKept {
    /// The size of the checkpoint it is kept with.
    pub size: u64,
}

/// The signature type byte of a cosignature/v1 key.
const COSIGNATURE_TYPE: u8 = 0x04;

/// Why a witness key or cosignature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// Not a vkey, or its key id does not match its name and key.
    #[error("not a well-formed witness key (name+keyid+key)")]
    BadKey,
    /// Not a cosignature line, or not one by this witness (name or key id differ).
    #[error("not a well-formed cosignature line")]
    Malformed,
    /// This witness's line, but its signature does not cover this checkpoint at its time.
    #[error("the cosignature does not verify")]
    BadSignature,
}

/// A witness's public key and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey {
    /// The witness's name, as its cosignature lines carry it.
    pub name: String,
    /// Its Ed25519 public key.
    pub key: VerifyingKey,
}

fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([COSIGNATURE_TYPE]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn message(checkpoint: &Checkpoint, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{}", checkpoint.body())
}

impl WitnessKey {
    /// The public key of the witness named `name` that signs with `signing`.
    pub fn of(name: &str, signing: &SigningKey) -> Self {
        Self {
            name: name.to_owned(),
            key: signing.verifying_key(),
        }
    }

    /// The key as a C2SP vkey string, to hand to clients and servers.
    pub fn vkey(&self) -> String {
        let mut blob = vec![COSIGNATURE_TYPE];
        blob.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, &self.key)),
            STANDARD.encode(blob)
        )
    }

    /// Parses a vkey string, checking its key id.
    ///
    /// ```
    /// use pli_proto::witness::WitnessKey;
    /// let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    /// let witness = WitnessKey::of("witness.example", &key);
    /// assert_eq!(WitnessKey::parse(&witness.vkey()), Ok(witness));
    /// assert!(WitnessKey::parse("witness.example+00000000+AAAA").is_err());
    /// ```
    pub fn parse(vkey: &str) -> Result<Self, WitnessError> {
        // The name holds no `+`; the base64 key may.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(blob)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(WitnessError::BadKey);
        };
        let blob = STANDARD.decode(blob).map_err(|_| WitnessError::BadKey)?;
        let Some((&COSIGNATURE_TYPE, bytes)) = blob.split_first() else {
            return Err(WitnessError::BadKey);
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| WitnessError::BadKey)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| WitnessError::BadKey)?;
        if name.is_empty() || hex::encode(key_id(name, &key)) != id {
            return Err(WitnessError::BadKey);
        }
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    /// Checks a cosignature line on `checkpoint`; returns its timestamp. The line is
    /// bound to the checkpoint's whole body, so it cannot be moved to another checkpoint.
    ///
    /// ```
    /// use ed25519_dalek::SigningKey;
    /// use pli_proto::checkpoint::Checkpoint;
    /// use pli_proto::witness::{WitnessError, WitnessKey, cosign};
    /// let signing = SigningKey::from_bytes(&[5; 32]);
    /// let witness = WitnessKey::of("witness.example", &signing);
    /// let checkpoint = Checkpoint { origin: "pli.test/audit".into(), size: 3, root: [1; 32] };
    /// let line = cosign(&checkpoint, "witness.example", &signing, 1_700_000_000);
    /// assert_eq!(witness.verify(&checkpoint, &line), Ok(1_700_000_000));
    ///
    /// // The same size with another root (a rewritten log): refused.
    /// let rewritten = Checkpoint { root: [2; 32], ..checkpoint.clone() };
    /// assert_eq!(witness.verify(&rewritten, &line), Err(WitnessError::BadSignature));
    /// // A line signed by someone else under the witness's name: not the witness's.
    /// let forger = SigningKey::from_bytes(&[6; 32]);
    /// let forged = cosign(&checkpoint, "witness.example", &forger, 1_700_000_000);
    /// assert_eq!(witness.verify(&checkpoint, &forged), Err(WitnessError::Malformed));
    /// ```
    pub fn verify(&self, checkpoint: &Checkpoint, line: &str) -> Result<u64, WitnessError> {
        let rest = line
            .trim_end()
            .strip_prefix("\u{2014} ")
            .ok_or(WitnessError::Malformed)?;
        let (name, blob) = rest.rsplit_once(' ').ok_or(WitnessError::Malformed)?;
        let blob = STANDARD.decode(blob).map_err(|_| WitnessError::Malformed)?;
        if name != self.name || blob.len() != 76 || blob[..4] != key_id(&self.name, &self.key) {
            return Err(WitnessError::Malformed);
        }
        let time = u64::from_be_bytes(blob[4..12].try_into().expect("eight bytes"));
        let signature = Signature::from_slice(&blob[12..]).map_err(|_| WitnessError::Malformed)?;
        self.key
            .verify(message(checkpoint, time).as_bytes(), &signature)
            .map_err(|_| WitnessError::BadSignature)?;
        Ok(time)
    }

    /// Finds and checks this witness's cosignature among a signed note's lines: what a
    /// client that requires this witness asks of each checkpoint it accepts.
    ///
    /// A log of three entries, its checkpoint signed by the log and co-signed by a witness;
    /// the note as the log serves it, with the cosignature as one more line, verifies both
    /// ways. A note without the witness's line, or with a line for another checkpoint, is
    /// not co-signed:
    ///
    /// ```
    /// use ed25519_dalek::SigningKey;
    /// use pli_proto::checkpoint::{Checkpoint, LogKey, UnverifiedCheckpoint};
    /// use pli_proto::merkle::{leaf_hash, root};
    /// use pli_proto::witness::{WitnessKey, cosign};
    ///
    /// let log_signing = SigningKey::from_bytes(&[7; 32]);
    /// let log_key = LogKey { name: "pli.test/audit".into(), key: log_signing.verifying_key() };
    /// let witness_signing = SigningKey::from_bytes(&[5; 32]);
    /// let witness = WitnessKey::of("witness.example", &witness_signing);
    ///
    /// let leaves: Vec<_> = (0..3).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
    /// let checkpoint = Checkpoint { origin: log_key.name.clone(), size: 3, root: root(&leaves) };
    /// let note = checkpoint.sign(&log_key.name, &log_signing);
    /// let line = cosign(&checkpoint, &witness.name, &witness_signing, 1_700_000_000);
    /// let served = format!("{note}{line}\n");
    ///
    /// let verified = UnverifiedCheckpoint::parse(&served)?.verify(&log_key)?;
    /// assert!(witness.cosigned(&verified, &served));
    ///
    /// assert!(!witness.cosigned(&verified, &note), "no cosignature line");
    /// let older = Checkpoint { size: 2, root: root(&leaves[..2]), ..checkpoint.clone() };
    /// let older_line = cosign(&older, &witness.name, &witness_signing, 1_600_000_000);
    /// assert!(!witness.cosigned(&verified, &format!("{note}{older_line}\n")));
    /// # Ok::<(), pli_proto::checkpoint::CheckpointError>(())
    /// ```
    pub fn cosigned(&self, checkpoint: &Checkpoint, note: &str) -> bool {
        note.lines()
            .any(|line| self.verify(checkpoint, line).is_ok())
    }
}

/// Co-signs `checkpoint` at `time` (seconds since the Unix epoch): the signature line a
/// witness hands back, to be appended to the checkpoint's note.
///
/// ```
/// use pli_proto::checkpoint::Checkpoint;
/// use pli_proto::witness::{WitnessKey, cosign};
/// let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
/// let witness = WitnessKey::of("witness.example", &key);
/// let checkpoint = Checkpoint { origin: "pli.test/audit".into(), size: 4, root: [1; 32] };
/// let line = cosign(&checkpoint, "witness.example", &key, 1_700_000_000);
/// assert_eq!(witness.verify(&checkpoint, &line), Ok(1_700_000_000));
/// let other = Checkpoint { size: 5, ..checkpoint };
/// assert!(witness.verify(&other, &line).is_err());
/// ```
pub fn cosign(checkpoint: &Checkpoint, name: &str, key: &SigningKey, time: u64) -> String {
    let signature = key.sign(message(checkpoint, time).as_bytes());
    let mut blob = key_id(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&time.to_be_bytes());
    blob.extend_from_slice(&signature.to_bytes());
    format!("\u{2014} {name} {}", STANDARD.encode(blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cosignature_verifies_only_for_its_checkpoint_and_witness() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let witness = WitnessKey::of("w1", &key);
        let checkpoint = Checkpoint {
            origin: "o".into(),
            size: 2,
            root: [3; 32],
        };
        let line = cosign(&checkpoint, "w1", &key, 7);
        assert_eq!(witness.verify(&checkpoint, &line), Ok(7));
        let other = WitnessKey::of("w1", &SigningKey::from_bytes(&[8; 32]));
        assert!(other.verify(&checkpoint, &line).is_err());
        let moved = Checkpoint {
            root: [4; 32],
            ..checkpoint.clone()
        };
        assert_eq!(
            witness.verify(&moved, &line),
            Err(WitnessError::BadSignature)
        );
        assert!(witness.cosigned(&checkpoint, &format!("body\n\n— log AAAA\n{line}\n")));
        assert_eq!(WitnessKey::parse(&witness.vkey()), Ok(witness));
        assert_eq!(WitnessKey::parse("no-plus"), Err(WitnessError::BadKey));
        // Keys whose base64 holds a `+` parse too.
        for seed in 0..32u8 {
            let witness = WitnessKey::of("w", &SigningKey::from_bytes(&[seed; 32]));
            assert_eq!(WitnessKey::parse(&witness.vkey()), Ok(witness));
        }
    }
}
