//! First run: register a new account (server, username, region from the server's published
//! policies), or link this device to an account the user has; then, for a linked device,
//! its code (as text and QR) until another device approves it.

use super::shared::{Form, Shared, shell};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::layout::{Screen, form_error};
use crate::views::qr;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pli_client::transport::Transport;
use pli_client::{Client, ClientError, ConnectOptions};
use pli_proto::{Region, Username};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/register", post(register))
        .route("/link", get(link_form).post(link))
        .route("/regions", get(regions))
}

/// What the user typed, kept when a form comes back with an error.
#[derive(Default, serde::Deserialize)]
pub struct Fields {
    #[serde(default)]
    server: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    region: String,
}

/// The first-run page: register, or link to an existing account.
pub fn page(
    state: &AppState,
    fields: &Fields,
    error: Option<&AppError>,
) -> Result<Markup, AppError> {
    let body = html! {
        main id="main" class="narrow onboarding" {
            h1 { "Welcome to pli" }
            p { "Messages are encrypted on this computer; the server only passes them on. "
                "No phone number or e-mail is needed." }
            (form_error(error))
            form id="register" method="post" action="/register" class="card" {
                h2 { "Create an account" }
                label for="server" { "Server" }
                input id="server" name="server" type="url" required value=(fields.server)
                    placeholder="https://pli.example.org" autocomplete="url";
                label for="username" { "Username" }
                input id="username" name="username" required value=(fields.username)
                    minlength="3" maxlength="32" autocomplete="username" spellcheck="false"
                    aria-describedby="username-rules";
                p id="username-rules" class="hint" {
                    "3 to 32 lowercase letters, digits, _ or ., starting with a letter."
                }
                label for="region" { "Region" }
                select id="region" name="region" aria-describedby="region-words" {
                    option value="" { "The server's default" }
                    @if !fields.region.is_empty() {
                        option value=(fields.region) selected { (fields.region) }
                    }
                }
                div id="region-words" class="hint" aria-live="polite" {
                    "Where your account's data is kept, and under which rules. Enter a server to see its regions."
                }
                button type="submit" { "Register" }
                div id="working" class="working" hidden {
                    progress aria-label="Registering" {}
                    span { "Solving the server's proof of work (this keeps spam accounts out; it takes a few seconds)…" }
                }
            }
            p class="card" {
                "Already on pli with another device? "
                a href="/link" { "Link this computer to your account" }
            }
        }
    };
    shell(state, Screen::Onboarding, "Welcome", body)
}

/// Linking this device to an account the user has on another device.
pub fn link_page(
    state: &AppState,
    fields: &Fields,
    error: Option<&AppError>,
) -> Result<Markup, AppError> {
    let body = html! {
        main id="main" class="narrow onboarding" {
            h1 { "Use an account you already have" }
            p { "This computer becomes one more device of your account. One of your devices approves it with a code shown next." }
            (form_error(error))
            form id="link" method="post" action="/link" class="card" {
                label for="link-server" { "Server" }
                input id="link-server" name="server" type="url" required value=(fields.server)
                    placeholder="https://pli.example.org";
                label for="link-username" { "Username" }
                input id="link-username" name="username" required value=(fields.username) spellcheck="false";
                button type="submit" { "Link this device" }
            }
            p { a href="/" { "Back: create a new account instead" } }
        }
    };
    shell(state, Screen::Onboarding, "Link this device", body)
}

