//! Signing in: the staff credential (the same one the admin API takes), then the TOTP
//! second factor, which a member without one enrols on their first sign-in. Every
//! sign-in with a right credential is an audit entry, refused ones included (a wrong or
//! reused code), and so is each enrolment; attempts are limited per staff id.

use super::error::ConsoleError;
use super::guard::{Posted, SameOrigin, console, same_origin, session};
use super::session::{ENROL_PATH, SIGNIN_PATH, Stage, clear_cookie, set_cookie};
use super::state::{Console, Staff};
use super::totp;
use super::views::{layout, signin as view};
use crate::accounts::hash_secret;
use crate::governance::Actor;
use crate::state::AppState;
use crate::store::{GovernanceEffect, StaffRecord, StaffTotp, Store};
use axum::Extension;
use axum::extract::{Form, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use pli_proto::ErrorCode;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use subtle::ConstantTimeEq as _;

/// `/console`: the member's first page, or the sign-in page.
pub async fn root(staff: Result<Staff, ConsoleError>) -> Response {
    match staff {
        Ok(staff) => Redirect::to(layout::home(staff.role)).into_response(),
        Err(_) => Redirect::to(SIGNIN_PATH).into_response(),
    }
}

/// The sign-in page; a member half-way through enrolling sees the enrolment page.
pub async fn page<S: Store>(
    State(state): State<AppState<S>>,
    parts: Parts,
) -> Result<Response, ConsoleError> {
    let console = console(&parts)?;
    if let Some((_, s)) = session(&parts, &console, state.clock.now_ms()) {
        match s.stage {
            Stage::Enrolling { .. } => return Ok(Redirect::to(ENROL_PATH).into_response()),
            Stage::SignedIn => return Ok(Redirect::to("/console").into_response()),
        }
    }
    Ok(view::signin(None).into_response())
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    staff_id: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

fn refused(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let mut response = (status, view::signin(Some((code, message)))).into_response();
    response.extensions_mut().insert(code);
    response
}

fn with_cookie(location: &str, cookie: String) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location.to_owned()),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}

async fn record<S: Store>(
    state: &AppState<S>,
    member: &StaffRecord,
    action: &str,
    outcome: &str,
    reason: Option<ErrorCode>,
    effect: GovernanceEffect,
) -> Result<(), ConsoleError> {
    let actor = Actor {
        staff_id: member.id,
        role: Some(member.role),
    };
    let mut details = json!({ "via": "console" });
    if let Some(code) = reason {
        details["reason"] = json!(code.as_str());
    }
    state
        .governance
        .record(
            &state.store,
            state.clock.as_ref(),
            actor,
            action,
            outcome,
            details,
            effect,
        )
        .await?;
    Ok(())
}

pub async fn submit<S: Store>(
    State(state): State<AppState<S>>,
    Extension(console): Extension<Arc<Console>>,
    _: SameOrigin,
    Form(form): Form<SignIn>,
) -> Result<Response, ConsoleError> {
    let wrong = || {
        refused(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "That staff id and secret do not match a staff member.",
        )
    };
    let Ok(id) = form.staff_id.trim().parse::<u64>() else {
        return Ok(wrong());
    };
    let now = state.clock.now_ms();
    if let Err(wait_ms) = console.attempts.check(&id, now) {
        return Err(crate::http::error::ApiError::rate_limited(wait_ms).into());
    }
    let member = state.store.staff(id).await?;
    let Some(member) =
        member.filter(|m| bool::from(m.secret_hash.ct_eq(&hash_secret(form.secret.trim()))))
    else {
        return Ok(wrong());
    };
    let Some(enrolled) = state.store.staff_totp(member.id).await? else {
        let stage = Stage::Enrolling {
            secret: totp::new_secret(),
        };
        let session = console
            .sessions
            .open(member.id, member.secret_hash, stage, now);
        return Ok(with_cookie(
            ENROL_PATH,
            set_cookie(&session, console.secure),
        ));
    };
    let Some(step) = totp::matching_step(&enrolled.secret, &form.code, now) else {
        record(
            &state,
            &member,
            "console.signin",
            "refused",
            Some(ErrorCode::BadSecondFactor),
            GovernanceEffect::default(),
        )
        .await?;
        return Ok(refused(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSecondFactor,
            "That code is not the one your authenticator shows now. Check the app's clock, and try the next code.",
        ));
    };
    if !state.store.spend_totp_step(member.id, step).await? {
        record(
            &state,
            &member,
            "console.signin",
            "refused",
            Some(ErrorCode::SecondFactorReused),
            GovernanceEffect::default(),
        )
        .await?;
        return Ok(refused(
            StatusCode::UNAUTHORIZED,
            ErrorCode::SecondFactorReused,
            "That code was used already. Wait for the next one.",
        ));
    }
    record(
        &state,
        &member,
        "console.signin",
        "ok",
        None,
        GovernanceEffect::default(),
    )
    .await?;
    let session = console
        .sessions
        .open(member.id, member.secret_hash, Stage::SignedIn, now);
    Ok(with_cookie(
        layout::home(member.role),
        set_cookie(&session, console.secure),
    ))
}

