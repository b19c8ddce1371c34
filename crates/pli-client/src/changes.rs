//! Replies, reactions, edits and deletion for everyone, on the device.
//!
//! Each names the message it answers or changes by the message id inside that message's
//! encrypted envelope, so the server learns nothing it did not before: to it a reaction is
//! one more application message. Every device applies a change to its own history by the
//! same rules, which is what makes them hold without a server to enforce them:
//! - only a text's author (the user, from any of their devices) edits or deletes it;
//!   anyone else's edit or deletion is dropped, never shown;
//! - a change to a message this device does not have (it joined later, or blocked the
//!   author) is dropped;
//! - a deleted message keeps only its place: its text, earlier versions, reactions and
//!   franking go, on every member device; "message deleted" is shown instead;
//! - an edit keeps the text it replaced, on the device only.
//!
//! A change from a device whose key is not verified against the directory yet is dropped
//! rather than held: applied, it could rewrite a shown message in the author's name.

use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use pli_proto::franking::MESSAGE_ID_BYTES;
use pli_proto::payload::{Body, parse_message_id};
use pli_proto::{GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

/// Shortest prefix of a message id a user may type to name a message.
pub const MIN_PREFIX_CHARS: usize = 6;

/// Why a change was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No message of this conversation has that id here.
    UnknownMessage,
    /// Only its author edits or deletes a message.
    NotAuthor,
    /// The message was deleted for everyone.
    Deleted,
}

impl Refusal {
    fn words(self) -> &'static str {
        match self {
            Refusal::UnknownMessage => "no message of this conversation has that id",
            Refusal::NotAuthor => "only its author can edit or delete a message",
            Refusal::Deleted => "that message was deleted",
        }
    }
}

/// A message a change names, as stored.
struct Target {
    local_id: i64,
    sender: String,
    deleted: bool,
}

fn target(
    tx: &Connection,
    group: &GroupId,
    id: &[u8; MESSAGE_ID_BYTES],
) -> Result<Option<Target>, ClientError> {
    Ok(tx
        .prepare_cached(
            "SELECT local_id, sender, deleted FROM messages
             WHERE group_id = ?1 AND message_id = ?2 AND held = 0 AND unsupported = 0",
        )?
        .query_row(params![group.as_bytes(), id.as_slice()], |r| {
            Ok(Target {
                local_id: r.get(0)?,
                sender: r.get(1)?,
                deleted: r.get(2)?,
            })
        })
        .optional()?)
}

/// Gives history message `local_id` the message id `id`, unless another message of the
/// conversation already has it (a sender reusing an id gains nothing: the second message
/// can be neither answered nor changed). True when it was given.
pub(crate) fn assign_id(
    tx: &Connection,
    local_id: i64,
    group: &GroupId,
    id: &[u8; MESSAGE_ID_BYTES],
) -> Result<bool, ClientError> {
    let changed = tx
        .prepare_cached(
            "UPDATE messages SET message_id = ?2 WHERE local_id = ?1 AND NOT EXISTS (
                 SELECT 1 FROM messages WHERE group_id = ?3 AND message_id = ?2)",
        )?
        .execute(params![local_id, id.as_slice(), group.as_bytes()])?;
    Ok(changed == 1)
}

/// Moves message `local_id`'s revision on: a chat view showing it fetches it again.
pub(crate) fn touch(tx: &Connection, local_id: i64) -> Result<(), ClientError> {
    tx.prepare_cached(
        "UPDATE messages SET rev = (SELECT coalesce(max(rev), 0) + 1 FROM messages)
         WHERE local_id = ?1",
    )?
    .execute([local_id])?;
    Ok(())
}

