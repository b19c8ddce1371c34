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

use crate::store::queue::{EphemeralFrame, RemoteWake, WakeSink};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use pli_proto::{DeviceId, GroupId};
use sqlx::postgres::{PgListener, PgPool};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel that carries wake-ups between nodes.
const WAKE_CHANNEL: &str = "pli_wake";
/// NOTIFY payloads are limited to 8,000 bytes; device ids are sent in chunks well below it.
const WAKE_CHUNK: usize = 300;
/// How long the listener waits before reconnecting after the database went away.
const LISTEN_RETRY: Duration = Duration::from_secs(1);
/// Backoff between attempts to send a batch of notices.
const NOTIFY_RETRY_FIRST: Duration = Duration::from_millis(50);
const NOTIFY_RETRY_MAX: Duration = Duration::from_secs(2);

/// What the notifier tells other nodes.
enum Signal {
    /// These devices have new messages.
    Wake(Vec<DeviceId>),
    /// This device connected here at this wall-clock time (ms).
    Connected(DeviceId, u64),
    /// An ephemeral message for these devices.
    Ephemeral(Vec<DeviceId>, EphemeralFrame),
}

/// Hands accepted messages' devices (and new connections) to this node's notifier task.
#[derive(Clone)]
pub(super) struct Notifier {
    queue: mpsc::UnboundedSender<Signal>,
}

impl Notifier {
    /// Starts the notifier task on `pool` (the signalling pool, so a busy request pool never
    /// delays or drops a notice); it ends when the last `Notifier` is dropped.
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

    /// Hands an ephemeral message to the other nodes, for `devices` connected there.
    pub(super) fn ephemeral(&self, devices: Vec<DeviceId>, frame: EphemeralFrame) {
        if !devices.is_empty() {
            let _ = self.queue.send(Signal::Ephemeral(devices, frame));
        }
    }

    /// Tells the other nodes that `device` connected here just now.
    pub(super) fn connected(&self, device: DeviceId) {
        let _ = self
            .queue
            .send(Signal::Connected(device, crate::delivery::wall_clock_ms()));
    }
}

/// Everything waiting to be said, merged.
#[derive(Default)]
struct Batch {
    woken: BTreeSet<DeviceId>,
    connected: BTreeMap<DeviceId, u64>,
    ephemeral: Vec<(Vec<DeviceId>, EphemeralFrame)>,
}

impl Batch {
    fn add(&mut self, signal: Signal) {
        match signal {
            Signal::Wake(devices) => self.woken.extend(devices),
            Signal::Connected(device, at_ms) => {
                let latest = self.connected.entry(device).or_default();
                *latest = (*latest).max(at_ms);
            }
            Signal::Ephemeral(devices, frame) => self.ephemeral.push((devices, frame)),
        }
    }

    fn payloads(&self, node: u64) -> Vec<String> {
        let woken: Vec<String> = self.woken.iter().map(|d| d.get().to_string()).collect();
        let connected: Vec<String> = self
            .connected
            .iter()
            .map(|(d, at)| format!("{}@{at}", d.get()))
            .collect();
        let mut payloads = encode(node, Kind::Wake, &woken);
        payloads.extend(encode(node, Kind::Connected, &connected));
        // One notice each, `"<node> e <group> <message> <device> …"` in base64: at most
        // 64 devices and 2 KiB of message fit a NOTIFY payload with room to spare.
        payloads.extend(self.ephemeral.iter().map(|(devices, frame)| {
            let (group, message) = &**frame;
            let ids: Vec<String> = devices.iter().map(|d| d.get().to_string()).collect();
            format!(
                "{node:x} e {} {} {}",
                BASE64.encode(group.as_bytes()),
                BASE64.encode(message),
                ids.join(" ")
            )
        }));
        payloads
    }
}

