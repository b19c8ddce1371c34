//! What a conversation list and a chat view read: each conversation with its last message
//! and unread count, newest first; a conversation's history a page at a time (never the
//! whole of it at once), newest page first; and how far the user has read. Only what the
//! history shows is read here: never a held message, nor a conversation not checked yet.

use crate::client::Client;
use crate::error::ClientError;
pub use crate::history::{Delivery, HistoryMessage, Quote, ReactionCount, Receipts, SenderProfile};
use crate::local::Conversation;
use pli_proto::{GroupId, Username};
use rusqlite::OptionalExtension as _;

/// Most messages one page holds.
pub const MAX_PAGE: usize = 500;

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
    /// For a direct conversation, the display name of the other person, if their profile
    /// has one: shown beside `@peer`, never instead.
    pub peer_name: Option<String>,
}

/// The columns [`message`] reads, of the message table aliased `m`.
fn columns(m: &str) -> String {
    let quoted = |column: &str| {
        format!(
            "(SELECT q.{column} FROM messages q WHERE q.group_id = {m}.group_id
                 AND q.message_id = {m}.reply_to AND q.held = 0)"
        )
    };
    format!(
        "{m}.local_id, {m}.sender, {m}.text, {m}.sent_at, {m}.outgoing, {m}.failure,
         EXISTS (SELECT 1 FROM outbox o WHERE o.id = {m}.outbox_id),
         CASE {m}.received_ms WHEN 0 THEN {m}.sent_at ELSE {m}.received_ms END,
         {m}.message_id, {m}.reply_to, {m}.edited_ms IS NOT NULL, {m}.deleted, {m}.rev,
         {}, {}, {},
         (SELECT count(*) FROM receipts r WHERE r.group_id = {m}.group_id
              AND r.message_id = {m}.message_id),
         (SELECT count(r.read_ms) FROM receipts r WHERE r.group_id = {m}.group_id
              AND r.message_id = {m}.message_id),
         {m}.expires_ms,
         (SELECT p.name FROM profiles p WHERE p.username = {m}.sender),
         (SELECT p.avatar IS NOT NULL FROM profiles p WHERE p.username = {m}.sender)",
        quoted("sender"),
        quoted("text"),
        quoted("deleted")
    )
}

/// A message row as [`columns`] reads it.
struct Row {
    local_id: i64,
    sender: String,
    text: String,
    sent_at: i64,
    outgoing: bool,
    failure: Option<String>,
    queued: bool,
    stored_at: i64,
    message_id: Option<Vec<u8>>,
    reply_to: Option<Vec<u8>>,
    edited: bool,
    deleted: bool,
    rev: i64,
    quoted_sender: Option<String>,
    quoted_text: Option<String>,
    quoted_deleted: Option<bool>,
    receipts: Receipts,
    expires_ms: Option<i64>,
    profile_name: Option<String>,
    profile_avatar: Option<bool>,
}

/// Reads [`columns`] from column `at` on.
fn message_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Row> {
    Ok(Row {
        local_id: r.get(at)?,
        sender: r.get(at + 1)?,
        text: r.get(at + 2)?,
        sent_at: r.get(at + 3)?,
        outgoing: r.get(at + 4)?,
        failure: r.get(at + 5)?,
        queued: r.get(at + 6)?,
        stored_at: r.get(at + 7)?,
        message_id: r.get(at + 8)?,
        reply_to: r.get(at + 9)?,
        edited: r.get(at + 10)?,
        deleted: r.get(at + 11)?,
        rev: r.get(at + 12)?,
        quoted_sender: r.get(at + 13)?,
        quoted_text: r.get(at + 14)?,
        quoted_deleted: r.get(at + 15)?,
        receipts: Receipts {
            delivered: r.get::<_, i64>(at + 16)? as u32,
            read: r.get::<_, i64>(at + 17)? as u32,
        },
        expires_ms: r.get(at + 18)?,
        profile_name: r.get(at + 19)?,
        profile_avatar: r.get(at + 20)?,
    })
}

