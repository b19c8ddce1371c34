//! Trust, made visible: the safety code with another user (digits and QR code), what the
//! key directory lists for both sides, and "mark as verified".

use super::chats::main_view;
use super::shared::{Form, Shared};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{devices, qr};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use pli_client::trust::TrustState;
use pli_proto::Username;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/verify/{user}", get(show).post(mark))
}

fn peer(text: &str) -> Result<Username, AppError> {
    Username::parse(text).map_err(|_| AppError::NotFound)
}

async fn pane(
    state: &AppState,
    user: Username,
    error: Option<&AppError>,
) -> Result<Markup, AppError> {
    let this_device = state.read(|c| Ok(c.device_id()))?;
    let (verification, trust) = state
        .engine
        .with_client(move |c| Box::pin(async move { c.trust(&user).await }))
        .await?;
    let peer = &verification.peer;
    let rows: Vec<String> = verification
        .code
        .split(' ')
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|row| row.join(" "))
        .collect();
    Ok(html! {
        section class="pane-body" aria-labelledby="verify-title" {
            h2 id="verify-title" { "Safety code with @" (peer) }
            (crate::views::layout::form_error(error))
            @match trust {
                TrustState::Verified => p class="trust verified" role="status" { "You verified @" (peer) ". The code is still the one you compared." },
                TrustState::Unverified => p class="trust" { "Not verified yet. Compare this code with @" (peer) "'s, in person or over a call you trust: if both show the same code, nobody swapped your keys." },
                TrustState::Changed => p class="trust changed" role="alert" { "The safety code changed since you verified @" (peer) ": a device was added or removed, or a key replaced. Compare again before you trust it." },
            }
            div class="safety-code" aria-label="Safety code" {
                @for row in &rows { div class="code-row" { (row) } }
            }
            (qr::code(&verification.code, "Safety code as a QR code"))
            @if trust != TrustState::Verified {
                form method="post" action={ "/verify/" (peer) } {
                    input type="hidden" name="code" value=(verification.code);
                    button type="submit" { "Mark as verified" }
                }
            }
            h3 { "The key directory lists for @" (peer) " (epoch " (verification.epoch) ")" }
            (devices::list(&verification.peer_devices, None))
            h3 { "and for you" }
            (devices::list(&verification.own_devices, Some(this_device)))
        }
    })
}

async fn show(State(state): Shared, Path(user): Path<String>) -> Result<Markup, AppError> {
    let body = pane(&state, peer(&user)?, None).await?;
    main_view(&state, None, body, None)
}

#[derive(serde::Deserialize)]
struct Mark {
    #[serde(default)]
    code: String,
}

async fn mark(
    State(state): Shared,
    Path(user): Path<String>,
    Form(form): Form<Mark>,
) -> Result<Response, AppError> {
    let user = peer(&user)?;
    if form.code.is_empty() || form.code.len() > 256 {
        return Err(AppError::input("bad_code", "no safety code was sent"));
    }
    let target = user.clone();
    let marked = state
        .engine
        .with_client(move |c| Box::pin(async move { c.mark_verified(&target, &form.code).await }))
        .await;
    match marked {
        Ok(()) => Ok(Redirect::to(&format!("/verify/{user}")).into_response()),
        Err(err) => {
            let body = pane(&state, user, Some(&err)).await?;
            Ok((
                err.status(),
                [("x-pli-error", err.code())],
                main_view(&state, None, body, None)?,
            )
                .into_response())
        }
    }
}
