//! One scenario's result: a row of the table `pli bench` prints, or one JSON object per
//! line with `--json`.

use hdrhistogram::Histogram;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub scenario: &'static str,
    /// Which variant: the window, or the fan-out phase.
    pub variant: String,
    /// Simulated devices taking part.
    pub devices: usize,
    /// Messages accepted by the server.
    pub messages: u64,
    /// Deliveries seen by receivers (messages × recipients for a group).
    pub deliveries: u64,
    /// Deliveries per second (for fan-out into queues: queue entries per second).
    pub msgs_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Accepted but never delivered.
    pub lost: u64,
    pub duplicated: u64,
    /// Submissions the server refused (with the first refusal's reason).
    pub refused: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Only for `idle`: the server's resident memory per connected device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_bytes_per_conn: Option<u64>,
    /// Only for `attachments` uploads: how far the server's resident memory grew above
    /// where it was when the file's upload began, at its highest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_growth_bytes: Option<u64>,
    pub seconds: f64,
    /// What the latency figures measure.
    pub latency_of: &'static str,
}

/// The p50, p99 and max of a histogram of microseconds, in milliseconds.
pub fn percentiles(histogram: &Histogram<u64>) -> (f64, f64, f64) {
    if histogram.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    (
        ms(histogram.value_at_quantile(0.5)),
        ms(histogram.value_at_quantile(0.99)),
        ms(histogram.max()),
    )
}

/// The table of results, one row per outcome.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "{:<10} {:<26} {:>7} {:>10} {:>12} {:>9} {:>9} {:>9} {:>6} {:>9}\n",
        "scenario",
        "variant",
        "devices",
        "messages",
        "per second",
        "p50 ms",
        "p99 ms",
        "max ms",
        "lost",
        "KiB/conn"
    );
    let mut growth_rows = Vec::new();
    for o in outcomes {
        let per_conn = o
            .rss_bytes_per_conn
            .map_or("-".to_owned(), |b| format!("{:.1}", b as f64 / 1024.0));
        out.push_str(&format!(
            "{:<10} {:<26} {:>7} {:>10} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>6} {:>9}\n",
            o.scenario,
            o.variant,
            o.devices,
            o.messages,
            o.msgs_per_sec,
            o.p50_ms,
            o.p99_ms,
            o.max_ms,
            o.lost,
            per_conn
        ));
        if let Some(reason) = &o.refusal {
            out.push_str(&format!("  {} refused, first: {reason}\n", o.refused));
        }
        if let Some(growth) = o.rss_growth_bytes {
            growth_rows.push(format!(
                "  {}: server memory grew at most {:.1} MiB during an upload\n",
                o.variant,
                growth as f64 / f64::from(1 << 20)
            ));
        }
    }
    out.extend(growth_rows);
    out
}
