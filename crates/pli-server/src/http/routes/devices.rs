//! `GET /v1/users/{username}/devices`: a user's devices and their signature keys, for
//! clients checking who they are about to encrypt to. Authenticated, so it is not an open
//! directory for scrapers.

use super::path_username;
use crate::http::extract::AuthDevice;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{DeviceInfo, UserDevicesResponse};

#[tracing::instrument(skip_all)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(_): AuthDevice,
    Path(raw): Path<String>,
) -> Result<Json<UserDevicesResponse>, ApiError> {
    let username = path_username(&raw)?;
    let devices = state.store.list_devices(&username).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownUser,
            "no such user",
        )
    })?;
    Ok(Json(UserDevicesResponse {
        username,
        devices: devices
            .into_iter()
            .map(|d| DeviceInfo {
                device_id: d.device_id,
                signature_key: d.signature_key.into(),
            })
            .collect(),
    }))
}
