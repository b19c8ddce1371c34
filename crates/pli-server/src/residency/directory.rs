//! [`Regional`] as a [`DirectoryStore`]. The key directory is one tree for every region: it
//! lives in the global store.

use super::Regional;
use crate::store::{DirectoryStore, KtPending, KtRecord, KtRoot, KtState, Store, StoreError};
use pli_proto::Username;

impl<S: Store> DirectoryStore for Regional<S> {
    async fn kt_write(&self, records: Vec<KtRecord>) -> Result<(), StoreError> {
        self.global().kt_write(records).await
    }

    async fn kt_nodes(
        &self,
        ids: Vec<Vec<u8>>,
    ) -> Result<Vec<crate::store::KtNodeRow>, StoreError> {
        self.global().kt_nodes(ids).await
    }

    async fn kt_states(&self, label: Vec<u8>) -> Result<Vec<KtState>, StoreError> {
        self.global().kt_states(label).await
    }

    async fn kt_latest_states(
        &self,
        labels: Vec<Vec<u8>>,
        max_epoch: u64,
    ) -> Result<Vec<KtState>, StoreError> {
        self.global().kt_latest_states(labels, max_epoch).await
    }

    async fn kt_mark(&self, users: Vec<Username>) -> Result<(), StoreError> {
        self.global().kt_mark(users).await
    }

    async fn kt_pending(&self) -> Result<KtPending, StoreError> {
        self.global().kt_pending().await
    }

    async fn kt_is_pending(&self, user: &Username) -> Result<bool, StoreError> {
        self.global().kt_is_pending(user).await
    }

    async fn kt_published(&self, through: u64, root: KtRoot) -> Result<(), StoreError> {
        self.global().kt_published(through, root).await
    }

    async fn kt_roots(&self, from: u64, limit: u64) -> Result<Vec<KtRoot>, StoreError> {
        self.global().kt_roots(from, limit).await
    }
}
