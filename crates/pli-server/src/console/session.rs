//! Console sessions: in memory on this node, by design. A restart signs every staff
//! member out, and with several nodes the admin listener must be sticky (or staff sign in
//! on each node): nothing about a session is worth a table, and a session that outlived
//! the process would be one more secret at rest.
//!
//! A session is a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie scoped to
//! `/console`, with a random anti-forgery token of its own that every form carries. It ends
//! after 15 minutes without a request or 8 hours in all, when the member signs out, and
//! when their credential is revoked or rotated (checked on every request, with the role).

use rand::Rng as _;
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq as _;

/// Where a member without a session is sent, and where one half-way through enrols.
pub const SIGNIN_PATH: &str = "/console/signin";
pub const ENROL_PATH: &str = "/console/enrol";

/// The cookie's name.
pub const COOKIE: &str = "pli_console";
/// A session ends after this long without a request…
pub const IDLE_MS: u64 = 15 * 60 * 1000;
/// …and after this long in any case.
pub const MAX_MS: u64 = 8 * 60 * 60 * 1000;
/// Sessions kept at most (signed-in and half-way through signing in, all staff together):
/// past it the oldest go, so a flood of half sign-ins cannot grow memory.
const MAX_SESSIONS: usize = 10_000;

fn random_hex() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// How far a session is.
#[derive(Clone, PartialEq, Eq)]
pub enum Stage {
    /// The credential was right and no TOTP is enrolled: the member must confirm a code of
    /// this new secret before anything else.
    Enrolling { secret: Vec<u8> },
    /// Credential and second factor: the console is open.
    SignedIn,
}

/// One staff member's session. `Debug` is not derived: it holds secrets.
#[derive(Clone)]
pub struct Session {
    pub staff_id: u64,
    /// The credential's hash when the session began: a rotation ends the session.
    pub secret_hash: [u8; 32],
    pub csrf: String,
    pub stage: Stage,
    created_ms: u64,
    seen_ms: u64,
}

impl Session {
    fn live(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.seen_ms) < IDLE_MS
            && now_ms.saturating_sub(self.created_ms) < MAX_MS
    }

    /// Whether `offered` is this session's anti-forgery token (constant time).
    pub fn csrf_matches(&self, offered: &str) -> bool {
        self.csrf.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session; returns its id (the cookie's value).
    pub fn open(&self, staff_id: u64, secret_hash: [u8; 32], stage: Stage, now_ms: u64) -> String {
        let id = random_hex();
        let session = Session {
            staff_id,
            secret_hash,
            csrf: random_hex(),
            stage,
            created_ms: now_ms,
            seen_ms: now_ms,
        };
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.live(now_ms));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.created_ms)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), session);
        id
    }

    /// The live session `id` names, marked seen now; an expired one is forgotten.
    pub fn touch(&self, id: &str, now_ms: u64) -> Option<Session> {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        let session = map.get_mut(id)?;
        if !session.live(now_ms) {
            map.remove(id);
            return None;
        }
        session.seen_ms = now_ms;
        Some(session.clone())
    }

    /// Moves the session on to `stage` (enrolment done), with a fresh id: the id a member
    /// had before their second factor was confirmed is never the one that opens the
    /// console. Returns the new id.
    pub fn promote(&self, id: &str, stage: Stage, now_ms: u64) -> Option<String> {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        let mut session = map.remove(id)?;
        if !session.live(now_ms) {
            return None;
        }
        session.stage = stage;
        session.seen_ms = now_ms;
        let fresh = random_hex();
        map.insert(fresh.clone(), session);
        Some(fresh)
    }

    pub fn close(&self, id: &str) {
        self.by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// The session id in the request's cookies, if any.
pub fn cookie_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value that carries session `id` (`Secure` when the browser reaches the
/// console over TLS, directly or through a TLS proxy).
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={}{secure}",
        MAX_MS / 1000
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_old() {
        let sessions = Sessions::default();
        let id = sessions.open(7, [0; 32], Stage::SignedIn, 0);
        assert!(sessions.touch(&id, IDLE_MS - 1).is_some());
        assert!(
            sessions.touch(&id, 2 * IDLE_MS - 2).is_some(),
            "each request renews"
        );
        assert!(sessions.touch(&id, 3 * IDLE_MS).is_none(), "idle");
        assert!(sessions.touch(&id, 0).is_none(), "forgotten");
        let busy = sessions.open(7, [0; 32], Stage::SignedIn, 0);
        let mut now = 0;
        while now + IDLE_MS / 2 < MAX_MS {
            now += IDLE_MS / 2;
            assert!(sessions.touch(&busy, now).is_some());
        }
        assert!(sessions.touch(&busy, MAX_MS).is_none(), "8 hours at most");
    }

    #[test]
    fn promotion_changes_the_id() {
        let sessions = Sessions::default();
        let stage = Stage::Enrolling {
            secret: vec![1; 20],
        };
        let id = sessions.open(7, [0; 32], stage, 0);
        let fresh = sessions.promote(&id, Stage::SignedIn, 1).expect("promoted");
        assert_ne!(id, fresh);
        assert!(sessions.touch(&id, 2).is_none());
        assert!(
            sessions
                .touch(&fresh, 2)
                .is_some_and(|s| s.stage == Stage::SignedIn)
        );
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped() {
        let cookie = set_cookie("abc", true);
        for part in ["HttpOnly", "SameSite=Strict", "Path=/console", "Secure"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!set_cookie("abc", false).contains("Secure"));
    }
}
