//! `pli serve`: configuration from a TOML file, then environment variables, then flags
//! (each overriding the one before), and the server until Ctrl-C or SIGTERM.

use anyhow::Context as _;
use pli_server::config::file::{FileConfig, Overrides, parse_proxy};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tracing_subscriber::EnvFilter;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA: &str = "pli-data";

#[derive(clap::Args)]
pub struct Args {
    /// A TOML configuration file: keys as the flags below, with underscores, except
    /// `[database] url`, `[regions.NAME]` tables and the lists `trusted_proxies` and
    /// `witnesses`; also `max_queue_depth`, `report_bands` and `[limits]` (README, "Running
    /// the server").
    #[arg(long, env = "PLI_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory: the SQLite database and the server's key [default: pli-data].
    #[arg(long, env = "PLI_DATA")]
    data: Option<PathBuf>,
    /// Use PostgreSQL instead of SQLite (postgres://user:password@host/db). Several nodes
    /// may serve one database. Prefer the environment or the config file for a password:
    /// flags are visible to other local users.
    #[arg(long, env = "PLI_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PLI_LISTEN")]
    listen: Option<SocketAddr>,
    /// Serve the admin API on this address instead of the public one.
    #[arg(long, env = "PLI_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    /// Serve Prometheus metrics (`/metrics`, nothing else) on this address too; they are
    /// always on the admin listener, never on the public one.
    #[arg(long, env = "PLI_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// The audit log's name in its signed checkpoints [default: pli.local/audit].
    #[arg(long, env = "PLI_LOG_ORIGIN")]
    log_origin: Option<String>,
    /// PEM certificate chain; with --tls-key, serves HTTPS.
    #[arg(long, env = "PLI_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    #[arg(long, env = "PLI_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, env = "PLI_ALLOW_PLAIN_HTTP")]
    allow_plain_http: bool,
    /// Registration proof-of-work difficulty in bits [default: 20].
    #[arg(long, env = "PLI_POW_DIFFICULTY")]
    pow_difficulty: Option<u8>,
    /// Registrations allowed per source address per hour [default: 20].
    #[arg(long, env = "PLI_REGISTRATIONS_PER_HOUR")]
    registrations_per_hour: Option<u32>,
    /// Log filter (tracing syntax) [default: info].
    #[arg(long, env = "PLI_LOG")]
    log: Option<String>,
    /// Log lines on stderr: `text` for people, `json` for collectors (one object a line)
    /// [default: text].
    #[arg(long, env = "PLI_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Define a region with the default policy (repeatable; e.g. --region eu --region us).
    /// Each region's data lives in its own store: regions/NAME/pli.db under the data
    /// directory. Without regions, one implicit region `default` shares the main database.
    #[arg(long = "region", value_name = "NAME")]
    regions: Vec<pli_proto::Region>,
    /// The region of accounts that name none [default: the first region].
    #[arg(long, env = "PLI_DEFAULT_REGION")]
    default_region: Option<pli_proto::Region>,
    /// Seconds between key directory epochs, each publishing every device change since the
    /// last (a lookup of a changed user, or `pli admin directory publish`, publishes at
    /// once) [default: 5].
    #[arg(long, env = "PLI_KT_PUBLISH_INTERVAL")]
    kt_publish_interval: Option<u64>,
    /// A proxy (address or CIDR network, repeatable) whose `X-Forwarded-For` names the
    /// client; from any other peer the header is ignored [default: none].
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_proxy)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// A witness (its key as `pli audit witness` prints it, repeatable) whose cosignatures
    /// of audit checkpoints the server keeps and serves [default: none].
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
}

/// How `pli serve` writes its log lines (and the lines that announce its addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// tracing's human format; coloured only when stderr is a terminal.
    Text,
    /// One JSON object a line, the event's fields at the top level.
    Json,
}

impl LogFormat {
    /// The format the configuration file names (`log_format = "json"`).
    fn from_file(text: &str) -> anyhow::Result<Self> {
        <Self as clap::ValueEnum>::from_str(text, false).map_err(|_| {
            anyhow::anyhow!("configuration file: log_format {text:?} is neither text nor json")
        })
    }

    /// Installs the process's log subscriber: `filter` (tracing syntax), to stderr.
    fn init(self, filter: &str) -> anyhow::Result<()> {
        use std::io::IsTerminal as _;
        let filter = EnvFilter::try_new(filter).context("invalid log filter")?;
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        match self {
            Self::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
            Self::Json => builder.json().flatten_event(true).init(),
        }
        Ok(())
    }

    /// Prints a line that is not a log event (the addresses served, whatever the filter):
    /// as is, or in JSON as an INFO event of this module would be.
    fn announce(self, message: &str) {
        match self {
            Self::Text => eprintln!("{message}"),
            Self::Json => {
                let timestamp = time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                // In the order tracing's JSON lines have.
                #[derive(serde::Serialize)]
                struct Line<'a> {
                    timestamp: &'a str,
                    level: &'a str,
                    message: &'a str,
                    target: &'a str,
                }
                let line = Line {
                    timestamp: &timestamp,
                    level: "INFO",
                    message,
                    target: module_path!(),
                };
                match serde_json::to_string(&line) {
                    Ok(line) => eprintln!("{line}"),
                    Err(_) => eprintln!("{message}"),
                }
            }
        }
    }
}

