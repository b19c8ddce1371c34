//! A submission whose recipients live in other stores than its group's epoch.
//!
//! On one store, the epoch rule and the queue writes are one transaction. Across stores
//! there is no such transaction (and no home-made two-phase commit), so the order of steps
//! carries the guarantees instead, under a per-group lock held for the whole submission:
//!
//! 1. Admission, writing nothing: every recipient is found in some region, and every queue
//!    has room. A refusal here leaves no trace anywhere.
//! 2. The epoch rule in the global store: the one step that can lose a race (to another
//!    node's commit), and the point where a commit is decided.
//! 3. The queues, region by region, with no further refusals: a recipient's queue is
//!    allowed past its depth limit by the messages other groups queued since step 1, and a
//!    device deleted since step 1 is skipped.
//!
//! Because the group's lock is held from 1 to 3, no other message of the group reaches a
//! queue between a commit's epoch move and its own queue writes, so every member sees the
//! group's messages in epoch order. The lock is per process: several nodes on PostgreSQL
//! with regions still serialise commits on the epoch row, but an application message sent
//! through another node in the instant between a commit's steps 2 and 3 can reach a queue
//! before that commit (its receiver then reports it undecryptable). If step 3 fails (a
//! store unavailable), the sender gets an error after the epoch moved: its retry meets
//! `stale_epoch`, as after a lost response on one store.

use super::Regional;
use crate::store::{Accepted, Store, StoreError, Submission};
use pli_proto::frame::KIND_MLS;
use pli_proto::{DeviceId, MessageId};
use std::collections::BTreeMap;

impl<S: Store> Regional<S> {
    pub(super) async fn submit_across(&self, s: Submission) -> Result<Accepted, StoreError> {
        let lock = self.group_lock(&s.group);
        let _serialised = lock.lock().await;
        let recipients = unique(&s.recipients);
        let welcomed = s.welcome.as_ref().map(|(_, to)| unique(to));
        let placed = self
            .admit(&recipients, welcomed.as_deref(), s.max_queue_depth)
            .await?;
        let epoch = self.global().advance_epoch(&s.group, s.rule).await?;
        let mut first = None;
        for (index, devices) in by_region(&recipients, &placed) {
            let id = self
                .store(index)
                .deliver(KIND_MLS, s.payload.clone(), devices, s.now_ms, s.expires_ms)
                .await?;
            first = first.or(id);
        }
        if let (Some((welcome, _)), Some(welcomed)) = (&s.welcome, &welcomed) {
            for (index, devices) in by_region(welcomed, &placed) {
                self.store(index)
                    .deliver(KIND_MLS, welcome.clone(), devices, s.now_ms, None)
                    .await?;
            }
        }
        Ok(Accepted {
            id: first.unwrap_or(MessageId(0)),
            epoch,
        })
    }

    /// Finds each recipient's region and checks its queue has room for what this message
    /// adds (one, or two for a new member who also gets the welcome).
    async fn admit(
        &self,
        recipients: &[DeviceId],
        welcomed: Option<&[DeviceId]>,
        max_depth: u64,
    ) -> Result<BTreeMap<DeviceId, usize>, StoreError> {
        let mut adds: BTreeMap<DeviceId, u64> = BTreeMap::new();
        for device in recipients.iter().chain(welcomed.unwrap_or_default()) {
            *adds.entry(*device).or_default() += 1;
        }
        let wanted: Vec<DeviceId> = adds.keys().copied().collect();
        let mut placed = BTreeMap::new();
        let mut full = false;
        for index in 0..self.inner.regions.len() {
            let missing: Vec<DeviceId> = wanted
                .iter()
                .filter(|d| !placed.contains_key(*d))
                .copied()
                .collect();
            if missing.is_empty() {
                break;
            }
            for (device, queued) in self.store(index).queue_lengths(&missing).await? {
                full |= queued + adds[&device] > max_depth;
                placed.insert(device, index);
                self.remember_device(device, index);
            }
        }
        if placed.len() < wanted.len() {
            return Err(StoreError::UnknownRecipient);
        }
        if full {
            return Err(StoreError::QueueFull);
        }
        Ok(placed)
    }
}

fn unique(devices: &[DeviceId]) -> Vec<DeviceId> {
    let mut devices = devices.to_vec();
    devices.sort_unstable();
    devices.dedup();
    devices
}

/// The devices grouped by the region they were found in.
fn by_region(
    devices: &[DeviceId],
    placed: &BTreeMap<DeviceId, usize>,
) -> BTreeMap<usize, Vec<DeviceId>> {
    let mut groups: BTreeMap<usize, Vec<DeviceId>> = BTreeMap::new();
    for device in devices {
        groups.entry(placed[device]).or_default().push(*device);
    }
    groups
}
