//! openmls's state in the device's SQLite database: pli's own `StorageProvider`.
//!
//! The tables are the ones `openmls_sqlite_storage` creates (its migrations still run, in
//! `mls::migrate`), row for row, so a home written before this module reads as it was. Two
//! things differ from that crate's provider, both found profiling a commit's processing
//! (BENCHMARKS.md):
//! - statements come from the connection's statement cache; that provider parses each
//!   statement anew on every call, 15 % of a 10-member group's commit;
//! - values are MessagePack behind a one-byte mark ([`PACKED`]) instead of JSON. JSON
//!   writes every byte of a key, secret or hash as a decimal number: encoding was half of a
//!   1,000-member commit, three quarters of it on openmls's in-memory provider. A value
//!   written as JSON by an earlier pli still decodes (no JSON text starts with the mark);
//!   openmls rewrites it in the new form the next time it stores it.
//!
//! Keys stay JSON: rows are found by comparing key bytes, so a key must encode exactly as
//! it always has. Values keep field names (a later openmls that adds a defaulted field
//! still reads what an earlier one wrote, as it would from JSON), and byte vectors are
//! written as MessagePack binaries (`BytesMode::ForceIterables`) rather than arrays of
//! numbers: the past epochs' member lists alone made the per-byte encoding a fifth of a
//! 100-member commit. A binary reads back into a `Vec<u8>` through `deserialize_seq`; it
//! would not through serde's buffered (`untagged`, `flatten`) paths, which openmls uses
//! only for `PastEpochDeletionPolicy`, a number or a unit variant. A group's values are
//! rewritten with `ON CONFLICT DO UPDATE`, in place, rather than `INSERT OR REPLACE`
//! (a delete and an insert, each in the table and in its key index).

use openmls_traits::storage::CURRENT_VERSION;
use rmp_serde::config::BytesMode;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Params, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The storage version openmls asks for, stored in every row as `provider_version`.
const VERSION: u16 = CURRENT_VERSION;

/// First byte of a value in pli's encoding. JSON text starts with whitespace or one of
/// `{["-0123456789tfn`, never with this byte.
pub const PACKED: u8 = 0x01;

/// Decoding a stored value failed: reported as a SQLite conversion failure, so callers see
/// one storage error type, as with `openmls_sqlite_storage`.
fn decode_failed(err: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, Type::Blob, Box::new(err))
}

fn encode_failed(err: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(err))
}

/// A key as the rows hold it (JSON, as `openmls_sqlite_storage` with pli's JSON codec wrote it).
pub fn key<K: Serialize + ?Sized>(key: &K) -> rusqlite::Result<Vec<u8>> {
    serde_json::to_vec(key).map_err(encode_failed)
}

/// A value in pli's encoding: [`PACKED`], then MessagePack with field names.
pub fn pack<V: Serialize + ?Sized>(value: &V) -> rusqlite::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    out.push(PACKED);
    let mut packer = rmp_serde::Serializer::new(&mut out)
        .with_struct_map()
        .with_bytes(BytesMode::ForceIterables);
    value.serialize(&mut packer).map_err(encode_failed)?;
    Ok(out)
}

/// A stored value, in pli's encoding or (written before it) JSON.
pub fn unpack<V: DeserializeOwned>(bytes: &[u8]) -> rusqlite::Result<V> {
    match bytes.split_first() {
        Some((&PACKED, packed)) => rmp_serde::from_slice(packed).map_err(decode_failed),
        _ => serde_json::from_slice(bytes).map_err(decode_failed),
    }
}

/// The statements of a table holding one value per key.
struct Keyed {
    get: &'static str,
    put: &'static str,
    delete: &'static str,
}

