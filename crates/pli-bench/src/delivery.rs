//! `delivery`: 1:1 messages between pairs of users, end to end: submitted (over the
//! sender's delivery socket, or HTTP), committed ("accepted"), pushed over the recipient's
//! WebSocket, acked.

use crate::device::{Device, run_prefix};
use crate::outcome::{Outcome, percentiles};
use crate::receiver::{self, Inbox};
use crate::sender::{self, Batch};
use crate::{BenchError, Options, Target, progress};
use std::time::Instant;
use tokio::sync::watch;

const DEFAULT_USERS: usize = 32;
const DEFAULT_MESSAGES: usize = 20_000;

pub async fn run(
    options: &Options,
    target: &Target,
    window: usize,
    bars: &indicatif::MultiProgress,
) -> Result<Outcome, BenchError> {
    let pairs = (options.users.unwrap_or(DEFAULT_USERS) / 2).max(1);
    let total = options.messages.unwrap_or(DEFAULT_MESSAGES).max(1);
    let per_sender = total.div_ceil(pairs);
    let label = format!("window {window}{}", options.submit_label());

    let setup = progress::bar(bars, pairs as u64 * 2, &format!("delivery {label}: set-up"));
    let prefix = run_prefix();
    let mut devices =
        Device::register_many(&target.urls(), &prefix, pairs * 2, true, &setup).await?;
    let receivers = devices.split_off(pairs);
    let mut batches = Vec::with_capacity(pairs);
    for (sender, receiver) in devices.iter().zip(&receivers) {
        let mut group = sender.create_group(&[receiver]).await?;
        let ciphertexts = sender.encrypt(&mut group, per_sender, options.size())?;
        batches.push(Batch {
            transport: sender.transport.clone(),
            address: group.address(),
            ciphertexts,
            window,
            over: options.submit_over,
            timed: true,
            deadline: None,
        });
    }
    let inbox = Inbox::new();
    let (stop, stopped) = watch::channel(false);
    let mut listening = Vec::with_capacity(pairs);
    for receiver in &receivers {
        let stream = receiver::connect(&receiver.transport).await?;
        listening.push(tokio::spawn(receiver::receive(
            stream,
            inbox.clone(),
            stopped.clone(),
        )));
    }
    setup.finish_and_clear();

    let bar = progress::bar(
        bars,
        (per_sender * pairs) as u64,
        &format!("delivery {label}"),
    );
    let start = Instant::now();
    let deadline = options.duration.map(|d| start + d);
    let senders: Vec<_> = batches
        .into_iter()
        .map(|mut batch| {
            batch.deadline = deadline;
            tokio::spawn(sender::send(batch, inbox.clone(), bar.clone()))
        })
        .collect();
    let mut sent = Vec::with_capacity(pairs);
    for task in senders {
        sent.push(task.await.map_err(|e| BenchError::Server(e.to_string()))?);
    }
    let sent = sender::merge(sent);
    let finished = sender::settle(&inbox).await;
    bar.finish_and_clear();
    let lost = inbox.tracker.outstanding();
    let _ = stop.send(true);
    let seen = receiver::gather(listening).await?;
    let seconds = finished.duration_since(start).as_secs_f64().max(1e-9);
    let (p50_ms, p99_ms, max_ms) = percentiles(&seen.latencies);
    Ok(Outcome {
        scenario: "delivery",
        variant: label,
        devices: pairs * 2,
        messages: sent.accepted,
        deliveries: seen.delivered,
        msgs_per_sec: seen.delivered as f64 / seconds,
        p50_ms,
        p99_ms,
        max_ms,
        lost,
        duplicated: seen.duplicated,
        refused: sent.refused,
        refusal: sent.first_refusal,
        rss_bytes_per_conn: None,
        rss_growth_bytes: None,
        seconds,
        latency_of: "submit to push at the recipient",
    })
}
