//! Time, injected. Everything that expires or is dated (challenges, last-connection days,
//! queue ages) asks a `Clock`, so tests can move time instead of waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub const MS_PER_DAY: u64 = 86_400_000;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Whole days since the Unix epoch: the only precision pli keeps for people's dates.
    fn today(&self) -> i64 {
        (self.now_ms() / MS_PER_DAY) as i64
    }
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; shared between a test and the server it drives.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(now_ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now_ms)))
    }

    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new(MS_PER_DAY * 3 + 5);
        assert_eq!(clock.today(), 3);
        clock.advance(MS_PER_DAY);
        assert_eq!(clock.today(), 4);
        assert_eq!(clock.now_ms(), MS_PER_DAY * 4 + 5);
    }
}