const SIGNATURE_KEYS: Keyed = Keyed {
    get: "SELECT signature_key FROM openmls_signature_keys
          WHERE public_key = ?1 AND provider_version = ?2",
    put:
        "INSERT OR REPLACE INTO openmls_signature_keys (public_key, signature_key, provider_version)
          VALUES (?1, ?2, ?3)",
    delete: "DELETE FROM openmls_signature_keys WHERE public_key = ?1 AND provider_version = ?2",
};

const ENCRYPTION_KEYS: Keyed = Keyed {
    get: "SELECT key_pair FROM openmls_encryption_keys
          WHERE public_key = ?1 AND provider_version = ?2",
    put: "INSERT OR REPLACE INTO openmls_encryption_keys (public_key, key_pair, provider_version)
          VALUES (?1, ?2, ?3)",
    delete: "DELETE FROM openmls_encryption_keys WHERE public_key = ?1 AND provider_version = ?2",
};

const KEY_PACKAGES: Keyed = Keyed {
    get: "SELECT key_package FROM openmls_key_packages
          WHERE key_package_ref = ?1 AND provider_version = ?2",
    put: "INSERT OR REPLACE INTO openmls_key_packages (key_package_ref, key_package, provider_version)
          VALUES (?1, ?2, ?3)",
    delete: "DELETE FROM openmls_key_packages WHERE key_package_ref = ?1 AND provider_version = ?2",
};

const PSKS: Keyed = Keyed {
    get: "SELECT psk_bundle FROM openmls_psks WHERE psk_id = ?1 AND provider_version = ?2",
    put: "INSERT OR REPLACE INTO openmls_psks (psk_id, psk_bundle, provider_version)
          VALUES (?1, ?2, ?3)",
    delete: "DELETE FROM openmls_psks WHERE psk_id = ?1 AND provider_version = ?2",
};

/// One group's values of one kind (`data_type`) in `openmls_group_data`.
const GROUP_DATA: Keyed = Keyed {
    get: "SELECT group_data FROM openmls_group_data
          WHERE group_id = ?1 AND data_type = ?2 AND provider_version = ?3",
    put: "INSERT INTO openmls_group_data (group_id, data_type, group_data, provider_version)
          VALUES (?1, ?2, ?3, ?4)
          ON CONFLICT (group_id, data_type) DO UPDATE
          SET group_data = excluded.group_data, provider_version = excluded.provider_version",
    delete: "DELETE FROM openmls_group_data
             WHERE group_id = ?1 AND data_type = ?2 AND provider_version = ?3",
};

const EPOCH_KEYS: Keyed = Keyed {
    get: "SELECT key_pairs FROM openmls_epoch_keys_pairs
          WHERE group_id = ?1 AND epoch_id = ?2 AND leaf_index = ?3 AND provider_version = ?4",
    put: "INSERT OR REPLACE INTO openmls_epoch_keys_pairs
              (group_id, epoch_id, leaf_index, key_pairs, provider_version)
          VALUES (?1, ?2, ?3, ?4, ?5)",
    delete: "DELETE FROM openmls_epoch_keys_pairs
             WHERE group_id = ?1 AND epoch_id = ?2 AND leaf_index = ?3 AND provider_version = ?4",
};

const LEAF_NODES_GET: &str = "SELECT leaf_node FROM openmls_own_leaf_nodes
    WHERE group_id = ?1 AND provider_version = ?2 ORDER BY id";
const LEAF_NODES_ADD: &str = "INSERT INTO openmls_own_leaf_nodes (group_id, leaf_node, provider_version) VALUES (?1, ?2, ?3)";
const LEAF_NODES_DELETE: &str =
    "DELETE FROM openmls_own_leaf_nodes WHERE group_id = ?1 AND provider_version = ?2";

/// Proposal references are keys (a removal finds its row by them), so they are JSON.
const PROPOSALS_GET: &str = "SELECT proposal_ref, proposal FROM openmls_proposals
    WHERE group_id = ?1 AND provider_version = ?2";
const PROPOSAL_REFS_GET: &str = "SELECT proposal_ref FROM openmls_proposals
    WHERE group_id = ?1 AND provider_version = ?2";
