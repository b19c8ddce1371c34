//! A call's own MLS group: the devices in the call right now, whose epochs key its frames
//! (`call_frames`).
//!
//! The device that starts a call opens the group alone. A device joins by asking in the
//! conversation (an answer or a join, [`pli_proto::call::CallAction`]); the member of the
//! call with the lowest leaf then adds it with a key package claimed for that device alone,
//! checked against the key directory like any member's, and the Welcome reaches it through
//! the server like a conversation's. A leave is a removal committed by that same member.
//! Every join and leave is therefore a commit, a new epoch and new frame keys.
//!
//! Why adding by a member rather than an external commit: the server refuses every MLS
//! PublicMessage today, and an external commit is one; accepting them for call groups would
//! need a second kind of token and a second path through the server's checks, while an add
//! by a member goes through the path every conversation already uses, and the adding member
//! checks the joiner's key against the directory before anyone encrypts to it. The cost is
//! one round trip through a member already in the call.
//!
//! A Welcome to a call group is taken only if this device asked to join that very call, and
//! only if every device in it is one of the conversation's members: a ghost cannot be in
//! the call unseen.

use crate::call_frames::{CallFrames, FrameError};
use crate::error::ClientError;
use crate::mls::{self, Provider};
use crate::{Client, local};
use openmls::prelude::{
    MlsGroup, OpenMlsProvider as _, ProcessedMessage, ProcessedMessageContent, StagedWelcome,
};
use pli_proto::call::{CALL_ID_BYTES, CallAction, call_group_id, parse_call_id};
use pli_proto::payload::Body;
use pli_proto::{DeviceId, GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

/// Whether `group` is the group of a call (not a conversation).
pub(crate) fn is_call_group(conn: &Connection, group: &GroupId) -> Result<bool, ClientError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM call_groups WHERE group_id = ?1")?
        .query_row([group.as_bytes()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Notes that `device` of `user` asks to join (or leaves) the call group `group`, for this
/// device to add (or remove) at its next sync if it is the call's admitting member.
pub(crate) fn note_change(
    tx: &Connection,
    conversation: &GroupId,
    call: &[u8; CALL_ID_BYTES],
    user: &Username,
    device: DeviceId,
    action: CallAction,
) -> Result<(), ClientError> {
    let joining = match action {
        CallAction::Answer | CallAction::Join => true,
        CallAction::Leave => false,
        CallAction::Start | CallAction::Decline | CallAction::End => return Ok(()),
    };
    let group = call_group_id(conversation, call);
    if !is_joined(tx, &group)? {
        return Ok(());
    }
    tx.execute(
        "INSERT OR REPLACE INTO call_changes (group_id, username, device_id, joining)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            group.as_bytes(),
            user.as_str(),
            device.get() as i64,
            joining
        ],
    )?;
    Ok(())
}

fn is_joined(conn: &Connection, group: &GroupId) -> Result<bool, ClientError> {
    Ok(conn
        .prepare_cached("SELECT joined FROM call_groups WHERE group_id = ?1")?
        .query_row([group.as_bytes()], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// True while a join or leave waits for this device to commit it.
pub(crate) fn changes_due(conn: &Connection) -> Result<bool, ClientError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM call_changes)")?
        .query_row([], |r| r.get(0))?)
}

/// Takes a Welcome to a call group, if this device asked to join that call and everyone
/// in it is a member of the conversation. Returns false when the Welcome is not for a
/// call (a conversation's, then).
pub(crate) fn join(
    tx: &Connection,
    provider: &Provider<'_>,
    staged: StagedWelcome,
) -> Result<Option<StagedWelcome>, ClientError> {
    let Ok(group) = mls::pli_group(staged.group_context().group_id()) else {
        return Ok(Some(staged));
    };
    let conversation: Option<Vec<u8>> = tx
        .query_row(
            "SELECT conversation FROM call_groups WHERE group_id = ?1 AND joined = 0",
            [group.as_bytes()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(conversation) = conversation else {
        return Ok(Some(staged));
    };
    let conversation = GroupId::from_bytes(&conversation)
        .map_err(|_| ClientError::corrupt("call_groups: conversation id"))?;
    let Some(chat) = MlsGroup::load(provider.storage(), &mls::group_id(&conversation))? else {
        return Ok(None);
    };
    let members = mls::members(&chat);
    let call = staged.into_group(provider).map_err(ClientError::mls)?;
    // Every device in the call must be one of the conversation's.
    let strangers = mls::members(&call)
        .into_iter()
        .any(|(_, user, device)| !members.iter().any(|(_, u, d)| *u == user && *d == device));
    if strangers {
        let mut call = call;
        call.delete(provider.storage())?;
        local::notice(
            tx,
            Some(&conversation),
            true,
            "a call this device was asked into holds a device that is not in the conversation: it was refused",
            local::now_ms(),
        )?;
        return Ok(None);
    }
    tx.execute(
        "UPDATE call_groups SET joined = 1 WHERE group_id = ?1",
        [group.as_bytes()],
    )?;
    Ok(None)
}

/// A pending join or leave for this device to commit.
struct Change {
    group: GroupId,
    user: Username,
    device: DeviceId,
    joining: bool,
}

impl Client {
    /// Starts a call in the conversation: opens its call group (this device alone) and
    /// rings the other members. Returns the call's id.
    pub async fn start_call(
        &mut self,
        conversation: &GroupId,
        video: bool,
    ) -> Result<(String, crate::SendStatus), ClientError> {
        let call: [u8; CALL_ID_BYTES] = rand::random();
        let group = call_group_id(conversation, &call);
        {
            let tx = self.conn.unchecked_transaction()?;
            self.open_group(&tx, &group)?;
            tx.execute(
                "INSERT INTO call_groups (group_id, conversation, call_id, joined) VALUES (?1, ?2, ?3, 1)",
                params![group.as_bytes(), conversation.as_bytes(), call.as_slice()],
            )?;
            tx.commit()?;
        }
        let call = hex::encode(call);
        let status = self
            .signal_call(conversation, &call, CallAction::Start, video)
            .await?;
        Ok((call, status))
    }

    /// Answers a ringing call, or joins a running one (`action`): asks the call's members
    /// to add this device; its frame keys are there once their Welcome came (a sync).
    pub async fn enter_call(
        &mut self,
        conversation: &GroupId,
        call: &str,
        action: CallAction,
        video: bool,
    ) -> Result<crate::SendStatus, ClientError> {
        let (Some(id), CallAction::Answer | CallAction::Join) = (parse_call_id(call), action)
        else {
            return Err(ClientError::Invalid(
                "enter a call by its id, answering or joining".into(),
            ));
        };
        self.conn.execute(
            "INSERT OR IGNORE INTO call_groups (group_id, conversation, call_id) VALUES (?1, ?2, ?3)",
            params![
                call_group_id(conversation, &id).as_bytes(),
                conversation.as_bytes(),
                id.as_slice()
            ],
        )?;
        self.signal_call(conversation, call, action, video).await
    }

    /// Leaves a call: tells the members (one of them removes this device from the call
    /// group) and forgets the call group here.
    pub async fn leave_call(
        &mut self,
        conversation: &GroupId,
        call: &str,
    ) -> Result<crate::SendStatus, ClientError> {
        let Some(id) = parse_call_id(call) else {
            return Err(ClientError::Invalid("not a call id".into()));
        };
        let status = self
            .signal_call(conversation, call, CallAction::Leave, false)
            .await?;
        let group = call_group_id(conversation, &id);
        self.conn.execute(
            "DELETE FROM call_groups WHERE group_id = ?1",
            [group.as_bytes()],
        )?;
        let storage = mls::Storage::new(&self.conn);
        if let Some(mut mls_group) = MlsGroup::load(&storage, &mls::group_id(&group))? {
            mls_group.delete(&storage)?;
        }
        Ok(status)
    }

    /// The frame keys of the call group's current epoch, once this device is in the call.
    pub fn call_frames(
        &self,
        conversation: &GroupId,
        call: &str,
    ) -> Result<Option<(CallFrames, String)>, ClientError> {
        let Some(id) = parse_call_id(call) else {
            return Err(ClientError::Invalid("not a call id".into()));
        };
        let group = call_group_id(conversation, &id);
        if !is_joined(&self.conn, &group)? {
            return Ok(None);
        }
        let storage = mls::Storage::new(&self.conn);
        let Some(mls_group) = MlsGroup::load(&storage, &mls::group_id(&group))? else {
            return Ok(None);
        };
        let frames = CallFrames::new(&mls_group, &self.crypto).map_err(|err| match err {
            FrameError::Keys => ClientError::Invalid("this device is no longer in the call".into()),
            other => ClientError::Invalid(other.to_string()),
        })?;
        Ok(Some((frames, CallFrames::code(&mls_group))))
    }

    /// Commits the joins and leaves this device is the admitting member for (the call
    /// group's lowest leaf, but the leaving devices): called at every sync.
    pub(crate) async fn admit_callers(&mut self) -> Result<(), ClientError> {
        let due: Vec<Change> = self
            .conn
            .prepare_cached("SELECT group_id, username, device_id, joining FROM call_changes")?
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?
            .filter_map(|row| {
                let (group, user, device, joining) = row.ok()?;
                Some(Change {
                    group: GroupId::from_bytes(&group).ok()?,
                    user: user.parse().ok()?,
                    device: DeviceId::new(device as u64).ok()?,
                    joining,
                })
            })
            .collect();
        self.conn.execute("DELETE FROM call_changes", [])?;
        for change in due {
            match self.commit_change(&change).await {
                Ok(()) => {}
                Err(err) if err.is_retryable() => {
                    self.conn.execute(
                        "INSERT OR REPLACE INTO call_changes (group_id, username, device_id, joining)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![
                            change.group.as_bytes(),
                            change.user.as_str(),
                            change.device.get() as i64,
                            change.joining
                        ],
                    )?;
                }
                Err(err) => tracing::debug!(error = %err, "a call join or leave was not committed"),
            }
        }
        Ok(())
    }

    async fn commit_change(&mut self, change: &Change) -> Result<(), ClientError> {
        let (admitting, present) = {
            let storage = mls::Storage::new(&self.conn);
            let Some(group) = MlsGroup::load(&storage, &mls::group_id(&change.group))? else {
                return Ok(());
            };
            let members = mls::members(&group);
            let present = members.iter().any(|(_, _, d)| *d == change.device);
            let lowest = members
                .iter()
                .filter(|(_, _, d)| change.joining || *d != change.device)
                .map(|(leaf, _, _)| *leaf)
                .min();
            (
                group.is_active() && lowest == Some(group.own_leaf_index()),
                present,
            )
        };
        if !admitting || present == change.joining {
            return Ok(());
        }
        if change.joining {
            let packages = self
                .claim_verified(&change.user, Some(change.device))
                .await?;
            if packages.is_empty() {
                return Err(ClientError::NoKeyPackage);
            }
            return self.commit(&change.group, Self::add_commit(packages)).await;
        }
        let device = change.device;
        self.commit(&change.group, move |group, provider, signer| {
            let leaves: Vec<_> = mls::members(group)
                .into_iter()
                .filter(|(_, _, d)| *d == device)
                .map(|(leaf, _, _)| leaf)
                .collect();
            let (commit, _, _) = group
                .remove_members(provider, signer, &leaves)
                .map_err(ClientError::mls)?;
            Ok(Some((commit, None)))
        })
        .await
    }
}

/// Applies a received call message's effect on the call group: a join or leave by another
/// device for this device to commit, or the call's end (the group is forgotten).
pub(crate) fn receive(
    tx: &Connection,
    conversation: &GroupId,
    sender: &Username,
    device: DeviceId,
    body: &Body,
) -> Result<(), ClientError> {
    let Body::Call { call, action, .. } = body else {
        return Ok(());
    };
    let Some(call) = parse_call_id(call) else {
        return Ok(());
    };
    if *action == CallAction::End {
        tx.execute(
            "DELETE FROM call_groups WHERE group_id = ?1",
            [call_group_id(conversation, &call).as_bytes()],
        )?;
        return Ok(());
    }
    note_change(tx, conversation, &call, sender, device, *action)
}

/// Applies a message of a call group: a commit (a join or a leave) is merged, so the frame
/// keys move to its epoch; this device's removal forgets the call. Nothing else is taken:
/// a call group carries no messages of its own.
pub(crate) fn apply(
    tx: &Connection,
    provider: &Provider<'_>,
    group: &mut MlsGroup,
    processed: ProcessedMessage,
) -> Result<(), ClientError> {
    let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
        return Ok(());
    };
    let removed = staged.self_removed();
    group
        .merge_staged_commit(provider, *staged)
        .map_err(ClientError::mls)?;
    tx.prepare_cached("DELETE FROM pending_commits WHERE group_id = ?1")?
        .execute([group.group_id().as_slice()])?;
    if removed {
        tx.execute(
            "DELETE FROM call_groups WHERE group_id = ?1",
            [group.group_id().as_slice()],
        )?;
    }
    Ok(())
}
