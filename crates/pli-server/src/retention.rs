//! Retention: what each region's policy no longer allows keeping is deleted, on a timer
//! and on demand (`POST /admin/v1/retention`). Time comes from the server's clock, so
//! tests move it instead of waiting. With several nodes, one holds the lease and sweeps.
//!
//! Today a sweep deletes queued messages older than their region's time-to-live (except
//! those of accounts under a preservation order) and preservation orders that ran out.
//! The server keeps no IP addresses and has no account deletion yet, so the policies'
//! IP and deleted-account periods have nothing to act on.

use crate::http::AppState;
use crate::store::{Retention, RetentionReport, Store, StoreError};
use std::time::Duration;

const DAY_MS: u64 = 86_400_000;

/// Sweeps every region once, each under its own policy.
pub async fn sweep<S: Store>(state: &AppState<S>) -> Result<RetentionReport, StoreError> {
    let now_ms = state.clock.now_ms();
    let before = |days: u32| now_ms.saturating_sub(u64::from(days) * DAY_MS);
    let policies = &state.governance.policies;
    let retention = Retention {
        now_ms,
        queue_before_ms: before(policies.of(None).queue_ttl_days),
        queue_before_by_region: policies
            .by_region
            .iter()
            .map(|(region, policy)| (region.clone(), before(policy.queue_ttl_days)))
            .collect(),
    };
    let report = state.store.expire(retention).await?;
    if report != RetentionReport::default() {
        tracing::info!(
            expired = report.expired_queue_entries,
            held = report.held_queue_entries,
            holds = report.expired_holds,
            "retention sweep"
        );
    }
    Ok(report)
}

/// Sweeps every `interval` on the holder of the `retention` lease, until shutdown.
pub async fn run<S: Store>(state: AppState<S>, interval: Duration) {
    let mut stop = std::pin::pin!(crate::stopped(state.shutdown_signal()));
    let mut ticks = tokio::time::interval(interval);
    let holder: u64 = rand::random();
    let lease_ms = (interval * crate::LEASE_SWEEPS).as_millis() as u64;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let now_ms = state.clock.now_ms();
                match state.store.claim_lease("retention", holder, now_ms, lease_ms).await {
                    Ok(true) => {
                        if let Err(err) = sweep(&state).await {
                            tracing::warn!(error = %err, "retention sweep failed");
                        }
                    }
                    Ok(false) => {}
                    Err(err) => tracing::warn!(error = %err, "cannot take the retention lease"),
                }
            }
            () = &mut stop => return,
        }
    }
}
