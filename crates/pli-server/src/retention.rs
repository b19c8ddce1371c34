//! Retention: what each region's policy no longer allows keeping is deleted, on a timer
//! and on demand (`POST /admin/v1/retention`). Time comes from the server's clock, so
//! tests move it instead of waiting. With several nodes, one holds the lease and sweeps.
//!
//! A sweep deletes queued messages older than their region's time-to-live, erases what is
//! left of accounts deleted longer ago than their region keeps them (their names become
//! free), and drops preservation orders that ran out; an account under a preservation
//! order keeps both its queue and its facts. Connection IP addresses, recorded only for
//! regions whose policy keeps them ([`record_connection`]), go after that policy's days.
//! Abuse reports go `report_retention_days` after they were filed, in each region under its
//! own policy, whatever became of the accounts they name.

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

use crate::governance::rules::{Policies, Policy};
use crate::state::AppState;
use crate::store::{Cutoffs, ReportCutoffs, Retention, RetentionReport, Store, StoreError};

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
    let mut report = state.store.expire(retention).await?;
    report.expired_reports = state
        .store
        .expire_reports(report_cutoffs(policies, today))
        .await?;
    if report != RetentionReport::default() {
        tracing::info!(
            erased = report.erased_accounts.len(),
            expired = report.expired_queue_entries,
            held = report.held_queue_entries,
            holds = report.expired_holds,
            ips = report.expired_ips,
            reports = report.expired_reports,
            "retention sweep"
        );
    }
    Ok(report)
}

/// Each region keeps the reports filed in its last `report_retention_days` days (on `today`
/// itself and the days before it): a report filed more than that many days ago goes.
fn report_cutoffs(policies: &Policies, today: i64) -> ReportCutoffs {
    let kept_from = |policy: &Policy| {
        let day = today - i64::from(policy.report_retention_days);
        u32::try_from(day.max(0)).unwrap_or(u32::MAX)
    };
    ReportCutoffs {
        filed_before_day: kept_from(policies.of(None)),
        by_region: policies
            .by_region
            .iter()
            .map(|(region, policy)| (region.clone(), kept_from(policy)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pli_proto::Region;

    #[test]
    fn each_region_deletes_reports_older_than_its_own_period() {
        let region = |name: &str| Region::parse(name).expect("region");
        let mut eu = Policy::for_region(&region("eu"));
        eu.report_retention_days = 30;
        let us = Policy::for_region(&region("us"));
        let policies = Policies {
            default_region: region("us"),
            by_region: [(region("eu"), eu), (region("us"), us)].into(),
        };
        let cutoffs = report_cutoffs(&policies, 20_400);
        // Filed on day 20370, 30 days ago: kept; the day before goes.
        assert_eq!(cutoffs.for_region(&region("eu")), 20_370);
        assert_eq!(cutoffs.for_region(&region("us")), 20_400 - 365);
        assert_eq!(
            cutoffs.filed_before_day,
            20_400 - 365,
            "the default region's"
        );
        // A period longer than the epoch keeps everything.
        assert_eq!(report_cutoffs(&policies, 10).for_region(&region("us")), 0);
    }
}
