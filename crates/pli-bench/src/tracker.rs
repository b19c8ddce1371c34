//! Which submitted message was delivered, and when. A message is recognised on arrival by
//! its AEAD tag (the last 16 bytes of the MLS ciphertext), which is unique per message, so
//! the receiver needs neither the server's id (known to the sender only after the reply,
//! which can come after the push) nor a decryption.

use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub type Tag = [u8; 16];

pub fn tag_of(ciphertext: &[u8]) -> Tag {
    let mut tag = [0; 16];
    let start = ciphertext.len().saturating_sub(16);
    tag[..ciphertext.len() - start].copy_from_slice(&ciphertext[start..]);
    tag
}

/// Per message: when it was submitted, how many deliveries of it are still expected, and
/// whether its latency counts (not for messages that waited in a queue on purpose).
#[derive(Default)]
pub struct Tracker {
    pending: Mutex<HashMap<Tag, Pending>>,
    outstanding: AtomicU64,
}

struct Pending {
    sent: Instant,
    copies: usize,
    timed: bool,
}

/// What one receiver saw.
pub struct Seen {
    pub latencies: Histogram<u64>,
    pub delivered: u64,
    /// Deliveries of tracked messages beyond the expected count.
    pub duplicated: u64,
}

impl Seen {
    pub fn new() -> Self {
        Self {
            latencies: Histogram::new_with_bounds(1, 600_000_000, 3)
                .expect("valid histogram bounds"),
            delivered: 0,
            duplicated: 0,
        }
    }
}

impl Tracker {
    /// Records that `ciphertext` is about to be submitted for `copies` recipient devices.
    pub fn sent(&self, ciphertext: &[u8], copies: usize, timed: bool) {
        let pending = Pending {
            sent: Instant::now(),
            copies,
            timed,
        };
        self.outstanding.fetch_add(copies as u64, Ordering::Relaxed);
        self.lock().insert(tag_of(ciphertext), pending);
    }

    /// Forgets a message the server refused: it will not be delivered.
    pub fn refused(&self, ciphertext: &[u8]) {
        if let Some(pending) = self.lock().remove(&tag_of(ciphertext)) {
            self.outstanding
                .fetch_sub(pending.copies as u64, Ordering::Relaxed);
        }
    }

    /// Records one delivery; ignores messages this run did not send (e.g. set-up commits).
    pub fn delivered(&self, ciphertext: &[u8], seen: &mut Seen, known: &mut KnownTags) {
        let tag = tag_of(ciphertext);
        let mut pending = self.lock();
        match pending.get_mut(&tag) {
            Some(entry) => {
                if entry.timed {
                    let micros = entry.sent.elapsed().as_micros().max(1) as u64;
                    let _ = seen.latencies.record(micros.min(600_000_000));
                }
                seen.delivered += 1;
                known.insert(tag);
                self.outstanding.fetch_sub(1, Ordering::Relaxed);
                entry.copies -= 1;
                if entry.copies == 0 {
                    pending.remove(&tag);
                }
            }
            None if !known.insert(tag) => seen.duplicated += 1,
            None => {}
        }
    }

    /// Deliveries still expected (accepted but not yet seen).
    pub fn outstanding(&self) -> u64 {
        self.outstanding.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Tag, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Tags a receiver has already had, to tell a duplicate from an untracked message.
pub type KnownTags = std::collections::HashSet<Tag>;
