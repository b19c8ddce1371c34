//! What a message carries besides its text: the quote of the message it answers, its
//! reactions (each a button that adds or takes back this user's), and its actions (react,
//! reply, and for the author edit and delete for everyone) in a `<details>` that opens
//! without script. The composer's "replying to" bar lives here too.

use maud::{Markup, html};
use pli_client::timeline::{HistoryMessage, Quote};
use pli_proto::limits::MAX_TEXT_BYTES;

/// The reactions offered in a message's actions.
pub const PALETTE: &[(&str, &str)] = &[
    ("\u{1F44D}", "thumbs up"),
    ("\u{2764}\u{FE0F}", "heart"),
    ("\u{1F602}", "laughing"),
    ("\u{1F62E}", "surprised"),
    ("\u{1F622}", "sad"),
    ("\u{1F64F}", "thank you"),
];

/// A quoted text's first line, cut at 80 characters.
pub fn preview(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// The message a reply answers, above the reply's text.
pub fn quote(quote: &Quote) -> Markup {
    html! {
        blockquote class="quote" data-quotes=(quote.message_id) {
            @match (&quote.original, quote.deleted) {
                (_, true) => { span class="deleted" { "Message deleted" } }
                (Some((sender, text)), false) => {
                    span class="who" { "@" (sender) } " " (preview(text))
                }
                (None, false) => { span class="deleted" { "A message not on this device" } }
            }
        }
    }
}

fn react_url(conversation: &str, m: &HistoryMessage) -> String {
    format!("/c/{conversation}/m/{}/react", m.local_id)
}

/// The reactions under a message: each a button adding this user's (or taking it back
/// when it is theirs already).
pub fn reactions(conversation: &str, m: &HistoryMessage) -> Markup {
    html! {
        @if !m.reactions.is_empty() {
            form class="reactions" method="post" action=(react_url(conversation, m)) {
                @for r in &m.reactions {
                    button type="submit" name="reaction" value=(r.reaction)
                        class={ "reaction" @if r.mine { " mine" } } aria-pressed=(r.mine)
                        aria-label={ (r.reaction) " " (r.count) @if r.mine { ", yours: take it back" } } {
                        (r.reaction) " " (r.count)
                    }
                }
            }
        }
    }
}

/// The one "More" disclosure of a message still there: react, reply, for its author edit
/// and delete for everyone, and `report` (the report control of a received message).
pub fn actions(conversation: &str, m: &HistoryMessage, report: Option<Markup>) -> Markup {
    let local = m.local_id;
    let changeable = m.message_id.is_some();
    html! {
        @if !m.deleted && (changeable || report.is_some()) {
            details class="message-actions" {
                summary { "More" span class="visually-hidden" { " for this message" } }
                @if changeable {
                    form class="palette" method="post" action=(react_url(conversation, m)) {
                        @for (emoji, name) in PALETTE {
                            button type="submit" name="reaction" value=(emoji) aria-label={ "React " (name) } { (emoji) }
                        }
                    }
                    div class="buttons" {
                        a class="button secondary" href={ "/c/" (conversation) "?reply=" (local) } { "Reply" }
                        @if m.own {
                            a class="button secondary" href={ "/c/" (conversation) "/m/" (local) "/edit" } { "Edit" }
                            form class="delete-form" method="post" action={ "/c/" (conversation) "/m/" (local) "/delete" } {
                                button type="submit" class="danger" aria-describedby={ "delete-hint-" (local) } { "Delete for everyone" }
                            }
                        }
                    }
                    @if m.own {
                        p class="hint" id={ "delete-hint-" (local) } { "Delete for everyone removes it from every member's device; they see “Message deleted”." }
                    }
                }
                @if let Some(report) = report { (report) }
            }
        }
    }
}

/// The edit form of an own message, on a page of its own (with why an edit did not go).
pub fn edit_pane(
    conversation: &str,
    m: &HistoryMessage,
    draft: &str,
    error: Option<&crate::AppError>,
) -> Markup {
    html! {
        section class="pane-body narrow" aria-labelledby="edit-title" {
            h2 id="edit-title" { "Edit your message" }
            p class="hint" { "Everyone in the conversation sees the new text, marked “edited”. Their devices keep no copy of the old one; yours does." }
            (crate::views::layout::form_error(error))
            form class="edit-form card" method="post" action={ "/c/" (conversation) "/m/" (m.local_id) "/edit" } {
                label for="edit-text" { "New text" }
                textarea id="edit-text" name="text" rows="4" required maxlength=(MAX_TEXT_BYTES) { (draft) }
                div class="actions" {
                    button type="submit" { "Save edit" }
                    a class="button secondary" href={ "/c/" (conversation) } { "Cancel" }
                }
            }
        }
    }
}

/// Above the composer: the message being answered, and a way out.
pub fn replying_to(conversation: &str, m: &HistoryMessage) -> Markup {
    html! {
        div class="replying" {
            input type="hidden" name="reply_to" value=(m.local_id);
            span { "Replying to " strong { @if m.own { "yourself" } @else { "@" (m.sender) } } ": " (preview(&m.text)) }
            a href={ "/c/" (conversation) } { "Cancel reply" }
        }
    }
}
