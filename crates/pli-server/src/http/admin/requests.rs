//! `/admin/v1/requests…`: the lawful-request lifecycle over HTTP.

use super::StaffActor;
use crate::governance::{inventory::Package, requests};
use crate::http::extract::ApiJson;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::{Path, State};
use pli_proto::governance::{NewRequest, RejectRequest, RequestView};
use serde_json::json;

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

#[tracing::instrument(skip_all)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    let now = state.clock.now_ms();
    let mut views = state.store.list_requests().await?;
    for view in &mut views {
        crate::governance::rules::refresh_overdue(view, now);
    }
    state
        .log_action(actor, "request.list", json!({ "count": views.len() }))
        .await?;
    Ok(Json(views))
}

#[tracing::instrument(skip_all)]
pub async fn show<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let view = requests::show(&state.store, state.clock.as_ref(), &id).await?;
    state
        .log_action(actor, "request.show", json!({ "request_id": id }))
        .await?;
    Ok(Json(view))
}

#[tracing::instrument(skip_all)]
pub async fn edit<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    Path(id): Path<String>,
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

#[tracing::instrument(skip_all)]
pub async fn approve<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    Path(id): Path<String>,
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

#[tracing::instrument(skip_all)]
pub async fn reject<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    Path(id): Path<String>,
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

#[tracing::instrument(skip_all)]
pub async fn disclose<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    Path(id): Path<String>,
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

#[tracing::instrument(skip_all)]
pub async fn close<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    Path(id): Path<String>,
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
