//! `pli admin reports`: trust & safety read the abuse reports users filed, each message
//! verified by the server against its franking stamp before it was stored, act on the
//! reported accounts, and decide appeals.

use crate::cmd::admin::credentials::client;
use crate::context::Context;
use pli_proto::abuse::{
    ActionKind, ActionView, AppealDecisionRequest, AppealOutcome, ReasonRequest, ReportView,
    ResolveRequest,
};
use std::path::Path;

#[derive(clap::Subcommand)]
pub(super) enum ReportsCommand {
    /// List the abuse reports users filed, newest first (trust & safety only; logged).
    List,
    /// Show one report: the verified text of each message, its sender and day (logged).
    Show { id: u64 },
    /// Act on a report's account: dismiss the report, warn, suspend (--days) or ban. The
    /// account is told, with the reason, and may appeal once.
    Resolve {
        id: u64,
        #[arg(long, value_parser = parse_kind)]
        action: ActionKind,
        /// For a suspension: how many days.
        #[arg(long)]
        days: Option<u32>,
        /// Why, in words the account is shown.
        #[arg(long)]
        reason: String,
    },
    /// Lift @user's suspension or ban.
    Reinstate {
        user: String,
        #[arg(long)]
        reason: String,
    },
    /// The actions taken on @user, with their appeals.
    Actions { user: String },
    /// Decide the appeal of an action (not the staff member who took it).
    Decide {
        action: u64,
        /// upheld or overturned.
        #[arg(long, value_parser = parse_outcome)]
        outcome: AppealOutcome,
        #[arg(long)]
        reason: String,
    },
}

fn parse_kind(text: &str) -> Result<ActionKind, String> {
    ActionKind::parse(text).ok_or_else(|| "one of dismiss, warn, suspend, ban".to_owned())
}

fn parse_outcome(text: &str) -> Result<AppealOutcome, String> {
    AppealOutcome::parse(text).ok_or_else(|| "upheld or overturned".to_owned())
}

/// Prints an action as the staff see it.
fn print_action(action: &ActionView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(action)?);
        return Ok(());
    }
    let until = match action.until_ms {
        Some(u64::MAX) => " (no end)".to_owned(),
        Some(until) => format!(" until {}", day((until / 86_400_000) as u32)),
        None => String::new(),
    };
    println!(
        "action #{}: {} @{}{until}, by staff #{}: {}",
        action.id, action.kind, action.account, action.staff_id, action.reason
    );
    if let Some(appeal) = &action.appeal {
        let decided = appeal
            .outcome
            .map_or_else(|| "undecided".to_owned(), |o| o.to_string());
        println!("  appeal ({decided}): {}", appeal.text);
    }
    Ok(())
}

pub(super) async fn run(
    context: &Context,
    cred: Option<&Path>,
    command: ReportsCommand,
) -> anyhow::Result<()> {
    let admin = client(context, cred)?;
    match command {
        ReportsCommand::List => {
            let reports: Vec<ReportView> = admin.get("/admin/v1/abuse-reports").await?;
            if context.json {
                println!("{}", serde_json::to_string(&reports)?);
                return Ok(());
            }
            if reports.is_empty() {
                println!("no abuse reports");
            }
            for report in &reports {
                println!(
                    "#{}  @{} reported by @{}  {}  {} message(s)  filed {}",
                    report.id,
                    report.reported,
                    report.reporter,
                    report.reason,
                    report.messages.len(),
                    day(report.filed_day)
                );
            }
        }
        ReportsCommand::Show { id } => {
            let report: ReportView = admin.get(&format!("/admin/v1/abuse-reports/{id}")).await?;
            if context.json {
                println!("{}", serde_json::to_string(&report)?);
                return Ok(());
            }
            println!(
                "report #{}: @{} reported by @{} for {}, filed {}",
                report.id,
                report.reported,
                report.reporter,
                report.reason,
                day(report.filed_day)
            );
            if let Some(note) = &report.note {
                println!("note: {note}");
            }
            println!("verified messages (the server checked each against its franking stamp):");
            for message in &report.messages {
                println!(
                    "  {}  @{} (device {}): {}",
                    day(message.day),
                    report.reported,
                    message.sender_device,
                    message.text
                );
            }
        }
        ReportsCommand::Resolve {
            id,
            action,
            days,
            reason,
        } => {
            let request = ResolveRequest {
                action,
                days,
                reason,
            };
            let taken: ActionView = admin
                .post(&format!("/admin/v1/abuse-reports/{id}/resolve"), &request)
                .await?;
            print_action(&taken, context.json)?;
        }
        ReportsCommand::Reinstate { user, reason } => {
            let user = crate::context::username(&user)?;
            let taken: ActionView = admin
                .post(
                    &format!("/admin/v1/accounts/{user}/reinstate"),
                    &ReasonRequest { reason },
                )
                .await?;
            print_action(&taken, context.json)?;
        }
        ReportsCommand::Actions { user } => {
            let user = crate::context::username(&user)?;
            let actions: Vec<ActionView> = admin
                .get(&format!("/admin/v1/accounts/{user}/actions"))
                .await?;
            if actions.is_empty() && !context.json {
                println!("no actions on @{user}");
            }
            for action in &actions {
                print_action(action, context.json)?;
            }
        }
        ReportsCommand::Decide {
            action,
            outcome,
            reason,
        } => {
            let request = AppealDecisionRequest { outcome, reason };
            let decided: ActionView = admin
                .post(
                    &format!("/admin/v1/actions/{action}/appeal/decide"),
                    &request,
                )
                .await?;
            print_action(&decided, context.json)?;
        }
    }
    Ok(())
}

/// A day number (days since the Unix epoch) as a date, `2026-12-07`.
fn day(day: u32) -> String {
    let date = time::Date::from_julian_day(2_440_588 + day as i32);
    date.map_or_else(|_| format!("day {day}"), |d| d.to_string())
}
