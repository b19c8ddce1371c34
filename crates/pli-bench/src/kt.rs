//! `kt`: key transparency lookups as a client makes them before trusting a key — the HTTP
//! lookup, the root's signature, and akd's lookup proof checked — one after another from
//! one device (latency), over users the run registered.

use crate::device::{Device, run_prefix};
use crate::outcome::{Outcome, percentiles};
use crate::{BenchError, Options, Target, progress, sender};
use pli_proto::checkpoint::UnverifiedCheckpoint;
use pli_proto::kt;
use std::time::Instant;

const DEFAULT_USERS: usize = 100;
const DEFAULT_LOOKUPS: usize = 2_000;

fn failed(what: impl std::fmt::Display) -> BenchError {
    BenchError::Server(format!("the directory did not verify: {what}"))
}

pub async fn run(
    options: &Options,
    target: &Target,
    bars: &indicatif::MultiProgress,
) -> Result<Outcome, BenchError> {
    let count = options.users.unwrap_or(DEFAULT_USERS).max(1);
    let lookups = options.messages.unwrap_or(DEFAULT_LOOKUPS).max(1);
    let setup = progress::bar(bars, count as u64, "kt: registering");
    let devices =
        Device::register_many(&target.urls(), &run_prefix(), count, false, &setup).await?;
    setup.finish_and_clear();
    let looker = &devices[0].transport;
    let keys = looker.directory_keys().await?;
    let log_key = keys.log_key().map_err(failed)?;
    // The first lookup publishes every registration still pending, as one epoch.
    looker.directory_lookup(&devices[0].username).await?;

    let bar = progress::bar(bars, lookups as u64, "kt: lookup + verify");
    let mut latencies = sender::histogram();
    let mut proof_bytes = 0usize;
    let mut verifying = std::time::Duration::ZERO;
    let start = Instant::now();
    let deadline = options.duration.map(|d| start + d);
    let mut done = 0u64;
    for i in 0..lookups {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let user = &devices[i % devices.len()].username;
        let started = Instant::now();
        let response = looker.directory_lookup(user).await?;
        let answered = Instant::now();
        let root = UnverifiedCheckpoint::parse(&response.root)
            .map_err(failed)?
            .verify(&log_key)
            .map_err(failed)?;
        let listed = kt::verify_lookup(
            keys.vrf_public_key.as_slice(),
            &root,
            user,
            response.proof.as_slice(),
        )
        .map_err(failed)?;
        if listed.devices.is_empty() {
            return Err(failed("a registered user has no device listed"));
        }
        verifying += answered.elapsed();
        let _ = latencies.record((started.elapsed().as_micros() as u64).clamp(1, 600_000_000));
        proof_bytes += response.proof.as_slice().len();
        done += 1;
        bar.inc(1);
    }
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    bar.finish_and_clear();
    let (p50_ms, p99_ms, max_ms) = percentiles(&latencies);
    Ok(Outcome {
        scenario: "kt",
        // What the client's own checks cost, apart from the server's answer.
        variant: format!(
            "proof {:.1} KB, verify {:.2} ms",
            proof_bytes as f64 / done.max(1) as f64 / 1000.0,
            verifying.as_secs_f64() * 1000.0 / done.max(1) as f64
        ),
        devices: count,
        messages: done,
        deliveries: done,
        msgs_per_sec: done as f64 / seconds,
        p50_ms,
        p99_ms,
        max_ms,
        lost: 0,
        duplicated: 0,
        refused: 0,
        refusal: None,
        rss_bytes_per_conn: None,
        rss_growth_bytes: None,
        seconds,
        latency_of: "HTTP lookup + root signature + akd lookup proof verified",
    })
}
