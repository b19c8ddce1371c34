//! The server under test: one this run starts (a `pli serve` child process on a fresh data
//! directory, so nothing else shares its memory figure), or one already running.

use crate::BenchError;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Limits for a server started by the bench: generous enough that the load generator, one
/// source address with thousands of devices, is never rate limited. Everything else
/// (durability included) is the default.
const BENCH_CONFIG: &str = r#"
pow_difficulty = 0
registrations_per_hour = 100000000
log = "warn"

[limits]
max_connections = 200000
sends_per_minute = 100000000
claims_per_minute = 100000000
source_per_minute = 1000000000
"#;

pub enum Target {
    Spawned {
        url: String,
        child: Box<Child>,
        _data: tempfile::TempDir,
        pli: std::path::PathBuf,
    },
    /// Running nodes: simulated devices are spread over them in contiguous blocks, so in
    /// `delivery` senders and receivers sit on different nodes, and in `fanout` the sender
    /// and half the group do.
    Remote { urls: Vec<String> },
}

impl Target {
    /// Starts `pli serve` (the binary at `pli`) on a free loopback port and a temporary data
    /// directory, and returns once it is listening.
    pub async fn spawn(pli: &Path) -> Result<Self, BenchError> {
        let data = tempfile::tempdir()?;
        let config = data.path().join("bench.toml");
        std::fs::write(&config, BENCH_CONFIG)?;
        let mut child = Command::new(pli)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(data.path().join("data"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| BenchError::Server("no stderr".into()))?;
        let mut lines = BufReader::new(stderr).lines();
        // The server prints its bound address on its first line, once it is listening.
        let first = lines.next_line().await?.unwrap_or_default();
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .ok_or_else(|| BenchError::Server(format!("did not start: {first}")))?
            .to_owned();
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self::Spawned {
            url,
            child: Box::new(child),
            _data: data,
            pli: pli.to_owned(),
        })
    }

    /// For a server this run started: replaces it with a fresh one, so each scenario starts
    /// from an empty database and a heap no earlier scenario has grown. A running server is
    /// kept as it is.
    pub async fn renew(&mut self) -> Result<(), BenchError> {
        if let Self::Spawned { child, pli, .. } = self {
            let pli = pli.clone();
            child.kill().await?;
            *self = Self::spawn(&pli).await?;
        }
        Ok(())
    }

    /// One running server, or several nodes of one deployment, comma-separated.
    pub fn remote(urls: &str) -> Self {
        Self::Remote {
            urls: urls
                .split(',')
                .map(|url| url.trim().trim_end_matches('/').to_owned())
                .filter(|url| !url.is_empty())
                .collect(),
        }
    }

    /// The server URLs devices connect to (one, unless several nodes were given).
    pub fn urls(&self) -> Vec<String> {
        match self {
            Self::Spawned { url, .. } => vec![url.clone()],
            Self::Remote { urls } => urls.clone(),
        }
    }

    /// The server's resident memory, when it is a process this run started.
    pub fn rss_bytes(&self) -> Option<u64> {
        let Self::Spawned { child, .. } = self else {
            return None;
        };
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}