/// Applies a reaction, edit or deletion by `author` to this device's history. `Ok(Err)`:
/// refused by the rules above, and nothing changed.
pub(crate) fn apply(
    tx: &Connection,
    group: &GroupId,
    author: &Username,
    body: &Body,
    sent_at: u64,
) -> Result<Result<(), Refusal>, ClientError> {
    let Some(id) = body.refers_to().and_then(parse_message_id) else {
        return Ok(Err(Refusal::UnknownMessage));
    };
    let Some(target) = target(tx, group, &id)? else {
        return Ok(Err(Refusal::UnknownMessage));
    };
    let own = target.sender == author.as_str();
    match body {
        Body::Reaction { reaction, .. } => {
            if target.deleted {
                return Ok(Err(Refusal::Deleted));
            }
            if reaction.is_empty() {
                tx.prepare_cached(
                    "DELETE FROM reactions WHERE group_id = ?1 AND message_id = ?2 AND username = ?3",
                )?
                .execute(params![group.as_bytes(), id.as_slice(), author.as_str()])?;
            } else {
                tx.prepare_cached(
                    "INSERT INTO reactions (group_id, message_id, username, reaction, sent_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (group_id, message_id, username)
                     DO UPDATE SET reaction = excluded.reaction, sent_at = excluded.sent_at",
                )?
                .execute(params![
                    group.as_bytes(),
                    id.as_slice(),
                    author.as_str(),
                    reaction,
                    sent_at as i64
                ])?;
            }
        }
        Body::Edit { text, .. } => {
            if !own {
                return Ok(Err(Refusal::NotAuthor));
            }
            if target.deleted {
                return Ok(Err(Refusal::Deleted));
            }
            let now = local::now_ms() as i64;
            tx.prepare_cached(
                "INSERT INTO message_edits (local_id, text, replaced_ms)
                 SELECT local_id, text, ?2 FROM messages WHERE local_id = ?1",
            )?
            .execute(params![target.local_id, now])?;
            tx.prepare_cached("UPDATE messages SET text = ?2, edited_ms = ?3 WHERE local_id = ?1")?
                .execute(params![target.local_id, text, now])?;
        }
        Body::Delete { .. } => {
            if !own {
                return Ok(Err(Refusal::NotAuthor));
            }
            if target.deleted {
                return Ok(Ok(()));
            }
            // The text goes from the history and, by its trigger, from the search index;
            // its franking goes too (nothing is left to report).
            tx.prepare_cached("DELETE FROM message_edits WHERE local_id = ?1")?
                .execute([target.local_id])?;
            tx.prepare_cached("DELETE FROM reactions WHERE group_id = ?1 AND message_id = ?2")?
                .execute(params![group.as_bytes(), id.as_slice()])?;
            tx.prepare_cached(
                "UPDATE messages SET text = '', deleted = 1, reply_to = NULL, frank_key = NULL,
                     frank_stamp = NULL
                 WHERE local_id = ?1",
            )?
            .execute([target.local_id])?;
            crate::attachment_records::forget(tx, target.local_id)?;
        }
        Body::Text { .. }
        | Body::Attachment { .. }
        | Body::Meta { .. }
        | Body::Timer { .. }
        | Body::Typing { .. }
        | Body::Receipt { .. }
        | Body::ProfileKey { .. }
        | Body::Call { .. }
        | Body::Unknown => {
            return Ok(Err(Refusal::UnknownMessage));
        }
    }
    touch(tx, target.local_id)?;
    if matches!(body, Body::Edit { .. } | Body::Delete { .. }) {
        // Replies quote it: they change with it.
        tx.prepare_cached(
            "UPDATE messages SET rev = (SELECT max(rev) FROM messages)
             WHERE group_id = ?1 AND reply_to = ?2",
        )?
        .execute(params![group.as_bytes(), id.as_slice()])?;
    }
    Ok(Ok(()))
}

/// Applies a change this device's user makes, before it is queued; refused with plain
/// words.
pub(crate) fn apply_own(
    tx: &Connection,
    group: &GroupId,
    me: &Username,
    body: &Body,
    sent_at: u64,
) -> Result<(), ClientError> {
    apply(tx, group, me, body, sent_at)?.map_err(|why| ClientError::Invalid(why.words().into()))
}

/// Checks that a reply names a message of the conversation.
pub(crate) fn check_reply(
    tx: &Connection,
    group: &GroupId,
    body: &Body,
) -> Result<(), ClientError> {
    let Body::Text {
        reply_to: Some(to), ..
    } = body
    else {
        return Ok(());
    };
    let found = parse_message_id(to)
        .map(|id| target(tx, group, &id))
        .transpose()?
        .flatten();
    match found {
        Some(target) if !target.deleted => Ok(()),
        Some(_) => Err(ClientError::Invalid(Refusal::Deleted.words().into())),
        None => Err(ClientError::Invalid(Refusal::UnknownMessage.words().into())),
    }
}

impl Client {
    /// The full message id (hex) of the message of `conversation` whose id starts with
    /// `prefix` (at least [`MIN_PREFIX_CHARS`] hex digits, as `pli history` prints them).
    pub fn find_message(
        &self,
        conversation: &GroupId,
        prefix: &str,
    ) -> Result<String, ClientError> {
        let prefix = prefix.trim_start_matches('#').to_ascii_lowercase();
        let unknown =
            || ClientError::Invalid(format!("no message of this conversation has id #{prefix}"));
        if prefix.len() < MIN_PREFIX_CHARS || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ClientError::Invalid(format!(
                "a message id is at least {MIN_PREFIX_CHARS} hex digits, as `pli history` shows it"
            )));
        }
        let mut st = self.conn.prepare_cached(
            "SELECT hex(message_id) FROM messages
             WHERE group_id = ?1 AND message_id IS NOT NULL AND held = 0
               AND lower(hex(message_id)) LIKE ?2 || '%' LIMIT 2",
        )?;
        let found = st
            .query_map(params![conversation.as_bytes(), prefix], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        match found.as_slice() {
            [one] => Ok(one.to_ascii_lowercase()),
            [] => Err(unknown()),
            _ => Err(ClientError::Invalid(format!(
                "#{prefix} names more than one message: type more of its id"
            ))),
        }
    }

    /// The earlier texts of an edited message (history `local_id`), oldest first, with when
    /// each was replaced (ms since the Unix epoch, this device's clock).
    pub fn edit_history(&self, local_id: i64) -> Result<Vec<(String, u64)>, ClientError> {
        let mut st = self.conn.prepare_cached(
            "SELECT text, replaced_ms FROM message_edits WHERE local_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([local_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
