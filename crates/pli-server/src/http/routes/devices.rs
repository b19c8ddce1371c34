//! A user's devices: `GET /v1/users/{username}/devices` lists them with their signature
//! keys (authenticated, so it is not an open directory for scrapers); `POST /v1/devices`
//! adds one to the caller's account, endorsed by the calling device; `DELETE
//! /v1/devices/{device_id}` removes one. Every change is published in the key directory.

use crate::directory::publish::changing_devices;
use crate::http::extract::ApiJson;
use crate::http::extract::ApiPath;
use crate::http::extract::AuthDevice;
use crate::http::extract::path_username;
use crate::http::{ApiError, AppState};
use crate::store::NewDevice;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::DeviceId;
use pli_proto::ErrorCode;
use pli_proto::api::{
    AddDeviceRequest, AddDeviceResponse, DeviceInfo, RemoveDeviceResponse, UserDevicesResponse,
};
use pli_proto::error::ErrorBody;
use pli_proto::kt::{DirectoryDevice, Endorsement, MAX_DIRECTORY_DEVICES};

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

fn refused(status: StatusCode, code: ErrorCode, message: &str) -> ApiError {
    ApiError::new(status, code, message)
}

/// Adds a device to the caller's account, endorsed by the calling device; the key
/// directory publishes it in the next epoch.
#[utoipa::path(post, path = pli_proto::api::paths::DEVICES, tag = "keys",
    operation_id = "add_device",
    security(("device" = [])),
    request_body = AddDeviceRequest,
    responses(
        (status = 200, body = AddDeviceResponse, description = "Added"),
        (status = 400, body = ErrorBody, description = "`bad_request`, `invalid_endorsement`"),
        (status = 409, body = ErrorBody, description = "`device_id_taken`, `too_many_devices`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(caller): AuthDevice,
    ApiJson(request): ApiJson<AddDeviceRequest>,
) -> Result<Json<AddDeviceResponse>, ApiError> {
    let user = caller.username;
    if request.signature_key.as_slice().len() != crate::accounts::SIGNATURE_KEY_BYTES {
        return Err(ApiError::bad_request("the signature key must be 32 bytes"));
    }
    let secret_hash: [u8; 32] = request
        .secret_hash
        .as_slice()
        .try_into()
        .map_err(|_| ApiError::bad_request("the secret hash must be 32 bytes"))?;
    let signature: [u8; 64] = request.endorsement.as_slice().try_into().map_err(|_| {
        refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidEndorsement,
            "the endorsement must be a 64-byte signature",
        )
    })?;
    let devices = state.store.list_devices(&user).await?.unwrap_or_default();
    if devices.len() >= MAX_DIRECTORY_DEVICES {
        return Err(refused(
            StatusCode::CONFLICT,
            ErrorCode::TooManyDevices,
            "the account has its maximum of devices",
        ));
    }
    let endorser = devices
        .iter()
        .find(|d| d.device_id == caller.device_id)
        .ok_or_else(|| ApiError::from(crate::store::StoreError::UnknownDevice))?;
    let endorsement = Endorsement {
        by: caller.device_id,
        signature,
    };
    let listed = DirectoryDevice {
        device_id: request.device_id,
        signature_key: request.signature_key.as_slice().to_vec(),
        endorsement: Some(endorsement.clone()),
    };
    // The server checks what every monitor will check, so it never publishes a device
    // that the user's own devices would report.
    if !endorsement.verifies(&user, &listed, &endorser.signature_key) {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidEndorsement,
            "the endorsement does not verify with the calling device's key",
        ));
    }
    // The approving device's directory keys for the new one: public keys and a MAC, kept
    // only as a queued delivery to the new device (read once, then acked away).
    let link_keys = match &request.directory_keys {
        Some(keys)
            if keys.origin.len() > 256
                || keys.signing_key.as_slice().len() != 32
                || keys.vrf_public_key.as_slice().len() > 64
                || keys.mac.as_slice().len() != 32 =>
        {
            return Err(ApiError::bad_request(
                "the directory keys are not an origin, two public keys and a 32-byte MAC",
            ));
        }
        Some(keys) => Some(serde_json::to_vec(keys).expect("keys always serialise")),
        None => None,
    };
    let device = NewDevice {
        device_id: request.device_id,
        secret_hash,
        signature_key: listed.signature_key,
        endorsement,
    };
    changing_devices(&state.store, &user, state.store.add_device(&user, device)).await?;
    if let Some(payload) = link_keys {
        state
            .store
            .deliver(
                pli_proto::frame::KIND_LINK_KEYS,
                payload,
                vec![request.device_id],
                crate::store::stored_time(state.clock.now_ms()),
            )
            .await?;
    }
    tracing::info!("device added");
    Ok(Json(AddDeviceResponse {
        device_id: request.device_id,
    }))
}

/// Removes one of the caller's devices (not the last: deleting the account does that); its
/// connections close and the key directory publishes the change in the next epoch.
#[utoipa::path(delete, path = pli_proto::api::paths::DEVICE, tag = "keys",
    operation_id = "remove_device",
    security(("device" = [])),
    params(("device_id" = DeviceId, Path, description = "The device to remove")),
    responses(
        (status = 200, body = RemoveDeviceResponse, description = "Removed"),
        (status = 404, body = ErrorBody, description = "`unknown_device`"),
        (status = 409, body = ErrorBody, description = "`last_device`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn remove<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(caller): AuthDevice,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<RemoveDeviceResponse>, ApiError> {
    let user = caller.username;
    let device: DeviceId = raw
        .parse()
        .map_err(|_| ApiError::bad_request("not a device id"))?;
    let unknown = || {
        refused(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownDevice,
            "the account has no such device",
        )
    };
    let devices = state.store.list_devices(&user).await?.unwrap_or_default();
    if !devices.iter().any(|d| d.device_id == device) {
        return Err(unknown());
    }
    if devices.len() == 1 {
        return Err(refused(
            StatusCode::CONFLICT,
            ErrorCode::LastDevice,
            "this is the account's last device: delete the account instead",
        ));
    }
    let removed = changing_devices(
        &state.store,
        &user,
        state.store.remove_device(&user, device),
    )
    .await?;
    if !removed {
        return Err(unknown());
    }
    state.disconnect([device]);
    tracing::info!("device removed");
    Ok(Json(RemoveDeviceResponse { removed: device }))
}
