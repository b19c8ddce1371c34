//! `idle`: many connected devices that send nothing. The figure is the server's resident
//! memory per connection (only for a server this run started: it reads its /proc entry).

use crate::device::{Device, run_prefix};
use crate::outcome::{Outcome, percentiles};
use crate::{BenchError, Options, Target, progress, receiver, sender};
use futures_util::StreamExt;
use std::time::Instant;

const DEFAULT_DEVICES: usize = 10_000;
/// Handshakes in flight at once while connecting.
const CONNECT_CONCURRENCY: usize = 128;

pub async fn run(
    options: &Options,
    target: &Target,
    bars: &indicatif::MultiProgress,
) -> Result<Outcome, BenchError> {
    let count = options.users.unwrap_or(DEFAULT_DEVICES).max(1);
    let setup = progress::bar(bars, count as u64, "idle: registering");
    let devices =
        Device::register_many(&target.urls(), &run_prefix(), count, false, &setup).await?;
    setup.finish_and_clear();

    // Memory is read after the first half of the devices connected and again after the
    // second: the difference is what the second half costs, free of one-time growth (the
    // runtime's thread pool, caches, heap left over from registration).
    let bar = progress::bar(bars, count as u64, "idle: connecting");
    let start = Instant::now();
    let (first, second) = devices.split_at(count / 2);
    let mut latencies = sender::histogram();
    let mut streams = Vec::with_capacity(count);
    connect_all(first, &bar, &mut latencies, &mut streams).await?;
    let half = target.rss_bytes();
    connect_all(second, &bar, &mut latencies, &mut streams).await?;
    // Every socket has had its first push (the "drained" frame), so its session is fully
    // set up on the server when memory is read.
    let full = target.rss_bytes();
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    bar.finish_and_clear();
    let per_conn = half
        .zip(full)
        .filter(|_| !second.is_empty())
        .map(|(half, full)| full.saturating_sub(half) / second.len() as u64);
    futures_util::stream::iter(streams)
        .for_each_concurrent(CONNECT_CONCURRENCY, |stream| async move {
            let _ = stream.close().await;
        })
        .await;
    let (p50_ms, p99_ms, max_ms) = percentiles(&latencies);
    Ok(Outcome {
        scenario: "idle",
        variant: format!("{count} connected"),
        devices: count,
        messages: 0,
        deliveries: 0,
        msgs_per_sec: 0.0,
        p50_ms,
        p99_ms,
        max_ms,
        lost: 0,
        duplicated: 0,
        refused: 0,
        refusal: None,
        rss_bytes_per_conn: per_conn,
        rss_growth_bytes: None,
        seconds,
        latency_of: "ticket + WebSocket handshake + first push",
    })
}

/// Connects `devices` a few at a time, keeping their sockets and handshake latencies.
async fn connect_all(
    devices: &[Device],
    bar: &indicatif::ProgressBar,
    latencies: &mut hdrhistogram::Histogram<u64>,
    streams: &mut Vec<pli_client::transport::DeliveryStream>,
) -> Result<(), BenchError> {
    let connected: Vec<_> = futures_util::stream::iter(devices)
        .map(|device| async move {
            let started = Instant::now();
            receiver::connect(&device.transport)
                .await
                .map(|stream| (stream, started.elapsed()))
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    for result in connected {
        let (stream, elapsed) = result?;
        let _ = latencies.record((elapsed.as_micros() as u64).clamp(1, 600_000_000));
        streams.push(stream);
    }
    Ok(())
}
