//! Conversations and membership: create (1:1 and groups), add, remove, leave, and the
//! commit protocol they share.
//!
//! A commit is stored as pending, then submitted with this device among its recipients.
//! "Accepted" means merge. `stale_epoch` means another member's commit won the race:
//! discard ours, catch up, and build it again on the new epoch. A network failure leaves
//! the outcome unknown; the copy queued back to this device settles it at the next sync
//! (present: it was accepted; absent once the queue is drained: it was not).

use crate::client::Client;
use crate::error::ClientError;
use crate::kt::members::{self, MemberCheck};
use crate::local::{self, Conversation};
use crate::mls::{self, Provider};
use crate::outbox::MAX_ATTEMPTS;
use openmls::prelude::{KeyPackage, MlsGroup, MlsMessageOut, OpenMlsProvider, Proposal};
use openmls_basic_credential::SignatureKeyPair;
use pli_proto::api::{SubmitRequest, WelcomeOut};
use pli_proto::payload::Body;
use pli_proto::{DeviceId, ErrorCode, GroupId, Username};
use rand::Rng;
use std::collections::BTreeSet;

/// A commit and, when it adds members, their Welcome and devices.
type Built = (MlsMessageOut, Option<(MlsMessageOut, Vec<DeviceId>)>);

/// Builds a commit on the group as it is now (`None`: nothing to commit any more); called
/// again after a lost race, on the newer epoch.
pub(crate) trait BuildCommit:
    FnMut(&mut MlsGroup, &Provider<'_>, &SignatureKeyPair) -> Result<Option<Built>, ClientError>
{
}

impl<F> BuildCommit for F where
    F: FnMut(&mut MlsGroup, &Provider<'_>, &SignatureKeyPair) -> Result<Option<Built>, ClientError>
{
}

impl Client {
    /// Claims a key package for each of `user`'s devices (or `only` one of them) and
    /// verifies each one.
    pub(crate) async fn claim_verified(
        &mut self,
        user: &Username,
        only: Option<DeviceId>,
    ) -> Result<Vec<(DeviceId, KeyPackage)>, ClientError> {
        let claimed = match only {
            None => self.transport.claim(user).await,
            Some(device) => self.transport.claim_device(user, device).await,
        };
        let claimed = match claimed {
            Err(err) if err.code() == Some(ErrorCode::NoKeyPackage) => {
                return Err(ClientError::NoKeyPackage);
            }
            other => other?,
        };
        let packages = claimed
            .key_packages
            .into_iter()
            .filter(|c| c.device_id != self.me.device_id)
            .map(|c| {
                let package =
                    mls::verify_claimed(&self.crypto, c.key_package.as_slice(), user, c.device_id)?;
                Ok((c.device_id, package))
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        // Every key must be the one the key directory lists for its device.
        let keys: Vec<_> = packages
            .iter()
            .map(|(device, package)| {
                (
                    *device,
                    package.leaf_node().signature_key().as_slice().to_vec(),
                )
            })
            .collect();
        self.check_listed(user, &keys).await?;
        Ok(packages)
    }

    /// Key packages for every device of `users`, plus this user's other devices.
    async fn packages_for(
        &mut self,
        users: &[Username],
    ) -> Result<Vec<(DeviceId, KeyPackage)>, ClientError> {
        let mut packages = Vec::new();
        for user in users {
            let claimed = self.claim_verified(user, None).await?;
            if claimed.is_empty() {
                return Err(ClientError::NoKeyPackage);
            }
            packages.extend(claimed);
        }
        match self.claim_verified(&self.me.username.clone(), None).await {
            Ok(own) => packages.extend(own),
            // This user's other devices have no package (or only expired ones, after a long
            // absence): the conversation starts without them.
            Err(ClientError::NoKeyPackage) => {}
            Err(err) if err.code() == Some(ErrorCode::KeyPackageExpired) => {}
            Err(err) => return Err(err),
        }
        Ok(packages)
    }

    /// Builds, submits and settles one commit on `group`, retrying on lost races.
    pub(crate) async fn commit(
        &mut self,
        group: &GroupId,
        build: impl BuildCommit,
    ) -> Result<(), ClientError> {
        self.commit_without(group, &[], build).await
    }

    /// [`Self::commit`], sent to every member but the devices in `gone` (which no longer
    /// exist). A commit refused because some member device no longer exists takes the
    /// devices the key directory no longer lists out of the group first (`departed`), then
    /// is built again.
    pub(crate) async fn commit_without(
        &mut self,
        group: &GroupId,
        gone: &[DeviceId],
        mut build: impl BuildCommit,
    ) -> Result<(), ClientError> {
        let mut pruned = false;
        let mut looked_up = BTreeSet::new();
        let mut attempts = 0;
        while attempts < MAX_ATTEMPTS {
            let signer = self.signer()?;
            // The check and the commit see one group state: nothing between them can
            // change it (this device processes no delivery in between).
            let checked = {
                let storage = mls::Storage::new(&self.conn);
                let mls_group = MlsGroup::load(&storage, &mls::group_id(group))?
                    .ok_or_else(|| ClientError::UnknownConversation(group.to_hex()))?;
                if !mls_group.is_active() {
                    return Err(ClientError::Invalid(
                        "you are no longer a member of this conversation".into(),
                    ));
                }
                // Nothing is committed to a group holding a key the directory does not list
                // (but the devices this commit removes because they are gone).
                let check = members::check(&self.conn, &mls_group, gone)?;
                if !matches!(check, MemberCheck::Verified(_)) {
                    Err(check)
                } else {
                    attempts += 1;
                    Ok(())
                }
            };
            if let Err(check) = checked {
                self.resolve_unverified(group, check, &mut looked_up)
                    .await?;
                continue;
            }
            let request = {
                let tx = self.conn.unchecked_transaction()?;
                let provider = Provider::new(&self.crypto, &tx);
                let mut mls_group = MlsGroup::load(provider.storage(), &mls::group_id(group))?
                    .ok_or_else(|| ClientError::UnknownConversation(group.to_hex()))?;
                // Everyone in the group now, this device included: its own copy is the
                // server's receipt.
                let recipients: Vec<DeviceId> = mls::members(&mls_group)
                    .into_iter()
                    .map(|(_, _, d)| d)
                    .filter(|d| !gone.contains(d))
                    .collect();
                let Some((commit, welcome)) = build(&mut mls_group, &provider, &signer)? else {
                    return Ok(());
                };
                let commit = mls::serialize(&commit)?;
                let welcome = welcome
                    .map(|(message, devices)| {
                        Ok::<_, ClientError>(WelcomeOut {
                            message: mls::serialize(&message)?.into(),
                            recipients: devices,
                        })
                    })
                    .transpose()?;
                tx.execute(
                    "INSERT OR REPLACE INTO pending_commits (group_id, message) VALUES (?1, ?2)",
                    rusqlite::params![group.as_bytes(), commit],
                )?;
                tx.commit()?;
                SubmitRequest {
                    group_id: group.clone(),
                    message: commit.into(),
                    recipients,
                    welcome,
                }
            };
            match self.transport.submit(&request).await {
                Ok(_) => return self.settle_commit(group, true),
                Err(err) if err.code() == Some(ErrorCode::StaleEpoch) => {
                    self.settle_commit(group, false)?;
                    self.drain_queue().await?;
                }
                Err(err)
                    if err.code() == Some(ErrorCode::UnknownRecipient)
                        && gone.is_empty()
                        && !pruned =>
                {
                    self.settle_commit(group, false)?;
                    pruned = true;
                    if !Box::pin(self.prune_departed(group)).await? {
                        return Err(err);
                    }
                }
                Err(err) if err.is_transport() => return Err(err),
                Err(err) => {
                    self.settle_commit(group, false)?;
                    return Err(err);
                }
            }
        }
        Err(ClientError::Contention)
    }

    /// Merges (accepted) or discards (refused) this device's pending commit.
    fn settle_commit(&mut self, group: &GroupId, accepted: bool) -> Result<(), ClientError> {
        let tx = self.conn.unchecked_transaction()?;
        let provider = Provider::new(&self.crypto, &tx);
        if let Some(mut mls_group) = MlsGroup::load(provider.storage(), &mls::group_id(group))? {
            if accepted {
                mls_group
                    .merge_pending_commit(&provider)
                    .map_err(ClientError::mls)?;
            } else {
                mls_group.clear_pending_commit(provider.storage())?;
            }
        }
        tx.execute(
            "DELETE FROM pending_commits WHERE group_id = ?1",
            [group.as_bytes()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Opens a new MLS group of this device alone under `id`, stored in `tx`: a
    /// conversation's or a call's, before anyone is added.
    pub(crate) fn open_group(
        &self,
        tx: &rusqlite::Connection,
        id: &GroupId,
    ) -> Result<(), ClientError> {
        let signer = self.signer()?;
        let credential = mls::credential(&self.me.username, self.me.device_id, &signer);
        MlsGroup::new_with_group_id(
            &Provider::new(&self.crypto, tx),
            &signer,
            &mls::create_config(),
            mls::group_id(id),
            credential,
        )
        .map_err(ClientError::mls)?;
        Ok(())
    }

    pub(crate) fn add_commit(
        packages: Vec<(DeviceId, KeyPackage)>,
    ) -> impl FnMut(&mut MlsGroup, &Provider<'_>, &SignatureKeyPair) -> Result<Option<Built>, ClientError>
    {
        move |group, provider, signer| {
            let devices: Vec<DeviceId> = packages.iter().map(|(d, _)| *d).collect();
            let keys: Vec<KeyPackage> = packages.iter().map(|(_, k)| k.clone()).collect();
            let (commit, welcome, _) = group
                .add_members(provider, signer, &keys)
                .map_err(ClientError::mls)?;
            Ok(Some((commit, Some((welcome, devices)))))
        }
    }

    /// Starts a conversation with `members`; `direct` marks a 1:1 chat. Returns its id.
    async fn start_conversation(
        &mut self,
        name: &str,
        members: &[Username],
        direct: bool,
    ) -> Result<GroupId, ClientError> {
        let mut members: Vec<Username> = members
            .iter()
            .filter(|m| **m != self.me.username)
            .cloned()
            .collect();
        members.sort();
        members.dedup();
        if members.is_empty() {
            return Err(ClientError::Invalid(
                "a conversation needs at least one other member".into(),
            ));
        }
        Body::Meta {
            name: name.to_owned(),
            direct,
            timer: None,
        }
        .check_limits()
        .map_err(|e| ClientError::Invalid(e.to_string()))?;
        self.sync_inbound().await?;
        let packages = self.packages_for(&members).await?;
        let id = GroupId::from_bytes(&rand::rng().random::<[u8; 16]>())
            .expect("16 bytes is a valid group id");
        {
            let tx = self.conn.unchecked_transaction()?;
            self.open_group(&tx, &id)?;
            let peer = direct.then(|| members[0].clone());
            local::insert_conversation(
                &tx,
                &Conversation {
                    id: id.clone(),
                    name: name.to_owned(),
                    direct,
                    peer,
                    active: true,
                },
                local::now_ms(),
            )?;
            tx.commit()?;
        }
        self.commit(&id, Self::add_commit(packages)).await?;
        self.queue_envelope(
            &id,
            Body::Meta {
                name: name.to_owned(),
                direct,
                timer: None,
            },
        )?;
        self.share_profile_key()?;
        self.flush_outbox().await?;
        Ok(id)
    }

    /// Creates a group conversation named `name` with `members`; returns its id.
    pub async fn create_group(
        &mut self,
        name: &str,
        members: &[Username],
    ) -> Result<GroupId, ClientError> {
        self.start_conversation(name, members, false).await
    }

    /// The 1:1 conversation with `peer`, started if there is none yet.
    pub async fn direct_conversation(&mut self, peer: &Username) -> Result<GroupId, ClientError> {
        if *peer == self.me.username {
            return Err(ClientError::Invalid(
                "a direct conversation needs another user".into(),
            ));
        }
        self.sync_inbound().await?;
        for id in local::direct_candidates(&self.conn, peer)? {
            if self.is_direct_with(&id, peer).await? {
                return Ok(id);
            }
        }
        self.start_conversation("", std::slice::from_ref(peer), true)
            .await
    }

    /// True if the group's members are exactly this user's and `peer`'s devices, each with
    /// the key the directory lists for it. Saying "direct" in a message proves nothing: any
    /// user can make a group whose other leaf claims to be `peer`. A member whose key the
    /// directory does not list marks the group untrusted.
    async fn is_direct_with(&mut self, id: &GroupId, peer: &Username) -> Result<bool, ClientError> {
        {
            let storage = mls::Storage::new(&self.conn);
            let Some(group) = MlsGroup::load(&storage, &mls::group_id(id))? else {
                return Ok(false);
            };
            let users: BTreeSet<Username> = mls::members(&group)
                .into_iter()
                .map(|(_, u, _)| u)
                .collect();
            let expected: BTreeSet<Username> = [self.me.username.clone(), peer.clone()].into();
            if !group.is_active() || users != expected {
                return Ok(false);
            }
        }
        self.verify_group(id).await
    }

    /// Adds every device of `user` to the conversation and tells them its name.
    pub async fn add_member(
        &mut self,
        conversation: &GroupId,
        user: &Username,
    ) -> Result<(), ClientError> {
        let current = local::conversation(&self.conn, conversation)?
            .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
        self.sync_inbound().await?;
        let packages: Vec<_> = self.claim_verified(user, None).await?;
        if packages.is_empty() {
            return Err(ClientError::NoKeyPackage);
        }
        self.commit(conversation, Self::add_commit(packages))
            .await?;
        // The others read "@me added @user" from the commit; this device says it itself.
        local::notice(
            &self.conn,
            Some(conversation),
            false,
            &format!("you added @{user}"),
            local::now_ms(),
        )?;
        self.queue_envelope(
            conversation,
            Body::Meta {
                name: current.name,
                direct: false,
                timer: Some(self.disappearing(conversation)?.unwrap_or(0)),
            },
        )?;
        crate::profile_book::share_again(&self.conn, conversation)?;
        self.share_profile_key()?;
        self.flush_outbox().await?;
        Ok(())
    }

    /// Removes every device of `user` from the conversation.
    pub async fn remove_member(
        &mut self,
        conversation: &GroupId,
        user: &Username,
    ) -> Result<(), ClientError> {
        if *user == self.me.username {
            return Err(ClientError::Invalid("use leave to remove yourself".into()));
        }
        self.sync_inbound().await?;
        let user = user.clone();
        let removed = user.clone();
        self.commit(conversation, move |group, provider, signer| {
            let leaves: Vec<_> = mls::members(group)
                .into_iter()
                .filter(|(_, u, _)| *u == user)
                .map(|(i, _, _)| i)
                .collect();
            if leaves.is_empty() {
                return Err(ClientError::Invalid(format!(
                    "@{user} is not a member of this conversation"
                )));
            }
            let (commit, _, _) = group
                .remove_members(provider, signer, &leaves)
                .map_err(ClientError::mls)?;
            Ok(Some((commit, None)))
        })
        .await?;
        local::notice(
            &self.conn,
            Some(conversation),
            false,
            &format!("you removed @{removed}"),
            local::now_ms(),
        )
    }

    /// Leaves the conversation: proposes this device's removal (a remaining member commits
    /// it) and stops using the conversation at once.
    pub async fn leave(&mut self, conversation: &GroupId) -> Result<(), ClientError> {
        self.sync_inbound().await?;
        let mut looked_up = BTreeSet::new();
        let mut attempts = 0;
        while attempts < MAX_ATTEMPTS {
            let signer = self.signer()?;
            let check = {
                let storage = mls::Storage::new(&self.conn);
                let group = MlsGroup::load(&storage, &mls::group_id(conversation))?
                    .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
                members::check(&self.conn, &group, &[])?
            };
            if !matches!(check, MemberCheck::Verified(_)) {
                self.resolve_unverified(conversation, check, &mut looked_up)
                    .await?;
                continue;
            }
            attempts += 1;
            let request = {
                let tx = self.conn.unchecked_transaction()?;
                let provider = Provider::new(&self.crypto, &tx);
                let mut group =
                    MlsGroup::load(provider.storage(), &mls::group_id(conversation))?
                        .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
                let recipients: Vec<DeviceId> = mls::members(&group)
                    .into_iter()
                    .map(|(_, _, d)| d)
                    .filter(|d| *d != self.me.device_id)
                    .collect();
                let proposal = group
                    .leave_group(&provider, &signer)
                    .map_err(ClientError::mls)?;
                let proposal = mls::serialize(&proposal)?;
                if recipients.is_empty() {
                    local::set_active(&tx, conversation, false)?;
                    tx.commit()?;
                    return Ok(());
                }
                tx.commit()?;
                SubmitRequest {
                    group_id: conversation.clone(),
                    message: proposal.into(),
                    recipients,
                    welcome: None,
                }
            };
            match self.transport.submit(&request).await {
                Ok(_) => {
                    local::set_active(&self.conn, conversation, false)?;
                    return Ok(());
                }
                Err(err) if err.code() == Some(ErrorCode::StaleEpoch) => self.drain_queue().await?,
                Err(err) => return Err(err),
            }
        }
        Err(ClientError::Contention)
    }

    /// Commits queued proposals (a member leaving) in groups where this device is the
    /// remaining member with the lowest leaf index, so exactly one member does it.
    pub(crate) async fn commit_queued_proposals(&mut self) -> Result<(), ClientError> {
        let groups = std::mem::take(&mut self.needs_commit);
        for group in groups {
            let designated = {
                let storage = mls::Storage::new(&self.conn);
                let Some(mls_group) = MlsGroup::load(&storage, &mls::group_id(&group))? else {
                    continue;
                };
                if !mls_group.is_active() || mls_group.pending_proposals().next().is_none() {
                    continue;
                }
                let leaving: Vec<_> = mls_group
                    .pending_proposals()
                    .filter_map(|p| match p.proposal() {
                        Proposal::Remove(remove) => Some(remove.removed()),
                        _ => None,
                    })
                    .collect();
                let first = mls::members(&mls_group)
                    .into_iter()
                    .map(|(i, _, _)| i)
                    .filter(|i| !leaving.contains(i))
                    .min();
                first == Some(mls_group.own_leaf_index())
            };
            if designated {
                self.commit(&group, |mls_group, provider, signer| {
                    if mls_group.pending_proposals().next().is_none() {
                        return Ok(None);
                    }
                    let (commit, _, _) = mls_group
                        .commit_to_pending_proposals(provider, signer)
                        .map_err(ClientError::mls)?;
                    Ok(Some((commit, None)))
                })
                .await?;
            }
        }
        Ok(())
    }
}

impl Client {
    /// The users in a conversation according to this device's MLS state, sorted.
    pub fn members(&self, conversation: &GroupId) -> Result<Vec<Username>, ClientError> {
        let storage = mls::Storage::new(&self.conn);
        let group = MlsGroup::load(&storage, &mls::group_id(conversation))?
            .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
        let mut users: Vec<Username> = mls::members(&group)
            .into_iter()
            .map(|(_, u, _)| u)
            .collect();
        users.sort();
        users.dedup();
        Ok(users)
    }
}

impl Client {
    /// The conversation's current MLS epoch on this device; members that agree on it share
    /// one view of the group.
    pub fn epoch(&self, conversation: &GroupId) -> Result<u64, ClientError> {
        let storage = mls::Storage::new(&self.conn);
        let group = MlsGroup::load(&storage, &mls::group_id(conversation))?
            .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
        Ok(group.epoch().as_u64())
    }
}
