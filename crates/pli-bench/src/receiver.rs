//! A receiving device: holds its delivery WebSocket, acks every push at once, and reports
//! each delivery to the tracker.

use crate::BenchError;
use crate::tracker::{KnownTags, Seen, Tracker};
use pli_client::transport::{DeliveryStream, Transport};
use pli_proto::frame::ServerFrame;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Notify, watch};

/// Shared by a scenario's receivers: the tracker, a count of deliveries and a wake-up
/// for whoever waits on it.
pub struct Inbox {
    pub tracker: Tracker,
    pub delivered: AtomicU64,
    pub progress: Notify,
}

impl Inbox {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            tracker: Tracker::default(),
            delivered: AtomicU64::new(0),
            progress: Notify::new(),
        })
    }
}

/// Connects and drains whatever was queued before (set-up commits), so the measured
/// traffic starts from an empty queue.
pub async fn connect(transport: &Transport) -> Result<DeliveryStream, BenchError> {
    let mut stream = transport.connect().await?;
    loop {
        match stream.next_frame().await? {
            Some(ServerFrame::Deliver(items)) => {
                stream.ack(items.iter().map(|d| d.id).collect()).await?;
            }
            Some(ServerFrame::Drained) => return Ok(stream),
            // Nobody types in a benchmark; one would be nothing to measure.
            Some(ServerFrame::Ephemeral { .. }) => {}
            Some(ServerFrame::Accepted { .. } | ServerFrame::Refused { .. }) => {
                return Err(unasked_answer());
            }
            Some(ServerFrame::Error(code)) => return Err(BenchError::Server(code)),
            None => return Err(BenchError::Server("closed the socket during set-up".into())),
        }
    }
}

/// Receivers submit nothing, so an answer to a submission is the server's mistake.
fn unasked_answer() -> BenchError {
    BenchError::Server("answered a submission never made".into())
}

/// Waits for every receiver (after `stop` was sent) and adds up what they saw.
pub async fn gather(
    listening: Vec<tokio::task::JoinHandle<Result<Seen, BenchError>>>,
) -> Result<Seen, BenchError> {
    let mut total = Seen::new();
    for task in listening {
        let seen = task
            .await
            .map_err(|e| BenchError::Server(e.to_string()))??;
        total.delivered += seen.delivered;
        total.duplicated += seen.duplicated;
        let _ = total.latencies.add(&seen.latencies);
    }
    Ok(total)
}

/// Receives until `stop` turns true, then returns what it saw.
pub async fn receive(
    mut stream: DeliveryStream,
    inbox: Arc<Inbox>,
    mut stop: watch::Receiver<bool>,
) -> Result<Seen, BenchError> {
    let mut seen = Seen::new();
    let mut known = KnownTags::new();
    loop {
        let frame = tokio::select! {
            frame = stream.next_frame() => frame?,
            _ = stop.wait_for(|s| *s) => break,
        };
        match frame {
            Some(ServerFrame::Deliver(items)) => {
                let before = seen.delivered;
                for item in &items {
                    inbox
                        .tracker
                        .delivered(&item.payload, &mut seen, &mut known);
                }
                stream.ack(items.iter().map(|d| d.id).collect()).await?;
                inbox
                    .delivered
                    .fetch_add(seen.delivered - before, Ordering::Relaxed);
                inbox.progress.notify_waiters();
            }
            Some(ServerFrame::Drained | ServerFrame::Ephemeral { .. }) => {}
            Some(ServerFrame::Accepted { .. } | ServerFrame::Refused { .. }) => {
                return Err(unasked_answer());
            }
            Some(ServerFrame::Error(code)) => return Err(BenchError::Server(code)),
            None => return Err(BenchError::Server("closed a delivery socket".into())),
        }
    }
    let _ = stream.close().await;
    Ok(seen)
}
