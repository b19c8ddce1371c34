//! `pli bench`: the load generator (`pli-bench`), against a server it starts itself or,
//! with `--server`, one already running. Prints a table, or one JSON object per scenario
//! with `--json`; exits non-zero if any accepted message was lost.

use crate::context::Context;
use anyhow::Context as _;
use pli_bench::{Options, Scenario, SubmitOver, Target};
use std::time::Duration;

#[derive(clap::Args)]
#[command(
    after_help = "Without --server, starts `pli serve` on a temporary data directory \
    with generous rate limits (one source address holds every simulated device) and default \
    durability. Against a running server, its limits apply: raise `[limits]` in its \
    configuration file, or messages will be refused (reported, not lost). Several nodes of \
    one deployment: --server http://node-a,http://node-b spreads the simulated devices over \
    them (senders on the first, receivers on the last)."
)]
pub struct Args {
    /// Scenarios to run, comma-separated: delivery, fanout, idle, kt, attachments [default: all].
    #[arg(long, value_delimiter = ',')]
    scenario: Vec<String>,
    /// Messages in flight per sender [default: delivery runs 1, 64 and 256; fanout 8]; at
    /// most 256 over the socket (the server's limit of unanswered submissions).
    #[arg(long)]
    window: Option<usize>,
    /// Simulated users: delivery pairs them up [32], fanout's group size [1000], idle's
    /// connected devices [10000], kt's users to look up [100].
    #[arg(long)]
    users: Option<usize>,
    /// Messages to send: delivery in all per window [20000], fanout per phase [200]; kt's
    /// lookups [2000].
    #[arg(long)]
    messages: Option<usize>,
    /// Plaintext bytes per message, before MLS encryption [default: 256].
    #[arg(long)]
    size: Option<usize>,
    /// Stop sending after this many seconds; what was accepted is still checked.
    #[arg(long)]
    duration: Option<u64>,
    /// How senders submit: `Submit` frames on their delivery socket, or one
    /// `POST /v1/messages` each.
    #[arg(long, value_enum, default_value = "socket")]
    submit_over: SubmitArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SubmitArg {
    Socket,
    Http,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let scenarios = args
        .scenario
        .iter()
        .map(|name| {
            Scenario::parse(name.trim()).with_context(|| {
                format!("unknown scenario {name:?} (delivery, fanout, idle, kt, attachments)")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = Options {
        scenarios,
        window: args.window,
        users: args.users,
        messages: args.messages,
        size: args.size,
        duration: args.duration.map(Duration::from_secs),
        submit_over: match args.submit_over {
            SubmitArg::Socket => SubmitOver::Socket,
            SubmitArg::Http => SubmitOver::Http,
        },
    };
    let mut target = match &context.options.server {
        Some(urls) => {
            let target = Target::remote(urls);
            anyhow::ensure!(!target.urls().is_empty(), "--server names no URL");
            target
        }
        None => {
            let pli = std::env::current_exe().context("cannot find the pli binary")?;
            Target::spawn(&pli)
                .await
                .context("cannot start a server to test")?
        }
    };
    let bars = indicatif::MultiProgress::new();
    if context.json {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let outcomes = pli_bench::run(&options, &mut target, &bars).await?;
    if context.json {
        for outcome in &outcomes {
            println!("{}", serde_json::to_string(outcome)?);
        }
    } else {
        print!("{}", pli_bench::outcome::table(&outcomes));
    }
    let lost: u64 = outcomes.iter().map(|o| o.lost).sum();
    if lost > 0 {
        anyhow::bail!("{lost} accepted deliveries were lost");
    }
    Ok(())
}
