//! Devices that left pli but are still in a conversation's MLS tree: a removed device, or
//! every device of a deleted account. The server refuses to queue anything for a device
//! that no longer exists (`unknown_recipient`), so while such a leaf stays, no member could
//! send to the conversation.
//!
//! Removing one of this user's devices removes it from every conversation this device
//! shares with it at once. For everything else — a device removed by another of the
//! user's devices that was not in the conversation, another member's deleted account — a
//! send refused with `unknown_recipient` makes the sender look each member up in the key
//! directory (verified lookups) and commit the removal of every device the directory no
//! longer lists for its user, then send again. The directory is the arbiter, not the
//! server's refusal: a server cannot make members drop a device its owner still has
//! without publishing that change, which the owner's devices see and report.

use crate::client::Client;
use crate::error::ClientError;
use crate::mls;
use crate::mls::Storage;
use openmls::prelude::MlsGroup;
use pli_proto::{DeviceId, GroupId, Username};
use std::collections::BTreeMap;

impl Client {
    /// Commits the removal of `devices`' leaves from `group` (nothing if none is in it).
    /// The commit goes to the remaining members only: the departed devices cannot receive.
    pub(crate) async fn remove_departed(
        &mut self,
        group: &GroupId,
        devices: Vec<DeviceId>,
    ) -> Result<(), ClientError> {
        let gone = devices.clone();
        self.commit_without(group, &gone, move |mls_group, provider, signer| {
            let leaves: Vec<_> = mls::members(mls_group)
                .into_iter()
                .filter(|(_, _, device)| devices.contains(device))
                .map(|(leaf, _, _)| leaf)
                .collect();
            if leaves.is_empty() {
                return Ok(None);
            }
            let (commit, _, _) = mls_group
                .remove_members(provider, signer, &leaves)
                .map_err(ClientError::mls)?;
            Ok(Some((commit, None)))
        })
        .await
    }

    /// Removes from `group` every member device the key directory no longer lists for its
    /// user; true if it removed any. A user the directory does not know is left alone.
    pub(crate) async fn prune_departed(&mut self, group: &GroupId) -> Result<bool, ClientError> {
        let members = {
            let storage = Storage::new(&self.conn);
            let mls_group = MlsGroup::load(&storage, &mls::group_id(group))?
                .ok_or_else(|| ClientError::UnknownConversation(group.to_hex()))?;
            mls::members(&mls_group)
        };
        let mut by_user: BTreeMap<Username, Vec<DeviceId>> = BTreeMap::new();
        for (_, user, device) in members {
            if device != self.me.device_id {
                by_user.entry(user).or_default().push(device);
            }
        }
        let mut gone = Vec::new();
        for (user, devices) in by_user {
            let listed = match self.directory_devices(&user).await {
                Ok(listed) => listed.devices,
                Err(ClientError::NotInDirectory(_)) => continue,
                Err(err) => return Err(err),
            };
            gone.extend(
                devices
                    .into_iter()
                    .filter(|device| !listed.iter().any(|d| d.device_id == *device)),
            );
        }
        if gone.is_empty() {
            return Ok(false);
        }
        self.remove_departed(group, gone).await?;
        Ok(true)
    }
}
