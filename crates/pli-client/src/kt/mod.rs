//! Key verification against the server's key transparency directory.
//!
//! The directory's keys are pinned in the home at first contact (registration). Every root
//! the server shows is checked twice before anything is trusted on it: its signature, and
//! its place in the history this device has seen — a newer root must follow from the
//! newest known one by akd's append-only proofs, and a root for an epoch already seen must
//! be the same root (otherwise the server is showing different directories to different
//! people: a split view, reported to the user and refused).
//!
//! - this file: pinning, roots, and [`Client::directory_devices`] (a verified lookup);
//! - [`audit`]: `pli audit kt`, the append-only check anyone can run;
//! - [`monitor`]: this user's own key history at every sync, members' keys from Welcomes and
//!   commits, and roots other members carried in their messages;
//! - `members`: the member keys verified so far, and the check every outgoing MLS message
//!   passes first.

pub mod audit;
pub(crate) mod members;
pub mod monitor;

use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use pli_proto::checkpoint::{Checkpoint, LogKey, UnverifiedCheckpoint};
use pli_proto::kt::{self, VerifiedLookup};
use pli_proto::{ErrorCode, Username};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::time::Duration;

/// Tries of a lookup the server answers with `directory_busy` (another node publishing).
const BUSY_TRIES: u32 = 20;
const BUSY_PAUSE: Duration = Duration::from_millis(250);

/// The directory keys this home trusts.
#[derive(Clone, Debug)]
pub struct PinnedKeys {
    pub origin: String,
    pub signing_key: [u8; 32],
    pub vrf_key: Vec<u8>,
}

impl PinnedKeys {
    fn log_key(&self) -> Result<LogKey, ClientError> {
        Ok(LogKey {
            name: self.origin.clone(),
            key: ed25519_dalek::VerifyingKey::from_bytes(&self.signing_key)
                .map_err(|_| ClientError::Directory("the pinned signing key is invalid".into()))?,
        })
    }
}

fn failed(what: impl std::fmt::Display) -> ClientError {
    ClientError::directory(what)
}

/// The directory keys this home pinned, if any (for tests and tools that compare homes).
pub fn pinned_keys(conn: &Connection) -> Result<Option<PinnedKeys>, ClientError> {
    pinned(conn)
}

pub(crate) fn pinned(conn: &Connection) -> Result<Option<PinnedKeys>, ClientError> {
    let row: Option<(String, Vec<u8>, Vec<u8>)> = conn
        .query_row(
            "SELECT origin, signing_key, vrf_key FROM kt_keys WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(origin, signing_key, vrf_key)| {
        Ok(PinnedKeys {
            origin,
            signing_key: signing_key
                .try_into()
                .map_err(|_| ClientError::corrupt("pinned key"))?,
            vrf_key,
        })
    })
    .transpose()
}

/// The newest root this device has verified.
pub(crate) fn newest_root(conn: &Connection) -> Result<Option<(u64, [u8; 32])>, ClientError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT epoch, root FROM kt_roots ORDER BY epoch DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(epoch, root)| {
        Ok((
            epoch as u64,
            root.try_into().map_err(|_| ClientError::corrupt("root"))?,
        ))
    })
    .transpose()
}

pub(crate) fn known_root(conn: &Connection, epoch: u64) -> Result<Option<[u8; 32]>, ClientError> {
    let root: Option<Vec<u8>> = conn
        .query_row(
            "SELECT root FROM kt_roots WHERE epoch = ?1",
            [epoch as i64],
            |r| r.get(0),
        )
        .optional()?;
    root.map(|r| r.try_into().map_err(|_| ClientError::corrupt("root")))
        .transpose()
}

