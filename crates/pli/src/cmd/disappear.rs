//! `pli disappear`: a conversation's disappearing-message timer, shown or set for every
//! member.

use super::send::target;
use crate::context::Context;
use pli_client::SendStatus;
use pli_client::disappearing::{describe, parse_timer};

#[derive(clap::Args)]
pub struct Args {
    /// `@user` for a 1:1 chat, or a conversation (id, id prefix or name).
    target: String,
    /// The timer: 30s, 5m, 1h, 1d, 1w (at most 4w), or `off`. Leave out to show it.
    timer: Option<String>,
}

/// Shows or sets the conversation's timer. Setting it tells every member, and applies to
/// messages written from then on.
pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let conversation = target(&mut client, &args.target).await?;
    let status = match &args.timer {
        Some(timer) => {
            let seconds = parse_timer(timer)?;
            Some(client.set_disappearing(&conversation, seconds).await?)
        }
        None => None,
    };
    let seconds = client.disappearing(&conversation)?;
    if context.json {
        let status = status.map(|s| match s {
            SendStatus::Sent => "sent",
            SendStatus::Queued => "queued",
        });
        println!(
            "{}",
            serde_json::json!({ "conversation": conversation, "seconds": seconds, "status": status })
        );
        return Ok(());
    }
    match seconds {
        Some(seconds) => println!(
            "messages disappear {} after they are sent, on every device",
            describe(seconds)
        ),
        None => println!("disappearing messages are off"),
    }
    if status == Some(SendStatus::Queued) {
        println!("(queued: the other members learn at the next sync)");
    }
    Ok(())
}