async fn link_form(State(state): Shared) -> Result<Response, AppError> {
    if state.has_device() {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(link_page(&state, &Fields::default(), None)?.into_response())
}

/// This linked device's code, until a device of the account approves it.
pub fn awaiting_page(state: &AppState) -> Result<Markup, AppError> {
    let code = state.link_code();
    let body = html! {
        main id="main" class="narrow" {
            h1 { "Approve this device" }
            @if let Some(code) = &code {
                p { "On a device already on your account, open Devices and approve this code "
                    "(or scan it):" }
                (qr::code(code, "Link code as a QR code"))
                p { code class="link-code" id="link-code" { (code) } }
            } @else {
                p { "This device waits for another device of your account to approve it. "
                    "Its code was shown when linking started." }
            }
            p class="hint" { "This page moves on by itself once the device is approved." }
        }
    };
    shell(state, Screen::Onboarding, "Approve this device", body)
}

fn checked(fields: &Fields) -> Result<(String, Username, Option<Region>), AppError> {
    let server = fields.server.trim();
    let url_like = server.starts_with("http://") || server.starts_with("https://");
    if server.is_empty() || !url_like || server.len() > 2048 {
        return Err(AppError::input(
            "invalid_server",
            "the server is an address like https://pli.example.org",
        ));
    }
    let username = Username::parse(fields.username.trim()).map_err(|_| {
        AppError::input(
            "invalid_username",
            "a username is 3 to 32 lowercase letters, digits, _ or ., starting with a letter",
        )
    })?;
    let region = match fields.region.trim() {
        "" => None,
        name => Some(Region::parse(name).map_err(|_| {
            AppError::input("unknown_region", "the server does not serve this region")
        })?),
    };
    Ok((server.to_owned(), username, region))
}

/// A form page again, with the error that refused it (its status and code).
fn refused(page: Result<Markup, AppError>, err: &AppError) -> Response {
    match page {
        Ok(page) => (err.status(), [("x-pli-error", err.code())], page).into_response(),
        Err(other) => other.into_response(),
    }
}

/// Puts the home's first device in the engine: `make` builds it (registering, or preparing
/// a link) and returns what the next page shows. Refused once the home has one.
async fn first_device<T, F, Fut>(state: &AppState, make: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(PathBuf, ConnectOptions) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(Client, T), ClientError>> + 'static,
{
    let home = state.home.clone();
    let connect = state.connect.clone();
    state
        .engine
        .with_slot(move |slot| {
            Box::pin(async move {
                if slot.is_some() {
                    return Err(AppError::AlreadyRegistered);
                }
                let (client, shown) = make(home, connect).await?;
                *slot = Some(client);
                Ok(shown)
            })
        })
        .await
}

async fn register(State(state): Shared, Form(fields): Form<Fields>) -> Response {
    let (server, username, region) = match checked(&fields) {
        Ok(parts) => parts,
        Err(err) => return refused(page(&state, &fields, Some(&err)), &err),
    };
    let registered = first_device(&state, move |home, connect| async move {
        Client::register_in(&home, &server, &username, region.as_ref(), &connect).await
    })
    .await;
    match registered {
        Ok(_) => Redirect::to("/").into_response(),
        Err(err) => refused(page(&state, &fields, Some(&err)), &err),
    }
}

async fn link(State(state): Shared, Form(fields): Form<Fields>) -> Response {
    let (server, username, _) = match checked(&Fields {
        server: fields.server.clone(),
        username: fields.username.clone(),
        region: String::new(),
    }) {
        Ok(parts) => parts,
        Err(err) => return refused(link_page(&state, &fields, Some(&err)), &err),
    };
    let linked = first_device(&state, move |home, connect| async move {
        Client::prepare_link(&home, &server, &username, &connect).await
    })
    .await;
    match linked {
        Ok(code) => {
            *state.link_code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
            Redirect::to("/").into_response()
        }
        Err(err) => refused(link_page(&state, &fields, Some(&err)), &err),
    }
}

#[derive(serde::Deserialize)]
struct RegionsQuery {
    #[serde(default)]
    server: String,
}

/// The server's regions as `option`s, each policy in plain words (for the first-run form).
async fn regions(
    Query(query): Query<RegionsQuery>,
    State(state): Shared,
) -> Result<Markup, AppError> {
    let fields = Fields {
        server: query.server,
        username: "placeholder".into(),
        region: String::new(),
    };
    let (server, _, _) = checked(&fields)?;
    let transport = Transport::new(&server, state.connect.extra_ca_pem.as_deref())?;
    let policy = transport.policy().await?;
    Ok(html! {
        select id="region" name="region" aria-describedby="region-words" {
            @for region in &policy.regions {
                option value=(region.region.as_str()) selected[region.region == policy.default_region]
                    data-words=(region.plain_words().join(" ")) {
                    (region.region.as_str())
                    @if region.region == policy.default_region { " (default)" }
                }
            }
        }
    })
}
