//! `GET /v1/me/inventory`: the caller's own data inventory, the same record staff see
//! (`GET /admin/v1/inventory/{username}`) and a disclosure package is made from, so a user
//! can check what a lawful request could hand over. Device-authenticated; it reads
//! nothing the account's own devices could not learn, so it is not an audit-log entry.

use crate::governance::GovernanceError;
use crate::governance::inventory::{self, Inventory};
use crate::http::error::ApiError;
use crate::http::extract::AuthDevice;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;

/// What the server holds about the caller's account.
#[utoipa::path(get, path = pli_proto::api::paths::MY_INVENTORY, tag = "accounts",
    operation_id = "my_inventory",
    security(("device" = [])),
    responses((status = 200, body = Inventory, description = "The account's inventory")))]
#[tracing::instrument(skip_all)]
pub async fn mine<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<Inventory>, ApiError> {
    let inventory = inventory::load(&state.store, &device.username, &state.governance.policies)
        .await?
        .ok_or(GovernanceError::UnknownUser)?;
    Ok(Json(inventory))
}
