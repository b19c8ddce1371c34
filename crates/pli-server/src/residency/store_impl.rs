//! [`Regional`] as a [`Store`]: each operation on the store that holds its data.

use super::Regional;
use crate::store::{
    Accepted, AccountExport, AuditAppend, EpochRule, GovernanceEffect, InventoryRecord, MoveReport,
    PendingNotice, Queued, RemoteWake, Retention, RetentionReport, StaffRecord, Store, StoreError,
    Submission, WakeSink,
};
use pli_proto::governance::RequestView;
use pli_proto::{DeviceId, GroupId, MessageId, Region, Username};
use std::collections::BTreeMap;

impl<S: Store> Regional<S> {
    /// Applies the account-side part of a governance action (holds, notices) in each
    /// target's home region, after the action's audit entry landed in the global store.
    /// Holds and notices for names no account has are dropped: a preservation order
    /// preserves nothing that does not exist.
    async fn apply_in_regions(&self, effect: GovernanceEffect) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        let mut parts: BTreeMap<usize, GovernanceEffect> = BTreeMap::new();
        for (user, until) in effect.holds {
            if let Some(index) = self.user_region(&user).await? {
                parts.entry(index).or_default().holds.push((user, until));
            }
        }
        for notice in effect.new_notices {
            if let Some(index) = self.user_region(&notice.username).await? {
                parts.entry(index).or_default().new_notices.push(notice);
            }
        }
        if let Some(release) = effect.release
            && let Some(index) = self.user_region(&release.username).await?
        {
            parts.entry(index).or_default().release = Some(release);
        }
        for (index, part) in parts {
            self.store(index).governance_commit(None, part).await?;
        }
        Ok(())
    }
}

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

    async fn staff(&self, id: u64) -> Result<Option<StaffRecord>, StoreError> {
        self.global().staff(id).await
    }

    async fn list_staff(&self) -> Result<Vec<StaffRecord>, StoreError> {
        self.global().list_staff().await
    }

    async fn audit_leaves(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        self.global().audit_leaves().await
    }

    async fn audit_entries(&self, from: u64, limit: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.global().audit_entries(from, limit).await
    }

    async fn audit_checkpoints(&self, from: u64, limit: u64) -> Result<Vec<String>, StoreError> {
        self.global().audit_checkpoints(from, limit).await
    }

    async fn add_audit_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError> {
        self.global()
            .add_audit_cosignature(size, witness, line)
            .await
    }

    async fn audit_cosignatures(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        self.global().audit_cosignatures(from, to).await
    }

    /// The audit entry and the staff-side records land in the global store first (staff
    /// actions are logged before they take effect); the account-side part then lands in
    /// each target's region.
    async fn governance_commit(
        &self,
        append: Option<AuditAppend>,
        effect: GovernanceEffect,
    ) -> Result<(), StoreError> {
        if self.inner.single {
            return self.global().governance_commit(append, effect).await;
        }
        let global = GovernanceEffect {
            staff: effect.staff.clone(),
            staff_change: effect.staff_change.clone(),
            request: effect.request.clone(),
            ..Default::default()
        };
        self.global().governance_commit(append, global).await?;
        self.apply_in_regions(effect).await
    }

    async fn request(&self, id: &str) -> Result<Option<RequestView>, StoreError> {
        self.global().request(id).await
    }

    async fn list_requests(&self) -> Result<Vec<RequestView>, StoreError> {
        self.global().list_requests().await
    }

    async fn inventory(&self, username: &Username) -> Result<Option<InventoryRecord>, StoreError> {
        match self.user_store(username).await? {
            Some(store) => store.inventory(username).await,
            None => Ok(None),
        }
    }

    async fn due_notices(
        &self,
        username: Option<&Username>,
        now_ms: u64,
    ) -> Result<Vec<PendingNotice>, StoreError> {
        if let Some(user) = username {
            return match self.user_store(user).await? {
                Some(store) => store.due_notices(Some(user), now_ms).await,
                None => Ok(Vec::new()),
            };
        }
        let mut due = Vec::new();
        for (_, store) in &self.inner.regions {
            due.extend(store.due_notices(None, now_ms).await?);
        }
        Ok(due)
    }
}
