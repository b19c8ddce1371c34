//! The configuration file (`pli serve --config FILE`, README "Running the server"): its TOML
//! shape, [`FileConfig`], and how it becomes a [`Config`]: each setting from the command
//! line when given there (a flag, or its environment variable: [`Overrides`]), else from the
//! file, else its default.

use super::{Config, ConfigError, Database, Limits, RegionConfig, TlsConfig};
use crate::store::PostgresConfig;
use pli_proto::Region;
use pli_proto::governance::LegalBasis;
use pli_proto::witness::{WitnessError, WitnessKey};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file's shape. `listen`, `admin_listen`, `metrics_listen`, `log` and
/// `log_format` are the binary's (where to bind, what to log and how); [`FileConfig::resolve`] makes the rest a
/// [`Config`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
    pub metrics_listen: Option<SocketAddr>,
    pub log_origin: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub allow_plain_http: Option<bool>,
    pub pow_difficulty: Option<u8>,
    pub registrations_per_hour: Option<u32>,
    pub max_queue_depth: Option<u64>,
    pub kt_publish_interval: Option<u64>,
    /// Whether the implicit region (no `[regions]`) publishes small report counts as bands.
    pub report_bands: Option<bool>,
    pub log: Option<String>,
    /// `text` or `json`; the binary checks the value.
    pub log_format: Option<String>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub database: FileDatabase,
    pub default_region: Option<Region>,
    /// `[regions.NAME]`: one table per region, in name order.
    #[serde(default)]
    pub regions: BTreeMap<Region, FileRegion>,
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Attachment bytes in an S3-compatible store; absent: files under the data directory.
    pub blobs: Option<crate::store::blobs::S3Config>,
    #[serde(default)]
    pub witnesses: Vec<String>,
}

/// `[regions.NAME]`: a region's policy and, with PostgreSQL, its own database (README,
/// "Regions").
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileRegion {
    pub queue_ttl_days: Option<u32>,
    pub deleted_retention_days: Option<u32>,
    pub ip_retention_days: Option<u32>,
    pub recognised_bases: Option<Vec<String>>,
    pub notes: Option<String>,
    /// Transparency reports show the region's counts below 10 as "0–9" [default: true].
    pub report_bands: Option<bool>,
    /// Abuse reports about the region's accounts are deleted this many days after they
    /// were filed [default: 365].
    pub report_retention_days: Option<u32>,
    /// The region's own S3-compatible store for attachment bytes (residency).
    pub blobs: Option<crate::store::blobs::S3Config>,
    #[serde(default)]
    pub database: FileDatabase,
}

/// `[database]`: PostgreSQL and its connection pool (README, "Running several nodes").
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileDatabase {
    pub url: Option<String>,
    pub max_connections: Option<u32>,
    pub min_connections: Option<u32>,
    pub acquire_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub statement_timeout_secs: Option<u64>,
}

/// `[limits]`: the documented limits (README), each optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_connections: Option<usize>,
    pub handshake_timeout_secs: Option<u64>,
    pub ws_idle_timeout_secs: Option<u64>,
    pub ws_send_timeout_secs: Option<u64>,
    pub ws_max_write_buffer: Option<usize>,
    pub sends_per_minute: Option<u32>,
    pub claims_per_minute: Option<u32>,
    pub source_per_minute: Option<u32>,
    pub drain_grace_secs: Option<u64>,
    pub max_attachment_bytes: Option<u64>,
    pub attachment_quota_bytes: Option<u64>,
}

/// What the command line sets (a flag, or its environment variable): each overrides the
/// file's setting; the lists add to the file's.
#[derive(Default)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    /// The PostgreSQL URL; the `[database]` table still sizes its pool.
    pub database_url: Option<String>,
    pub log_origin: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// On when set here or in the file.
    pub allow_plain_http: bool,
    pub pow_difficulty: Option<u8>,
    pub registrations_per_hour: Option<u32>,
    /// Regions with the default policy, after the file's tables (a name the file has adds
    /// nothing).
    pub regions: Vec<Region>,
    pub default_region: Option<Region>,
    pub kt_publish_interval: Option<u64>,
    /// After the file's.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// After the file's, in the form `pli audit witness` prints.
    pub witnesses: Vec<String>,
}

/// Why a configuration file, with the command line over it, is refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not TOML, or not the file's shape (an unknown key, a value of the wrong type).
    #[error(transparent)]
    Syntax(#[from] toml::de::Error),
    #[error("TLS needs both a certificate and a key")]
    TlsHalf,
    #[error("the key directory interval must be at least 1 second")]
    KtPublishInterval,
    #[error("{0:?} is not an address or a CIDR network")]
    Proxy(String),
    #[error("not a witness key: {vkey:?}")]
    Witness {
        vkey: String,
        #[source]
        source: WitnessError,
    },
    #[error("invalid [regions.{region}]")]
    Region {
        region: Region,
        #[source]
        source: RegionError,
    },
    /// The regions together do not make a valid configuration ([`Config::check_regions`]).
    #[error(transparent)]
    Regions(#[from] ConfigError),
}

/// Why one `[regions.NAME]` table is refused.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    #[error("queue_ttl_days must be at least 1")]
    QueueTtl,
    #[error("unknown legal basis {0:?}")]
    LegalBasis(String),
}

/// A trusted proxy: a network (`10.0.0.0/8`) or one address.
pub fn parse_proxy(text: &str) -> Result<ipnet::IpNet, FileError> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| FileError::Proxy(text.to_owned()))
}

