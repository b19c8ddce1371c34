//! `POST /v1/messages`: the delivery service's front door. Answers only once the message is
//! committed to storage for every recipient ("accepted"), then wakes their connections.

use crate::delivery::accept::{Submitter, accept};
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, AuthDevice};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::api::{SubmitRequest, SubmitResponse};
use pli_proto::error::ErrorBody;

/// Submits one MLS message for a group. 200 means committed to storage for every
/// recipient.
#[utoipa::path(post, path = pli_proto::api::paths::MESSAGES, tag = "messages",
    security(("device" = [])),
    request_body = SubmitRequest,
    responses(
        (status = 200, body = SubmitResponse, description = "Accepted"),
        (status = 404, body = ErrorBody, description = "`unknown_group`"),
        (status = 409, body = ErrorBody, description = "`stale_epoch`, `queue_full` or `group_exists`"),
        (status = 403, body = ErrorBody, description = "`account_suspended`"),
        (status = 422, body = ErrorBody, description = "`unknown_recipient`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn submit<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<Json<SubmitResponse>, ApiError> {
    let submitter = Submitter::read(&state, device.device_id, &device.username, client).await?;
    accept(&state, &submitter, request)
        .await
        .map(Json)
        .map_err(ApiError::from)
}
