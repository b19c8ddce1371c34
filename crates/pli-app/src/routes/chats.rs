//! The main view: the conversation list beside the open conversation. History comes a page
//! at a time from the local store; the script appends what arrives live and prepends older
//! pages on request.

use super::shared::{Form, Shared, shell};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::layout::Screen;
use crate::views::{chat, report};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pli_client::Client;
use pli_client::timeline::{HistoryMessage, MAX_PAGE, NoticeLine};
use pli_proto::limits::MAX_TEXT_BYTES;
use pli_proto::{GroupId, Username};
use std::sync::Arc;

/// Messages an opened conversation shows at first, and each older page adds.
pub const PAGE: usize = 50;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/list", get(list))
        .route("/chats", post(start))
        .route("/c/{id}", get(open))
        .route("/c/{id}/before", get(older))
        .route("/c/{id}/after", get(newer))
        .route("/c/{id}/send", post(send))
        .route("/c/{id}/read", post(read))
}

/// A conversation id from the path: the hex of a conversation this device has (16 to 32
/// bytes).
pub fn conversation(state: &AppState, id: &str) -> Result<pli_client::Conversation, AppError> {
    let bytes = hex::decode(id).map_err(|_| AppError::NotFound)?;
    let group = GroupId::from_bytes(&bytes).map_err(|_| AppError::NotFound)?;
    state
        .read(|c| c.conversation(&group))?
        .ok_or(AppError::NotFound)
}

async fn home(State(state): Shared) -> Result<Response, AppError> {
    if !state.has_device() {
        return Ok(super::onboarding::page(&state, &Default::default(), None)?.into_response());
    }
    // A device linked a moment ago waits for approval before its engine has asked the
    // server (and learnt it is not let in yet): it shows its code, not an empty main view.
    let awaiting = match state.engine.status() {
        crate::engine::Status::AwaitingApproval => true,
        crate::engine::Status::Online => false,
        _ => state.read(|c| Ok(c.awaits_approval()))?,
    };
    if awaiting {
        return Ok(super::onboarding::awaiting_page(&state)?.into_response());
    }
    let empty = html! {
        section class="pane empty-pane" aria-label="No conversation open" {
            h2 { "Choose a conversation" }
            p { "Or start one: New chat for one person, New group for several." }
        }
    };
    Ok(main_view(&state, None, empty, None)?.into_response())
}

/// The list beside `pane`; `new_chat` (what was typed, and the error) reopens the New chat
/// form with them.
pub fn main_view(
    state: &AppState,
    open: Option<&str>,
    pane: Markup,
    new_chat: Option<(&str, &AppError)>,
) -> Result<Markup, AppError> {
    main_view_on(state, Screen::Chats, open, pane, new_chat)
}

/// [`main_view`] for another screen of the navigation.
pub fn main_view_on(
    state: &AppState,
    screen: Screen,
    open: Option<&str>,
    pane: Markup,
    new_chat: Option<(&str, &AppError)>,
) -> Result<Markup, AppError> {
    let summaries = state.read(current_summaries)?;
    let body = html! {
        div class="shell" data-open=[open] {
            aside class="sidebar" aria-label="Conversations" {
                div class="actions" {
                    button type="button" id="new-chat" aria-controls="new-chat-form"
                        aria-expanded=(if new_chat.is_some() { "true" } else { "false" }) { "New chat" }
                    a class="button secondary" href="/groups/new" { "New group" }
                }
                form id="new-chat-form" class="new-chat" method="post" action="/chats" hidden[new_chat.is_none()] {
                    @if let Some((_, err)) = new_chat {
                        p role="alert" class="error" data-code=(err.code()) { (err.to_string()) }
                    }
                    label for="new-chat-username" { "Username" }
                    input id="new-chat-username" name="username" required spellcheck="false"
                        value=(new_chat.map(|(typed, _)| typed).unwrap_or_default());
                    button type="submit" { "Start" }
                }
                label for="filter" class="visually-hidden" { "Filter conversations" }
                input id="filter" type="search" placeholder="Filter by name";
                div id="list" { (chat::list(&summaries, open)) }
            }
            main id="main" class="pane" { (pane) }
        }
    };
    let title = match screen {
        Screen::Search => "Search",
        Screen::Devices => "Devices",
        _ => "Chats",
    };
    shell(state, screen, title, body)
}

