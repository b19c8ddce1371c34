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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub seq: u64,
    pub time_ms: u64,
    /// 0 for the server itself (scheduled work such as releasing held notices).
    pub staff_id: u64,
    pub role: String,
    pub action: String,
    /// `ok`, `denied` (role not allowed) or `refused` (a rule said no).
    pub outcome: String,
    #[serde(default)]
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an audit entry always serialises")
    }

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error(
        "entry {0} is not the entry the signed checkpoints commit to (edited, deleted, inserted or moved)"
    )]
    BadEntry(u64),
    #[error("entry {0} is malformed or out of sequence")]
    MalformedEntry(u64),
    #[error("the checkpoint for size {size} does not verify: {reason}")]
    BadCheckpoint { size: u64, reason: CheckpointError },
    #[error("a checkpoint covers {size} entries but the log holds only {held}")]
    Truncated { size: u64, held: u64 },
    #[error("no checkpoint verifies the log")]
    NoCheckpoint,
}

/// What a verified log amounts to.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedLog {
    pub entries: Vec<AuditEntry>,
    /// The newest verified checkpoint's size and root.
    pub size: u64,
    pub root: Hash,
    /// Entries past the newest checkpoint (appended, checkpoint not yet written).
    pub unsigned_tail: u64,
}

/// Verifies `entries` (raw bytes, in order) against signed `checkpoints`.
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
