//! What a device knows of profiles, in its own tables: the profile keys it was given (per
//! sending device), which it may use (verified by the key directory, or its own), the
//! profiles it opened and the versions fetched. `profiles` fetches, opens and shares.

use crate::error::ClientError;
use pli_proto::{DeviceId, GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

/// A user's profile as this device opened it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownProfile {
    pub username: Username,
    /// What the user calls themselves; may be empty.
    pub name: String,
    /// A small JPEG.
    pub avatar: Option<Vec<u8>>,
}

/// Notes that `sender`'s device gave this device `sender`'s profile key of `version`
/// (kept if newer than the one that device gave before).
pub(crate) fn learn_key(
    tx: &Connection,
    sender: &Username,
    device: DeviceId,
    signature_key: &[u8],
    (key, version): ([u8; 32], u64),
) -> Result<(), ClientError> {
    tx.prepare_cached(
        "INSERT INTO profile_keys (username, profile_key, version, device_id, signature_key)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (username, device_id) DO UPDATE SET profile_key = excluded.profile_key,
             version = excluded.version, signature_key = excluded.signature_key
         WHERE excluded.version > profile_keys.version",
    )?
    .execute(params![
        sender.as_str(),
        key.as_slice(),
        version as i64,
        device.get() as i64,
        signature_key
    ])?;
    Ok(())
}

/// A key row `k` this device may use: from a device the key directory verified, or from
/// this device itself (`?1`; NULL when asking about others).
const TRUSTED: &str = "(k.device_id IS ?1 OR EXISTS (SELECT 1 FROM kt_verified_keys v
     WHERE v.username = k.username AND v.device_id = k.device_id
       AND v.signature_key = k.signature_key))";

/// Trusted keys newer than the profile last fetched for their user: what the next sync opens.
pub(crate) fn due_keys() -> String {
    format!(
        "FROM profile_keys k WHERE {TRUSTED} AND k.version > coalesce(
             (SELECT f.version FROM profile_fetched f WHERE f.username = k.username), 0)"
    )
}

/// Whether a sync would fetch a profile now (a listener breaks off to sync).
pub(crate) fn fetch_due(conn: &Connection) -> Result<bool, ClientError> {
    Ok(conn
        .prepare_cached(&format!("SELECT EXISTS (SELECT 1 {})", due_keys()))?
        .query_row([rusqlite::types::Null], |r| r.get(0))?)
}

/// Members joined `group`: its members are to be given this account's key again.
pub(crate) fn share_again(tx: &Connection, group: &GroupId) -> Result<(), ClientError> {
    tx.prepare_cached("DELETE FROM profile_shares WHERE group_id = ?1")?
        .execute([group.as_bytes()])?;
    Ok(())
}

/// The profile this device opened for `user`, if any.
pub fn shown(conn: &Connection, user: &Username) -> Result<Option<ShownProfile>, ClientError> {
    Ok(conn
        .prepare_cached("SELECT name, avatar FROM profiles WHERE username = ?1")?
        .query_row([user.as_str()], |r| {
            Ok(ShownProfile {
                username: user.clone(),
                name: r.get(0)?,
                avatar: r.get(1)?,
            })
        })
        .optional()?)
}

/// The newest trusted key held for `user`, and its version; `own` is this device, for
/// this account's own keys (which it made itself, or had from its verified devices).
pub(crate) fn newest_key(
    conn: &Connection,
    user: &Username,
    own: Option<DeviceId>,
) -> Result<Option<(Vec<u8>, i64)>, ClientError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT k.profile_key, k.version FROM profile_keys k
             WHERE {TRUSTED} AND k.username = ?2 ORDER BY k.version DESC LIMIT 1"
        ))?
        .query_row(params![own.map(|d| d.get() as i64), user.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

pub(crate) fn fetched(tx: &Connection, user: &Username, version: i64) -> Result<(), ClientError> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO profile_fetched (username, version) VALUES (?1, ?2)",
    )?
    .execute(params![user.as_str(), version])?;
    Ok(())
}
