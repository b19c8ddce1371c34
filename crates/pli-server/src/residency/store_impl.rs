//! [`Regional`] as a [`Store`]: each operation on the store that holds its data.

use super::Regional;
use crate::store::{AccountExport, MoveReport, Retention, RetentionReport, Store, StoreError};
use pli_proto::{Region, Username};

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
}