async fn notify_loop(pool: PgPool, node: u64, mut pending: mpsc::UnboundedReceiver<Signal>) {
    while let Some(first) = pending.recv().await {
        let mut batch = Batch::default();
        batch.add(first);
        let mut backoff = NOTIFY_RETRY_FIRST;
        loop {
            while let Ok(more) = pending.try_recv() {
                batch.add(more);
            }
            match send(&pool, &batch.payloads(node)).await {
                Ok(()) => break,
                Err(err) => {
                    // A lost wake-up would leave a device on another node unwoken until its
                    // next message: keep the batch and try again.
                    let kind = super::rows::backend(err).kind();
                    tracing::warn!(
                        error = kind,
                        "cannot send wake-ups to other nodes; retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(NOTIFY_RETRY_MAX);
                }
            }
        }
    }
}

async fn send(pool: &PgPool, payloads: &[String]) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    for payload in payloads {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(WAKE_CHANNEL)
            .bind(payload)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
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

/// `"<node hex> <w|c> <item> <item> …"`, in chunks that fit a NOTIFY payload. An item is a
/// device id, or for `c` a device id and its connection time, `id@ms`.
fn encode(node: u64, kind: Kind, items: &[String]) -> Vec<String> {
    items
        .chunks(WAKE_CHUNK)
        .map(|chunk| format!("{node:x} {} {}", kind.tag(), chunk.join(" ")))
        .collect()
}

/// What one notice says.
#[derive(Debug, PartialEq, Eq)]
enum Notice {
    Wake(Vec<DeviceId>),
    Connected(Vec<(DeviceId, u64)>),
    Ephemeral(Vec<DeviceId>, EphemeralFrame),
}

fn device(word: &str) -> Option<DeviceId> {
    word.parse().ok().and_then(|id| DeviceId::new(id).ok())
}

/// The sending node and what it says.
fn parse(payload: &str) -> Option<(u64, Notice)> {
    let mut words = payload.split(' ');
    let node = u64::from_str_radix(words.next()?, 16).ok()?;
    let notice = match words.next()? {
        "w" => Notice::Wake(words.map(device).collect::<Option<_>>()?),
        "c" => Notice::Connected(
            words
                .map(|w| {
                    let (id, at) = w.split_once('@')?;
                    Some((device(id)?, at.parse().ok()?))
                })
                .collect::<Option<_>>()?,
        ),
        "e" => {
            let group = GroupId::from_bytes(&BASE64.decode(words.next()?).ok()?).ok()?;
            let message = BASE64.decode(words.next()?).ok()?;
            if message.len() > pli_proto::limits::MAX_EPHEMERAL_BYTES {
                return None;
            }
            let devices = words.map(device).collect::<Option<Vec<_>>>()?;
            Notice::Ephemeral(devices, std::sync::Arc::new((group, message)))
        }
        _ => return None,
    };
    Some((node, notice))
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
                let kind = super::rows::backend(err).kind();
                tracing::warn!(error = kind, "cannot listen for wake-ups; retrying");
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
                    Some((_, Notice::Wake(devices))) => sink(RemoteWake::Devices(devices)),
                    Some((_, Notice::Connected(devices))) => sink(RemoteWake::Replaced(devices)),
                    Some((_, Notice::Ephemeral(devices, frame))) => {
                        sink(RemoteWake::Ephemeral(devices, frame));
                    }
                    None => tracing::warn!("ignored a malformed wake-up notice"),
                },
                // The connection dropped; the next call reconnects and listens again.
                Ok(None) => sink(RemoteWake::Everyone),
                Err(err) => {
                    let kind = super::rows::backend(err).kind();
                    tracing::warn!(error = kind, "the wake-up listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: u64) -> DeviceId {
        DeviceId::new(id).expect("valid")
    }

    #[test]
    fn notices_round_trip_in_chunks_and_garbage_is_refused() {
        let mut batch = Batch::default();
        batch.add(Signal::Wake((1..=700).map(dev).collect()));
        batch.add(Signal::Connected(dev(9), 5));
        batch.add(Signal::Connected(dev(9), 7));
        let payloads = batch.payloads(0xabc);
        assert_eq!(
            payloads.len(),
            4,
            "three chunks of wake-ups, one of connections"
        );
        assert!(payloads.iter().all(|p| p.len() < 8_000));
        let mut woken = Vec::new();
        for payload in &payloads[..3] {
            let (node, Notice::Wake(devices)) = parse(payload).expect("valid") else {
                panic!("a wake-up");
            };
            assert_eq!(node, 0xabc);
            woken.extend(devices);
        }
        assert_eq!(woken, (1..=700).map(dev).collect::<Vec<_>>());
        assert_eq!(
            parse(&payloads[3]),
            Some((0xabc, Notice::Connected(vec![(dev(9), 7)]))),
            "the latest connection time of a device is sent"
        );
        let group = GroupId::from_bytes(&[5; 16]).expect("id");
        let mut typing = Batch::default();
        typing.add(Signal::Ephemeral(
            (1..=64).map(dev).collect(),
            std::sync::Arc::new((
                group.clone(),
                vec![0xAB; pli_proto::limits::MAX_EPHEMERAL_BYTES],
            )),
        ));
        let payloads = typing.payloads(7);
        assert_eq!(payloads.len(), 1);
        assert!(payloads[0].len() < 8_000, "{} bytes", payloads[0].len());
        let Some((7, Notice::Ephemeral(devices, frame))) = parse(&payloads[0]) else {
            panic!("an ephemeral notice");
        };
        assert_eq!(devices, (1..=64).map(dev).collect::<Vec<_>>());
        assert_eq!(frame.0, group);
        assert_eq!(frame.1.len(), pli_proto::limits::MAX_EPHEMERAL_BYTES);
        assert!(parse("ff e !! AA== 1").is_none());
        assert!(parse("zz w 1").is_none());
        assert!(parse("ff w 1 x").is_none());
        assert!(parse("ff q 1").is_none());
        assert!(parse("ff c 1").is_none());
    }
}
