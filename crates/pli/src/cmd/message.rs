//! `pli react`, `pli edit`, `pli delete` and `pli history`: changing messages already sent,
//! and reading a conversation's history with the ids that name its messages.

use super::send::target;
use crate::context::Context;
use crate::output::{history_json, history_text, short, timestamp};
use pli_client::SendStatus;

#[derive(clap::Args)]
pub struct ReactArgs {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// The message: its id as `pli history` shows it (`#1a2b3c4d`).
    message: String,
    /// The emoji. Leave it out with `--remove` to take your reaction back.
    reaction: Option<String>,
    /// Take your reaction to the message back.
    #[arg(long, conflicts_with = "reaction")]
    remove: bool,
}

#[derive(clap::Args)]
pub struct EditArgs {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// The message, one you sent: its id as `pli history` shows it.
    message: String,
    /// Its new text.
    text: String,
}

#[derive(clap::Args)]
pub struct DeleteArgs {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// The message, one you sent: its id as `pli history` shows it.
    message: String,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// How many of the newest messages to show.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=500))]
    limit: u16,
}

#[derive(clap::Args)]
pub struct TypingArgs {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// Say you stopped typing instead.
    #[arg(long)]
    stopped: bool,
}

/// Tells the conversation's members connected now that you are typing (or stopped).
pub async fn typing(context: &Context, args: TypingArgs) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let conversation = target(&mut client, &args.target).await?;
    let sent = client.send_typing(&conversation, !args.stopped).await?;
    if context.json {
        println!(
            "{}",
            serde_json::json!({ "conversation": conversation, "sent": sent })
        );
    } else if sent {
        println!(
            "told whoever is connected in {}",
            &conversation.to_hex()[..12]
        );
    } else {
        println!(
            "not sent: this conversation is too large for typing indicators, or nobody else is in it"
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ReceiptsArgs {
    /// Turn them `on` or `off`; leave out to show whether they are on.
    #[arg(value_parser = ["on", "off"])]
    state: Option<String>,
    /// Only in this conversation (`@user` or a conversation), overriding the account's
    /// choice there.
    #[arg(long, value_name = "TARGET")]
    conversation: Option<String>,
}

/// Shows or changes whether this device sends delivery and read receipts.
pub async fn receipts(context: &Context, args: ReceiptsArgs) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let conversation = match &args.conversation {
        Some(name) => Some(target(&mut client, name).await?),
        None => None,
    };
    if let Some(state) = &args.state {
        client.set_receipts(conversation.as_ref(), state == "on")?;
    }
    let on = client.receipts_enabled(conversation.as_ref())?;
    if context.json {
        println!(
            "{}",
            serde_json::json!({ "conversation": conversation, "receipts": on })
        );
    } else {
        let place = match &conversation {
            Some(id) => format!("in {}", &id.to_hex()[..12]),
            None => "for this account".to_owned(),
        };
        let state = if on { "on" } else { "off" };
        println!("receipts are {state} {place}");
    }
    Ok(())
}

/// Which change `change` makes.
pub enum Change {
    React(ReactArgs),
    Edit(EditArgs),
    Delete(DeleteArgs),
}

pub async fn change(context: &Context, change: Change) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let (conversation_target, message) = match &change {
        Change::React(args) => (&args.target, &args.message),
        Change::Edit(args) => (&args.target, &args.message),
        Change::Delete(args) => (&args.target, &args.message),
    };
    let conversation = target(&mut client, conversation_target).await?;
    let to = client.find_message(&conversation, message)?;
    let (status, done) = match &change {
        Change::React(args) => {
            let reaction = match (&args.reaction, args.remove) {
                (Some(reaction), false) => reaction.as_str(),
                (None, true) => "",
                _ => anyhow::bail!("name an emoji, or take your reaction back with --remove"),
            };
            let done = if reaction.is_empty() {
                "reaction taken back"
            } else {
                "reacted"
            };
            (client.react(&conversation, &to, reaction).await?, done)
        }
        Change::Edit(args) => (
            client.edit_message(&conversation, &to, &args.text).await?,
            "edited",
        ),
        Change::Delete(_) => (
            client.delete_for_everyone(&conversation, &to).await?,
            "deleted for everyone",
        ),
    };
    let status_word = match status {
        SendStatus::Sent => "sent",
        SendStatus::Queued => "queued",
    };
    if context.json {
        println!(
            "{}",
            serde_json::json!({ "conversation": conversation, "message_id": to, "status": status_word })
        );
    } else if status == SendStatus::Queued {
        println!(
            "#{}: {done} here; the others learn at the next sync",
            short(&to)
        );
    } else {
        println!("#{}: {done}", short(&to));
    }
    Ok(())
}

pub async fn history(context: &Context, args: HistoryArgs) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let conversation = target(&mut client, &args.target).await?;
    let page = client.history_page(&conversation, None, usize::from(args.limit))?;
    for message in &page {
        if context.json {
            println!("{}", history_json(message));
            continue;
        }
        let id = message
            .message_id
            .as_deref()
            .map(|id| format!("#{}", short(id)))
            .unwrap_or_else(|| "#--------".to_owned());
        let who = if message.outgoing {
            "you".to_owned()
        } else {
            format!("@{}", message.sender)
        };
        if let Some(quote) = &message.reply {
            let quoted = match (&quote.original, quote.deleted) {
                (_, true) => "message deleted".to_owned(),
                (Some((sender, text)), false) => format!("@{sender}: {}", first_line(text)),
                (None, false) => "a message not on this device".to_owned(),
            };
            println!("{id}   ↪ #{} {quoted}", short(&quote.message_id));
        }
        println!(
            "{id} {} {who}: {}",
            timestamp(message.sent_at),
            history_text(message)
        );
    }
    Ok(())
}

/// A quoted text's first line, cut at 60 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}
