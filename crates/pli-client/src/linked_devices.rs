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
//! MLS gives the new device no key to earlier epochs, so it reads what came before only if
//! the user chose to copy it: then, once the device is in every conversation, this one
//! sends it the history archive (`linked_history`).

use crate::error::ClientError;
use crate::{Client, local, mls};
use openmls::prelude::MlsGroup;
use pli_proto::payload::Body;
use pli_proto::{DeviceId, ErrorCode, GroupId};
use rusqlite::params;

/// How long an approved device is waited for before it is no longer added.
pub const GIVE_UP_AFTER_MS: u64 = 7 * 86_400_000;

// The new device keeps its link secret for as long as it may still be added and sent a copy.
const _: () = assert!(
    crate::linked_history::KEEP_SECRET_MS
        >= GIVE_UP_AFTER_MS + pli_proto::limits::HISTORY_TTL_SECS * 1000
);

/// How often a listening device syncs while a device it approved waits to be added.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// How long after an approval a listening device keeps syncing every [`POLL`]: a device
/// set up later is added at a sync for other reasons.
pub const POLL_FOR_MS: u64 = 3_600_000;

/// True while a device this one approved in the last [`POLL_FOR_MS`] waits to be added (or
/// to get its history).
pub(crate) fn waiting(conn: &rusqlite::Connection) -> Result<bool, ClientError> {
    let since = local::now_ms().saturating_sub(POLL_FOR_MS) as i64;
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM linked_devices_to_add WHERE approved_ms > ?1)",
        )?
        .query_row([since], |r| r.get(0))?)
}

/// Remembers, on the approving device, that `device` is to join the account's
/// conversations, and with `history` (the link secret and the oldest send time to copy)
/// that it is to get a history archive then.
pub(crate) fn remember(
    conn: &rusqlite::Connection,
    device: DeviceId,
    now_ms: u64,
    history: Option<(&[u8], u64)>,
) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO linked_devices_to_add (device_id, approved_ms, link_secret, history_since_ms)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO NOTHING",
        params![
            device.get() as i64,
            now_ms as i64,
            history.map(|(secret, _)| secret),
            history.map(|(_, since)| since.min(i64::MAX as u64) as i64)
        ],
    )?;
    Ok(())
}

/// A device waiting to be added: its id, when it was approved, and the history to copy.
struct Waiting {
    device_id: i64,
    approved_ms: i64,
    history: Option<(Vec<u8>, u64)>,
}

impl Client {
    /// Adds each device this one approved to the active conversations it is not in yet.
    /// Called at every sync; does nothing when no linked device waits.
    pub(crate) async fn add_linked_devices(&mut self) -> Result<(), ClientError> {
        crate::linked_history::forget_stale(&self.conn, local::now_ms())?;
        let waiting: Vec<Waiting> = self
            .conn
            .prepare_cached(
                "SELECT device_id, approved_ms, link_secret, history_since_ms
                 FROM linked_devices_to_add",
            )?
            .query_map([], |r| {
                let secret: Option<Vec<u8>> = r.get(2)?;
                let since: Option<i64> = r.get(3)?;
                Ok(Waiting {
                    device_id: r.get(0)?,
                    approved_ms: r.get(1)?,
                    history: secret.zip(since.map(|s| s.max(0) as u64)),
                })
            })?
            .collect::<Result<_, _>>()?;
        for waiting in waiting {
            let raw = waiting.device_id;
            let mut done = match DeviceId::new(raw as u64) {
                Ok(device) => self.add_to_conversations(device).await?,
                Err(_) => true,
            };
            if let (true, Some((secret, since)), Ok(device)) =
                (done, &waiting.history, DeviceId::new(raw as u64))
            {
                // In every conversation now: copy the history. Offline, the next sync
                // tries again (a part that came twice is taken once).
                match self.send_history(device, secret, *since).await {
                    Ok(_) => {}
                    Err(err) if err.is_retryable() => done = false,
                    // Refused (the device was removed since): nothing more to copy to it.
                    Err(err) => tracing::debug!(error = %err, "gave up copying the history"),
                }
            }
            let stale =
                local::now_ms().saturating_sub(waiting.approved_ms as u64) > GIVE_UP_AFTER_MS;
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
