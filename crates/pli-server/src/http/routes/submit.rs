//! `POST /v1/messages`: the delivery service's front door. Answers only once the message is
//! committed to storage for every recipient ("accepted"), then wakes their connections.

use crate::delivery;
use crate::http::client_addr::ClientAddr;
use crate::http::extract::{ApiJson, AuthDevice};
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::DeviceId;
use pli_proto::api::{SubmitRequest, SubmitResponse};
use pli_proto::error::ErrorBody;
use std::net::IpAddr;

/// Submits one MLS message for a group. 200 means committed to storage for every
/// recipient.
#[utoipa::path(post, path = pli_proto::api::paths::MESSAGES, tag = "messages",
    security(("device" = [])),
    request_body = SubmitRequest,
    responses(
        (status = 200, body = SubmitResponse, description = "Accepted"),
        (status = 404, body = ErrorBody, description = "`unknown_group`"),
        (status = 409, body = ErrorBody, description = "`stale_epoch`, `queue_full` or `group_exists`"),
        (status = 422, body = ErrorBody, description = "`unknown_recipient`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn submit<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<Json<SubmitResponse>, ApiError> {
    accept(&state, device.device_id, client, request)
        .await
        .map(Json)
}

/// What a submission goes through, over HTTP or the delivery socket alike: the sender's
/// rate limits, the boundary checks, the durable write for every recipient, then the
/// recipients' wake-up.
pub async fn accept<S: Store>(
    state: &AppState<S>,
    sender: DeviceId,
    source: IpAddr,
    request: SubmitRequest,
) -> Result<SubmitResponse, ApiError> {
    state.rate_limit(&state.sends, sender, source)?;
    let submission =
        delivery::parse_submission(request, state.clock.now_ms(), state.config.max_queue_depth)?;
    let mut woken = submission.recipients.clone();
    if let Some((_, new_members)) = &submission.welcome {
        woken.extend_from_slice(new_members);
    }
    let accepted = state.store.submit(submission).await?;
    state.hub.wake(woken);
    Ok(SubmitResponse {
        id: accepted.id,
        epoch: accepted.epoch,
    })
}
