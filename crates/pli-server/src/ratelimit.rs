//! Token-bucket rate limits keyed by an in-memory value (a source address, a device).
//! Keys live only in memory and only while their bucket is not full: nothing here is ever
//! written to storage or logs.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

/// Buckets kept before full ones are swept, bounding memory under a flood of sources.
const SWEEP_AT: usize = 100_000;

pub struct RateLimiter<K> {
    capacity: f64,
    per_ms: f64,
    buckets: Mutex<HashMap<K, (f64, u64)>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `capacity` tokens, refilled at `capacity` per `window_ms`.
    pub fn new(capacity: u32, window_ms: u64) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_ms: f64::from(capacity) / window_ms.max(1) as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token; on refusal returns the milliseconds until one is available.
    pub fn check(&self, key: &K, now_ms: u64) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= SWEEP_AT {
            let (capacity, per_ms) = (self.capacity, self.per_ms);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now_ms.saturating_sub(*at) as f64 * per_ms < capacity
            });
        }
        let (tokens, at) = buckets
            .entry(key.clone())
            .or_insert((self.capacity, now_ms));
        *tokens = (*tokens + now_ms.saturating_sub(*at) as f64 * self.per_ms).min(self.capacity);
        *at = now_ms;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_ms).ceil() as u64)
        }
    }
}

/// The key for a source address: IPv6 clients are grouped by /64, the unit one subscriber
/// usually controls, so rotating addresses inside it does not multiply the allowance.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_past_capacity_and_refills() {
        let limiter = RateLimiter::new(2, 1_000);
        assert!(limiter.check(&"a", 0).is_ok());
        assert!(limiter.check(&"a", 0).is_ok());
        let wait = limiter.check(&"a", 0).expect_err("empty");
        assert_eq!(wait, 500);
        assert!(limiter.check(&"b", 0).is_ok(), "other keys are independent");
        assert!(limiter.check(&"a", 500).is_ok());
    }

    #[test]
    fn ipv6_sources_group_by_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(source_key(a), source_key(b));
    }
}
