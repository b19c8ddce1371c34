//! `DELETE /v1/accounts/self`: a user deletes their account. Its devices, keys, key
//! packages and queues go at once; the account's facts (name, days) are kept for the home
//! region's period, then erased by retention, and the name becomes free.

use crate::http::error::ApiError;
use crate::http::extract::AuthDevice;
use crate::state::AppState;
use crate::store::{Store, StoreError};
use axum::Json;
use axum::extract::State;
use pli_proto::api::DeleteAccountResponse;
use pli_proto::error::ErrorBody;

/// Deletes the calling device's account (every device of it).
#[utoipa::path(delete, path = pli_proto::api::paths::ACCOUNT_SELF, tag = "accounts",
    security(("device" = [])),
    responses(
        (status = 200, body = DeleteAccountResponse, description = "Deleted"),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<DeleteAccountResponse>, ApiError> {
    let user = device.username;
    let devices = state.store.list_devices(&user).await?.unwrap_or_default();
    // The directory publishes that the user has no devices any more.
    let deleted = crate::directory::publish::changing_devices(
        &state.store,
        &user,
        state.store.delete_account(&user, state.clock.today()),
    )
    .await?;
    if !deleted {
        return Err(StoreError::UnknownAccount.into());
    }
    state.disconnect(devices.iter().map(|d| d.device_id));
    let region = state.store.home_region(&user).await?;
    let facts_kept_days = state
        .governance
        .policies
        .of(region.as_ref())
        .deleted_retention_days;
    if facts_kept_days == 0 {
        // Nothing is to be kept: erase this account now rather than at the next sweep,
        // unless a preservation order holds it (the sweep erases it when the order ends).
        let held = state
            .store
            .inventory(&user)
            .await?
            .and_then(|facts| facts.preserved_until_ms)
            .is_some_and(|until| until > state.clock.now_ms());
        if !held {
            state.store.erase_account(&user).await?;
        }
    }
    tracing::info!("account deleted");
    Ok(Json(DeleteAccountResponse { facts_kept_days }))
}
