//! [`Regional`] as a [`Store`]: each operation on the store that holds its data.

use super::Regional;
use crate::store::{
    Accepted, AccountExport, EpochRule, MoveReport, Queued, RemoteWake, Retention, RetentionReport,
    Store, StoreError, Submission, WakeSink,
};
use pli_proto::{DeviceId, GroupId, MessageId, Region, Username};

impl<S: Store> Regional<S> {}

impl<S: Store> Store for Regional<S> {
    async fn claim_username(&self, username: &Username, region: &Region) -> Result<(), StoreError> {
        self.global().claim_username(username, region).await
    }

    async fn home_region(&self, username: &Username) -> Result<Option<Region>, StoreError> {
        self.global().home_region(username).await
    }

    async fn regions_in_use(&self) -> Result<Vec<Region>, StoreError> {
        self.global().regions_in_use().await
    }

    async fn release_username(&self, username: &Username) -> Result<(), StoreError> {
        self.global().release_username(username).await
    }

    async fn set_home_region(
        &self,
        username: &Username,
        region: &Region,
    ) -> Result<(), StoreError> {
        self.global().set_home_region(username, region).await
    }

    async fn export_account(
        &self,
        username: &Username,
    ) -> Result<Option<AccountExport>, StoreError> {
        match self.user_store(username).await? {
            Some(store) => store.export_account(username).await,
            None => Ok(None),
        }
    }

    /// Into the account's home region (by the index).
    async fn import_account(&self, account: AccountExport) -> Result<(), StoreError> {
        let store = self
            .user_store(&account.username)
            .await?
            .ok_or(StoreError::UnknownAccount)?;
        store.import_account(account).await
    }

    async fn erase_account(&self, username: &Username) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        for store in self.all_stores() {
            store.erase_account(username).await?;
        }
        self.global().release_username(username).await
    }

    async fn expire(&self, retention: Retention) -> Result<RetentionReport, StoreError> {
        let _no_move = self.no_move().await;
        self.expire_regions(retention).await
    }

    async fn move_account(
        &self,
        username: &Username,
        region: &Region,
    ) -> Result<MoveReport, StoreError> {
        self.move_to(username, region).await
    }

    async fn advance_epoch(&self, group: &GroupId, rule: EpochRule) -> Result<u64, StoreError> {
        self.global().advance_epoch(group, rule).await
    }

    async fn queue_lengths(
        &self,
        devices: &[DeviceId],
    ) -> Result<Vec<(DeviceId, u64)>, StoreError> {
        let mut found = Vec::new();
        for (_, store) in &self.inner.regions {
            found.extend(store.queue_lengths(devices).await?);
        }
        Ok(found)
    }

    async fn deliver(
        &self,
        kind: u8,
        payload: Vec<u8>,
        devices: Vec<DeviceId>,
        now_ms: u64,
    ) -> Result<Option<MessageId>, StoreError> {
        let _no_move = self.no_move().await;
        let mut first = None;
        for (_, store) in &self.inner.regions {
            let id = store
                .deliver(kind, payload.clone(), devices.clone(), now_ms)
                .await?;
            first = first.or(id);
        }
        Ok(first)
    }

    async fn submit(&self, submission: Submission) -> Result<Accepted, StoreError> {
        if self.inner.single {
            return self.global().submit(submission).await;
        }
        let _no_move = self.no_move().await;
        self.submit_across(submission).await
    }

    async fn group_epoch(&self, group: &GroupId) -> Result<Option<u64>, StoreError> {
        self.global().group_epoch(group).await
    }

    async fn fetch_queue(
        &self,
        device: DeviceId,
        after: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let _no_move = self.no_move().await;
        match self.device_store(device).await? {
            Some(store) => store.fetch_queue(device, after, limit).await,
            None => Ok(Vec::new()),
        }
    }

    async fn ack(&self, device: DeviceId, ids: Vec<MessageId>) -> Result<u64, StoreError> {
        let _no_move = self.no_move().await;
        match self.device_store(device).await? {
            Some(store) => store.ack(device, ids).await,
            None => Ok(0),
        }
    }

    /// A device announced by another node (it connected there, or its account moved
    /// region) is forgotten here too, so the next lookup finds where it lives now.
    async fn relay_wakeups(&self, sink: WakeSink) {
        let sink: WakeSink = match self.inner.single {
            true => sink,
            false => {
                let regional = self.clone();
                std::sync::Arc::new(move |wake| {
                    if let RemoteWake::Replaced(devices) = &wake {
                        regional.forget(devices.iter().map(|(device, _)| *device));
                    }
                    sink(wake)
                })
            }
        };
        let relays = self
            .all_stores()
            .into_iter()
            .map(|store| store.relay_wakeups(sink.clone()));
        futures_util::future::join_all(relays).await;
    }

    fn announce_connected(&self, device: DeviceId) {
        match self.cached_device(device) {
            Some(index) if !self.inner.single => self.store(index).announce_connected(device),
            _ => self.global().announce_connected(device),
        }
    }
}
