//! Retention: what each region's policy no longer allows keeping is deleted, on a timer
//! and on demand (`POST /admin/v1/retention`). Time comes from the server's clock, so
//! tests move it instead of waiting. With several nodes, one holds the lease and sweeps.
//!
//! A sweep deletes queued messages older than their region's time-to-live, erases what is
//! left of accounts deleted longer ago than their region keeps them (their names become
//! free), and drops preservation orders that ran out; an account under a preservation
//! order keeps both its queue and its facts. Connection IP addresses, recorded only for
//! regions whose policy keeps them ([`record_connection`]), go after that policy's days.

/// Records the address a device connected from, if its account's region keeps IP
/// addresses at all (none does by default; nothing is looked up then).
pub async fn record_connection<S: Store>(
    state: &AppState<S>,
    device: pli_proto::DeviceId,
    ip: std::net::IpAddr,
) -> Result<(), StoreError> {
    let policies = &state.governance.policies;
    if !policies.by_region.values().any(Policy::keeps_ip) {
        return Ok(());
    }
    let Some(auth) = state.store.device_auth(device).await? else {
        return Ok(());
    };
    let region = state.store.home_region(&auth.username).await?;
    if policies.of(region.as_ref()).keeps_ip() {
        state
            .store
            .record_ip(&auth.username, &ip.to_string(), state.clock.today())
            .await?;
    }
    Ok(())
}

use crate::governance::rules::Policy;
use crate::state::AppState;
use crate::store::{Cutoffs, Retention, RetentionReport, Store, StoreError};

const DAY_MS: u64 = 86_400_000;

/// Sweeps every region once, each under its own policy.
pub async fn sweep<S: Store>(state: &AppState<S>) -> Result<RetentionReport, StoreError> {
    let now_ms = state.clock.now_ms();
    let today = state.clock.today();
    let cutoffs = |policy: &Policy| Cutoffs {
        queue_before_ms: now_ms.saturating_sub(u64::from(policy.queue_ttl_days) * DAY_MS),
        deleted_through_day: today - i64::from(policy.deleted_retention_days),
        // A region that keeps no IP addresses keeps none of any day.
        ip_before_day: match policy.ip_retention_days {
            Some(days) if days > 0 => today - i64::from(days) + 1,
            _ => i64::MAX,
        },
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
            ips = report.expired_ips,
            "retention sweep"
        );
    }
    Ok(report)
}
