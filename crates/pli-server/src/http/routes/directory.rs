//! `/v1/directory/…` and `/v1/users/{username}/directory`: the key transparency directory.
//! Its keys, roots and append-only proofs are public, so anyone can audit it; lookups and a
//! user's own history need a device, so the directory is not an open list for scrapers.

use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery, AuthDevice, path_username};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::api::paths;
use pli_proto::error::ErrorBody;
use pli_proto::kt::{
    AuditProofResponse, DirectoryKeysResponse, HistoryResponse, LookupResponse, MAX_ROOTS,
    RootsResponse,
};

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RootsPage {
    /// The first epoch to return.
    #[serde(default)]
    from: u64,
    /// At most this many (capped at 1,000).
    #[serde(default = "max_roots")]
    limit: u64,
}

fn max_roots() -> u64 {
    MAX_ROOTS
}

/// Two epochs, `from < to`, at most 64 apart.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Epochs {
    from: u64,
    to: u64,
}

/// The keys that verify the directory: checkpoint signing key and VRF public key.
#[utoipa::path(get, path = paths::DIRECTORY_KEYS, tag = "directory",
    responses((status = 200, body = DirectoryKeysResponse, description = "The directory's keys")))]
pub async fn keys<S: Store>(State(state): State<AppState<S>>) -> Json<DirectoryKeysResponse> {
    Json(state.directory.keys())
}

/// Signed roots of published epochs, from `from`.
#[utoipa::path(get, path = paths::DIRECTORY_ROOTS, tag = "directory", params(RootsPage),
    responses((status = 200, body = RootsResponse, description = "Signed checkpoints")))]
pub async fn roots<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(page): ApiQuery<RootsPage>,
) -> Result<Json<RootsResponse>, ApiError> {
    let roots = state.directory.roots(page.from, page.limit).await?;
    Ok(Json(RootsResponse { roots }))
}

/// Append-only proofs from epoch `from` to epoch `to`.
#[utoipa::path(get, path = paths::DIRECTORY_AUDIT, tag = "directory", params(Epochs),
    responses(
        (status = 200, body = AuditProofResponse, description = "One proof per epoch step"),
        (status = 400, body = ErrorBody, description = "`invalid_epoch_range`"),
    ))]
pub async fn audit<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(epochs): ApiQuery<Epochs>,
) -> Result<Json<AuditProofResponse>, ApiError> {
    Ok(Json(state.directory.audit(epochs.from, epochs.to).await?))
}

/// The user's devices as the directory lists them, with a lookup proof.
#[utoipa::path(get, path = paths::USER_DIRECTORY, tag = "directory",
    security(("device" = [])),
    params(("username" = pli_proto::Username, Path, description = "The user to look up")),
    responses(
        (status = 200, body = LookupResponse, description = "Proof and signed root"),
        (status = 404, body = ErrorBody, description = "`not_in_directory`"),
        (status = 503, body = ErrorBody, description = "`directory_busy`: retry"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn lookup<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(_): AuthDevice,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<LookupResponse>, ApiError> {
    let user = path_username(&raw)?;
    Ok(Json(
        state.directory.lookup(&user, state.clock.as_ref()).await?,
    ))
}

/// The calling user's complete key history, for monitoring.
#[utoipa::path(get, path = paths::DIRECTORY_HISTORY, tag = "directory",
    security(("device" = [])),
    responses(
        (status = 200, body = HistoryResponse, description = "Proof and signed root"),
        (status = 404, body = ErrorBody, description = "`not_in_directory`"),
        (status = 503, body = ErrorBody, description = "`directory_busy`: retry"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn history<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<HistoryResponse>, ApiError> {
    Ok(Json(
        state
            .directory
            .history(&device.username, state.clock.as_ref())
            .await?,
    ))
}
