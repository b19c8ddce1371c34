//! `pli app`: this device's pli as a web page in the user's own browser, served on the
//! loopback interface until Ctrl-C or SIGTERM. The first line printed is the URL to open,
//! with its one-time token.

use crate::context::Context;
use anyhow::Context as _;
use std::io::Write as _;
use std::net::SocketAddr;

#[derive(clap::Args)]
pub struct Args {
    /// Where to listen: a loopback address only (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Print the URL but do not open a browser on it.
    #[arg(long)]
    no_open: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    // Listening before the URL is printed: whoever stops the app after reading it gets a
    // clean exit, never the default action of the signal.
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let app = pli_app::App::bind(pli_app::AppOptions {
        home: context.home.clone(),
        listen: args.listen,
        connect: context.options.clone(),
    })
    .await
    .context("cannot start pli app")?;
    let url = app.url();
    println!("{url}");
    std::io::stdout().flush().context("cannot print the URL")?;
    if !args.no_open {
        open_browser(&context.home, &url);
    }
    eprintln!("pli app is running; Ctrl-C stops it.");
    app.serve(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
    .await
    .context("pli app failed")?;
    Ok(())
}

/// Asks the desktop to open `url` in the user's browser, through a launcher file in the
/// home (owner only) that moves on to it: a command line is readable by every local user
/// (`/proc/PID/cmdline`), so the token never goes on one. Says so when it cannot.
fn open_browser(home: &std::path::Path, url: &str) {
    let launcher = home.join("open-app.html");
    let page = format!(
        "<!DOCTYPE html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>pli</title>"
    );
    let written = write_owner_only(&launcher, page.as_bytes());
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let started = written.and_then(|()| {
        std::process::Command::new(opener)
            .arg(&launcher)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    });
    if started.is_err() {
        eprintln!("could not open a browser: open the URL above yourself");
    }
}

fn write_owner_only(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A file left from an earlier run keeps its mode: made owner-only again.
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)
}
