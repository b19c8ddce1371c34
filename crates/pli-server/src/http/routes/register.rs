//! `GET /v1/register/challenge`, `POST /v1/accounts`: registration with a proof of work and a
//! per-source rate limit. The source address is used in memory for the limit only.

use crate::accounts;
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::ratelimit::source_key;
use crate::state::AppState;
use crate::store::{Store, StoreError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::api::{ChallengeResponse, RegisterRequest, RegisterResponse};
use pli_proto::error::ErrorBody;

/// A fresh proof-of-work puzzle, valid for a few minutes.
#[utoipa::path(get, path = pli_proto::api::paths::CHALLENGE, tag = "accounts",
    responses((status = 200, body = ChallengeResponse, description = "A puzzle to solve")))]
#[tracing::instrument(skip_all)]
pub async fn challenge<S: Store>(State(state): State<AppState<S>>) -> Json<ChallengeResponse> {
    Json(ChallengeResponse {
        challenge: state.challenges.mint(state.clock.now_ms()),
        difficulty: state.config.pow_difficulty,
    })
}

/// Registers a username with its first device, given a solved puzzle.
#[utoipa::path(post, path = pli_proto::api::paths::ACCOUNTS, tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisterResponse, description = "Registered; the secret is shown once"),
        (status = 409, body = ErrorBody, description = "`username_taken`"),
        (status = 422, body = ErrorBody, description = "`unknown_region`: the server has no such region"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn register<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    state
        .registrations
        .check(&source_key(client), state.clock.now_ms())
        .map_err(ApiError::rate_limited)?;
    let home = match &request.region {
        Some(region) if state.config.serves(region) => region.clone(),
        Some(_) => return Err(StoreError::UnknownRegion.into()),
        None => state.config.home_default(),
    };
    let response = accounts::register(
        &state.store,
        &state.challenges,
        state.clock.as_ref(),
        state.config.pow_difficulty,
        request,
        home,
    )
    .await?;
    tracing::info!("account registered");
    Ok((StatusCode::CREATED, Json(response)))
}
