//! `POST /v1/key-packages` (upload, validated one by one) and `GET /v1/devices/self`.

use crate::http::extract::{ApiJson, AuthDevice};
use crate::http::{ApiError, AppState};
use crate::keys::{self, Uploader};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{SelfDeviceResponse, UploadKeyPackagesRequest, UploadKeyPackagesResponse};
use pli_proto::error::ErrorBody;
use pli_proto::limits::{MAX_KEY_PACKAGES_PER_DEVICE, MAX_KEY_PACKAGES_PER_UPLOAD};

/// Uploads one-time key packages and optionally replaces the last-resort one. Each is
/// checked before any is stored; one bad package refuses the whole upload.
#[utoipa::path(post, path = pli_proto::api::paths::KEY_PACKAGES, tag = "keys",
    security(("device" = [])),
    request_body = UploadKeyPackagesRequest,
    responses(
        (status = 200, body = UploadKeyPackagesResponse, description = "Stored"),
        (status = 409, body = ErrorBody, description = "`too_many_key_packages`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn upload<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<UploadKeyPackagesRequest>,
) -> Result<Json<UploadKeyPackagesResponse>, ApiError> {
    if request.key_packages.len() > MAX_KEY_PACKAGES_PER_UPLOAD {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::TooManyKeyPackages,
            format!("at most {MAX_KEY_PACKAGES_PER_UPLOAD} key packages per upload"),
        ));
    }
    let devices = state
        .store
        .list_devices(&device.username)
        .await?
        .unwrap_or_default();
    let signature_key = devices
        .into_iter()
        .find(|d| d.device_id == device.device_id)
        .map(|d| d.signature_key)
        .ok_or_else(|| ApiError::internal(&"authenticated device missing from its account"))?;
    let uploader = Uploader {
        username: &device.username,
        device_id: device.device_id,
        signature_key: &signature_key,
    };
    for package in &request.key_packages {
        keys::validate(package.as_slice(), &uploader, false)?;
    }
    if let Some(package) = &request.last_resort {
        keys::validate(package.as_slice(), &uploader, true)?;
    }
    let status = state
        .store
        .add_key_packages(
            device.device_id,
            request
                .key_packages
                .into_iter()
                .map(|p| p.into_inner())
                .collect(),
            request.last_resort.map(|p| p.into_inner()),
            MAX_KEY_PACKAGES_PER_DEVICE,
        )
        .await?;
    Ok(Json(UploadKeyPackagesResponse {
        key_packages_available: status.available,
    }))
}

/// The calling device and how many key packages it has left on the server.
#[utoipa::path(get, path = pli_proto::api::paths::SELF_DEVICE, tag = "keys",
    security(("device" = [])),
    responses((status = 200, body = SelfDeviceResponse, description = "The calling device")))]
#[tracing::instrument(skip_all)]
pub async fn self_device<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<SelfDeviceResponse>, ApiError> {
    let status = state.store.key_package_status(device.device_id).await?;
    Ok(Json(SelfDeviceResponse {
        device_id: device.device_id,
        key_packages_available: status.available,
        has_last_resort: status.has_last_resort,
    }))
}
