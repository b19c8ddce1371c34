//! Reacting to a message, and editing or deleting for everyone one this user wrote. Each
//! goes through the outbox like a message (offline, it is applied here at once and sent
//! later); a refusal comes back as the chat with the reason. And "typing…", which the
//! composer's script posts while the user types: ephemeral, never queued.

use super::chats::{chat_pane, conversation, history_message, main_view};
use super::shared::{Form, Shared};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::message_actions::{PALETTE, edit_pane};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pli_client::ClientError;
use pli_proto::limits::{MAX_REACTION_BYTES, MAX_TEXT_BYTES};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/c/{id}/m/{local}/react", post(react))
        .route("/c/{id}/m/{local}/edit", get(edit_page).post(edit))
        .route("/c/{id}/m/{local}/delete", post(delete))
        .route("/c/{id}/typing", post(typing))
}

#[derive(serde::Deserialize)]
struct ReactForm {
    #[serde(default)]
    reaction: String,
}

#[derive(serde::Deserialize)]
struct TypingForm {
    #[serde(default)]
    typing: String,
}

/// Tells the members connected now that this user is typing (`typing=1`) or stopped.
/// 204 either way: nobody may be there, and nothing is kept for later.
async fn typing(
    State(state): Shared,
    Path(id): Path<String>,
    Form(form): Form<TypingForm>,
) -> Result<axum::http::StatusCode, AppError> {
    let group = conversation(&state, &id)?.id;
    let typing = match form.typing.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::input("bad_typing", "typing is 1 or 0")),
    };
    state
        .engine
        .with_client(move |c| Box::pin(async move { c.send_typing(&group, typing).await }))
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
struct EditForm {
    #[serde(default)]
    text: String,
}

/// What to do to a message.
enum Change {
    React(String),
    Edit(String),
    Delete,
}

/// Adds this user's reaction; the reaction they have already is taken back instead. Only
/// the palette's reactions and those already on the message are taken.
async fn react(
    State(state): Shared,
    Path((id, local)): Path<(String, i64)>,
    Form(form): Form<ReactForm>,
) -> Result<Response, AppError> {
    apply(&state, &id, local, |m| {
        let offered = PALETTE.iter().any(|(emoji, _)| *emoji == form.reaction)
            || m.reactions.iter().any(|r| r.reaction == form.reaction);
        if form.reaction.is_empty() || form.reaction.len() > MAX_REACTION_BYTES || !offered {
            return Err(AppError::input(
                "bad_reaction",
                "choose one of the reactions shown",
            ));
        }
        let mine = m
            .reactions
            .iter()
            .any(|r| r.mine && r.reaction == form.reaction);
        Ok(Change::React(if mine {
            String::new()
        } else {
            form.reaction
        }))
    })
    .await
}

/// The edit form of an own message.
async fn edit_page(
    State(state): Shared,
    Path((id, local)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let conversation = conversation(&state, &id)?;
    let m = history_message(&state, &conversation.id, local)?;
    if !m.own {
        return Err(not_author());
    }
    let id = conversation.id.to_hex();
    let pane = edit_pane(&id, &m, &m.text, None);
    Ok(main_view(&state, Some(&id), pane, None)?.into_response())
}

async fn edit(
    State(state): Shared,
    Path((id, local)): Path<(String, i64)>,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    let typed = form.text.clone();
    let failed_pane = move |state: &AppState, group: &pli_proto::GroupId, err: &AppError| {
        let m = history_message(state, group, local)?;
        Ok(edit_pane(&group.to_hex(), &m, &typed, Some(err)))
    };
    apply_then(&state, &id, local, Some(Box::new(failed_pane)), |m| {
        let text = form.text.trim_end().to_owned();
        if text.trim().is_empty() {
            Err(AppError::input("empty_message", "an edit needs a new text"))
        } else if text.len() > MAX_TEXT_BYTES {
            Err(AppError::input(
                "message_too_long",
                format!("a message holds at most {} KiB", MAX_TEXT_BYTES / 1024),
            ))
        } else if !m.own {
            Err(not_author())
        } else {
            Ok(Change::Edit(text))
        }
    })
    .await
}

/// How a refused change is shown: the edit form again, or (`None`) the conversation.
type FailedPane = Box<
    dyn FnOnce(&AppState, &pli_proto::GroupId, &AppError) -> Result<maud::Markup, AppError> + Send,
>;

async fn delete(
    State(state): Shared,
    Path((id, local)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    apply(&state, &id, local, |m| {
        if m.own {
            Ok(Change::Delete)
        } else {
            Err(not_author())
        }
    })
    .await
}

fn not_author() -> AppError {
    AppError::input("not_author", "only its author can edit or delete a message")
}

/// Checks the change `decide` makes of history message `local` of conversation `id`,
/// sends it, and shows the conversation again (with the reason, if it was refused).
async fn apply(
    state: &AppState,
    id: &str,
    local: i64,
    decide: impl FnOnce(&pli_client::timeline::HistoryMessage) -> Result<Change, AppError>,
) -> Result<Response, AppError> {
    apply_then(state, id, local, None, decide).await
}

/// [`apply`], a refusal shown by `failed_pane` when given.
async fn apply_then(
    state: &AppState,
    id: &str,
    local: i64,
    failed_pane: Option<FailedPane>,
    decide: impl FnOnce(&pli_client::timeline::HistoryMessage) -> Result<Change, AppError>,
) -> Result<Response, AppError> {
    let conversation = conversation(state, id)?;
    let group = conversation.id.clone();
    let decided = history_message(state, &group, local).and_then(|m| {
        let to = m
            .message_id
            .clone()
            .ok_or_else(|| AppError::input("unknown_message", "that message cannot be changed"))?;
        Ok((to, decide(&m)?))
    });
    let result = match decided {
        Err(err) => Err(err),
        Ok((to, change)) => {
            let group = group.clone();
            state
                .engine
                .with_client(move |c| {
                    Box::pin(async move {
                        match change {
                            Change::React(reaction) => c.react(&group, &to, &reaction).await,
                            Change::Edit(text) => c.edit_message(&group, &to, &text).await,
                            Change::Delete => c.delete_for_everyone(&group, &to).await,
                        }
                    })
                })
                .await
                .map(|_| ())
                .map_err(|err| match err {
                    AppError::Client(ClientError::Invalid(words)) => {
                        AppError::input("change_refused", words)
                    }
                    other => other,
                })
        }
    };
    let id = group.to_hex();
    match result {
        Ok(()) => {
            state.engine.changed(Some(id.clone()));
            Ok(Redirect::to(&format!("/c/{id}#m{local}")).into_response())
        }
        Err(err) => {
            let pane = match failed_pane {
                Some(failed_pane) => failed_pane(state, &group, &err)?,
                None => chat_pane(state, &conversation, "", Some(&err))?,
            };
            let page = main_view(state, Some(&id), pane, None)?;
            Ok((err.status(), [("x-pli-error", err.code())], page).into_response())
        }
    }
}
