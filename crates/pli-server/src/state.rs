//! The service's shared state: what every HTTP handler, WebSocket session and background
//! job works with (store, connection hub, configuration, clock, rate limits, the
//! transparency records, the shutdown signal). Apart from the HTTP layer, so the domains
//! (delivery, retention, governance) use it without importing `http`.

use crate::accounts::Challenges;
use crate::clock::Clock;
use crate::config::Config;
use crate::delivery::Hub;
use crate::governance::{Governance, GovernanceError};
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{mpsc, watch};

/// A rate limit refused the call; a token is available again after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many requests: retry in {retry_after_ms} ms")]
pub struct RateLimited {
    pub retry_after_ms: u64,
}

/// Shared by every handler and WebSocket session.
pub struct AppState<S: Store> {
    inner: Arc<Shared<S>>,
}

impl<S: Store> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S: Store> std::ops::Deref for AppState<S> {
    type Target = Shared<S>;
    fn deref(&self) -> &Shared<S> {
        &self.inner
    }
}

/// The server secrets the state keys with (loaded from the store at start).
pub struct ServerKeys {
    /// Keys the registration challenges.
    pub challenges: [u8; 32],
    /// Derives the franking stamp keys (`franking`).
    pub franking: [u8; 32],
}

pub struct Shared<S: Store> {
    pub store: S,
    /// The key transparency directory.
    pub directory: Arc<crate::directory::KeyDirectory<S>>,
    pub hub: Hub,
    pub challenges: Challenges,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub registrations: RateLimiter<IpAddr>,
    pub sends: RateLimiter<pli_proto::DeviceId>,
    pub claims: RateLimiter<pli_proto::DeviceId>,
    /// Abuse reports filed per device ([`pli_proto::abuse::REPORTS_PER_HOUR`]).
    pub reports: RateLimiter<pli_proto::DeviceId>,
    pub sources: RateLimiter<IpAddr>,
    pub governance: Governance,
    /// Stamps accepted texts and checks reported ones.
    pub franker: crate::franking::Franker,
    shutdown: watch::Receiver<bool>,
    sessions: mpsc::Sender<()>,
    request_ids: AtomicU64,
    /// Started, or draining: what `GET /v1/ready` answers.
    lifecycle: Arc<Lifecycle>,
}

/// Where the node is in its life. Its own `Arc`: the task that waits for the shutdown
/// signal marks the drain with it, and must not hold the whole state (`crate::serve` waits
/// for the last state to drop before it returns).
#[derive(Debug, Default)]
pub struct Lifecycle {
    /// Set once the jobs are started.
    ready: AtomicBool,
    /// Set when the shutdown signal comes, before the listeners stop: load balancers see
    /// the node leave while it still serves.
    draining: AtomicBool,
}

impl Lifecycle {
    /// The node is shutting down: `GET /v1/ready` answers 503 `draining` from now on.
    pub fn begin_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }
}

/// Whether a node takes traffic (`GET /v1/ready`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Starting,
    Ready,
    /// Shutting down: finishing what is in flight, taking nothing new.
    Draining,
}

/// The service's two public, verifiable records: the audit log of staff actions (with the
/// rules it enforces) and the key directory.
pub struct Transparency<S: Store> {
    pub governance: Governance,
    pub directory: Arc<crate::directory::KeyDirectory<S>>,
}

impl<S: Store> AppState<S> {
    pub fn new(
        store: S,
        config: Config,
        clock: Arc<dyn Clock>,
        keys: ServerKeys,
        transparency: Transparency<S>,
        shutdown: watch::Receiver<bool>,
        sessions: mpsc::Sender<()>,
    ) -> Self {
        let Transparency {
            governance,
            directory,
        } = transparency;
        let registrations = RateLimiter::new(config.registrations_per_hour, 3_600_000);
        let sends = RateLimiter::new(config.limits.sends_per_minute, 60_000);
        let claims = RateLimiter::new(config.limits.claims_per_minute, 60_000);
        let sources = RateLimiter::new(config.limits.source_per_minute, 60_000);
        Self {
            inner: Arc::new(Shared {
                store,
                directory,
                hub: Hub::default(),
                challenges: Challenges::new(keys.challenges),
                config,
                clock,
                registrations,
                sends,
                claims,
                reports: RateLimiter::new(pli_proto::abuse::REPORTS_PER_HOUR, 3_600_000),
                sources,
                governance,
                franker: crate::franking::Franker::new(keys.franking),
                shutdown,
                sessions,
                request_ids: AtomicU64::new(1),
                lifecycle: Arc::default(),
            }),
        }
    }

    /// Closes the devices' connections on every node (their account moved or was
    /// deleted): a device that reconnects is looked up afresh.
    pub fn disconnect(&self, devices: impl IntoIterator<Item = pli_proto::DeviceId>) {
        let now = crate::delivery::wall_clock_ms() + 1;
        let devices: Vec<_> = devices.into_iter().collect();
        for device in &devices {
            self.store.announce_connected(*device);
        }
        self.hub.replace(devices.into_iter().map(|d| (d, now)));
    }

    /// The node started its jobs: from now on it is ready for traffic (until it drains).
    pub fn mark_ready(&self) {
        self.lifecycle.ready.store(true, Ordering::Release);
    }

    /// Started, and not shutting down.
    pub fn readiness(&self) -> Readiness {
        if *self.shutdown.borrow() || self.lifecycle.draining.load(Ordering::Acquire) {
            Readiness::Draining
        } else if self.lifecycle.ready.load(Ordering::Acquire) {
            Readiness::Ready
        } else {
            Readiness::Starting
        }
    }

    /// The node's lifecycle, for the task that marks the drain.
    pub fn lifecycle(&self) -> Arc<Lifecycle> {
        self.lifecycle.clone()
    }

    /// Resolves when the server begins shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// Takes a token from the device's bucket and the source's.
    pub fn rate_limit(
        &self,
        per_device: &RateLimiter<pli_proto::DeviceId>,
        device: pli_proto::DeviceId,
        source: IpAddr,
    ) -> Result<(), RateLimited> {
        let now = self.clock.now_ms();
        let limited = |retry_after_ms| RateLimited { retry_after_ms };
        per_device.check(&device, now).map_err(limited)?;
        self.sources
            .check(&crate::ratelimit::source_key(source), now)
            .map_err(limited)
    }

    /// Records a staff action that changes nothing (a read) in the audit log: every admin
    /// call is logged, reads included.
    pub async fn log_action(
        &self,
        actor: crate::governance::Actor,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), GovernanceError> {
        self.governance
            .record(
                &self.store,
                self.clock.as_ref(),
                actor,
                action,
                "ok",
                details,
                Default::default(),
            )
            .await?;
        Ok(())
    }

    /// A fresh id for one request's log lines (and its `x-request-id`).
    pub fn next_request_id(&self) -> u64 {
        self.request_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Held by long-lived tasks (WebSocket sessions); shutdown waits until all are dropped.
    pub fn session_guard(&self) -> mpsc::Sender<()> {
        self.sessions.clone()
    }
}
