//! Attachments: encrypted blobs uploaded in chunks, who may download each one, and when it
//! goes. The bytes live in the backend's [`Blobs`](super::blobs::Blobs) (an object store);
//! the rows here say who uploaded it, its size, how many chunks arrived, its recipients and
//! which of them have fetched it.
//!
//! Residency: a region's store holds a copy of every attachment one of its devices may
//! download (`crate::residency` writes each chunk to each such region), and the uploader's
//! region holds the row that names the uploader (for the quota). A copy in any other
//! region names no uploader.
//!
//! Lifetime: an attachment expires with the region's queue lifetime (the expiry given at
//! creation), and a copy goes early once every one of its recipients said it fetched it.

use super::error::StoreError;
use bytes::Bytes;
use pli_proto::DeviceId;
use pli_proto::attachment::AttachmentId;
use std::future::Future;

/// A new attachment, before its first chunk.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub id: AttachmentId,
    /// The uploading device. `None` for a copy in another region than the uploader's,
    /// which names no uploader ([`crate::residency`] checks the uploader in its own region).
    pub uploader: Option<DeviceId>,
    /// The ciphertext's size in bytes.
    pub size: u64,
    /// The devices of this store that may download it.
    pub recipients: Vec<DeviceId>,
    pub now_ms: u64,
    /// When it goes, fetched or not.
    pub expires_ms: u64,
    /// Bytes the uploader's account may hold in attachments at once (quota).
    pub quota_bytes: u64,
}

/// An attachment as a device may see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachmentState {
    /// The ciphertext's size in bytes.
    pub size: u64,
    /// Chunks uploaded, from the first.
    pub received: u32,
    /// Whether the asking device uploaded it (it may upload chunks; recipients may not).
    pub uploaded_by_asker: bool,
}

/// Whether an uploaded chunk is to be stored: the rule both backends apply before they
/// write it. `Ok(false)`: an earlier chunk sent again, which changes nothing.
pub fn chunk_is_next(before: &AttachmentState, index: u32, len: usize) -> Result<bool, StoreError> {
    if pli_proto::attachment::chunk_len(before.size, index) != Some(len) {
        return Err(StoreError::InvalidChunk);
    }
    if index > before.received {
        return Err(StoreError::ChunkOutOfOrder {
            received: before.received,
        });
    }
    Ok(index == before.received)
}

/// What an account holds in attachments: for the data inventory, nothing more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttachmentUsage {
    pub count: u64,
    pub bytes: u64,
}

/// Attachments, as domain operations.
pub trait AttachmentStore: Send + Sync {
    /// Records a new attachment. Refuses [`StoreError::UnknownRecipient`] if a recipient
    /// is not a device of this store, and [`StoreError::QuotaExceeded`] if the uploader's
    /// account would hold more than `quota_bytes`. An id taken already is
    /// [`StoreError::AttachmentExists`].
    fn create_attachment(
        &self,
        new: NewAttachment,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The attachment as `device` may see it: `None` unless `device` uploaded it or is one
    /// of its recipients. `device: None` asks whether this store holds a copy at all.
    fn attachment_state(
        &self,
        id: AttachmentId,
        device: Option<DeviceId>,
    ) -> impl Future<Output = Result<Option<AttachmentState>, StoreError>> + Send;

    /// Stores chunk `index` and returns the new state. Only its uploader may
    /// (`uploader: None` is a copy's write, authorised in the uploader's region already).
    /// The chunk must have the length its place gives ([`StoreError::InvalidChunk`]) and
    /// be the next one or an earlier one (an earlier one changes nothing: a retried upload
    /// whose answer was lost); a later one is [`StoreError::ChunkOutOfOrder`].
    fn put_attachment_chunk(
        &self,
        id: AttachmentId,
        uploader: Option<DeviceId>,
        index: u32,
        bytes: Bytes,
    ) -> impl Future<Output = Result<AttachmentState, StoreError>> + Send;

    /// Chunk `index`, for its uploader or a recipient. [`StoreError::UnknownAttachment`]
    /// for anyone else; [`StoreError::AttachmentIncomplete`] before that chunk arrived.
    fn attachment_chunk(
        &self,
        id: AttachmentId,
        device: DeviceId,
        index: u32,
    ) -> impl Future<Output = Result<Bytes, StoreError>> + Send;

    /// Recipient `device` has the whole attachment. Once every recipient of this copy has,
    /// the copy and its bytes go. Returns whether it went.
    fn attachment_fetched(
        &self,
        id: AttachmentId,
        device: DeviceId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every attachment whose expiry is at or before `now_ms`, with its bytes.
    /// Returns how many went.
    fn expire_attachments(
        &self,
        now_ms: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The attachments this store holds that the account uploaded or that wait for one
    /// of its devices.
    fn attachment_usage(
        &self,
        account: &pli_proto::Username,
    ) -> impl Future<Output = Result<AttachmentUsage, StoreError>> + Send;
}
