//! `pli audit …`: checks anyone can run against a server's public audit log, with no
//! account: verify the log and its signed checkpoints, export it, confirm a report, and
//! verify the key directory's append-only history (with `--mine`, also this device's own
//! account's key history, which only its owner can ask for and judge).

use crate::context::Context;
use anyhow::Context as _;
use pli_client::admin::{AdminClient, LogExport};
use pli_client::audit_state::{SeenCheckpoint, default_state_path, load_state, save_state};
use pli_proto::checkpoint::Checkpoint;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Verify the audit log against its signed checkpoints; names the first bad entry.
    Verify {
        /// Verify an export (from `pli audit export`) instead of a server.
        #[arg(long)]
        log: Option<PathBuf>,
        /// The log key (base64) you expect; refuses a log signed by another.
        #[arg(long)]
        key: Option<String>,
        /// Where to keep the newest checkpoint verified, which the next run requires the
        /// log to extend (a rewritten or cut-back log fails). Default: one file per log key
        /// under `$XDG_DATA_HOME/pli/audit/` (or `~/.local/share/pli/audit/`).
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Download the log, its checkpoints and its key into one file.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify the key directory's history: every signed root, and each epoch growing
    /// append-only from the one before.
    Kt {
        /// The first epoch (default 0).
        #[arg(long)]
        from: Option<u64>,
        /// The last epoch (default: the newest).
        #[arg(long)]
        to: Option<u64>,
        /// The directory signing key (base64) you expect; refuses another.
        #[arg(long)]
        key: Option<String>,
        /// Also verify your own account's key history (needs this device's home; the
        /// server defaults to the home's): fails if it does not verify, or if it lists a
        /// device key none of your devices added.
        #[arg(long)]
        mine: bool,
    },
    /// Run a witness: co-sign each new checkpoint that extends the one this witness kept,
    /// and hand the cosignature to the server; refuse (and say so) a log that changed its
    /// past. Runs until Ctrl-C or SIGTERM.
    Witness(super::witness::Args),
    /// On this device (`--home`): keep only audit checkpoints this witness co-signed (its
    /// key as `pli audit witness` prints it). Every listed witness is required.
    RequireWitness { vkey: String },
    /// Recompute a published transparency report from the log; confirm or refute it.
    Report {
        #[arg(long)]
        report: PathBuf,
        #[arg(long)]
        key: Option<String>,
    },
}

async fn fetch(context: &Context) -> anyhow::Result<LogExport> {
    let server = context
        .options
        .server
        .as_deref()
        .context("this needs --server URL")?;
    let client = AdminClient::new(server, None, context.options.extra_ca_pem.as_deref())?;
    Ok(client.export_log().await?)
}

pub async fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Verify { log, key, state } => {
            let export = match log {
                Some(path) => serde_json::from_slice(
                    &std::fs::read(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )
                .context("not an audit log export")?,
                None => fetch(context).await?,
            };
            let verified = export.verify(key.as_deref())?;
            let state = state.unwrap_or_else(|| default_state_path(&export.key.public_key));
            if let Some(seen) = load_state(&state)? {
                seen.extended_by_log(&export.key.public_key, &export.entries, verified.size)
                    .with_context(|| {
                        format!(
                            "the log does not extend the one kept in {}",
                            state.display()
                        )
                    })?;
            }
            let newest = Checkpoint {
                origin: export.key.name.clone(),
                size: verified.size,
                root: verified.root,
            };
            save_state(
                &state,
                &SeenCheckpoint::new(&newest, &export.key.public_key),
            )?;
            if context.json {
                println!(
                    "{}",
                    serde_json::json!({ "verified": true, "size": verified.size, "root": hex::encode(verified.root), "key": export.key.public_key, "unsigned_tail": verified.unsigned_tail })
                );
            } else {
                println!(
                    "verified: {} entries, root {}, signed by {} ({})",
                    verified.size,
                    hex::encode(verified.root),
                    export.key.name,
                    export.key.public_key
                );
            }
        }
        Command::Witness(args) => super::witness::run(context, args).await?,
        Command::RequireWitness { vkey } => {
            context.open()?.require_witness(&vkey)?;
            println!("required: audit checkpoints this device keeps need {vkey}'s cosignature");
        }
        Command::Export { out } => {
            let export = fetch(context).await?;
            std::fs::write(&out, serde_json::to_vec_pretty(&export)?)?;
            println!("{}", out.display());
        }
        Command::Kt {
            from,
            to,
            key,
            mine,
        } => audit_kt(context, from, to, key.as_deref(), mine).await?,
        Command::Report { report, key } => {
            let text = std::fs::read(&report)
                .with_context(|| format!("cannot read {}", report.display()))?;
            let report: pli_proto::report::Report =
                serde_json::from_slice(&text).context("not a transparency report")?;
            let export = fetch(context).await?;
            export.check_report(&report, key.as_deref())?;
            println!(
                "confirmed: report {} matches the audit log at size {}",
                report.period.label, report.log_size
            );
        }
    }
    Ok(())
}

/// `pli audit kt`'s answer with `--json`.
#[derive(serde::Serialize)]
struct KtAudit<'a> {
    #[serde(flatten)]
    directory: &'a pli_client::kt::audit::DirectoryAudit,
    /// With `--mine`: what the account's own key history holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    own_keys: Option<&'a pli_client::kt::monitor::OwnKeys>,
}

async fn audit_kt(
    context: &Context,
    from: Option<u64>,
    to: Option<u64>,
    key: Option<&str>,
    mine: bool,
) -> anyhow::Result<()> {
    let mut client = mine.then(|| context.open()).transpose()?;
    let server = match (&context.options.server, &client) {
        (Some(server), _) => server.clone(),
        (None, Some(client)) => client.server().to_owned(),
        (None, None) => anyhow::bail!("this needs --server URL (or --mine on a registered home)"),
    };
    let transport =
        pli_client::transport::Transport::new(&server, context.options.extra_ca_pem.as_deref())?;
    let directory = pli_client::kt::audit::audit_directory(&transport, from, to, key).await?;
    let own_keys = match &mut client {
        Some(client) => Some(
            client
                .audit_own_keys()
                .await
                .context("your own key history failed its check")?,
        ),
        None => None,
    };
    if context.json {
        let answer = KtAudit {
            directory: &directory,
            own_keys: own_keys.as_ref(),
        };
        println!("{}", serde_json::to_string(&answer)?);
    } else {
        println!(
            "verified: key directory {} grew append-only from epoch {} to {}, root {}, signed by {}",
            directory.origin, directory.from, directory.to, directory.root, directory.key
        );
        if let Some(own) = &own_keys {
            println!(
                "verified: your key history at epoch {}: {} version(s) ({} forgotten, of an earlier account with this name), {} device(s) listed now",
                own.epoch, own.versions, own.forgotten, own.devices
            );
        }
    }
    let Some(own) = own_keys else {
        return Ok(());
    };
    if !own.unexplained.is_empty() {
        let devices: Vec<String> = own.unexplained.iter().map(|d| d.to_string()).collect();
        anyhow::bail!(
            "your key history lists device keys none of your devices added: device(s) {}",
            devices.join(", ")
        );
    }
    if !own.ended.is_empty() {
        anyhow::bail!(
            "your key history shows your account as deleted and created again since this device last checked"
        );
    }
    Ok(())
}
