//! What a device checks at every sync, after the queue is drained:
//! - its own user's key history: a device key none of the user's devices added is reported
//!   at once ([`pli_proto::kt::unexplained_devices`]);
//! - members that Welcomes and commits brought in: each key must be the one the directory
//!   lists, else the conversation is marked untrusted and nothing more is sent to it;
//! - roots other members' messages carried: the server's signed root for that epoch must be
//!   the same, else the two of them were shown different directories (a split view).
//!
//! Receiving is synchronous (inside one SQLite transaction per message); these checks need
//! the network, so receiving only notes what to check and the checks run here.

use super::{known_root, report_split};
use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use pli_proto::kt;
use pli_proto::payload::RootRef;
use pli_proto::{DeviceId, ErrorCode, GroupId, Username};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;

/// Notes a member's key to check against the directory (from a Welcome or a commit).
pub(crate) fn note_member(
    tx: &Connection,
    group: &GroupId,
    user: &Username,
    device: DeviceId,
    signature_key: &[u8],
) -> Result<(), ClientError> {
    tx.execute(
        "INSERT OR REPLACE INTO kt_unverified (group_id, username, device_id, signature_key)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            group.as_bytes(),
            user.as_str(),
            device.get() as i64,
            signature_key
        ],
    )?;
    Ok(())
}

/// Compares the root a member's message carried with the one this device knows for that
/// epoch; an unknown epoch is noted to ask the server about.
pub(crate) fn note_root(
    tx: &Connection,
    group: &GroupId,
    carried: &RootRef,
) -> Result<(), ClientError> {
    let Some(root) = carried.hash() else {
        return Ok(());
    };
    match known_root(tx, carried.epoch)? {
        Some(known) if known == root => Ok(()),
        Some(_) => report_split(tx, carried.epoch),
        None => {
            tx.execute(
                "INSERT OR IGNORE INTO kt_heard (epoch, root, group_id) VALUES (?1, ?2, ?3)",
                params![carried.epoch as i64, &root[..], group.as_bytes()],
            )?;
            Ok(())
        }
    }
}

/// What a check of the user's own key history found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OwnKeys {
    /// The epoch of the signed root the history was verified against.
    pub epoch: u64,
    /// How many versions of the user's entry the history holds (one per published change).
    pub versions: u64,
    /// Of those, the versions whose keys the directory forgot: an earlier account with this
    /// name, which ended before this one began.
    pub forgotten: u64,
    /// Devices the newest version lists.
    pub devices: u64,
    /// Device keys that none of the user's devices added, or this device listed with a key
    /// it does not have: empty when the history is the user's own.
    pub unexplained: Vec<DeviceId>,
    /// Versions, new since this device last checked, that show the account as ended (as
    /// if deleted) while this device lives: empty when the history is the user's own.
    pub ended: Vec<u64>,
}

/// A member's key as noted at receive time, awaiting its directory check.
struct NotedMember {
    group: Vec<u8>,
    device: i64,
    key: Vec<u8>,
}

impl Client {
    /// Runs the checks this module describes. Network failures leave them for next time.
    pub(crate) async fn check_directory(&mut self) -> Result<(), ClientError> {
        self.monitor_own_keys().await?;
        self.check_members().await?;
        self.check_heard_roots().await
    }

