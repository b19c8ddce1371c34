//! How events and records are printed: a readable line for people, one JSON object per
//! line for scripts (`--json`).

use pli_client::Event;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn timestamp(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn event(event: &Event, as_json: bool) -> String {
    match event {
        Event::Message {
            conversation,
            conversation_title,
            sender,
            text,
            sent_at,
            id,
        } => {
            if as_json {
                json!({
                    "type": "message",
                    "conversation": conversation,
                    "conversation_title": conversation_title,
                    "sender": sender,
                    "text": text,
                    "sent_at": timestamp(*sent_at),
                    "id": id,
                })
                .to_string()
            } else {
                format!("[{conversation_title}] @{sender}: {text}")
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
