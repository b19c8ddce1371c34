//! The minute sweep of governance, run as a leased background job (`crate::jobs`): held
//! user notices whose non-disclosure order has expired go out, and emergencies' second
//! reviews that fell overdue are recorded. Each is also done when it matters sooner (a
//! notice when one of the user's devices connects, lateness before anyone acts on the
//! request); the sweep makes sure neither waits for that.

use super::{Governance, requests, review};
use crate::clock::Clock;
use crate::store::Store;

/// One sweep. Failures are logged (by kind) and left to the next sweep: nothing is lost,
/// since what is due stays due.
pub async fn sweep_due<S: Store>(
    governance: &Governance,
    store: &S,
    clock: &dyn Clock,
    max_queue_depth: u64,
) {
    let released = requests::release_due(governance, store, clock, None, max_queue_depth).await;
    if let Err(err) = released {
        tracing::warn!(error = %err, "releasing held notices failed");
    }
    if let Err(err) = review::mark_overdue(governance, store, clock, None).await {
        tracing::warn!(error = %err, "recording overdue second reviews failed");
    }
}
