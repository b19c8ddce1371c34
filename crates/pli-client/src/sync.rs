//! What a front end calls: `sync`, `send_text`, `listen`. Each builds on the receive,
//! outbox and group modules.

use crate::client::{Client, Event};
use crate::error::ClientError;
use crate::error::TransportError;
use crate::local;
use pli_proto::GroupId;
use pli_proto::frame::ServerFrame;
use pli_proto::payload::Body;
use std::future::Future;

/// A text handed to [`Client::send_reply`]: where it is, and its message id (what a
/// reply, reaction, edit or deletion names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub status: SendStatus,
    pub message_id: Option<String>,
}

/// What happened to a message handed to [`Client::send_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendStatus {
    /// The server accepted it: it is stored for every recipient.
    Sent,
    /// The server could not be reached or asked to slow down; the message waits in the
    /// outbox and goes out at the next sync.
    Queued,
}

impl Client {
    /// Receives everything queued and commits what this device must, so the next operation
    /// works on the group's latest state.
    pub(crate) async fn sync_inbound(&mut self) -> Result<(), ClientError> {
        self.drain_queue().await?;
        self.commit_queued_proposals().await
    }

    /// Receives and processes everything queued, sends the outbox and keeps key packages
    /// stocked. New messages and notices are then available from [`Client::take_new`].
    pub async fn sync(&mut self) -> Result<(), ClientError> {
        self.sync_inbound().await?;
        // Timed messages that arrived already over (a device long offline) go at once.
        self.purge_expired()?;
        // Checked after the queue is drained: members and roots it brought are checked now.
        // A check that failed or could not run sends nothing (fail closed): the outbox
        // waits for the next sync.
        self.check_directory().await?;
        self.share_profile_key()?;
        self.flush_outbox().await?;
        self.resume_uploads().await?;
        crate::attachment_records::remove_orphan_files(&self.conn)?;
        self.add_linked_devices().await?;
        self.admit_callers().await?;
        self.rotate_due_leaves().await?;
        self.top_up_key_packages().await?;
        // After the directory check, which verifies the devices that sent profile keys.
        self.refresh_profiles().await?;
        // The audit log's past is watched like the key directory's: a rewrite is an alert
        // (told once, and again at each sync until seen); messaging goes on. A network
        // failure leaves the check for the next sync.
        match self.watch_audit_log().await {
            Err(ClientError::AuditLog(_)) => Ok(()),
            Err(err) if err.is_retryable() => Ok(()),
            other => other,
        }
    }

    /// Sends a text message to a conversation. Offline, the message is kept and
    /// [`SendStatus::Queued`] returned.
    pub async fn send_text(
        &mut self,
        conversation: &GroupId,
        text: &str,
    ) -> Result<SendStatus, ClientError> {
        Ok(self.send_reply(conversation, text, None).await?.status)
    }

