//! Loaded MLS groups kept between messages.
//!
//! `MlsGroup::load` decodes a group's whole state (its ratchet tree above all) from the
//! local database. For a 1,000-member group that is about half of what receiving a commit
//! costs, and nearly all of what encrypting or decrypting one message costs, so the
//! client keeps recently used groups in memory.
//!
//! The database stays the truth. Triggers on openmls's per-group tables bump a version
//! counter in the same transaction as any change to a group's state, whoever makes it:
//! this client, a code path that loads the group itself, or another process on the same
//! home. A cached group is used only while its recorded version is still the one in the
//! database; otherwise it is dropped and loaded afresh. A group is taken out of the cache
//! for the length of one transaction and put back only once that transaction has
//! committed, so a rolled-back change (whose in-memory effects cannot be undone) never
//! returns to the cache.

use crate::error::ClientError;
use openmls::prelude::{GroupId, MlsGroup};
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;

/// Groups kept at most. A 10,000-member group's state is tens of megabytes in memory;
/// a few recently used groups cover a conversation burst without holding every group a
/// user is in.
pub const CAPACITY: usize = 8;

/// openmls's tables that hold a group's state (what `MlsGroup::load` reads), each keyed by
/// a `group_id` column.
const GROUP_TABLES: [&str; 3] = [
    "openmls_group_data",
    "openmls_own_leaf_nodes",
    "openmls_proposals",
];

/// Creates the version table and triggers if they are missing. Run at every open, not as
/// a one-time migration: an openmls storage migration that rebuilds one of its tables
/// drops the triggers on it, and a cache that missed changes would reuse ratchet keys.
pub(crate) fn ensure_version_triggers(conn: &Connection) -> rusqlite::Result<()> {
    let mut sql = String::from(
        "CREATE TABLE IF NOT EXISTS mls_group_versions (
             group_key BLOB PRIMARY KEY,
             version   INTEGER NOT NULL
         ) WITHOUT ROWID;",
    );
    for table in GROUP_TABLES {
        for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS {table}_{event} AFTER {event} ON {table} BEGIN
                     INSERT INTO mls_group_versions VALUES ({row}.group_id, 1)
                     ON CONFLICT (group_key) DO UPDATE SET version = version + 1;
                 END;"
            ));
        }
    }
    conn.execute_batch(&sql)
}

struct Entry {
    group: MlsGroup,
    version: i64,
    last_used: u64,
}

/// A group changed inside a transaction, with the version that transaction gives it;
/// [`GroupCache::put`] it once the transaction has committed.
pub(crate) struct Stamped {
    group: MlsGroup,
    version: i64,
}

/// Recently used groups of one device, each with the state version it was loaded at.
#[derive(Default)]
pub struct GroupCache {
    entries: HashMap<Vec<u8>, Entry>,
    clock: u64,
    hits: u64,
    loads: u64,
}

impl GroupCache {
    /// The group as of `conn`'s transaction, taken out of the cache if its version is
    /// current there, else loaded. `None` if this device has no such group.
    pub(crate) fn take(
        &mut self,
        conn: &Connection,
        storage: &crate::mls::Storage<'_>,
        id: &GroupId,
    ) -> Result<Option<MlsGroup>, ClientError> {
        let version = version(conn, id)?;
        if let Some(entry) = self.entries.remove(id.as_slice())
            && entry.version == version
        {
            self.hits += 1;
            return Ok(Some(entry.group));
        }
        self.loads += 1;
        Ok(MlsGroup::load(storage, id)?)
    }

    /// Records the version `conn`'s open transaction has given `group`.
    pub(crate) fn stamp(conn: &Connection, group: MlsGroup) -> Result<Stamped, ClientError> {
        let version = version(conn, group.group_id())?;
        Ok(Stamped { group, version })
    }

    /// Keeps a group whose transaction has committed, evicting the least recently used
    /// group past [`CAPACITY`].
    pub(crate) fn put(&mut self, stamped: Stamped) {
        self.clock += 1;
        let key = stamped.group.group_id().as_slice().to_vec();
        self.entries.insert(
            key,
            Entry {
                group: stamped.group,
                version: stamped.version,
                last_used: self.clock,
            },
        );
        if self.entries.len() > CAPACITY {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
    }

    /// Groups served from memory, and groups loaded from the database, so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.loads)
    }
}

