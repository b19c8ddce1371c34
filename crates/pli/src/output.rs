//! How events and records are printed: a readable line for people, one JSON object per
//! line for scripts (`--json`).

use pli_client::Event;
use pli_client::timeline::HistoryMessage;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn timestamp(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An attachment as `pli sync` lists it: its short id (what `pli attachment save` takes),
/// name and size.
pub fn attachment_line(file: &pli_client::attachments::Attachment) -> String {
    format!(
        "[attachment {}: {}, {}]",
        file.short_id(),
        file.name,
        size(file.size)
    )
}

/// A byte count in the unit people read it in.
pub fn size(bytes: u64) -> String {
    pli_client::attachments::size_words(bytes)
}

pub fn event(event: &Event, as_json: bool) -> String {
    match event {
        Event::Message {
            conversation,
            conversation_title,
            sender,
            sender_name,
            text,
            sent_at,
            id,
            message_id,
            reply_to,
            attachment,
        } => {
            if as_json {
                let mut line = json!({
                    "type": "message",
                    "conversation": conversation,
                    "conversation_title": conversation_title,
                    "sender": sender,
                    "sender_name": sender_name,
                    "text": text,
                    "sent_at": timestamp(*sent_at),
                    "id": id,
                    "message_id": message_id,
                    "reply_to": reply_to,
                });
                if let Some(file) = attachment {
                    line["attachment"] = json!({
                        "id": file.short_id(),
                        "name": file.name,
                        "media_type": file.media_type,
                        "size": file.size,
                    });
                }
                line.to_string()
            } else {
                let shared = attachment
                    .as_ref()
                    .map(|file| format!("{} ", attachment_line(file)))
                    .unwrap_or_default();
                let answers = reply_to
                    .as_deref()
                    .map(|to| format!(" (reply to #{})", short(to)))
                    .unwrap_or_default();
                let named = message_id
                    .as_deref()
                    .map(|id| format!("   #{}", short(id)))
                    .unwrap_or_default();
                let who = match sender_name {
                    Some(name) => format!("{name} (@{sender})"),
                    None => format!("@{sender}"),
                };
                format!("[{conversation_title}] {who}{answers}: {shared}{text}{named}")
            }
        }
        Event::Changed {
            conversation,
            conversation_title,
            message,
        } => {
            if as_json {
                json!({
                    "type": "changed",
                    "conversation": conversation,
                    "conversation_title": conversation_title,
                    "message": history_json(message),
                })
                .to_string()
            } else {
                let id = message.message_id.as_deref().map(short).unwrap_or_default();
                format!(
                    "[{conversation_title}] #{id} @{} is now: {}",
                    message.sender,
                    history_text(message)
                )
            }
        }
        Event::Typing {
            conversation,
            sender,
            typing,
        } => {
            if as_json {
                json!({ "type": "typing", "conversation": conversation, "sender": sender, "typing": typing }).to_string()
            } else {
                let what = if *typing {
                    "is typing…"
                } else {
                    "stopped typing"
                };
                format!("-- [{}] @{sender} {what}", &conversation.to_hex()[..12])
            }
        }
        Event::Notice {
            conversation,
            alert,
            text,
        } => {
            if as_json {
                json!({ "type": "notice", "conversation": conversation, "alert": alert, "text": text }).to_string()
            } else {
                let mark = if *alert { "!!" } else { "--" };
                match conversation {
                    Some(c) => format!("{mark} [{}] {text}", &c.to_hex()[..12]),
                    None => format!("{mark} {text}"),
                }
            }
        }
    }
}

/// The first 8 hex digits of a message id: what a person types to name it.
pub fn short(message_id: &str) -> &str {
    message_id.get(..8).unwrap_or(message_id)
}

/// A history message's text as a line shows it: "message deleted", or the text with
/// "(edited)" and its reactions.
pub fn history_text(message: &HistoryMessage) -> String {
    if message.deleted {
        return "message deleted".to_owned();
    }
    let mut line = match &message.attachment {
        Some(file) if message.text.is_empty() => attachment_line(file),
        Some(file) => format!("{} {}", attachment_line(file), message.text),
        None => message.text.clone(),
    };
    if message.edited {
        line.push_str(" (edited)");
    }
    match message.receipts {
        Some(r) if r.read > 0 => line.push_str(&format!(" · read by {}", r.read)),
        Some(r) if r.delivered > 0 => line.push_str(&format!(" · delivered to {}", r.delivered)),
        _ => {}
    }
    for reaction in &message.reactions {
        line.push_str(&format!(" · {} {}", reaction.reaction, reaction.count));
    }
    line
}

/// A history message as `--json` prints it.
pub fn history_json(message: &HistoryMessage) -> serde_json::Value {
    json!({
        "message_id": message.message_id,
        "sender": message.sender,
        "text": message.text,
        "sent_at": timestamp(message.sent_at),
        "outgoing": message.outgoing,
        "attachment": message.attachment.as_ref().map(|file| json!({
            "id": file.short_id(),
            "name": file.name,
            "media_type": file.media_type,
            "size": file.size,
        })),
        "reply_to": message.reply.as_ref().map(|quote| json!({
            "message_id": quote.message_id,
            "sender": quote.original.as_ref().map(|(sender, _)| sender),
            "text": quote.original.as_ref().map(|(_, text)| text),
            "deleted": quote.deleted,
        })),
        "edited": message.edited,
        "receipts": message.receipts,
        "deleted": message.deleted,
        "reactions": message.reactions.iter().map(|r| json!({
            "reaction": r.reaction, "count": r.count, "mine": r.mine,
        })).collect::<Vec<_>>(),
    })
}
