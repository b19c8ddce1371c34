//! What the nodes on one store share beside the data: leases on background jobs, so several
//! nodes on one database run each job once, and server secrets, so they sign and key alike.

use super::error::StoreError;
use std::future::Future;

/// Job leases and server secrets, as domain operations.
pub trait LeaseStore: Send + Sync {
    /// Takes or renews the lease on a background job for `ttl_ms`: true if `holder` now
    /// holds it (it held it already, or the last holder's lease ran out). Several nodes on
    /// one database run each job once, on the lease holder.
    fn claim_lease(
        &self,
        job: &str,
        holder: u64,
        now_ms: u64,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives up `holder`'s lease on `job` (a node shutting down), so the next node — or this
    /// one restarted — takes the job at once instead of when the lease runs out. Another
    /// holder's lease is left alone.
    fn release_lease(
        &self,
        job: &str,
        holder: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A 32-byte server secret by name, created at random on first use; every node on the
    /// same store gets the same bytes.
    fn server_secret(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<[u8; 32], StoreError>> + Send;
}
