//! A user's devices: `GET /v1/users/{username}/devices` lists them with their signature
//! keys (authenticated, so it is not an open directory for scrapers); `POST /v1/devices`
//! adds one to the caller's account, endorsed by the calling device; `DELETE
//! /v1/devices/{device_id}` removes one. Every change is published in the key directory.

use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::extract::ApiPath;
use crate::http::extract::AuthDevice;
use crate::http::extract::path_username;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::DeviceId;
use pli_proto::ErrorCode;
use pli_proto::api::{
    AddDeviceRequest, AddDeviceResponse, DeviceInfo, RemoveDeviceResponse, UserDevicesResponse,
};
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

/// Adds a device to the caller's account, endorsed by the calling device; the key
/// directory publishes it in the next epoch.
#[utoipa::path(post, path = pli_proto::api::paths::DEVICES, tag = "keys",
    operation_id = "add_device",
    security(("device" = [])),
    request_body = AddDeviceRequest,
    responses(
        (status = 200, body = AddDeviceResponse, description = "Added"),
        (status = 400, body = ErrorBody, description = "`bad_request`, `invalid_endorsement`"),
        (status = 403, body = ErrorBody, description = "`account_suspended`"),
        (status = 409, body = ErrorBody, description = "`device_id_taken`, `too_many_devices`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(caller): AuthDevice,
    ApiJson(request): ApiJson<AddDeviceRequest>,
) -> Result<Json<AddDeviceResponse>, ApiError> {
    refuse_if_suspended(&state, &caller.username).await?;
    crate::devices::add(&state.store, &caller, &request, state.clock.now_ms()).await?;
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
    let device: DeviceId = raw
        .parse()
        .map_err(|_| ApiError::bad_request("not a device id"))?;
    crate::devices::remove(&state.store, &caller, device).await?;
    state.disconnect([device]);
    tracing::info!("device removed");
    Ok(Json(RemoveDeviceResponse { removed: device }))
}

/// A sealed history part in the API description: binary, not JSON.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SealedHistoryPart(#[allow(dead_code)] Vec<u8>);

/// Relays one part of a history archive to another device of the caller's account (a
/// newly linked one), sealed under their link secret: the server queues the ciphertext for
/// that device alone, for two days at most.
#[utoipa::path(post, path = pli_proto::api::paths::DEVICE_HISTORY, tag = "keys",
    operation_id = "relay_history",
    security(("device" = [])),
    params(("device_id" = DeviceId, Path, description = "The device the part is for")),
    request_body(content = SealedHistoryPart, content_type = "application/octet-stream",
        description = "The part's ciphertext, 1 byte to 192 KiB"),
    responses(
        (status = 204, description = "Queued for the device"),
        (status = 400, body = ErrorBody, description = "`bad_request`: not a device id, or the caller itself"),
        (status = 404, body = ErrorBody, description = "`unknown_device`: not a device of the caller's account"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn relay_history<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(caller): AuthDevice,
    ApiPath(raw): ApiPath<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let device: DeviceId = raw
        .parse()
        .map_err(|_| ApiError::bad_request("not a device id"))?;
    state.rate_limit(&state.sends, caller.device_id, client)?;
    crate::devices::relay_history(
        &state.store,
        &caller,
        device,
        body.to_vec(),
        state.clock.now_ms(),
    )
    .await?;
    state.hub.wake([device]);
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a suspended account's claims and device registrations (`account_suspended`).
pub(super) async fn refuse_if_suspended<S: Store>(
    state: &AppState<S>,
    account: &pli_proto::Username,
) -> Result<(), ApiError> {
    let until =
        crate::moderation::suspended_until(&state.store, state.clock.as_ref(), account).await?;
    match until {
        Some(_) => Err(crate::http::error::suspended()),
        None => Ok(()),
    }
}
