//! A history archive: the messages a user chose to copy to their newly linked device, as
//! parts small enough to travel like messages, sealed under the link secret.
//!
//! MLS gives a device no key to what was sent before it joined, so the only way a new
//! device can read the past is for one of the user's own devices to copy it over. The
//! approving device holds the link secret (it came in the link code, which the server never
//! sees), so a part sealed with AES-256-GCM under a key derived from it opens only on the
//! new device: the server relays ciphertext and learns its size. Each part is complete on
//! its own (a part lost or refused costs only its messages), numbered inside the seal.
//!
//! What is copied: texts of active conversations, received or sent (not those still
//! queued or given up), that are not held for an unverified key, not deleted for everyone
//! and not under a disappearing timer (a copy would outlive the promise), each with the id,
//! sender device and sequence it had, so replies, reactions and edits that come later
//! still find it. Attachments are named, not copied: their files stay on the devices that
//! fetched them.

use crate::error::ClientError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use pli_proto::limits::{MAX_HISTORY_PART_BYTES, MAX_HISTORY_PARTS};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What the seal's tag covers besides the part: the scheme and its version.
const SCHEME: &[u8] = b"pli history archive v1\0";
const NONCE_BYTES: usize = 12;
/// The seal's nonce and tag, and room for the part's own framing.
const SEAL_OVERHEAD: usize = NONCE_BYTES + 16 + 64;

/// Which messages the approving device copies to the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryChoice {
    /// None: the new device starts empty (the default, and what it always had).
    None,
    /// Every message this device holds that may be copied.
    All,
    /// Those sent in the last so many days.
    LastDays(u32),
}

impl HistoryChoice {
    /// The oldest send time (ms) copied, or `None` when nothing is.
    pub fn since_ms(self, now_ms: u64) -> Option<u64> {
        match self {
            Self::None => None,
            Self::All => Some(0),
            Self::LastDays(days) => Some(now_ms.saturating_sub(u64::from(days) * 86_400_000)),
        }
    }
}

impl std::fmt::Display for HistoryChoice {
    /// As [`std::str::FromStr`] reads it: `none`, `all` or the number of days.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::All => f.write_str("all"),
            Self::LastDays(days) => write!(f, "{days}"),
        }
    }
}

impl std::str::FromStr for HistoryChoice {
    type Err = String;

    /// `none`, `all`, or a number of days (1 to 3650).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(Self::None),
            "all" => Ok(Self::All),
            days => match days.parse::<u32>() {
                Ok(n @ 1..=3650) => Ok(Self::LastDays(n)),
                _ => Err("history is none, all, or a number of days from 1 to 3650".into()),
            },
        }
    }
}

/// One copied message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArchivedMessage {
    /// The conversation (group id, hex).
    pub group: String,
    pub sender: String,
    pub sender_device: u64,
    pub seq: i64,
    pub text: String,
    pub sent_at: i64,
    /// Sent by this account (by any of its devices).
    pub outgoing: bool,
    /// The stable message id (hex), when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ms: Option<i64>,
}

/// One part of an archive, newest messages in part 1 (so a device that gets only the
/// first parts has the recent past), oldest first within a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArchivePart {
    /// From 1.
    pub part: u32,
    pub parts: u32,
    pub messages: Vec<ArchivedMessage>,
}