const PROPOSALS_ADD: &str = "INSERT OR IGNORE INTO openmls_proposals
    (group_id, proposal_ref, proposal, provider_version) VALUES (?1, ?2, ?3, ?4)";
const PROPOSAL_DELETE: &str = "DELETE FROM openmls_proposals
    WHERE group_id = ?1 AND proposal_ref = ?2 AND provider_version = ?3";
const PROPOSALS_DELETE: &str =
    "DELETE FROM openmls_proposals WHERE group_id = ?1 AND provider_version = ?2";

/// openmls's storage on one connection; its writes land in whatever transaction the
/// connection has open.
pub struct MlsStore<'a> {
    conn: &'a Connection,
}

impl<'a> MlsStore<'a> {
    pub fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    fn run(&self, sql: &str, params: impl Params) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute(params)?;
        Ok(())
    }

    fn one<V: DeserializeOwned>(
        &self,
        sql: &str,
        params: impl Params,
    ) -> rusqlite::Result<Option<V>> {
        self.conn
            .prepare_cached(sql)?
            .query_row(params, |r| unpack(r.get_ref(0)?.as_blob()?))
            .optional()
    }

    fn all<V: DeserializeOwned>(&self, sql: &str, params: impl Params) -> rusqlite::Result<Vec<V>> {
        self.conn
            .prepare_cached(sql)?
            .query_map(params, |r| unpack(r.get_ref(0)?.as_blob()?))?
            .collect()
    }

    fn keyed_get<K: Serialize, V: DeserializeOwned>(
        &self,
        table: &Keyed,
        k: &K,
    ) -> rusqlite::Result<Option<V>> {
        self.one(table.get, params![key(k)?, VERSION])
    }

    fn keyed_put<K: Serialize, V: Serialize + ?Sized>(
        &self,
        table: &Keyed,
        k: &K,
        value: &V,
    ) -> rusqlite::Result<()> {
        self.run(table.put, params![key(k)?, pack(value)?, VERSION])
    }

    fn keyed_delete<K: Serialize>(&self, table: &Keyed, k: &K) -> rusqlite::Result<()> {
        self.run(table.delete, params![key(k)?, VERSION])
    }

    fn group_get<G: Serialize, V: DeserializeOwned>(
        &self,
        group: &G,
        kind: &str,
    ) -> rusqlite::Result<Option<V>> {
        self.one(GROUP_DATA.get, params![key(group)?, kind, VERSION])
    }

    fn group_put<G: Serialize, V: Serialize>(
        &self,
        group: &G,
        kind: &str,
        value: &V,
    ) -> rusqlite::Result<()> {
        self.run(
            GROUP_DATA.put,
            params![key(group)?, kind, pack(value)?, VERSION],
        )
    }

    fn group_delete<G: Serialize>(&self, group: &G, kind: &str) -> rusqlite::Result<()> {
        self.run(GROUP_DATA.delete, params![key(group)?, kind, VERSION])
    }
}

/// The `data_type` names `openmls_sqlite_storage`'s schema allows.
mod kind {
    pub const JOIN_CONFIG: &str = "join_group_config";
    pub const TREE: &str = "tree";
    pub const INTERIM_TRANSCRIPT_HASH: &str = "interim_transcript_hash";
    pub const CONTEXT: &str = "context";
    pub const CONFIRMATION_TAG: &str = "confirmation_tag";
    pub const GROUP_STATE: &str = "group_state";
    pub const MESSAGE_SECRETS: &str = "message_secrets";
    pub const RESUMPTION_PSK_STORE: &str = "resumption_psk_store";
    pub const OWN_LEAF_INDEX: &str = "own_leaf_index";
    pub const GROUP_EPOCH_SECRETS: &str = "group_epoch_secrets";
}

mod provider;

#[cfg(test)]
mod tests;