fn message(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    message_at(r, 0)
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
    let reply = row.reply_to.map(|id| Quote {
        message_id: hex::encode(id),
        original: row
            .quoted_sender
            .and_then(|s| Username::parse(&s).ok())
            .zip(row.quoted_text),
        deleted: row.quoted_deleted.unwrap_or(false),
    });
    Ok(HistoryMessage {
        local_id: row.local_id,
        sender: Username::parse(&row.sender).map_err(|_| ClientError::corrupt("sender"))?,
        text: row.text,
        sent_at: row.sent_at as u64,
        stored_at: row.stored_at as u64,
        outgoing: row.outgoing,
        own: row.outgoing,
        delivery,
        message_id: row.message_id.map(hex::encode),
        reply,
        edited: row.edited,
        deleted: row.deleted,
        reactions: Vec::new(),
        receipts: Some(row.receipts),
        rev: row.rev,
        expires_at: row.expires_ms.map(|at| at as u64),
        attachment: None,
        sender_profile: row.profile_name.map(|name| SenderProfile {
            name,
            avatar: row.profile_avatar.unwrap_or(false),
        }),
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
                 {}
             FROM conversations c LEFT JOIN messages m ON m.local_id = (
                 SELECT x.local_id FROM messages x WHERE x.group_id = c.group_id AND x.held = 0
                 ORDER BY x.local_id DESC LIMIT 1)
             WHERE c.pending = 0
             ORDER BY coalesce(m.local_id, 0) DESC, c.created_ms, c.group_id",
            columns("m")
        ))?;
        let rows = st.query_map([], |r| {
            let last = match r.get::<_, Option<i64>>(6)? {
                None => None,
                Some(_) => Some(message_at(r, 6)?),
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
            let peer = peer.and_then(|p| Username::parse(&p).ok());
            let peer_name = match (&peer, direct) {
                (Some(peer), true) => crate::profile_book::shown(&self.conn, peer)?
                    .map(|p| p.name)
                    .filter(|name| !name.is_empty()),
                _ => None,
            };
            summaries.push(Summary {
                conversation: Conversation {
                    id: GroupId::from_bytes(&id).map_err(|_| ClientError::corrupt("group id"))?,
                    name,
                    direct,
                    peer,
                    active,
                },
                last: last.map(to_message).transpose()?,
                unread: unread as u64,
                peer_name,
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
            "SELECT {} FROM messages m WHERE group_id = ?1 AND held = 0 AND local_id < ?2
             ORDER BY local_id DESC LIMIT ?3",
            columns("m")
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
        self.with_reactions(conversation, page)
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
            "SELECT {} FROM messages m WHERE group_id = ?1 AND held = 0 AND local_id > ?2
             ORDER BY local_id LIMIT ?3",
            columns("m")
        ))?;
        let rows = st
            .query_map(
                rusqlite::params![conversation.as_bytes(), after, limit.min(MAX_PAGE) as i64],
                message,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let page = rows
            .into_iter()
            .map(to_message)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_reactions(conversation, page)
    }

    /// Up to `limit` messages of `conversation` changed (edited, deleted, reacted to) after
    /// revision `after_rev`, in the order they changed: what a chat view showing them
    /// replaces.
    pub fn history_changed(
        &self,
        conversation: &GroupId,
        after_rev: i64,
        limit: usize,
    ) -> Result<Vec<HistoryMessage>, ClientError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages m WHERE rev > ?2 AND group_id = ?1 AND held = 0
             ORDER BY rev LIMIT ?3",
            columns("m")
        ))?;
        let rows = st
            .query_map(
                rusqlite::params![
                    conversation.as_bytes(),
                    after_rev,
                    limit.min(MAX_PAGE) as i64
                ],
                message,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let page = rows
            .into_iter()
            .map(to_message)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_reactions(conversation, page)
    }

    /// Messages shown to the user already (by `take_new`) and changed after revision
    /// `after_rev`, with their conversations, in the order they changed (at most a page).
    pub(crate) fn changed_shown(
        &self,
        after_rev: i64,
    ) -> Result<Vec<(GroupId, HistoryMessage)>, ClientError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT m.group_id, {} FROM messages m WHERE rev > ?1 AND shown = 1 AND held = 0
             ORDER BY rev LIMIT ?2",
            columns("m")
        ))?;
        let rows = st
            .query_map(rusqlite::params![after_rev, MAX_PAGE as i64], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, message_at(r, 1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut changed = Vec::with_capacity(rows.len());
        for (group, row) in rows {
            let group =
                GroupId::from_bytes(&group).map_err(|_| ClientError::corrupt("group id"))?;
            let message = self.with_reactions(&group, vec![to_message(row)?])?;
            changed.extend(message.into_iter().map(|m| (group.clone(), m)));
        }
        Ok(changed)
    }

    /// The newest revision handed to a front end by [`Client::take_new`].
    pub(crate) fn taken_rev(tx: &rusqlite::Connection) -> Result<i64, ClientError> {
        Ok(tx
            .prepare_cached("SELECT coalesce((SELECT rev FROM changes_taken WHERE id = 1), 0)")?
            .query_row([], |r| r.get(0))?)
    }

    /// Marks every change so far handed to a front end.
    pub(crate) fn set_taken_rev(tx: &rusqlite::Connection) -> Result<(), ClientError> {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO changes_taken (id, rev)
             SELECT 1, coalesce(max(rev), 0) FROM messages",
        )?
        .execute([])?;
        Ok(())
    }

    /// The newest revision of any message of `conversation` (0: none changed): where a chat
    /// view's changes continue from.
    pub fn last_rev(&self, conversation: &GroupId) -> Result<i64, ClientError> {
        Ok(self
            .conn
            .prepare_cached("SELECT coalesce(max(rev), 0) FROM messages WHERE group_id = ?1")?
            .query_row([conversation.as_bytes()], |r| r.get(0))?)
    }

    /// Fills in the reactions of each message of `page` (and which ones this account
    /// wrote) and the file it shares.
    fn with_reactions(
        &self,
        conversation: &GroupId,
        mut page: Vec<HistoryMessage>,
    ) -> Result<Vec<HistoryMessage>, ClientError> {
        let mut st = self.conn.prepare_cached(
            "SELECT reaction, count(*), max(username = ?3) FROM reactions
             WHERE group_id = ?1 AND message_id = ?2 GROUP BY reaction ORDER BY min(sent_at)",
        )?;
        for message in &mut page {
            message.attachment =
                crate::attachment_records::of_message(&self.conn, message.local_id)?;
            message.own = message.outgoing || message.sender == self.me.username;
            if !message.own {
                message.receipts = None;
            }
            let Some(id) = message
                .message_id
                .as_deref()
                .and_then(|id| hex::decode(id).ok())
            else {
                continue;
            };
            message.reactions = st
                .query_map(
                    rusqlite::params![conversation.as_bytes(), id, self.me.username.as_str()],
                    |r| {
                        Ok(ReactionCount {
                            reaction: r.get(0)?,
                            count: r.get::<_, i64>(1)? as u32,
                            mine: r.get(2)?,
                        })
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
        }
        Ok(page)
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
    /// Read receipts for what was unread are owed, where receipts are on (`receipts`).
    pub fn mark_read(&self, conversation: &GroupId) -> Result<(), ClientError> {
        let tx = self.conn.unchecked_transaction()?;
        let before: Option<i64> = tx
            .query_row(
                "SELECT read_up_to FROM conversations WHERE group_id = ?1",
                [conversation.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(before) = before else {
            return Err(ClientError::UnknownConversation(conversation.to_hex()));
        };
        crate::receipts::owe_read(&tx, conversation, before)?;
        tx.execute(
            "UPDATE conversations SET read_up_to = (
                 SELECT coalesce(max(local_id), 0) FROM messages WHERE group_id = ?1 AND held = 0)
             WHERE group_id = ?1",
            [conversation.as_bytes()],
        )?;
        tx.commit()?;
        Ok(())
    }
}
