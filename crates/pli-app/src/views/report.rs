//! Reporting a received message and blocking its sender: the report form each received
//! message carries (a `<details>`, so it opens without script), the same form on a page of
//! its own when a report comes back with an error, the confirmation, and the blocked state
//! of a 1:1 conversation.

use maud::{Markup, html};
use pli_client::timeline::HistoryMessage;
use pli_proto::Username;
use pli_proto::abuse::{MAX_REPORT_NOTE_BYTES, ReportReason};

/// What the user chose in a report form, kept when it comes back with an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Typed {
    pub reason: String,
    pub note: String,
    pub block: bool,
}

/// Plain words for a reason.
fn reason_words(reason: ReportReason) -> &'static str {
    match reason {
        ReportReason::Spam => "Spam or a scam",
        ReportReason::Harassment => "Harassment or threats",
        ReportReason::Illegal => "Illegal content",
        ReportReason::Other => "Something else (say what in the note)",
    }
}

/// The fields of a report of `m`; `prefix` keeps the ids of several forms on one page apart.
fn fields(conversation: &str, m: &HistoryMessage, typed: &Typed, prefix: &str) -> Markup {
    html! {
        form class="report-form" method="post" action={ "/c/" (conversation) "/report" } {
            input type="hidden" name="message" value=(m.local_id);
            fieldset {
                legend { "Why are you reporting it?" }
                @for &reason in ReportReason::ALL {
                    label class="check" {
                        input type="radio" name="reason" value=(reason.as_str()) required
                            checked[typed.reason == reason.as_str()];
                        (reason_words(reason))
                    }
                }
            }
            label for={ (prefix) "-note" } { "Note (optional)" }
            textarea id={ (prefix) "-note" } name="note" rows="2"
                maxlength=(MAX_REPORT_NOTE_BYTES) { (typed.note) }
            label class="check" {
                input type="checkbox" name="block" value="on" checked[typed.block];
                "Also block @" (m.sender)
            }
            p class="hint" {
                "The server's trust & safety team sees this message, its sender and your note; "
                "nothing else of the conversation. @" (m.sender) " is not told."
            }
            button type="submit" class="danger" { "Send report" }
        }
    }
}

/// The "Report" control of a received message: a disclosure holding the form.
pub fn control(conversation: &str, m: &HistoryMessage) -> Markup {
    html! {
        details class="report" {
            summary { "Report" span class="visually-hidden" { " this message from @" (m.sender) } }
            (fields(conversation, m, &Typed::default(), &format!("report-{}", m.local_id)))
        }
    }
}

/// The report form on a page of its own, with what was chosen and why it did not go.
pub fn pane(
    conversation: &str,
    m: &HistoryMessage,
    typed: &Typed,
    error: &crate::AppError,
) -> Markup {
    html! {
        section class="pane-body" aria-labelledby="report-title" {
            h2 id="report-title" { "Report a message from @" (m.sender) }
            blockquote class="reported-text" { (m.text) }
            (crate::views::layout::form_error(Some(error)))
            @if error.code() == "server_unreachable" {
                p class="hint" data-code="report_not_queued" {
                    "A report is not queued like a message: it is sent while you wait, so it "
                    "goes only when the server can be reached. Try again when you are online."
                }
            }
            (fields(conversation, m, typed, "report"))
            p { a href={ "/c/" (conversation) } { "Back to the conversation" } }
        }
    }
}

/// What a filed report says: who sees what, and the block if there was one.
pub fn confirmation(reported: &Username, blocked: bool) -> Markup {
    html! {
        div class="reported" role="status" data-code="reported" {
            p {
                strong { "Reported to the server's trust & safety." } " They see only this message."
                @if blocked { " You blocked @" (reported) " too." }
            }
        }
    }
}

/// A 1:1 conversation with a user this device blocked: said so, with the way back.
pub fn blocked_state(conversation: &str, peer: &Username) -> Markup {
    html! {
        div class="blocked-state" data-code="blocked" {
            p { strong { "You blocked @" (peer) "." } " Their messages are dropped when they arrive, and you cannot write to them. They are not told." }
            form method="post" action={ "/c/" (conversation) "/unblock" } {
                button type="submit" class="secondary" { "Unblock @" (peer) }
            }
        }
    }
}

/// Asks before blocking `peer`.
pub fn confirm_block(conversation: &str, peer: &Username) -> Markup {
    html! {
        section class="pane-body" aria-labelledby="block-title" {
            h2 id="block-title" { "Block @" (peer) "?" }
            p { "Messages from @" (peer) " will be dropped when they arrive on this device, and you cannot write to them until you unblock them. They are not told. The messages you have stay." }
            p class="hint" { "To tell the server's trust & safety about a message, use Report on that message." }
            form method="post" action={ "/c/" (conversation) "/block" } {
                button type="submit" class="danger" { "Block @" (peer) }
                " "
                a href={ "/c/" (conversation) } { "Cancel" }
            }
        }
    }
}
