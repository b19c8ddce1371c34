//! `GET /v1/users/{username}/devices`: a user's devices and their signature keys, for
//! clients checking who they are about to encrypt to. Authenticated, so it is not an open
//! directory for scrapers.

use crate::http::extract::ApiPath;
use crate::http::extract::AuthDevice;
use crate::http::extract::path_username;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{DeviceInfo, UserDevicesResponse};
use pli_proto::error::ErrorBody;

/// A user's devices and their signature keys.
#[utoipa::path(get, path = pli_proto::api::paths::USER_DEVICES, tag = "keys",
    operation_id = "list_user_devices",
    security(("device" = [])),
    params(("username" = pli_proto::Username, Path, description = "The user to list")),
    responses(
        (status = 200, body = UserDevicesResponse, description = "The user's devices"),
        (status = 404, body = ErrorBody, description = "`unknown_user`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(_): AuthDevice,
    ApiPath(raw): ApiPath<String>,
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
