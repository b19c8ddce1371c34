//! Retention: what each region's policy no longer allows keeping is deleted, on a timer
//! and on demand (`POST /admin/v1/retention`). Time comes from the server's clock, so
//! tests move it instead of waiting. With several nodes, one holds the lease and sweeps.
//!
//! A sweep deletes queued messages older than their region's time-to-live, erases what is
//! left of accounts deleted longer ago than their region keeps them (their names become
//! free), and drops preservation orders that ran out; an account under a preservation
//! order keeps both its queue and its facts. The server keeps no IP addresses in any
//! region today, so the policies' IP periods have nothing to act on.

use crate::governance::rules::Policy;
use crate::http::AppState;
use crate::store::{Cutoffs, Retention, RetentionReport, Store, StoreError};
use std::time::Duration;

const DAY_MS: u64 = 86_400_000;

/// Sweeps every region once, each under its own policy.
pub async fn sweep<S: Store>(state: &AppState<S>) -> Result<RetentionReport, StoreError> {
    let now_ms = state.clock.now_ms();
    let today = state.clock.today();
    let cutoffs = |policy: &Policy| Cutoffs {
        queue_before_ms: now_ms.saturating_sub(u64::from(policy.queue_ttl_days) * DAY_MS),
        deleted_through_day: today - i64::from(policy.deleted_retention_days),
    };
    let policies = &state.governance.policies;
    let retention = Retention {
        now_ms,
        cutoffs: cutoffs(policies.of(None)),
        by_region: policies
            .by_region
            .iter()
            .map(|(region, policy)| (region.clone(), cutoffs(policy)))
            .collect(),
    };
    let report = state.store.expire(retention).await?;
    if report != RetentionReport::default() {
        tracing::info!(
            erased = report.erased_accounts.len(),
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
