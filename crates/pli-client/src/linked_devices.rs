//! A newly linked device joins the account's existing conversations.
//!
//! The device that approved the link remembers the new device (`linked_devices_to_add`)
//! and, at each sync from then on, adds it to every active conversation it is not in yet:
//! one commit per conversation, with a key package claimed for that device alone (the
//! account's other devices spend none), checked against the key directory like any
//! member's, then the conversation's name, kind and timer, which the new device cannot
//! read from earlier messages. Until the new device has uploaded key packages and the
//! directory lists it, the claim fails and the next sync tries again; after
//! [`GIVE_UP_AFTER_MS`] the device is forgotten (it was never set up, or was removed).
//!
//! The new device reads what is sent from then on, never what came before: MLS gives it
//! no key to earlier epochs. pli app says so when the code is approved.

use crate::error::ClientError;
use crate::{Client, local, mls};
use openmls::prelude::MlsGroup;
use pli_proto::payload::Body;
use pli_proto::{DeviceId, ErrorCode, GroupId};
use rusqlite::params;

/// How long an approved device is waited for before it is no longer added.
pub const GIVE_UP_AFTER_MS: u64 = 7 * 86_400_000;

/// Remembers, on the approving device, that `device` is to join the account's
/// conversations.
pub(crate) fn remember(
    conn: &rusqlite::Connection,
    device: DeviceId,
    now_ms: u64,
) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO linked_devices_to_add (device_id, approved_ms) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO NOTHING",
        params![device.get() as i64, now_ms as i64],
    )?;
    Ok(())
}

impl Client {
    /// Adds each device this one approved to the active conversations it is not in yet.
    /// Called at every sync; does nothing when no linked device waits.
    pub(crate) async fn add_linked_devices(&mut self) -> Result<(), ClientError> {
        let waiting: Vec<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT device_id, approved_ms FROM linked_devices_to_add")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (raw, approved_ms) in waiting {
            let done = match DeviceId::new(raw as u64) {
                Ok(device) => self.add_to_conversations(device).await?,
                Err(_) => true,
            };
            let stale = local::now_ms().saturating_sub(approved_ms as u64) > GIVE_UP_AFTER_MS;
            if done || stale {
                self.conn.execute(
                    "DELETE FROM linked_devices_to_add WHERE device_id = ?1",
                    [raw],
                )?;
            }
        }
        Ok(())
    }

    /// Adds `device` to each active conversation it is not in: true once it is in all of
    /// them, false when it cannot be added yet (no key package, not listed yet).
    async fn add_to_conversations(&mut self, device: DeviceId) -> Result<bool, ClientError> {
        for conversation in local::conversations(&self.conn)? {
            if !conversation.active || self.holds(&conversation.id, device)? {
                continue;
            }
            let me = self.me.username.clone();
            let packages = match self.claim_verified(&me, Some(device)).await {
                Ok(packages) if !packages.is_empty() => packages,
                Ok(_) | Err(ClientError::NoKeyPackage) => return Ok(false),
                Err(err) if err.code() == Some(ErrorCode::KeyPackageExpired) => return Ok(false),
                Err(err) if err.is_retryable() => return Ok(false),
                // Not (yet) what the directory lists: its next publication may.
                Err(ClientError::NotInDirectory(_)) => return Ok(false),
                Err(err) => return Err(err),
            };
            self.commit(&conversation.id, Self::add_commit(packages))
                .await?;
            let timer = self.disappearing(&conversation.id)?.unwrap_or(0);
            self.queue_envelope(
                &conversation.id,
                Body::Meta {
                    name: conversation.name.clone(),
                    direct: conversation.direct,
                    timer: Some(timer),
                },
            )?;
            crate::profile_book::share_again(&self.conn, &conversation.id)?;
        }
        self.share_profile_key()?;
        self.flush_outbox().await?;
        Ok(true)
    }

    /// Whether `device` is a member of the conversation's group.
    fn holds(&self, conversation: &GroupId, device: DeviceId) -> Result<bool, ClientError> {
        let storage = mls::Storage::new(&self.conn);
        let Some(group) = MlsGroup::load(&storage, &mls::group_id(conversation))? else {
            return Ok(true);
        };
        Ok(!group.is_active() || mls::members(&group).iter().any(|(_, _, d)| *d == device))
    }
}
