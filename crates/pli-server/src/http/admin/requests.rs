//! `/admin/v1/requests…`: the lawful-request lifecycle over HTTP.

use super::actor::StaffActor;
use crate::governance::{inventory::Package, requests, review};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::extract::ApiPath;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::error::ErrorBody;
use pli_proto::governance::{NewRequest, RejectRequest, RequestView, StaffAlert};
use serde_json::json;

/// Enters a lawful request (state `received`).
#[utoipa::path(post, path = "/admin/v1/requests", tag = "admin",
    security(("staff" = [])),
    request_body = NewRequest,
    responses(
        (status = 200, body = RequestView, description = "The new request"),
        (status = 422, body = ErrorBody, description = "`policy_refused`: a governance rule refused it"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiJson(request): ApiJson<NewRequest>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(
        requests::create(
            &state.governance,
            &state.store,
            state.clock.as_ref(),
            actor,
            request,
        )
        .await?,
    ))
}

/// Every lawful request, newest last.
#[utoipa::path(get, path = "/admin/v1/requests", tag = "admin",
    operation_id = "list_requests",
    security(("staff" = [])),
    responses(
        (status = 200, body = Vec<RequestView>, description = "All requests"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    let views = requests::list(&state.governance, &state.store, state.clock.as_ref()).await?;
    state
        .log_action(actor, "request.list", json!({ "count": views.len() }))
        .await?;
    Ok(Json(views))
}

/// One lawful request.
#[utoipa::path(get, path = "/admin/v1/requests/{id}", tag = "admin",
    security(("staff" = [])),
    params(("id" = String, Path, description = "The request id")),
    responses(
        (status = 200, body = RequestView, description = "The request"),
        (status = 404, body = ErrorBody, description = "`unknown_request`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn show<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    let view = requests::show(&state.governance, &state.store, state.clock.as_ref(), &id).await?;
    state
        .log_action(actor, "request.show", json!({ "request_id": id }))
        .await?;
    Ok(Json(view))
}

/// Edits a request; approvals given for the old text become void.
#[utoipa::path(post, path = "/admin/v1/requests/{id}/edit", tag = "admin",
    security(("staff" = [])),
    params(("id" = String, Path, description = "The request id")),
    request_body = NewRequest,
    responses(
        (status = 200, body = RequestView, description = "The edited request"),
        (status = 404, body = ErrorBody, description = "`unknown_request`"),
        (status = 409, body = ErrorBody, description = "`invalid_state`: the request is not in a state that allows this"),
        (status = 422, body = ErrorBody, description = "`policy_refused`: a governance rule refused it"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn edit<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<NewRequest>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(
        requests::edit(
            &state.governance,
            &state.store,
            state.clock.as_ref(),
            actor,
            &id,
            request,
        )
        .await?,
    ))
}

/// Approves a request (two legal reviewers other than its author).
#[utoipa::path(post, path = "/admin/v1/requests/{id}/approve", tag = "admin",
    security(("staff" = [])),
    params(("id" = String, Path, description = "The request id")),
    responses(
        (status = 200, body = RequestView, description = "The request"),
        (status = 404, body = ErrorBody, description = "`unknown_request`"),
        (status = 409, body = ErrorBody, description = "`invalid_state`: the request is not in a state that allows this"),
        (status = 422, body = ErrorBody, description = "`policy_refused`: a governance rule refused it"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn approve<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(
        requests::approve(
            &state.governance,
            &state.store,
            state.clock.as_ref(),
            actor,
            &id,
        )
        .await?,
    ))
}

/// Rejects a request, with a reason.
#[utoipa::path(post, path = "/admin/v1/requests/{id}/reject", tag = "admin",
    security(("staff" = [])),
    params(("id" = String, Path, description = "The request id")),
    request_body = RejectRequest,
    responses(
        (status = 200, body = RequestView, description = "The rejected request"),
        (status = 404, body = ErrorBody, description = "`unknown_request`"),
        (status = 409, body = ErrorBody, description = "`invalid_state`: the request is not in a state that allows this"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reject<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RejectRequest>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(
        requests::reject(
            &state.governance,
            &state.store,
            state.clock.as_ref(),
            actor,
            &id,
            &body.reason,
        )
        .await?,
    ))
}

/// Produces the signed disclosure package of an approved request.
#[utoipa::path(post, path = "/admin/v1/requests/{id}/disclose", tag = "admin",
    security(("staff" = [])),
    params(("id" = String, Path, description = "The request id")),
    responses(
        (status = 200, body = Package, description = "The signed package"),
        (status = 404, body = ErrorBody, description = "`unknown_request`"),
        (status = 409, body = ErrorBody, description = "`invalid_state`: the request is not in a state that allows this"),
        (status = 422, body = ErrorBody, description = "`policy_refused`: a governance rule refused it"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn disclose<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Package>, ApiError> {
    let package = requests::disclose(
        &state.governance,
        &state.store,
        state.clock.as_ref(),
        actor,
        &id,
        state.config.max_queue_depth,
    )
    .await?;
    let woken = package
        .accounts
        .iter()
        .filter(|a| a.found)
        .map(|a| a.username.clone());
    for user in woken {
        if let Some(devices) = state.store.list_devices(&user).await? {
            state.hub.wake(devices.into_iter().map(|d| d.device_id));
        }
    }
    Ok(Json(package))
}

/// Closes a request.
#[utoipa::path(post, path = "/admin/v1/requests/{id}/close", tag = "admin",
    security(("staff" = [])),
    params(("id" = String, Path, description = "The request id")),
    responses(
        (status = 200, body = RequestView, description = "The closed request"),
        (status = 404, body = ErrorBody, description = "`unknown_request`"),
        (status = 409, body = ErrorBody, description = "`invalid_state`: the request is not in a state that allows this"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn close<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(
        requests::close(
            &state.governance,
            &state.store,
            state.clock.as_ref(),
            actor,
            &id,
        )
        .await?,
    ))
}

/// The caller's alerts: overdue second reviews of emergencies, as the audit log names them.
#[utoipa::path(get, path = "/admin/v1/alerts", tag = "admin",
    security(("staff" = [])),
    responses(
        (status = 200, body = Vec<StaffAlert>, description = "The caller's alerts, oldest first"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn alerts<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<Vec<StaffAlert>>, ApiError> {
    review::mark_overdue(&state.governance, &state.store, state.clock.as_ref(), None).await?;
    let alerts = review::alerts(&state.store, actor.staff_id).await?;
    state
        .log_action(actor, "alerts.list", json!({ "count": alerts.len() }))
        .await?;
    Ok(Json(alerts))
}
