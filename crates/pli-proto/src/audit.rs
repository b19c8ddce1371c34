//! The audit log's entry format and its offline verification.
//!
//! Every staff action is one entry: who (staff id and role, never a name), what, when, the
//! outcome, and details that hold no personal data: targets appear only as commitments
//! under a secret per-request salt ([`target_commitment`]), non-disclosure dates as
//! commitments until they end ([`date_commitment`]), documents only as hashes. So the log can be public,
//! and anyone can verify it and recompute the transparency reports from it.
//! The server signs a checkpoint after every append, so verification names the first entry
//! that was edited, deleted, inserted or moved.

use crate::checkpoint::{CheckpointError, LogKey, UnverifiedCheckpoint};
use crate::merkle::{self, Hash};
use serde::{Deserialize, Serialize};

/// One staff (or server) action, as the log records it; its JSON bytes are a Merkle leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// 0 for the server itself (scheduled work such as releasing held notices).
    pub staff_id: u64,
    /// The acting staff member's role ([`crate::governance::Role`]), or `server`.
    pub role: String,
    /// What was done, e.g. `request.create` or `staff.add` (GOVERNANCE.md lists them).
    pub action: String,
    /// `ok`, `denied` (role not allowed) or `refused` (a rule said no).
    pub outcome: String,
    /// Action-specific facts, with no personal data: targets as [`target_commitment`]s,
    /// documents as hashes.
    #[serde(default)]
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// The entry's JSON bytes, which the log stores and hashes as they are.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an audit entry always serialises")
    }

    /// Reads an entry's JSON bytes; `None` if they are not an entry.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

/// A commitment to a username within a request, under the request's secret `salt` (hex of
/// 32 random bytes, never published): the log shows that the request names someone, and
/// nobody holding the log and a list of candidate names can tell whom. The person named
/// gets the salt with their notice, and an auditor holding the staff view of the request
/// has it, so either can check the entry. An empty salt is the unsalted form pli wrote
/// before salts (`SHA-256(request id ‖ 0 ‖ username)`), kept so older entries still check.
///
/// ```
/// use pli_proto::audit::target_commitment;
/// let salt = "7f".repeat(32);
/// let named = target_commitment(&salt, "1234abcd", "alice");
/// assert_eq!(named, target_commitment(&salt, "1234abcd", "alice"));
/// // Without the salt, a guess cannot be confirmed.
/// assert_ne!(named, target_commitment("", "1234abcd", "alice"));
/// assert_ne!(named, target_commitment(&"00".repeat(32), "1234abcd", "alice"));
/// ```
pub fn target_commitment(salt: &str, request_id: &str, username: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    if !salt.is_empty() {
        hasher.update(b"pli target commitment v2\0");
        hasher.update(salt.as_bytes());
        hasher.update([0]);
    }
    hasher.update(request_id.as_bytes());
    hasher.update([0]);
    hasher.update(username.as_bytes());
    hex::encode(hasher.finalize())
}

/// A commitment to a non-disclosure order's end date (`YYYY-MM-DD`) under its own secret
/// salt: published while the order runs, instead of the date. When it ends, the log
/// publishes the date and the salt, and anyone can check this commitment against them.
///
/// ```
/// use pli_proto::audit::date_commitment;
/// let salt = "a1".repeat(32);
/// let committed = date_commitment(&salt, "2027-03-01");
/// assert_eq!(committed, date_commitment(&salt, "2027-03-01"));
/// assert_ne!(committed, date_commitment(&salt, "2027-03-02"));
/// ```
pub fn date_commitment(salt: &str, day: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"pli non-disclosure date v1\0");
    hasher.update(salt.as_bytes());
    hasher.update([0]);
    hasher.update(day.as_bytes());
    hex::encode(hasher.finalize())
}

/// Why a log does not verify. The first bad entry is named when it can be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// This entry differs from what the checkpoints commit to.
    #[error(
        "entry {0} is not the entry the signed checkpoints commit to (edited, deleted, inserted or moved)"
    )]
    BadEntry(u64),
    /// This entry is not an [`AuditEntry`], or its `seq` is not its position.
    #[error("entry {0} is malformed or out of sequence")]
    MalformedEntry(u64),
    /// A checkpoint does not parse or is not signed by the log's key.
    #[error("the checkpoint for size {size} does not verify: {reason}")]
    BadCheckpoint {
        /// The size it claims (0 if it does not parse).
        size: u64,
        /// What is wrong with it.
        reason: CheckpointError,
    },
    /// Entries were cut off the end: a checkpoint vouches for more than are held.
    #[error("a checkpoint covers {size} entries but the log holds only {held}")]
    Truncated {
        /// The entries the checkpoint covers.
        size: u64,
        /// The entries held.
        held: u64,
    },
    /// No checkpoint was given, so nothing vouches for the entries.
    #[error("no checkpoint verifies the log")]
    NoCheckpoint,
}

