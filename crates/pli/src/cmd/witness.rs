//! `pli audit witness`: run a witness of a server's audit log until Ctrl-C (or SIGTERM).
//! The first line printed is the witness's key (a vkey) for operators and clients to list.

use crate::context::Context;
use anyhow::Context as _;
use pli_client::audit_state::default_state_path;
use pli_client::witness::{Witness, Witnessed, load_or_create_key};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The witness's Ed25519 key (32 bytes); made, owner-only, if the file does not exist.
    #[arg(long)]
    key: PathBuf,
    /// The witness's name, part of its key (`name+keyid+key`).
    #[arg(long, default_value = "pli-witness")]
    name: String,
    /// Where to keep the newest checkpoint co-signed. Default: beside an auditor's state,
    /// one file per witness key and log.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Seconds between looks at the log.
    #[arg(long, default_value_t = 10)]
    interval: u64,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let server = context
        .options
        .server
        .as_deref()
        .context("this needs --server URL")?;
    let transport =
        pli_client::transport::Transport::new(server, context.options.extra_ca_pem.as_deref())?;
    let key = load_or_create_key(&args.key)?;
    let vkey = pli_proto::witness::WitnessKey::of(&args.name, &key).vkey();
    let state = args
        .state
        .unwrap_or_else(|| default_state_path(&format!("witness {vkey} {server}")));
    let witness = Witness::new(transport, &args.name, key, state);
    // Listening before the first line is printed: whoever stops the witness after reading
    // it gets a clean exit, never the default action of the signal.
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    println!("witness {}", witness.vkey());
    let mut last = None;
    loop {
        match witness.once().await {
            Ok(Witnessed::Cosigned(size)) if last != Some(size) => {
                println!("co-signed the checkpoint of size {size}");
                last = Some(size);
            }
            Ok(_) => {}
            // A changed past is refused and said every round: the witness keeps watching.
            Err(err) => eprintln!("refused to co-sign: {err}"),
        }
        tokio::select! {
            _ = interrupt.recv() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(args.interval.max(1))) => {}
        }
    }
}
