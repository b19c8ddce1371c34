//! [`Regional`] as a [`SecondFactorStore`]: staff live in the global store, and so do
//! their second factors.

use super::Regional;
use crate::store::{SecondFactorStore, StaffTotp, Store, StoreError};

impl<S: Store> SecondFactorStore for Regional<S> {
    async fn staff_totp(&self, staff_id: u64) -> Result<Option<StaffTotp>, StoreError> {
        self.global().staff_totp(staff_id).await
    }

    async fn spend_totp_step(&self, staff_id: u64, step: u64) -> Result<bool, StoreError> {
        self.global().spend_totp_step(staff_id, step).await
    }
}
