//! `pli account …`: the account itself.

use crate::context::Context;
use anyhow::Context as _;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Delete this account on the server, every device of it. Its devices, keys and queued
    /// messages go at once; the username and account days are kept for the home region's
    /// period (`pli policy`), then erased. This device's local history is left as it is.
    Delete {
        /// Required: the deletion cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Delete { yes } => {
            anyhow::ensure!(yes, "deleting an account cannot be undone: add --yes");
            let client = context.open()?;
            let kept = client.delete_account().await.context("deletion failed")?;
            if context.json {
                println!(
                    "{}",
                    serde_json::json!({ "deleted": client.username(), "facts_kept_days": kept })
                );
            } else if kept == 0 {
                println!("deleted @{}; nothing about it is kept", client.username());
            } else {
                println!(
                    "deleted @{}; its name and account days are kept {kept} days (region policy), then erased",
                    client.username()
                );
            }
            Ok(())
        }
    }
}
