use axum::Json;
use pli_proto::api::HealthResponse;

/// Liveness for load balancers and scripts; says nothing about users.
pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
