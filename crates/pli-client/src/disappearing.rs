//! Disappearing messages on the device.
//!
//! A conversation's timer is set by any member with a [`Body::Timer`], which every member
//! applies and shows as a notice. Every message written while it is set carries it
//! ([`Envelope::expires`]), and the MLS authenticated data copies it for the server, whose
//! queue entry expires no later. Each device deletes a timed message that long after it was
//! sent (by the sender's clock, or when it arrived if that is earlier): its text, its edits,
//! reactions and receipts, and its words in the search index ([`purge_expired`]).
//!
//! Deleted here means gone from the file, not merely unlinked: the database runs with
//! `secure_delete` (freed pages are zeroed), the search index is merged after a purge so
//! no old segment keeps the words, and the write-ahead log is checkpointed and truncated.

use crate::error::ClientError;
use crate::local;
use pli_proto::limits::MAX_DISAPPEAR_SECS;
use pli_proto::payload::{Body, Envelope};
use pli_proto::{GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

/// The conversation's timer in seconds, if one is set.
pub(crate) fn timer_of(conn: &Connection, group: &GroupId) -> Result<Option<u64>, ClientError> {
    let seconds: Option<Option<i64>> = conn
        .prepare_cached("SELECT disappear_s FROM conversations WHERE group_id = ?1")?
        .query_row([group.as_bytes()], |r| r.get(0))
        .optional()?;
    Ok(seconds.flatten().filter(|s| *s > 0).map(|s| s as u64))
}

/// The timer a new message of `body` in `group` carries: the conversation's, for any body
/// but a timer change itself, the conversation's name and a profile key (which must outlive
/// it).
pub(crate) fn timer_for(
    conn: &Connection,
    group: &GroupId,
    body: &Body,
) -> Result<Option<u64>, ClientError> {
    match body {
        Body::Timer { .. } | Body::Meta { .. } | Body::Typing { .. } | Body::ProfileKey { .. } => {
            Ok(None)
        }
        _ => timer_of(conn, group),
    }
}

/// When a message with `envelope`'s timer, arrived (or written) at `now_ms`, goes: that
/// long after it was sent, or after `now_ms` if the sender's clock says later.
pub(crate) fn expiry_of(envelope: &Envelope, now_ms: u64) -> Option<i64> {
    let seconds = envelope.expires?.min(MAX_DISAPPEAR_SECS);
    Some((envelope.sent_at.min(now_ms) + seconds * 1000) as i64)
}

/// Keeps the conversation's timer (0: none).
fn store_timer(tx: &Connection, group: &GroupId, seconds: u64) -> Result<(), ClientError> {
    tx.execute(
        "UPDATE conversations SET disappear_s = ?2 WHERE group_id = ?1",
        params![group.as_bytes(), (seconds > 0).then_some(seconds as i64)],
    )?;
    Ok(())
}

/// Applies a timer change by `by` (`None`: this user) in `group`, and tells the user.
pub(crate) fn apply_timer(
    tx: &Connection,
    group: &GroupId,
    by: Option<&Username>,
    seconds: u64,
    now_ms: u64,
) -> Result<(), ClientError> {
    store_timer(tx, group, seconds)?;
    let who = by.map_or_else(|| "You".to_owned(), |user| format!("@{user}"));
    let text = if seconds == 0 {
        format!("{who} turned off disappearing messages")
    } else {
        format!(
            "{who} set disappearing messages to {}: new messages are deleted from every device that long after they are sent",
            describe(seconds)
        )
    };
    local::notice(tx, Some(group), false, &text, now_ms)
}

/// Takes the timer a member's `Meta` carries (sent as they add members, so a new member
/// learns it); tells the user only when it differs from what this device has.
pub(crate) fn learn_timer(
    tx: &Connection,
    group: &GroupId,
    seconds: u64,
    now_ms: u64,
) -> Result<(), ClientError> {
    let seconds = seconds.min(MAX_DISAPPEAR_SECS);
    if timer_of(tx, group)?.unwrap_or(0) == seconds {
        return Ok(());
    }
    store_timer(tx, group, seconds)?;
    let text = if seconds == 0 {
        "Disappearing messages are off in this conversation".to_owned()
    } else {
        format!(
            "Disappearing messages are on in this conversation: new messages are deleted {} after they are sent",
            describe(seconds)
        )
    };
    local::notice(tx, Some(group), false, &text, now_ms)
}

/// Deletes every message whose timer is over at `now_ms`, with everything kept about it;
/// returns how many went.
pub fn purge_expired(conn: &Connection, now_ms: u64) -> Result<usize, ClientError> {
    let due: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM messages WHERE expires_ms IS NOT NULL AND expires_ms <= ?1",
        )?
        .query_row([now_ms as i64], |r| r.get(0))?;
    if due == 0 {
        return Ok(0);
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS expiring (local_id INTEGER PRIMARY KEY, group_id BLOB, message_id BLOB)",
    )?;
    tx.execute(
        "INSERT INTO temp.expiring (local_id, group_id, message_id)
         SELECT local_id, group_id, message_id FROM messages
         WHERE expires_ms IS NOT NULL AND expires_ms <= ?1",
        [now_ms as i64],
    )?;
    tx.execute_batch(
        "DELETE FROM message_edits WHERE local_id IN (SELECT local_id FROM temp.expiring);
         DELETE FROM reactions WHERE (group_id, message_id) IN
             (SELECT group_id, message_id FROM temp.expiring WHERE message_id IS NOT NULL);
         DELETE FROM receipts WHERE (group_id, message_id) IN
             (SELECT group_id, message_id FROM temp.expiring WHERE message_id IS NOT NULL);
         DELETE FROM receipts_due WHERE (group_id, message_id) IN
             (SELECT group_id, message_id FROM temp.expiring WHERE message_id IS NOT NULL);
         DELETE FROM attachments WHERE local_id IN (SELECT local_id FROM temp.expiring);
         DELETE FROM messages WHERE local_id IN (SELECT local_id FROM temp.expiring);
         DELETE FROM temp.expiring;
         INSERT INTO messages_fts (messages_fts) VALUES ('optimize');",
    )?;
    tx.commit()?;
    // Best effort: a reader elsewhere (pli app's other connection) may hold the log; the
    // next purge or SQLite's own checkpoint then empties it.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    // Their keys went in the transaction; the ciphertext files go now.
    crate::attachment_records::remove_orphan_files(conn)?;
    Ok(due as usize)
}