    /// Sends a text, answering message `reply_to` (a full message id, as
    /// [`Client::find_message`] gives it) when named.
    pub async fn send_reply(
        &mut self,
        conversation: &GroupId,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Sent, ClientError> {
        let body = Body::Text {
            text: text.to_owned(),
            reply_to: reply_to.map(str::to_owned),
        };
        self.send_body(conversation, body).await
    }

    /// Reacts to message `to` with `reaction` (an emoji; empty withdraws this user's).
    pub async fn react(
        &mut self,
        conversation: &GroupId,
        to: &str,
        reaction: &str,
    ) -> Result<SendStatus, ClientError> {
        let body = Body::Reaction {
            to: to.to_owned(),
            reaction: reaction.to_owned(),
        };
        Ok(self.send_body(conversation, body).await?.status)
    }

    /// Replaces the text of message `to`, one this user wrote.
    pub async fn edit_message(
        &mut self,
        conversation: &GroupId,
        to: &str,
        text: &str,
    ) -> Result<SendStatus, ClientError> {
        if text.trim().is_empty() {
            return Err(ClientError::Invalid("an edit needs a new text".into()));
        }
        let body = Body::Edit {
            to: to.to_owned(),
            text: text.to_owned(),
        };
        Ok(self.send_body(conversation, body).await?.status)
    }

    /// Deletes message `to`, one this user wrote, on every member device.
    pub async fn delete_for_everyone(
        &mut self,
        conversation: &GroupId,
        to: &str,
    ) -> Result<SendStatus, ClientError> {
        let body = Body::Delete { to: to.to_owned() };
        Ok(self.send_body(conversation, body).await?.status)
    }

    /// Queues `body` for `conversation` and sends the outbox. Offline, it is kept and
    /// [`SendStatus::Queued`] returned.
    pub(crate) async fn send_body(
        &mut self,
        conversation: &GroupId,
        body: Body,
    ) -> Result<Sent, ClientError> {
        // Catch up first: the conversation may be one this device was just invited to.
        let inbound = self.sync_inbound().await;
        let current = local::conversation(&self.conn, conversation)?
            .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
        if !current.active {
            return Err(ClientError::Invalid(
                "you are no longer a member of this conversation".into(),
            ));
        }
        if local::is_untrusted(&self.conn, conversation)? {
            return Err(ClientError::UntrustedMember);
        }
        let message_id = self.queue_envelope(conversation, body)?;
        let sent = |status| Sent {
            status,
            message_id: message_id.clone(),
        };
        match inbound {
            Err(err) if err.is_retryable() => return Ok(sent(SendStatus::Queued)),
            other => other?,
        }
        match self.flush_outbox().await {
            // The check before encrypting found a member key the directory does not list:
            // the message is held in the outbox, and the user told.
            Ok(_) if local::is_untrusted(&self.conn, conversation)? => {
                Err(ClientError::UntrustedMember)
            }
            Ok(_) => Ok(sent(SendStatus::Sent)),
            Err(err) if err.is_retryable() => Ok(sent(SendStatus::Queued)),
            Err(err) => Err(err),
        }
    }

    /// Streams: processes deliveries as they arrive and hands every new event to
    /// `on_event`, until `stop` resolves or the connection fails.
    pub async fn listen(
        &mut self,
        on_event: &mut (dyn FnMut(Event) + Send),
        stop: impl Future<Output = ()>,
    ) -> Result<(), ClientError> {
        self.listen_after(false, on_event, stop).await
    }

    /// [`Client::listen`] for a caller that has just synced (or just ran an operation that
    /// caught up with the queue): the stream is opened at once, without a sync first. What
    /// arrives meanwhile is delivered on the stream.
    pub async fn listen_synced(
        &mut self,
        on_event: &mut (dyn FnMut(Event) + Send),
        stop: impl Future<Output = ()>,
    ) -> Result<(), ClientError> {
        self.listen_after(true, on_event, stop).await
    }

    async fn listen_after(
        &mut self,
        mut synced: bool,
        on_event: &mut (dyn FnMut(Event) + Send),
        stop: impl Future<Output = ()>,
    ) -> Result<(), ClientError> {
        tokio::pin!(stop);
        loop {
            if !synced {
                self.sync().await?;
            }
            synced = false;
            self.take_new()?.into_iter().for_each(&mut *on_event);
            let mut stream = self.transport.connect().await?;
            loop {
                // A device this one approved joins its conversations at a sync, once it
                // uploaded key packages: nothing arrives here to say so, so look again.
                let linking = crate::linked_devices::waiting(&self.conn)?;
                let frame = tokio::select! {
                    () = &mut stop => {
                        stream.close().await?;
                        return Ok(());
                    }
                    () = tokio::time::sleep(crate::linked_devices::POLL), if linking => {
                        stream.close().await?;
                        break;
                    }
                    frame = stream.next_frame() => frame?,
                };
                match frame {
                    Some(ServerFrame::Deliver(items)) => {
                        let ids = self.process_batch(items)?;
                        stream.ack(ids).await?;
                        self.take_new()?.into_iter().for_each(&mut *on_event);
                        // Committing needs the delivery stream for its own receipts, a
                        // conversation just joined is shown once a sync checked its members,
                        // and a profile key that came is opened at a sync.
                        if !self.needs_commit.is_empty()
                            || local::has_pending(&self.conn)?
                            || crate::call_group::changes_due(&self.conn)?
                            || crate::profile_book::fetch_due(&self.conn)?
                        {
                            stream.close().await?;
                            break;
                        }
                    }
                    Some(ServerFrame::Drained) => self.discard_unconfirmed_commits()?,
                    Some(ServerFrame::Ephemeral { group, message }) => {
                        self.process_ephemeral(&group, &message)?;
                        self.take_new()?.into_iter().for_each(&mut *on_event);
                    }
                    Some(ServerFrame::Accepted { .. } | ServerFrame::Refused { .. }) => {
                        return Err(crate::receive::unasked_answer());
                    }
                    Some(ServerFrame::Error(code)) => {
                        return Err(ClientError::Protocol(format!(
                            "server closed the stream: {code}"
                        )));
                    }
                    None if stream.server_draining() => {
                        return Err(ClientError::Transport(TransportError::ServerDraining));
                    }
                    None => {
                        return Err(ClientError::Transport(TransportError::ClosedEarly));
                    }
                }
            }
        }
    }
}
