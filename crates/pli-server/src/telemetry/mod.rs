//! Prometheus metrics: what an operator graphs and alerts on, with no personal label.
//!
//! Every label is a route *template*, a method, a status or a fixed kind; never a username, a
//! device, an address or a group. The recorder is the process's one global recorder (the
//! `metrics` crate's macros write to it), installed by the first server the process starts;
//! `GET /metrics` renders it, on the admin listener (and on `--metrics-listen` when set),
//! never on the public one.
//!
//! Most figures are counted where they happen. Queue depths are not (each delivery and ack
//! would have to update a distribution): [`sample`] reads them from the store at each scrape.

pub mod sample;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// HTTP requests handled, by `route` (template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "pli_http_requests_total";
/// Their latency in seconds, by `route` and `method`.
pub const HTTP_SECONDS: &str = "pli_http_request_duration_seconds";
/// Delivery WebSockets open now.
pub const WS_CONNECTIONS: &str = "pli_ws_connections";
/// Messages pushed to connected devices.
pub const PUSHES: &str = "pli_pushes_total";
/// Deliveries acknowledged by devices.
pub const ACKS: &str = "pli_acks_total";
/// The key directory's newest published epoch.
pub const KT_EPOCH: &str = "pli_kt_epoch";
/// Seconds one key directory publication took.
pub const KT_PUBLISH_SECONDS: &str = "pli_kt_publish_duration_seconds";

/// Deliveries waiting in queues now, all devices together.
pub const QUEUE_MESSAGES: &str = "pli_queue_messages";
/// Devices whose queue holds at most `le` deliveries now: a distribution over fixed
/// bounds (`crate::store::QUEUE_DEPTH_BOUNDS`), never a device's own figure.
pub const QUEUE_DEPTH_DEVICES: &str = "pli_queue_depth_devices";
/// Jobs one SQLite writer transaction carried (group commit).
pub const SQLITE_BATCH_JOBS: &str = "pli_sqlite_writer_batch_jobs";
/// Seconds one SQLite writer batch's COMMIT took: with `synchronous = FULL`, the WAL fsync.
pub const SQLITE_COMMIT_SECONDS: &str = "pli_sqlite_commit_duration_seconds";
/// Seconds a PostgreSQL query waited for a connection from the pool.
pub const PG_POOL_WAIT_SECONDS: &str = "pli_pg_pool_wait_duration_seconds";
/// Entries in the audit log, as this node last saw it.
pub const AUDIT_LOG_ENTRIES: &str = "pli_audit_log_entries";

/// Bucket bounds of the writer's batch sizes: one job to its most (`MAX_BATCH`, 1,024).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// Bucket bounds of every `_seconds` histogram: 0.5 ms to 10 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder once per process; `None` when another recorder was installed
/// first (an embedding program's own), and then pli's metrics go to that one.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full(SQLITE_BATCH_JOBS.into()), BATCH_BUCKETS)
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests handled, by route template, method and status"
    );
    metrics::describe_histogram!(
        HTTP_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request latency, by route template and method"
    );
    metrics::describe_gauge!(WS_CONNECTIONS, "delivery WebSockets open now");
    metrics::describe_counter!(PUSHES, "messages pushed to connected devices");
    metrics::describe_counter!(ACKS, "deliveries acknowledged by devices");
    metrics::describe_gauge!(KT_EPOCH, "the key directory's newest published epoch");
    metrics::describe_histogram!(
        KT_PUBLISH_SECONDS,
        metrics::Unit::Seconds,
        "time one key directory publication took"
    );
    metrics::describe_gauge!(QUEUE_MESSAGES, "deliveries waiting in queues, all devices");
    metrics::describe_gauge!(
        QUEUE_DEPTH_DEVICES,
        "devices whose queue holds at most le deliveries"
    );
    metrics::describe_histogram!(
        SQLITE_BATCH_JOBS,
        "jobs one SQLite writer transaction carried"
    );
    metrics::describe_histogram!(
        SQLITE_COMMIT_SECONDS,
        metrics::Unit::Seconds,
        "time one SQLite writer commit (its WAL fsync) took"
    );
    metrics::describe_histogram!(
        PG_POOL_WAIT_SECONDS,
        metrics::Unit::Seconds,
        "time a PostgreSQL query waited for a pooled connection"
    );
    metrics::describe_gauge!(AUDIT_LOG_ENTRIES, "entries in the audit log");
}

/// The text a scrape returns (empty when pli's recorder is not the installed one).
pub fn render() -> String {
    install().map(PrometheusHandle::render).unwrap_or_default()
}
