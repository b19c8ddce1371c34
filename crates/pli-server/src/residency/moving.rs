//! Moving an account to another region, and each region's retention sweep.
//!
//! A move copies the account into the new region's store (one transaction there), points
//! the index at it, then erases it from the old store (one transaction there). No message
//! for the account is accepted, and none of its devices reads or acks, while a move runs:
//! every device-routed operation shares a lock the move holds alone. A move interrupted
//! midway is finished by asking again: the copy replaces any earlier partial one, and a
//! move to where the index already points erases leftovers in every other region.
//!
//! The lock is per process. Other nodes forget the moved devices' region when the move
//! announces them, but one of them can still queue a message in the old store between the
//! copy and the erase, and the erase takes it (README, "Regions"). Closing that needs the
//! old store's transaction held, its device rows locked, across the copy.

use super::Regional;
use crate::store::{MoveReport, Retention, RetentionReport, Store, StoreError};
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
        for (index, (_, store)) in self.inner.regions.iter().enumerate() {
            if index != target {
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
