//! `GET /v1/me/actions` and `POST /v1/me/actions/{id}/appeal`: an account sees the trust &
//! safety actions taken on it, and appeals each one once.

use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, AuthDevice};
use crate::moderation;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::abuse::{ActionView, AppealRequest};
use pli_proto::error::ErrorBody;

/// The actions taken on the caller's account, oldest first.
#[utoipa::path(get, path = pli_proto::api::paths::MY_ACTIONS,
    operation_id = "my_actions", tag = "abuse",
    security(("device" = [])),
    responses((status = 200, body = Vec<ActionView>, description = "The actions")))]
#[tracing::instrument(skip_all)]
pub async fn mine<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<Vec<ActionView>>, ApiError> {
    Ok(Json(state.store.actions_about(&device.username).await?))
}

/// Appeals an action taken on the caller's account: once per action, decided by a staff
/// member other than the one who took it.
#[utoipa::path(post, path = pli_proto::api::paths::MY_ACTION_APPEAL,
    operation_id = "appeal_action", tag = "abuse",
    security(("device" = [])),
    params(("id" = u64, Path, description = "The action")),
    request_body = AppealRequest,
    responses(
        (status = 200, body = ActionView, description = "The action, with the appeal"),
        (status = 404, body = ErrorBody, description = "`unknown_action`"),
        (status = 409, body = ErrorBody, description = "`appeal_exists`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn appeal<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    ApiPath(id): ApiPath<u64>,
    ApiJson(request): ApiJson<AppealRequest>,
) -> Result<Json<ActionView>, ApiError> {
    Ok(Json(
        moderation::appeal(&state, &device.username, id, request.text).await?,
    ))
}
