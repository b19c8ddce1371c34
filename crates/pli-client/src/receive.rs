//! Receiving: drain the device's queue over the WebSocket, process each delivery in one
//! local transaction (MLS state, history, dedup mark together), then ack it.
//!
//! Each delivery is one of: a Welcome (join a conversation), an application message
//! (decrypt, check the sender's hash chain, store), a proposal (queue it; a departing
//! member's removal is committed by the lowest remaining member), or a commit (merge; ours
//! coming back is the server's proof that it was accepted).

use crate::client::Client;
use crate::error::ClientError;
use crate::error::TransportError;
use crate::group_cache::GroupCache;
use crate::local;
use crate::mls::{self, Provider, pli_group};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::*;
use pli_proto::api::ServerNotice;
use pli_proto::frame::{Delivery, KIND_HISTORY, KIND_LINK_KEYS, KIND_NOTICE, ServerFrame};
use pli_proto::franking::Stamp;
use pli_proto::payload::{Body, Envelope};
use pli_proto::{DeviceId, GroupId as PliGroupId, MessageId, Username};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;

/// The client submits over HTTP (its outbox needs each answer tied to a request), so an
/// answer to a socket submission is the server breaking the protocol.
pub(crate) fn unasked_answer() -> ClientError {
    ClientError::Protocol("an answer to a submission this client did not make".into())
}

impl Client {
    /// Processes everything queued for this device, until the server marks the queue
    /// drained. Commits of ours still unconfirmed after that were never accepted and are
    /// discarded.
    pub(crate) async fn drain_queue(&mut self) -> Result<(), ClientError> {
        let mut stream = self.transport.connect().await?;
        loop {
            match stream.next_frame().await? {
                Some(ServerFrame::Deliver(items)) => {
                    let ids = self.process_batch(items)?;
                    stream.ack(ids).await?;
                }
                Some(ServerFrame::Drained) => break,
                // Typing while this device catches up: it is processed like any other.
                Some(ServerFrame::Ephemeral { group, message }) => {
                    self.process_ephemeral(&group, &message)?;
                }
                Some(ServerFrame::Accepted { .. } | ServerFrame::Refused { .. }) => {
                    return Err(unasked_answer());
                }
                Some(ServerFrame::Error(code)) => {
                    return Err(ClientError::Protocol(format!(
                        "server closed the stream: {code}"
                    )));
                }
                None => {
                    return Err(ClientError::Transport(TransportError::ClosedEarly));
                }
            }
        }
        stream.close().await?;
        self.discard_unconfirmed_commits()
    }