impl Args {
    /// What the command line sets over the file (the rest is the binary's own).
    fn overrides(self) -> Overrides {
        Overrides {
            data: self.data,
            database_url: self.database_url,
            log_origin: self.log_origin,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            allow_plain_http: self.allow_plain_http,
            pow_difficulty: self.pow_difficulty,
            registrations_per_hour: self.registrations_per_hour,
            regions: self.regions,
            default_region: self.default_region,
            kt_publish_interval: self.kt_publish_interval,
            trusted_proxies: self.trusted_proxies,
            witnesses: self.witnesses,
        }
    }
}

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let mut file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            FileConfig::from_toml(&text)
                .with_context(|| format!("invalid configuration in {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let filter = args
        .log
        .take()
        .or(file.log.take())
        .unwrap_or_else(|| "info".into());
    let log_format = match (args.log_format, file.log_format.take()) {
        (Some(format), _) => format,
        (None, Some(text)) => LogFormat::from_file(&text)?,
        (None, None) => LogFormat::Text,
    };
    log_format.init(&filter)?;
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("the default address parses"));
    let admin_listen = args.admin_listen.or(file.admin_listen);
    let metrics_listen = args.metrics_listen.or(file.metrics_listen);
    let config = file.resolve(args.overrides(), Path::new(DEFAULT_DATA))?;
    let admin = bind_optional(admin_listen).await?;
    let metrics = bind_optional(metrics_listen).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut storage = match &config.database {
        pli_server::Database::Sqlite => format!("data in {}", config.data_dir.display()),
        pli_server::Database::Postgres(_) => "data in PostgreSQL".to_owned(),
    };
    if !config.regions.is_empty() {
        let names: Vec<&str> = config.regions.iter().map(|r| r.name.as_str()).collect();
        storage.push_str(&format!("; regions {}", names.join(", ")));
    }
    log_format.announce(&format!(
        "pli serving on {scheme}://{} ({storage})",
        listener.local_addr().context("listener address")?,
    ));
    if let Some(admin) = &admin {
        log_format.announce(&format!(
            "pli admin API on {scheme}://{}",
            admin.local_addr().context("admin address")?
        ));
    }
    if let Some(metrics) = &metrics {
        log_format.announce(&format!(
            "pli metrics on {scheme}://{}/metrics",
            metrics.local_addr().context("metrics address")?
        ));
    }
    // The staff console goes with the admin API: on its listener when it has one.
    let console = match &admin {
        Some(admin) => admin.local_addr().context("admin address")?,
        None => listener.local_addr().context("listener address")?,
    };
    log_format.announce(&format!(
        "pli staff console on {scheme}://{console}/console"
    ));
    let listeners = pli_server::Listeners {
        public: listener,
        admin,
        metrics,
    };
    let clock = std::sync::Arc::new(pli_server::clock::SystemClock);
    pli_server::run_clocked(config, clock, listeners, shutdown_signal()).await?;
    Ok(())
}

async fn bind_optional(
    address: Option<SocketAddr>,
) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    match address {
        Some(address) => Ok(Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address}"))?,
        )),
        None => Ok(None),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on unix");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn flags_reach_the_configuration_over_the_file() {
        let serve = Serve::try_parse_from([
            "serve",
            "--pow-difficulty",
            "3",
            "--region",
            "eu",
            "--trusted-proxy",
            "10.0.0.1",
            "--allow-plain-http",
        ])
        .expect("parses");
        let file =
            FileConfig::from_toml("pow_difficulty = 9\nlog_origin = \"f/audit\"\n[regions.us]\n")
                .expect("parses");
        let config = file
            .resolve(serve.args.overrides(), Path::new(DEFAULT_DATA))
            .expect("valid");
        assert_eq!(config.pow_difficulty, 3);
        assert_eq!(config.log_origin, "f/audit");
        assert_eq!(config.data_dir, Path::new(DEFAULT_DATA));
        assert!(config.allow_plain_http);
        let names: Vec<&str> = config.regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["us", "eu"]);
        assert_eq!(config.trusted_proxies[0].to_string(), "10.0.0.1/32");
    }

    #[test]
    fn the_log_format_is_a_flag_or_a_file_key() {
        let serve = Serve::try_parse_from(["serve", "--log-format", "json"]).expect("parses");
        assert_eq!(serve.args.log_format, Some(LogFormat::Json));
        assert!(Serve::try_parse_from(["serve", "--log-format", "xml"]).is_err());
        let mut file = FileConfig::from_toml("log_format = \"json\"\n").expect("parses");
        let named = file.log_format.take().expect("the key is read");
        assert_eq!(
            LogFormat::from_file(&named).expect("valid"),
            LogFormat::Json
        );
        assert_eq!(
            LogFormat::from_file("text").expect("valid"),
            LogFormat::Text
        );
        assert!(LogFormat::from_file("xml").is_err());
    }
}
