//! What a conversation list and a chat view read: each conversation with its last message
//! and unread count, newest first; a conversation's history a page at a time (never the
//! whole of it at once), newest page first; and how far the user has read. Only what the
//! history shows is read here: never a held message, nor a conversation not checked yet.

use crate::client::Client;
use crate::error::ClientError;
use crate::local::Conversation;
use pli_proto::{GroupId, Username};

/// Most messages one page holds.
pub const MAX_PAGE: usize = 500;

/// One message of the history, as a chat view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryMessage {
    /// Its place in this device's history: pages are cut by it ([`Client::history_page`]).
    pub local_id: i64,
    /// Its sender.
    pub sender: Username,
    /// Its text.
    pub text: String,
    /// When it was sent (ms since the Unix epoch, the sender's clock).
    pub sent_at: u64,
    /// When this device stored it (ms since the Unix epoch, this device's clock): what
    /// orders it among the conversation's notices, which carry this device's clock too.
    pub stored_at: u64,
    /// Whether this device's user wrote it.
    pub outgoing: bool,
    /// For a message this device wrote: where it is on its way.
    pub delivery: Option<Delivery>,
}

/// Where an own message is on its way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Written, waiting in the outbox (offline, or held until the members' keys verify).
    Queued,
    /// Accepted by the server, committed for every recipient device.
    Sent,
    /// Given up, for this reason.
    Failed(String),
}

/// A notice about a conversation, as a chat view shows it among the messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeLine {
    /// Its place among this device's notices.
    pub id: i64,
    /// True for something that may be an attack.
    pub alert: bool,
    /// What it says.
    pub text: String,
    /// When this device stored it (ms since the Unix epoch).
    pub stored_at: u64,
}

/// A conversation as a conversation list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The conversation.
    pub conversation: Conversation,
    /// Its newest message, if any.
    pub last: Option<HistoryMessage>,
    /// Messages from others after what the user has read.
    pub unread: u64,
}

const COLUMNS: &str = "local_id, sender, text, sent_at, outgoing, failure,
    EXISTS (SELECT 1 FROM outbox o WHERE o.id = messages.outbox_id),
    CASE received_ms WHEN 0 THEN sent_at ELSE received_ms END";

/// [`COLUMNS`] of the message aliased `m` (the list's newest message of each conversation).
const LAST_COLUMNS: &str = "m.local_id, m.sender, m.text, m.sent_at, m.outgoing, m.failure,
    EXISTS (SELECT 1 FROM outbox o WHERE o.id = m.outbox_id),
    CASE m.received_ms WHEN 0 THEN m.sent_at ELSE m.received_ms END";

/// A message row as [`COLUMNS`] reads it.
struct Row {
    local_id: i64,
    sender: String,
    text: String,
    sent_at: i64,
    outgoing: bool,
    failure: Option<String>,
    queued: bool,
    stored_at: i64,
}

fn message(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        local_id: r.get(0)?,
        sender: r.get(1)?,
        text: r.get(2)?,
        sent_at: r.get(3)?,
        outgoing: r.get(4)?,
        failure: r.get(5)?,
        queued: r.get(6)?,
        stored_at: r.get(7)?,
    })
}

fn notice_line(r: &rusqlite::Row<'_>) -> rusqlite::Result<NoticeLine> {
    Ok(NoticeLine {
        id: r.get(0)?,
        alert: r.get(1)?,
        text: r.get(2)?,
        stored_at: r.get::<_, i64>(3)? as u64,
    })
}

fn to_message(row: Row) -> Result<HistoryMessage, ClientError> {
    let delivery = row.outgoing.then_some(match (row.failure, row.queued) {
        (Some(why), _) => Delivery::Failed(why),
        (None, true) => Delivery::Queued,
        (None, false) => Delivery::Sent,
    });
    Ok(HistoryMessage {
        local_id: row.local_id,
        sender: Username::parse(&row.sender).map_err(|_| ClientError::corrupt("sender"))?,
        text: row.text,
        sent_at: row.sent_at as u64,
        stored_at: row.stored_at as u64,
        outgoing: row.outgoing,
        delivery,
    })
}

