//! What the console's handlers share beside the server's own state: the sessions, the
//! limit on sign-in attempts, and whether cookies are `Secure`. Reached through an
//! `Extension`, so the console adds nothing to `AppState`.

use super::session::Sessions;
use crate::governance::Actor;
use crate::ratelimit::RateLimiter;
use pli_proto::governance::Role;
use std::sync::Arc;

/// Sign-in attempts allowed per staff id in [`ATTEMPT_WINDOW_MS`]: enough for typos, too
/// few to guess a six-digit code (a credential's secret is 256 bits).
pub const ATTEMPTS: u32 = 10;
pub const ATTEMPT_WINDOW_MS: u64 = 15 * 60 * 1000;

pub struct Console {
    pub sessions: Sessions,
    /// Keyed by the staff id tried (never an address: nothing personal is kept).
    pub attempts: RateLimiter<u64>,
    /// Whether the browser reaches the console over TLS (directly, or through a TLS proxy
    /// in front of a plain-HTTP listener).
    pub secure: bool,
}

impl Console {
    pub fn new(secure: bool) -> Arc<Self> {
        Arc::new(Self {
            sessions: Sessions::default(),
            attempts: RateLimiter::new(ATTEMPTS, ATTEMPT_WINDOW_MS),
            secure,
        })
    }
}

/// A signed-in staff member.
pub struct Staff {
    pub actor: Actor,
    pub name: String,
    pub role: Role,
    /// The session's anti-forgery token, for the forms on the page.
    pub csrf: String,
    /// The session's id (to sign out).
    pub session: String,
}
