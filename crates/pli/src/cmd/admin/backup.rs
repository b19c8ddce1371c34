//! `pli admin backup` and `pli admin restore`, on the server host: an encrypted online
//! backup of a SQLite deployment's data directory, and its restore into a fresh one (the
//! library is `pli_server::backup`). A passphrase is read from a file or the environment,
//! never from the command line, where `ps` would show it.

use anyhow::Context as _;
use pli_server::backup::{self, Manifest, Protection, Unlock};
use std::path::{Path, PathBuf};

const PASSPHRASE_ENV: &str = "PLI_BACKUP_PASSPHRASE";

#[derive(clap::Args)]
pub(super) struct BackupArgs {
    /// The data directory of the server (it may be running).
    #[arg(long, env = "PLI_DATA", default_value = crate::cmd::serve::DEFAULT_DATA)]
    data: PathBuf,
    /// The backup file to write (never an existing one).
    #[arg(long)]
    out: PathBuf,
    /// Encrypt to the passphrase in this file (its first line) [else: PLI_BACKUP_PASSPHRASE].
    #[arg(long, conflicts_with = "recipient")]
    passphrase_file: Option<PathBuf>,
    /// Encrypt to this age X25519 recipient (age1…) instead of a passphrase.
    #[arg(long)]
    recipient: Option<String>,
}

#[derive(clap::Args)]
pub(super) struct RestoreArgs {
    /// The backup file.
    archive: PathBuf,
    /// Where to restore: an empty or absent directory.
    #[arg(long)]
    data: PathBuf,
    /// The passphrase in this file (its first line) [else: PLI_BACKUP_PASSPHRASE].
    #[arg(long, conflicts_with = "identity")]
    passphrase_file: Option<PathBuf>,
    /// The age identity file, for a backup encrypted to a recipient.
    #[arg(long)]
    identity: Option<PathBuf>,
}

/// The passphrase from `--passphrase-file` or the environment.
fn passphrase(file: Option<&Path>) -> anyhow::Result<String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    std::env::var(PASSPHRASE_ENV).with_context(|| {
        format!("give --passphrase-file FILE or set {PASSPHRASE_ENV} (or --recipient/--identity)")
    })
}

fn summary(manifest: &Manifest, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(manifest)?);
    } else {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(manifest.created_at_ms) * 1_000_000,
        )?
        .format(&time::format_description::well_known::Rfc3339)?;
        println!(
            "{} databases and {} secrets, as of {at}",
            manifest.databases(),
            manifest.secrets()
        );
    }
    Ok(())
}

pub(super) async fn backup(args: BackupArgs, json: bool) -> anyhow::Result<()> {
    let protection = match &args.recipient {
        Some(recipient) => Protection::recipient(recipient)?,
        None => Protection::passphrase(passphrase(args.passphrase_file.as_deref())?)?,
    };
    let (data, out) = (args.data.clone(), args.out.clone());
    let manifest =
        tokio::task::spawn_blocking(move || backup::backup(&data, &out, &protection)).await??;
    summary(&manifest, json)?;
    if !json {
        println!("{}", args.out.display());
    }
    Ok(())
}

pub(super) async fn restore(args: RestoreArgs, json: bool) -> anyhow::Result<()> {
    let passphrase = match &args.identity {
        Some(_) => None,
        None => Some(passphrase(args.passphrase_file.as_deref())?),
    };
    let (archive, data, identity) = (args.archive, args.data.clone(), args.identity);
    // An age identity cannot cross threads, so it is read where it is used.
    let manifest = tokio::task::spawn_blocking(move || {
        let unlock = match identity {
            Some(path) => Unlock::identity_file(&path)?,
            None => Unlock::passphrase(passphrase.unwrap_or_default()),
        };
        backup::restore(&archive, &data, &unlock)
    })
    .await??;
    summary(&manifest, json)?;
    if !json {
        println!(
            "restored into {}: start the server on it with the same regions configured",
            args.data.display()
        );
    }
    Ok(())
}
