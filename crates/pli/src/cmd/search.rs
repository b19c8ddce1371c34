//! `pli search WORDS…`: messages of this device's history holding every word, newest
//! first (the local full-text index; nothing is asked of the server).

use crate::context::Context;
use crate::output::timestamp;

#[derive(clap::Args)]
pub struct Args {
    /// The words to find (all of them; the last also as the start of a word).
    #[arg(required = true)]
    words: Vec<String>,
    /// Most messages to show.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=200))]
    limit: u16,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let client = context.open()?;
    let found = client.search(&args.words.join(" "), usize::from(args.limit))?;
    for message in &found {
        if context.json {
            println!(
                "{}",
                serde_json::json!({
                    "conversation": message.conversation,
                    "conversation_title": message.conversation_title,
                    "sender": message.sender,
                    "text": message.text,
                    "sent_at": timestamp(message.sent_at),
                })
            );
        } else {
            println!(
                "{} [{}] @{}: {}",
                timestamp(message.sent_at),
                message.conversation_title,
                message.sender,
                message.text
            );
        }
    }
    if found.is_empty() && !context.json {
        eprintln!("no message holds those words");
    }
    Ok(())
}
