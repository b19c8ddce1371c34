//! `POST /v1/ephemeral`: a typing indicator for the devices connected now; nothing stored.

use crate::delivery::accept::Submitter;
use crate::delivery::ephemeral::forward;
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, AuthDevice};
use crate::state::AppState;
use crate::store::Store;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::api::EphemeralRequest;
use pli_proto::error::ErrorBody;

/// Hands one ephemeral MLS message (a typing indicator) to those of its recipient devices
/// that are connected right now. 204 whether or not any was: nothing is stored, queued or
/// retried, and the sender learns nothing about who is online.
#[utoipa::path(post, path = pli_proto::api::paths::EPHEMERAL, tag = "messages",
    security(("device" = [])),
    request_body = EphemeralRequest,
    responses(
        (status = 204, description = "Handed to whichever recipients are connected"),
        (status = 403, body = ErrorBody, description = "`account_suspended`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn ephemeral<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<EphemeralRequest>,
) -> Result<StatusCode, ApiError> {
    let submitter = Submitter::read(&state, device.device_id, &device.username, client).await?;
    forward(&state, &submitter, request)
        .await
        .map(|_| StatusCode::NO_CONTENT)
        .map_err(ApiError::from)
}
