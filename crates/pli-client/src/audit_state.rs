//! Audit checkpoints a party has verified, kept so that its next look at the log must
//! extend them.
//!
//! The operator holds the audit log's signing key. It can rewrite an entry, or cut the log
//! back, and sign every checkpoint again: a check of the whole log that keeps nothing
//! passes. Whoever kept a checkpoint catches it. A later log must contain that checkpoint's
//! tree (RFC 6962 consistency): if it is shorter, it is a *rollback*; if its first entries
//! hash to another root, it is a *fork*. Three parties keep checkpoints: auditors
//! (`pli audit verify`, a state file), witnesses (`pli audit witness`, which co-sign only
//! what extends what they saw), and every user device (at each sync, in its home:
//! `audit_watch`). This file holds the checks and the state file, with no I/O but the file.

use pli_proto::checkpoint::Checkpoint;
use pli_proto::merkle::{self, Hash};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A checkpoint verified earlier: the log signed by `key` had `size` entries with `root`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenCheckpoint {
    pub origin: String,
    /// The log key, base64 (as `GET /v1/audit/key` gives it).
    pub key: String,
    pub size: u64,
    /// The root hash, hex.
    pub root: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("the log is signed by another key than the one seen before")]
    KeyChanged,
    #[error(
        "rollback: the log now holds {now} entries, fewer than the {seen} verified before; its operator cut it back"
    )]
    Rollback { seen: u64, now: u64 },
    #[error(
        "fork: the log's first {0} entries are not the ones verified before; its operator rewrote them"
    )]
    Fork(u64),
    #[error("the state file {0} cannot be read or written")]
    StateFile(PathBuf, #[source] std::io::Error),
    #[error("the state file {0} is not a pli audit state")]
    BadState(PathBuf),
}

impl SeenCheckpoint {
    pub fn new(checkpoint: &Checkpoint, key: &str) -> Self {
        Self {
            origin: checkpoint.origin.clone(),
            key: key.to_owned(),
            size: checkpoint.size,
            root: hex::encode(checkpoint.root),
        }
    }

    fn root_hash(&self) -> Option<Hash> {
        hex::decode(&self.root).ok()?.try_into().ok()
    }

    /// Checks that a log whose entries were all downloaded (and verified against its own
    /// checkpoints, newest at `size`) extends this checkpoint.
    pub fn extended_by_log(
        &self,
        key: &str,
        entries: &[String],
        size: u64,
    ) -> Result<(), WatchError> {
        if key != self.key {
            return Err(WatchError::KeyChanged);
        }
        if size < self.size || (entries.len() as u64) < self.size {
            return Err(WatchError::Rollback {
                seen: self.size,
                now: size,
            });
        }
        let leaves: Vec<Hash> = entries[..self.size as usize]
            .iter()
            .map(|e| merkle::leaf_hash(e.as_bytes()))
            .collect();
        if Some(merkle::root(&leaves)) != self.root_hash() {
            return Err(WatchError::Fork(self.size));
        }
        Ok(())
    }

    /// Checks that `newer` (verified) extends this checkpoint, by a consistency proof.
    pub fn extended_by_proof(&self, newer: &Checkpoint, proof: &[Hash]) -> Result<(), WatchError> {
        if newer.size < self.size {
            return Err(WatchError::Rollback {
                seen: self.size,
                now: newer.size,
            });
        }
        let old = self.root_hash().ok_or(WatchError::Fork(self.size))?;
        if !merkle::verify_consistency(self.size, newer.size, &old, &newer.root, proof) {
            return Err(WatchError::Fork(self.size));
        }
        Ok(())
    }
}

/// Where `pli audit verify` keeps what it verified of the log signed by `key`, when no
/// `--state` is given: `$XDG_DATA_HOME/pli/audit/` (or `~/.local/share/pli/audit/`), one
/// file per log key.
pub fn default_state_path(key: &str) -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    let name = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(key.as_bytes())[..8]);
    base.join("pli").join("audit").join(format!("{name}.json"))
}

/// The checkpoint kept in a state file, if the file exists.
pub fn load_state(path: &Path) -> Result<Option<SeenCheckpoint>, WatchError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| WatchError::BadState(path.to_owned())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(WatchError::StateFile(path.to_owned(), err)),
    }
}

/// Keeps `seen` in a state file, replacing it whole (a crash leaves the old or the new).
pub fn save_state(path: &Path, seen: &SeenCheckpoint) -> Result<(), WatchError> {
    let failed = |err| WatchError::StateFile(path.to_owned(), err);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let draft = path.with_extension("json.draft");
    let bytes = serde_json::to_vec_pretty(seen).expect("a checkpoint record serialises");
    std::fs::write(&draft, bytes).map_err(failed)?;
    std::fs::rename(&draft, path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(entries: &[&str]) -> (Vec<String>, Checkpoint) {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        let leaves: Vec<Hash> = entries
            .iter()
            .map(|e| merkle::leaf_hash(e.as_bytes()))
            .collect();
        let checkpoint = Checkpoint {
            origin: "pli.test/audit".into(),
            size: entries.len() as u64,
            root: merkle::root(&leaves),
        };
        (entries, checkpoint)
    }

    #[test]
    fn a_kept_checkpoint_catches_a_rewrite_and_a_rollback_and_passes_growth() {
        let (_, old) = log(&["a", "b", "c"]);
        let seen = SeenCheckpoint::new(&old, "KEY");
        let (grown, grown_cp) = log(&["a", "b", "c", "d"]);
        seen.extended_by_log("KEY", &grown, grown_cp.size)
            .expect("growth extends");
        let leaves: Vec<Hash> = grown
            .iter()
            .map(|e| merkle::leaf_hash(e.as_bytes()))
            .collect();
        seen.extended_by_proof(&grown_cp, &merkle::consistency_proof(&leaves, 3))
            .expect("the proof shows growth");

        let (rewritten, rewritten_cp) = log(&["a", "B", "c", "d"]);
        assert!(matches!(
            seen.extended_by_log("KEY", &rewritten, rewritten_cp.size),
            Err(WatchError::Fork(3))
        ));
        let leaves: Vec<Hash> = rewritten
            .iter()
            .map(|e| merkle::leaf_hash(e.as_bytes()))
            .collect();
        assert!(matches!(
            seen.extended_by_proof(&rewritten_cp, &merkle::consistency_proof(&leaves, 3)),
            Err(WatchError::Fork(3))
        ));
        let (cut, cut_cp) = log(&["a", "b"]);
        assert!(matches!(
            seen.extended_by_log("KEY", &cut, cut_cp.size),
            Err(WatchError::Rollback { seen: 3, now: 2 })
        ));
        assert!(matches!(
            seen.extended_by_log("OTHER", &grown, 4),
            Err(WatchError::KeyChanged)
        ));
    }

    #[test]
    fn a_state_file_keeps_the_checkpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/state.json");
        assert_eq!(load_state(&path).expect("absent"), None);
        let (_, cp) = log(&["a"]);
        let seen = SeenCheckpoint::new(&cp, "KEY");
        save_state(&path, &seen).expect("save");
        assert_eq!(load_state(&path).expect("load"), Some(seen));
        std::fs::write(&path, b"{").expect("corrupt");
        assert!(matches!(load_state(&path), Err(WatchError::BadState(_))));
    }
}
