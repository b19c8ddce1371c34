use crate::context::Context;
use anyhow::Context as _;
use pli_client::SendStatus;
use pli_proto::GroupId;
use std::io::Read;

#[derive(clap::Args)]
pub struct Args {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// The message (with `--attach`, its caption, optional); `-` reads it from standard
    /// input.
    text: Option<String>,
    /// Answer this message: its id as `pli history` or `pli sync` shows it (`#1a2b3c4d`).
    #[arg(long, value_name = "ID", conflicts_with = "attach")]
    reply: Option<String>,
    /// Share this file (an image, a voice note, any file up to the server's limit, 100 MiB
    /// by default): encrypted on this device, uploaded in chunks, resumed by `pli sync` if
    /// the network drops.
    #[arg(long, value_name = "FILE")]
    attach: Option<std::path::PathBuf>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let text = match args.text.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            text.strip_suffix('\n').map(str::to_owned).unwrap_or(text)
        }
        Some(text) => text.to_owned(),
        None => String::new(),
    };
    if text.is_empty() && args.attach.is_none() {
        anyhow::bail!("refusing to send an empty message");
    }
    let mut client = context.open()?;
    let conversation = target(&mut client, &args.target).await?;
    let sent = match &args.attach {
        Some(file) => client.send_attachment(&conversation, file, &text).await?,
        None => {
            let reply_to = args
                .reply
                .as_deref()
                .map(|id| client.find_message(&conversation, id))
                .transpose()?;
            client
                .send_reply(&conversation, &text, reply_to.as_deref())
                .await?
        }
    };
    let status = sent.status;
    let status_word = match status {
        SendStatus::Sent => "sent",
        SendStatus::Queued => "queued",
    };
    if context.json {
        println!(
            "{}",
            serde_json::json!({
                "conversation": conversation,
                "status": status_word,
                "message_id": sent.message_id,
            })
        );
    } else if status == SendStatus::Queued {
        println!("queued: the server is unreachable; it will be sent at the next sync");
    } else {
        let named = sent
            .message_id
            .as_deref()
            .map(|id| format!(" as #{}", crate::output::short(id)))
            .unwrap_or_default();
        println!("sent to {}{named}", &conversation.to_hex()[..12]);
    }
    Ok(())
}

/// The conversation `target` names: `@user` (the 1:1 chat, started on first use) or a
/// conversation (id, id prefix or name).
pub async fn target(client: &mut pli_client::Client, target: &str) -> anyhow::Result<GroupId> {
    Ok(match target.strip_prefix('@') {
        Some(_) => {
            client
                .direct_conversation(&crate::context::username(target)?)
                .await?
        }
        None => client.find_conversation(target)?.id,
    })
}
