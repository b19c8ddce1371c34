//! Typing indicators: ephemeral messages, encrypted like any other for the conversation's
//! members, handed by the server only to those connected at that moment (`POST
//! /v1/ephemeral`), and kept by no one. Their envelope sits outside the sender's hash chain
//! (`seq` 0: losing one is no gap), and a receiver turns one into an [`Event::Typing`] in
//! memory, never into a row of its history.

use crate::client::{Client, Event};
use crate::error::ClientError;
use crate::group_cache::GroupCache;
use crate::local;
use crate::mls::{self, Provider};
use crate::outbox::{Sealed, encrypt_for_group};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::*;
use pli_proto::GroupId;
use pli_proto::api::EphemeralRequest;
use pli_proto::limits::MAX_EPHEMERAL_RECIPIENTS;
use pli_proto::payload::{Body, ENVELOPE_VERSION, Envelope};

/// How long a typing indicator holds without another: a sender repeats it while typing
/// (pli app every few seconds), so one that is not repeated has stopped.
pub const TYPING_HOLDS_MS: u64 = 6_000;

impl Client {
    /// Tells the members of `conversation` connected now that this user is typing there
    /// (or stopped). True when it went out; false when it was not sent: nobody else is
    /// there, a member's key is not verified yet, or the conversation is larger than
    /// [`MAX_EPHEMERAL_RECIPIENTS`] devices. Nothing is kept if nobody is connected.
    pub async fn send_typing(
        &mut self,
        conversation: &GroupId,
        typing: bool,
    ) -> Result<bool, ClientError> {
        if crate::blocking::check_not_blocked(&self.conn, conversation).is_err()
            || local::is_untrusted(&self.conn, conversation)?
        {
            return Ok(false);
        }
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            seq: 0,
            prev: None,
            sent_at: local::now_ms(),
            body: Body::Typing { typing },
            kt: None,
            id: None,
            frank: None,
            expires: None,
        };
        let signer = self.signer()?;
        let sealed = encrypt_for_group(
            &self.conn,
            &self.crypto,
            &mut self.groups,
            &signer,
            (&self.me.username, self.me.device_id),
            conversation,
            &envelope.encode(),
        )?;
        let Sealed::Ready(request) = sealed else {
            return Ok(false);
        };
        if request.recipients.len() > MAX_EPHEMERAL_RECIPIENTS {
            return Ok(false);
        }
        self.transport
            .ephemeral(&EphemeralRequest {
                group_id: request.group_id,
                message: request.message,
                recipients: request.recipients,
            })
            .await?;
        Ok(true)
    }

    /// Decrypts an ephemeral message for `group` and, for a typing indicator from another
    /// user whose key is verified and who is not blocked, keeps an [`Event::Typing`] for
    /// [`Client::take_new`]. Anything else is dropped: an ephemeral message is never
    /// stored, so a bad one costs nothing but the ratchet step it took.
    pub(crate) fn process_ephemeral(
        &mut self,
        group: &GroupId,
        bytes: &[u8],
    ) -> Result<(), ClientError> {
        let tx = self.conn.unchecked_transaction()?;
        let provider = Provider::new(&self.crypto, &tx);
        let Ok(message) = MlsMessageIn::tls_deserialize_exact(bytes) else {
            return Ok(());
        };
        let MlsMessageBodyIn::PrivateMessage(private) = message.extract() else {
            return Ok(());
        };
        if private.group_id().as_slice() != group.as_bytes()
            || private.content_type() != ContentType::Application
        {
            return Ok(());
        }
        let Some(mut mls_group) =
            self.groups
                .take(&tx, provider.storage(), &mls::group_id(group))?
        else {
            return Ok(());
        };
        if private.epoch() != mls_group.epoch() {
            return Ok(());
        }
        let processed = match mls_group.process_message(&provider, private) {
            Ok(processed) => processed,
            Err(err) => {
                tracing::debug!(error = %err, "dropped an ephemeral message that does not decrypt");
                return Ok(());
            }
        };
        let sender = mls::member_identity(processed.credential());
        let sender_key = match processed.sender() {
            Sender::Member(leaf) => mls_group.member_at(*leaf).map(|m| m.signature_key),
            _ => None,
        };
        let typing = match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => {
                Envelope::decode_padded(&app.into_bytes())
                    .ok()
                    .and_then(|(envelope, _)| match envelope.body {
                        Body::Typing { typing } if envelope.seq == 0 => Some(typing),
                        _ => None,
                    })
            }
            _ => None,
        };
        // The ratchet moved: keep that, whatever the message said.
        let keep = GroupCache::stamp(&tx, mls_group)?;
        let shown = match (sender, typing) {
            (Some((user, device)), Some(typing)) if user != self.me.username => {
                let verified = crate::kt::members::is_verified(
                    &tx,
                    &user,
                    device,
                    sender_key.as_deref().unwrap_or_default(),
                )?;
                let blocked = crate::blocking::is_blocked(&tx, &user)?;
                (verified && !blocked).then_some((user, typing))
            }
            _ => None,
        };
        tx.commit()?;
        self.groups.put(keep);
        if let Some((sender, typing)) = shown {
            self.typing.push(Event::Typing {
                conversation: group.clone(),
                sender,
                typing,
            });
        }
        Ok(())
    }
}
