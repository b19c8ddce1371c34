//! [`Regional`] as a [`LeaseStore`]: leases and secrets live in the global store.

use super::Regional;
use crate::store::{LeaseStore, Store, StoreError};

impl<S: Store> LeaseStore for Regional<S> {
    async fn claim_lease(
        &self,
        job: &str,
        holder: u64,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        self.global().claim_lease(job, holder, now_ms, ttl_ms).await
    }

    async fn release_lease(&self, job: &str, holder: u64) -> Result<(), StoreError> {
        self.global().release_lease(job, holder).await
    }

    async fn server_secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        self.global().server_secret(name).await
    }
}
