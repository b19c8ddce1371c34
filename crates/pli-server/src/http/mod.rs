//! The HTTP + JSON control plane and the WebSocket entry point.
//!
//! - [`AppState`] (in `crate::state`): what every handler and session shares.
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
pub mod surface;

use crate::store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use pli_proto::limits::MAX_HTTP_BODY_BYTES;
use tracing::Instrument;

pub use crate::state::{AppState, Shared, Transparency};
pub use error::ApiError;
pub use surface::Surface;

/// Where the admin listener serves Prometheus metrics (`crate::telemetry`).
pub const METRICS_PATH: &str = "/metrics";

/// The router for one listener, with body limits and privacy-safe request logging.
pub fn router<S: Store>(state: AppState<S>, surface: Surface) -> Router {
    let routes = match surface {
        Surface::All => routes::routes::<S>().merge(admin::routes::<S>()),
        Surface::Public => routes::routes::<S>(),
        // Metrics only where the admin API has a listener of its own: never on the public
        // one, even when it also serves the admin API.
        Surface::Admin => admin::routes::<S>().route(METRICS_PATH, axum::routing::get(scrape::<S>)),
    };
    // The staff console goes wherever the admin API goes, and nowhere else. Its cookies are
    // `Secure` when the browser comes over TLS (directly, or through the TLS proxy that
    // plain HTTP off loopback requires).
    let secure = state.config.tls.is_some() || state.config.allow_plain_http;
    let routes = match surface {
        Surface::Public => routes,
        Surface::All | Surface::Admin => routes.merge(crate::console::routes::<S>(secure)),
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

/// The router of a listener for Prometheus alone (`--metrics-listen`): `/metrics`, and 404
/// for everything else.
pub fn metrics_router<S: Store>(state: AppState<S>) -> Router {
    Router::new()
        .route(METRICS_PATH, axum::routing::get(scrape::<S>))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}

/// A scrape: the figures read from the store refreshed (`crate::telemetry::sample`), then
/// the process's metrics in Prometheus' text format.
async fn scrape<S: Store>(
    axum::extract::State(state): axum::extract::State<AppState<S>>,
) -> impl axum::response::IntoResponse {
    crate::telemetry::sample::sample(&state).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::telemetry::render(),
    )
}

async fn log_request<S: Store>(
    axum::extract::State(state): axum::extract::State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    let id = state.next_request_id();
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
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(%method, route, status, code, ms = elapsed.as_millis() as u64, "handled");
    });
    // The route's template, never its concrete path (which may hold a username).
    let labels = [
        ("route", route.clone()),
        ("method", method.as_str().to_owned()),
    ];
    metrics::histogram!(crate::telemetry::HTTP_SECONDS, &labels).record(elapsed.as_secs_f64());
    metrics::counter!(crate::telemetry::HTTP_REQUESTS, "route" => route, "method" => method.as_str().to_owned(), "status" => status.to_string()).increment(1);
    if let Ok(value) = id.to_string().parse() {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
