//! Operator routes for regions and the key directory: moving an account, running the
//! retention sweep now (it also runs on its own, [`crate::retention`]), publishing the
//! directory's pending changes now (also on an interval, [`crate::directory::publish`]).

use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::audit::target_commitment;
use pli_proto::governance::{MoveRequest, MoveResponse, RetentionResponse};
use serde_json::json;

use super::actor::StaffActor;

/// Moves all of the account's data to another region's store, leaving nothing behind.
/// Logged first; the account's connections close, so its devices resume from the new store.
#[utoipa::path(post, path = "/admin/v1/accounts/{username}/region", tag = "admin",
    security(("staff" = [])),
    params(("username" = pli_proto::Username, Path, description = "The account")),
    request_body = MoveRequest,
    responses(
        (status = 200, body = MoveResponse, description = "Moved"),
        (status = 404, body = pli_proto::error::ErrorBody, description = "`unknown_user`"),
        (status = 422, body = pli_proto::error::ErrorBody, description = "`unknown_region`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn move_account<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(request): ApiJson<MoveRequest>,
) -> Result<Json<MoveResponse>, ApiError> {
    let user = crate::http::extract::path_username(&raw)?;
    // A fresh salt kept nowhere: the move is counted, and linked to no name (see staff.rs).
    let salt = crate::governance::requests::new_salt();
    let details = json!({
        "target": target_commitment(&salt, "account.move", user.as_str()),
        "to": request.region,
    });
    state.log_action(actor, "account.move", details).await?;
    let report = state.store.move_account(&user, &request.region).await?;
    state.disconnect(report.devices.iter().copied());
    tracing::info!(devices = report.devices.len(), "account moved");
    Ok(Json(MoveResponse {
        from: report.from,
        to: report.to,
        devices: report.devices.len() as u64,
        queued_messages: report.queued_messages,
    }))
}

/// Publishes the key directory's pending changes as an epoch now (they are also published
/// on an interval, and when a lookup needs them).
#[utoipa::path(post, path = "/admin/v1/directory/publish", tag = "admin",
    security(("staff" = [])),
    responses(
        (status = 200, body = pli_proto::kt::PublishResponse, description = "The epoch now"),
        (status = 503, body = pli_proto::error::ErrorBody, description = "`directory_busy`: another node publishes"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn publish_directory<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<pli_proto::kt::PublishResponse>, ApiError> {
    state
        .log_action(actor, "directory.publish", json!({}))
        .await?;
    match state
        .directory
        .publish_pending(state.clock.now_ms())
        .await?
    {
        Some(published) => Ok(Json(published)),
        None => Err(crate::directory::DirectoryError::NotYetPublished.into()),
    }
}

/// Runs the retention sweep now, in every region, under each region's policy.
#[utoipa::path(post, path = "/admin/v1/retention", tag = "admin",
    security(("staff" = [])),
    responses((status = 200, body = RetentionResponse, description = "What the sweep removed")))]
#[tracing::instrument(skip_all)]
pub async fn retention<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<RetentionResponse>, ApiError> {
    state.log_action(actor, "retention.run", json!({})).await?;
    let report = crate::retention::sweep(&state).await?;
    Ok(Json(RetentionResponse {
        erased_accounts: report.erased_accounts.len() as u64,
        expired_queue_entries: report.expired_queue_entries,
        held_queue_entries: report.held_queue_entries,
        expired_holds: report.expired_holds,
        expired_ips: report.expired_ips,
        expired_reports: report.expired_reports,
    }))
}
