//! The app's HTTP surface: one file per screen, the guard in front of all of them, and the
//! headers every response carries (a strict Content-Security-Policy: no inline script, no
//! remote origin; a referrer only to the app itself, never elsewhere (with none at all, a
//! browser sends `Origin: null` on form posts, which the guard must refuse); nothing cached).

mod chat_settings;
mod chats;
mod devices;
mod events;
mod files;
mod groups;
mod me;
mod message_actions;
mod onboarding;
mod profile;
mod reports;
mod shared;
mod trust;

use crate::error::AppError;
use crate::state::AppState;
use crate::views::layout;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::Markup;
use shared::Shared;
use std::sync::Arc;

/// Most bytes a form may send: a message of 64 KiB of text, each byte of which form
/// encoding may write as three (`%E4`), and room for the other fields.
const MAX_FORM_BYTES: usize = 3 * pli_proto::limits::MAX_TEXT_BYTES + 16 * 1024;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(crate::guard::OPEN_PATH, get(open))
        .route("/assets/app.js", get(script))
        .route("/assets/app.css", get(stylesheet))
        .route("/alerts/{id}/ack", axum::routing::post(acknowledge))
        .route("/alerts", get(alerts_fragment))
        .merge(onboarding::routes())
        .merge(chats::routes())
        .merge(files::routes())
        .merge(chat_settings::routes())
        .merge(groups::routes())
        .merge(trust::routes())
        .merge(devices::routes())
        .merge(reports::routes())
        .merge(message_actions::routes())
        .merge(me::routes())
        .merge(profile::routes())
        .merge(events::routes())
        .fallback(|| async { AppError::NotFound })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), guarded))
        .with_state(state)
}

/// The guard, then the security headers on whatever the handler answered.
async fn guarded(State(state): Shared, request: Request, next: Next) -> Response {
    let checked = state
        .guard
        .check(request.method(), request.uri().path(), request.headers());
    let mut response = match checked {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[derive(serde::Deserialize)]
struct OpenQuery {
    #[serde(default)]
    token: String,
}

/// The printed URL: spends the token for the session cookie, then moves on to `/` from a
/// page of the app's own (a redirect would not do: a `SameSite=Strict` cookie is not sent
/// along a chain of redirects that began elsewhere, as it does when a launcher file or
/// another program opens the URL).
async fn open(State(state): Shared, Query(query): Query<OpenQuery>) -> Result<Response, AppError> {
    let cookie = state.guard.exchange(&query.token)?;
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content="0;url=/";
                title { "Opening pli" }
            }
            body { p { a href="/" { "Open pli" } } }
        }
    };
    let mut response = page.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| AppError::BadToken)?,
    );
    Ok(response)
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/app.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/app.css"),
    )
}

async fn alerts_fragment(State(state): Shared) -> Result<Markup, AppError> {
    let alerts = state.read(|c| c.open_alerts())?;
    Ok(layout::alerts(&alerts))
}

async fn acknowledge(
    State(state): Shared,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Redirect, AppError> {
    state.read(|c| c.acknowledge_alert(id))?;
    state.engine.changed(None);
    Ok(Redirect::to("/"))
}