/// The conversation list, after the messages whose timer is over went: no preview
/// shows one.
fn current_summaries(
    client: &Client,
) -> Result<Vec<pli_client::timeline::Summary>, pli_client::ClientError> {
    client.purge_expired()?;
    client.summaries()
}

async fn list(State(state): Shared, Query(q): Query<OpenQuery>) -> Result<Markup, AppError> {
    let summaries = state.read(current_summaries)?;
    Ok(chat::list(&summaries, q.open.as_deref()))
}

#[derive(serde::Deserialize)]
struct OpenQuery {
    open: Option<String>,
}

/// The newest page and the notices of its span.
fn newest(
    client: &Client,
    group: &GroupId,
) -> Result<(Vec<HistoryMessage>, Vec<NoticeLine>), pli_client::ClientError> {
    client.purge_expired()?;
    let messages = client.history_page(group, None, PAGE)?;
    let from = if messages.len() < PAGE {
        0
    } else {
        messages[0].stored_at
    };
    let notices = client.notices_between(group, from, u64::MAX)?;
    Ok((messages, notices))
}

/// The other person of a 1:1 conversation, if this device blocked them.
pub fn blocked_peer(
    state: &AppState,
    conversation: &pli_client::Conversation,
) -> Result<Option<Username>, AppError> {
    let Some(peer) = conversation.peer.clone().filter(|_| conversation.direct) else {
        return Ok(None);
    };
    let blocked = state.read(|c| c.blocked())?;
    Ok(blocked.contains(&peer).then_some(peer))
}

/// The chat view of `conversation`, with a draft kept in the composer.
pub fn chat_pane(
    state: &AppState,
    conversation: &pli_client::Conversation,
    draft: &str,
    error: Option<&AppError>,
) -> Result<Markup, AppError> {
    chat_pane_with(state, conversation, draft, error, None)
}

/// [`chat_pane`] with `status` (what a step just did) shown above the messages.
pub fn chat_pane_with(
    state: &AppState,
    conversation: &pli_client::Conversation,
    draft: &str,
    error: Option<&AppError>,
    status: Option<Markup>,
) -> Result<Markup, AppError> {
    chat_pane_replying(state, conversation, draft, error, status, None)
}

/// [`chat_pane_with`], the composer answering history message `reply` (a local id).
pub fn chat_pane_replying(
    state: &AppState,
    conversation: &pli_client::Conversation,
    draft: &str,
    error: Option<&AppError>,
    status: Option<Markup>,
    reply: Option<i64>,
) -> Result<Markup, AppError> {
    let group = conversation.id.clone();
    let (messages, notices, refused, last_notice, last_rev, timer) = state.read(|c| {
        let (messages, notices) = newest(c, &group)?;
        c.mark_read(&group)?;
        Ok((
            messages,
            notices,
            c.sending_refused(&group)?,
            c.last_notice_id(&group)?,
            c.last_rev(&group)?,
            c.disappearing(&group)?,
        ))
    })?;
    let replying = match reply {
        Some(local_id) => Some(history_message(state, &group, local_id)?),
        None => None,
    };
    let blocked = blocked_peer(state, conversation)?;
    let closed = match (&blocked, refused) {
        (_, Some(refusal)) => Some(chat::Closed::Refused(refusal)),
        (Some(peer), None) => Some(chat::Closed::Blocked(peer)),
        (None, None) => None,
    };
    let id = group.to_hex();
    let title = conversation.title();
    Ok(html! {
        section class="chat" aria-labelledby="chat-title" data-conversation=(id)
            data-last=(messages.last().map_or(0, |m| m.local_id)) data-last-notice=(last_notice)
            data-last-rev=(last_rev) {
            header class="chat-head" {
                a class="back" href="/" { "← Chats" }
                h2 id="chat-title" { (title) }
                @if let Some(peer) = &conversation.peer {
                    a href={ "/verify/" (peer) } { "Verify @" (peer) }
                }
                a href={ "/c/" (id) "/members" } { "Members" }
                a href={ "/c/" (id) "/settings" } { "Chat settings" }
                @if let Some(seconds) = timer {
                    span class="timer-state" data-timer=(seconds) title="Disappearing messages" {
                        "⏱ " (crate::views::chat_settings::timer_words(Some(seconds)))
                    }
                }
                @if let (Some(peer), None) = (&conversation.peer, &blocked) {
                    a href={ "/c/" (id) "/block" } { "Block @" (peer) }
                }
            }
            @if let Some(status) = status { (status) }
            @if let Some(peer) = &blocked { (report::blocked_state(&id, peer)) }
            @if messages.len() == PAGE {
                button type="button" id="older" class="secondary"
                    data-before=(messages[0].local_id) { "Load older messages" }
            }
            div id="messages" role="log" aria-label="Messages" aria-live="polite" tabindex="0" {
                (chat::timeline(&id, &messages, &notices))
                @if messages.is_empty() && notices.is_empty() {
                    p class="hint" id="no-messages" { "No messages yet. Say hello." }
                }
            }
            p id="typing" class="typing" aria-live="polite" {}
            (crate::views::layout::form_error(error))
            (chat::composer(&id, closed, draft, replying.as_ref()))
        }
    })
}

