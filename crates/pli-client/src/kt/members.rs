//! Which member keys this device has verified against the key directory, and the check
//! every outgoing MLS message (application message, proposal or commit) passes first.
//!
//! A group's member set can change under this device at any delivery: a commit or a
//! Welcome, which a malicious server or member may have crafted, can bring in a device key
//! the directory does not list. Checking members "at the next sync" leaves a window in which
//! a send encrypts to that ghost. So the check sits where the action is: code that encrypts
//! for a group first gets a [`VerifiedMembers`] from [`check`], run on the very group state
//! it then encrypts with, in the same local transaction. Member keys the check does not know
//! yet are looked up in the directory (verified lookups) and the step is tried again; a key
//! the directory does not list marks the conversation untrusted; a directory that cannot
//! answer leaves the message queued. Nothing fails open.
//!
//! The table `kt_verified_keys` holds, per user, the devices and keys of the newest verified
//! lookup of that user: every verified lookup replaces that user's rows, so a device the
//! directory stops listing stops counting as verified.

use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use crate::mls;
use openmls::prelude::MlsGroup;
use pli_proto::kt::DirectoryDevice;
use pli_proto::{DeviceId, GroupId, Username};
use rusqlite::{Connection, params};
use std::collections::BTreeSet;

/// Proof that every member of a group, in the state at hand, holds a key a verified
/// directory lookup listed. Only [`check`] makes one.
pub(crate) struct VerifiedMembers(());

/// What [`check`] found.
pub(crate) enum MemberCheck {
    Verified(VerifiedMembers),
    /// Users with a member key this device has not verified (or verified as different).
    Unverified(Vec<Username>),
    /// A member whose credential is not a pli credential: it can never be verified.
    Foreign,
}

/// Checks every member of `group` but this device's own leaf and the devices in `except`
/// (being removed by the message at hand) against the verified keys.
pub(crate) fn check(
    conn: &Connection,
    group: &MlsGroup,
    except: &[DeviceId],
) -> Result<MemberCheck, ClientError> {
    let own = group.own_leaf_index();
    let mut known = conn.prepare_cached(
        "SELECT 1 FROM kt_verified_keys WHERE username = ?1 AND device_id = ?2 AND signature_key = ?3",
    )?;
    let mut unverified = BTreeSet::new();
    for member in group.members() {
        if member.index == own {
            continue;
        }
        let Some((user, device)) = mls::member_identity(&member.credential) else {
            return Ok(MemberCheck::Foreign);
        };
        if except.contains(&device) {
            continue;
        }
        let listed = known.exists(params![
            user.as_str(),
            device.get() as i64,
            &member.signature_key
        ])?;
        if !listed {
            unverified.insert(user);
        }
    }
    Ok(if unverified.is_empty() {
        MemberCheck::Verified(VerifiedMembers(()))
    } else {
        MemberCheck::Unverified(unverified.into_iter().collect())
    })
}

/// True if `key` is the key the newest verified lookup of `user` listed for `device`.
pub(crate) fn is_verified(
    conn: &Connection,
    user: &Username,
    device: DeviceId,
    key: &[u8],
) -> Result<bool, ClientError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM kt_verified_keys WHERE username = ?1 AND device_id = ?2 AND signature_key = ?3",
        )?
        .exists(params![user.as_str(), device.get() as i64, key])?)
}

/// Keeps what a verified lookup of `user` listed (an empty list: the user is not in the
/// directory), and shows the messages held until their sender's key was verified.
pub(crate) fn record_lookup(
    conn: &Connection,
    user: &Username,
    devices: &[DirectoryDevice],
) -> Result<(), ClientError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "DELETE FROM kt_verified_keys WHERE username = ?1",
        [user.as_str()],
    )?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO kt_verified_keys (username, device_id, signature_key) VALUES (?1, ?2, ?3)",
        )?;
        for device in devices {
            insert.execute(params![
                user.as_str(),
                device.device_id.get() as i64,
                &device.signature_key
            ])?;
        }
    }
    crate::receipts::owe_delivered_on_release(&tx, user)?;
    tx.execute(
        "UPDATE messages SET held = 0 WHERE held = 1 AND sender = ?1 AND EXISTS (
             SELECT 1 FROM kt_verified_keys k WHERE k.username = messages.sender
             AND k.device_id = messages.sender_device AND k.signature_key = messages.sender_key)",
        [user.as_str()],
    )?;
    tx.commit()?;
    Ok(())
}

