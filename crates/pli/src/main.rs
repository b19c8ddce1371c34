//! `pli`: the one binary. `pli serve` runs the service; the other commands are a device's
//! client. Each command is a small file in `cmd/` that calls `pli-server` or `pli-client`.

mod cmd;
mod context;
mod output;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
