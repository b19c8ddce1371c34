//! The real `pli` binary: `pli serve` on a free loopback port, `pli admin init`, and any
//! other command, for the tests of the command-line contract.

use super::database::database_for;
use std::path::Path;

/// Starts the real `pli serve` binary on a free loopback port and returns it with its URL,
/// read from the first line it prints (printed once the listener is bound).
pub async fn serve_binary(data: &Path) -> (tokio::process::Child, String) {
    serve_binary_with(data, &[]).await
}

/// [`serve_binary`] with `extra` flags.
pub async fn serve_binary_with(data: &Path, extra: &[&str]) -> (tokio::process::Child, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pli"));
    if let pli_server::Database::Postgres(postgres) = database_for(data) {
        command.env("PLI_DATABASE_URL", postgres.url);
    }
    serve_command(command, data, extra).await
}

/// `pli serve` on embedded SQLite in `data` with `extra` flags, whatever the test
/// database: for contracts that name SQLite files.
pub async fn serve_binary_sqlite(data: &Path, extra: &[&str]) -> (tokio::process::Child, String) {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pli"));
    serve_command(command, data, extra).await
}

async fn serve_command(
    mut command: tokio::process::Command,
    data: &Path,
    extra: &[&str],
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pow-difficulty",
            "4",
            "--log",
            "warn",
            "--data",
        ])
        .arg(data)
        .args(extra)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn pli serve");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines
        .next_line()
        .await
        .expect("read")
        .expect("a first line");
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    // Keep draining stderr so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// `pli admin init` for the server whose data is in `data` (pointed at its database on
/// PostgreSQL): the first operator's credential file, or the command's error.
pub async fn init_operator_cli(data: &Path) -> Result<String, String> {
    let database_url = match database_for(data) {
        pli_server::Database::Postgres(postgres) => Some(postgres.url),
        pli_server::Database::Sqlite => None,
    };
    let env: Vec<(&str, &str)> = database_url
        .iter()
        .map(|url| ("PLI_DATABASE_URL", url.as_str()))
        .collect();
    run_pli(&["admin", "init", "--data", path_str(data)], &env).await
}

/// Runs the `pli` binary with `args` and extra environment; its trimmed stdout, or its
/// stderr when it fails.
pub async fn run_pli(args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_pli"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run pli");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