/// A timer in words: "30 seconds", "1 hour", "4 weeks".
pub fn describe(seconds: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let (size, unit) = UNITS
        .into_iter()
        .find(|(size, _)| seconds >= *size && seconds.is_multiple_of(*size))
        .unwrap_or((1, "second"));
    let count = seconds / size;
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// Reads a timer as people write it: `30s`, `5m`, `1h`, `1d`, `1w`, or `off`. Returns
/// seconds, 0 for off.
pub fn parse_timer(text: &str) -> Result<u64, ClientError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(0);
    }
    let invalid = || {
        ClientError::Invalid(
            "a timer is a number with s, m, h, d or w (30s, 5m, 1h, 1d, 1w), or off".into(),
        )
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let size = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(invalid()),
    };
    let seconds = number.checked_mul(size).ok_or_else(invalid)?;
    if seconds == 0 || seconds > MAX_DISAPPEAR_SECS {
        return Err(ClientError::Invalid(format!(
            "a timer is at least 1 second and at most {}",
            describe(MAX_DISAPPEAR_SECS)
        )));
    }
    Ok(seconds)
}

impl crate::Client {
    /// Sets (or with 0 turns off) the conversation's disappearing-message timer for every
    /// member: from the next message on.
    pub async fn set_disappearing(
        &mut self,
        conversation: &GroupId,
        seconds: u64,
    ) -> Result<crate::SendStatus, ClientError> {
        Ok(self
            .send_body(conversation, Body::Timer { seconds })
            .await?
            .status)
    }

    /// The conversation's timer in seconds, if one is set.
    pub fn disappearing(&self, conversation: &GroupId) -> Result<Option<u64>, ClientError> {
        timer_of(&self.conn, conversation)
    }

    /// Deletes the messages whose timer is over now. Front ends call it before showing
    /// history; [`Client::sync`] does too.
    pub fn purge_expired(&self) -> Result<usize, ClientError> {
        purge_expired(&self.conn, local::now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_read_and_say_what_people_write() {
        assert_eq!(parse_timer("30s").expect("valid"), 30);
        assert_eq!(parse_timer("5m").expect("valid"), 300);
        assert_eq!(parse_timer(" 1h ").expect("valid"), 3_600);
        assert_eq!(parse_timer("1w").expect("valid"), 604_800);
        assert_eq!(parse_timer("OFF").expect("valid"), 0);
        for bad in [
            "",
            "h",
            "10",
            "5x",
            "0s",
            "5w",
            "-1s",
            "99999999999999999999s",
        ] {
            assert!(parse_timer(bad).is_err(), "{bad:?}");
        }
        assert_eq!(describe(30), "30 seconds");
        assert_eq!(describe(3_600), "1 hour");
        assert_eq!(describe(90), "90 seconds");
        assert_eq!(describe(28 * 86_400), "4 weeks");
    }
}
