//! Who may talk to the app: only the user's own browser, on this machine.
//!
//! The app holds the keys to every conversation, so its HTTP surface is guarded like a
//! door to them:
//! - It listens on loopback only ([`check_listen`]): nothing off the machine reaches it.
//! - The URL printed at start carries a one-time token. Opening it sets an `HttpOnly`,
//!   `SameSite=Strict` session cookie and spends the token: another local user or a page
//!   that guesses the port has neither.
//! - Every request's `Host` must name the loopback address and port the app listens on: a
//!   site that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own name, and is
//!   refused before any cookie matters.
//! - A request that changes something must carry an `Origin` that is the app itself (and a
//!   `Sec-Fetch-Site`, when the browser sends one, of `same-origin`): a cross-site form
//!   post is refused even if a cookie were sent.

use crate::error::AppError;
use axum::http::{HeaderMap, Method, header};
use rand::Rng as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use subtle::ConstantTimeEq as _;

/// The session cookie's name, followed by `_PORT`: browsers send a cookie to every port of
/// a host, so two apps (or another local service) on other ports must not share it.
pub const COOKIE: &str = "pli_app_session";
/// The path the printed URL opens, with `?token=`.
pub const OPEN_PATH: &str = "/open";

/// Refuses to serve anywhere but the loopback interface.
pub fn check_listen(addr: SocketAddr) -> Result<(), AppError> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(AppError::NotLoopback)
    }
}

fn random_hex() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// The app's secrets for one run: the one-time token (until spent) and the session.
pub struct Guard {
    /// `pli_app_session_PORT`.
    cookie: String,
    hosts: Vec<String>,
    origins: Vec<String>,
    token: Mutex<Option<String>>,
    session: String,
}

impl Guard {
    /// For an app listening on `addr` (its real port, after binding).
    pub fn new(addr: SocketAddr) -> Self {
        let port = addr.port();
        let mut hosts = vec![addr.to_string(), format!("localhost:{port}")];
        if addr.ip().is_ipv4() {
            hosts.push(format!("127.0.0.1:{port}"));
        }
        hosts.dedup();
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Self {
            cookie: format!("{COOKIE}_{port}"),
            hosts,
            origins,
            token: Mutex::new(Some(random_hex())),
            session: random_hex(),
        }
    }

    /// The URL to print: the one-time token in its query.
    pub fn url(&self) -> String {
        let token = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default();
        format!("http://{}{OPEN_PATH}?token={token}", self.hosts[0])
    }

    /// Spends the one-time token: the session cookie's `Set-Cookie` value if `offered` is it.
    pub fn exchange(&self, offered: &str) -> Result<String, AppError> {
        let mut token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        match token.as_deref() {
            Some(expected) if bool::from(expected.as_bytes().ct_eq(offered.as_bytes())) => {
                *token = None;
                Ok(format!(
                    "{}={}; HttpOnly; SameSite=Strict; Path=/",
                    self.cookie, self.session
                ))
            }
            Some(_) => Err(AppError::BadToken),
            None => Err(AppError::TokenSpent),
        }
    }

