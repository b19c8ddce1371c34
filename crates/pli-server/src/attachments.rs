//! Attachments: the boundary checks of an upload, and its lifetime. The bytes are
//! ciphertext the server cannot open; it learns a blob's size, which devices may fetch it,
//! and when each did, as it learns a message's.
//!
//! - Create: the size within `max_attachment_bytes` (as ciphertext), 1 to
//!   [`MAX_RECIPIENTS`] recipients, the account not suspended, a send's rate limit; the
//!   quota is the store's check. The id is random.
//! - Lifetime: the shortest queue lifetime of the deployment's regions, so no copy
//!   outlives its region's promise, or the uploader's `expires_in_secs` if shorter (the
//!   conversation's disappearing timer); a copy goes early once every recipient fetched it.

use crate::delivery::accept::Submitter;
use crate::state::{AppState, RateLimited};
use crate::store::{NewAttachment, Store, StoreError};
use pli_proto::attachment::{
    AttachmentId, AttachmentStatus, CreateAttachmentRequest, chunk_count, cipher_len,
};
use pli_proto::limits::{MAX_DISAPPEAR_SECS, MAX_RECIPIENTS};

const DAY_MS: u64 = 86_400_000;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the file is larger than this server takes ({max} bytes)")]
    TooLarge { max: u64 },
    #[error("an attachment needs 1 to {MAX_RECIPIENTS} recipient devices")]
    Recipients,
    #[error("an attachment's lifetime is 1 second to 4 weeks")]
    Lifetime,
    #[error("this account is suspended: it may receive, but not send")]
    Suspended,
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts an upload of `request.size` ciphertext bytes for its recipients.
pub async fn create<S: Store>(
    state: &AppState<S>,
    submitter: &Submitter<'_>,
    request: CreateAttachmentRequest,
) -> Result<AttachmentStatus, AttachmentError> {
    state.rate_limit(&state.sends, submitter.device, submitter.source)?;
    let now_ms = state.clock.now_ms();
    if submitter
        .suspended_until
        .is_some_and(|until| until > now_ms)
    {
        return Err(AttachmentError::Suspended);
    }
    let max = state.config.limits.max_attachment_bytes;
    if request.size > cipher_len(max) || request.size < cipher_len(0) {
        return Err(AttachmentError::TooLarge { max });
    }
    let mut recipients = request.recipients;
    recipients.retain(|device| *device != submitter.device);
    recipients.sort_unstable();
    recipients.dedup();
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(AttachmentError::Recipients);
    }
    let lifetime_ms = match request.expires_in_secs {
        None => lifetime_ms(state),
        Some(secs @ 1..=MAX_DISAPPEAR_SECS) => lifetime_ms(state).min(secs * 1_000),
        Some(_) => return Err(AttachmentError::Lifetime),
    };
    let id = AttachmentId(rand::random());
    state
        .store
        .create_attachment(NewAttachment {
            id,
            uploader: Some(submitter.device),
            size: request.size,
            recipients,
            now_ms,
            expires_ms: now_ms + lifetime_ms,
            quota_bytes: state.config.limits.attachment_quota_bytes,
        })
        .await?;
    Ok(AttachmentStatus {
        id,
        size: request.size,
        chunks: chunk_count(request.size),
        received: 0,
    })
}

/// The state of `id` as `device` may see it.
pub async fn status<S: Store>(
    state: &AppState<S>,
    id: AttachmentId,
    device: pli_proto::DeviceId,
) -> Result<AttachmentStatus, StoreError> {
    let found = state
        .store
        .attachment_state(id, Some(device))
        .await?
        .ok_or(StoreError::UnknownAttachment)?;
    Ok(AttachmentStatus {
        id,
        size: found.size,
        chunks: chunk_count(found.size),
        received: found.received,
    })
}

/// How long an attachment is kept, fetched or not: the shortest queue lifetime of the
/// served regions.
fn lifetime_ms<S: Store>(state: &AppState<S>) -> u64 {
    let policies = &state.governance.policies;
    policies
        .by_region
        .values()
        .map(|policy| u64::from(policy.queue_ttl_days) * DAY_MS)
        .min()
        .unwrap_or(u64::from(policies.of(None).queue_ttl_days) * DAY_MS)
}
