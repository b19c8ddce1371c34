//! `POST /v1/key-packages` (upload, validated one by one) and `GET /v1/devices/self`.

use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, AuthDevice};
use crate::keys::{self, Uploader};
use crate::state::AppState;
use crate::store::{KeyPackageTime, KeyPackageUpload, NewKeyPackage, Store};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{SelfDeviceResponse, UploadKeyPackagesRequest, UploadKeyPackagesResponse};
use pli_proto::error::ErrorBody;
use pli_proto::limits::{MAX_KEY_PACKAGES_PER_DEVICE, MAX_KEY_PACKAGES_PER_UPLOAD};

/// Uploads one-time key packages and optionally replaces the last-resort one. Each is
/// checked before any is stored; one bad package refuses the whole upload. The device's
/// expired one-time packages are deleted (with `replace_expiring`, those expiring soon too).
#[utoipa::path(post, path = pli_proto::api::paths::KEY_PACKAGES, tag = "keys",
    security(("device" = [])),
    request_body = UploadKeyPackagesRequest,
    responses(
        (status = 200, body = UploadKeyPackagesResponse, description = "Stored"),
        (status = 400, body = ErrorBody, description = "`invalid_key_package`; \
            `key_package_expired`: a package's lifetime has ended; \
            `key_package_lifetime_too_long`: a package is valid for longer than 90 days \
            (plus an hour of clock skew)"),
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
    let now_s = state.clock.now_ms() / 1000;
    let checked = |package: pli_proto::b64::Bytes64, last_resort: bool| {
        let not_after = keys::validate(package.as_slice(), &uploader, last_resort, now_s)?;
        Ok::<_, ApiError>(NewKeyPackage {
            data: package.into_inner(),
            not_after,
        })
    };
    let one_time = request
        .key_packages
        .into_iter()
        .map(|p| checked(p, false))
        .collect::<Result<Vec<_>, _>>()?;
    let last_resort = request.last_resort.map(|p| checked(p, true)).transpose()?;
    let status = state
        .store
        .add_key_packages(
            device.device_id,
            KeyPackageUpload {
                one_time,
                last_resort,
                max_one_time: MAX_KEY_PACKAGES_PER_DEVICE,
                at: KeyPackageTime::at(now_s),
                replace_expiring: request.replace_expiring,
            },
        )
        .await?;
    Ok(Json(UploadKeyPackagesResponse {
        key_packages_available: status.available,
    }))
}

/// The calling device, how many key packages it has left on the server, and how many of
/// them expire soon (to be replaced).
#[utoipa::path(get, path = pli_proto::api::paths::SELF_DEVICE, tag = "keys",
    security(("device" = [])),
    responses((status = 200, body = SelfDeviceResponse, description = "The calling device")))]
#[tracing::instrument(skip_all)]
pub async fn self_device<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<SelfDeviceResponse>, ApiError> {
    let at = KeyPackageTime::at(state.clock.now_ms() / 1000);
    let status = state.store.key_package_status(device.device_id, at).await?;
    Ok(Json(SelfDeviceResponse {
        device_id: device.device_id,
        key_packages_available: status.available,
        has_last_resort: status.has_last_resort,
        key_packages_expiring: status.expiring,
        last_resort_expiring: status.last_resort_expiring,
    }))
}
