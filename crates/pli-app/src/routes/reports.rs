//! Reporting a received message to the server's trust & safety (verifiable: the server
//! checks it against the franking stamp it gave the message), and blocking or unblocking
//! the other person of a 1:1 conversation. A report is sent while the user waits: unlike a
//! message it is not queued, so offline it fails and says so.

use super::chats::{blocked_peer, chat_pane, chat_pane_with, conversation, main_view};
use super::shared::{Form, Shared};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::report::{self, Typed};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use pli_client::ClientError;
use pli_client::reporting::ReportSelection;
use pli_proto::abuse::{MAX_REPORT_NOTE_BYTES, ReportReason};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/c/{id}/report", post(file))
        .route("/c/{id}/block", get(confirm_block).post(block))
        .route("/c/{id}/unblock", post(unblock))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    block: Option<String>,
}

impl ReportForm {
    fn typed(&self) -> Typed {
        Typed {
            reason: self.reason.clone(),
            note: self.note.clone(),
            block: self.block.is_some(),
        }
    }
}

/// A report form checked: which message, why, the note (none if left empty), and whether
/// to block the sender too.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    local_id: i64,
    reason: ReportReason,
    note: Option<String>,
    block: bool,
}

/// What the form must hold before anything is looked up or sent.
pub fn check(form: &ReportForm) -> Result<Checked, AppError> {
    let local_id = form
        .message
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::input("unknown_message", "which message? (message=)"))?;
    let reason = ReportReason::parse(form.reason.trim()).ok_or_else(|| {
        AppError::input(
            "unknown_reason",
            "choose why you report it: spam, harassment, illegal or other",
        )
    })?;
    let note = form.note.trim();
    if note.len() > MAX_REPORT_NOTE_BYTES {
        return Err(AppError::input(
            "note_too_long",
            format!(
                "a note holds at most {MAX_REPORT_NOTE_BYTES} bytes; this one has {}",
                note.len()
            ),
        ));
    }
    Ok(Checked {
        local_id,
        reason,
        note: (!note.is_empty()).then(|| note.to_owned()),
        block: form.block.is_some(),
    })
}

/// Files the report of one received message; the chat view with the confirmation, or the
/// form again with what was chosen and why it did not go.
async fn file(
    State(state): Shared,
    Path(id): Path<String>,
    Form(form): Form<ReportForm>,
) -> Result<Response, AppError> {
    let conversation = conversation(&state, &id)?;
    let id = conversation.id.to_hex();
    // The message first: an error about the rest of the form is shown beside it.
    let local_id = form.message.trim().parse::<i64>().unwrap_or(0);
    let group = conversation.id.clone();
    let message = state.read(|c| {
        Ok(c.history_after(&group, local_id.saturating_sub(1), 1)?
            .into_iter()
            .next()
            .filter(|m| m.local_id == local_id && !m.outgoing))
    })?;
    let Some(message) = message else {
        let err = AppError::input(
            "unknown_message",
            "that is not a message you received in this conversation",
        );
        return failed(&state, &conversation, err, |s, c, e| {
            chat_pane(s, c, "", Some(e))
        });
    };
    let outcome = match check(&form) {
        Err(err) => Err(err),
        Ok(checked) => send(&state, &conversation.id, checked).await,
    };
    match outcome {
        Ok(blocked) => {
            state.engine.changed(Some(id.clone()));
            let status = report::confirmation(&message.sender, blocked);
            let pane = chat_pane_with(&state, &conversation, "", None, Some(status))?;
            Ok(main_view(&state, Some(&id), pane, None)?.into_response())
        }
        Err(err) => failed(&state, &conversation, err, |_, _, e| {
            Ok(report::pane(&id, &message, &form.typed(), e))
        }),
    }
}

/// Sends the checked report from the engine (it needs the server); whether the sender was
/// blocked too.
async fn send(
    state: &AppState,
    group: &pli_proto::GroupId,
    checked: Checked,
) -> Result<bool, AppError> {
    let selection = ReportSelection::Local(vec![checked.local_id]);
    // What can be told without the server (no franking, an oversized note) is told before
    // the engine is asked.
    let probe = selection.clone();
    let note = checked.note.clone();
    state
        .read(|c| {
            c.report_requests(group, &probe, checked.reason, note.as_deref())
                .map(|_| ())
        })
        .map_err(|err| match err {
            AppError::Client(ClientError::Invalid(words)) => {
                AppError::input("not_reportable", words)
            }
            other => other,
        })?;
    let group = group.clone();
    let block = checked.block;
    state
        .engine
        .with_client(move |c| {
            Box::pin(async move {
                c.report(
                    &group,
                    &selection,
                    checked.reason,
                    checked.note.as_deref(),
                    block,
                )
                .await
            })
        })
        .await?;
    Ok(block)
}

/// The page for a failed step: `pane` (with the error) beside the list, the error's status
/// and code.
fn failed(
    state: &AppState,
    conversation: &pli_client::Conversation,
    err: AppError,
    pane: impl FnOnce(&AppState, &pli_client::Conversation, &AppError) -> Result<Markup, AppError>,
) -> Result<Response, AppError> {
    let id = conversation.id.to_hex();
    let body = pane(state, conversation, &err)?;
    let page = main_view(state, Some(&id), body, None)?;
    Ok((err.status(), [("x-pli-error", err.code())], page).into_response())
}