    /// Checks this user's whole key history against the directory, as every sync does: a
    /// directory that is busy or does not list the user yet is left for the next sync.
    pub async fn monitor_own_keys(&mut self) -> Result<(), ClientError> {
        match self.audit_own_keys().await {
            Err(err)
                if matches!(
                    err.code(),
                    Some(ErrorCode::DirectoryBusy | ErrorCode::NotInDirectory)
                ) =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }

    /// Checks this user's whole key history against the directory and says what it found
    /// (`pli audit kt --mine`). A history that does not verify is an error and is reported
    /// to the user; each device key none of the user's devices added is reported once, and
    /// every such key in the history is listed in the answer.
    pub async fn audit_own_keys(&mut self) -> Result<OwnKeys, ClientError> {
        let response = self.transport.directory_history().await?;
        let root = self.accept_root(&response.root).await?;
        let keys = self.pin_directory_keys().await?;
        let history = match kt::verify_history(
            &keys.vrf_key,
            &root,
            &self.me.username,
            response.proof.as_slice(),
        ) {
            Ok(history) => history,
            Err(err) => {
                local::notice(
                    &self.conn,
                    None,
                    true,
                    "your key history in the key directory does not verify: the server may be hiding a change to your keys",
                    local::now_ms(),
                )?;
                return Err(ClientError::Directory(err.to_string()));
            }
        };
        let epoch = root.size;
        let mut suspicious = kt::unexplained_devices(&self.me.username, &history.versions);
        if let Some(latest) = history.versions.last() {
            let listed = latest.devices.iter().any(|d| {
                d.device_id == self.me.device_id && d.signature_key == self.me.signature_public
            });
            if !listed && !latest.devices.is_empty() {
                suspicious.push((latest.version, self.me.device_id));
            }
        }
        let tx = self.conn.unchecked_transaction()?;
        // An account with this name ending after this device began checking is a takeover
        // dressed as a new registration: this device's account never ended.
        let first_checked: Option<i64> =
            tx.query_row("SELECT MIN(version) FROM kt_checked_versions", [], |r| {
                r.get(0)
            })?;
        let mut ended = Vec::new();
        let mut checked =
            tx.prepare_cached("INSERT OR IGNORE INTO kt_checked_versions (version) VALUES (?1)")?;
        for &version in &history.forgotten {
            checked.execute([version as i64])?;
        }
        for version in &history.versions {
            if checked.execute([version.version as i64])? == 0 {
                continue;
            }
            if first_checked.is_some() {
                // A device of this account was linked or removed since the last check:
                // replace this device's leaves (post-compromise healing).
                crate::rotation::rotate_all_soon(&tx)?;
            }
            if version.devices.is_empty()
                && first_checked.is_some_and(|first| first < version.version as i64)
            {
                ended.push(version.version);
                local::notice(
                    &tx,
                    None,
                    true,
                    "the key directory shows your account as deleted and created again: someone may be taking over your name",
                    local::now_ms(),
                )?;
            }
            for (_, device) in suspicious.iter().filter(|(v, _)| *v == version.version) {
                let text = if *device == self.me.device_id {
                    "the key directory lists this device with a key it does not have: someone may be impersonating you".to_owned()
                } else {
                    format!(
                        "a device key appeared on your account that none of your devices added (device {device}): someone may be reading your new conversations"
                    )
                };
                // Sending waits until the user has seen this (`trust::Refusal::OpenAlert`).
                local::blocking_alert(&tx, &text, local::now_ms())?;
            }
        }
        drop(checked);
        tx.commit()?;
        Ok(OwnKeys {
            epoch,
            versions: (history.versions.len() + history.forgotten.len()) as u64,
            forgotten: history.forgotten.len() as u64,
            devices: history
                .versions
                .last()
                .map_or(0, |v| v.devices.len() as u64),
            unexplained: suspicious.into_iter().map(|(_, device)| device).collect(),
            ended,
        })
    }

    /// Checks members noted from Welcomes and commits against the directory.
    async fn check_members(&mut self) -> Result<(), ClientError> {
        let noted: Vec<(Vec<u8>, String, i64, Vec<u8>)> = {
            let mut st = self.conn.prepare(
                "SELECT group_id, username, device_id, signature_key FROM kt_unverified",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut by_user: BTreeMap<String, Vec<NotedMember>> = BTreeMap::new();
        for (group, user, device, key) in noted {
            by_user
                .entry(user)
                .or_default()
                .push(NotedMember { group, device, key });
        }
        for (user, members) in by_user {
            let Ok(username) = Username::parse(&user) else {
                continue;
            };
            let listed = match self.directory_devices(&username).await {
                Ok(listed) => listed.devices,
                Err(ClientError::NotInDirectory(_)) => Vec::new(),
                Err(err) => return Err(err),
            };
            let tx = self.conn.unchecked_transaction()?;
            for NotedMember { group, device, key } in members {
                let ok = listed
                    .iter()
                    .any(|d| d.device_id.get() as i64 == device && d.signature_key == key);
                if !ok && let Ok(group_id) = GroupId::from_bytes(&group) {
                    super::members::mark_untrusted(&tx, &group_id, Some(&username))?;
                }
                tx.execute(
                    "DELETE FROM kt_unverified WHERE group_id = ?1 AND device_id = ?2",
                    params![group, device],
                )?;
            }
            tx.commit()?;
        }
        // Conversations joined since: shown once all their members verify; one with a
        // member the directory does not list is marked untrusted and shown with its alert
        // (sending to it stays refused).
        let pending: Vec<Vec<u8>> = {
            let mut st = self
                .conn
                .prepare("SELECT group_id FROM conversations WHERE pending = 1")?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        for group in pending {
            if let Ok(group) = GroupId::from_bytes(&group) {
                self.verify_group(&group).await?;
            }
        }
        Ok(())
    }

    /// Asks the server for the roots other members' messages named, and compares.
    async fn check_heard_roots(&mut self) -> Result<(), ClientError> {
        let heard: Vec<(i64, Vec<u8>)> = {
            let mut st = self.conn.prepare("SELECT epoch, root FROM kt_heard")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        for (epoch, root) in heard {
            let epoch = epoch as u64;
            if known_root(&self.conn, epoch)?.is_none() {
                let served = self.transport.directory_roots(epoch, 1).await?;
                match served.roots.first() {
                    Some(note) => match self.accept_root(note).await {
                        Ok(_) | Err(ClientError::SplitView(_)) => {}
                        Err(err) => return Err(err),
                    },
                    // The server denies an epoch a member verified: another split view.
                    None => report_split(&self.conn, epoch)?,
                }
            }
            if known_root(&self.conn, epoch)?.is_some_and(|known| known[..] != root[..]) {
                report_split(&self.conn, epoch)?;
            }
            self.conn.execute(
                "DELETE FROM kt_heard WHERE epoch = ?1 AND root = ?2",
                params![epoch as i64, root],
            )?;
        }
        Ok(())
    }
}
