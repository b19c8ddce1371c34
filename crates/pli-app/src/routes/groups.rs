//! Groups: create one with members; the member list (each member's devices as the key
//! directory lists them, and whether the user verified them); add, remove, leave.

use super::chats::{conversation, main_view};
use super::shared::{Form, Shared};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{devices, layout::form_error};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pli_client::trust::TrustState;
use pli_proto::Username;
use pli_proto::kt::DirectoryDevice;
use pli_proto::limits::MAX_GROUP_NAME_BYTES;
use std::sync::Arc;

/// Most members a group made here starts with (more can be added one by one).
pub const MAX_START_MEMBERS: usize = 100;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/groups/new", get(new_group))
        .route("/groups", post(create))
        .route("/c/{id}/members", get(members).post(add))
        .route("/c/{id}/members/remove", post(remove))
        .route("/c/{id}/leave", post(leave))
}

#[derive(Default, serde::Deserialize)]
struct NewGroup {
    #[serde(default)]
    name: String,
    #[serde(default)]
    members: String,
}

fn group_form(fields: &NewGroup, error: Option<&AppError>) -> Markup {
    html! {
        section class="pane-body" aria-labelledby="new-group-title" {
            h2 id="new-group-title" { "New group" }
            (form_error(error))
            form method="post" action="/groups" class="card" {
                label for="group-name" { "Group name" }
                input id="group-name" name="name" required maxlength=(MAX_GROUP_NAME_BYTES) value=(fields.name);
                label for="group-members" { "Members" }
                input id="group-members" name="members" required value=(fields.members)
                    aria-describedby="members-hint" spellcheck="false";
                p id="members-hint" class="hint" { "Usernames, separated by spaces or commas." }
                button type="submit" { "Create group" }
            }
        }
    }
}

async fn new_group(State(state): Shared) -> Result<Markup, AppError> {
    main_view(&state, None, group_form(&NewGroup::default(), None), None)
}

fn parse_members(text: &str) -> Result<Vec<Username>, AppError> {
    let mut members = Vec::new();
    for word in text.split([' ', ',', '\n', '\t']).filter(|w| !w.is_empty()) {
        let name = Username::parse(word).map_err(|_| {
            AppError::input("invalid_username", format!("{word:?} is not a username"))
        })?;
        if !members.contains(&name) {
            members.push(name);
        }
    }
    if members.is_empty() {
        return Err(AppError::input("no_members", "name at least one member"));
    }
    if members.len() > MAX_START_MEMBERS {
        return Err(AppError::input(
            "too_many_members",
            format!("a new group starts with at most {MAX_START_MEMBERS} members"),
        ));
    }
    Ok(members)
}

async fn create(State(state): Shared, Form(fields): Form<NewGroup>) -> Result<Response, AppError> {
    let name = fields.name.trim().to_owned();
    let checked = if name.is_empty() || name.len() > MAX_GROUP_NAME_BYTES {
        Err(AppError::input(
            "invalid_name",
            format!("a group name is 1 to {MAX_GROUP_NAME_BYTES} bytes"),
        ))
    } else {
        parse_members(&fields.members)
    };
    let created = match checked {
        Ok(members) => {
            state
                .engine
                .with_client(move |c| {
                    Box::pin(async move { c.create_group(&name, &members).await })
                })
                .await
        }
        Err(err) => Err(err),
    };
    match created {
        Ok(group) => {
            state.engine.changed(None);
            Ok(Redirect::to(&format!("/c/{}", group.to_hex())).into_response())
        }
        Err(err) => {
            let page = main_view(&state, None, group_form(&fields, Some(&err)), None)?;
            Ok((err.status(), [("x-pli-error", err.code())], page).into_response())
        }
    }
}

/// One member as the member list shows them.
struct Member {
    name: Username,
    devices: Vec<DirectoryDevice>,
    trust: Option<TrustState>,
}

fn trust_words(state: Option<TrustState>) -> Markup {
    match state {
        None => html! { span class="trust" { "you" } },
        Some(TrustState::Verified) => html! { span class="trust verified" { "Verified" } },
        Some(TrustState::Unverified) => html! { span class="trust" { "Not verified" } },
        Some(TrustState::Changed) => html! {
            span class="trust changed" { "Safety code changed since you verified: compare again" }
        },
    }
}

