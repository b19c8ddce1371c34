//! This account's profile, set from Settings (a name and a picture, sealed on this device
//! by the engine: `pli_client::profiles`), and the pictures of the people in the chats,
//! served from this device's copy.

use super::shared::Shared;
use crate::error::AppError;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

/// Most bytes the profile form may send: a picture of up to 8 MiB (it is shrunk to 128
/// pixels a side on this device before anything leaves it) and the name.
const MAX_PICTURE_BYTES: usize = 8 * 1024 * 1024;

pub fn routes() -> Router<Arc<crate::state::AppState>> {
    Router::new()
        .route("/avatars/{username}", get(avatar))
        .route(
            "/settings/profile",
            post(set).layer(DefaultBodyLimit::max(MAX_PICTURE_BYTES + 16 * 1024)),
        )
        .route("/settings/profile/clear", post(clear))
}

async fn avatar(
    axum::extract::State(state): Shared,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    let user = pli_proto::Username::parse(&username).map_err(|_| AppError::NotFound)?;
    let shown = state.read(|c| c.profile_of(&user))?;
    let jpeg = shown.and_then(|p| p.avatar).ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        jpeg,
    )
        .into_response())
}

/// Saves the name and, if one was chosen, the picture (the last picture stays otherwise).
async fn set(
    axum::extract::State(state): Shared,
    mut form: Multipart,
) -> Result<Redirect, AppError> {
    let staging = tempfile::Builder::new()
        .prefix("profile-")
        .tempdir_in(&state.home)
        .map_err(AppError::Io)?;
    let bad_form = || AppError::input("bad_form", "the profile was not sent as a form");
    let too_large = || {
        AppError::input(
            "picture_too_large",
            format!(
                "a picture is at most {} MiB",
                MAX_PICTURE_BYTES / (1024 * 1024)
            ),
        )
    };
    let mut name = String::new();
    let mut picture = None;
    while let Some(field) = form.next_field().await.map_err(|_| bad_form())? {
        match field.name() {
            Some("name") => name = field.text().await.map_err(|_| bad_form())?,
            Some("avatar") if field.file_name().is_some_and(|n| !n.is_empty()) => {
                let bytes = field.bytes().await.map_err(|_| too_large())?;
                if !bytes.is_empty() {
                    let path = staging.path().join("picture");
                    std::fs::write(&path, &bytes).map_err(AppError::Io)?;
                    picture = Some(path);
                }
            }
            _ => {}
        }
    }
    let kept = match &picture {
        Some(_) => None,
        None => state.read(|c| c.my_profile())?.and_then(|p| p.avatar),
    };
    if let Some(jpeg) = kept {
        let path = staging.path().join("kept.jpg");
        std::fs::write(&path, jpeg).map_err(AppError::Io)?;
        picture = Some(path);
    }
    state
        .engine
        .with_client(move |c| {
            Box::pin(async move { c.set_profile(&name, picture.as_deref(), false).await })
        })
        .await?;
    drop(staging);
    state.engine.changed(None);
    Ok(Redirect::to("/settings"))
}

async fn clear(axum::extract::State(state): Shared) -> Result<Redirect, AppError> {
    state
        .engine
        .with_client(|c| Box::pin(async move { c.set_profile("", None, true).await }))
        .await?;
    state.engine.changed(None);
    Ok(Redirect::to("/settings"))
}
