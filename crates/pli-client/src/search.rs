//! Search in the local history: SQLite FTS5 over the messages' text (the index is kept by
//! triggers in the transaction that stores each message, `local`'s migrations). Only what
//! the history shows is found: never a held message (an unverified sender) nor one of a
//! conversation whose members are not checked yet.

use crate::client::Client;
use crate::error::ClientError;
use pli_proto::{GroupId, Username};

/// Most results one search returns.
pub const MAX_RESULTS: usize = 200;

/// A message that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The conversation it is in.
    pub conversation: GroupId,
    /// That conversation's title, as the conversation list shows it.
    pub conversation_title: String,
    /// Its sender.
    pub sender: Username,
    /// Its text.
    pub text: String,
    /// When it was sent (ms since the Unix epoch, the sender's clock).
    pub sent_at: u64,
}

/// The user's words as an FTS5 query that matches messages holding every one of them
/// (the last also as a prefix, so a word being typed already finds). Each word is quoted,
/// so FTS5's own syntax (`AND`, `NEAR`, `*`, quotes, parentheses) in a search is only text
/// and can never make the query fail.
fn fts_query(words: &str) -> Result<String, ClientError> {
    let terms: Vec<String> = words
        .split_whitespace()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    match terms.split_last() {
        None => Err(ClientError::Invalid(
            "a search needs at least one word".into(),
        )),
        Some((last, rest)) => {
            let mut query = rest.join(" ");
            if !query.is_empty() {
                query.push(' ');
            }
            query.push_str(last);
            query.push('*');
            Ok(query)
        }
    }
}

impl Client {
    /// The messages of the local history holding every word of `words`, newest first, at
    /// most `limit` (and at most [`MAX_RESULTS`]).
    pub fn search(&self, words: &str, limit: usize) -> Result<Vec<Found>, ClientError> {
        let query = fts_query(words)?;
        let mut st = self.conn.prepare_cached(
            "SELECT m.group_id, m.sender, m.text, m.sent_at
             FROM messages_fts f JOIN messages m ON m.local_id = f.rowid
             JOIN conversations c ON c.group_id = m.group_id
             WHERE messages_fts MATCH ?1 AND m.held = 0 AND c.pending = 0
             ORDER BY m.sent_at DESC, m.local_id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(
            rusqlite::params![query, limit.min(MAX_RESULTS) as i64],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )?;
        rows.map(|row| {
            let (group, sender, text, sent_at) = row?;
            let conversation =
                GroupId::from_bytes(&group).map_err(|_| ClientError::corrupt("group id"))?;
            let title = crate::local::conversation(&self.conn, &conversation)?
                .map(|c| c.title())
                .unwrap_or_default();
            Ok(Found {
                conversation,
                conversation_title: title,
                sender: Username::parse(&sender).map_err(|_| ClientError::corrupt("sender"))?,
                text,
                sent_at: sent_at as u64,
            })
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_a_query_that_cannot_fail() {
        assert_eq!(fts_query("hello").expect("query"), "\"hello\"*");
        assert_eq!(
            fts_query("  see you\ttomorrow ").expect("query"),
            "\"see\" \"you\" \"tomorrow\"*"
        );
        assert_eq!(fts_query("a\"b").expect("query"), "\"a\"\"b\"*");
        assert!(matches!(fts_query(" \n "), Err(ClientError::Invalid(_))));
    }
}