/// History message `local_id` of `group`, one the chat view shows (not deleted).
pub fn history_message(
    state: &AppState,
    group: &GroupId,
    local_id: i64,
) -> Result<HistoryMessage, AppError> {
    state
        .read(|c| c.history_after(group, local_id.saturating_sub(1), 1))?
        .into_iter()
        .find(|m| m.local_id == local_id && !m.deleted)
        .ok_or_else(|| {
            AppError::input(
                "unknown_message",
                "that message is not in this conversation",
            )
        })
}

#[derive(serde::Deserialize)]
struct OpenOptions {
    #[serde(default)]
    reply: Option<i64>,
}

async fn open(
    State(state): Shared,
    Path(id): Path<String>,
    Query(options): Query<OpenOptions>,
) -> Result<Markup, AppError> {
    let conversation = conversation(&state, &id)?;
    let pane = chat_pane_replying(&state, &conversation, "", None, None, options.reply)?;
    main_view(&state, Some(&id), pane, None)
}

#[derive(serde::Deserialize)]
struct Cursor {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    after_notice: Option<i64>,
    #[serde(default)]
    after_rev: Option<i64>,
}

/// An older page (for "Load older messages"): its messages and the notices of its span.
async fn older(
    State(state): Shared,
    Path(id): Path<String>,
    Query(at): Query<Cursor>,
) -> Result<Response, AppError> {
    let group = conversation(&state, &id)?.id;
    let before = at
        .before
        .ok_or_else(|| AppError::input("bad_cursor", "which page? (before=)"))?;
    let (page, notices) = state.read(|c| {
        let page = c.history_page(&group, Some(before), PAGE)?;
        // The page's span ends where the message at `before` (shown already) begins.
        let until = c
            .history_after(&group, before.saturating_sub(1), 1)?
            .first()
            .map_or(u64::MAX, |m| m.stored_at);
        let from = if page.len() < PAGE {
            0
        } else {
            page[0].stored_at
        };
        Ok((page, c.notices_between(&group, from, until)?))
    })?;
    let next = if page.len() == PAGE {
        page[0].local_id.to_string()
    } else {
        String::new()
    };
    Ok((
        [("x-pli-before", next)],
        chat::timeline(&group.to_hex(), &page, &notices),
    )
        .into_response())
}

/// What came after what the page shows: new messages and notices, the newest message
/// again with its state (queued, sent, failed) from `after` on, and messages changed
/// (edited, deleted, reacted to) after revision `after_rev`, which the page replaces where
/// it shows them.
async fn newer(
    State(state): Shared,
    Path(id): Path<String>,
    Query(at): Query<Cursor>,
) -> Result<Markup, AppError> {
    let group = conversation(&state, &id)?.id;
    let after = at.after.unwrap_or(0).max(0);
    let after_notice = at.after_notice.unwrap_or(0).max(0);
    let (messages, notices) = state.read(|c| {
        c.purge_expired()?;
        let mut messages = c.history_after(&group, after, PAGE)?;
        if let Some(after_rev) = at.after_rev {
            let changed = c.history_changed(&group, after_rev.max(0), PAGE)?;
            messages.extend(changed.into_iter().filter(|m| m.local_id <= after));
        }
        let notices = c.notices_after(&group, after_notice)?;
        Ok((messages, notices))
    })?;
    Ok(chat::timeline(&group.to_hex(), &messages, &notices))
}

#[derive(serde::Deserialize)]
struct Compose {
    #[serde(default)]
    text: String,
    /// The history message answered (a local id), if any.
    #[serde(default)]
    reply_to: Option<String>,
}

