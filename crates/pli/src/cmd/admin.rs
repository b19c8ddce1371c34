//! `pli admin …`: staff commands. `init` runs on the server host against the data
//! directory; everything else goes through the admin API with a staff credential file.

mod credentials;
mod staff;

use crate::context::Context;
use crate::output;
use anyhow::Context as _;
use credentials::{client, write_private};
use pli_proto::governance::{
    DataCategory, LegalBasis, MoveRequest, MoveResponse, NewRequest, RejectRequest, ReportRequest,
    RequestView, RetentionResponse, StaffAlert,
};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// The staff credential file (written by `admin init` or `admin staff add`).
    #[arg(long, global = true, env = "PLI_STAFF_CRED")]
    cred: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
pub enum DirectoryCommand {
    /// Publish every pending device change now.
    Publish,
}

#[derive(clap::Subcommand)]
enum Command {
    /// On the server host: create the first operator's credential file and print its path.
    Init {
        #[arg(long, env = "PLI_DATA", default_value = crate::cmd::serve::DEFAULT_DATA)]
        data: PathBuf,
        /// The PostgreSQL database the nodes serve, if not SQLite in DATA.
        #[arg(long, env = "PLI_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        #[arg(long, default_value = "operator")]
        name: String,
        /// Where to write the credential [default: DATA/staff-NAME.cred].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Manage staff (operators only): add, list, rotate, role, revoke.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// Lawful requests.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Your alerts (legal reviewers): emergencies whose second review is overdue.
    Alerts,
    /// Print everything the server holds about an account (docs/ARCHITECTURE.md, "The data inventory").
    Inventory { user: String },
    /// Regions (operators only): move an account's data to another region.
    #[command(subcommand)]
    Region(RegionCommand),
    /// Apply every region's retention policy now (operators only; it also runs on its own).
    Retention,
    /// The key directory (operators only): publish pending device changes as an epoch now
    /// (it also publishes on an interval, and when a lookup needs a pending change).
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Produce a transparency report (JSON and HTML) for a quarter or half-year.
    Report {
        #[arg(long)]
        period: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

#[derive(clap::Subcommand)]
enum RegionCommand {
    /// Move all of @user's data to REGION's store, leaving nothing in the old one (logged).
    Move {
        user: String,
        region: pli_proto::Region,
    },
}

#[derive(clap::Args, Clone)]
struct RequestFields {
    #[arg(long)]
    authority: String,
    #[arg(long)]
    country: String,
    #[arg(long, value_parser = parse_basis)]
    basis: LegalBasis,
    #[arg(long)]
    doc_ref: String,
    #[arg(long)]
    doc_sha256: String,
    /// A target account; repeat for several.
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// Data categories, comma-separated: subscriber, devices, ip.
    #[arg(long = "data", required = true, value_delimiter = ',')]
    categories: Vec<String>,
    #[arg(long)]
    nondisclosure_until: Option<String>,
    /// For emergencies: the attested imminent threat.
    #[arg(long)]
    attest: Option<String>,
    #[arg(long)]
    due: Option<String>,
}

#[derive(clap::Subcommand)]
enum RequestCommand {
    /// Enter a request; prints its id.
    New(RequestFields),
    /// Replace a request's content (voids its approvals).
    Edit {
        id: String,
        #[command(flatten)]
        fields: RequestFields,
    },
    Show {
        id: String,
    },
    List,
    Approve {
        id: String,
    },
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Produce the signed disclosure package and write it to FILE.
    Disclose {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    Close {
        id: String,
    },
}

fn parse_basis(text: &str) -> Result<LegalBasis, String> {
    LegalBasis::parse(text).ok_or_else(|| {
        "one of subpoena, court-order, search-warrant, emergency, preservation, mlat".into()
    })
}

impl RequestFields {
    fn into_request(self) -> anyhow::Result<NewRequest> {
        let categories = self
            .categories
            .iter()
            .map(|c| match (c.as_str(), DataCategory::parse(c)) {
                (_, Some(category)) => Ok(category),
                ("content", None) => anyhow::bail!(
                    "content is not a data category: messages are end-to-end encrypted and the server holds none it can read"
                ),
                (other, None) => anyhow::bail!("unknown data category {other:?} (subscriber, devices, ip)"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(NewRequest {
            authority: self.authority,
            country: self.country,
            basis: self.basis,
            doc_ref: self.doc_ref,
            doc_sha256: self.doc_sha256,
            targets: self
                .targets
                .iter()
                .map(|t| crate::context::username(t))
                .collect::<anyhow::Result<_>>()?,
            categories,
            nondisclosure_until: self.nondisclosure_until,
            attestation: self.attest,
            due: self.due,
        })
    }
}

fn show_request(view: &RequestView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(view)?);
    } else {
        let approvals: Vec<String> = view
            .approvals
            .iter()
            .filter(|a| a.request_hash == view.hash)
            .map(|a| a.staff_id.to_string())
            .collect();
        println!("request {} [{}]", view.id, view.state);
        let editors: Vec<String> = view.edited_by.iter().map(u64::to_string).collect();
        println!(
            "  entered by {}{}",
            view.entered_by,
            if editors.is_empty() {
                String::new()
            } else {
                format!(", edited by {}", editors.join(", "))
            }
        );
        println!(
            "  {} ({}), {} {}",
            view.request.authority, view.request.country, view.request.basis, view.request.doc_ref
        );
        let targets: Vec<String> = view
            .request
            .targets
            .iter()
            .map(|t| format!("@{t}"))
            .collect();
        let categories: Vec<&str> = view.request.categories.iter().map(|c| c.as_str()).collect();
        println!(
            "  targets: {}  data: {}",
            targets.join(" "),
            categories.join(",")
        );
        println!(
            "  approvals (current version): {}",
            if approvals.is_empty() {
                "none".into()
            } else {
                approvals.join(", ")
            }
        );
        if let Some(due) = view.second_review_due_ms {
            println!(
                "  second review due {}{}",
                output::timestamp(due),
                if view.overdue { " — OVERDUE" } else { "" }
            );
        }
        if let Some(reason) = &view.rejection_reason {
            println!("  rejected: {reason}");
        }
        if let Some(hash) = &view.package_sha256 {
            println!("  disclosed package sha256 {hash}");
        }
    }
    Ok(())
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let cred = args.cred.as_deref();
    match args.command {
        Command::Init {
            data,
            database_url,
            name,
            out,
        } => {
            let mut config = pli_server::Config::new(&data);
            if let Some(url) = database_url {
                config.database =
                    pli_server::Database::Postgres(pli_server::store::PostgresConfig::new(url));
            }
            let credential = pli_server::init_first_operator(&config, &name).await?;
            let path = out.unwrap_or_else(|| data.join(format!("staff-{name}.cred")));
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            write_private(&path, &serde_json::to_vec_pretty(&credential)?)?;
            println!("{}", path.display());
        }
        Command::Staff(command) => staff::run(context, cred, command).await?,
        Command::Request(command) => request(context, cred, command).await?,
        Command::Alerts => {
            let alerts: Vec<StaffAlert> = client(context, cred)?.get("/admin/v1/alerts").await?;
            for alert in alerts {
                if context.json {
                    println!("{}", serde_json::to_string(&alert)?);
                } else {
                    println!(
                        "{}  {}  request {}{}",
                        output::timestamp(alert.time_ms),
                        alert.kind,
                        alert.request_id,
                        if alert.open { "" } else { " (done)" }
                    );
                }
            }
        }
        Command::Inventory { user } => {
            let user = crate::context::username(&user)?;
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
        }
        Command::Region(RegionCommand::Move { user, region }) => {
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
        }
        Command::Directory(DirectoryCommand::Publish) => {
            let published: pli_proto::kt::PublishResponse = client(context, cred)?
                .post("/admin/v1/directory/publish", &serde_json::json!({}))
                .await?;
            if context.json {
                println!("{}", serde_json::to_string(&published)?);
            } else {
                println!(
                    "key directory at epoch {}: {} user(s) changed in this publication",
                    published.epoch, published.changes
                );
            }
        }
        Command::Retention => {
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
        }
        Command::Report { period, out } => {
            let report: pli_proto::report::Report = client(context, cred)?
                .post("/admin/v1/reports", &ReportRequest { period })
                .await?;
            std::fs::create_dir_all(&out)?;
            let json_path = out.join(format!("report-{}.json", report.period.label));
            let html_path = out.join(format!("report-{}.html", report.period.label));
            std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)?;
            std::fs::write(&html_path, pli_server::governance::report::html(&report))?;
            println!("{}\n{}", json_path.display(), html_path.display());
        }
    }
    Ok(())
}

async fn request(
    context: &Context,
    cred: Option<&Path>,
    command: RequestCommand,
) -> anyhow::Result<()> {
    // Check what was typed before touching the credential or the network.
    let body = match &command {
        RequestCommand::New(fields) | RequestCommand::Edit { fields, .. } => {
            Some(fields.clone().into_request()?)
        }
        _ => None,
    };
    let client = client(context, cred)?;
    let json = context.json;
    match command {
        RequestCommand::New(_) => {
            let view: RequestView = client.post("/admin/v1/requests", &body).await?;
            if json {
                show_request(&view, true)?
            } else {
                println!("{}", view.id)
            }
        }
        RequestCommand::Edit { id, .. } => {
            let view: RequestView = client
                .post(&format!("/admin/v1/requests/{id}/edit"), &body)
                .await?;
            show_request(&view, json)?;
        }
        RequestCommand::Show { id } => show_request(
            &client.get(&format!("/admin/v1/requests/{id}")).await?,
            json,
        )?,
        RequestCommand::List => {
            let views: Vec<RequestView> = client.get("/admin/v1/requests").await?;
            for view in views {
                show_request(&view, json)?;
            }
        }
        RequestCommand::Approve { id } => {
            let view: RequestView = client
                .post(
                    &format!("/admin/v1/requests/{id}/approve"),
                    &serde_json::json!({}),
                )
                .await?;
            show_request(&view, json)?;
        }
        RequestCommand::Reject { id, reason } => {
            let view: RequestView = client
                .post(
                    &format!("/admin/v1/requests/{id}/reject"),
                    &RejectRequest { reason },
                )
                .await?;
            show_request(&view, json)?;
        }
        RequestCommand::Disclose { id, out } => {
            let package: serde_json::Value = client
                .post(
                    &format!("/admin/v1/requests/{id}/disclose"),
                    &serde_json::json!({}),
                )
                .await?;
            write_private(&out, &serde_json::to_vec_pretty(&package)?)?;
            println!("{}", out.display());
        }
        RequestCommand::Close { id } => {
            let view: RequestView = client
                .post(
                    &format!("/admin/v1/requests/{id}/close"),
                    &serde_json::json!({}),
                )
                .await?;
            show_request(&view, json)?;
        }
    }
    Ok(())
}
