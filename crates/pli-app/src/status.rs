//! Whether the app reaches its server: what the top bar shows, kept apart so the views
//! need not know the engine.

use serde::Serialize;

/// Whether the engine reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No account in this home yet.
    NoAccount,
    /// The device waits for another device of the user to approve it.
    AwaitingApproval,
    Online,
    Offline,
}