/// Known roots within `from..=to`.
fn known_roots(
    conn: &Connection,
    from: u64,
    to: u64,
) -> Result<BTreeMap<u64, Vec<u8>>, ClientError> {
    let mut st = conn.prepare("SELECT epoch, root FROM kt_roots WHERE epoch BETWEEN ?1 AND ?2")?;
    let rows = st.query_map(params![from as i64, to as i64], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records that the server showed two roots for `epoch`, and tells the user once.
pub(crate) fn report_split(conn: &Connection, epoch: u64) -> Result<(), ClientError> {
    let new = conn.execute(
        "INSERT OR IGNORE INTO kt_split (epoch) VALUES (?1)",
        [epoch as i64],
    )?;
    if new > 0 {
        local::notice(
            conn,
            None,
            true,
            &format!(
                "the server showed different key directories for epoch {epoch}: someone may be shown keys you are not"
            ),
            local::now_ms(),
        )?;
    }
    Ok(())
}

impl Client {
    /// Fetches the server's directory keys and pins them in this home (first contact).
    pub(crate) async fn pin_directory_keys(&mut self) -> Result<PinnedKeys, ClientError> {
        if let Some(keys) = pinned(&self.conn)? {
            return Ok(keys);
        }
        if crate::link_keys::waiting(&self.conn)? {
            return Err(failed(
                "this device waits for the key directory's keys from the device approving it: approve its link code there, then sync",
            ));
        }
        let served = self.transport.directory_keys().await?;
        let keys = PinnedKeys {
            origin: served.origin,
            signing_key: served
                .signing_key
                .as_slice()
                .try_into()
                .map_err(|_| failed("the directory's signing key is not 32 bytes"))?,
            vrf_key: served.vrf_public_key.into_inner(),
        };
        self.conn.execute(
            "INSERT OR IGNORE INTO kt_keys (id, origin, signing_key, vrf_key) VALUES (1, ?1, ?2, ?3)",
            params![keys.origin, &keys.signing_key[..], keys.vrf_key],
        )?;
        keys.log_key()?;
        Ok(keys)
    }

    /// Checks a signed root (signature, origin) and that it extends, or is part of, the
    /// history this device has seen. A root that contradicts a known one is a split view.
    pub(crate) async fn accept_root(&mut self, note: &str) -> Result<Checkpoint, ClientError> {
        let keys = self.pin_directory_keys().await?;
        let root = UnverifiedCheckpoint::parse(note)
            .map_err(failed)?
            .verify(&keys.log_key()?)
            .map_err(failed)?;
        if root.origin != keys.origin {
            return Err(failed("the root names another directory"));
        }
        if let Some(known) = known_root(&self.conn, root.size)? {
            if known != root.root {
                report_split(&self.conn, root.size)?;
                return Err(ClientError::SplitView(root.size));
            }
            return Ok(root);
        }
        let first: Option<i64> =
            self.conn
                .query_row("SELECT MIN(epoch) FROM kt_roots", [], |r| r.get(0))?;
        let newest = newest_root(&self.conn)?;
        match (first, newest) {
            (Some(first), Some((last, _))) => {
                let epoch = root.size;
                // The smallest span of known epochs that contains this one.
                let (from, to) = if epoch > last {
                    (last, epoch)
                } else if epoch < first as u64 {
                    (epoch, first as u64)
                } else {
                    let below = known_roots(&self.conn, first as u64, epoch)?;
                    let above = known_roots(&self.conn, epoch, last)?;
                    let from = below.keys().next_back().copied().unwrap_or(first as u64);
                    let to = above.keys().next().copied().unwrap_or(last);
                    (from, to)
                };
                self.verify_span(&keys, from, to, &root).await?;
            }
            _ => {
                // The first root this device sees: trusted on first use, like the keys.
                self.conn.execute(
                    "INSERT OR IGNORE INTO kt_roots (epoch, root) VALUES (?1, ?2)",
                    params![root.size as i64, &root.root[..]],
                )?;
            }
        }
        Ok(root)
    }

    /// Fetches the signed roots of `from..=to`, checks each against what this device knows
    /// (and `claimed` among them), proves each step append-only, and keeps them all.
    async fn verify_span(
        &mut self,
        keys: &PinnedKeys,
        from: u64,
        to: u64,
        claimed: &Checkpoint,
    ) -> Result<(), ClientError> {
        let roots = audit::fetch_roots(&self.transport, &keys.log_key()?, from, Some(to)).await?;
        if (roots.len() as u64) < to - from + 1 {
            return Err(failed("the server withheld roots it had signed"));
        }
        let known = known_roots(&self.conn, from, to)?;
        for (epoch, root) in known {
            if roots[(epoch - from) as usize][..] != root[..] {
                report_split(&self.conn, epoch)?;
                return Err(ClientError::SplitView(epoch));
            }
        }
        if roots[(claimed.size - from) as usize] != claimed.root {
            report_split(&self.conn, claimed.size)?;
            return Err(ClientError::SplitView(claimed.size));
        }
        audit::verify_steps(&self.transport, from, &roots).await?;
        let tx = self.conn.unchecked_transaction()?;
        for (i, root) in roots.iter().enumerate() {
            tx.execute(
                "INSERT OR IGNORE INTO kt_roots (epoch, root) VALUES (?1, ?2)",
                params![(from + i as u64) as i64, &root[..]],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// `user`'s devices as the directory lists them, after checking the lookup proof against
    /// a root this device verified.
    pub async fn directory_devices(
        &mut self,
        user: &Username,
    ) -> Result<VerifiedLookup, ClientError> {
        let mut tries = 0;
        let response = loop {
            match self.transport.directory_lookup(user).await {
                Err(err) if err.code() == Some(ErrorCode::DirectoryBusy) && tries < BUSY_TRIES => {
                    tries += 1;
                    tokio::time::sleep(BUSY_PAUSE).await;
                }
                Err(err) if err.code() == Some(ErrorCode::NotInDirectory) => {
                    return Err(ClientError::NotInDirectory(user.to_string()));
                }
                other => break other?,
            }
        };
        let root = self.accept_root(&response.root).await?;
        let keys = self.pin_directory_keys().await?;
        let lookup = kt::verify_lookup(&keys.vrf_key, &root, user, response.proof.as_slice())
            .map_err(failed)?;
        members::record_lookup(&self.conn, user, &lookup.devices)?;
        Ok(lookup)
    }

    /// Checks that every claimed key is the one the directory lists for its device; refuses
    /// the lot otherwise.
    pub(crate) async fn check_listed(
        &mut self,
        user: &Username,
        keys: &[(pli_proto::DeviceId, Vec<u8>)],
    ) -> Result<(), ClientError> {
        if keys.is_empty() {
            return Ok(());
        }
        let listed = self.directory_devices(user).await?;
        for (device, key) in keys {
            let found = listed
                .devices
                .iter()
                .any(|d| d.device_id == *device && d.signature_key == *key);
            if !found {
                return Err(ClientError::NotInDirectory(user.to_string()));
            }
        }
        Ok(())
    }
}

/// What `pli verify @user` shows: the safety code both users compare, and what the
/// directory says about each side's devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub peer: Username,
    /// The epoch of the verified root the lookups were checked against.
    pub epoch: u64,
    pub code: String,
    pub peer_devices: Vec<kt::DirectoryDevice>,
    pub own_devices: Vec<kt::DirectoryDevice>,
}

impl Client {
    /// Looks up `peer` and this user in the directory (both proofs verified) and derives the
    /// safety code; the same code shows on the peer's side when nobody's keys were swapped.
    pub async fn verify_user(&mut self, peer: &Username) -> Result<Verification, ClientError> {
        let theirs = self.directory_devices(peer).await?;
        let me = self.me.username.clone();
        let mine = self.directory_devices(&me).await?;
        let code = kt::safety_code((peer, &theirs.devices), (&self.me.username, &mine.devices));
        Ok(Verification {
            peer: peer.clone(),
            epoch: theirs.epoch.max(mine.epoch),
            code,
            peer_devices: theirs.devices,
            own_devices: mine.devices,
        })
    }
}
