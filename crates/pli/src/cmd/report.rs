//! `pli report`, `pli block` and `pli unblock`: reporting received messages verifiably
//! (message franking), and blocking a sender on this device.

use crate::context::Context;
use pli_client::reporting::ReportSelection;
use pli_proto::abuse::ReportReason;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["message", "last"])))]
pub struct Args {
    /// `@user` for your 1:1 chat with them, or a conversation (id, id prefix or name).
    target: String,
    /// A message to report, by the id `pli sync --json` printed; repeat for several.
    #[arg(long, num_args = 1..)]
    message: Vec<u64>,
    /// Report the newest N messages received in the conversation instead.
    #[arg(long)]
    last: Option<usize>,
    /// Why: spam, harassment, illegal or other.
    #[arg(long, value_parser = parse_reason)]
    reason: ReportReason,
    /// Your own words for trust & safety (at most 2,000 bytes).
    #[arg(long)]
    note: Option<String>,
    /// Also block each reported sender on this device.
    #[arg(long)]
    block: bool,
}

fn parse_reason(text: &str) -> Result<ReportReason, String> {
    ReportReason::parse(text).ok_or_else(|| "one of spam, harassment, illegal, other".to_owned())
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let conversation = match args.target.strip_prefix('@') {
        Some(_) => {
            let peer = crate::context::username(&args.target)?;
            client
                .conversations()?
                .into_iter()
                .find(|c| c.direct && c.peer.as_ref() == Some(&peer))
                .ok_or_else(|| anyhow::anyhow!("no 1:1 conversation with @{peer} on this device"))?
                .id
        }
        None => client.find_conversation(&args.target)?.id,
    };
    let selection = match args.last {
        Some(n) => ReportSelection::Last(n),
        None => ReportSelection::Messages(args.message),
    };
    let filed = client
        .report(
            &conversation,
            &selection,
            args.reason,
            args.note.as_deref(),
            args.block,
        )
        .await?;
    for report in &filed {
        if context.json {
            println!(
                "{}",
                serde_json::json!({
                    "id": report.id,
                    "reported": report.reported,
                    "messages": report.messages,
                    "blocked": args.block,
                })
            );
        } else {
            let blocked = if args.block {
                "; blocked on this device"
            } else {
                ""
            };
            println!(
                "reported {} message(s) from @{} (report #{}){blocked}",
                report.messages, report.reported, report.id
            );
        }
    }
    Ok(())
}

/// `pli block @user` (or `unblock`, when `block` is false).
pub fn block(context: &Context, user: &str, block: bool) -> anyhow::Result<()> {
    let client = context.open()?;
    let user = crate::context::username(user)?;
    if block {
        client.block(&user)?;
        println!(
            "blocked @{user} on this device: their messages are dropped, and they are not told"
        );
    } else if client.unblock(&user)? {
        println!("unblocked @{user}");
    } else {
        println!("@{user} was not blocked");
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct AppealArgs {
    /// The action to appeal, by the number its notice gave; omit to list the actions taken
    /// on this account.
    action: Option<u64>,
    /// Your case, for the staff member who will decide.
    text: Option<String>,
}

/// `pli appeal [ACTION TEXT]`: list the trust & safety actions on this account, or appeal one.
pub async fn appeal(context: &Context, args: AppealArgs) -> anyhow::Result<()> {
    let client = context.open()?;
    let Some(id) = args.action else {
        let actions = client.my_actions().await?;
        if actions.is_empty() && !context.json {
            println!("no trust & safety actions on this account");
        }
        for action in actions {
            if context.json {
                println!("{}", serde_json::to_string(&action)?);
            } else {
                let appeal = match &action.appeal {
                    None => "not appealed".to_owned(),
                    Some(a) => a
                        .outcome
                        .map_or_else(|| "appeal pending".to_owned(), |o| format!("appeal {o}")),
                };
                println!(
                    "#{}  {}: {} ({appeal})",
                    action.id, action.kind, action.reason
                );
            }
        }
        return Ok(());
    };
    let text = args
        .text
        .ok_or_else(|| anyhow::anyhow!("say why: pli appeal {id} \"your case\""))?;
    let action = client.appeal(id, &text).await?;
    if context.json {
        println!("{}", serde_json::to_string(&action)?);
    } else {
        println!(
            "appealed action #{}: a staff member other than the one who took it will decide",
            action.id
        );
    }
    Ok(())
}
