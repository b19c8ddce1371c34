//! Moving an account to another region, and each region's retention sweep.
//!
//! A move copies the account into the new region's store (one transaction there), points
//! the index at it, carries every other region's abuse reports about it and its trust &
//! safety actions and standing into the new store, then erases it and them from the old
//! stores (one transaction each). No message for the account is accepted, and none of its
//! devices reads or acks, while a move runs: every device-routed operation shares a lock
//! the move holds alone. A move interrupted
//! midway is finished by asking again: the copy replaces any earlier partial one, and a
//! move to where the index already points erases leftovers in every other region.
//!
//! The lock is per process. Other nodes forget the moved devices' region when the move
//! announces them, but one of them can still queue a message in the old store between the
//! copy and the erase, and the erase takes it (README, "Regions"). Closing that needs the
//! old store's transaction held, its device rows locked, across the copy.

use super::Regional;
use crate::store::{
    AccountExport, MoveReport, ResidencyStore, Retention, RetentionReport, Store, StoreError,
};
use pli_proto::{Region, Username};

impl<S: Store> Regional<S> {
    pub(super) async fn move_to(
        &self,
        user: &Username,
        to: &Region,
    ) -> Result<MoveReport, StoreError> {
        if self.inner.single {
            return Err(StoreError::UnknownRegion);
        }
        let target = self.index_of(to).ok_or(StoreError::UnknownRegion)?;
        let _exclusive = self.inner.moving.write().await;
        let from = self
            .global()
            .home_region(user)
            .await?
            .ok_or(StoreError::UnknownAccount)?;
        let source = self.index_of(&from).ok_or(StoreError::UnknownRegion)?;
        let mut report = MoveReport {
            from,
            to: to.clone(),
            devices: Vec::new(),
            queued_messages: 0,
        };
        if let Some(export) = self.store(source).export_account(user).await? {
            report.devices = export.devices.iter().map(|d| d.device_id).collect();
            report.queued_messages = export.queued.len() as u64;
            if source != target {
                self.store(target).import_account(export).await?;
                self.global().set_home_region(user, to).await?;
            }
        }
        // From every other region, not only the source: a report filed on another node
        // while an earlier run of this move was under way can have landed in the old one.
        // Copied before any is erased, so a move interrupted here loses none when run again.
        for (index, (_, store)) in self.inner.regions.iter().enumerate() {
            if index != target {
                let reports = store.export_reports(user).await?;
                if !reports.is_empty() {
                    self.store(target).import_reports(reports).await?;
                }
            }
        }
        // Trust & safety actions and standing live beside the account, in its old region,
        // or still there when an interrupted run moved the account but not them: so asked
        // of every other region. Copied after the account (whose import replaces what the
        // new store held of it), and erased with it below (`erase_account`).
        for (index, (_, store)) in self.inner.regions.iter().enumerate() {
            if index != target {
                let moderation = store.export_moderation(user).await?;
                if !moderation.is_empty() {
                    self.store(target).import_moderation(moderation).await?;
                }
            }
        }
        for (index, (_, store)) in self.inner.regions.iter().enumerate() {
            if index != target {
                // Reports first: erasing the account then empties the write-ahead log
                // (SQLite), so neither leaves old page images there.
                store.erase_reports_about(user).await?;
                store.erase_account(user).await?;
            }
        }
        self.forget_devices();
        Ok(report)
    }

    pub(super) async fn expire_regions(
        &self,
        retention: Retention,
    ) -> Result<RetentionReport, StoreError> {
        let mut total = RetentionReport::default();
        for (name, store) in &self.inner.regions {
            let report = store.expire(retention.for_region(name)).await?;
            for user in &report.erased_accounts {
                self.global().release_username(user).await?;
            }
            total.erased_accounts.extend(report.erased_accounts);
            total.expired_queue_entries += report.expired_queue_entries;
            total.held_queue_entries += report.held_queue_entries;
            total.expired_holds += report.expired_holds;
            total.expired_ips += report.expired_ips;
        }
        Ok(total)
    }
}

/// The index lives in the global store; an account's rows in its home region's.
impl<S: Store> ResidencyStore for Regional<S> {
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
}
