//! `fanout`: one sender into one large group. First with every member offline (each
//! message lands in every member device's queue: queue entries per second), then with
//! every member connected (deliveries pushed per second, and their latency).

use crate::device::{Device, run_prefix};
use crate::outcome::{Outcome, percentiles};
use crate::receiver::{self, Inbox};
use crate::sender::{self, Batch, Sent};
use crate::{BenchError, Options, Target, progress};
use std::time::Instant;
use tokio::sync::watch;

const DEFAULT_MEMBERS: usize = 1_000;
const DEFAULT_MESSAGES: usize = 200;
const DEFAULT_WINDOW: usize = 8;

pub async fn run(
    options: &Options,
    target: &Target,
    bars: &indicatif::MultiProgress,
) -> Result<Vec<Outcome>, BenchError> {
    let members = options.users.unwrap_or(DEFAULT_MEMBERS).max(1);
    let messages = options.messages.unwrap_or(DEFAULT_MESSAGES).max(1);
    let window = options.window.unwrap_or(DEFAULT_WINDOW);

    let setup = progress::bar(bars, members as u64 + 1, "fanout: set-up");
    let prefix = run_prefix();
    let mut devices =
        Device::register_many(&target.urls(), &prefix, members + 1, true, &setup).await?;
    let member_devices = devices.split_off(1);
    let sender = &devices[0];
    let refs: Vec<&Device> = member_devices.iter().collect();
    let mut group = sender.create_group(&refs).await?;
    let offline = sender.encrypt(&mut group, messages, options.size())?;
    let online = sender.encrypt(&mut group, messages, options.size())?;
    setup.finish_and_clear();
    let batch = |ciphertexts, timed| Batch {
        transport: sender.transport.clone(),
        address: group.address(),
        ciphertexts,
        window,
        over: options.submit_over,
        timed,
        deadline: options.duration.map(|d| Instant::now() + d),
    };
    let inbox = Inbox::new();

    // Offline: into queues only.
    let bar = progress::bar(bars, messages as u64, "fanout: into queues");
    let start = Instant::now();
    let queued = sender::send(batch(offline, false), inbox.clone(), bar.clone()).await;
    let queue_seconds = start.elapsed().as_secs_f64().max(1e-9);
    bar.finish_and_clear();

    // Members connect: the backlog drains to them, then the online phase.
    let (stop, stopped) = watch::channel(false);
    let mut listening = Vec::with_capacity(members);
    for member in &member_devices {
        let stream = member.transport.connect().await?;
        listening.push(tokio::spawn(receiver::receive(
            stream,
            inbox.clone(),
            stopped.clone(),
        )));
    }
    sender::settle(&inbox).await;
    let lost_offline = inbox.tracker.outstanding();

    let bar = progress::bar(bars, messages as u64, "fanout: to connected devices");
    let start = Instant::now();
    let pushed = sender::send(batch(online, true), inbox.clone(), bar.clone()).await;
    let finished = sender::settle(&inbox).await;
    bar.finish_and_clear();
    // The tracker's count is cumulative: what the offline phase lost is still in it.
    let lost_online = inbox.tracker.outstanding() - lost_offline;
    let _ = stop.send(true);
    let seen = receiver::gather(listening).await?;
    let push_seconds = finished.duration_since(start).as_secs_f64().max(1e-9);
    let online_deliveries = pushed.accepted * members as u64 - lost_online;

    let queue_outcome = {
        let (p50_ms, p99_ms, max_ms) = percentiles(&queued.accept_latency);
        let entries = queued.accepted * members as u64;
        outcome(
            &queued,
            &format!("into queues{}", options.submit_label()),
            members,
            lost_offline,
        )
        .with(entries, entries as f64 / queue_seconds, queue_seconds)
        .latency(
            p50_ms,
            p99_ms,
            max_ms,
            "submit to accepted (all queues written)",
        )
    };
    let push_outcome = {
        let (p50_ms, p99_ms, max_ms) = percentiles(&seen.latencies);
        let mut o = outcome(
            &pushed,
            &format!("to connected{}", options.submit_label()),
            members,
            lost_online,
        )
        .with(
            online_deliveries,
            online_deliveries as f64 / push_seconds,
            push_seconds,
        )
        .latency(p50_ms, p99_ms, max_ms, "submit to push at each member");
        o.duplicated = seen.duplicated;
        o
    };
    Ok(vec![queue_outcome, push_outcome])
}

fn outcome(sent: &Sent, variant: &str, members: usize, lost: u64) -> Outcome {
    Outcome {
        scenario: "fanout",
        variant: variant.to_owned(),
        devices: members + 1,
        messages: sent.accepted,
        deliveries: 0,
        msgs_per_sec: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        max_ms: 0.0,
        lost,
        duplicated: 0,
        refused: sent.refused,
        refusal: sent.first_refusal.clone(),
        rss_bytes_per_conn: None,
        rss_growth_bytes: None,
        seconds: 0.0,
        latency_of: "",
    }
}

impl Outcome {
    fn with(mut self, deliveries: u64, per_second: f64, seconds: f64) -> Self {
        self.deliveries = deliveries;
        self.msgs_per_sec = per_second;
        self.seconds = seconds;
        self
    }

    fn latency(mut self, p50: f64, p99: f64, max: f64, of: &'static str) -> Self {
        self.p50_ms = p50;
        self.p99_ms = p99;
        self.max_ms = max;
        self.latency_of = of;
        self
    }
}
