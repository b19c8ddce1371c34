//! `POST /v1/users/{username}/key-packages/claim`: one key package per device of the user,
//! each one-time package handed out once (the last-resort one when none is left), never
//! one whose lifetime has ended on the server's clock.

use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::AuthDevice;
use crate::http::extract::path_username;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::ErrorCode;
use pli_proto::api::{ClaimResponse, ClaimedKeyPackage};
use pli_proto::error::ErrorBody;

/// Which of the user's devices to claim for.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// Only this device (one of the user's): a device added to the account joins the
    /// account's existing groups without spending the other devices' packages. A device
    /// the user does not have gets `no_key_package`.
    #[serde(default)]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 9_007_199_254_740_991_u64)]
    device: Option<pli_proto::DeviceId>,
}

/// Claims one key package for each of the user's devices, to add them to a group.
#[utoipa::path(post, path = pli_proto::api::paths::USER_CLAIM, tag = "keys",
    security(("device" = [])),
    params(
        ("username" = pli_proto::Username, Path, description = "The user whose devices to claim for"),
        ClaimQuery,
    ),
    responses(
        (status = 200, body = ClaimResponse, description = "One package per device"),
        (status = 403, body = ErrorBody, description = "`account_suspended`: the caller's account"),
        (status = 404, body = ErrorBody, description = "`unknown_user`"),
        (status = 409, body = ErrorBody, description = "`no_key_package`: the user's devices have none left; \
            `key_package_expired`: the user's devices have only expired ones (they have not been online to replace them)"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn claim<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(query): ApiQuery<ClaimQuery>,
) -> Result<Json<ClaimResponse>, ApiError> {
    state.rate_limit(&state.claims, device.device_id, client)?;
    super::devices::refuse_if_suspended(&state, &device.username).await?;
    let username = path_username(&raw)?;
    let now_s = state.clock.now_ms() / 1000;
    let claim = state
        .store
        .claim_key_packages(&username, now_s, query.device)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownUser,
                "no such user",
            )
        })?;
    // The caller's own device is no reason to refuse: it never adds itself (a device back
    // after a long absence claims for its own user before its next top-up).
    let expired = claim.expired_devices.iter().any(|d| *d != device.device_id);
    if claim.packages.is_empty() {
        return Err(if expired {
            ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::KeyPackageExpired,
                "the user's key packages have all expired",
            )
        } else {
            ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::NoKeyPackage,
                "the user has no key package available",
            )
        });
    }
    Ok(Json(ClaimResponse {
        username,
        key_packages: claim
            .packages
            .into_iter()
            .map(|c| ClaimedKeyPackage {
                device_id: c.device_id,
                key_package: c.key_package.into(),
                last_resort: c.last_resort,
            })
            .collect(),
    }))
}
