//! Post-compromise healing: every device replaces its own leaf in each conversation (an MLS
//! self-update commit: a fresh encryption key and new path secrets for the whole tree) on a
//! schedule, and at once after any device of its account is linked or removed. Someone who
//! copied a device's state before a rotation cannot decrypt what is sent after it.
//!
//! The schedule: a week since the leaf was last replaced, or [`ROTATE_AFTER_MESSAGES`]
//! messages sent in the conversation since, whichever comes first. Wall-clock time, not
//! time online: a device that was off for a week rotates at its first sync.
//!
//! `leaf_rotations` holds, per conversation, when this device last replaced its leaf and how
//! many messages it sent since; a conversation seen for the first time starts its week then
//! (its leaf is new: joining or creating made it).

use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use openmls::prelude::LeafNodeParameters;
use pli_proto::GroupId;
use rusqlite::{Connection, params};

/// How long a leaf is used before it is replaced.
pub const ROTATE_AFTER_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How many messages this device sends in a conversation before it replaces its leaf.
pub const ROTATE_AFTER_MESSAGES: u64 = 1_000;

/// Counts one message sent to `group` (the send path calls it once the server accepted it).
pub(crate) fn count_sent(conn: &Connection, group: &GroupId) -> Result<(), ClientError> {
    conn.prepare_cached("UPDATE leaf_rotations SET sent = sent + 1 WHERE group_id = ?1")?
        .execute([group.as_bytes()])?;
    Ok(())
}

/// Makes every conversation's rotation due now: a device of this account was linked or
/// removed.
pub(crate) fn rotate_all_soon(conn: &Connection) -> Result<(), ClientError> {
    conn.execute("UPDATE leaf_rotations SET rotated_ms = 0", [])?;
    Ok(())
}

/// The active, trusted conversations whose rotation is due at `now_ms`; conversations seen
/// for the first time start their schedule.
pub(crate) fn due(conn: &Connection, now_ms: u64) -> Result<Vec<GroupId>, ClientError> {
    conn.execute(
        "INSERT OR IGNORE INTO leaf_rotations (group_id, rotated_ms, sent)
         SELECT group_id, ?1, 0 FROM conversations WHERE active = 1",
        [now_ms as i64],
    )?;
    let mut st = conn.prepare(
        "SELECT r.group_id FROM leaf_rotations r JOIN conversations c ON c.group_id = r.group_id
         WHERE c.active = 1 AND c.untrusted = 0 AND c.pending = 0
           AND (r.rotated_ms <= ?1 OR r.sent >= ?2)",
    )?;
    let ids = st
        .query_map(
            params![
                now_ms.saturating_sub(ROTATE_AFTER_MS) as i64,
                ROTATE_AFTER_MESSAGES as i64
            ],
            |r| r.get::<_, Vec<u8>>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    ids.iter()
        .map(|id| GroupId::from_bytes(id).map_err(|_| ClientError::corrupt("group id")))
        .collect()
}

fn rotated(conn: &Connection, group: &GroupId, now_ms: u64) -> Result<(), ClientError> {
    conn.execute(
        "UPDATE leaf_rotations SET rotated_ms = ?2, sent = 0 WHERE group_id = ?1",
        params![group.as_bytes(), now_ms as i64],
    )?;
    Ok(())
}

impl Client {
    /// Replaces this device's leaf in every conversation where that is due. A network
    /// failure stops here (the rest stay due); a conversation whose commit fails otherwise
    /// (a member not verified, a race lost too often) stays due for the next sync.
    pub(crate) async fn rotate_due_leaves(&mut self) -> Result<(), ClientError> {
        for group in due(&self.conn, local::now_ms())? {
            match self.rotate_leaf(&group).await {
                Ok(()) => rotated(&self.conn, &group, local::now_ms())?,
                Err(err) if err.is_retryable() => return Err(err),
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Commits a self-update of this device's leaf in `group`.
    pub async fn rotate_leaf(&mut self, group: &GroupId) -> Result<(), ClientError> {
        self.commit(group, |mls_group, provider, signer| {
            let (commit, _, _) = mls_group
                .self_update(provider, signer, LeafNodeParameters::default())
                .map_err(ClientError::mls)?
                .into_messages();
            Ok(Some((commit, None)))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(group: &GroupId) -> (tempfile::TempDir, Connection) {
        let home = tempfile::tempdir().expect("temp dir");
        let conn = local::open(home.path()).expect("open");
        local::insert_conversation(
            &conn,
            &local::Conversation {
                id: group.clone(),
                name: String::new(),
                direct: false,
                peer: None,
                active: true,
            },
            0,
        )
        .expect("conversation");
        (home, conn)
    }

    #[test]
    fn a_leaf_is_due_after_a_week_or_a_thousand_messages_or_a_device_change() {
        let group = GroupId::from_bytes(&[3; 16]).expect("id");
        let (_home, conn) = home_with(&group);
        let start = 1_000_000_000_000;
        assert!(due(&conn, start).expect("due").is_empty(), "a new leaf");
        assert!(
            due(&conn, start + ROTATE_AFTER_MS - 1)
                .expect("due")
                .is_empty()
        );
        assert_eq!(
            due(&conn, start + ROTATE_AFTER_MS).expect("due"),
            vec![group.clone()]
        );
        rotated(&conn, &group, start).expect("rotated");
        for _ in 0..ROTATE_AFTER_MESSAGES - 1 {
            count_sent(&conn, &group).expect("count");
        }
        assert!(due(&conn, start + 1).expect("due").is_empty());
        count_sent(&conn, &group).expect("count");
        assert_eq!(due(&conn, start + 1).expect("due"), vec![group.clone()]);
        rotated(&conn, &group, start).expect("rotated");
        rotate_all_soon(&conn).expect("device change");
        assert_eq!(due(&conn, start + 1).expect("due"), vec![group]);
    }
}
