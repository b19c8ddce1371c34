//! The key directory's records as a store keeps them (`crate::directory` adapts them to
//! akd's storage interface).
//!
//! akd asks for three kinds of record: its one `Azks` header and tree nodes, fetched by
//! id, and value states, fetched by label and epoch. A backend keeps the first two as
//! opaque bytes by id and the third with its label, epoch and version as columns, so the
//! lookups akd makes are index scans. The directory is global (one tree, one root per
//! epoch): it lives in the global store beside the username index.

use super::error::StoreError;
use pli_proto::Username;
use pli_proto::kt::Endorsement;
use std::future::Future;

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

/// The key directory's records (global store): akd's records, the users whose devices
/// changed since the last epoch, and each epoch's signed root.
pub trait DirectoryStore: Send + Sync {
    /// Writes akd's records in one transaction, replacing records with the same id.
    fn kt_write(
        &self,
        records: Vec<KtRecord>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The stored `Node` records among `ids`, as (id, data); absent ids are left out.
    fn kt_nodes(
        &self,
        ids: Vec<Vec<u8>>,
    ) -> impl Future<Output = Result<Vec<KtNodeRow>, StoreError>> + Send;

    /// Every value state of `label`, oldest epoch first.
    fn kt_states(
        &self,
        label: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<KtState>, StoreError>> + Send;

    /// For each of `labels`, its newest value state at or before `max_epoch`, if any.
    fn kt_latest_states(
        &self,
        labels: Vec<Vec<u8>>,
        max_epoch: u64,
    ) -> impl Future<Output = Result<Vec<KtState>, StoreError>> + Send;

    /// Notes that these users' device sets changed (published at the next epoch).
    fn kt_mark(&self, users: Vec<Username>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The users noted since the last published epoch.
    fn kt_pending(&self) -> impl Future<Output = Result<KtPending, StoreError>> + Send;

    /// True if `user`'s latest change awaits publication.
    fn kt_is_pending(
        &self,
        user: &Username,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a published epoch's root (once; a repeat is ignored) and forgets the changes
    /// up to `through`, in one transaction.
    fn kt_published(
        &self,
        through: u64,
        root: KtRoot,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Published roots of epochs `from..from + limit`, in order.
    fn kt_roots(
        &self,
        from: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<KtRoot>, StoreError>> + Send;
}
