//! An account's data, for operators: what the server holds about it (`pli admin
//! inventory`), where it lives (`pli admin region move`) and how long (`pli admin
//! retention`, each region's retention policy applied now).

use crate::cmd::admin::credentials::client;
use crate::context::Context;
use pli_proto::governance::{MoveRequest, MoveResponse, RetentionResponse};
use std::path::Path;

#[derive(clap::Subcommand)]
pub(super) enum RegionCommand {
    /// Move all of @user's data to REGION's store, leaving nothing in the old one (logged).
    Move {
        user: String,
        region: pli_proto::Region,
    },
}

/// `pli admin inventory @user`: everything the server holds about the account.
pub(super) async fn inventory(
    context: &Context,
    cred: Option<&Path>,
    user: &str,
) -> anyhow::Result<()> {
    let user = crate::context::username(user)?;
    let inventory: serde_json::Value = client(context, cred)?
        .get(&format!("/admin/v1/inventory/{user}"))
        .await?;
    println!(
        "{}",
        if context.json {
            serde_json::to_string(&inventory)?
        } else {
            serde_json::to_string_pretty(&inventory)?
        }
    );
    Ok(())
}

pub(super) async fn run(
    context: &Context,
    cred: Option<&Path>,
    command: RegionCommand,
) -> anyhow::Result<()> {
    let RegionCommand::Move { user, region } = command;
    let user = crate::context::username(&user)?;
    let moved: MoveResponse = client(context, cred)?
        .post(
            &format!("/admin/v1/accounts/{user}/region"),
            &MoveRequest { region },
        )
        .await?;
    if context.json {
        println!("{}", serde_json::to_string(&moved)?);
    } else {
        println!(
            "moved @{user} from {} to {}: {} device(s), {} queued message(s)",
            moved.from, moved.to, moved.devices, moved.queued_messages
        );
    }
    Ok(())
}

/// `pli admin retention`: applies every region's retention policy now.
pub(super) async fn retention(context: &Context, cred: Option<&Path>) -> anyhow::Result<()> {
    let swept: RetentionResponse = client(context, cred)?
        .post("/admin/v1/retention", &serde_json::json!({}))
        .await?;
    if context.json {
        println!("{}", serde_json::to_string(&swept)?);
    } else {
        println!(
            "expired {} queued message copies; kept {} under preservation orders; {} preservation order(s) ended; erased {} deleted account(s)",
            swept.expired_queue_entries,
            swept.held_queue_entries,
            swept.expired_holds,
            swept.erased_accounts
        );
    }
    Ok(())
}
