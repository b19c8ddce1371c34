use crate::state::{AppState, Readiness};
use crate::store::Store;
use axum::Json;
use axum::http::StatusCode;
use pli_proto::api::HealthResponse;

/// Liveness for load balancers and scripts; says nothing about users.
#[utoipa::path(get, path = pli_proto::api::paths::HEALTH, tag = "service",
    responses((status = 200, body = HealthResponse, description = "The server is up")))]
pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness for load balancers: 200 once the node answers from its database and has
/// started its jobs; 503 while it starts, when its database does not answer, and from the
/// moment it begins to drain (so traffic moves to another node before it stops).
#[utoipa::path(get, path = pli_proto::api::paths::READY, tag = "service",
    responses(
        (status = 200, body = HealthResponse, description = "Ready for traffic (`ready`)"),
        (status = 503, body = HealthResponse,
            description = "Not ready: `starting`, `draining` or `database_unavailable`")))]
pub async fn ready<S: Store>(
    axum::extract::State(state): axum::extract::State<AppState<S>>,
) -> (StatusCode, Json<HealthResponse>) {
    let status = match state.readiness() {
        Readiness::Starting => "starting",
        Readiness::Draining => "draining",
        Readiness::Ready => match state.store.list_staff().await {
            Ok(_) => "ready",
            Err(_) => "database_unavailable",
        },
    };
    let code = if status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(HealthResponse {
            status: status.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
}
