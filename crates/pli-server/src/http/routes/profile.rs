//! Encrypted profiles: `PUT`/`DELETE /v1/me/profile` store or remove the caller's,
//! `GET /v1/users/{username}/profile` reads anyone's. The server sees ciphertext only: the
//! display name and avatar open with a profile key the user shares inside conversations,
//! never with the server (docs/ARCHITECTURE.md, "Profiles").

use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, AuthDevice, path_username};
use crate::state::AppState;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use pli_proto::ErrorCode;
use pli_proto::error::ErrorBody;
use pli_proto::limits::MAX_PROFILE_BYTES;

/// A sealed profile in the API description: binary, not JSON. (Only described: handlers
/// take and give [`Bytes`].)
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SealedProfile(#[allow(dead_code)] Vec<u8>);

/// Stores the caller's encrypted profile, replacing the last.
#[utoipa::path(put, path = pli_proto::api::paths::MY_PROFILE, tag = "accounts",
    operation_id = "put_profile",
    security(("device" = [])),
    request_body(content = SealedProfile, content_type = "application/octet-stream",
        description = "The profile's ciphertext, 1 byte to 64 KiB"),
    responses(
        (status = 204, description = "Stored"),
        (status = 400, body = ErrorBody, description = "`bad_request`: empty (DELETE removes a profile)"),
        (status = 403, body = ErrorBody, description = "`account_suspended`"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn put<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "an empty profile: DELETE removes a profile",
        ));
    }
    if body.len() > MAX_PROFILE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("a profile holds at most {MAX_PROFILE_BYTES} bytes"),
        ));
    }
    state.rate_limit(&state.sends, device.device_id, client)?;
    super::devices::refuse_if_suspended(&state, &device.username).await?;
    state
        .store
        .set_profile(&device.username, Some(body.to_vec()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the caller's encrypted profile.
#[utoipa::path(delete, path = pli_proto::api::paths::MY_PROFILE, tag = "accounts",
    operation_id = "delete_profile",
    security(("device" = [])),
    responses((status = 204, description = "Removed (or there was none)")))]
#[tracing::instrument(skip_all)]
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<StatusCode, ApiError> {
    state.store.set_profile(&device.username, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's encrypted profile, for any device to fetch: only holders of its key open it.
#[utoipa::path(get, path = pli_proto::api::paths::USER_PROFILE, tag = "accounts",
    operation_id = "get_profile",
    security(("device" = [])),
    params(("username" = pli_proto::Username, Path, description = "Whose profile")),
    responses(
        (status = 200, content_type = "application/octet-stream", body = SealedProfile, description = "The profile's ciphertext"),
        (status = 404, body = ErrorBody, description = "`no_profile`: none stored, or no such user"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(_): AuthDevice,
    ApiPath(raw): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let username = path_username(&raw)?;
    let sealed = state.store.profile(&username).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoProfile,
            "no profile is stored for this name",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], sealed))
}
