//! The HTTP + JSON control plane and the WebSocket entry point.
//!
//! - [`AppState`]: what every handler shares (store, hub, config, clock, limits, shutdown).
//! - [`error`]: the one error type that maps every module's errors to stable wire codes.
//! - [`extract`]: the JSON body and device-auth extractors with stable rejections.
//! - [`routes`]: one file per endpoint.
//! - [`admin`]: the staff API, checked against the role table and logged.
//! - [`openapi`]: the description served at `/openapi.json`, generated from the handlers.
//!
//! Request logs carry a request id, the route *template*, the status and the latency, never
//! a concrete path (it may hold a username), an address or a body.

pub mod admin;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;

use crate::accounts::Challenges;
use crate::clock::Clock;
use crate::config::Config;
use crate::delivery::Hub;
use crate::governance::Governance;
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use pli_proto::limits::MAX_HTTP_BODY_BYTES;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

pub use error::ApiError;

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
    pub sources: RateLimiter<IpAddr>,
    pub governance: Governance,
    shutdown: watch::Receiver<bool>,
    sessions: mpsc::Sender<()>,
    request_ids: AtomicU64,
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
        server_key: [u8; 32],
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
                challenges: Challenges::new(server_key),
                config,
                clock,
                registrations,
                sends,
                claims,
                sources,
                governance,
                shutdown,
                sessions,
                request_ids: AtomicU64::new(1),
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

    /// Resolves when the server begins shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// Takes a token from the device's bucket and the source's; on refusal, `rate_limited`.
    pub fn rate_limit(
        &self,
        per_device: &RateLimiter<pli_proto::DeviceId>,
        device: pli_proto::DeviceId,
        source: IpAddr,
    ) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        per_device
            .check(&device, now)
            .map_err(ApiError::rate_limited)?;
        self.sources
            .check(&crate::ratelimit::source_key(source), now)
            .map_err(ApiError::rate_limited)
    }

    /// Records a staff action that changes nothing (a read) in the audit log: every admin
    /// call is logged, reads included.
    pub async fn log_action(
        &self,
        actor: crate::governance::Actor,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
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

    /// Held by long-lived tasks (WebSocket sessions); shutdown waits until all are dropped.
    pub fn session_guard(&self) -> mpsc::Sender<()> {
        self.sessions.clone()
    }
}

/// Which routes a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// User API and admin API on one listener.
    All,
    /// User API only (the admin API has its own listener).
    Public,
    /// Admin API only.
    Admin,
}

/// The router for one listener, with body limits and privacy-safe request logging.
pub fn router<S: Store>(state: AppState<S>, surface: Surface) -> Router {
    let routes = match surface {
        Surface::All => routes::routes::<S>().merge(admin::routes::<S>()),
        Surface::Public => routes::routes::<S>(),
        Surface::Admin => admin::routes::<S>(),
    };
    // Bytes, not String: the router (handlers included) is cloned for every connection,
    // and a cloned String would copy the whole description each time.
    let description = bytes::Bytes::from(openapi::json(surface));
    routes
        .route(
            openapi::PATH,
            axum::routing::get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    description,
                )
            }),
        )
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_HTTP_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log_request::<S>,
        ))
        .with_state(state)
}

async fn log_request<S: Store>(
    axum::extract::State(state): axum::extract::State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    let id = state.request_ids.fetch_add(1, Ordering::Relaxed);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", |p| p.as_str())
        .to_owned();
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("request", id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let code = response
        .extensions()
        .get::<pli_proto::ErrorCode>()
        .map(|c| c.as_str());
    span.in_scope(|| {
        tracing::info!(%method, route, status, code, ms = started.elapsed().as_millis() as u64, "handled");
    });
    if let Ok(value) = id.to_string().parse() {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
