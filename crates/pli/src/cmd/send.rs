use crate::context::Context;
use anyhow::Context as _;
use pli_client::SendStatus;
use std::io::Read;

#[derive(clap::Args)]
pub struct Args {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// The message; `-` reads it from standard input.
    text: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let text = if args.text == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        text.strip_suffix('\n').map(str::to_owned).unwrap_or(text)
    } else {
        args.text
    };
    if text.is_empty() {
        anyhow::bail!("refusing to send an empty message");
    }
    let mut client = context.open()?;
    let conversation = match args.target.strip_prefix('@') {
        Some(_) => {
            client
                .direct_conversation(&crate::context::username(&args.target)?)
                .await?
        }
        None => client.find_conversation(&args.target)?.id,
    };
    let status = client.send_text(&conversation, &text).await?;
    let status_word = match status {
        SendStatus::Sent => "sent",
        SendStatus::Queued => "queued",
    };
    if context.json {
        println!(
            "{}",
            serde_json::json!({ "conversation": conversation, "status": status_word })
        );
    } else if status == SendStatus::Queued {
        println!("queued: the server is unreachable; it will be sent at the next sync");
    } else {
        println!("sent to {}", &conversation.to_hex()[..12]);
    }
    Ok(())
}
