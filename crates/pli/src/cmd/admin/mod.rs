//! `pli admin …`: staff commands. `init`, `backup` and `restore` run on the server host
//! against the data directory; everything else goes through the admin API with a staff
//! credential file.
//! This file is the command tree and its dispatch; each group of commands is its own file.

mod abuse;
mod backup;
mod credentials;
mod regions;
mod report;
mod requests;
mod staff;

use crate::context::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The staff credential file (written by `admin init` or `admin staff add`).
    #[arg(long, global = true, env = "PLI_STAFF_CRED")]
    cred: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
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
    Request(requests::RequestCommand),
    /// Your alerts (legal reviewers): emergencies whose second review is overdue.
    Alerts,
    /// Print everything the server holds about an account (docs/ARCHITECTURE.md, "The data inventory").
    Inventory { user: String },
    /// Regions (operators only): move an account's data to another region.
    #[command(subcommand)]
    Region(regions::RegionCommand),
    /// Apply every region's retention policy now (operators only; it also runs on its own).
    Retention,
    /// The key directory (operators only): publish pending device changes as an epoch now
    /// (it also publishes on an interval, and when a lookup needs a pending change).
    #[command(subcommand)]
    Directory(report::DirectoryCommand),
    /// Abuse reports users filed (trust & safety): list them, show one's verified messages.
    #[command(subcommand)]
    Reports(abuse::ReportsCommand),
    /// Produce a transparency report (JSON and HTML) for a quarter or half-year.
    Report {
        #[arg(long)]
        period: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// On the server host: an encrypted backup of the SQLite data directory, taken while
    /// the server runs (PostgreSQL: see the README, "Backups").
    Backup(backup::BackupArgs),
    /// On the server host: restore a backup into an empty or absent data directory.
    Restore(backup::RestoreArgs),
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let cred = args.cred.as_deref();
    match args.command {
        Command::Init {
            data,
            database_url,
            name,
            out,
        } => staff::init(&data, database_url, &name, out).await,
        Command::Staff(command) => staff::run(context, cred, command).await,
        Command::Request(command) => requests::run(context, cred, command).await,
        Command::Alerts => requests::alerts(context, cred).await,
        Command::Inventory { user } => regions::inventory(context, cred, &user).await,
        Command::Region(command) => regions::run(context, cred, command).await,
        Command::Retention => regions::retention(context, cred).await,
        Command::Directory(command) => report::directory(context, cred, command).await,
        Command::Reports(command) => abuse::run(context, cred, command).await,
        Command::Report { period, out } => report::report(context, cred, period, &out).await,
        Command::Backup(args) => backup::backup(args, context.json).await,
        Command::Restore(args) => backup::restore(args, context.json).await,
    }
}
