//! The legal reviewers' pages: the request list, entering and editing a request, one
//! request with its review, and the review's actions. Every action is the admin API's own
//! handler, called after the role table's check ([`permit`]) with the signed-in member as
//! its actor: the same rules, the same audit entries, nothing more.

use super::api::admin;
use super::error::ConsoleError;
use super::guard::Posted;
use super::state::Staff;
use super::views::layout::{self, Section};
use super::views::request_form::{self, RequestForm};
use super::views::requests::{self as view, Action, Actions, Names};
use crate::governance::{Actor, GovernanceError, roles, rules};
use crate::http::admin::{StaffActor, permit, requests as api};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::Store;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use pli_proto::governance::{RejectRequest, RequestView, Role};
use serde::Deserialize;
use std::collections::HashMap;

/// Staff names for the people on a page, only for a role that may list staff (as the
/// API's `staff.list`); others see ids, and their own name.
async fn names<S: Store>(state: &AppState<S>, staff: &Staff) -> Result<Names, ConsoleError> {
    let mut names = HashMap::from([(staff.actor.staff_id, format!("{} (you)", staff.name))]);
    if roles::allowed("staff.list", staff.role) {
        for member in state.store.list_staff().await? {
            names.entry(member.id).or_insert(member.name);
        }
    }
    Ok(names)
}

pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
) -> Result<Markup, ConsoleError> {
    let actor = staff.actor;
    let views = admin(
        &state,
        actor,
        "request.list",
        api::list(State(state.clone()), StaffActor(actor)),
    )
    .await?;
    let alerts = if roles::allowed("alerts.list", staff.role) {
        admin(
            &state,
            actor,
            "alerts.list",
            api::alerts(State(state.clone()), StaffActor(actor)),
        )
        .await?
    } else {
        Vec::new()
    };
    let can_create = roles::allowed("request.create", staff.role);
    Ok(layout::page(
        "Lawful requests",
        &staff,
        Section::Requests,
        view::list(&views, &alerts, can_create),
    ))
}

fn form_page<S: Store>(
    state: &AppState<S>,
    staff: &Staff,
    title: &str,
    action: &str,
    values: &RequestForm,
    submit: &str,
    error: Option<&ApiError>,
) -> Markup {
    let error = error.map(|e| {
        html! {
            div class="refusal" role="alert" data-code=(e.code.as_str()) {
                p { (e.message) }
                p class="code" { "Error code " code { (e.code.as_str()) } }
            }
        }
    });
    let body = html! {
        div class="columns form-columns" {
            div { (request_form::form(action, &layout::csrf(staff), values, submit, error)) }
            (request_form::basis_rules(&state.governance.policies))
        }
    };
    layout::page(title, staff, Section::Requests, body)
}

pub async fn new_form<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
) -> Result<Markup, ConsoleError> {
    permit(&state, staff.actor, "request.create").await?;
    Ok(form_page(
        &state,
        &staff,
        "Enter a lawful request",
        "/console/requests",
        &RequestForm::default(),
        "Enter the request",
        None,
    ))
}

/// A refused form comes back filled in, with the refusal and its code above it.
fn refused_form<S: Store>(
    state: &AppState<S>,
    staff: &Staff,
    title: &str,
    action: &str,
    values: &RequestForm,
    submit: &str,
    error: ApiError,
) -> Response {
    let status = error.status;
    let code = error.code;
    let mut response = (
        status,
        form_page(state, staff, title, action, values, submit, Some(&error)),
    )
        .into_response();
    response.extensions_mut().insert(code);
    response
}

pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    Posted(staff, values): Posted<RequestForm>,
) -> Result<Response, ConsoleError> {
    let (title, action, submit) = (
        "Enter a lawful request",
        "/console/requests",
        "Enter the request",
    );
    let request = match values.request() {
        Ok(request) => request,
        Err(message) => {
            return Ok(refused_form(
                &state,
                &staff,
                title,
                action,
                &values,
                submit,
                ApiError::bad_request(message),
            ));
        }
    };
    let actor = staff.actor;
    let call = api::create(State(state.clone()), StaffActor(actor), ApiJson(request));
    match admin(&state, actor, "request.create", call).await {
        Ok(view) => Ok(
            Redirect::to(&format!("/console/requests/{}?done=entered", view.id)).into_response(),
        ),
        Err(error) if error.status.is_client_error() && error.status != StatusCode::FORBIDDEN => {
            Ok(refused_form(
                &state, &staff, title, action, &values, submit, error,
            ))
        }
        Err(error) => Err(error.into()),
    }
}

async fn load<S: Store>(
    state: &AppState<S>,
    actor: Actor,
    id: &str,
) -> Result<RequestView, ConsoleError> {
    let call = api::show(
        State(state.clone()),
        StaffActor(actor),
        ApiPath(id.to_owned()),
    );
    Ok(admin(state, actor, "request.show", call).await?)
}

pub async fn edit_form<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Markup, ConsoleError> {
    permit(&state, staff.actor, "request.edit").await?;
    let view = load(&state, staff.actor, &id).await?;
    let action = format!("/console/requests/{}/edit", view.id);
    Ok(form_page(
        &state,
        &staff,
        "Edit the request",
        &action,
        &RequestForm::of(&view.request),
        "Save this version (voids approvals)",
        None,
    ))
}

