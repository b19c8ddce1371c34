//! Residency: each account's data in its home region's store.
//!
//! [`Regional`] is itself a [`Store`], so nothing above it knows regions exist: it routes
//! each operation to the store that must hold its data.
//! - The **global store** holds the index (username → region, nothing else), the opaque
//!   group epochs (which name no account), staff, the audit log, lawful requests, leases
//!   and server secrets.
//! - A **region's store** holds everything personal about its accounts: the account row,
//!   devices, key packages, queued messages for its devices, WebSocket tickets, preservation
//!   holds, held notices and abuse reports about them. A message to a user of another
//!   region is queued there.
//!
//! With no regions configured there is one implicit region whose store *is* the global
//! store, and every operation passes straight through (the single-machine quickstart).
//!
//! Each domain trait's impl for [`Regional`] is a file of its own, as in the backends
//! (`accounts.rs`, `key_packages.rs`, `queue.rs`, `leases.rs`, `governance.rs`,
//! `directory.rs`, `moving.rs`, `reports.rs`, `moderation.rs`); this file holds the routing they share.
//!
//! - [`submit`]: a message whose recipients live in other stores than its group's epoch.
//! - [`moving`]: an account moving to another region; each region's retention sweep.

mod accounts;
mod attachments;
mod directory;
mod governance;
mod key_packages;
mod leases;
mod moderation;
mod moving;
mod queue;
mod reports;
mod second_factors;
mod submit;

use crate::store::{Store, StoreError};
use pli_proto::{DeviceId, GroupId, Region, Username};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Device → region entries remembered before the cache starts over. Devices never change
/// region while the server runs (a move restarts nothing, but clears the cache), so the
/// cache only saves lookups; its bound only caps memory.
const DEVICE_CACHE_LIMIT: usize = 1_000_000;

/// The stores of a deployment, routed by home region.
pub struct Regional<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Regional<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<S> {
    global: S,
    /// In configuration order; indexes below are into this list.
    regions: Vec<(Region, S)>,
    /// The one region's store is the global store: pass everything through.
    single: bool,
    devices: Mutex<HashMap<DeviceId, usize>>,
    /// One lock per group with a submission in flight: a group's messages reach the
    /// regions' queues in the order its epoch allows (see [`submit`]).
    groups: Mutex<HashMap<GroupId, Weak<tokio::sync::Mutex<()>>>>,
    /// Held shared by every operation that writes or reads an account's region data, and
    /// alone by a move, so nothing lands in the old store after it was copied.
    moving: tokio::sync::RwLock<()>,
}

impl<S: Store> Regional<S> {
    /// One implicit region whose store is the global store.
    pub fn single(store: S, region: Region) -> Self {
        Self::build(store.clone(), vec![(region, store)], true)
    }

    /// Regions with their own stores, beside the global one.
    pub fn new(global: S, regions: Vec<(Region, S)>) -> Self {
        Self::build(global, regions, false)
    }

    fn build(global: S, regions: Vec<(Region, S)>, single: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                global,
                regions,
                single,
                devices: Mutex::new(HashMap::new()),
                groups: Mutex::new(HashMap::new()),
                moving: tokio::sync::RwLock::new(()),
            }),
        }
    }

    pub fn global(&self) -> &S {
        &self.inner.global
    }

    /// The region's own store.
    pub fn region_store(&self, region: &Region) -> Option<&S> {
        self.index_of(region).map(|i| &self.inner.regions[i].1)
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.inner.regions.iter().map(|(name, _)| name)
    }

    fn index_of(&self, region: &Region) -> Option<usize> {
        self.inner
            .regions
            .iter()
            .position(|(name, _)| name == region)
    }

    fn store(&self, index: usize) -> &S {
        &self.inner.regions[index].1
    }

    /// The distinct stores, global first (each backend relays its own wake-ups).
    fn all_stores(&self) -> Vec<&S> {
        let mut stores = vec![&self.inner.global];
        if !self.inner.single {
            stores.extend(self.inner.regions.iter().map(|(_, store)| store));
        }
        stores
    }

    /// The index of the region holding the user's account, by the global index.
    async fn user_region(&self, user: &Username) -> Result<Option<usize>, StoreError> {
        if self.inner.single {
            return Ok(Some(0));
        }
        let region = self.inner.global.home_region(user).await?;
        Ok(region.and_then(|r| self.index_of(&r)))
    }

    /// The store holding the user's account.
    async fn user_store(&self, user: &Username) -> Result<Option<&S>, StoreError> {
        Ok(self.user_region(user).await?.map(|i| self.store(i)))
    }

    fn cached_device(&self, device: DeviceId) -> Option<usize> {
        let cache = self.inner.devices.lock().expect("device cache lock");
        cache.get(&device).copied()
    }

    fn remember_device(&self, device: DeviceId, index: usize) {
        let mut cache = self.inner.devices.lock().expect("device cache lock");
        if cache.len() >= DEVICE_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(device, index);
    }

    /// Forgets where these devices live.
    fn forget(&self, devices: impl IntoIterator<Item = DeviceId>) {
        let mut cache = self.inner.devices.lock().expect("device cache lock");
        for device in devices {
            cache.remove(&device);
        }
    }

    /// Forgets where devices live (after accounts moved between regions).
    pub fn forget_devices(&self) {
        self.inner
            .devices
            .lock()
            .expect("device cache lock")
            .clear();
    }

    /// The index of the region holding the device: remembered, or asked of each region.
    async fn device_region(&self, device: DeviceId) -> Result<Option<usize>, StoreError> {
        if self.inner.single {
            return Ok(Some(0));
        }
        if let Some(index) = self.cached_device(device) {
            return Ok(Some(index));
        }
        for (index, (_, store)) in self.inner.regions.iter().enumerate() {
            if !store.queue_lengths(&[device]).await?.is_empty() {
                self.remember_device(device, index);
                return Ok(Some(index));
            }
        }
        Ok(None)
    }

    async fn device_store(&self, device: DeviceId) -> Result<Option<&S>, StoreError> {
        Ok(self.device_region(device).await?.map(|i| self.store(i)))
    }

    /// Keeps moves out while the caller works on region data (nothing to keep out when
    /// there is one region).
    async fn no_move(&self) -> Option<tokio::sync::RwLockReadGuard<'_, ()>> {
        match self.inner.single {
            true => None,
            false => Some(self.inner.moving.read().await),
        }
    }

    /// The lock that orders one group's submissions.
    fn group_lock(&self, group: &GroupId) -> Arc<tokio::sync::Mutex<()>> {
        let mut groups = self.inner.groups.lock().expect("group locks");
        if let Some(lock) = groups.get(group).and_then(Weak::upgrade) {
            return lock;
        }
        groups.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        groups.insert(group.clone(), Arc::downgrade(&lock));
        lock
    }
}
