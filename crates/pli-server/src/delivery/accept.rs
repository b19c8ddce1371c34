//! Accepting one submission, over HTTP (`POST /v1/messages`) or the delivery socket
//! alike: the sender's rate limits, the boundary checks, the durable write for every
//! recipient, then the recipients' wake-up. Apart from both entry points so that neither
//! imports the other, and so the domain never imports the HTTP layer.

use super::{DeliveryError, parse_submission};
use crate::state::{AppState, RateLimited};
use crate::store::{Store, StoreError};
use pli_proto::api::{SubmitRequest, SubmitResponse};
use pli_proto::{DeviceId, ErrorCode, Username};
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
    /// Trust & safety suspended or banned the sending account.
    #[error("this account is suspended: it may receive, but not send")]
    Suspended,
}

/// Who submits: the device, its account (which the franking stamp names), where it
/// connected from, and its account's suspension as read when it authenticated.
#[derive(Clone, Copy, Debug)]
pub struct Submitter<'a> {
    pub device: DeviceId,
    pub account: &'a Username,
    pub source: IpAddr,
    /// When the account's suspension ends, if it was suspended (`moderation`).
    pub suspended_until: Option<u64>,
}

impl<'a> Submitter<'a> {
    /// A submitter with its account's suspension read now: for each HTTP request, and
    /// once as a delivery socket's session starts.
    pub async fn read<S: Store>(
        state: &AppState<S>,
        device: DeviceId,
        account: &'a Username,
        source: IpAddr,
    ) -> Result<Self, StoreError> {
        let suspended_until = state
            .store
            .suspended_until(account, state.clock.now_ms())
            .await?;
        Ok(Self {
            device,
            account,
            source,
            suspended_until,
        })
    }
}

/// The stable code a refusal carries on the wire. `http::error` owns the mapping of every
/// domain error (it gives HTTP answers the same codes); the delivery socket is handed it
/// when a session starts, so it answers with the codes the HTTP API would.
pub type RefusalCode = fn(AcceptError) -> ErrorCode;

/// Accepts `request` from `submitter`: answered only once the message is committed to
/// storage for every recipient. A text carrying a franking commitment is stored and
/// delivered with the server's stamp, which names the submitter's account (`franking`).
/// A suspended account's submissions are refused.
pub async fn accept<S: Store>(
    state: &AppState<S>,
    submitter: &Submitter<'_>,
    request: SubmitRequest,
) -> Result<SubmitResponse, AcceptError> {
    state.rate_limit(&state.sends, submitter.device, submitter.source)?;
    let now_ms = state.clock.now_ms();
    if submitter
        .suspended_until
        .is_some_and(|until| until > now_ms)
    {
        return Err(AcceptError::Suspended);
    }
    let account = submitter.account;
    let (mut submission, commitment) =
        parse_submission(request, now_ms, state.config.max_queue_depth)?;
    if let Some(commitment) = commitment {
        let stamp = state.franker.stamp(&commitment, account, now_ms);
        submission.payload = pli_proto::franking::stamp_payload(&stamp, &submission.payload);
    }
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
