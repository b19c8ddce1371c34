//! [`Regional`] as an [`AttachmentStore`]: one copy of an attachment in each region that
//! holds one of its recipients, and in the uploader's, whose copy alone names the uploader
//! (for its quota). Each chunk is written to every copy, the uploader's region first,
//! where the uploader is checked; a recipient downloads from its own region's copy.
//!
//! There is no transaction across regions: a create that fails in a later region leaves
//! the earlier copies to expire with their lifetime, unreferenced by any message.

use super::Regional;
use crate::store::{
    AttachmentState, AttachmentStore, AttachmentUsage, NewAttachment, Store, StoreError,
};
use bytes::Bytes;
use pli_proto::attachment::AttachmentId;
use pli_proto::{DeviceId, Username};
use std::collections::BTreeMap;

impl<S: Store> AttachmentStore for Regional<S> {
    async fn create_attachment(&self, new: NewAttachment) -> Result<(), StoreError> {
        if self.inner.single {
            return self.global().create_attachment(new).await;
        }
        let home = match new.uploader {
            Some(device) => Some(
                self.device_region(device)
                    .await?
                    .ok_or(StoreError::UnknownDevice)?,
            ),
            None => None,
        };
        let mut by_region: BTreeMap<usize, Vec<DeviceId>> = BTreeMap::new();
        if let Some(home) = home {
            by_region.entry(home).or_default();
        }
        for device in &new.recipients {
            let index = self
                .device_region(*device)
                .await?
                .ok_or(StoreError::UnknownRecipient)?;
            by_region.entry(index).or_default().push(*device);
        }
        for (index, recipients) in by_region {
            let copy = NewAttachment {
                uploader: new.uploader.filter(|_| Some(index) == home),
                recipients,
                ..new.clone()
            };
            self.store(index).create_attachment(copy).await?;
        }
        Ok(())
    }

    async fn attachment_state(
        &self,
        id: AttachmentId,
        device: Option<DeviceId>,
    ) -> Result<Option<AttachmentState>, StoreError> {
        match device {
            Some(device) => match self.device_store(device).await? {
                Some(store) => store.attachment_state(id, Some(device)).await,
                None => Ok(None),
            },
            None => {
                for index in 0..self.inner.regions.len() {
                    if let Some(found) = self.store(index).attachment_state(id, None).await? {
                        return Ok(Some(found));
                    }
                }
                Ok(None)
            }
        }
    }

    async fn put_attachment_chunk(
        &self,
        id: AttachmentId,
        uploader: Option<DeviceId>,
        index: u32,
        bytes: Bytes,
    ) -> Result<AttachmentState, StoreError> {
        if self.inner.single {
            return self
                .global()
                .put_attachment_chunk(id, uploader, index, bytes)
                .await;
        }
        let home = match uploader {
            Some(device) => self.device_region(device).await?,
            None => None,
        };
        let mut answer = match (home, uploader) {
            (Some(home), Some(_)) => Some(
                self.store(home)
                    .put_attachment_chunk(id, uploader, index, bytes.clone())
                    .await?,
            ),
            (None, Some(_)) => return Err(StoreError::UnknownAttachment),
            _ => None,
        };
        for region in (0..self.inner.regions.len()).filter(|r| Some(*r) != home) {
            let store = self.store(region);
            if store.attachment_state(id, None).await?.is_some() {
                let copied = store
                    .put_attachment_chunk(id, None, index, bytes.clone())
                    .await?;
                answer.get_or_insert(copied);
            }
        }
        answer.ok_or(StoreError::UnknownAttachment)
    }

    async fn attachment_chunk(
        &self,
        id: AttachmentId,
        device: DeviceId,
        index: u32,
    ) -> Result<Bytes, StoreError> {
        match self.device_store(device).await? {
            Some(store) => store.attachment_chunk(id, device, index).await,
            None => Err(StoreError::UnknownAttachment),
        }
    }

    async fn attachment_fetched(
        &self,
        id: AttachmentId,
        device: DeviceId,
    ) -> Result<bool, StoreError> {
        match self.device_store(device).await? {
            Some(store) => store.attachment_fetched(id, device).await,
            None => Err(StoreError::UnknownAttachment),
        }
    }

    async fn expire_attachments(&self, now_ms: u64) -> Result<u64, StoreError> {
        let mut expired = 0;
        for index in 0..self.inner.regions.len() {
            expired += self.store(index).expire_attachments(now_ms).await?;
        }
        Ok(expired)
    }

    async fn attachment_usage(&self, account: &Username) -> Result<AttachmentUsage, StoreError> {
        match self.user_store(account).await? {
            Some(store) => store.attachment_usage(account).await,
            None => Ok(AttachmentUsage::default()),
        }
    }
}
