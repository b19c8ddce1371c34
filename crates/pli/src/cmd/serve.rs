//! `pli serve`: configuration from a TOML file, then environment variables, then flags
//! (each overriding the one before), and the server until Ctrl-C or SIGTERM.

use anyhow::Context as _;
use pli_server::{Config, TlsConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA: &str = "pli-data";

#[derive(clap::Args)]
pub struct Args {
    /// A TOML configuration file (keys as the flags below, with underscores).
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
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = proxy_net)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// A witness (its key as `pli audit witness` prints it, repeatable) whose cosignatures
    /// of audit checkpoints the server keeps and serves [default: none].
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
}

/// The configuration file's shape.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
    log_origin: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    allow_plain_http: Option<bool>,
    pow_difficulty: Option<u8>,
    registrations_per_hour: Option<u32>,
    max_queue_depth: Option<u64>,
    kt_publish_interval: Option<u64>,
    /// Whether the implicit region (no `[regions]`) publishes small report counts as bands.
    report_bands: Option<bool>,
    log: Option<String>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    database: FileDatabase,
    default_region: Option<pli_proto::Region>,
    /// `[regions.NAME]`: one table per region, in name order.
    #[serde(default)]
    regions: std::collections::BTreeMap<pli_proto::Region, FileRegion>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default)]
    witnesses: Vec<String>,
}

/// A trusted proxy: a network (`10.0.0.0/8`) or one address.
fn proxy_net(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a CIDR network"))
}

/// `[regions.NAME]`: a region's policy and, with PostgreSQL, its own database (README,
/// "Regions").
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileRegion {
    queue_ttl_days: Option<u32>,
    deleted_retention_days: Option<u32>,
    ip_retention_days: Option<u32>,
    recognised_bases: Option<Vec<String>>,
    notes: Option<String>,
    /// Transparency reports show the region's counts below 10 as "0–9" [default: true].
    report_bands: Option<bool>,
    #[serde(default)]
    database: FileDatabase,
}