/// Marks the conversation untrusted (nothing more is sent to it) and tells the user once.
pub(crate) fn mark_untrusted(
    conn: &Connection,
    group: &GroupId,
    user: Option<&Username>,
) -> Result<(), ClientError> {
    let changed = conn.execute(
        "UPDATE conversations SET untrusted = 1, pending = 0 WHERE group_id = ?1 AND untrusted = 0",
        [group.as_bytes()],
    )?;
    if changed > 0 {
        let who = user.map_or_else(|| "a member".to_owned(), |u| format!("@{u}"));
        local::notice(
            conn,
            Some(group),
            true,
            &format!(
                "{who} is in this conversation with a key the key directory does not list: messages to it are held"
            ),
            local::now_ms(),
        )?;
    }
    Ok(())
}

/// A conversation whose members all verified is shown from now on (it was hidden since
/// this device joined it).
pub(crate) fn checked(
    conn: &Connection,
    group: &GroupId,
    _members: &VerifiedMembers,
) -> Result<(), ClientError> {
    conn.prepare_cached(
        "UPDATE conversations SET pending = 0 WHERE group_id = ?1 AND pending = 1",
    )?
    .execute([group.as_bytes()])?;
    Ok(())
}

impl Client {
    /// Checks every member of `group` against the directory, looking up what is not
    /// verified yet: true when all verify (the conversation is then shown), false when one
    /// does not (it is then marked untrusted). Directory errors are returned.
    pub(crate) async fn verify_group(&mut self, group: &GroupId) -> Result<bool, ClientError> {
        let mut looked_up = BTreeSet::new();
        loop {
            let outcome = {
                let storage = mls::Storage::new(&self.conn);
                let Some(mls_group) = MlsGroup::load(&storage, &mls::group_id(group))? else {
                    return Ok(false);
                };
                check(&self.conn, &mls_group, &[])?
            };
            if let MemberCheck::Verified(verified) = &outcome {
                checked(&self.conn, group, verified)?;
                return Ok(true);
            }
            match self
                .resolve_unverified(group, outcome, &mut looked_up)
                .await
            {
                Ok(()) => {}
                Err(ClientError::UntrustedMember) => return Ok(false),
                Err(err) => return Err(err),
            }
        }
    }

    /// Looks up in the directory the users [`check`] could not decide on, so the step can
    /// be tried again. Users already looked up for this step (`looked_up`) whose keys still
    /// do not match have keys the directory does not list: the conversation is marked
    /// untrusted and the step refused with [`ClientError::UntrustedMember`]. Directory
    /// errors are returned as they are: the caller sends nothing.
    pub(crate) async fn resolve_unverified(
        &mut self,
        group: &GroupId,
        check: MemberCheck,
        looked_up: &mut BTreeSet<Username>,
    ) -> Result<(), ClientError> {
        let users = match check {
            MemberCheck::Verified(_) => return Ok(()),
            MemberCheck::Foreign => {
                mark_untrusted(&self.conn, group, None)?;
                return Err(ClientError::UntrustedMember);
            }
            MemberCheck::Unverified(users) => users,
        };
        if let Some(unlisted) = users.iter().find(|u| looked_up.contains(*u)) {
            mark_untrusted(&self.conn, group, Some(unlisted))?;
            return Err(ClientError::UntrustedMember);
        }
        for user in users {
            match self.directory_devices(&user).await {
                Ok(_) => {}
                // Recorded as listing nothing: the next check refuses.
                Err(ClientError::NotInDirectory(_)) => record_lookup(&self.conn, &user, &[])?,
                Err(err) => return Err(err),
            }
            looked_up.insert(user);
        }
        Ok(())
    }
}