    /// Checks a request's `Host`, `Origin` and `Sec-Fetch-Site`, and (unless it opens the
    /// token URL or fetches a static asset) its session cookie.
    pub fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), AppError> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if !self.hosts.iter().any(|h| h == host) {
            return Err(AppError::ForeignHost);
        }
        let safe = matches!(*method, Method::GET | Method::HEAD);
        match headers
            .get(header::ORIGIN)
            .map(|o| o.to_str().unwrap_or(""))
        {
            Some(origin) if !self.origins.iter().any(|o| o == origin) => {
                return Err(AppError::ForeignOrigin);
            }
            None if !safe => return Err(AppError::ForeignOrigin),
            _ => {}
        }
        // The token URL is opened from wherever the user opens it (a launcher file, another
        // program): the token itself authenticates it.
        if path == OPEN_PATH {
            return Ok(());
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            let site = site.to_str().unwrap_or("");
            // `none`: the user opened the URL themselves (typed, or from the terminal).
            if site != "same-origin" && !(safe && site == "none") {
                return Err(AppError::ForeignOrigin);
            }
        }
        if path.starts_with("/assets/") {
            return Ok(());
        }
        if self.has_session(headers) {
            Ok(())
        } else {
            Err(AppError::NoSession)
        }
    }

    fn has_session(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| {
                name == self.cookie && bool::from(value.as_bytes().ct_eq(self.session.as_bytes()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:4000".parse().expect("addr"))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn the_token_is_spent_once_and_a_wrong_one_never_works() {
        let guard = guard();
        let url = guard.url();
        let token = url.split("token=").nth(1).expect("token");
        assert!(matches!(guard.exchange("nope"), Err(AppError::BadToken)));
        let cookie = guard.exchange(token).expect("first use");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(matches!(guard.exchange(token), Err(AppError::TokenSpent)));
    }

    #[test]
    fn only_the_apps_own_host_and_origin_pass() {
        let guard = guard();
        let ok = |h: &HeaderMap, m: Method| guard.check(&m, OPEN_PATH, h);
        assert!(ok(&headers(&[("host", "127.0.0.1:4000")]), Method::GET).is_ok());
        assert!(ok(&headers(&[("host", "localhost:4000")]), Method::GET).is_ok());
        assert!(matches!(
            ok(&headers(&[("host", "evil.example:4000")]), Method::GET),
            Err(AppError::ForeignHost)
        ));
        assert!(matches!(
            ok(&headers(&[("host", "127.0.0.1:4001")]), Method::GET),
            Err(AppError::ForeignHost)
        ));
        assert!(matches!(
            ok(&headers(&[("host", "127.0.0.1:4000")]), Method::POST),
            Err(AppError::ForeignOrigin)
        ));
        let cross = headers(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://evil.example"),
        ]);
        assert!(matches!(
            ok(&cross, Method::GET),
            Err(AppError::ForeignOrigin)
        ));
        let own = headers(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://127.0.0.1:4000"),
        ]);
        assert!(ok(&own, Method::POST).is_ok());
        let site = headers(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://127.0.0.1:4000"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(matches!(
            guard.check(&Method::POST, "/", &site),
            Err(AppError::ForeignOrigin)
        ));
        // The token URL itself may be opened from anywhere (a launcher file): the token
        // is what authenticates it.
        let launched = headers(&[("host", "127.0.0.1:4000"), ("sec-fetch-site", "cross-site")]);
        assert!(ok(&launched, Method::GET).is_ok());
    }

    #[test]
    fn pages_need_the_session_cookie() {
        let guard = guard();
        let host = ("host", "127.0.0.1:4000");
        assert!(matches!(
            guard.check(&Method::GET, "/", &headers(&[host])),
            Err(AppError::NoSession)
        ));
        let forged = format!("{COOKIE}_4000=00");
        assert!(
            guard
                .check(&Method::GET, "/", &headers(&[host, ("cookie", &forged)]))
                .is_err()
        );
        let other_port = format!("{COOKIE}_4001={}", guard.session);
        assert!(
            guard
                .check(
                    &Method::GET,
                    "/",
                    &headers(&[host, ("cookie", &other_port)])
                )
                .is_err(),
            "another port's cookie opens nothing"
        );
        let real = format!("other=1; {COOKIE}_4000={}", guard.session);
        assert!(
            guard
                .check(&Method::GET, "/", &headers(&[host, ("cookie", &real)]))
                .is_ok()
        );
    }

    #[test]
    fn anything_but_loopback_is_refused() {
        assert!(check_listen("127.0.0.1:0".parse().expect("addr")).is_ok());
        assert!(check_listen("[::1]:0".parse().expect("addr")).is_ok());
        assert!(matches!(
            check_listen("0.0.0.0:0".parse().expect("addr")),
            Err(AppError::NotLoopback)
        ));
    }
}
