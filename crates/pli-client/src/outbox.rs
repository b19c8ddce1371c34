//! Sending application messages through a durable outbox.
//!
//! A message is first written locally (with its place in this device's hash chain) and
//! only then encrypted and submitted; it leaves the outbox once the server accepted it. So
//! a message written offline, or before a crash, goes out at the next sync. If the group
//! moved to a new epoch meanwhile the server answers `stale_epoch`; the client catches up
//! and encrypts the same envelope again, so receivers see it once (by its sequence number).

use crate::client::Client;
use crate::error::ClientError;
use crate::group_cache::GroupCache;
use crate::kt::members::{self, MemberCheck, VerifiedMembers};
use crate::local;
use crate::mls::{self, Provider};
use pli_proto::api::SubmitRequest;
use pli_proto::payload::{self, Body, ENVELOPE_VERSION, Envelope, RootRef};
use pli_proto::{ErrorCode, GroupId};
use rusqlite::{OptionalExtension, params};

/// Catch-up rounds before a send gives up on a group that keeps changing.
pub(crate) const MAX_ATTEMPTS: usize = 5;

impl Client {
    /// Writes `body` to the outbox of `group`, as the next link of this device's chain. A
    /// reaction, edit or deletion applies to this device's history at once (refused if the
    /// rules of `changes` refuse it). Returns a text's message id (hex).
    pub(crate) fn queue_envelope(
        &mut self,
        group: &GroupId,
        body: Body,
    ) -> Result<Option<String>, ClientError> {
        if body == Body::Unknown {
            return Err(ClientError::Invalid("a message of no known kind".into()));
        }
        if matches!(body, Body::Typing { .. }) {
            return Err(ClientError::Invalid(
                "a typing indicator is ephemeral, never queued".into(),
            ));
        }
        body.check_limits()
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        crate::blocking::check_not_blocked(&self.conn, group)?;
        let device = self.me.device_id.get() as i64;
        let tx = self.conn.unchecked_transaction()?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM chains WHERE group_id = ?1 AND sender_device = ?2",
                params![group.as_bytes(), device],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let seq = last.as_ref().map_or(1, |(s, _)| *s as u64 + 1);
        let sent_at = local::now_ms();
        match &body {
            Body::Reaction { .. } | Body::Edit { .. } | Body::Delete { .. } => {
                crate::changes::apply_own(&tx, group, &self.me.username, &body, sent_at)?;
            }
            Body::Text { .. } => crate::changes::check_reply(&tx, group, &body)?,
            Body::Timer { seconds } => {
                crate::disappearing::apply_timer(&tx, group, None, *seconds, sent_at)?;
            }
            Body::Call { .. } => {
                crate::calls::record_own(&tx, group, &self.me.username, &body, sent_at)?;
            }
            Body::Meta { .. }
            | Body::Typing { .. }
            | Body::Receipt { .. }
            | Body::Attachment { .. }
            | Body::ProfileKey { .. }
            | Body::Unknown => {}
        }
        let expires = crate::disappearing::timer_for(&tx, group, &body)?;
        let franked = matches!(body, Body::Text { .. });
        let named = franked || matches!(body, Body::Attachment { .. });
        let mut envelope = Envelope {
            v: ENVELOPE_VERSION,
            seq,
            prev: last.map(|(_, h)| h),
            sent_at,
            body,
            kt: crate::kt::newest_root(&tx)?.map(|(epoch, root)| RootRef::new(epoch, &root)),
            id: None,
            frank: None,
            expires,
        };
        if franked {
            envelope.set_opening(&crate::franking::fresh_opening());
        } else if named {
            envelope.id = Some(hex::encode(crate::franking::fresh_opening().message_id));
        }
        let encoded = envelope.encode();
        tx.execute(
            "INSERT INTO chains (group_id, sender_device, seq, hash) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (group_id, sender_device) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            params![group.as_bytes(), device, seq as i64, Envelope::chain_hash(&encoded)],
        )?;
        tx.execute(
            "INSERT INTO outbox (group_id, envelope) VALUES (?1, ?2)",
            params![group.as_bytes(), encoded],
        )?;
        // The history's copy names its outbox row: queued while the row is there, sent once
        // the server accepted it, failed (with why) if it was given up (`timeline`).
        let outbox_id = tx.last_insert_rowid();
        let mut message_id = None;
        let shown = match &envelope.body {
            Body::Text { text, .. } => Some((text, None)),
            Body::Attachment { attachment, text } => Some((text, Some(attachment))),
            _ => None,
        };
        if let Some((text, attachment)) = shown {
            let reply_to = envelope
                .body
                .refers_to()
                .and_then(payload::parse_message_id);
            tx.execute(
                "INSERT INTO messages (group_id, sender, sender_device, seq, text, sent_at, outgoing, shown, outbox_id, received_ms, reply_to, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 1, ?7, ?6, ?8, ?9)",
                params![group.as_bytes(), self.me.username.as_str(), device, seq as i64, text, envelope.sent_at as i64, outbox_id, reply_to.as_ref().map(|id| id.as_slice()), crate::disappearing::expiry_of(&envelope, sent_at)],
            )?;
            let local_id = tx.last_insert_rowid();
            if let Some(attachment) = attachment {
                crate::attachment_records::record(&tx, local_id, attachment, true)?;
            }
            if let Some(id) = envelope.message_id() {
                crate::changes::assign_id(&tx, local_id, group, &id)?;
                message_id = envelope.id.clone();
            }
        }
        tx.commit()?;
        Ok(message_id)
    }

