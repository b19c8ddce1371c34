//! Accepting one submission, over HTTP (`POST /v1/messages`) or the delivery socket
//! alike: the sender's rate limits, the boundary checks, the durable write for every
//! recipient, then the recipients' wake-up. Apart from both entry points so that neither
//! imports the other, and so the domain never imports the HTTP layer.

use super::{DeliveryError, parse_submission};
use crate::state::{AppState, RateLimited};
use crate::store::{Store, StoreError};
use pli_proto::api::{SubmitRequest, SubmitResponse};
use pli_proto::{DeviceId, ErrorCode};
use std::net::IpAddr;

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// The message failed a boundary check.
    #[error(transparent)]
    Invalid(#[from] DeliveryError),
    /// The store refused it (stale epoch, full queue, unknown recipient …) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stable code a refusal carries on the wire. `http::error` owns the mapping of every
/// domain error (it gives HTTP answers the same codes); the delivery socket is handed it
/// when a session starts, so it answers with the codes the HTTP API would.
pub type RefusalCode = fn(AcceptError) -> ErrorCode;

/// Accepts `request` from `sender` (connected from `source`): answered only once the
/// message is committed to storage for every recipient.
pub async fn accept<S: Store>(
    state: &AppState<S>,
    sender: DeviceId,
    source: IpAddr,
    request: SubmitRequest,
) -> Result<SubmitResponse, AcceptError> {
    state.rate_limit(&state.sends, sender, source)?;
    let submission = parse_submission(request, state.clock.now_ms(), state.config.max_queue_depth)?;
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