/// What a verified log amounts to.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedLog {
    /// Every entry, decoded, in order (including the unsigned tail).
    pub entries: Vec<AuditEntry>,
    /// The newest verified checkpoint's size and root.
    pub size: u64,
    /// The root hash of the first `size` entries, as that checkpoint signs it.
    pub root: Hash,
    /// Entries past the newest checkpoint (appended, checkpoint not yet written).
    pub unsigned_tail: u64,
}

/// Verifies `entries` (raw bytes, in order) against signed `checkpoints`, any number and
/// order of them, each of which must verify with `key`: every checkpoint's root must be the
/// root of that many leading entries. This is what `pli audit verify` runs.
///
/// A log of three entries with the checkpoint the server signs after each append verifies;
/// an edited entry is named, and a log cut back is caught:
///
/// ```
/// use ed25519_dalek::SigningKey;
/// use pli_proto::audit::{AuditEntry, LogError, verify_log};
/// use pli_proto::checkpoint::{Checkpoint, LogKey};
/// use pli_proto::merkle::{leaf_hash, root};
///
/// let signing = SigningKey::from_bytes(&[3; 32]);
/// let key = LogKey { name: "pli.test/audit".into(), key: signing.verifying_key() };
/// let entries: Vec<Vec<u8>> = ["staff.add", "request.create", "request.approve"]
///     .iter()
///     .enumerate()
///     .map(|(seq, action)| {
///         AuditEntry {
///             seq: seq as u64,
///             time_ms: 1_700_000_000_000 + seq as u64,
///             staff_id: 1,
///             role: "legal".into(),
///             action: action.to_string(),
///             outcome: "ok".into(),
///             details: serde_json::json!({}),
///         }
///         .encode()
///     })
///     .collect();
/// let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
/// let checkpoints: Vec<String> = (1..=3)
///     .map(|size| {
///         let root = root(&leaves[..size]);
///         Checkpoint { origin: key.name.clone(), size: size as u64, root }.sign(&key.name, &signing)
///     })
///     .collect();
///
/// let log = verify_log(&entries, &checkpoints, &key)?;
/// assert_eq!((log.size, log.entries.len(), log.unsigned_tail), (3, 3, 0));
/// assert_eq!(log.entries[2].action, "request.approve");
///
/// let mut edited = entries.clone();
/// edited[1] = String::from_utf8(edited[1].clone())?
///     .replace("request.create", "staff.add")
///     .into_bytes();
/// assert_eq!(verify_log(&edited, &checkpoints, &key), Err(LogError::BadEntry(1)));
/// assert_eq!(
///     verify_log(&entries[..2], &checkpoints, &key),
///     Err(LogError::Truncated { size: 3, held: 2 })
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_log(
    entries: &[Vec<u8>],
    checkpoints: &[String],
    key: &LogKey,
) -> Result<VerifiedLog, LogError> {
    let mut parsed = Vec::with_capacity(entries.len());
    for (index, bytes) in entries.iter().enumerate() {
        match AuditEntry::decode(bytes) {
            Some(entry) if entry.seq == index as u64 => parsed.push(entry),
            _ => {
                // A bad entry also breaks the checkpoints; report it as what it is first.
                let leaves: Vec<Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
                return Err(first_mismatch(&leaves, checkpoints, key)
                    .unwrap_or(LogError::MalformedEntry(index as u64)));
            }
        }
    }
    let leaves: Vec<Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
    if let Some(err) = first_mismatch(&leaves, checkpoints, key) {
        return Err(err);
    }
    let newest = newest_verified(checkpoints, key)?.ok_or(LogError::NoCheckpoint)?;
    Ok(VerifiedLog {
        entries: parsed,
        size: newest.0,
        root: newest.1,
        unsigned_tail: leaves.len() as u64 - newest.0,
    })
}

