//! Which routes a listener serves: the router and the published description both follow it.

/// Which routes a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// User API and admin API on one listener.
    All,
    /// User API only (the admin API has its own listener).
    Public,
    /// Admin API only.
    Admin,
}
