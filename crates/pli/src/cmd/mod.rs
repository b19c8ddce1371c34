//! The command line: global options, the command tree, and dispatch.

mod account;
mod admin;
mod app;
mod attachment;
mod audit;
mod bench;
mod conversations;
mod device;
mod disappear;
mod group;
mod inventory;
mod message;
mod policy;
mod profile;
mod register;
mod report;
mod search;
mod send;
pub(crate) mod serve;
mod sync;
mod verify;
mod witness;

use crate::context::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pli",
    version,
    about = "pli: private messaging, end-to-end encrypted with MLS"
)]
pub struct Cli {
    /// The device's local state (keys, conversations, history).
    #[arg(long, global = true, env = "PLI_HOME")]
    home: Option<PathBuf>,
    /// Print data as JSON (one object per line for streams).
    #[arg(long, global = true)]
    json: bool,
    /// The server URL; overrides the one stored in the home (a device can move between
    /// nodes). Required by `register`. For `admin` commands, the admin API (or set
    /// PLI_ADMIN_URL); for `audit`, the server to check.
    #[arg(long, global = true, env = "PLI_SERVER")]
    server: Option<String>,
    /// A PEM CA certificate to trust in addition to the web PKI (a private deployment).
    #[arg(long, global = true, env = "PLI_CA_CERT")]
    ca_cert: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pli server (embedded SQLite, or PostgreSQL for several nodes).
    Serve(serve::Args),
    /// Open pli in your browser: a local web app on this machine, holding every key here.
    App(app::Args),
    /// Register a username and this device on a server (no phone number, no e-mail).
    Register(register::Args),
    /// The account itself: delete it.
    #[command(subcommand)]
    Account(account::Command),
    /// This account's devices: link a new one, list them, remove one.
    #[command(subcommand)]
    Device(device::Command),
    /// Show each region's data policy in plain words (`--server`, or this device's server).
    Policy,
    /// Show what the server holds about this account: the record staff would see.
    Inventory,
    /// Send a message to @user (a 1:1 chat, started on first use) or to a conversation.
    Send(send::Args),
    /// Your display name and picture (encrypted for the people you talk to), and others'.
    #[command(subcommand)]
    Profile(profile::Command),
    /// Files shared in conversations: save one (`pli sync` lists them with their ids).
    #[command(subcommand)]
    Attachment(attachment::Command),
    /// React to a message with an emoji (or take your reaction back).
    React(message::ReactArgs),
    /// Change the text of a message you sent; everyone sees it marked edited.
    Edit(message::EditArgs),
    /// Delete a message you sent, for everyone: its text goes from every member's device.
    Delete(message::DeleteArgs),
    /// Show a conversation's newest messages, with the ids that name them.
    History(message::HistoryArgs),
    /// Tell the members connected now that you are typing (never stored, never queued).
    Typing(message::TypingArgs),
    /// Show or change whether you send delivery and read receipts (for the account, or one
    /// conversation).
    Receipts(message::ReceiptsArgs),
    /// Show or set a conversation's disappearing-message timer, for every member: each
    /// device then deletes new messages that long after they are sent.
    Disappear(disappear::Args),
    /// Report messages you received to the server's trust & safety, verifiably: each one
    /// carries the proof that its sender sent exactly that text.
    Report(report::Args),
    /// Block @user on this device: their messages are dropped, you cannot write to them,
    /// and they are not told.
    Block { user: String },
    /// Unblock @user.
    Unblock { user: String },
    /// Appeal a trust & safety action on this account (once), or list them.
    Appeal(report::AppealArgs),
    /// Create group conversations and change who is in them.
    #[command(subcommand)]
    Group(group::Command),
    /// List this device's conversations.
    Conversations,
    /// Find messages in this device's history holding every word given.
    Search(search::Args),
    /// Receive, decrypt and print new messages, then send anything queued.
    Sync,
    /// Stay connected and print messages as they arrive (Ctrl-C to stop).
    Listen,
    /// Show the safety code to compare with @user, and the devices the key directory lists.
    Verify(verify::Args),
    /// Staff commands: staff, lawful requests, inventory, transparency reports.
    Admin(admin::Args),
    /// Verify a server's public audit log, transparency reports and key directory (no
    /// account needed).
    #[command(subcommand)]
    Audit(audit::Command),
    /// Load-test a server: simulated devices, real MLS ciphertexts, real WebSockets.
    Bench(bench::Args),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let context = Context::new(
        cli.home.as_deref(),
        cli.json,
        cli.server.clone(),
        cli.ca_cert.as_deref(),
    )?;
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::App(args) => app::run(&context, args).await,
        Command::Register(args) => register::run(&context, args).await,
        Command::Policy => policy::run(&context).await,
        Command::Inventory => inventory::run(&context).await,
        Command::Account(command) => account::run(&context, command).await,
        Command::Device(command) => device::run(&context, command).await,
        Command::Send(args) => send::run(&context, args).await,
        Command::Attachment(command) => attachment::run(&context, command).await,
        Command::Profile(command) => profile::run(&context, command).await,
        Command::React(args) => message::change(&context, message::Change::React(args)).await,
        Command::Edit(args) => message::change(&context, message::Change::Edit(args)).await,
        Command::Delete(args) => message::change(&context, message::Change::Delete(args)).await,
        Command::History(args) => message::history(&context, args).await,
        Command::Typing(args) => message::typing(&context, args).await,
        Command::Receipts(args) => message::receipts(&context, args).await,
        Command::Disappear(args) => disappear::run(&context, args).await,
        Command::Report(args) => report::run(&context, args).await,
        Command::Block { user } => report::block(&context, &user, true),
        Command::Unblock { user } => report::block(&context, &user, false),
        Command::Appeal(args) => report::appeal(&context, args).await,
        Command::Group(command) => group::run(&context, command).await,
        Command::Conversations => conversations::run(&context),
        Command::Search(args) => search::run(&context, args),
        Command::Sync => sync::sync(&context).await,
        Command::Listen => sync::listen(&context).await,
        Command::Admin(args) => admin::run(&context, args).await,
        Command::Verify(args) => verify::run(&context, args).await,
        Command::Audit(command) => audit::run(&context, command).await,
        Command::Bench(args) => bench::run(&context, args).await,
    }
}
