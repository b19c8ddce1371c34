//! The figures read at each scrape rather than counted where they happen: queue depths (each
//! delivery and ack would otherwise update a distribution) and the audit log's size (which
//! other nodes grow too). Read when Prometheus asks, so the store is read as often as the
//! operator scrapes and no more, and a figure is never older than the scrape.
//!
//! Every node reads the whole store, so each reports the cluster's figures: a dashboard
//! takes `max` over nodes, not `sum`.

use crate::state::AppState;
use crate::store::{QUEUE_DEPTH_BOUNDS, QueueDepths, Store};
use std::time::Duration;

/// How long a scrape waits for the store (a scan of one narrow table, a counter per
/// device) before it answers with the figures it last read.
pub const SAMPLE_DEADLINE: Duration = Duration::from_secs(5);

/// Reads the figures and sets their gauges. A store error or a slow store leaves the last
/// figures in place (the rest of the scrape matters more then), logged without detail.
pub async fn sample<S: Store>(state: &AppState<S>) {
    match tokio::time::timeout(SAMPLE_DEADLINE, state.store.queue_depths()).await {
        Ok(Ok(depths)) => publish(&depths),
        Ok(Err(err)) => tracing::warn!(error = err.kind(), "reading queue depths failed"),
        Err(_) => tracing::warn!("reading queue depths timed out"),
    }
    let entries = state.governance.log_size().await;
    metrics::gauge!(super::AUDIT_LOG_ENTRIES).set(entries as f64);
}

/// Sets the queue gauges: the total, then devices per band, the last band being every
/// device (`le="+Inf"`).
fn publish(depths: &QueueDepths) {
    metrics::gauge!(super::QUEUE_MESSAGES).set(depths.queued as f64);
    for (bound, devices) in QUEUE_DEPTH_BOUNDS.iter().zip(depths.at_most) {
        metrics::gauge!(super::QUEUE_DEPTH_DEVICES, "le" => bound.to_string()).set(devices as f64);
    }
    metrics::gauge!(super::QUEUE_DEPTH_DEVICES, "le" => "+Inf").set(depths.devices as f64);
}
