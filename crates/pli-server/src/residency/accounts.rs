//! [`Regional`] as an [`AccountStore`]: an account's operations on its home region's store,
//! a device's on the store it was found in.

use super::Regional;
use crate::store::{
    AccountStore, DeviceAuth, DeviceRecord, NewAccount, NewDevice, Store, StoreError,
};
use pli_proto::{DeviceId, Username};

impl<S: Store> AccountStore for Regional<S> {
    /// The index entry first: it is what makes a name taken across every region. A
    /// registration that then fails in its region gives the name back.
    async fn create_account(&self, account: NewAccount) -> Result<(), StoreError> {
        let index = self
            .index_of(&account.region)
            .ok_or(StoreError::UnknownRegion)?;
        let username = account.username.clone();
        self.global()
            .claim_username(&username, &account.region)
            .await?;
        let device = account.device_id;
        match self.store(index).create_account(account).await {
            Ok(()) => {
                self.remember_device(device, index);
                Ok(())
            }
            Err(err) => {
                self.global().release_username(&username).await?;
                Err(err)
            }
        }
    }

    async fn device_auth(&self, device: DeviceId) -> Result<Option<DeviceAuth>, StoreError> {
        match self.device_store(device).await? {
            Some(store) => store.device_auth(device).await,
            None => Ok(None),
        }
    }

    async fn touch_last_seen(&self, username: &Username, day: i64) -> Result<(), StoreError> {
        match self.user_store(username).await? {
            Some(store) => store.touch_last_seen(username, day).await,
            None => Ok(()),
        }
    }

    async fn add_device(&self, username: &Username, device: NewDevice) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        let index = self
            .user_region(username)
            .await?
            .ok_or(StoreError::UnknownAccount)?;
        let id = device.device_id;
        self.store(index).add_device(username, device).await?;
        self.remember_device(id, index);
        Ok(())
    }

    async fn remove_device(
        &self,
        username: &Username,
        device: DeviceId,
    ) -> Result<bool, StoreError> {
        let _no_move = self.no_move().await;
        let removed = match self.user_store(username).await? {
            Some(store) => store.remove_device(username, device).await?,
            None => false,
        };
        self.forget([device]);
        Ok(removed)
    }

    async fn list_devices(
        &self,
        username: &Username,
    ) -> Result<Option<Vec<DeviceRecord>>, StoreError> {
        match self.user_store(username).await? {
            Some(store) => store.list_devices(username).await,
            None => Ok(None),
        }
    }

    async fn create_ws_ticket(
        &self,
        device: DeviceId,
        ticket_hash: [u8; 32],
        expires_ms: u64,
    ) -> Result<(), StoreError> {
        let store = self
            .device_store(device)
            .await?
            .ok_or(StoreError::UnknownDevice)?;
        store
            .create_ws_ticket(device, ticket_hash, expires_ms)
            .await
    }

    /// A ticket names no region, so each is asked in turn (a handful of lookups per
    /// WebSocket connection).
    async fn redeem_ws_ticket(
        &self,
        ticket_hash: [u8; 32],
        now_ms: u64,
    ) -> Result<Option<DeviceId>, StoreError> {
        for (index, (_, store)) in self.inner.regions.iter().enumerate() {
            if let Some(device) = store.redeem_ws_ticket(ticket_hash, now_ms).await? {
                self.remember_device(device, index);
                return Ok(Some(device));
            }
        }
        Ok(None)
    }

    async fn record_ip(&self, username: &Username, ip: &str, day: i64) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        match self.user_store(username).await? {
            Some(store) => store.record_ip(username, ip, day).await,
            None => Ok(()),
        }
    }

    async fn set_profile(
        &self,
        username: &Username,
        profile: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        match self.user_store(username).await? {
            Some(store) => store.set_profile(username, profile).await,
            None => Err(StoreError::UnknownAccount),
        }
    }

    async fn profile(&self, username: &Username) -> Result<Option<Vec<u8>>, StoreError> {
        match self.user_store(username).await? {
            Some(store) => store.profile(username).await,
            None => Ok(None),
        }
    }

    async fn delete_account(&self, username: &Username, day: i64) -> Result<bool, StoreError> {
        let _no_move = self.no_move().await;
        match self.user_store(username).await? {
            Some(store) => store.delete_account(username, day).await,
            None => Ok(false),
        }
    }
}
