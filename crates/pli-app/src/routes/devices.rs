//! Devices: this account's devices as the key directory lists them; approve a new device's
//! link code; remove a device, after a confirmation.

use super::chats::main_view_on;
use super::shared::{Form, Shared};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::layout::Screen;
use crate::views::{devices, layout::form_error};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pli_client::HistoryChoice;
use pli_proto::DeviceId;
use std::sync::Arc;

/// Longest link code accepted (a real one is a few hundred characters).
const MAX_CODE_CHARS: usize = 4096;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/devices", get(show))
        .route("/devices/approve", post(approve))
        .route("/devices/{id}/remove", get(confirm).post(remove))
}

async fn pane(
    state: &AppState,
    error: Option<&AppError>,
    typed: &str,
    done: Option<&str>,
) -> Result<Markup, AppError> {
    let this_device = state.read(|c| Ok(c.device_id()))?;
    let listed = state
        .engine
        .with_client(|c| {
            Box::pin(async move {
                // Looking at one's devices is when a device nobody added must show: the
                // account's key history is checked first (an alert if one appeared).
                c.monitor_own_keys().await?;
                c.devices().await
            })
        })
        .await;
    Ok(html! {
        section class="pane-body" aria-labelledby="devices-title" {
            h2 id="devices-title" { "Your devices" }
            @if let Some(done) = done { p role="status" class="done" { (done) } }
            (form_error(error))
            @match &listed {
                Ok(lookup) => {
                    (devices::list(&lookup.devices, Some(this_device)))
                    @if lookup.devices.len() > 1 {
                        ul class="actions-list" {
                            @for d in &lookup.devices {
                                @if d.device_id != this_device {
                                    li { a href={ "/devices/" (d.device_id) "/remove" } { "Remove device " (d.device_id) } }
                                }
                            }
                        }
                    }
                }
                Err(err) => p role="alert" class="error" data-code=(err.code()) { "The key directory could not be read: " (err.to_string()) },
            }
            form method="post" action="/devices/approve" class="card" {
                h3 { "Link a new device" }
                p class="hint" { "On the new device, start pli app and choose “use an account you already have”. It shows a code: paste it here." }
                p class="hint" { "The new device joins all your conversations and reads what is sent from then on. End-to-end encryption gives it no key to earlier messages: it has them only if this device copies them over." }
                label for="link-code" { "Link code" }
                textarea id="link-code" name="code" required rows="3" spellcheck="false" { (typed) }
                fieldset class="history-choice" {
                    legend { "Earlier messages" }
                    label class="check" { input type="radio" name="history" value="none" checked; " Don’t copy them: the new device starts empty" }
                    label class="check" { input type="radio" name="history" value="30"; " Copy the last 30 days" }
                    label class="check" { input type="radio" name="history" value="all"; " Copy all of them" }
                    p class="hint" { "A copy is sealed for the new device alone: the server relays it and cannot read it, and deletes it after two days. Files and disappearing messages are not copied. Without a copy, earlier messages stay only on the devices that have them, and the new device shows none of them." }
                }
                button type="submit" { "Approve" }
            }
        }
    })
}

async fn show(State(state): Shared) -> Result<Markup, AppError> {
    let body = pane(&state, None, "", None).await?;
    main_view_on(&state, Screen::Devices, None, body, None)
}

#[derive(serde::Deserialize)]
struct Approve {
    #[serde(default)]
    code: String,
    /// `none`, `all` or a number of days ([`HistoryChoice`]); none when left out.
    #[serde(default)]
    history: Option<String>,
}

async fn approve(State(state): Shared, Form(form): Form<Approve>) -> Result<Response, AppError> {
    let code = form.code.trim().to_owned();
    let history = form
        .history
        .as_deref()
        .unwrap_or("none")
        .parse::<HistoryChoice>();
    let outcome = match history {
        _ if code.is_empty() || code.len() > MAX_CODE_CHARS => Err(AppError::input(
            "bad_link_code",
            "paste the whole code the new device shows",
        )),
        Err(_) => Err(AppError::input(
            "bad_history_choice",
            "choose whether to copy earlier messages",
        )),
        Ok(history) => state
            .engine
            .with_client(move |c| Box::pin(async move { c.approve_link(&code, history).await }))
            .await
            .map(|added| (added, history)),
    };
    let (status, body) = match &outcome {
        Ok((added, history)) => (
            axum::http::StatusCode::OK,
            pane(&state, None, "", Some(&approved(*added, *history))).await?,
        ),
        Err(err) => (
            err.status(),
            pane(&state, Some(err), &form.code, None).await?,
        ),
    };
    let page = main_view_on(&state, Screen::Devices, None, body, None)?;
    match &outcome {
        Ok(_) => Ok((status, page).into_response()),
        Err(err) => Ok((status, [("x-pli-error", err.code())], page).into_response()),
    }
}

/// What the user is told once a device is approved: when it joins, and what it will read.
fn approved(added: DeviceId, history: HistoryChoice) -> String {
    let copy = match history {
        HistoryChoice::None => {
            "it will read what is sent from then on, not earlier messages.".to_owned()
        }
        HistoryChoice::All => "then it copies all earlier messages to it.".to_owned(),
        HistoryChoice::LastDays(days) => {
            format!("then it copies the messages of the last {days} days to it.")
        }
    };
    format!(
        "Device {added} was added to your account. This device adds it to your conversations as soon as it is online; {copy}"
    )
}

fn device(id: &str) -> Result<DeviceId, AppError> {
    id.parse::<u64>()
        .ok()
        .and_then(|n| DeviceId::new(n).ok())
        .ok_or(AppError::NotFound)
}

async fn confirm(State(state): Shared, Path(id): Path<String>) -> Result<Markup, AppError> {
    let id = device(&id)?;
    let body = html! {
        section class="pane-body" aria-labelledby="remove-title" {
            h2 id="remove-title" { "Remove device " (id) "?" }
            p { "It will no longer receive your messages, and it is taken out of every conversation. This cannot be undone: to use it again, link it anew." }
            form method="post" action={ "/devices/" (id) "/remove" } {
                button type="submit" class="danger" { "Remove device " (id) }
                " "
                a href="/devices" { "Cancel" }
            }
        }
    };
    main_view_on(&state, Screen::Devices, None, body, None)
}

async fn remove(State(state): Shared, Path(id): Path<String>) -> Result<Redirect, AppError> {
    let id = device(&id)?;
    if state.read(|c| Ok(c.device_id()))? == id {
        return Err(AppError::input(
            "own_device",
            "this is the device you are using: remove it from another one",
        ));
    }
    state
        .engine
        .with_client(move |c| Box::pin(async move { c.remove_device(id).await }))
        .await?;
    Ok(Redirect::to("/devices"))
}
