//! Why a transparency page cannot be shown.

use crate::governance::GovernanceError;
use crate::store::StoreError;

/// Why the page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum TransparencyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    /// The log has entries but no checkpoint of its size.
    #[error("the audit log has no checkpoint of its size")]
    NoCheckpoint,
    /// A stored checkpoint does not verify with the log's key.
    #[error("a stored audit checkpoint does not verify")]
    BadCheckpoint,
}