/// The group's state version in `conn`'s view: 0 for a group no trigger has seen.
fn version(conn: &Connection, id: &GroupId) -> Result<i64, ClientError> {
    let key = crate::mls_store::key(id)?;
    Ok(conn
        .prepare_cached("SELECT version FROM mls_group_versions WHERE group_key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mls::{self, Provider};
    use openmls::prelude::{LeafNodeParameters, OpenMlsProvider as _};
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::RustCrypto;
    use pli_proto::{DeviceId, Username};

    struct Home {
        dir: tempfile::TempDir,
        crypto: RustCrypto,
        signer: SignatureKeyPair,
    }

    impl Home {
        fn new() -> Self {
            Self {
                dir: tempfile::tempdir().expect("temp dir"),
                crypto: RustCrypto::default(),
                signer: mls::new_signer().expect("signer"),
            }
        }

        fn open(&self) -> Connection {
            crate::local::open(self.dir.path()).expect("open")
        }

        /// A new group of one, committed; returns its id.
        fn create_group(&self, conn: &Connection) -> GroupId {
            let tx = conn.unchecked_transaction().expect("tx");
            let provider = Provider::new(&self.crypto, &tx);
            let user = Username::parse("alice").expect("username");
            let credential = mls::credential(&user, DeviceId::new(1).expect("id"), &self.signer);
            let id = GroupId::from_slice(&rand::random::<[u8; 16]>());
            MlsGroup::new_with_group_id(
                &provider,
                &self.signer,
                &mls::create_config(),
                id.clone(),
                credential,
            )
            .expect("group");
            tx.commit().expect("commit");
            id
        }

        /// Takes the group through `cache` and puts it back, as the hot paths do.
        fn use_cached(&self, cache: &mut GroupCache, conn: &Connection, id: &GroupId) -> u64 {
            let tx = conn.unchecked_transaction().expect("tx");
            let storage = mls::Storage::new(&tx);
            let group = cache
                .take(&tx, &storage, id)
                .expect("take")
                .expect("a group");
            let epoch = group.epoch().as_u64();
            let keep = GroupCache::stamp(&tx, group).expect("stamp");
            tx.commit().expect("commit");
            cache.put(keep);
            epoch
        }

        /// Moves the group to its next epoch without the cache, in its own transaction.
        fn commit_elsewhere(&self, conn: &Connection, id: &GroupId) {
            let tx = conn.unchecked_transaction().expect("tx");
            let provider = Provider::new(&self.crypto, &tx);
            let mut group = MlsGroup::load(provider.storage(), id)
                .expect("load")
                .expect("a group");
            self.next_epoch(&provider, &mut group);
            tx.commit().expect("commit");
        }

        /// Commits an update of this device's own leaf and merges it.
        fn next_epoch(&self, provider: &Provider<'_>, group: &mut MlsGroup) {
            group
                .self_update(provider, &self.signer, LeafNodeParameters::default())
                .expect("self update");
            group.merge_pending_commit(provider).expect("merge");
        }
    }

    #[test]
    fn a_cached_group_is_served_until_another_connection_changes_it() {
        let home = Home::new();
        let conn = home.open();
        let id = home.create_group(&conn);
        let mut cache = GroupCache::default();

        assert_eq!(home.use_cached(&mut cache, &conn, &id), 0);
        assert_eq!(home.use_cached(&mut cache, &conn, &id), 0);
        assert_eq!(cache.stats(), (1, 1), "the second use came from memory");

        // Another process on the same home (or a code path without the cache) commits.
        home.commit_elsewhere(&home.open(), &id);
        assert_eq!(
            home.use_cached(&mut cache, &conn, &id),
            1,
            "the stale copy was dropped and the new epoch loaded"
        );
        assert_eq!(cache.stats(), (1, 2));
    }

    #[test]
    fn a_group_taken_but_not_put_back_is_loaded_again() {
        let home = Home::new();
        let conn = home.open();
        let id = home.create_group(&conn);
        let mut cache = GroupCache::default();
        home.use_cached(&mut cache, &conn, &id);

        // A transaction that changes the group in memory, then rolls back.
        let tx = conn.unchecked_transaction().expect("tx");
        let provider = Provider::new(&home.crypto, &tx);
        let mut group = cache
            .take(&tx, provider.storage(), &id)
            .expect("take")
            .expect("a group");
        home.next_epoch(&provider, &mut group);
        drop(tx);

        assert_eq!(home.use_cached(&mut cache, &conn, &id), 0);
        assert_eq!(cache.stats(), (1, 2), "loaded, not served from memory");
    }

    #[test]
    fn the_least_recently_used_group_leaves_first() {
        let home = Home::new();
        let conn = home.open();
        let ids: Vec<GroupId> = (0..=CAPACITY).map(|_| home.create_group(&conn)).collect();
        let mut cache = GroupCache::default();
        for id in &ids {
            home.use_cached(&mut cache, &conn, id);
        }
        assert_eq!(cache.entries.len(), CAPACITY);
        home.use_cached(&mut cache, &conn, &ids[CAPACITY]);
        assert_eq!(cache.stats(), (1, CAPACITY as u64 + 1));
        home.use_cached(&mut cache, &conn, &ids[0]);
        assert_eq!(
            cache.stats(),
            (1, CAPACITY as u64 + 2),
            "the first group was evicted"
        );
    }

    #[test]
    fn dropped_triggers_come_back_when_the_home_is_opened() {
        let home = Home::new();
        let conn = home.open();
        let triggers = |conn: &Connection| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'openmls%'",
                [],
                |r| r.get(0),
            )
            .expect("count")
        };
        assert_eq!(triggers(&conn), 9);
        // What rebuilding a table in an openmls storage migration would do.
        conn.execute_batch(
            "DROP TRIGGER openmls_group_data_UPDATE; DROP TRIGGER openmls_proposals_DELETE;",
        )
        .expect("drop");
        assert_eq!(triggers(&home.open()), 9);
    }
}
