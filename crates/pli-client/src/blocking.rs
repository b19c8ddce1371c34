//! Blocking a user on this device: their messages are dropped on arrival (their hash chain
//! is still followed, so unblocking raises no false alarm), nothing is sent to a 1:1
//! conversation with them, and they are not told. Unblocking undoes it for what arrives
//! next.

use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use pli_proto::{GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

impl Client {
    /// Blocks `user` on this device. Blocking a user already blocked changes nothing.
    pub fn block(&self, user: &Username) -> Result<(), ClientError> {
        if *user == self.me.username {
            return Err(ClientError::Invalid("you cannot block yourself".into()));
        }
        self.conn.execute(
            "INSERT INTO blocked_users (username, blocked_ms) VALUES (?1, ?2)
             ON CONFLICT (username) DO NOTHING",
            params![user.as_str(), local::now_ms() as i64],
        )?;
        Ok(())
    }

    /// Unblocks `user`; `false` if they were not blocked.
    pub fn unblock(&self, user: &Username) -> Result<bool, ClientError> {
        Ok(self.conn.execute(
            "DELETE FROM blocked_users WHERE username = ?1",
            [user.as_str()],
        )? > 0)
    }

    /// The users this device blocked, by name.
    pub fn blocked(&self) -> Result<Vec<Username>, ClientError> {
        let mut statement = self
            .conn
            .prepare("SELECT username FROM blocked_users ORDER BY username")?;
        let names = statement
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        names
            .iter()
            .map(|n| Username::parse(n).map_err(|_| ClientError::corrupt("a blocked username")))
            .collect()
    }
}

/// Whether `user` is blocked on this device.
pub(crate) fn is_blocked(conn: &Connection, user: &Username) -> Result<bool, ClientError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM blocked_users WHERE username = ?1")?
        .query_row([user.as_str()], |_| Ok(true))
        .optional()?
        .unwrap_or(false))
}

/// Refuses to write to `group` if it is a 1:1 conversation with a blocked user.
pub(crate) fn check_not_blocked(conn: &Connection, group: &GroupId) -> Result<(), ClientError> {
    let peer: Option<String> = conn
        .query_row(
            "SELECT peer FROM conversations WHERE group_id = ?1 AND direct = 1",
            [group.as_bytes()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    match peer.and_then(|p| Username::parse(&p).ok()) {
        Some(peer) if is_blocked(conn, &peer)? => Err(ClientError::Invalid(format!(
            "you blocked @{peer}: unblock them to write to them"
        ))),
        _ => Ok(()),
    }
}
