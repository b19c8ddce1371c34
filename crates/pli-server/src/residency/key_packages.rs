//! [`Regional`] as a [`KeyPackageStore`]: a device's packages on the store it was found in,
//! a claim on the claimed user's home region's store.

use super::Regional;
use crate::store::{
    Claim, KeyPackageStatus, KeyPackageStore, KeyPackageTime, KeyPackageUpload, Store, StoreError,
};
use pli_proto::{DeviceId, Username};

impl<S: Store> KeyPackageStore for Regional<S> {
    async fn add_key_packages(
        &self,
        device: DeviceId,
        upload: KeyPackageUpload,
    ) -> Result<KeyPackageStatus, StoreError> {
        let _no_move = self.no_move().await;
        let store = self
            .device_store(device)
            .await?
            .ok_or(StoreError::UnknownDevice)?;
        store.add_key_packages(device, upload).await
    }

    async fn key_package_status(
        &self,
        device: DeviceId,
        at: KeyPackageTime,
    ) -> Result<KeyPackageStatus, StoreError> {
        let store = self
            .device_store(device)
            .await?
            .ok_or(StoreError::UnknownDevice)?;
        store.key_package_status(device, at).await
    }

    async fn claim_key_packages(
        &self,
        username: &Username,
        now_s: u64,
        only: Option<DeviceId>,
    ) -> Result<Option<Claim>, StoreError> {
        let _no_move = self.no_move().await;
        match self.user_store(username).await? {
            Some(store) => store.claim_key_packages(username, now_s, only).await,
            None => Ok(None),
        }
    }
}
