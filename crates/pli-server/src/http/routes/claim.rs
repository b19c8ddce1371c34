//! `POST /v1/users/{username}/key-packages/claim`: one key package per device of the user,
//! each one-time package handed out once (the last-resort one when none is left).

use crate::http::extract::ApiPath;
use crate::http::extract::AuthDevice;
use crate::http::extract::path_username;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{ClaimResponse, ClaimedKeyPackage};
use pli_proto::error::ErrorBody;
use std::net::SocketAddr;

/// Claims one key package for each of the user's devices, to add them to a group.
#[utoipa::path(post, path = pli_proto::api::paths::USER_CLAIM, tag = "keys",
    security(("device" = [])),
    params(("username" = pli_proto::Username, Path, description = "The user whose devices to claim for")),
    responses(
        (status = 200, body = ClaimResponse, description = "One package per device"),
        (status = 404, body = ErrorBody, description = "`unknown_user`"),
        (status = 409, body = ErrorBody, description = "`no_key_package`: the user's devices have none left"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn claim<S: Store>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AuthDevice(device): AuthDevice,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<ClaimResponse>, ApiError> {
    state.rate_limit(&state.claims, device.device_id, peer.ip())?;
    let username = path_username(&raw)?;
    let claimed = state
        .store
        .claim_key_packages(&username)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownUser,
                "no such user",
            )
        })?;
    if claimed.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::NoKeyPackage,
            "the user has no key package available",
        ));
    }
    Ok(Json(ClaimResponse {
        username,
        key_packages: claimed
            .into_iter()
            .map(|c| ClaimedKeyPackage {
                device_id: c.device_id,
                key_package: c.key_package.into(),
                last_resort: c.last_resort,
            })
            .collect(),
    }))
}
