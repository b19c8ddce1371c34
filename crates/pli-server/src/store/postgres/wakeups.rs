//! Wake-ups between nodes over PostgreSQL's `LISTEN`/`NOTIFY`.
//!
//! A node that accepts a message tells the others which devices to wake, *after* the
//! message committed. Not with `NOTIFY` inside the accepting transaction, though that
//! would be simpler: PostgreSQL serialises the commits of all transactions that notify (a
//! global lock held across the commit's WAL flush), and measured that way delivery fell
//! to ~700 messages/s. Instead each node has one notifier task that gathers the devices of
//! everything accepted since its last `NOTIFY` and sends them in one small statement, so
//! commits stay parallel and busy periods cost fewer notifications, not more.

use crate::store::{RemoteWake, WakeSink};
use pli_proto::DeviceId;
use sqlx::postgres::{PgListener, PgPool};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel that carries wake-ups between nodes.
const WAKE_CHANNEL: &str = "pli_wake";
/// NOTIFY payloads are limited to 8,000 bytes; device ids are sent in chunks well below it.
const WAKE_CHUNK: usize = 300;
/// How long the listener waits before reconnecting after the database went away.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// Hands accepted messages' devices to this node's notifier task.
#[derive(Clone)]
pub(super) struct Notifier {
    queue: mpsc::UnboundedSender<Vec<DeviceId>>,
}

impl Notifier {
    /// Starts the notifier task; it ends when the last `Notifier` is dropped.
    pub(super) fn start(pool: PgPool, node: u64) -> Self {
        let (queue, pending) = mpsc::unbounded_channel();
        tokio::spawn(notify_loop(pool, node, pending));
        Self { queue }
    }

    /// Wakes `devices` on the other nodes; call once their messages are committed.
    pub(super) fn wake(&self, devices: Vec<DeviceId>) {
        if !devices.is_empty() {
            let _ = self.queue.send(devices);
        }
    }
}

async fn notify_loop(pool: PgPool, node: u64, mut pending: mpsc::UnboundedReceiver<Vec<DeviceId>>) {
    while let Some(first) = pending.recv().await {
        let mut devices: BTreeSet<DeviceId> = first.into_iter().collect();
        while let Ok(more) = pending.try_recv() {
            devices.extend(more);
        }
        let devices: Vec<_> = devices.into_iter().collect();
        for payload in encode(node, &devices) {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(WAKE_CHANNEL)
                .bind(payload)
                .execute(&pool)
                .await;
            if let Err(err) = sent {
                // Other nodes' listeners lost the database too; they look at every queue
                // when they reconnect.
                tracing::warn!(error = %err, "cannot send a wake-up to other nodes");
            }
        }
    }
}

/// `"<node hex> <device> <device> …"`, in chunks that fit a NOTIFY payload.
fn encode(node: u64, devices: &[DeviceId]) -> Vec<String> {
    devices
        .chunks(WAKE_CHUNK)
        .map(|chunk| {
            let mut payload = format!("{node:x}");
            for device in chunk {
                payload.push(' ');
                payload.push_str(&device.get().to_string());
            }
            payload
        })
        .collect()
}

/// The sending node and the devices of one notice.
fn parse(payload: &str) -> Option<(u64, Vec<DeviceId>)> {
    let mut words = payload.split(' ');
    let node = u64::from_str_radix(words.next()?, 16).ok()?;
    let devices = words
        .map(|w| w.parse().ok().and_then(|id| DeviceId::new(id).ok()))
        .collect::<Option<Vec<_>>>()?;
    Some((node, devices))
}

/// Listens for other nodes' wake-ups and hands them to `sink`, reconnecting as needed,
/// for as long as it is polled.
pub(super) async fn relay(pool: &PgPool, node: u64, sink: WakeSink) {
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(WAKE_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listening.await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for wake-ups; retrying");
                tokio::time::sleep(LISTEN_RETRY).await;
                continue;
            }
        };
        // Whatever was sent while nobody listened is in the queues: look again.
        sink(RemoteWake::Everyone);
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) => match parse(notice.payload()) {
                    Some((from, _)) if from == node => {}
                    Some((_, devices)) => sink(RemoteWake::Devices(devices)),
                    None => tracing::warn!("ignored a malformed wake-up notice"),
                },
                // The connection dropped; the next call reconnects and listens again.
                Ok(None) => sink(RemoteWake::Everyone),
                Err(err) => {
                    tracing::warn!(error = %err, "the wake-up listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_in_chunks_and_garbage_is_refused() {
        let devices: Vec<DeviceId> = (1..=700)
            .map(|id| DeviceId::new(id).expect("valid"))
            .collect();
        let payloads = encode(0xabc, &devices);
        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|p| p.len() < 8_000));
        let decoded: Vec<DeviceId> = payloads
            .iter()
            .flat_map(|p| {
                let (node, devices) = parse(p).expect("valid");
                assert_eq!(node, 0xabc);
                devices
            })
            .collect();
        assert_eq!(decoded, devices);
        assert!(parse("zz 1").is_none());
        assert!(parse("ff 1 x").is_none());
    }
}