async fn member_list(state: &AppState, id: &str) -> Result<Vec<Member>, AppError> {
    let group = conversation(state, id)?.id;
    state
        .engine
        .with_client(move |c| {
            Box::pin(async move {
                let me = c.username().clone();
                let mut listed = Vec::new();
                for name in c.members(&group)? {
                    let (devices, trust) = if name == me {
                        (c.devices().await?.devices, None)
                    } else {
                        let (verification, trust) = c.trust(&name).await?;
                        (verification.peer_devices, Some(trust))
                    };
                    listed.push(Member {
                        name,
                        devices,
                        trust,
                    });
                }
                Ok(listed)
            })
        })
        .await
}

async fn members_pane(
    state: &AppState,
    id: &str,
    error: Option<&AppError>,
    typed: &str,
) -> Result<Markup, AppError> {
    let conversation = conversation(state, id)?;
    let listed = member_list(state, id).await;
    let this_device = state.read(|c| Ok(c.device_id()))?;
    Ok(html! {
        section class="pane-body" aria-labelledby="members-title" {
            p { a href={ "/c/" (id) } { "← Back to " (conversation.title()) } }
            h2 id="members-title" { "Members of " (conversation.title()) }
            (form_error(error))
            @match &listed {
                Err(err) => p role="alert" class="error" data-code=(err.code()) { "The members' keys could not be looked up: " (err.to_string()) },
                Ok(members) => ul class="members" {
                    @for m in members {
                        li {
                            h3 { "@" (m.name) " " (trust_words(m.trust)) }
                            @if m.trust.is_some() {
                                a href={ "/verify/" (m.name) } { "Compare safety code with @" (m.name) }
                            }
                            (devices::list(&m.devices, m.trust.is_none().then_some(this_device)))
                            @if m.trust.is_some() && !conversation.direct && conversation.active {
                                form method="post" action={ "/c/" (id) "/members/remove" } {
                                    input type="hidden" name="username" value=(m.name);
                                    button type="submit" class="danger" { "Remove @" (m.name) }
                                }
                            }
                        }
                    }
                },
            }
            @if !conversation.direct && conversation.active {
                form method="post" action={ "/c/" (id) "/members" } class="card" {
                    label for="add-member" { "Add a member" }
                    input id="add-member" name="username" required value=(typed) spellcheck="false";
                    button type="submit" { "Add" }
                }
                form method="post" action={ "/c/" (id) "/leave" } {
                    button type="submit" class="danger" { "Leave this group" }
                }
            }
        }
    })
}

async fn members(State(state): Shared, Path(id): Path<String>) -> Result<Markup, AppError> {
    let pane = members_pane(&state, &id, None, "").await?;
    main_view(&state, Some(&id), pane, None)
}

#[derive(serde::Deserialize)]
struct Who {
    #[serde(default)]
    username: String,
}

async fn change(state: &AppState, id: &str, typed: &str, add: bool) -> Result<Response, AppError> {
    let group = conversation(state, id)?.id;
    let outcome = match Username::parse(typed.trim()) {
        Err(_) => Err(AppError::input(
            "invalid_username",
            "that is not a username",
        )),
        Ok(user) => {
            state
                .engine
                .with_client(move |c| {
                    Box::pin(async move {
                        if add {
                            c.add_member(&group, &user).await
                        } else {
                            c.remove_member(&group, &user).await
                        }
                    })
                })
                .await
        }
    };
    match outcome {
        Ok(()) => {
            state.engine.changed(Some(id.to_owned()));
            Ok(Redirect::to(&format!("/c/{id}/members")).into_response())
        }
        Err(err) => {
            let pane = members_pane(state, id, Some(&err), if add { typed } else { "" }).await?;
            let page = main_view(state, Some(id), pane, None)?;
            Ok((err.status(), [("x-pli-error", err.code())], page).into_response())
        }
    }
}

async fn add(
    State(state): Shared,
    Path(id): Path<String>,
    Form(who): Form<Who>,
) -> Result<Response, AppError> {
    change(&state, &id, &who.username, true).await
}

async fn remove(
    State(state): Shared,
    Path(id): Path<String>,
    Form(who): Form<Who>,
) -> Result<Response, AppError> {
    change(&state, &id, &who.username, false).await
}

async fn leave(State(state): Shared, Path(id): Path<String>) -> Result<Redirect, AppError> {
    let group = conversation(&state, &id)?.id;
    state
        .engine
        .with_client(move |c| Box::pin(async move { c.leave(&group).await }))
        .await?;
    state.engine.changed(None);
    Ok(Redirect::to(&format!("/c/{id}")))
}
