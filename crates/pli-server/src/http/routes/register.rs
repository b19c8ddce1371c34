//! `GET /v1/register/challenge`, `POST /v1/accounts`: registration with a proof of work and a
//! per-source rate limit. The source address is used in memory for the limit only.

use crate::accounts;
use crate::http::extract::ApiJson;
use crate::http::{ApiError, AppState};
use crate::ratelimit::source_key;
use crate::store::Store;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use pli_proto::api::{ChallengeResponse, RegisterRequest, RegisterResponse};
use std::net::SocketAddr;

#[tracing::instrument(skip_all)]
pub async fn challenge<S: Store>(State(state): State<AppState<S>>) -> Json<ChallengeResponse> {
    Json(ChallengeResponse {
        challenge: state.challenges.mint(state.clock.now_ms()),
        difficulty: state.config.pow_difficulty,
    })
}

#[tracing::instrument(skip_all)]
pub async fn register<S: Store>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    state
        .registrations
        .check(&source_key(peer.ip()), state.clock.now_ms())
        .map_err(ApiError::rate_limited)?;
    let response = accounts::register(
        &state.store,
        &state.challenges,
        state.clock.as_ref(),
        state.config.pow_difficulty,
        request,
    )
    .await?;
    tracing::info!("account registered");
    Ok((StatusCode::CREATED, Json(response)))
}
