//! Submitting pre-encrypted messages with a window in flight, over the sender's delivery
//! socket or one HTTP request each, and waiting for their deliveries to settle.

use crate::SubmitOver;
use crate::device::Address;
use crate::receiver::{self, Inbox};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use pli_client::transport::Transport;
use pli_proto::frame::{ServerFrame, Submit};
use pli_proto::limits::MAX_WS_SUBMITS_IN_FLIGHT;
use std::collections::HashMap;
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
    pub over: SubmitOver,
    /// Whether deliveries' latency counts (not when they wait in queues on purpose).
    pub timed: bool,
    pub deadline: Option<Instant>,
}

impl Sent {
    fn new() -> Self {
        Self {
            accepted: 0,
            refused: 0,
            first_refusal: None,
            accept_latency: histogram(),
        }
    }

    fn accepted(&mut self, elapsed: Duration) {
        self.accepted += 1;
        let _ = self
            .accept_latency
            .record((elapsed.as_micros() as u64).clamp(1, 600_000_000));
    }

    fn refused(&mut self, why: impl FnOnce() -> String) {
        self.refused += 1;
        if self.first_refusal.is_none() {
            self.first_refusal = Some(why());
        }
    }
}

/// Submits the batch's ciphertexts, `window` at a time, until done or the deadline. Each
/// is registered with the tracker first, for one delivery per recipient.
pub async fn send(batch: Batch, inbox: Arc<Inbox>, bar: indicatif::ProgressBar) -> Sent {
    match batch.over {
        SubmitOver::Socket => send_over_socket(batch, inbox, bar).await,
        SubmitOver::Http => send_over_http(batch, inbox, bar).await,
    }
}

/// One `POST /v1/messages` per message.
async fn send_over_http(batch: Batch, inbox: Arc<Inbox>, bar: indicatif::ProgressBar) -> Sent {
    let Batch {
        transport,
        address,
        ciphertexts,
        window,
        timed,
        deadline,
        ..
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
    let mut sent = Sent::new();
    for result in results {
        match result {
            Ok(elapsed) => sent.accepted(elapsed),
            Err(err) => sent.refused(|| err.to_string()),
        }
    }
    sent
}

/// `Submit` frames on the sender's own delivery socket: the window is topped up in one
/// write whenever answers come back.
async fn send_over_socket(batch: Batch, inbox: Arc<Inbox>, bar: indicatif::ProgressBar) -> Sent {
    let mut sent = Sent::new();
    let mut stream = match receiver::connect(&batch.transport).await {
        Ok(stream) => stream,
        Err(err) => {
            for _ in &batch.ciphertexts {
                sent.refused(|| err.to_string());
            }
            return sent;
        }
    };
    let window = batch.window.clamp(1, MAX_WS_SUBMITS_IN_FLIGHT);
    let copies = batch.address.recipients.len();
    // Reference → (when submitted, the ciphertext).
    let mut pending: HashMap<u32, (Instant, Vec<u8>)> = HashMap::new();
    let mut queue = batch.ciphertexts.into_iter().zip(0u32..);
    loop {
        let mut frames = Vec::new();
        while pending.len() + frames.len() < window
            && batch.deadline.is_none_or(|d| Instant::now() < d)
            && let Some((ciphertext, reference)) = queue.next()
        {
            inbox.tracker.sent(&ciphertext, copies, batch.timed);
            frames.push(Submit {
                reference,
                group: batch.address.id.clone(),
                recipients: batch.address.recipients.clone(),
                message: ciphertext.clone(),
            });
            pending.insert(reference, (Instant::now(), ciphertext));
        }
        if !frames.is_empty()
            && let Err(err) = stream.submit_all(frames).await
        {
            give_up(&mut sent, &mut pending, &inbox, &err.to_string());
            return sent;
        }
        if pending.is_empty() {
            break;
        }
        let frame = match stream.next_frame().await {
            Ok(Some(frame)) => frame,
            Ok(None) => ServerFrame::Error("closed the socket".into()),
            Err(err) => ServerFrame::Error(err.to_string()),
        };
        match frame {
            ServerFrame::Accepted { reference, .. } => {
                if let Some((started, _)) = pending.remove(&reference) {
                    sent.accepted(started.elapsed());
                    bar.inc(1);
                }
            }
            ServerFrame::Refused { reference, code } => {
                if let Some((_, ciphertext)) = pending.remove(&reference) {
                    inbox.tracker.refused(&ciphertext);
                    sent.refused(|| code);
                    bar.inc(1);
                }
            }
            ServerFrame::Deliver(items) => {
                let ids = items.iter().map(|d| d.id).collect();
                if let Err(err) = stream.ack(ids).await {
                    give_up(&mut sent, &mut pending, &inbox, &err.to_string());
                    return sent;
                }
            }
            ServerFrame::Drained | ServerFrame::Ephemeral { .. } => {}
            ServerFrame::Error(code) => {
                give_up(&mut sent, &mut pending, &inbox, &code);
                return sent;
            }
        }
    }
    let _ = stream.close().await;
    sent
}

/// The socket failed: what was unanswered counts as refused and is no longer expected
/// (should the server have committed some, their deliveries are ignored, not lost).
fn give_up(
    sent: &mut Sent,
    pending: &mut HashMap<u32, (Instant, Vec<u8>)>,
    inbox: &Inbox,
    why: &str,
) {
    for (_, (_, ciphertext)) in pending.drain() {
        inbox.tracker.refused(&ciphertext);
        sent.refused(|| why.to_owned());
    }
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
    let mut total = Sent::new();
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
