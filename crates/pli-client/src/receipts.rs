//! Delivery and read receipts, end to end: a receipt is one more encrypted message in the
//! conversation (`Body::Receipt`) naming the message ids it covers, so the server learns
//! nothing it did not: to it, a receipt is a small message like any other.
//!
//! A device owes a "delivered" receipt for each text of another user it stores, and a
//! "read" one for each the user reads (`Client::mark_read`); it writes them down in
//! `receipts_due`, in the transaction that stored or read the message, and sends them,
//! one receipt per conversation and kind, at its next outbox flush. Nothing is owed where
//! receipts are off: for the account (`settings`), or for one conversation, which overrides
//! the account either way. Receipts received count only for this account's own messages.

use crate::client::Client;
use crate::error::ClientError;
use pli_proto::payload::{Body, MAX_RECEIPT_IDS, parse_message_id};
use pli_proto::{GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

const ACCOUNT_SETTING: &str = "receipts";

/// Most devices a conversation may have for receipts to be sent there: each receipt is a
/// message to every member device, so in a large group every member answering every
/// message would cost the square of its size.
pub const MAX_RECEIPT_DEVICES: usize = 32;

/// Whether receipts are on in the conversation `group` (an SQL expression): its own
/// choice, else the account's (on by default).
fn enabled(group: &str) -> String {
    format!(
        "coalesce(
            (SELECT c.receipts FROM conversations c WHERE c.group_id = {group}),
            (SELECT s.value = '1' FROM settings s WHERE s.key = 'receipts'),
            1)"
    )
}

/// Owes a "delivered" receipt for history message `local_id` of `group` (just stored),
/// unless this account wrote it or receipts are off there.
pub(crate) fn owe_delivered(
    tx: &Connection,
    group: &GroupId,
    local_id: i64,
) -> Result<(), ClientError> {
    tx.prepare_cached(&format!(
        "INSERT OR IGNORE INTO receipts_due (group_id, message_id, read)
         SELECT ?1, m.message_id, 0 FROM messages m
         WHERE m.local_id = ?2 AND m.message_id IS NOT NULL AND m.held = 0
           AND m.sender != (SELECT username FROM device WHERE id = 1) AND {}",
        enabled("?1")
    ))?
    .execute(params![group.as_bytes(), local_id])?;
    Ok(())
}

/// Owes a "delivered" receipt for each message of `user` held until its key verified, and
/// verified now (call before they are released: `kt::members`).
pub(crate) fn owe_delivered_on_release(
    tx: &Connection,
    user: &Username,
) -> Result<(), ClientError> {
    tx.prepare_cached(&format!(
        "INSERT OR IGNORE INTO receipts_due (group_id, message_id, read)
         SELECT m.group_id, m.message_id, 0 FROM messages m
         WHERE m.held = 1 AND m.sender = ?1 AND m.message_id IS NOT NULL AND EXISTS (
             SELECT 1 FROM kt_verified_keys k WHERE k.username = m.sender
             AND k.device_id = m.sender_device AND k.signature_key = m.sender_key)
           AND m.sender != (SELECT username FROM device WHERE id = 1) AND {}",
        enabled("m.group_id")
    ))?
    .execute([user.as_str()])?;
    Ok(())
}

/// Owes a "read" receipt for each message of others in `group` after history message
/// `after` (the read marker before), unless receipts are off there.
pub(crate) fn owe_read(tx: &Connection, group: &GroupId, after: i64) -> Result<(), ClientError> {
    tx.prepare_cached(&format!(
        "INSERT OR IGNORE INTO receipts_due (group_id, message_id, read)
         SELECT ?1, m.message_id, 1 FROM messages m
         WHERE m.group_id = ?1 AND m.local_id > ?2 AND m.outgoing = 0 AND m.held = 0
           AND m.deleted = 0 AND m.message_id IS NOT NULL
           AND m.sender != (SELECT username FROM device WHERE id = 1) AND {}",
        enabled("?1")
    ))?
    .execute(params![group.as_bytes(), after])?;
    Ok(())
}

/// Records a receipt from `from` for those of `ids` that are this account's messages in
/// `group`; a read one counts as delivered too. Each message named changes (its `rev`).
pub(crate) fn receive(
    tx: &Connection,
    group: &GroupId,
    from: &Username,
    read: bool,
    ids: &[String],
    now_ms: u64,
) -> Result<(), ClientError> {
    for id in ids.iter().filter_map(|id| parse_message_id(id)) {
        let own: Option<i64> = tx
            .prepare_cached(
                "SELECT local_id FROM messages WHERE group_id = ?1 AND message_id = ?2
                     AND sender = (SELECT username FROM device WHERE id = 1)",
            )?
            .query_row(params![group.as_bytes(), id.as_slice()], |r| r.get(0))
            .optional()?;
        let Some(local_id) = own else { continue };
        tx.prepare_cached(
            "INSERT INTO receipts (group_id, message_id, username, delivered_ms, read_ms)
             VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 THEN ?4 END)
             ON CONFLICT (group_id, message_id, username)
             DO UPDATE SET read_ms = coalesce(receipts.read_ms, excluded.read_ms)",
        )?
        .execute(params![
            group.as_bytes(),
            id.as_slice(),
            from.as_str(),
            now_ms as i64,
            read
        ])?;
        crate::changes::touch(tx, local_id)?;
    }
    Ok(())
}

