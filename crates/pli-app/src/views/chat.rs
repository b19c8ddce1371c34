//! The conversation list and the chat view: list entries, messages and notices (also sent
//! alone, as fragments the script inserts), and the composer.

use crate::views::message_actions;
use maud::{Markup, html};
use pli_client::timeline::{Delivery, HistoryMessage, NoticeLine, Summary};
use pli_client::trust::Refusal;
use pli_proto::Username;
use pli_proto::limits::MAX_TEXT_BYTES;

/// Milliseconds since the epoch as an ISO-8601 UTC instant (the script shows it in local
/// time; the text here is the fallback).
pub fn instant(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// One entry of the conversation list.
pub fn list_entry(summary: &Summary, open: Option<&str>) -> Markup {
    let id = summary.conversation.id.to_hex();
    let title = summary.conversation.title();
    let current = open == Some(id.as_str());
    html! {
        li data-name=(format!("{} {title}", summary.peer_name.as_deref().unwrap_or_default()).trim_start().to_lowercase()) {
            a class="conversation" href={ "/c/" (id) } aria-current=[current.then_some("page")] {
                span class="name" {
                    @if let Some(name) = &summary.peer_name { span class="display-name" { (name) } " " }
                    (title)
                }
                @if let Some(last) = &summary.last {
                    time datetime=(instant(last.stored_at)) class="when" { (instant(last.stored_at)) }
                    span class="last" data-expires=[last.expires_at] {
                        @if last.outgoing { "You: " }
                        @else if !summary.conversation.direct { "@" (last.sender) ": " }
                        @if last.deleted { "Message deleted" }
                        // Only a file's message has no text: its caption was left empty.
                        @else if last.text.is_empty() { "📎 File" }
                        @else { (message_actions::preview(&last.text)) }
                    }
                } @else {
                    span class="last empty" { "No messages yet" }
                }
                @if summary.unread > 0 {
                    span class="unread" aria-label={ (summary.unread) " unread" } { (summary.unread) }
                }
                @if !summary.conversation.active {
                    span class="left" { "(left)" }
                }
            }
        }
    }
}

/// The conversation list (the `ul` the script refreshes).
pub fn list(summaries: &[Summary], open: Option<&str>) -> Markup {
    html! {
        @if summaries.is_empty() {
            p class="hint" { "No conversations yet. Start one with New chat." }
        }
        ul id="conversations" class="conversations" {
            @for summary in summaries { (list_entry(summary, open)) }
        }
    }
}

/// Messages and notices of `conversation` (hex id) in one timeline, ordered as this device
/// stored them.
pub fn timeline(conversation: &str, messages: &[HistoryMessage], notices: &[NoticeLine]) -> Markup {
    let mut items: Vec<(u64, Markup)> = messages
        .iter()
        .map(|m| (m.stored_at, message(conversation, m)))
        .chain(notices.iter().map(|n| (n.stored_at, notice(n))))
        .collect();
    items.sort_by_key(|(at, _)| *at);
    html! { @for (_, item) in items { (item) } }
}

fn state(delivery: &Delivery) -> Markup {
    match delivery {
        Delivery::Queued => html! {
            span class="state queued" data-state="queued" { "Queued: goes out when online" }
        },
        Delivery::Sent => html! { span class="state sent" data-state="sent" { "Sent" } },
        Delivery::Failed(why) => html! {
            span class="state failed" data-state="failed" { "Failed: " (why) }
        },
    }
}

/// One message of the log: the message it answers, its text ("Message deleted" once its
/// author deleted it), its reactions and actions; a received one can be reported.
pub fn message(conversation: &str, m: &HistoryMessage) -> Markup {
    let class = if m.outgoing { "msg out" } else { "msg in" };
    html! {
        div class=(class) id={ "m" (m.local_id) } data-id=(m.local_id) data-at=(m.stored_at) data-rev=(m.rev)
            data-message=[m.message_id.as_deref()] data-expires=[m.expires_at] {
            span class="who" { @if m.outgoing { "You" } @else { (crate::views::profile::who(m)) } }
            @if let Some(quote) = &m.reply { (message_actions::quote(quote)) }
            @if m.deleted {
                p class="text deleted" { "Message deleted" }
            } @else {
                @if let Some(file) = &m.attachment {
                    (crate::views::attachment::shown(conversation, m.local_id, file))
                }
                @if m.attachment.is_none() || !m.text.is_empty() {
                    p class="text" { (m.text) }
                }
            }
            span class="meta" {
                time datetime=(instant(m.sent_at)) { (instant(m.sent_at)) }
                @if m.edited && !m.deleted { " · " span class="edited" { "edited" } }
                @if let Some(at) = m.expires_at {
                    " · " span class="expires" title={ "Disappears at " (instant(at)) } { "⏱ disappears" }
                }
                @if let Some(delivery) = &m.delivery { " · " (state(delivery)) }
                @if let (Some(r), Some(Delivery::Sent)) = (m.receipts, &m.delivery) {
                    @if r.read > 0 {
                        " · " span class="receipt" data-receipt="read" { "Read" @if r.read > 1 { " by " (r.read) } }
                    } @else if r.delivered > 0 {
                        " · " span class="receipt" data-receipt="delivered" { "Delivered" @if r.delivered > 1 { " to " (r.delivered) } }
                    }
                }
            }
            (message_actions::reactions(conversation, m))
            (message_actions::actions(conversation, m,
                (!m.own).then(|| crate::views::report::control(conversation, m))))
        }
    }
}

/// One notice, as a system line (an alert stands out).
pub fn notice(n: &NoticeLine) -> Markup {
    let class = if n.alert {
        "notice alert-line"
    } else {
        "notice"
    };
    html! {
        div class=(class) data-notice=(n.id) data-at=(n.stored_at) {
            @if n.alert { strong { "Alert: " } }
            (n.text)
        }
    }
}

/// Plain words for why the composer is blocked.
pub fn refusal_words(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::NotMember => {
            "You are no longer a member of this conversation: nothing can be sent here."
        }
        Refusal::UntrustedMember => {
            "Sending is blocked: a member of this conversation has a device or key that the key \
             directory does not list, so it may be someone listening in. What you write is \
             held, not sent. Check the members and compare safety codes."
        }
        Refusal::OpenAlert => {
            "Sending is paused: a device appeared on your account that none of your devices \
             added, so someone may be reading your new conversations. Read the alert above; \
             if you do not know the device, remove it in Devices. Then acknowledge the alert."
        }
    }
}

