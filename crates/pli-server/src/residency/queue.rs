//! [`Regional`] as a [`QueueStore`]: group epochs live in the global store, each device's
//! queue in its region's; a submission across regions is `submit.rs`.

use super::Regional;
use crate::store::{
    Accepted, EpochRule, QueueDepths, QueueStore, Queued, RemoteWake, Store, StoreError,
    Submission, WakeSink,
};
use pli_proto::{DeviceId, GroupId, MessageId};

impl<S: Store> QueueStore for Regional<S> {
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

    async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        let mut depths = QueueDepths::default();
        for (_, store) in &self.inner.regions {
            depths.merge(&store.queue_depths().await?);
        }
        Ok(depths)
    }

    async fn deliver(
        &self,
        kind: u8,
        payload: Vec<u8>,
        devices: Vec<DeviceId>,
        now_ms: u64,
        expires_ms: Option<u64>,
    ) -> Result<Option<MessageId>, StoreError> {
        let _no_move = self.no_move().await;
        let mut first = None;
        for (_, store) in &self.inner.regions {
            let id = store
                .deliver(kind, payload.clone(), devices.clone(), now_ms, expires_ms)
                .await?;
            first = first.or(id);
        }
        Ok(first)
    }

    async fn expire_timed(&self, now_ms: u64) -> Result<u64, StoreError> {
        let mut expired = 0;
        for (_, store) in &self.inner.regions {
            expired += store.expire_timed(now_ms).await?;
        }
        Ok(expired)
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

    /// Every node listens to the global store, so one relay there reaches them all.
    fn relay_ephemeral(&self, devices: Vec<DeviceId>, frame: crate::store::EphemeralFrame) {
        self.global().relay_ephemeral(devices, frame);
    }

    fn announce_connected(&self, device: DeviceId) {
        match self.cached_device(device) {
            Some(index) if !self.inner.single => self.store(index).announce_connected(device),
            _ => self.global().announce_connected(device),
        }
    }
}
