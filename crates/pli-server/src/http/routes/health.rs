use axum::Json;
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