/// Why the composer is closed: the client refuses to send here, or the user blocked the
/// other person of a 1:1 conversation.
#[derive(Clone, Copy, Debug)]
pub enum Closed<'a> {
    Refused(Refusal),
    Blocked(&'a Username),
}

impl Closed<'_> {
    /// The stable code (the page's `data-code`, the error a send gets).
    pub fn code(self) -> &'static str {
        match self {
            Closed::Refused(_) => "sending_refused",
            Closed::Blocked(_) => "blocked",
        }
    }

    /// Plain words for it.
    pub fn words(self) -> String {
        match self {
            Closed::Refused(refusal) => refusal_words(refusal).to_owned(),
            Closed::Blocked(peer) => {
                format!(
                    "You blocked @{peer}: nothing you write goes to them. Unblock them to write again."
                )
            }
        }
    }
}

/// The composer: Enter sends, Shift+Enter adds a line (the script); closed with the
/// reason when nothing can be sent; answering `reply` when one was chosen.
pub fn composer(
    conversation: &str,
    closed: Option<Closed<'_>>,
    draft: &str,
    reply: Option<&HistoryMessage>,
) -> Markup {
    html! {
        form id="composer" class="composer" method="post" action={ "/c/" (conversation) "/send" } {
            @if let Some(closed) = closed {
                p role="alert" class="blocked" data-code=(closed.code()) { (closed.words()) }
            }
            @if let (Some(m), None) = (reply, closed) { (message_actions::replying_to(conversation, m)) }
            textarea id="message" name="text" aria-label="Message" rows="2"
                maxlength=(MAX_TEXT_BYTES) placeholder="Write a message"
                disabled[closed.is_some()] { (draft) }
            button type="submit" disabled[closed.is_some()] { "Send" }
        }
        (crate::views::attachment::attach_form(conversation, closed.is_some()))
    }
}
