//! `POST /v1/ephemeral`: a typing indicator handed to the recipient devices connected right
//! now, on this node and (through the store's signalling) on the others. Nothing is
//! written: not the message, not a queue entry, not a count. A device offline when it came
//! never sees it; that is the point.

use super::accept::{AcceptError, Submitter};
use super::{DeliveryError, EphemeralFrame};
use crate::state::AppState;
use crate::store::Store;
use openmls::prelude::{ContentType, MlsMessageBodyIn, MlsMessageIn};
use pli_proto::api::EphemeralRequest;
use pli_proto::limits::{MAX_EPHEMERAL_BYTES, MAX_EPHEMERAL_RECIPIENTS};
use std::sync::Arc;
use tls_codec::Deserialize as _;

/// Checks `request` at the boundary: a small MLS application `PrivateMessage` for the named
/// group, for a few devices.
pub fn parse(
    request: EphemeralRequest,
) -> Result<(Vec<pli_proto::DeviceId>, EphemeralFrame), DeliveryError> {
    let message = request.message.into_inner();
    if message.len() > MAX_EPHEMERAL_BYTES {
        return Err(DeliveryError::EphemeralTooLarge);
    }
    if request.recipients.is_empty() {
        return Err(DeliveryError::NoRecipients);
    }
    if request.recipients.len() > MAX_EPHEMERAL_RECIPIENTS {
        return Err(DeliveryError::TooManyEphemeralRecipients);
    }
    let parsed = MlsMessageIn::tls_deserialize_exact(message.as_slice())
        .map_err(|_| DeliveryError::NotPrivateMessage)?;
    let MlsMessageBodyIn::PrivateMessage(private) = parsed.extract() else {
        return Err(DeliveryError::NotPrivateMessage);
    };
    if private.group_id().as_slice() != request.group_id.as_bytes() {
        return Err(DeliveryError::GroupMismatch);
    }
    if private.content_type() != ContentType::Application {
        return Err(DeliveryError::NotApplication);
    }
    Ok((request.recipients, Arc::new((request.group_id, message))))
}

/// Forwards `request` from `submitter` to its recipients that are connected now, under the
/// same send rate limit and suspension as a message. Returns how many devices on this node
/// took it (other nodes hand it on their own).
pub async fn forward<S: Store>(
    state: &AppState<S>,
    submitter: &Submitter<'_>,
    request: EphemeralRequest,
) -> Result<usize, AcceptError> {
    state.rate_limit(&state.sends, submitter.device, submitter.source)?;
    if submitter
        .suspended_until
        .is_some_and(|until| until > state.clock.now_ms())
    {
        return Err(AcceptError::Suspended);
    }
    let (recipients, frame) = parse(request)?;
    let handed = state.hub.hand_ephemeral(recipients.iter().copied(), &frame);
    state.store.relay_ephemeral(recipients, frame);
    Ok(handed)
}
