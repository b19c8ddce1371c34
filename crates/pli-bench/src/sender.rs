//! Submitting pre-encrypted messages with a window of requests in flight, and waiting for
//! their deliveries to settle.

use crate::device::Address;
use crate::receiver::Inbox;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use pli_client::transport::Transport;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long deliveries may stall before what is still missing counts as lost.
pub const SETTLE_GRACE: Duration = Duration::from_secs(10);

/// What one sender's submissions came to.
pub struct Sent {
    pub accepted: u64,
    pub refused: u64,
    /// The first refusal's error, for the report.
    pub first_refusal: Option<String>,
    /// Submit → accepted, per message.
    pub accept_latency: Histogram<u64>,
}

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// One sender's work.
pub struct Batch {
    pub transport: Transport,
    pub address: Address,
    pub ciphertexts: Vec<Vec<u8>>,
    /// Submissions in flight at once.
    pub window: usize,
    /// Whether deliveries' latency counts (not when they wait in queues on purpose).
    pub timed: bool,
    pub deadline: Option<Instant>,
}

/// Submits the batch's ciphertexts, `window` at a time, until done or the deadline. Each
/// is registered with the tracker first, for one delivery per recipient.
pub async fn send(batch: Batch, inbox: Arc<Inbox>, bar: indicatif::ProgressBar) -> Sent {
    let Batch {
        transport,
        address,
        ciphertexts,
        window,
        timed,
        deadline,
    } = batch;
    let copies = address.recipients.len();
    let results: Vec<_> = futures_util::stream::iter(ciphertexts)
        .take_while(|_| std::future::ready(deadline.is_none_or(|d| Instant::now() < d)))
        .map(|ciphertext| {
            let (transport, address, inbox) = (&transport, &address, &inbox);
            async move {
                inbox.tracker.sent(&ciphertext, copies, timed);
                let request = address.submission(ciphertext.clone());
                let started = Instant::now();
                let result = transport.submit(&request).await;
                if result.is_err() {
                    inbox.tracker.refused(&ciphertext);
                }
                result.map(|_| started.elapsed())
            }
        })
        .buffer_unordered(window.max(1))
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    let mut sent = Sent {
        accepted: 0,
        refused: 0,
        first_refusal: None,
        accept_latency: histogram(),
    };
    for result in results {
        match result {
            Ok(elapsed) => {
                sent.accepted += 1;
                let _ = sent
                    .accept_latency
                    .record((elapsed.as_micros() as u64).clamp(1, 600_000_000));
            }
            Err(err) => {
                sent.refused += 1;
                sent.first_refusal.get_or_insert_with(|| err.to_string());
            }
        }
    }
    sent
}

/// Waits until every accepted message was delivered, or nothing arrived for
/// [`SETTLE_GRACE`]. Returns the time of the last progress.
pub async fn settle(inbox: &Inbox) -> Instant {
    let mut last = Instant::now();
    loop {
        let notified = inbox.progress.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if inbox.tracker.outstanding() == 0 {
            return Instant::now();
        }
        match tokio::time::timeout(SETTLE_GRACE, notified).await {
            Ok(()) => last = Instant::now(),
            Err(_) => return last,
        }
    }
}

/// Adds up what several senders saw.
pub fn merge(all: Vec<Sent>) -> Sent {
    let mut total = Sent {
        accepted: 0,
        refused: 0,
        first_refusal: None,
        accept_latency: histogram(),
    };
    for sent in all {
        total.accepted += sent.accepted;
        total.refused += sent.refused;
        if total.first_refusal.is_none() {
            total.first_refusal = sent.first_refusal;
        }
        let _ = total.accept_latency.add(&sent.accept_latency);
    }
    total
}