/// The enrolment page of a session whose credential was right.
pub async fn enrol_page<S: Store>(
    State(state): State<AppState<S>>,
    parts: Parts,
) -> Result<Response, ConsoleError> {
    let console = console(&parts)?;
    let Some((_, s)) = session(&parts, &console, state.clock.now_ms()) else {
        return Err(ConsoleError::SignIn);
    };
    let Stage::Enrolling { secret } = &s.stage else {
        return Ok(Redirect::to("/console").into_response());
    };
    let member = state
        .store
        .staff(s.staff_id)
        .await?
        .ok_or(ConsoleError::SignIn)?;
    let uri = totp::uri(secret, state.governance.origin(), &member.name);
    Ok(view::enrol(&totp::base32(secret), &uri, &s.csrf, None).into_response())
}

#[derive(Deserialize)]
pub struct Enrol {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub async fn enrol<S: Store>(
    State(state): State<AppState<S>>,
    Extension(console): Extension<Arc<Console>>,
    parts: Parts,
    Form(form): Form<Enrol>,
) -> Result<Response, ConsoleError> {
    if !same_origin(&parts.headers) {
        return Err(ConsoleError::csrf());
    }
    let now = state.clock.now_ms();
    let Some((id, s)) = session(&parts, &console, now) else {
        return Err(ConsoleError::SignIn);
    };
    if !s.csrf_matches(&form.csrf) {
        return Err(ConsoleError::csrf());
    }
    let Stage::Enrolling { secret } = &s.stage else {
        return Ok(Redirect::to("/console").into_response());
    };
    let member = state.store.staff(s.staff_id).await?;
    let Some(member) = member.filter(|m| bool::from(m.secret_hash.ct_eq(&s.secret_hash))) else {
        console.sessions.close(&id);
        return Err(ConsoleError::SignIn);
    };
    let Some(step) = totp::matching_step(secret, &form.code, now) else {
        let uri = totp::uri(secret, state.governance.origin(), &member.name);
        let message = "That code does not match the secret. Check that the app added the account above, and type its current code.";
        let page = view::enrol(
            &totp::base32(secret),
            &uri,
            &s.csrf,
            Some((ErrorCode::BadSecondFactor, message)),
        );
        let mut response = (StatusCode::UNAUTHORIZED, page).into_response();
        response.extensions_mut().insert(ErrorCode::BadSecondFactor);
        return Ok(response);
    };
    let effect = GovernanceEffect {
        totp: Some(StaffTotp {
            staff_id: member.id,
            secret: secret.clone(),
            last_step: step,
        }),
        ..Default::default()
    };
    record(&state, &member, "totp.enrol", "ok", None, effect).await?;
    let fresh = console
        .sessions
        .promote(&id, Stage::SignedIn, now)
        .ok_or(ConsoleError::SignIn)?;
    Ok(with_cookie(
        layout::home(member.role),
        set_cookie(&fresh, console.secure),
    ))
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn signout(
    Extension(console): Extension<Arc<Console>>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Response {
    console.sessions.close(&staff.session);
    with_cookie(SIGNIN_PATH, clear_cookie(console.secure))
}