    pub(crate) fn process_batch(
        &mut self,
        items: Vec<Delivery>,
    ) -> Result<Vec<MessageId>, ClientError> {
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            self.process_delivery(item.id, item.kind, &item.payload)?;
            ids.push(item.id);
        }
        Ok(ids)
    }

    /// Processes one delivery at most once. A delivery that cannot be processed (not for
    /// us, undecryptable, from a group we left) is marked processed and dropped; a local
    /// storage failure aborts without marking, so it is retried.
    fn process_delivery(
        &mut self,
        id: MessageId,
        kind: u8,
        bytes: &[u8],
    ) -> Result<(), ClientError> {
        process_one(
            &self.conn,
            &self.crypto,
            &mut self.needs_commit,
            &mut self.groups,
            id,
            kind,
            bytes,
        )
    }

    /// Clears every commit of ours the server did not confirm during the last drain.
    pub(crate) fn discard_unconfirmed_commits(&mut self) -> Result<(), ClientError> {
        let groups: Vec<Vec<u8>> = {
            let mut st = self.conn.prepare("SELECT group_id FROM pending_commits")?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        for group in groups {
            let tx = self.conn.unchecked_transaction()?;
            let provider = Provider::new(&self.crypto, &tx);
            if let Some(mut mls_group) =
                MlsGroup::load(provider.storage(), &GroupId::from_slice(&group))?
            {
                mls_group.clear_pending_commit(provider.storage())?;
            }
            tx.execute("DELETE FROM pending_commits WHERE group_id = ?1", [&group])?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// Processes one delivery at most once, in one local transaction with its "processed"
/// mark: the client's receive hot path (also driven by `hot_paths` in benchmarks).
pub(crate) fn process_one(
    conn: &Connection,
    crypto: &openmls_rust_crypto::RustCrypto,
    needs_commit: &mut BTreeSet<PliGroupId>,
    groups: &mut GroupCache,
    id: MessageId,
    kind: u8,
    bytes: &[u8],
) -> Result<(), ClientError> {
    let seen: bool = conn
        .prepare_cached("SELECT 1 FROM processed WHERE server_id = ?1")?
        .query_row([id.0 as i64], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if seen {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    if kind != pli_proto::frame::KIND_MLS {
        match kind {
            // The approving device's directory keys, for this newly linked device.
            KIND_LINK_KEYS => crate::link_keys::receive(&tx, bytes)?,
            // A part of the history archive the approving device copied to it.
            KIND_HISTORY => crate::linked_history::receive(&tx, bytes)?,
            // A notice from the service itself, such as a lawful disclosure about this
            // account.
            KIND_NOTICE => {
                let notice: Option<ServerNotice> = serde_json::from_slice(bytes).ok();
                if let Some(notice) = notice {
                    local::notice(&tx, None, true, &notice.text, local::now_ms())?;
                }
            }
            // A kind a later version added: nothing this one can show.
            _ => {}
        }
        tx.prepare_cached("INSERT INTO processed (server_id) VALUES (?1)")?
            .execute([id.0 as i64])?;
        tx.commit()?;
        return Ok(());
    }
    // A text's stamp from the server comes before the MLS message (`franking`).
    let (stamp, bytes) = pli_proto::franking::split_payload(bytes);
    match handle(&tx, crypto, groups, id, bytes, stamp, needs_commit) {
        Ok(group) => {
            tx.prepare_cached("INSERT INTO processed (server_id) VALUES (?1)")?
                .execute([id.0 as i64])?;
            let keep = group.map(|g| GroupCache::stamp(&tx, g)).transpose()?;
            tx.commit()?;
            if let Some(keep) = keep {
                groups.put(keep);
            }
        }
        Err(ClientError::Storage(err)) => return Err(ClientError::Storage(err)),
        Err(err) => {
            drop(tx);
            tracing::debug!(error = %err, "dropped an unprocessable delivery");
            conn.prepare_cached("INSERT INTO processed (server_id) VALUES (?1)")?
                .execute([id.0 as i64])?;
        }
    }
    Ok(())
}

/// Handles one MLS delivery inside `tx`; returns the group it was for, to keep in the
/// cache once `tx` has committed.
fn handle(
    tx: &Connection,
    crypto: &openmls_rust_crypto::RustCrypto,
    groups: &mut GroupCache,
    id: MessageId,
    bytes: &[u8],
    stamp: Option<Stamp>,
    needs_commit: &mut BTreeSet<PliGroupId>,
) -> Result<Option<MlsGroup>, ClientError> {
    let provider = Provider::new(crypto, tx);
    let message = MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|_| ClientError::Protocol("delivery is not an MLS message".into()))?;
    match message.extract() {
        MlsMessageBodyIn::Welcome(welcome) => {
            crate::welcome::join(tx, &provider, welcome).map(|()| None)
        }
        MlsMessageBodyIn::PrivateMessage(private) => {
            let group_id = private.group_id().clone();
            let Some(mut group) = groups.take(tx, provider.storage(), &group_id)? else {
                return Err(ClientError::Protocol("message for an unknown group".into()));
            };
            let message = Incoming { id, bytes, stamp };
            handle_private(tx, &provider, &mut group, message, private, needs_commit)?;
            Ok(Some(group))
        }
        _ => Err(ClientError::Protocol("unexpected MLS message type".into())),
    }
}

/// An application message, proposal or commit for `group`.
fn handle_private(
    tx: &Connection,
    provider: &Provider<'_>,
    group: &mut MlsGroup,
    Incoming { id, bytes, stamp }: Incoming<'_>,
    private: PrivateMessageIn,
    needs_commit: &mut BTreeSet<PliGroupId>,
) -> Result<(), ClientError> {
    let group_id = group.group_id().clone();
    let pli_id = pli_group(&group_id)?;
    let pending: Option<Vec<u8>> = tx
        .query_row(
            "SELECT message FROM pending_commits WHERE group_id = ?1",
            [group_id.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    if pending.as_deref() == Some(bytes) {
        // Our own commit, queued back to us: the server accepted it.
        group
            .merge_pending_commit(provider)
            .map_err(ClientError::mls)?;
        tx.prepare_cached("DELETE FROM pending_commits WHERE group_id = ?1")?
            .execute([group_id.as_slice()])?;
        return Ok(());
    }
    if private.content_type() == ContentType::Commit && private.epoch() < group.epoch() {
        // The echo of a commit of ours already merged when the server accepted it.
        return Ok(());
    }
    let processed = group
        .process_message(provider, private)
        .map_err(ClientError::mls)?;
    if crate::call_group::is_call_group(tx, &pli_id)? {
        return crate::call_group::apply(tx, provider, group, processed);
    }
    let sender = mls::member_identity(processed.credential())
        .ok_or_else(|| ClientError::Protocol("sender has no pli credential".into()))?;
    let aad = processed.aad().to_vec();
    let sender_key = match processed.sender() {
        Sender::Member(leaf) => group.member_at(*leaf).map(|m| m.signature_key),
        _ => None,
    };
    match processed.into_content() {
        ProcessedMessageContent::ApplicationMessage(app) => {
            let from = From {
                user: &sender.0,
                device: sender.1,
                key: sender_key.as_deref().unwrap_or_default(),
                direct_peer: direct_peer(group, &sender.0),
                aad: &aad,
                stamp,
            };
            application(tx, &pli_id, &from, id, &app.into_bytes())
        }
        ProcessedMessageContent::ProposalMessage(proposal) => {
            group.store_pending_proposal(provider.storage(), *proposal)?;
            needs_commit.insert(pli_id);
            Ok(())
        }
        ProcessedMessageContent::StagedCommitMessage(staged) => {
            let removed_me = staged.self_removed();
            // This device's own leaving (its proposal, committed by another member) is not
            // a removal by whoever committed it; neither is any other member's.
            let own_leaf = group.own_leaf_index();
            let left_myself = staged.remove_proposals().any(|p| {
                p.remove_proposal().removed() == own_leaf
                    && matches!(p.sender(), Sender::Member(by) if *by == own_leaf)
            });
            let changes = crate::commit_notices::describe_commit(group, &staged, &sender.0);
            if staged.add_proposals().next().is_some() {
                crate::profile_book::share_again(tx, &pli_id)?;
            }
            for add in staged.add_proposals() {
                let leaf = add.add_proposal().key_package().leaf_node();
                if let Some((user, device)) = mls::member_identity(leaf.credential()) {
                    crate::kt::monitor::note_member(
                        tx,
                        &pli_id,
                        &user,
                        device,
                        leaf.signature_key().as_slice(),
                    )?;
                }
            }
            group
                .merge_staged_commit(provider, *staged)
                .map_err(ClientError::mls)?;
            tx.prepare_cached("DELETE FROM pending_commits WHERE group_id = ?1")?
                .execute([group_id.as_slice()])?;
            let now = local::now_ms();
            if removed_me {
                local::set_active(tx, &pli_id, false)?;
                let text = if left_myself {
                    "you left the conversation".to_owned()
                } else {
                    format!("@{} removed you from the conversation", sender.0)
                };
                local::notice(tx, Some(&pli_id), false, &text, now)?;
            } else {
                for text in changes {
                    local::notice(tx, Some(&pli_id), false, &text, now)?;
                }
            }
            Ok(())
        }
        ProcessedMessageContent::OwnPendingCommit => {
            group
                .merge_pending_commit(provider)
                .map_err(ClientError::mls)?;
            tx.prepare_cached("DELETE FROM pending_commits WHERE group_id = ?1")?
                .execute([group_id.as_slice()])?;
            Ok(())
        }
        ProcessedMessageContent::ExternalJoinProposalMessage(_)
        | ProcessedMessageContent::OwnPrivateMessage => Ok(()),
    }
}

/// The sender of an application message, as its leaf in the group shows it.
struct From<'a> {
    user: &'a Username,
    device: DeviceId,
    key: &'a [u8],
    /// The user a `Meta` marking the conversation direct may name as its peer: the other
    /// user, when the group holds exactly two users and the sender is one of them.
    direct_peer: Option<Username>,
    /// The MLS authenticated data: the franking commitment of a text.
    aad: &'a [u8],
    /// The server's franking stamp, delivered with the message.
    stamp: Option<Stamp>,
}

/// One MLS delivery: its server id, its MLS message, the stamp that came with it.
struct Incoming<'a> {
    id: MessageId,
    bytes: &'a [u8],
    stamp: Option<Stamp>,
}

/// The other user of a group that holds exactly two users, `sender` among them.
fn direct_peer(group: &MlsGroup, sender: &Username) -> Option<Username> {
    let users: BTreeSet<Username> = mls::members(group).into_iter().map(|(_, u, _)| u).collect();
    let (own, _) = group
        .member(group.own_leaf_index())
        .and_then(mls::member_identity)?;
    (users.len() == 2 && users.contains(sender) && users.contains(&own))
        .then(|| users.into_iter().find(|u| *u != own))
        .flatten()
}

/// What an earlier pli shows for a body kind it does not know.
pub const UNSUPPORTED_TEXT: &str = "a message this version cannot display";

/// Stores a decrypted envelope after checking the sender's hash chain. A message whose
/// sender's key is not (yet) verified against the directory is stored held: never shown as
/// from that user until a verified lookup lists that key.
fn application(
    tx: &Connection,
    group: &PliGroupId,
    from: &From<'_>,
    id: MessageId,
    plaintext: &[u8],
) -> Result<(), ClientError> {
    let sender = from.user;
    let (envelope, encoded) =
        Envelope::decode_padded(plaintext).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let hash = Envelope::chain_hash(encoded);
    if let Some(root) = &envelope.kt {
        crate::kt::monitor::note_root(tx, group, root)?;
    }
    let device_raw = from.device.get() as i64;
    let duplicate: bool = tx
        .query_row(
            "SELECT 1 FROM messages WHERE group_id = ?1 AND sender_device = ?2 AND seq = ?3",
            params![group.as_bytes(), device_raw, envelope.seq as i64],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if duplicate {
        return Ok(());
    }
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM chains WHERE group_id = ?1 AND sender_device = ?2",
            params![group.as_bytes(), device_raw],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let now = local::now_ms();
    if let Some((last_seq, last_hash)) = &last {
        let last_seq = *last_seq as u64;
        let alert = if envelope.seq == last_seq + 1 && envelope.prev.as_deref() != Some(last_hash) {
            Some(format!(
                "a message from @{sender} does not follow the previous one: the server may have altered the conversation"
            ))
        } else if envelope.seq > last_seq + 1 {
            let missing = envelope.seq - last_seq - 1;
            Some(format!(
                "{missing} message(s) from @{sender} never arrived: the server may have withheld them"
            ))
        } else if envelope.seq <= last_seq {
            Some(format!(
                "a message from @{sender} arrived out of order: the server may have reordered the conversation"
            ))
        } else {
            None
        };
        if let Some(text) = alert {
            local::notice(tx, Some(group), true, &text, now)?;
        }
    }
    if last
        .as_ref()
        .is_none_or(|(seq, _)| envelope.seq as i64 > *seq)
    {
        tx.execute(
            "INSERT INTO chains (group_id, sender_device, seq, hash) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (group_id, sender_device) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            params![group.as_bytes(), device_raw, envelope.seq as i64, hash],
        )?;
    }
    // A blocked user's message is dropped here, after its chain link was followed.
    if crate::blocking::is_blocked(tx, sender)? {
        return Ok(());
    }
    let held = !crate::kt::members::is_verified(tx, sender, from.device, from.key)?;
    let (text, unsupported) = match &envelope.body {
        Body::Text { text, .. } | Body::Attachment { text, .. } => (text.clone(), false),
        // Typing is ephemeral (`typing`): one that came queued is no one's to keep.
        Body::Typing { .. } => return Ok(()),
        Body::Receipt { read, to } => {
            if !held {
                crate::receipts::receive(tx, group, sender, *read, to, now)?;
            }
            return Ok(());
        }
        Body::Reaction { .. } | Body::Edit { .. } | Body::Delete { .. } => {
            if held {
                tracing::debug!("a change from a device not verified yet was dropped");
            } else if let Err(why) =
                crate::changes::apply(tx, group, sender, &envelope.body, envelope.sent_at)?
            {
                tracing::debug!(?why, "a received change was refused");
            }
            return Ok(());
        }
        Body::Unknown => (UNSUPPORTED_TEXT.to_owned(), true),
        // A ring from a device not verified yet could be anyone's: dropped (`calls`).
        Body::Call { .. } if held => return Ok(()),
        Body::Call { .. } => {
            crate::calls::record(tx, group, sender, &envelope)?;
            return crate::call_group::receive(tx, group, sender, from.device, &envelope.body);
        }
        // Kept even from a device not verified yet, with that device: used only once the
        // directory verifies it (`profiles`).
        Body::ProfileKey { .. } => {
            if let Some(key) = envelope.body.profile_key() {
                crate::profile_book::learn_key(tx, sender, from.device, from.key, key)?;
            }
            return Ok(());
        }
        // Applied even from a device not verified yet (a new member's first messages
        // arrive before its keys are checked), like a conversation's name: dropped, it
        // would leave this device keeping what everyone else deletes.
        Body::Timer { seconds } => {
            if *seconds <= pli_proto::limits::MAX_DISAPPEAR_SECS {
                crate::disappearing::apply_timer(tx, group, Some(sender), *seconds, now)?;
            }
            return Ok(());
        }
        Body::Meta {
            name,
            direct,
            timer,
        } => {
            // Like the name, taken from whoever adds this device: a new member's keys of
            // the others are checked only after it joined.
            if let Some(seconds) = timer {
                crate::disappearing::learn_timer(tx, group, *seconds, now)?;
            }
            let direct = *direct;
            let peer = direct.then_some(from.direct_peer.as_ref()).flatten();
            let direct = direct && peer.is_some();
            tx.execute(
                "UPDATE conversations SET name = ?2, direct = ?3, peer = COALESCE(?4, peer) WHERE group_id = ?1",
                params![group.as_bytes(), name, direct, peer.map(Username::as_str)],
            )?;
            return Ok(());
        }
    };
    let reply_to = envelope
        .body
        .refers_to()
        .and_then(pli_proto::payload::parse_message_id);
    tx.prepare_cached(
        "INSERT INTO messages (group_id, server_id, sender, sender_device, seq, text, sent_at, outgoing,
                               received_ms, held, sender_key, unsupported, reply_to, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        group.as_bytes(),
        id.0 as i64,
        sender.as_str(),
        device_raw,
        envelope.seq as i64,
        text,
        envelope.sent_at as i64,
        now as i64,
        held,
        held.then_some(from.key),
        unsupported,
        reply_to.as_ref().map(|id| id.as_slice()),
        crate::disappearing::expiry_of(&envelope, now)
    ])?;
    let local_id = tx.last_insert_rowid();
    if let Body::Attachment { attachment, .. } = &envelope.body {
        crate::attachment_records::record(tx, local_id, attachment, false)?;
    }
    let named = match envelope.message_id() {
        Some(id) if !unsupported => crate::changes::assign_id(tx, local_id, group, &id)?,
        _ => false,
    };
    let kept = named
        .then(|| {
            crate::franking::check_received(
                from.aad,
                from.stamp,
                &envelope,
                &text,
                sender,
                from.device,
                group,
            )
        })
        .flatten();
    if let Some(kept) = kept {
        crate::franking::keep(tx, local_id, &kept)?;
    }
    if named {
        crate::receipts::owe_delivered(tx, group, local_id)?;
    }
    Ok(())
}
