//! `POST /v1/users/{username}/key-packages/claim`: one key package per device of the user,
//! each one-time package handed out once (the last-resort one when none is left).

use super::path_username;
use crate::http::extract::AuthDevice;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{ClaimResponse, ClaimedKeyPackage};
use std::net::SocketAddr;

#[tracing::instrument(skip_all)]
pub async fn claim<S: Store>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AuthDevice(device): AuthDevice,
    Path(raw): Path<String>,
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