/// Sends from the composer. Offline, the message is queued and shows so; a refusal comes
/// back with the text kept in the composer.
async fn send(
    State(state): Shared,
    Path(id): Path<String>,
    Form(compose): Form<Compose>,
) -> Result<Response, AppError> {
    let conversation = conversation(&state, &id)?;
    let id = conversation.id.to_hex();
    let text = compose.text.trim_end().to_owned();
    let invalid = if text.trim().is_empty() {
        Some(AppError::input("empty_message", "write something first"))
    } else if text.len() > MAX_TEXT_BYTES {
        Some(AppError::input(
            "message_too_long",
            format!("a message holds at most {} KiB", MAX_TEXT_BYTES / 1024),
        ))
    } else {
        None
    };
    let refused = state.read(|c| c.sending_refused(&conversation.id))?;
    let blocked = blocked_peer(&state, &conversation)?;
    let closed = refused
        .map(chat::Closed::Refused)
        .or(blocked.as_ref().map(chat::Closed::Blocked));
    let invalid = invalid.or_else(|| closed.map(|c| AppError::input(c.code(), c.words())));
    let group = conversation.id.clone();
    let newest_before = state.read(|c| {
        Ok(c.history_page(&group, None, 1)?
            .last()
            .map_or(0, |m| m.local_id))
    })?;
    let sent_text = text.clone();
    let reply_to = match compose.reply_to.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(local) => local
            .parse::<i64>()
            .map_err(|_| {
                AppError::input(
                    "unknown_message",
                    "that message is not in this conversation",
                )
            })
            .and_then(|local| history_message(&state, &group, local))
            .map(|m| m.message_id),
    };
    let result = match (invalid, reply_to) {
        (Some(err), _) | (None, Err(err)) => Err(err),
        (None, Ok(reply_to)) => {
            let group = conversation.id.clone();
            state
                .engine
                .with_client(move |c| {
                    Box::pin(async move { c.send_reply(&group, &text, reply_to.as_deref()).await })
                })
                .await
                .map(|_| ())
        }
    };
    match result {
        Ok(()) => {
            state.engine.changed(Some(id.clone()));
            Ok(Redirect::to(&format!("/c/{id}")).into_response())
        }
        Err(err) => {
            // A message the client queued before the error is in the history (and goes
            // out later): giving its text back to the composer would invite sending it twice.
            let queued = state.read(|c| {
                Ok(c.history_after(&group, newest_before, MAX_PAGE)?
                    .iter()
                    .any(|m| m.outgoing && m.text == sent_text))
            })?;
            let draft = if queued { "" } else { compose.text.as_str() };
            let status = err.status();
            let pane = chat_pane(&state, &conversation, draft, Some(&err))?;
            let page = main_view(&state, Some(&id), pane, None)?;
            Ok((status, [("x-pli-error", err.code())], page).into_response())
        }
    }
}

async fn read(
    State(state): Shared,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, AppError> {
    let group = conversation(&state, &id)?.id;
    let owes = state.read(|c| {
        c.mark_read(&group)?;
        c.owes_receipts()
    })?;
    if owes {
        // The read receipts go now (where receipts are on); offline, they wait.
        state
            .engine
            .with_client(|c| Box::pin(async move { c.send_receipts().await }))
            .await?;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
struct NewChat {
    #[serde(default)]
    username: String,
}

/// Starts (or reopens) the 1:1 conversation with a user.
async fn start(State(state): Shared, Form(form): Form<NewChat>) -> Result<Response, AppError> {
    let typed = form.username.trim().to_owned();
    let outcome = match Username::parse(&typed) {
        Err(_) => Err(AppError::input(
            "invalid_username",
            "a username is 3 to 32 lowercase letters, digits, _ or ., starting with a letter",
        )),
        Ok(peer) if state.read(|c| Ok(c.username() == &peer))? => Err(AppError::input(
            "own_username",
            "that is you: start a chat with someone else",
        )),
        Ok(peer) => {
            state
                .engine
                .with_client(move |c| Box::pin(async move { c.direct_conversation(&peer).await }))
                .await
        }
    };
    match outcome {
        Ok(group) => {
            state.engine.changed(None);
            Ok(Redirect::to(&format!("/c/{}", group.to_hex())).into_response())
        }
        Err(err) => {
            let status = err.status();
            let empty = html! { section class="pane empty-pane" aria-label="No conversation open" { h2 { "Start a chat" } } };
            let page = main_view(&state, None, empty, Some((&typed, &err)))?;
            Ok((status, [("x-pli-error", err.code())], page).into_response())
        }
    }
}