    /// Messages written but not yet accepted by the server.
    pub fn outbox_len(&self) -> Result<u64, ClientError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Encrypts one envelope for the group's current members (other than this device).
    fn encrypt(&mut self, group: &GroupId, envelope: &[u8]) -> Result<Sealed, ClientError> {
        let signer = self.signer()?;
        encrypt_for_group(
            &self.conn,
            &self.crypto,
            &mut self.groups,
            &signer,
            (&self.me.username, self.me.device_id),
            group,
            envelope,
        )
    }

    /// Submits the outbox in order. Stops at the first network failure, keeping the rest
    /// for the next attempt. Messages to an untrusted conversation stay held; a member key
    /// that cannot be checked against the directory right now holds the rest (fail closed)
    /// and the user is told why.
    pub(crate) async fn flush_outbox(&mut self) -> Result<usize, ClientError> {
        // Receipts owed go with whatever else is sent now.
        self.queue_due_receipts()?;
        let mut sent = 0;
        loop {
            let next: Option<(i64, Vec<u8>, Vec<u8>)> = self
                .conn
                .query_row(
                    "SELECT o.id, o.group_id, o.envelope FROM outbox o
                     WHERE NOT EXISTS (SELECT 1 FROM conversations c
                                       WHERE c.group_id = o.group_id AND c.untrusted = 1)
                     ORDER BY o.id LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((row, group, envelope)) = next else {
                return Ok(sent);
            };
            let group =
                GroupId::from_bytes(&group).map_err(|_| ClientError::corrupt("outbox row"))?;
            let mut attempts = 0;
            let mut looked_up = std::collections::BTreeSet::new();
            loop {
                let request = match self.encrypt(&group, &envelope)? {
                    Sealed::Ready(request) => request,
                    Sealed::Nobody => {
                        give_up(&self.conn, row, "nobody else is in this conversation")?;
                        break;
                    }
                    Sealed::Unchecked(check) => {
                        match self.resolve_unverified(&group, check, &mut looked_up).await {
                            Ok(()) => continue,
                            // The conversation is now untrusted: its messages stay held.
                            Err(ClientError::UntrustedMember) => break,
                            Err(err) => {
                                local::notice_once(
                                    &self.conn,
                                    Some(&group),
                                    &format!(
                                        "messages to this conversation wait until the key directory confirms its members' keys ({err})"
                                    ),
                                )?;
                                return Err(err);
                            }
                        }
                    }
                };
                match self.transport.submit(&request).await {
                    Ok(_) => {
                        self.conn
                            .execute("DELETE FROM outbox WHERE id = ?1", [row])?;
                        crate::rotation::count_sent(&self.conn, &group)?;
                        sent += 1;
                        break;
                    }
                    Err(err)
                        if err.code() == Some(ErrorCode::StaleEpoch) && attempts < MAX_ATTEMPTS =>
                    {
                        attempts += 1;
                        self.drain_queue().await?;
                    }
                    // A member device is gone (removed, or its account deleted): take what
                    // the key directory no longer lists out of the group, then encrypt for
                    // the new epoch.
                    Err(err)
                        if err.code() == Some(ErrorCode::UnknownRecipient)
                            && attempts < MAX_ATTEMPTS
                            && self.prune_departed(&group).await? =>
                    {
                        attempts += 1;
                    }
                    Err(err) if err.is_retryable() => return Err(err),
                    // A receipt refused for good (the account is suspended, say) is dropped
                    // quietly: it must not stop the sync of an account that may still
                    // receive, nor alarm its user.
                    Err(err) if is_receipt(&envelope) => {
                        tracing::debug!(error = %err, "dropped a refused receipt");
                        self.conn
                            .execute("DELETE FROM outbox WHERE id = ?1", [row])?;
                        break;
                    }
                    Err(err) => {
                        give_up(&self.conn, row, &err.chain())?;
                        local::notice(
                            &self.conn,
                            Some(&group),
                            true,
                            &format!("a message could not be sent: {}", err.chain()),
                            local::now_ms(),
                        )?;
                        return Err(err);
                    }
                }
            }
        }
    }
}

/// Whether an outbox envelope is a receipt.
fn is_receipt(envelope: &[u8]) -> bool {
    Envelope::decode(envelope).is_ok_and(|e| matches!(e.body, Body::Receipt { .. }))
}

/// Drops outbox row `row`, which will not be sent, and records why on its message.
fn give_up(conn: &rusqlite::Connection, row: i64, why: &str) -> Result<(), ClientError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute("DELETE FROM outbox WHERE id = ?1", [row])?;
    tx.execute(
        "UPDATE messages SET failure = ?2 WHERE outbox_id = ?1",
        params![row, why],
    )?;
    tx.commit()?;
    Ok(())
}