impl Client {
    /// Turns receipts on or off for the account, or (`Some`) for one conversation, where
    /// the choice overrides the account's.
    pub fn set_receipts(
        &self,
        conversation: Option<&GroupId>,
        on: bool,
    ) -> Result<(), ClientError> {
        match conversation {
            None => {
                self.conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![ACCOUNT_SETTING, if on { "1" } else { "0" }],
                )?;
            }
            Some(group) => {
                let changed = self.conn.execute(
                    "UPDATE conversations SET receipts = ?2 WHERE group_id = ?1",
                    params![group.as_bytes(), on],
                )?;
                if changed == 0 {
                    return Err(ClientError::UnknownConversation(group.to_hex()));
                }
            }
        }
        Ok(())
    }

    /// Whether receipts are on for the account (`None`) or in one conversation.
    pub fn receipts_enabled(&self, conversation: Option<&GroupId>) -> Result<bool, ClientError> {
        let group = conversation
            .map(|g| g.as_bytes().to_vec())
            .unwrap_or_default();
        Ok(self
            .conn
            .query_row(&format!("SELECT {}", enabled("?1")), [group], |r| r.get(0))?)
    }

    /// Whether this device owes receipts it has not sent yet.
    pub fn owes_receipts(&self) -> Result<bool, ClientError> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM receipts_due)", [], |r| {
                r.get(0)
            })?)
    }

    /// Sends the receipts this device owes now (they also go with any other send).
    pub async fn send_receipts(&mut self) -> Result<(), ClientError> {
        self.flush_outbox().await.map(drop)
    }

    /// How many devices are in `group` now (0 for a group this device is not in).
    fn member_devices(&self, group: &GroupId) -> Result<usize, ClientError> {
        let provider = crate::mls::Provider::new(&self.crypto, &self.conn);
        let loaded = openmls::prelude::MlsGroup::load(
            openmls::prelude::OpenMlsProvider::storage(&provider),
            &crate::mls::group_id(group),
        )?;
        Ok(loaded.map_or(0, |g| g.members().count()))
    }

    /// Turns what `receipts_due` holds into one receipt per conversation and kind (at most
    /// [`MAX_RECEIPT_IDS`] ids each; the rest wait for the next flush) in the outbox. A
    /// conversation that takes no message any more (left, blocked) owes nothing.
    pub(crate) fn queue_due_receipts(&mut self) -> Result<(), ClientError> {
        let due: Vec<(Vec<u8>, bool)> = self
            .conn
            .prepare_cached("SELECT DISTINCT group_id, read FROM receipts_due")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (group, read) in due {
            let ids: Vec<Vec<u8>> = self
                .conn
                .prepare_cached(
                    "SELECT message_id FROM receipts_due WHERE group_id = ?1 AND read = ?2
                     ORDER BY message_id LIMIT ?3",
                )?
                .query_map(params![group, read, MAX_RECEIPT_IDS as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let Ok(id) = GroupId::from_bytes(&group) else {
                continue;
            };
            let active = crate::local::conversation(&self.conn, &id)?.is_some_and(|c| c.active)
                && self.member_devices(&id)? <= MAX_RECEIPT_DEVICES;
            let body = Body::Receipt {
                read,
                to: ids.iter().map(hex::encode).collect(),
            };
            let queued = if active {
                match self.queue_envelope(&id, body) {
                    Ok(_) => Ok(()),
                    Err(ClientError::Invalid(_)) => Ok(()),
                    Err(err) => Err(err),
                }
            } else {
                Ok(())
            };
            queued?;
            let tx = self.conn.unchecked_transaction()?;
            for message in &ids {
                tx.prepare_cached(
                    "DELETE FROM receipts_due WHERE group_id = ?1 AND read = ?2 AND message_id = ?3",
                )?
                .execute(params![group, read, message])?;
                if read {
                    // Read says delivered too.
                    tx.prepare_cached(
                        "DELETE FROM receipts_due WHERE group_id = ?1 AND read = 0 AND message_id = ?2",
                    )?
                    .execute(params![group, message])?;
                }
            }
            tx.commit()?;
        }
        Ok(())
    }
}
