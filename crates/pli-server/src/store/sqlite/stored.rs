//! How long a stored ciphertext lives: exactly as long as some device's queue holds it.
//!
//! A message is stored once however many devices it goes to, and counts the queue rows
//! that point at it (`messages.pending`). Whatever removes queue rows (an ack, a removed
//! device, the retention sweep) takes them off that count, and the removal that reaches
//! zero deletes the message in the same transaction, so an acked ciphertext does not linger
//! until some later collection pass. The count replaced an index of the queue by message
//! (schema migration 9), which cost a B-tree insert and delete per recipient only to answer
//! "does any queue still hold it?".

use super::rows::backend;
use crate::store::error::StoreError;
use rusqlite::{Connection, params};

/// Stores a payload once, counting the `queued` queue rows about to point at it. The id is
/// read back with `last_insert_rowid` rather than `RETURNING`, which makes SQLite open and
/// close a temporary B-tree for every row (a tenth of the writer's time, by profile).
pub(super) fn insert_message(
    conn: &Connection,
    kind: u8,
    payload: &[u8],
    now_ms: u64,
    queued: usize,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages (payload, created_ms, kind, pending) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut st| st.execute(params![payload, now_ms as i64, kind, queued as i64]))
    .map_err(backend)?;
    Ok(conn.last_insert_rowid())
}

/// Takes `entries` removed queue rows off a message's count and deletes the message once
/// no queue holds it: its ciphertext does not outlive its last recipient's ack.
pub(super) fn release(conn: &Connection, message_id: i64, entries: i64) -> Result<(), StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM messages WHERE id = ?1 AND pending <= ?2")
        .and_then(|mut st| st.execute(params![message_id, entries]))
        .map_err(backend)?;
    if deleted == 0 {
        conn.prepare_cached("UPDATE messages SET pending = pending - ?2 WHERE id = ?1")
            .and_then(|mut st| st.execute(params![message_id, entries]))
            .map_err(backend)?;
    }
    Ok(())
}

/// [`release`] for many messages at once: `temp.released` holds each message's id and the
/// number of its queue rows just removed; it is emptied again.
pub(super) fn release_all(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "UPDATE messages SET pending = pending
            - (SELECT r.entries FROM temp.released r WHERE r.id = messages.id)
          WHERE id IN (SELECT id FROM temp.released);
         DELETE FROM messages WHERE id IN (SELECT id FROM temp.released) AND pending <= 0;
         DELETE FROM temp.released;",
    )
    .map_err(backend)
}

/// Takes the queue entries listed in the scratch table `removed` (`device_id`,
/// `message_id`: a name of this crate's, never input) off their queues and their devices'
/// counts, then releases their messages ([`release_all`]) and empties `removed`: the
/// retention sweep and the disappearing-message sweep alike.
pub(super) fn take_off_queues(conn: &Connection, removed: &str) -> Result<(), StoreError> {
    prepare_release_all(conn)?;
    conn.execute_batch(&format!(
        "DELETE FROM queue WHERE (device_id, message_id) IN (SELECT device_id, message_id FROM {removed});
         UPDATE queue_lens SET len = len - (SELECT COUNT(*) FROM {removed} e WHERE e.device_id = queue_lens.device_id)
          WHERE device_id IN (SELECT device_id FROM {removed});
         INSERT INTO temp.released (id, entries)
           SELECT message_id, COUNT(*) FROM {removed} GROUP BY message_id;
         DELETE FROM {removed};"
    ))
    .map_err(backend)?;
    release_all(conn)
}

/// Creates the per-connection scratch table [`release_all`] reads.
pub(super) fn prepare_release_all(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS released (id INTEGER PRIMARY KEY, entries INTEGER NOT NULL)",
    )
    .map_err(backend)
}

#[cfg(test)]
mod tests {
    use crate::store::conformance::{dev, group, name, register, submission};
    use crate::store::prelude::*;
    use crate::store::{Cutoffs, EpochRule, Retention, SqliteStore};
    use pli_proto::frame::KIND_MLS;
    use rusqlite::Connection;
    use std::collections::BTreeMap;

    /// Every stored message as (id, its count, the queue rows that really point at it).
    fn stored(store: &SqliteStore) -> Vec<(u64, i64, i64)> {
        let conn = Connection::open(store.path()).expect("open");
        let mut st = conn
            .prepare(
                "SELECT id, pending, (SELECT COUNT(*) FROM queue q WHERE q.message_id = m.id)
                 FROM messages m ORDER BY id",
            )
            .expect("prepare");
        st.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
    }

    #[tokio::test]
    async fn a_ciphertext_lives_exactly_as_long_as_a_queue_holds_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("pli.db")).expect("open store");
        for (user, device) in [("alice", 1), ("bob", 2), ("carol", 3)] {
            register(&store, user, device).await;
        }
        let to_all = submission(
            &group(1),
            EpochRule::Commit { epoch: 0 },
            b"all",
            &[1, 2, 3],
        );
        let to_all = store.submit(to_all).await.expect("to all").id;
        let to_bob = submission(&group(1), EpochRule::Application { epoch: 1 }, b"bob", &[2]);
        let to_bob = store.submit(to_bob).await.expect("to bob").id;
        let old = store
            .deliver(KIND_MLS, b"old".to_vec(), vec![dev(1), dev(2)], 100, None)
            .await
            .expect("deliver")
            .expect("queued");
        assert_eq!(
            stored(&store),
            vec![(to_all.0, 3, 3), (to_bob.0, 1, 1), (old.0, 2, 2)]
        );

        // An ack counts once, however often it is repeated.
        for _ in 0..2 {
            store.ack(dev(1), vec![to_all]).await.expect("ack");
        }
        store.ack(dev(2), vec![to_bob]).await.expect("ack");
        assert_eq!(stored(&store), vec![(to_all.0, 2, 2), (old.0, 2, 2)]);

        assert!(
            store
                .remove_device(&name("bob"), dev(2))
                .await
                .expect("remove")
        );
        assert_eq!(stored(&store), vec![(to_all.0, 1, 1), (old.0, 1, 1)]);

        let sweep = Retention {
            now_ms: 2_000,
            cutoffs: Cutoffs {
                queue_before_ms: 1_000,
                deleted_through_day: 0,
                ip_before_day: 0,
            },
            by_region: BTreeMap::new(),
        };
        let report = store.expire(sweep).await.expect("sweep");
        assert_eq!(report.expired_queue_entries, 1);
        assert_eq!(stored(&store), vec![(to_all.0, 1, 1)]);

        store.ack(dev(3), vec![to_all]).await.expect("last ack");
        assert_eq!(
            stored(&store),
            vec![],
            "nothing outlives its last queue entry"
        );
    }
}
