//! `POST /v1/messages`: the delivery service's front door. Answers only once the message is
//! committed to storage for every recipient ("accepted"), then wakes their connections.

use crate::delivery;
use crate::http::extract::{ApiJson, AuthDevice};
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use pli_proto::api::{SubmitRequest, SubmitResponse};
use std::net::SocketAddr;

#[tracing::instrument(skip_all)]
pub async fn submit<S: Store>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<Json<SubmitResponse>, ApiError> {
    state.rate_limit(&state.sends, device.device_id, peer.ip())?;
    let submission =
        delivery::parse_submission(request, state.clock.now_ms(), state.config.max_queue_depth)?;
    let mut woken = submission.recipients.clone();
    if let Some((_, new_members)) = &submission.welcome {
        woken.extend_from_slice(new_members);
    }
    let accepted = state.store.submit(submission).await?;
    state.hub.wake(woken);
    Ok(Json(SubmitResponse {
        id: accepted.id,
        epoch: accepted.epoch,
    }))
}