pub async fn edit<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Posted(staff, values): Posted<RequestForm>,
) -> Result<Response, ConsoleError> {
    let action = format!("/console/requests/{id}/edit");
    let (title, submit) = ("Edit the request", "Save this version (voids approvals)");
    let request = match values.request() {
        Ok(request) => request,
        Err(message) => {
            return Ok(refused_form(
                &state,
                &staff,
                title,
                &action,
                &values,
                submit,
                ApiError::bad_request(message),
            ));
        }
    };
    let actor = staff.actor;
    let call = api::edit(
        State(state.clone()),
        StaffActor(actor),
        ApiPath(id.clone()),
        ApiJson(request),
    );
    match admin(&state, actor, "request.edit", call).await {
        Ok(view) => {
            Ok(Redirect::to(&format!("/console/requests/{}?done=edited", view.id)).into_response())
        }
        Err(error) if error.status.is_client_error() && error.status != StatusCode::FORBIDDEN => {
            Ok(refused_form(
                &state, &staff, title, &action, &values, submit, error,
            ))
        }
        Err(error) => Err(error.into()),
    }
}

/// An action as the rules would answer `actor` now: a dry run of the very rule the
/// action's call applies, on a copy of the request.
fn dry_run(
    role: Role,
    action: &str,
    outcome: Result<(), rules::RuleError>,
    hide_state: bool,
) -> Action {
    if !roles::allowed(action, role) {
        return Action::NotForRole;
    }
    match outcome {
        Ok(()) => Action::Allowed,
        Err(rules::RuleError::State(_)) if hide_state => Action::NotForRole,
        Err(err) => {
            let api = ApiError::from(GovernanceError::Rule(err.clone()));
            Action::Refused {
                code: api.code,
                reason: err.to_string(),
            }
        }
    }
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn show<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Markup, ConsoleError> {
    let view = load(&state, staff.actor, &id).await?;
    let policy = state
        .governance
        .policy_for(&state.store, &view.request.targets)
        .await?;
    let (me, role, now) = (staff.actor.staff_id, staff.role, state.clock.now_ms());
    let actions = Actions {
        approve: dry_run(
            role,
            "request.approve",
            rules::approve(&mut view.clone(), me, now, &policy),
            false,
        ),
        reject: dry_run(
            role,
            "request.reject",
            rules::reject(&mut view.clone(), me, "reason"),
            true,
        ),
        edit: dry_run(
            role,
            "request.edit",
            rules::edit(&mut view.clone(), me, view.request.clone(), &policy),
            true,
        ),
        disclose: dry_run(
            role,
            "request.disclose",
            rules::check_disclose(&view, &policy),
            true,
        ),
        close: dry_run(role, "request.close", rules::close(&mut view.clone()), true),
    };
    let done = match done.done.as_deref() {
        Some("entered") => Some("The request was entered, and the audit log records it."),
        Some("edited") => Some("The new version was saved; approvals of the old one are void."),
        Some("approved") => Some("Your approval of this version is recorded."),
        Some("rejected") => Some("The rejection is recorded."),
        Some("closed") => Some("The request is closed."),
        _ => None,
    };
    let names = names(&state, &staff).await?;
    let title = format!("Request {}", view.id);
    let body = view::detail(&view, &names, &actions, &layout::csrf(&staff), done);
    Ok(layout::page(&title, &staff, Section::Requests, body))
}

#[derive(Deserialize)]
pub struct Nothing {}

fn back(id: &str, done: &str) -> Response {
    Redirect::to(&format!("/console/requests/{id}?done={done}")).into_response()
}

pub async fn approve<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Result<Response, ConsoleError> {
    let call = api::approve(
        State(state.clone()),
        StaffActor(staff.actor),
        ApiPath(id.clone()),
    );
    admin(&state, staff.actor, "request.approve", call).await?;
    Ok(back(&id, "approved"))
}

#[derive(Deserialize)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

pub async fn reject<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Posted(staff, Reason { reason }): Posted<Reason>,
) -> Result<Response, ConsoleError> {
    let body = ApiJson(RejectRequest { reason });
    let call = api::reject(
        State(state.clone()),
        StaffActor(staff.actor),
        ApiPath(id.clone()),
        body,
    );
    admin(&state, staff.actor, "request.reject", call).await?;
    Ok(back(&id, "rejected"))
}

pub async fn close<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Result<Response, ConsoleError> {
    let call = api::close(
        State(state.clone()),
        StaffActor(staff.actor),
        ApiPath(id.clone()),
    );
    admin(&state, staff.actor, "request.close", call).await?;
    Ok(back(&id, "closed"))
}

/// Discloses, and hands the signed package over as a download: it is made once (the
/// server keeps its hash, never the package).
pub async fn disclose<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Result<Response, ConsoleError> {
    let call = api::disclose(
        State(state.clone()),
        StaffActor(staff.actor),
        ApiPath(id.clone()),
    );
    let package = admin(&state, staff.actor, "request.disclose", call).await?;
    let bytes = serde_json::to_vec_pretty(&package).map_err(|e| ApiError::internal(&e))?;
    let safe: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    let name = format!("attachment; filename=\"pli-disclosure-{safe}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
