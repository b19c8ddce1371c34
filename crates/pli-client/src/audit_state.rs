//! Audit checkpoints a party has verified, kept so that its next look at the log must
//! extend them.
//!
//! The operator holds the audit log's signing key. It can rewrite an entry, or cut the log
//! back, and sign every checkpoint again: a check of the whole log that keeps nothing
//! passes. Whoever kept a checkpoint catches it. A later log must contain that checkpoint's
//! tree (RFC 6962 consistency): if it is shorter, it is a *rollback*; if its first entries
//! hash to another root, it is a *fork*. Three parties keep checkpoints: auditors
//! (`pli audit verify`, a state file), witnesses (`pli audit witness`, which co-sign only
//! what extends what they saw), and every user device (at each sync, in its home).

use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use pli_proto::checkpoint::{Checkpoint, LogKey, UnverifiedCheckpoint};
use pli_proto::merkle::{self, Hash};
use rusqlite::{OptionalExtension, params};
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

/// The newest checkpoint the server publishes at or after `from` (paging forward), parsed
/// but not verified; `None` if there is none.
pub(crate) async fn newest_from(
    transport: &crate::transport::Transport,
    from: u64,
) -> Result<Option<(String, UnverifiedCheckpoint)>, ClientError> {
    let mut from = from;
    let mut newest = None;
    loop {
        let page = transport.audit_checkpoints(from).await?;
        let Some(last) = page.checkpoints.last() else {
            return Ok(newest);
        };
        let parsed = UnverifiedCheckpoint::parse(last)
            .map_err(|e| ClientError::Protocol(format!("audit checkpoint: {e}")))?;
        let next = parsed.claimed_size() + 1;
        let full = page.checkpoints.len() as u64 >= crate::transport::AUDIT_PAGE;
        newest = Some((last.clone(), parsed));
        if !full {
            return Ok(newest);
        }
        from = next;
    }
}

/// The witnesses whose cosignature this device requires on an audit checkpoint.
pub(crate) fn required_witnesses(
    conn: &rusqlite::Connection,
) -> Result<Vec<pli_proto::witness::WitnessKey>, ClientError> {
    let mut st = conn.prepare("SELECT vkey FROM audit_witnesses ORDER BY vkey")?;
    let keys = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    keys.iter()
        .map(|k| {
            pli_proto::witness::WitnessKey::parse(k)
                .map_err(|_| ClientError::Storage("a corrupt witness key".into()))
        })
        .collect()
}

impl Client {
    /// Requires `vkey`'s cosignature on every audit checkpoint this device keeps from now
    /// on (the policy: every listed witness).
    pub fn require_witness(&self, vkey: &str) -> Result<(), ClientError> {
        let witness = pli_proto::witness::WitnessKey::parse(vkey)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        self.conn.execute(
            "INSERT OR IGNORE INTO audit_witnesses (vkey) VALUES (?1)",
            [witness.vkey()],
        )?;
        Ok(())
    }

    /// The device's own watch on the public audit log, at every sync: the newest signed
    /// checkpoint must extend the newest this device verified before (consistency proof
    /// from the server). A rollback or a fork is an alert, and the device keeps the
    /// checkpoint it had as evidence. Network failures leave the check for the next sync.
    pub async fn watch_audit_log(&mut self) -> Result<(), ClientError> {
        match self.check_audit_log().await {
            Err(ClientError::AuditLog(err)) => {
                local::notice_once(
                    &self.conn,
                    None,
                    &format!(
                        "the server's public audit log changed its past ({err}): the record of lawful requests about anyone may have been altered"
                    ),
                )?;
                Err(ClientError::AuditLog(err))
            }
            other => other,
        }
    }

    async fn check_audit_log(&mut self) -> Result<(), ClientError> {
        let served = self.transport.audit_key().await?;
        let key = LogKey::from_published(&served.name, &served.public_key)
            .map_err(|e| ClientError::Protocol(format!("audit key: {e}")))?;
        let seen: Option<SeenCheckpoint> = self
            .conn
            .query_row(
                "SELECT origin, log_key, size, root FROM audit_seen WHERE id = 1",
                [],
                |r| {
                    Ok(SeenCheckpoint {
                        origin: r.get(0)?,
                        key: r.get(1)?,
                        size: r.get::<_, i64>(2)? as u64,
                        root: r.get(3)?,
                    })
                },
            )
            .optional()?;
        if let Some(seen) = &seen
            && seen.key != served.public_key
        {
            return Err(WatchError::KeyChanged.into());
        }
        let from = seen.as_ref().map_or(1, |s| s.size.max(1));
        let Some((note, newest)) = newest_from(&self.transport, from).await? else {
            return match &seen {
                Some(seen) if seen.size > 0 => Err(WatchError::Rollback {
                    seen: seen.size,
                    now: 0,
                }
                .into()),
                _ => Ok(()),
            };
        };
        let newest = newest
            .verify(&key)
            .map_err(|e| ClientError::Protocol(format!("audit checkpoint: {e}")))?;
        if let Some(seen) = &seen {
            if newest.size == seen.size {
                seen.extended_by_proof(&newest, &[])?;
                return Ok(());
            }
            let proof = self
                .transport
                .audit_consistency(seen.size, newest.size)
                .await?;
            seen.extended_by_proof(&newest, &proof)?;
        }
        // A checkpoint every witness this device requires co-signed is kept; one they have
        // not (yet) co-signed is checked but not kept, so this device never builds on a
        // view of the log that no witness shares.
        if !required_witnesses(&self.conn)?
            .iter()
            .all(|witness| witness.cosigned(&newest, &note))
        {
            return Ok(());
        }
        let next = SeenCheckpoint::new(&newest, &served.public_key);
        self.conn.execute(
            "INSERT INTO audit_seen (id, origin, log_key, size, root) VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, log_key = excluded.log_key,
                 size = excluded.size, root = excluded.root",
            params![next.origin, next.key, next.size as i64, next.root],
        )?;
        Ok(())
    }
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
