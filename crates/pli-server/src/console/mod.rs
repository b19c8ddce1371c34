//! The staff console: the admin API in a browser, for staff, on the admin surface only
//! (`/console`, on the admin listener when there is one).
//!
//! It adds no power. Each action is the admin API's own handler, called with the
//! signed-in member as its actor after the same role-table check
//! ([`crate::http::admin::permit`]), so the same rules refuse it and the same audit
//! entries record it. The console's own additions are how staff sign in (their credential
//! and a TOTP second factor, both audited) and how pages look.
//!
//! - [`session`]: sessions in memory, the cookie, idle and absolute lifetimes.
//! - [`totp`]: the RFC 6238 second factor.
//! - [`api`]: calling the admin API's handlers, after the role table's check.
//! - [`guard`]: the signed-in member, the same-origin and anti-forgery checks of forms.
//! - [`state`]: the sessions and sign-in limits the handlers share.
//! - [`error`]: refusals as pages, with the API's stable codes.
//! - [`signin`], [`requests`], [`audit`], [`operators`]: the pages, by who uses them.
//! - [`views`]: their HTML.
//!
//! Every response carries a strict content security policy (nothing but the console's
//! own stylesheet; no script at all, no frames, forms only to itself) and is never cached.

pub mod api;
pub mod audit;
pub mod error;
pub mod guard;
pub mod operators;
pub mod requests;
pub mod session;
pub mod signin;
pub mod state;
pub mod totp;
pub mod views;

use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use std::sync::Arc;

pub use session::{ENROL_PATH, SIGNIN_PATH};

/// The policy on every console response. `img-src data:` is for nothing today but
/// costs nothing; QR codes are inline SVG.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS: &str = include_str!("assets/console.css");

/// The console's routes, with its state and headers. `secure`: cookies are `Secure`
/// (the browser reaches the console over TLS).
pub fn routes<S: Store>(secure: bool) -> Router<AppState<S>> {
    let console = state::Console::new(secure);
    Router::new()
        .route("/console", get(signin::root))
        .route("/console/", get(signin::root))
        .route(
            SIGNIN_PATH,
            get(signin::page::<S>).post(signin::submit::<S>),
        )
        .route(
            ENROL_PATH,
            get(signin::enrol_page::<S>).post(signin::enrol::<S>),
        )
        .route("/console/signout", post(signin::signout))
        .route(
            "/console/requests",
            get(requests::list::<S>).post(requests::create::<S>),
        )
        .route("/console/requests/new", get(requests::new_form::<S>))
        .route("/console/requests/{id}", get(requests::show::<S>))
        .route(
            "/console/requests/{id}/edit",
            get(requests::edit_form::<S>).post(requests::edit::<S>),
        )
        .route(
            "/console/requests/{id}/approve",
            post(requests::approve::<S>),
        )
        .route("/console/requests/{id}/reject", post(requests::reject::<S>))
        .route(
            "/console/requests/{id}/disclose",
            post(requests::disclose::<S>),
        )
        .route("/console/requests/{id}/close", post(requests::close::<S>))
        .route("/console/audit", get(audit::log::<S>))
        .route("/console/audit/checkpoints", get(audit::checkpoints::<S>))
        .route("/console/audit/{seq}", get(audit::entry::<S>))
        .route(
            "/console/reports",
            get(audit::reports_page).post(audit::report::<S>),
        )
        .route(
            "/console/staff",
            get(operators::staff::<S>).post(operators::add::<S>),
        )
        .route("/console/staff/{id}/role", post(operators::role::<S>))
        .route("/console/staff/{id}/revoke", post(operators::revoke::<S>))
        .route("/console/regions", get(operators::regions::<S>))
        .route("/console/operations", get(operators::operations::<S>))
        .route(
            "/console/operations/retention",
            post(operators::retention::<S>),
        )
        .route("/console/operations/publish", post(operators::publish::<S>))
        .route(
            "/console/assets/console.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .layer(axum::Extension(Arc::clone(&console)))
        .layer(axum::middleware::map_response(headers))
}

/// The console's security headers, on every response (refusals and redirects too).
async fn headers(mut response: axum::response::Response) -> axum::response::Response {
    let set = response.headers_mut();
    set.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    set.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: under it a browser sends `Origin: null` with a form, and the
    // origin check could not tell the console's own forms from a sandboxed page's.
    set.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    set.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    set.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}
