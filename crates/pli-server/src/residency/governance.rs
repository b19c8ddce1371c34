//! [`Regional`] as a [`GovernanceStore`]: staff, the audit log and lawful requests live in
//! the global store; holds, notices and the inventory in each account's home region.

use super::Regional;
use crate::store::{
    AuditAppend, GovernanceEffect, GovernanceStore, InventoryRecord, PendingNotice, StaffRecord,
    Store, StoreError,
};
use pli_proto::Username;
use pli_proto::governance::RequestView;
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

impl<S: Store> GovernanceStore for Regional<S> {
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
            totp: effect.totp.clone(),
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