/// The other person of a 1:1 conversation (blocking is for them only).
fn peer(conversation: &pli_client::Conversation) -> Result<pli_proto::Username, AppError> {
    conversation
        .peer
        .clone()
        .filter(|_| conversation.direct)
        .ok_or_else(|| {
            AppError::input(
                "not_direct",
                "only the other person of a 1:1 conversation can be blocked here",
            )
        })
}

async fn confirm_block(State(state): Shared, Path(id): Path<String>) -> Result<Markup, AppError> {
    let conversation = conversation(&state, &id)?;
    let peer = peer(&conversation)?;
    let id = conversation.id.to_hex();
    main_view(&state, Some(&id), report::confirm_block(&id, &peer), None)
}

async fn block(State(state): Shared, Path(id): Path<String>) -> Result<Redirect, AppError> {
    let conversation = conversation(&state, &id)?;
    let peer = peer(&conversation)?;
    state.read(|c| c.block(&peer))?;
    let id = conversation.id.to_hex();
    state.engine.changed(Some(id.clone()));
    Ok(Redirect::to(&format!("/c/{id}")))
}

async fn unblock(State(state): Shared, Path(id): Path<String>) -> Result<Redirect, AppError> {
    let conversation = conversation(&state, &id)?;
    let peer = peer(&conversation)?;
    if blocked_peer(&state, &conversation)?.is_some() {
        state.read(|c| c.unblock(&peer))?;
    }
    let id = conversation.id.to_hex();
    state.engine.changed(Some(id.clone()));
    Ok(Redirect::to(&format!("/c/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pli_client::timeline::HistoryMessage;

    /// A received message, for the page around a report.
    fn received(local_id: i64) -> HistoryMessage {
        HistoryMessage {
            local_id,
            sender: pli_proto::Username::parse("bob").expect("a username"),
            text: "buy now".into(),
            sent_at: 0,
            stored_at: 0,
            outgoing: false,
            own: false,
            delivery: None,
            message_id: None,
            reply: None,
            edited: false,
            deleted: false,
            reactions: Vec::new(),
            receipts: None,
            rev: 0,
            expires_at: None,
            attachment: None,
            sender_profile: None,
        }
    }

    fn form(message: &str, reason: &str, note: &str, block: bool) -> ReportForm {
        ReportForm {
            message: message.into(),
            reason: reason.into(),
            note: note.into(),
            block: block.then(|| "on".to_owned()),
        }
    }

    fn code(form: &ReportForm) -> &'static str {
        check(form).expect_err("refused").code()
    }

    #[test]
    fn a_whole_form_is_checked_into_what_the_client_takes() {
        assert_eq!(
            check(&form("7", "spam", "  sold me nothing  ", true)).expect("valid"),
            Checked {
                local_id: 7,
                reason: ReportReason::Spam,
                note: Some("sold me nothing".into()),
                block: true,
            }
        );
        let plain = check(&form("3", "other", "   ", false)).expect("valid");
        assert_eq!((plain.note, plain.block), (None, false));
    }

    #[test]
    fn each_reason_the_form_offers_is_accepted() {
        for reason in ReportReason::ALL {
            assert_eq!(
                check(&form("1", reason.as_str(), "", false))
                    .expect("valid")
                    .reason,
                *reason
            );
        }
    }

    #[test]
    fn bad_input_is_refused_with_its_own_code() {
        assert_eq!(code(&form("", "spam", "", false)), "unknown_message");
        assert_eq!(code(&form("x1", "spam", "", false)), "unknown_message");
        assert_eq!(code(&form("0", "spam", "", false)), "unknown_message");
        assert_eq!(code(&form("-4", "spam", "", false)), "unknown_message");
        assert_eq!(code(&form("1", "", "", false)), "unknown_reason");
        assert_eq!(code(&form("1", "Spam!", "", false)), "unknown_reason");
        let long = "é".repeat(MAX_REPORT_NOTE_BYTES / 2 + 1);
        assert_eq!(code(&form("1", "spam", &long, false)), "note_too_long");
        let exact = "a".repeat(MAX_REPORT_NOTE_BYTES);
        assert!(check(&form("1", "spam", &exact, false)).is_ok());
    }

    #[test]
    fn a_refused_report_keeps_what_was_chosen() {
        let sent = form("5", "harassment", "every night", true);
        let err = AppError::input("report_replayed", "reported already");
        let page = report::pane("ab", &received(5), &sent.typed(), &err).into_string();
        assert!(
            page.contains(r#"value="harassment" required checked"#),
            "{page}"
        );
        assert!(page.contains(">every night</textarea>"), "{page}");
        assert!(
            page.contains(r#"name="block" value="on" checked"#),
            "{page}"
        );
        assert!(page.contains(r#"data-code="report_replayed""#), "{page}");
        assert!(page.contains(r#"name="message" value="5""#), "{page}");
    }
}