/// The messages of this device's history to copy, newest first: those sent at or after
/// `since_ms` in conversations that are still active.
pub(crate) fn collect(
    conn: &Connection,
    since_ms: u64,
) -> Result<Vec<ArchivedMessage>, ClientError> {
    let mut statement = conn.prepare(
        "SELECT m.group_id, m.sender, m.sender_device, m.seq, m.text, m.sent_at, m.message_id,
                m.reply_to, m.edited_ms, a.name, m.outgoing
         FROM messages m JOIN conversations c ON c.group_id = m.group_id
         LEFT JOIN attachments a ON a.local_id = m.local_id
         WHERE c.active = 1 AND m.held = 0 AND m.deleted = 0 AND m.unsupported = 0
           AND m.expires_ms IS NULL AND m.failure IS NULL
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = m.outbox_id)
           AND m.sent_at >= ?1
         ORDER BY m.local_id DESC",
    )?;
    let rows = statement.query_map([since_ms.min(i64::MAX as u64) as i64], |r| {
        let text: String = r.get(4)?;
        let attachment: Option<String> = r.get(9)?;
        let text = match attachment {
            Some(name) if text.is_empty() => format!("📎 {name} (the file was not copied)"),
            Some(name) => format!("📎 {name} (the file was not copied): {text}"),
            None => text,
        };
        Ok(ArchivedMessage {
            group: hex::encode(r.get::<_, Vec<u8>>(0)?),
            sender: r.get(1)?,
            sender_device: r.get::<_, i64>(2)? as u64,
            seq: r.get(3)?,
            text,
            sent_at: r.get(5)?,
            outgoing: r.get(10)?,
            message_id: r.get::<_, Option<Vec<u8>>>(6)?.map(hex::encode),
            reply_to: r.get::<_, Option<Vec<u8>>>(7)?.map(hex::encode),
            edited_ms: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `messages` (newest first) cut into parts that each seal under
/// [`MAX_HISTORY_PART_BYTES`], at most [`MAX_HISTORY_PARTS`] of them (the oldest beyond
/// are left out). A message too large for any part on its own is left out too.
pub(crate) fn split(messages: Vec<ArchivedMessage>) -> Vec<ArchivePart> {
    let budget = MAX_HISTORY_PART_BYTES - SEAL_OVERHEAD;
    let mut parts: Vec<Vec<ArchivedMessage>> = Vec::new();
    let mut current: Vec<ArchivedMessage> = Vec::new();
    let mut used = 0;
    for message in messages {
        let size = serde_json::to_vec(&message).map_or(usize::MAX, |bytes| bytes.len() + 1);
        if size > budget {
            continue;
        }
        if used + size > budget {
            if parts.len() + 1 == MAX_HISTORY_PARTS as usize {
                break;
            }
            parts.push(std::mem::take(&mut current));
            used = 0;
        }
        used += size;
        current.push(message);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    let count = parts.len() as u32;
    parts
        .into_iter()
        .enumerate()
        .map(|(index, mut messages)| {
            messages.reverse();
            ArchivePart {
                part: index as u32 + 1,
                parts: count,
                messages,
            }
        })
        .collect()
}

fn cipher(secret: &[u8]) -> Aes256Gcm {
    let mut derive =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    derive.update(b"pli history archive key v1");
    let key: [u8; 32] = derive.finalize().into_bytes().into();
    Aes256Gcm::new(&key.into())
}

/// The sealed bytes of `part`: a random nonce, then the ciphertext and tag.
pub(crate) fn seal(secret: &[u8], part: &ArchivePart) -> Vec<u8> {
    let plain = serde_json::to_vec(part).expect("a part serialises");
    let nonce: [u8; NONCE_BYTES] = rand::random();
    let sealed = cipher(secret)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: SCHEME,
            },
        )
        .expect("AES-GCM encrypts any part");
    [nonce.as_slice(), &sealed].concat()
}

/// Opens `sealed`; `None` unless it was sealed under `secret` and is a well-formed part.
pub(crate) fn open(secret: &[u8], sealed: &[u8]) -> Option<ArchivePart> {
    if sealed.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    let plain = cipher(secret)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: SCHEME,
            },
        )
        .ok()?;
    let part: ArchivePart = serde_json::from_slice(&plain).ok()?;
    (part.part >= 1 && part.part <= part.parts && part.parts <= MAX_HISTORY_PARTS).then_some(part)
}

/// Stores a part's messages in the conversations this device is in, below every message it
/// holds (the past goes before what it received since it joined; an empty history starts
/// at 1, so later messages still get ids above), read, not announced as new, and stored
/// when they were sent (so they go before the notice that this device joined). A message
/// it has already (same sender device and sequence, or the same id) is skipped. Returns
/// how many were stored.
pub(crate) fn import(tx: &Connection, part: &ArchivePart) -> Result<usize, ClientError> {
    let count = part.messages.len() as i64;
    let lowest: Option<i64> =
        tx.query_row("SELECT min(local_id) FROM messages", [], |r| r.get(0))?;
    let first = lowest.unwrap_or(count + 1) - count;
    let mut stored = 0;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO messages (local_id, group_id, sender, sender_device, seq, text,
                sent_at, outgoing, received_ms, shown, message_id, reply_to, edited_ms)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11, ?12
         WHERE EXISTS (SELECT 1 FROM conversations WHERE group_id = ?2)",
    )?;
    let mut read = tx.prepare_cached(
        "UPDATE conversations SET read_up_to = max(read_up_to, ?2) WHERE group_id = ?1",
    )?;
    for (local_id, message) in (first..).zip(&part.messages) {
        let (Ok(group), Ok(message_id), Ok(reply_to), Ok(sender)) = (
            hex::decode(&message.group),
            message.message_id.as_deref().map(hex::decode).transpose(),
            message.reply_to.as_deref().map(hex::decode).transpose(),
            message.sender.parse::<pli_proto::Username>(),
        ) else {
            continue;
        };
        let added = insert.execute(params![
            local_id,
            group,
            sender.as_str(),
            message.sender_device as i64,
            message.seq,
            message.text,
            message.sent_at,
            message.outgoing,
            message.sent_at,
            message_id,
            reply_to,
            message.edited_ms,
        ])?;
        if added == 1 {
            read.execute(params![group, local_id])?;
        }
        stored += added;
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> ArchivedMessage {
        ArchivedMessage {
            group: "01".into(),
            sender: "alice".into(),
            sender_device: 1,
            seq: 1,
            text: text.into(),
            sent_at: 1,
            outgoing: false,
            message_id: None,
            reply_to: None,
            edited_ms: None,
        }
    }

    #[test]
    fn a_part_opens_only_under_its_link_secret() {
        let part = ArchivePart {
            part: 1,
            parts: 1,
            messages: vec![message("hello")],
        };
        let sealed = seal(&[7; 32], &part);
        assert_eq!(open(&[7; 32], &sealed), Some(part));
        assert_eq!(open(&[8; 32], &sealed), None);
        let mut flipped = sealed.clone();
        *flipped.last_mut().expect("bytes") ^= 1;
        assert_eq!(open(&[7; 32], &flipped), None);
    }

    #[test]
    fn parts_hold_the_newest_first_and_each_fits_a_delivery() {
        let big = "x".repeat(60 * 1024);
        let messages: Vec<_> = (0..10)
            .rev()
            .map(|n| message(&format!("{n}{big}")))
            .collect();
        let parts = split(messages);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.parts == parts.len() as u32));
        assert!(parts[0].messages.last().expect("one").text.starts_with('9'));
        assert!(
            parts.last().expect("part").messages[0]
                .text
                .starts_with('0')
        );
        for part in &parts {
            assert!(seal(&[1; 32], part).len() <= MAX_HISTORY_PART_BYTES);
        }
    }
}
