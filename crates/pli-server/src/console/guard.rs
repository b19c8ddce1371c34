//! Who may use a console page, checked before its handler runs:
//! - [`Staff`] (the type is in `state.rs`): a signed-in session (credential and second factor), whose member still
//!   exists with the credential the session began with; their role is read afresh on each
//!   request, so a role change or a revocation applies at once.
//! - [`Posted`]: a form that changes something. It must come from the console itself
//!   (`Origin` naming the host it was sent to, `Sec-Fetch-Site: same-origin` when the
//!   browser sends one) and carry the session's anti-forgery token; otherwise `403
//!   csrf_refused`, before the body means anything.
//! - [`SameOrigin`]: the origin check alone, for the sign-in form (no session yet).
//!
//! What a staff member may *do* is not decided here: each handler asks the role table, as
//! the admin API does ([`crate::http::admin::permit`]).

use super::error::ConsoleError;
use super::session::{Session, Stage, cookie_id};
use super::state::{Console, Staff};
use crate::governance::Actor;
use crate::state::AppState;
use crate::store::Store;
use axum::body::Body;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use subtle::ConstantTimeEq as _;

pub fn console(parts: &Parts) -> Result<Arc<Console>, ConsoleError> {
    parts
        .extensions
        .get::<Arc<Console>>()
        .cloned()
        .ok_or_else(|| {
            ConsoleError::Api(crate::http::error::ApiError::internal(
                &"console state missing",
            ))
        })
}

/// The request's live session, of any stage.
pub fn session(parts: &Parts, console: &Console, now_ms: u64) -> Option<(String, Session)> {
    let id = cookie_id(&parts.headers)?;
    let session = console.sessions.touch(&id, now_ms)?;
    Some((id, session))
}

impl<S: Store> FromRequestParts<AppState<S>> for Staff {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, ConsoleError> {
        let console = console(parts)?;
        let (id, session) =
            session(parts, &console, state.clock.now_ms()).ok_or(ConsoleError::SignIn)?;
        if session.stage != Stage::SignedIn {
            return Err(ConsoleError::SignIn);
        }
        let member = state.store.staff(session.staff_id).await?;
        let Some(member) = member.filter(|m| bool::from(m.secret_hash.ct_eq(&session.secret_hash)))
        else {
            // Revoked, or the credential rotated: the session ends with it.
            console.sessions.close(&id);
            return Err(ConsoleError::SignIn);
        };
        Ok(Self {
            actor: Actor {
                staff_id: member.id,
                role: Some(member.role),
            },
            name: member.name,
            role: member.role,
            csrf: session.csrf,
            session: id,
        })
    }
}

/// Whether a request that changes something comes from a console page: its `Origin` must
/// name the host it was sent to, and its `Sec-Fetch-Site`, when sent, must be
/// `same-origin`. A request without `Origin` is refused (every browser sends one on a
/// form post).
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// The origin check alone (the sign-in form: there is no session yet).
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ConsoleError> {
        if same_origin(&parts.headers) {
            Ok(Self)
        } else {
            Err(ConsoleError::csrf())
        }
    }
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

/// A console form is a few fields of text: a request's, at most.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form from a console page of this session: the member, and the form's fields.
pub struct Posted<T>(pub Staff, pub T);

impl<S: Store, T: DeserializeOwned + Send> FromRequest<AppState<S>> for Posted<T> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &AppState<S>) -> Result<Self, ConsoleError> {
        let (mut parts, body) = request.into_parts();
        if !same_origin(&parts.headers) {
            return Err(ConsoleError::csrf());
        }
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| ConsoleError::bad_form("the form is too large"))?;
        let form = |bytes: bytes::Bytes| Request::from_parts(parts.clone(), Body::from(bytes));
        let Form(token) = Form::<Token>::from_request(form(bytes.clone()), state)
            .await
            .map_err(|_| ConsoleError::csrf())?;
        if !bool::from(token.csrf.as_bytes().ct_eq(staff.csrf.as_bytes())) {
            return Err(ConsoleError::csrf());
        }
        let Form(fields) = Form::<T>::from_request(form(bytes), state)
            .await
            .map_err(|e| ConsoleError::bad_form(e.body_text()))?;
        Ok(Self(staff, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn only_the_console_itself_may_post() {
        let host = ("host", "admin.example:8443");
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://admin.example:8443")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://admin.example:8443"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[host])), "no origin");
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://admin.example:8443"),
            ("sec-fetch-site", "same-site")
        ])));
    }
}
