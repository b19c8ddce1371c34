//! What the server knows about me (the account's data inventory as the server holds it,
//! beside the home region's policy), search in the local history, and settings.

use super::chats::main_view_on;
use super::shared::{Shared, shell};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::chat::instant;
use crate::views::layout::Screen;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pli_client::transport::Transport;
use std::sync::Arc;

/// Most search results shown.
pub const MAX_RESULTS: usize = 100;
/// Longest search accepted.
const MAX_QUERY_CHARS: usize = 256;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/me", get(about_me))
        .route("/search", get(search))
        .route("/settings", get(settings))
        .route("/settings/receipts", axum::routing::post(set_receipts))
}

fn row(label: &str, value: Markup) -> Markup {
    html! { tr { th scope="row" { (label) } td { (value) } } }
}

async fn about_me(State(state): Shared) -> Result<Markup, AppError> {
    let (inventory, server) = state
        .engine
        .with_client(|c| {
            Box::pin(async move { Ok((c.my_inventory().await?, c.server().to_owned())) })
        })
        .await?;
    let policy = Transport::new(&server, state.connect.extra_ca_pem.as_deref())?
        .policy()
        .await?;
    let region = policy
        .regions
        .iter()
        .find(|r| r.region.as_str() == inventory.home_region);
    let none = || html! { "none" };
    let body = html! {
        main id="main" class="narrow" {
            h1 { "What the server knows about me" }
            p { "This is the whole record the server keeps about your account: the same one its staff see, and the only thing a lawful request can ever be answered with. It never sees your messages or contacts: those stay encrypted on your devices." }
            table class="inventory" aria-label="Data inventory" {
                tbody {
                    (row("Username", html! { "@" (inventory.username) }))
                    (row("Home region", html! { (inventory.home_region) }))
                    (row("Registered on", html! { (inventory.created_day) }))
                    (row("Last connection", inventory.last_connection_day.as_ref().map_or_else(none, |d| html! { (d) })))
                    (row("Messages waiting for your devices", html! { (inventory.queued_ciphertexts) " (encrypted; unreadable to the server)" }))
                    (row("Files held for you or sent by you", html! { (inventory.attachments) " (" (crate::views::attachment::size(inventory.attachment_bytes)) ", encrypted; unreadable to the server)" }))
                    (row("Your profile", if inventory.encrypted_profile_bytes == 0 { html! { "none stored" } } else { html! {
                        (crate::views::attachment::size(inventory.encrypted_profile_bytes)) " (your name and picture, encrypted; unreadable to the server)"
                    } }))
                    (row("Preservation order", inventory.preserved_until.as_ref().map_or_else(none, |d| html! { "until " (d) })))
                    @if let Some(day) = &inventory.deleted_day { (row("Deleted on", html! { (day) })) }
                    (row("IP addresses", if inventory.ip_addresses.is_empty() { html! { "none kept" } } else { html! {
                        ul { @for ip in &inventory.ip_addresses { li { (ip.day) ": " (ip.address) } } }
                    } }))
                }
            }
            h2 { "Devices the server holds" }
            table class="inventory" aria-label="Devices" {
                thead { tr { th scope="col" { "Device" } th scope="col" { "Key (base64)" } th scope="col" { "Key packages" } } }
                tbody {
                    @for d in &inventory.devices {
                        tr data-device=(d.device_id) {
                            td { (d.device_id) }
                            td { code class="key" { (d.signature_key) } }
                            td { (d.key_packages_available) @if d.has_last_resort_key_package { " + last resort" } }
                        }
                    }
                }
            }
            @if !inventory.also_held.is_empty() {
                h2 { "Also held" }
                ul { @for item in &inventory.also_held { li { (item) } } }
            }
            h2 { "Not held" }
            ul class="not-held" { @for item in &inventory.not_held { li { (item) } } }
            h2 { "Your home region's policy" }
            @match region {
                Some(region) => ul class="policy" { @for line in region.plain_words() { li { (line) } } },
                None => p { "The server publishes no policy for this region." },
            }
        }
    };
    shell(&state, Screen::AboutMe, "What the server knows", body)
}

#[derive(serde::Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): Shared,
    Query(query): Query<SearchQuery>,
) -> Result<Markup, AppError> {
    let words = query.q.trim();
    if words.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::input(
            "query_too_long",
            format!("a search is at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let found = if words.is_empty() {
        Vec::new()
    } else {
        state.read(|c| c.search(words, MAX_RESULTS))?
    };
    let body = html! {
        section class="pane-body" aria-labelledby="search-title" {
            h2 id="search-title" { "Search your messages" }
            p class="hint" { "Only this device's history is searched; nothing leaves it." }
            form method="get" action="/search" role="search" {
                label for="search-words" { "Search" }
                input id="search-words" name="q" type="search" value=(words) maxlength=(MAX_QUERY_CHARS);
                button type="submit" { "Search" }
            }
            @if !words.is_empty() {
                p role="status" { (found.len()) @if found.len() == 1 { " message found" } @else { " messages found" } }
                ol class="results" {
                    @for hit in &found {
                        li {
                            a href={ "/c/" (hit.conversation.to_hex()) } { (hit.conversation_title) }
                            " · @" (hit.sender) " · "
                            time datetime=(instant(hit.sent_at)) { (instant(hit.sent_at)) }
                            p class="text" { (hit.text) }
                        }
                    }
                }
            }
        }
    };
    main_view_on(&state, Screen::Search, None, body, None)
}

/// A receipts switch: the box ticked (`receipts=on`) or not (absent). Settings has the
/// account's, Chat settings each conversation's.
#[derive(serde::Deserialize)]
pub(super) struct ReceiptsForm {
    #[serde(default)]
    pub receipts: Option<String>,
}

/// Turns this account's delivery and read receipts on (the box ticked) or off.
async fn set_receipts(
    State(state): Shared,
    super::shared::Form(form): super::shared::Form<ReceiptsForm>,
) -> Result<axum::response::Redirect, AppError> {
    let on = form.receipts.is_some();
    state.read(|c| c.set_receipts(None, on))?;
    Ok(axum::response::Redirect::to("/settings"))
}

async fn settings(State(state): Shared) -> Result<Markup, AppError> {
    let receipts = state.read(|c| c.receipts_enabled(None))?;
    let mine = state.read(|c| c.my_profile())?;
    let body = html! {
        main id="main" class="narrow" {
            h1 { "Settings" }
            (crate::views::profile::card(mine.as_ref()))
            section class="card" aria-labelledby="receipts-title" {
                h2 id="receipts-title" { "Receipts" }
                p { "Tell the people you write with when your device got their message and when you read it. They are end-to-end encrypted like messages; the server cannot tell them apart." }
                form method="post" action="/settings/receipts" {
                    label class="check" {
                        input type="checkbox" name="receipts" value="on" checked[receipts];
                        " Send delivery and read receipts"
                    }
                    button type="submit" { "Save" }
                }
            }
            section class="card" aria-labelledby="notify-title" {
                h2 id="notify-title" { "Notifications" }
                p { "A desktop notification for a new message while pli is not in front. It names the conversation, never the message." }
                label class="check" { input type="checkbox" id="notify"; " Show desktop notifications" }
                label class="check" { input type="checkbox" id="sound"; " Play a sound" }
                p id="notify-state" class="hint" role="status" {}
            }
            section class="card" aria-labelledby="theme-title" {
                h2 id="theme-title" { "Appearance" }
                p { "pli follows your system's light or dark setting." }
            }
        }
    };
    shell(&state, Screen::Settings, "Settings", body)
}