impl Client {
    /// Every conversation with its newest message and unread count, the one with the newest
    /// message first; conversations without messages come last, oldest made first.
    pub fn summaries(&self) -> Result<Vec<Summary>, ClientError> {
        // One query for the whole list: each conversation's newest shown message (found by
        // walking its index backwards) and its unread count (an index range after the read
        // marker), so a list of a thousand conversations is one statement, not two each.
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT c.group_id, c.name, c.direct, c.peer, c.active,
                 (SELECT count(*) FROM messages u WHERE u.group_id = c.group_id AND u.held = 0
                      AND u.outgoing = 0 AND u.local_id > c.read_up_to),
                 {LAST_COLUMNS}
             FROM conversations c LEFT JOIN messages m ON m.local_id = (
                 SELECT x.local_id FROM messages x WHERE x.group_id = c.group_id AND x.held = 0
                 ORDER BY x.local_id DESC LIMIT 1)
             WHERE c.pending = 0
             ORDER BY coalesce(m.local_id, 0) DESC, c.created_ms, c.group_id"
        ))?;
        let rows = st.query_map([], |r| {
            let last = match r.get::<_, Option<i64>>(6)? {
                None => None,
                Some(local_id) => Some(Row {
                    local_id,
                    sender: r.get(7)?,
                    text: r.get(8)?,
                    sent_at: r.get(9)?,
                    outgoing: r.get(10)?,
                    failure: r.get(11)?,
                    queued: r.get(12)?,
                    stored_at: r.get(13)?,
                }),
            };
            Ok((
                (
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, bool>(4)?,
                ),
                r.get::<_, i64>(5)?,
                last,
            ))
        })?;
        let mut summaries = Vec::new();
        for row in rows {
            let ((id, name, direct, peer, active), unread, last) = row?;
            summaries.push(Summary {
                conversation: Conversation {
                    id: GroupId::from_bytes(&id).map_err(|_| ClientError::corrupt("group id"))?,
                    name,
                    direct,
                    peer: peer.and_then(|p| Username::parse(&p).ok()),
                    active,
                },
                last: last.map(to_message).transpose()?,
                unread: unread as u64,
            });
        }
        Ok(summaries)
    }

    /// Up to `limit` messages of `conversation` before `before` (a [`HistoryMessage::local_id`];
    /// `None`: the newest), oldest first within the page. An empty page: nothing older.
    pub fn history_page(
        &self,
        conversation: &GroupId,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<HistoryMessage>, ClientError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages WHERE group_id = ?1 AND held = 0 AND local_id < ?2
             ORDER BY local_id DESC LIMIT ?3"
        ))?;
        let rows = st
            .query_map(
                rusqlite::params![
                    conversation.as_bytes(),
                    before.unwrap_or(i64::MAX),
                    limit.min(MAX_PAGE) as i64
                ],
                message,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let mut page = rows
            .into_iter()
            .map(to_message)
            .collect::<Result<Vec<_>, _>>()?;
        page.reverse();
        Ok(page)
    }

    /// Up to `limit` messages of `conversation` after `after` (a [`HistoryMessage::local_id`]),
    /// oldest first: what a chat view that shows everything up to `after` appends.
    pub fn history_after(
        &self,
        conversation: &GroupId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<HistoryMessage>, ClientError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages WHERE group_id = ?1 AND held = 0 AND local_id > ?2
             ORDER BY local_id LIMIT ?3"
        ))?;
        let rows = st
            .query_map(
                rusqlite::params![conversation.as_bytes(), after, limit.min(MAX_PAGE) as i64],
                message,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(to_message).collect()
    }

    /// The notices of `conversation` stored from `from_ms` up to (not including) `until_ms`,
    /// oldest first: the system lines (members added or removed, key changes, alerts) a chat
    /// view shows among the messages of the same span.
    pub fn notices_between(
        &self,
        conversation: &GroupId,
        from_ms: u64,
        until_ms: u64,
    ) -> Result<Vec<NoticeLine>, ClientError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, alert, text, created_ms FROM notices
             WHERE group_id = ?1 AND created_ms >= ?2 AND created_ms < ?3
             ORDER BY created_ms, id LIMIT ?4",
        )?;
        let rows = st.query_map(
            rusqlite::params![
                conversation.as_bytes(),
                from_ms as i64,
                until_ms.min(i64::MAX as u64) as i64,
                MAX_PAGE as i64
            ],
            notice_line,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The notices of `conversation` after notice `after_id`, oldest first (at most a page):
    /// what a chat view that shows every notice up to `after_id` appends.
    pub fn notices_after(
        &self,
        conversation: &GroupId,
        after_id: i64,
    ) -> Result<Vec<NoticeLine>, ClientError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, alert, text, created_ms FROM notices WHERE group_id = ?1 AND id > ?2
             ORDER BY id LIMIT ?3",
        )?;
        let rows = st.query_map(
            rusqlite::params![conversation.as_bytes(), after_id, MAX_PAGE as i64],
            notice_line,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The newest notice id of `conversation` (0: none): where a chat view's live notices
    /// continue from, whatever span of the history it shows.
    pub fn last_notice_id(&self, conversation: &GroupId) -> Result<i64, ClientError> {
        Ok(self
            .conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM notices WHERE group_id = ?1")?
            .query_row([conversation.as_bytes()], |r| r.get(0))?)
    }

    /// Marks `conversation` read up to its newest message (now shown to the user).
    pub fn mark_read(&self, conversation: &GroupId) -> Result<(), ClientError> {
        let changed = self.conn.execute(
            "UPDATE conversations SET read_up_to = (
                 SELECT coalesce(max(local_id), 0) FROM messages WHERE group_id = ?1 AND held = 0)
             WHERE group_id = ?1",
            [conversation.as_bytes()],
        )?;
        if changed == 0 {
            return Err(ClientError::UnknownConversation(conversation.to_hex()));
        }
        Ok(())
    }
}
