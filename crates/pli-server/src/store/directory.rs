//! The key directory's records as a store keeps them (`crate::directory` adapts them to
//! akd's storage interface).
//!
//! akd asks for three kinds of record: its one `Azks` header and tree nodes, fetched by
//! id, and value states, fetched by label and epoch. A backend keeps the first two as
//! opaque bytes by id and the third with its label, epoch and version as columns, so the
//! lookups akd makes are index scans. The directory is global (one tree, one root per
//! epoch): it lives in the global store beside the username index.

use crate::store::StoreError;
use pli_proto::Username;
use pli_proto::kt::Endorsement;

/// An endorsement as a column holds it: the endorsing device's id (8 bytes, big-endian),
/// then its 64-byte signature.
pub fn endorsement_to_row(endorsement: &Endorsement) -> Vec<u8> {
    let mut row = endorsement.by.get().to_be_bytes().to_vec();
    row.extend_from_slice(&endorsement.signature);
    row
}

/// Reads an endorsement column written by [`endorsement_to_row`].
pub fn endorsement_from_row(row: Option<Vec<u8>>) -> Result<Option<Endorsement>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let bad = || StoreError::Backend("invalid endorsement row".into());
    if row.len() != 72 {
        return Err(bad());
    }
    let (by, signature) = row.split_at(8);
    let by = u64::from_be_bytes(by.try_into().map_err(|_| bad())?);
    Ok(Some(Endorsement {
        by: pli_proto::DeviceId::new(by).map_err(|_| bad())?,
        signature: signature.try_into().map_err(|_| bad())?,
    }))
}

/// One value state: a user's device set as published in `epoch`, as version `version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KtState {
    pub label: Vec<u8>,
    pub epoch: u64,
    pub version: u64,
    pub data: Vec<u8>,
}

/// A tree record as stored: (akd binary id, encoded record).
pub type KtNodeRow = (Vec<u8>, Vec<u8>);

/// A record akd writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KtRecord {
    /// The `Azks` header or a tree node, by its akd binary id.
    Node {
        id: Vec<u8>,
        data: Vec<u8>,
    },
    State(KtState),
}

/// Users whose device set changed since the last epoch, up to change number `through`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KtPending {
    pub through: u64,
    pub users: Vec<Username>,
}

/// A published epoch: its root hash and signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KtRoot {
    pub epoch: u64,
    pub root: [u8; 32],
    pub note: String,
}
