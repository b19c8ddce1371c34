//! Files in a conversation: an image's thumbnail (from the local history, never waiting
//! on the network), the file itself (downloaded once through the engine, checked against
//! its message, decrypted), and sharing one from the composer's Attach form.
//!
//! What the browser is given: the thumbnail, and the file with its media type only where
//! the page shows it inline (PNG, JPEG, GIF, WebP images; audio), anything else as a
//! download, always with `nosniff`. Each is of a message in the conversation the path
//! names, so a page of one conversation cannot read another's files by number.

use super::chats::{chat_pane, conversation, main_view};
use super::shared::Shared;
use crate::error::AppError;
use crate::views::attachment::shown_inline;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pli_client::attachments::Attachment;
use std::sync::Arc;

/// Most bytes one upload from the Attach form may take: the server's default file limit
/// and room for the form around it. (A server that takes more is reached from the CLI.)
const MAX_UPLOAD_BYTES: usize =
    pli_proto::attachment::DEFAULT_MAX_ATTACHMENT_BYTES as usize + 64 * 1024;

pub fn routes() -> Router<Arc<crate::state::AppState>> {
    Router::new()
        .route("/c/{id}/files/{message}", get(file))
        .route("/c/{id}/files/{message}/thumbnail", get(thumbnail))
        .route(
            "/c/{id}/attach",
            post(attach).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
}

fn attachment_of(
    state: &crate::state::AppState,
    id: &str,
    message: i64,
) -> Result<(pli_proto::GroupId, Attachment), AppError> {
    let group = conversation(state, id)?.id;
    let found = state.read(|c| c.attachment_in(&group, message))?;
    found.map(|a| (group, a)).ok_or(AppError::NotFound)
}

async fn thumbnail(
    axum::extract::State(state): Shared,
    Path((id, message)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (_, attachment) = attachment_of(&state, &id, message)?;
    let jpeg = attachment.thumbnail.ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg).into_response())
}

async fn file(
    axum::extract::State(state): Shared,
    Path((id, message)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (_, attachment) = attachment_of(&state, &id, message)?;
    let shown = attachment.clone();
    let bytes = state
        .engine
        .with_client(move |c| Box::pin(async move { c.open_attachment(&shown).await }))
        .await?;
    let inline = shown_inline(&attachment.media_type);
    let media_type = if inline {
        attachment.media_type.as_str()
    } else {
        "application/octet-stream"
    };
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encoded(&attachment.name)
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).map_err(|_| AppError::NotFound)?,
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|_| AppError::NotFound)?,
    );
    Ok(response)
}

/// RFC 5987's encoding of a file name: every byte but unreserved ASCII as `%XX`.
fn percent_encoded(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Shares the chosen file with its caption: written to the home first (a part at a time,
/// never whole in memory), then encrypted and uploaded by the engine, then removed.
async fn attach(
    axum::extract::State(state): Shared,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, AppError> {
    let conversation = conversation(&state, &id)?;
    let id = conversation.id.to_hex();
    let staging = tempfile::Builder::new()
        .prefix("outgoing-")
        .tempdir_in(&state.home)
        .map_err(AppError::Io)?;
    let mut caption = String::new();
    let mut file = None;
    let bad_form = || AppError::input("bad_form", "the file was not sent as a form");
    while let Some(mut field) = form.next_field().await.map_err(|_| bad_form())? {
        match field.name() {
            Some("caption") => caption = field.text().await.map_err(|_| bad_form())?,
            Some("file") => {
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                    .filter(|n| !n.is_empty() && n.len() <= 255)
                    .ok_or_else(|| AppError::input("no_file", "choose a file to send"))?;
                let path = staging.path().join(&name);
                let mut out = tokio::fs::File::create(&path).await.map_err(AppError::Io)?;
                while let Some(part) = field.chunk().await.map_err(|_| too_large())? {
                    tokio::io::AsyncWriteExt::write_all(&mut out, &part)
                        .await
                        .map_err(AppError::Io)?;
                }
                file = Some(path);
            }
            _ => {}
        }
    }
    let path = file.ok_or_else(|| AppError::input("no_file", "choose a file to send"))?;
    if caption.len() > pli_proto::limits::MAX_TEXT_BYTES {
        return Err(AppError::input(
            "message_too_long",
            "the caption is too long",
        ));
    }
    let group = conversation.id.clone();
    let sent = state
        .engine
        .with_client(move |c| {
            Box::pin(async move { c.send_attachment(&group, &path, caption.trim()).await })
        })
        .await;
    drop(staging);
    match sent {
        Ok(_) => {
            state.engine.changed(Some(id.clone()));
            Ok(Redirect::to(&format!("/c/{id}")).into_response())
        }
        Err(err) => {
            let status = err.status();
            let pane = chat_pane(&state, &conversation, "", Some(&err))?;
            let page = main_view(&state, Some(&id), pane, None)?;
            Ok((status, [("x-pli-error", err.code())], page).into_response())
        }
    }
}

fn too_large() -> AppError {
    AppError::input(
        "file_too_large",
        format!(
            "a file holds at most {} MiB",
            pli_proto::attachment::DEFAULT_MAX_ATTACHMENT_BYTES / (1024 * 1024)
        ),
    )
}