fn sorted(checkpoints: &[String], key: &LogKey) -> Result<Vec<(u64, Hash)>, LogError> {
    let mut verified = Vec::with_capacity(checkpoints.len());
    for note in checkpoints {
        let unverified = UnverifiedCheckpoint::parse(note)
            .map_err(|reason| LogError::BadCheckpoint { size: 0, reason })?;
        let size = unverified.claimed_size();
        let checkpoint = unverified
            .verify(key)
            .map_err(|reason| LogError::BadCheckpoint { size, reason })?;
        verified.push((checkpoint.size, checkpoint.root));
    }
    verified.sort();
    Ok(verified)
}

fn newest_verified(checkpoints: &[String], key: &LogKey) -> Result<Option<(u64, Hash)>, LogError> {
    Ok(sorted(checkpoints, key)?.pop())
}

/// The first entry that no longer matches the checkpoints, if any. The server signs a
/// checkpoint after every append, so the entry just past the last matching checkpoint is
/// exactly the first bad one.
fn first_mismatch(leaves: &[Hash], checkpoints: &[String], key: &LogKey) -> Option<LogError> {
    let verified = match sorted(checkpoints, key) {
        Ok(v) => v,
        Err(err) => return Some(err),
    };
    let mut last_good = 0u64;
    for (size, root) in verified {
        if size > leaves.len() as u64 {
            // Entries were deleted: the first missing or shifted one is the culprit.
            return Some(if last_good < leaves.len() as u64 {
                LogError::BadEntry(last_good)
            } else {
                LogError::Truncated {
                    size,
                    held: leaves.len() as u64,
                }
            });
        }
        if merkle::root(&leaves[..size as usize]) != root {
            return Some(LogError::BadEntry(last_good));
        }
        last_good = size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use ed25519_dalek::SigningKey;

    fn log(n: u64) -> (Vec<Vec<u8>>, Vec<String>, LogKey) {
        let key = SigningKey::from_bytes(&[3; 32]);
        let log_key = LogKey {
            name: "test/audit".into(),
            key: key.verifying_key(),
        };
        let entries: Vec<Vec<u8>> = (0..n)
            .map(|seq| {
                AuditEntry {
                    seq,
                    time_ms: 1000 + seq,
                    staff_id: 1,
                    role: "operator".into(),
                    action: "staff.add".into(),
                    outcome: "ok".into(),
                    details: serde_json::json!({"n": seq}),
                }
                .encode()
            })
            .collect();
        let leaves: Vec<Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
        let checkpoints = (1..=n)
            .map(|size| {
                Checkpoint {
                    origin: "test/audit".into(),
                    size,
                    root: merkle::root(&leaves[..size as usize]),
                }
                .sign(&log_key.name, &key)
            })
            .collect();
        (entries, checkpoints, log_key)
    }

    #[test]
    fn an_honest_log_verifies() {
        let (entries, checkpoints, key) = log(6);
        let verified = verify_log(&entries, &checkpoints, &key).expect("verifies");
        assert_eq!(verified.size, 6);
        assert_eq!(verified.entries.len(), 6);
    }

    #[test]
    fn edits_deletions_insertions_and_swaps_name_the_first_bad_entry() {
        let (entries, checkpoints, key) = log(6);
        let mut edited = entries.clone();
        edited[3] = String::from_utf8(edited[3].clone())
            .expect("utf8")
            .replace("staff.add", "staff.del")
            .into_bytes();
        assert_eq!(
            verify_log(&edited, &checkpoints, &key),
            Err(LogError::BadEntry(3))
        );
        let mut deleted = entries.clone();
        deleted.remove(2);
        assert!(matches!(
            verify_log(&deleted, &checkpoints, &key),
            Err(LogError::BadEntry(2) | LogError::MalformedEntry(2))
        ));
        let mut swapped = entries.clone();
        swapped.swap(1, 4);
        assert!(matches!(
            verify_log(&swapped, &checkpoints, &key),
            Err(LogError::BadEntry(1) | LogError::MalformedEntry(1))
        ));
        let mut inserted = entries.clone();
        inserted.insert(5, entries[0].clone());
        assert!(matches!(
            verify_log(&inserted, &checkpoints, &key),
            Err(LogError::BadEntry(5) | LogError::MalformedEntry(5))
        ));
        let mut forged_checkpoints = checkpoints.clone();
        forged_checkpoints[2] = forged_checkpoints[2].replace("\n3\n", "\n9\n");
        assert!(matches!(
            verify_log(&entries, &forged_checkpoints, &key),
            Err(LogError::BadCheckpoint { .. })
        ));
    }
}