/// What [`encrypt_for_group`] made of an envelope.
pub(crate) enum Sealed {
    /// Encrypted for every current member: ready to submit.
    Ready(SubmitRequest),
    /// This device is no longer in the group, or nobody else is.
    Nobody,
    /// Some member key is not verified against the directory: nothing was encrypted.
    Unchecked(MemberCheck),
}

/// Encrypts one envelope for the group's current members (other than device `me`), in a
/// local transaction that persists the ratchet before the ciphertext can leave: the
/// client's send hot path (also driven by `hot_paths` in benchmarks). Every member's key
/// is checked against the verified directory keys first, on the group state it encrypts
/// with; the envelope is padded to its size bucket, and a text's franking commitment goes
/// in the message's authenticated data.
pub(crate) fn encrypt_for_group(
    conn: &rusqlite::Connection,
    crypto: &openmls_rust_crypto::RustCrypto,
    groups: &mut GroupCache,
    signer: &openmls_basic_credential::SignatureKeyPair,
    (me_user, me): (&pli_proto::Username, pli_proto::DeviceId),
    group: &GroupId,
    envelope: &[u8],
) -> Result<Sealed, ClientError> {
    let tx = conn.unchecked_transaction()?;
    let provider = Provider::new(crypto, &tx);
    let Some(mut mls_group) = groups.take(
        &tx,
        openmls::prelude::OpenMlsProvider::storage(&provider),
        &mls::group_id(group),
    )?
    else {
        return Ok(Sealed::Nobody);
    };
    if !mls_group.is_active() {
        return Ok(Sealed::Nobody);
    }
    let recipients: Vec<_> = mls::members(&mls_group)
        .into_iter()
        .map(|(_, _, device)| device)
        .filter(|device| *device != me)
        .collect();
    if recipients.is_empty() {
        return Ok(Sealed::Nobody);
    }
    let verified = match members::check(&tx, &mls_group, &[])? {
        MemberCheck::Verified(verified) => verified,
        unchecked => return Ok(Sealed::Unchecked(unchecked)),
    };
    members::checked(&tx, group, &verified)?;
    let aad = crate::franking::outgoing_aad(envelope, me_user, me, group);
    let message = seal(&mut mls_group, &provider, signer, envelope, aad, &verified)?;
    let message = mls::serialize(&message)?;
    let keep = GroupCache::stamp(&tx, mls_group)?;
    // The ratchet moved: persist that before the ciphertext leaves the device.
    tx.commit()?;
    groups.put(keep);
    Ok(Sealed::Ready(SubmitRequest {
        group_id: group.clone(),
        message: message.into(),
        recipients,
        welcome: None,
    }))
}

/// The one place an application message is encrypted: it takes the proof that the members
/// it encrypts to were verified.
fn seal(
    group: &mut openmls::prelude::MlsGroup,
    provider: &Provider<'_>,
    signer: &openmls_basic_credential::SignatureKeyPair,
    envelope: &[u8],
    aad: Vec<u8>,
    _members: &VerifiedMembers,
) -> Result<openmls::prelude::MlsMessageOut, ClientError> {
    // The franking commitment, in clear for the server and authenticated by MLS; openmls
    // resets it after this message.
    group.set_aad(aad);
    group
        .create_message(provider, signer, &payload::pad(envelope))
        .map_err(ClientError::mls)
}