impl FileConfig {
    /// Reads the file's text; an unknown key anywhere is refused.
    pub fn from_toml(text: &str) -> Result<Self, FileError> {
        Ok(toml::from_str(text)?)
    }

    /// The server configuration: each setting from `overrides` when given, else from the
    /// file, else its default (`default_data` for the data directory). The result has
    /// passed [`Config::check_regions`]; [`Config::check`] needs the listener.
    pub fn resolve(self, overrides: Overrides, default_data: &Path) -> Result<Config, FileError> {
        let data = overrides
            .data
            .or(self.data)
            .unwrap_or_else(|| default_data.to_owned());
        let mut config = Config::new(data);
        config.database = self.database.resolve(overrides.database_url);
        config.allow_plain_http =
            overrides.allow_plain_http || self.allow_plain_http.unwrap_or(false);
        config.tls = match (
            overrides.tls_cert.or(self.tls_cert),
            overrides.tls_key.or(self.tls_key),
        ) {
            (Some(cert_pem), Some(key_pem)) => Some(TlsConfig { cert_pem, key_pem }),
            (None, None) => None,
            _ => return Err(FileError::TlsHalf),
        };
        if let Some(bits) = overrides.pow_difficulty.or(self.pow_difficulty) {
            config.pow_difficulty = bits;
        }
        if let Some(rate) = overrides
            .registrations_per_hour
            .or(self.registrations_per_hour)
        {
            config.registrations_per_hour = rate;
        }
        if let Some(depth) = self.max_queue_depth {
            config.max_queue_depth = depth;
        }
        if let Some(bands) = self.report_bands {
            config.report_bands = bands;
        }
        if let Some(secs) = overrides.kt_publish_interval.or(self.kt_publish_interval) {
            if secs == 0 {
                return Err(FileError::KtPublishInterval);
            }
            config.kt_publish_interval = Duration::from_secs(secs);
        }
        self.limits.apply(&mut config.limits);
        config.trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|text| parse_proxy(text))
            .chain(overrides.trusted_proxies.into_iter().map(Ok))
            .collect::<Result<_, _>>()?;
        config.witnesses = self
            .witnesses
            .iter()
            .chain(&overrides.witnesses)
            .map(|vkey| {
                WitnessKey::parse(vkey).map_err(|source| FileError::Witness {
                    vkey: vkey.clone(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?;
        config.regions = regions(self.regions, overrides.regions)?;
        config.blobs = self.blobs;
        config.default_region = overrides.default_region.or(self.default_region);
        config.check_regions()?;
        if let Some(origin) = overrides.log_origin.or(self.log_origin) {
            config.log_origin = origin;
        }
        Ok(config)
    }
}

impl FileRegion {
    fn resolve(self, name: Region) -> Result<RegionConfig, RegionError> {
        let mut region = RegionConfig::named(name);
        let policy = &mut region.policy;
        if let Some(days) = self.queue_ttl_days {
            if days == 0 {
                return Err(RegionError::QueueTtl);
            }
            policy.queue_ttl_days = days;
        }
        if let Some(days) = self.deleted_retention_days {
            policy.deleted_retention_days = days;
        }
        policy.ip_retention_days = self.ip_retention_days.filter(|days| *days > 0);
        if let Some(bases) = self.recognised_bases {
            policy.recognised_bases = bases
                .iter()
                .map(|b| LegalBasis::parse(b).ok_or_else(|| RegionError::LegalBasis(b.clone())))
                .collect::<Result<_, _>>()?;
        }
        if let Some(notes) = self.notes {
            policy.notes = notes;
        }
        if let Some(bands) = self.report_bands {
            policy.report_bands = bands;
        }
        if let Some(days) = self.report_retention_days {
            policy.report_retention_days = days;
        }
        if let Database::Postgres(own) = self.database.resolve(None) {
            region.database = Some(own);
        }
        region.blobs = self.blobs;
        Ok(region)
    }
}

impl FileDatabase {
    /// The backend: PostgreSQL when a URL is given (the flag's wins), else SQLite.
    fn resolve(self, flag_url: Option<String>) -> Database {
        let Some(url) = flag_url.or(self.url) else {
            return Database::Sqlite;
        };
        let mut postgres = PostgresConfig::new(url);
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
        Database::Postgres(postgres)
    }
}

impl FileLimits {
    fn apply(&self, limits: &mut Limits) {
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
        if let Some(v) = secs(self.drain_grace_secs) {
            limits.drain_grace = v;
        }
        if let Some(v) = self.max_attachment_bytes {
            limits.max_attachment_bytes = v;
        }
        if let Some(v) = self.attachment_quota_bytes {
            limits.attachment_quota_bytes = v;
        }
    }
}

/// The `[regions.NAME]` tables, in name order, then any `--region` the file lacks (with the
/// default policy).
fn regions(
    tables: BTreeMap<Region, FileRegion>,
    flags: Vec<Region>,
) -> Result<Vec<RegionConfig>, FileError> {
    let mut regions = Vec::with_capacity(tables.len() + flags.len());
    for (name, table) in tables {
        let region = table
            .resolve(name.clone())
            .map_err(|source| FileError::Region {
                region: name,
                source,
            })?;
        regions.push(region);
    }
    for name in flags {
        if !regions.iter().any(|r| r.name == name) {
            regions.push(RegionConfig::named(name));
        }
    }
    Ok(regions)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
