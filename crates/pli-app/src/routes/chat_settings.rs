//! A conversation's settings page: its disappearing-message timer, set for every member
//! (a message in the conversation, through the outbox like any other), and this user's
//! receipts there (this device's choice alone).

use super::chats::{conversation, main_view};
use super::me::ReceiptsForm;
use super::shared::{Form, Shared};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::chat_settings::pane;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pli_proto::limits::MAX_DISAPPEAR_SECS;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/c/{id}/settings", get(page))
        .route("/c/{id}/disappearing", post(set_timer))
        .route("/c/{id}/receipts", post(set_receipts))
}

async fn page(State(state): Shared, Path(id): Path<String>) -> Result<Response, AppError> {
    let conversation = conversation(&state, &id)?;
    let group = conversation.id.clone();
    let (timer, receipts) =
        state.read(|c| Ok((c.disappearing(&group)?, c.receipts_enabled(Some(&group))?)))?;
    let id = group.to_hex();
    let body = pane(&id, &conversation.title(), timer, receipts);
    Ok(main_view(&state, Some(&id), body, None)?.into_response())
}

#[derive(serde::Deserialize)]
struct TimerForm {
    #[serde(default)]
    seconds: String,
}

/// Sets the timer for everyone; the notice it leaves shows in the conversation.
async fn set_timer(
    State(state): Shared,
    Path(id): Path<String>,
    Form(form): Form<TimerForm>,
) -> Result<Redirect, AppError> {
    let group = conversation(&state, &id)?.id;
    let seconds: u64 = form
        .seconds
        .parse()
        .ok()
        .filter(|s| *s <= MAX_DISAPPEAR_SECS)
        .ok_or_else(|| AppError::input("bad_timer", "choose one of the timers offered, or off"))?;
    let sent_to = group.clone();
    state
        .engine
        .with_client(move |c| Box::pin(async move { c.set_disappearing(&sent_to, seconds).await }))
        .await?;
    let id = group.to_hex();
    state.engine.changed(Some(id.clone()));
    Ok(Redirect::to(&format!("/c/{id}")))
}

/// Turns this user's receipts in this conversation on (the box ticked) or off.
async fn set_receipts(
    State(state): Shared,
    Path(id): Path<String>,
    Form(form): Form<ReceiptsForm>,
) -> Result<Redirect, AppError> {
    let group = conversation(&state, &id)?.id;
    let on = form.receipts.is_some();
    state.read(|c| c.set_receipts(Some(&group), on))?;
    Ok(Redirect::to(&format!("/c/{}/settings", group.to_hex())))
}