impl FileRegion {
    fn resolve(self, name: pli_proto::Region) -> anyhow::Result<pli_server::config::RegionConfig> {
        let mut region = pli_server::config::RegionConfig::named(name);
        let policy = &mut region.policy;
        if let Some(days) = self.queue_ttl_days {
            anyhow::ensure!(days > 0, "queue_ttl_days must be at least 1");
            policy.queue_ttl_days = days;
        }
        if let Some(days) = self.deleted_retention_days {
            policy.deleted_retention_days = days;
        }
        policy.ip_retention_days = self.ip_retention_days.filter(|days| *days > 0);
        if let Some(bases) = self.recognised_bases {
            policy.recognised_bases = bases
                .iter()
                .map(|b| {
                    pli_proto::governance::LegalBasis::parse(b)
                        .with_context(|| format!("unknown legal basis {b:?}"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(notes) = self.notes {
            policy.notes = notes;
        }
        if let Some(bands) = self.report_bands {
            policy.report_bands = bands;
        }
        if let pli_server::Database::Postgres(own) = self.database.resolve(None) {
            region.database = Some(own);
        }
        Ok(region)
    }
}

/// `[database]`: PostgreSQL and its connection pool (README, "Running several nodes").
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    max_connections: Option<u32>,
    min_connections: Option<u32>,
    acquire_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    statement_timeout_secs: Option<u64>,
}

impl FileDatabase {
    /// The backend: PostgreSQL when a URL is given (the flag's wins), else SQLite.
    fn resolve(self, flag_url: Option<String>) -> pli_server::Database {
        use std::time::Duration;
        let Some(url) = flag_url.or(self.url) else {
            return pli_server::Database::Sqlite;
        };
        let mut postgres = pli_server::store::PostgresConfig::new(url);
        if let Some(v) = self.max_connections {
            postgres.max_connections = v;
        }
        if let Some(v) = self.min_connections {
            postgres.min_connections = v;
        }
        if let Some(v) = self.acquire_timeout_secs {
            postgres.acquire_timeout = Duration::from_secs(v);
        }
        if let Some(v) = self.idle_timeout_secs {
            postgres.idle_timeout = Duration::from_secs(v);
        }
        if let Some(v) = self.statement_timeout_secs {
            postgres.statement_timeout = Duration::from_secs(v);
        }
        pli_server::Database::Postgres(postgres)
    }
}

/// `[limits]`: the documented limits (README), each optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_connections: Option<usize>,
    handshake_timeout_secs: Option<u64>,
    ws_idle_timeout_secs: Option<u64>,
    ws_send_timeout_secs: Option<u64>,
    ws_max_write_buffer: Option<usize>,
    sends_per_minute: Option<u32>,
    claims_per_minute: Option<u32>,
    source_per_minute: Option<u32>,
}

impl FileLimits {
    fn apply(&self, limits: &mut pli_server::config::Limits) {
        use std::time::Duration;
        let secs = |s: Option<u64>| s.map(Duration::from_secs);
        if let Some(v) = self.max_connections {
            limits.max_connections = v;
        }
        if let Some(v) = secs(self.handshake_timeout_secs) {
            limits.handshake_timeout = v;
        }
        if let Some(v) = secs(self.ws_idle_timeout_secs) {
            limits.ws_idle_timeout = v;
        }
        if let Some(v) = secs(self.ws_send_timeout_secs) {
            limits.ws_send_timeout = v;
        }
        if let Some(v) = self.ws_max_write_buffer {
            limits.ws_max_write_buffer = v;
        }
        if let Some(v) = self.sends_per_minute {
            limits.sends_per_minute = v;
        }
        if let Some(v) = self.claims_per_minute {
            limits.claims_per_minute = v;
        }
        if let Some(v) = self.source_per_minute {
            limits.source_per_minute = v;
        }
    }
}

/// The `[regions.NAME]` tables, in name order, then any `--region` the file lacks (with the
/// default policy).
fn regions(
    tables: std::collections::BTreeMap<pli_proto::Region, FileRegion>,
    flags: Vec<pli_proto::Region>,
) -> anyhow::Result<Vec<pli_server::config::RegionConfig>> {
    let mut regions = Vec::with_capacity(tables.len() + flags.len());
    for (name, table) in tables {
        let region = table
            .resolve(name.clone())
            .with_context(|| format!("invalid [regions.{name}]"))?;
        regions.push(region);
    }
    for name in flags {
        if !regions.iter().any(|r| r.name == name) {
            regions.push(pli_server::config::RegionConfig::named(name));
        }
    }
    Ok(regions)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("invalid configuration in {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let filter = args.log.or(file.log).unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).context("invalid log filter")?)
        .with_writer(std::io::stderr)
        .init();
    let data = args
        .data
        .or(file.data)
        .unwrap_or_else(|| DEFAULT_DATA.into());
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("the default address parses"));
    let mut config = Config::new(data);
    config.database = file.database.resolve(args.database_url);
    config.allow_plain_http = args.allow_plain_http || file.allow_plain_http.unwrap_or(false);
    config.tls = match (
        args.tls_cert.or(file.tls_cert),
        args.tls_key.or(file.tls_key),
    ) {
        (Some(cert_pem), Some(key_pem)) => Some(TlsConfig { cert_pem, key_pem }),
        (None, None) => None,
        _ => anyhow::bail!("TLS needs both a certificate and a key"),
    };
    if let Some(bits) = args.pow_difficulty.or(file.pow_difficulty) {
        config.pow_difficulty = bits;
    }
    if let Some(rate) = args.registrations_per_hour.or(file.registrations_per_hour) {
        config.registrations_per_hour = rate;
    }
    if let Some(depth) = file.max_queue_depth {
        config.max_queue_depth = depth;
    }
    if let Some(bands) = file.report_bands {
        config.report_bands = bands;
    }
    if let Some(secs) = args.kt_publish_interval.or(file.kt_publish_interval) {
        anyhow::ensure!(
            secs > 0,
            "the key directory interval must be at least 1 second"
        );
        config.kt_publish_interval = std::time::Duration::from_secs(secs);
    }
    file.limits.apply(&mut config.limits);
    config.trusted_proxies = file
        .trusted_proxies
        .iter()
        .map(|text| proxy_net(text).map_err(anyhow::Error::msg))
        .chain(args.trusted_proxies.into_iter().map(Ok))
        .collect::<anyhow::Result<_>>()?;
    config.witnesses = file
        .witnesses
        .iter()
        .chain(&args.witnesses)
        .map(|vkey| {
            pli_proto::witness::WitnessKey::parse(vkey)
                .with_context(|| format!("not a witness key: {vkey:?}"))
        })
        .collect::<anyhow::Result<_>>()?;
    config.regions = regions(file.regions, args.regions)?;
    config.default_region = args.default_region.or(file.default_region);
    config.check_regions()?;
    if let Some(origin) = args.log_origin.or(file.log_origin) {
        config.log_origin = origin;
    }
    let admin = match args.admin_listen.or(file.admin_listen) {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address}"))?,
        ),
        None => None,
    };
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
    eprintln!(
        "pli serving on {scheme}://{} ({storage})",
        listener.local_addr().context("listener address")?,
    );
    if let Some(admin) = &admin {
        eprintln!(
            "pli admin API on {scheme}://{}",
            admin.local_addr().context("admin address")?
        );
    }
    pli_server::run_with_admin(config, listener, admin, shutdown_signal()).await?;
    Ok(())
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

    #[test]
    fn the_limits_table_sets_each_limit_and_refuses_unknown_keys() {
        let file: FileConfig = toml::from_str(
            "[limits]\nsends_per_minute = 5\nws_idle_timeout_secs = 7\nmax_connections = 9\n",
        )
        .expect("parses");
        let mut limits = pli_server::config::Limits::default();
        file.limits.apply(&mut limits);
        assert_eq!(limits.sends_per_minute, 5);
        assert_eq!(limits.ws_idle_timeout, std::time::Duration::from_secs(7));
        assert_eq!(limits.max_connections, 9);
        assert_eq!(
            limits.claims_per_minute,
            pli_server::config::Limits::default().claims_per_minute
        );
        assert!(toml::from_str::<FileConfig>("[limits]\nsend_per_minute = 5\n").is_err());
    }

    #[test]
    fn region_tables_set_each_policy_and_their_own_databases() {
        let file: FileConfig = toml::from_str(
            r#"
default_region = "us"
[database]
url = "postgres://pli@db/global"
[regions.eu]
queue_ttl_days = 14
deleted_retention_days = 30
ip_retention_days = 7
recognised_bases = ["court-order", "search-warrant"]
notes = "Operated under the GDPR."
report_bands = false
[regions.eu.database]
url = "postgres://pli@db-eu/pli"
max_connections = 4
[regions.us.database]
url = "postgres://pli@db-us/pli"
"#,
        )
        .expect("parses");
        let mut config = Config::new("/tmp/pli-test");
        config.database = file.database.resolve(None);
        let eu = pli_proto::Region::parse("eu").expect("region");
        config.regions = regions(file.regions, vec![eu.clone()]).expect("regions");
        config.default_region = file.default_region;
        config.check_regions().expect("valid");
        let names: Vec<&str> = config.regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["eu", "us"], "a flag naming a table adds nothing");
        let policy = &config.regions[0].policy;
        assert_eq!(
            (
                policy.queue_ttl_days,
                policy.deleted_retention_days,
                policy.ip_retention_days
            ),
            (14, 30, Some(7))
        );
        assert_eq!(
            policy.recognised_bases,
            [
                pli_proto::governance::LegalBasis::CourtOrder,
                pli_proto::governance::LegalBasis::SearchWarrant
            ]
        );
        assert_eq!(policy.notes, "Operated under the GDPR.");
        assert!(!policy.report_bands && config.regions[1].policy.report_bands);
        let own = config.regions[0]
            .database
            .as_ref()
            .expect("eu's own database");
        assert_eq!(
            (own.url.as_str(), own.max_connections),
            ("postgres://pli@db-eu/pli", 4)
        );
        assert_eq!(config.home_default().as_str(), "us");
        // A region without a database of its own, beside a PostgreSQL global store, is
        // refused: its data would have nowhere to live.
        let ru = pli_proto::Region::parse("ru").expect("region");
        config
            .regions
            .push(pli_server::config::RegionConfig::named(ru));
        assert!(config.check_regions().is_err());
        let bad: FileConfig =
            toml::from_str("[regions.eu]\nrecognised_bases = [\"hearsay\"]\n").expect("parses");
        assert!(
            regions(bad.regions, vec![]).is_err(),
            "an unknown basis is refused"
        );
        assert!(toml::from_str::<FileConfig>("[regions.eu]\nqueue_ttl = 3\n").is_err());
        assert!(
            toml::from_str::<FileConfig>("[regions.EU]\n").is_err(),
            "names are checked"
        );
    }

    #[test]
    fn the_database_table_selects_postgres_and_sizes_its_pool() {
        let file: FileConfig = toml::from_str(
            "[database]\nurl = \"postgres://pli@db/pli\"\nmax_connections = 7\nacquire_timeout_secs = 2\n",
        )
        .expect("parses");
        let pli_server::Database::Postgres(postgres) = file.database.resolve(None) else {
            panic!("a URL selects PostgreSQL");
        };
        assert_eq!(postgres.url, "postgres://pli@db/pli");
        assert_eq!(postgres.max_connections, 7);
        assert_eq!(postgres.acquire_timeout, std::time::Duration::from_secs(2));
        let flag = FileDatabase::default().resolve(Some("postgres://other/x".into()));
        assert!(matches!(flag, pli_server::Database::Postgres(p) if p.url == "postgres://other/x"));
        assert!(matches!(
            FileDatabase::default().resolve(None),
            pli_server::Database::Sqlite
        ));
        assert!(toml::from_str::<FileConfig>("[database]\nmax_conns = 5\n").is_err());
    }
}
