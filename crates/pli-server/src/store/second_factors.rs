//! Staff members' second factors for the staff console: the TOTP secret each one enrolled
//! and the last time step they spent. Staff data, not user data (`columns.rs` says so).
//!
//! Enrolling is a governance action: it lands with its audit entry through
//! [`GovernanceEffect::totp`](super::governance::GovernanceEffect::totp), never alone.
//! Revoking a member forgets their secret with them.

use super::error::StoreError;
use std::future::Future;

/// A member's enrolled TOTP. `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffTotp {
    pub staff_id: u64,
    /// The shared secret (20 random bytes, RFC 6238's SHA-1 length).
    pub secret: Vec<u8>,
    /// The newest time step a code was accepted for: no code of it or before it is
    /// accepted again.
    pub last_step: u64,
}

impl std::fmt::Debug for StaffTotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffTotp")
            .field("staff_id", &self.staff_id)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// An enrolment, applied with its audit entry: the secret, and the step of the code that
/// confirmed it (spent already). A member enrols once ([`StoreError::TotpEnrolled`]).
pub type TotpEnrolment = StaffTotp;

/// The second factors, as domain operations.
pub trait SecondFactorStore: Send + Sync {
    /// The member's TOTP, or `None` if they have not enrolled one.
    fn staff_totp(
        &self,
        staff_id: u64,
    ) -> impl Future<Output = Result<Option<StaffTotp>, StoreError>> + Send;

    /// Spends time step `step` of the member's TOTP: `true` if it is later than every
    /// step spent before (it is then the last one spent), `false` if it or a later one was
    /// spent already or nothing is enrolled. Atomic: of two sign-ins with one code, on one
    /// node or several, one wins.
    fn spend_totp_step(
        &self,
        staff_id: u64,
        step: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
