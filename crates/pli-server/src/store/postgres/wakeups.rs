//! Wake-ups between nodes over PostgreSQL's `LISTEN`/`NOTIFY`, and word of which node a
//! device is connected to (so an older connection elsewhere closes).
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

/// What the notifier tells other nodes.
enum Signal {
    /// These devices have new messages.
    Wake(Vec<DeviceId>),
    /// This device connected here.
    Connected(DeviceId),
}

/// Hands accepted messages' devices (and new connections) to this node's notifier task.
#[derive(Clone)]
pub(super) struct Notifier {
    queue: mpsc::UnboundedSender<Signal>,
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
            let _ = self.queue.send(Signal::Wake(devices));
        }
    }

    /// Tells the other nodes that `device` connected here.
    pub(super) fn connected(&self, device: DeviceId) {
        let _ = self.queue.send(Signal::Connected(device));
    }
}

async fn notify_loop(pool: PgPool, node: u64, mut pending: mpsc::UnboundedReceiver<Signal>) {
    while let Some(first) = pending.recv().await {
        let (mut woken, mut connected) = (BTreeSet::new(), BTreeSet::new());
        let mut gather = |signal| match signal {
            Signal::Wake(devices) => woken.extend(devices),
            Signal::Connected(device) => {
                connected.insert(device);
            }
        };
        gather(first);
        while let Ok(more) = pending.try_recv() {
            gather(more);
        }
        let woken: Vec<_> = woken.into_iter().collect();
        let connected: Vec<_> = connected.into_iter().collect();
        let payloads = encode(node, Kind::Wake, &woken).into_iter().chain(encode(
            node,
            Kind::Connected,
            &connected,
        ));
        for payload in payloads {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Wake,
    Connected,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Wake => "w",
            Kind::Connected => "c",
        }
    }
}

/// `"<node hex> <w|c> <device> <device> …"`, in chunks that fit a NOTIFY payload.
fn encode(node: u64, kind: Kind, devices: &[DeviceId]) -> Vec<String> {
    devices
        .chunks(WAKE_CHUNK)
        .map(|chunk| {
            let mut payload = format!("{node:x} {}", kind.tag());
            for device in chunk {
                payload.push(' ');
                payload.push_str(&device.get().to_string());
            }
            payload
        })
        .collect()
}

/// The sending node, the kind and the devices of one notice.
fn parse(payload: &str) -> Option<(u64, Kind, Vec<DeviceId>)> {
    let mut words = payload.split(' ');
    let node = u64::from_str_radix(words.next()?, 16).ok()?;
    let kind = match words.next()? {
        "w" => Kind::Wake,
        "c" => Kind::Connected,
        _ => return None,
    };
    let devices = words
        .map(|w| w.parse().ok().and_then(|id| DeviceId::new(id).ok()))
        .collect::<Option<Vec<_>>>()?;
    Some((node, kind, devices))
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
                    Some((from, _, _)) if from == node => {}
                    Some((_, Kind::Wake, devices)) => sink(RemoteWake::Devices(devices)),
                    Some((_, Kind::Connected, devices)) => sink(RemoteWake::Replaced(devices)),
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
        let payloads = encode(0xabc, Kind::Wake, &devices);
        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|p| p.len() < 8_000));
        let decoded: Vec<DeviceId> = payloads
            .iter()
            .flat_map(|p| {
                let (node, kind, devices) = parse(p).expect("valid");
                assert_eq!((node, kind), (0xabc, Kind::Wake));
                devices
            })
            .collect();
        assert_eq!(decoded, devices);
        let connected = encode(1, Kind::Connected, &devices[..1]);
        assert_eq!(
            parse(&connected[0]),
            Some((1, Kind::Connected, devices[..1].to_vec()))
        );
        assert!(parse("zz w 1").is_none());
        assert!(parse("ff w 1 x").is_none());
        assert!(parse("ff q 1").is_none());
    }
}
