//! Server configuration as the library sees it: merged from the configuration file
//! ([`file`]), environment and flags, and validated by [`Config::check`].

pub mod file;

use crate::policy::{Policies, Policy};
use pli_proto::Region;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// Holds the SQLite database and the server's own secret keys (unused with PostgreSQL).
    pub data_dir: PathBuf,
    /// Where accounts, queues and the audit log live.
    pub database: Database,
    pub tls: Option<TlsConfig>,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    pub allow_plain_http: bool,
    /// Leading zero bits a registration's proof of work needs (20 ≈ a second of one core).
    pub pow_difficulty: u8,
    /// Registrations allowed per source address per hour (a token bucket; burst of the same).
    pub registrations_per_hour: u32,
    pub max_queue_depth: u64,
    /// The audit log's name, in its checkpoints (C2SP origin line) and reports.
    pub log_origin: String,
    /// The regions accounts live in, each with its policy and store. Empty: one implicit
    /// region, [`IMPLICIT_REGION`], whose store is the global one (the quickstart).
    pub regions: Vec<RegionConfig>,
    /// Where accounts that name no region go; the first configured region when unset.
    pub default_region: Option<Region>,
    /// Whether the implicit region ([`IMPLICIT_REGION`], when no regions are configured)
    /// publishes small counts in transparency reports as bands ("0–9"); a configured region
    /// says so in its own policy ([`Policy::report_bands`]).
    pub report_bands: bool,
    /// How often the key directory publishes an epoch of pending device changes (lookups
    /// of a user with a pending change, and operators, publish at once).
    pub kt_publish_interval: std::time::Duration,
    pub limits: Limits,
    /// Proxies whose `X-Forwarded-For` names the client (`http::client_addr`); from any
    /// other peer the header is ignored. Empty: every request is its connection's peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Witnesses whose cosignatures of audit checkpoints the server keeps and serves.
    pub witnesses: Vec<pli_proto::witness::WitnessKey>,
    /// Attachment bytes in an S3-compatible store (`[blobs]`); `None`: files under the data
    /// directory, beside each store's database (`blobs/`).
    pub blobs: Option<crate::store::blobs::S3Config>,
}

/// The region every account is in when no regions are configured.
pub use crate::policy::IMPLICIT_REGION;

/// One region: its published policy and where its accounts' data lives.
#[derive(Clone, Debug)]
pub struct RegionConfig {
    pub name: Region,
    pub policy: Policy,
    /// The region's own PostgreSQL database; required when the global store is PostgreSQL.
    /// With SQLite, the region's store is a file under the data directory that names it
    /// ([`RegionConfig::sqlite_path`]).
    pub database: Option<crate::store::PostgresConfig>,
    /// The region's own S3-compatible store for attachment bytes; `None`: the deployment's
    /// `[blobs]` under the region's name, or files under the data directory.
    pub blobs: Option<crate::store::blobs::S3Config>,
}

impl RegionConfig {
    /// A region with the default policy.
    pub fn named(name: Region) -> Self {
        Self {
            policy: Policy::for_region(&name),
            name,
            database: None,
            blobs: None,
        }
    }

    /// The region's SQLite file: `<data>/regions/<name>/pli.db`.
    pub fn sqlite_path(&self, data_dir: &std::path::Path) -> PathBuf {
        data_dir
            .join("regions")
            .join(self.name.as_str())
            .join(crate::DATABASE_FILE)
    }
}

/// The storage backend, chosen once at start-up.
#[derive(Clone, Debug, Default)]
pub enum Database {
    /// One SQLite file in the data directory: a single process, nothing else to run.
    #[default]
    Sqlite,
    /// A PostgreSQL database that any number of nodes share.
    Postgres(crate::store::PostgresConfig),
}

/// Resource limits: every one explicit, documented in the README's "Limits" table.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Open connections (WebSockets included) per listener; more are refused.
    pub max_connections: usize,
    /// Deadline for a TLS handshake and for each request's headers.
    pub handshake_timeout: Duration,
    /// A WebSocket that sends nothing (not even a pong) for this long is closed; the server
    /// pings at a third of it.
    pub ws_idle_timeout: Duration,
    /// A push the device does not take within this long marks a slow reader: disconnected.
    pub ws_send_timeout: Duration,
    /// Bytes a WebSocket may buffer for a slow peer before it is disconnected.
    pub ws_max_write_buffer: usize,
    /// Messages one device may submit per minute (a token bucket; burst of the same).
    pub sends_per_minute: u32,
    /// Key-package claims one device may make per minute.
    pub claims_per_minute: u32,
    /// Sends and claims one source address (IPv6: /64) may make per minute, all devices
    /// together.
    pub source_per_minute: u32,
    /// On SIGTERM, how long the node keeps serving while `GET /v1/ready` says `draining`,
    /// before it stops accepting: long enough for a load balancer's health checks to take
    /// it out of rotation (their interval times their failure threshold). 0 on one machine.
    pub drain_grace: Duration,
    /// A file's largest plaintext size (the ciphertext may be this plus its chunks' tags).
    pub max_attachment_bytes: u64,
    /// Bytes one account may hold in attachments not yet fetched or expired.
    pub attachment_quota_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 20_000,
            handshake_timeout: Duration::from_secs(10),
            ws_idle_timeout: Duration::from_secs(90),
            ws_send_timeout: Duration::from_secs(15),
            ws_max_write_buffer: 1024 * 1024,
            sends_per_minute: 1_200,
            claims_per_minute: 120,
            source_per_minute: 12_000,
            drain_grace: Duration::ZERO,
            max_attachment_bytes: pli_proto::attachment::DEFAULT_MAX_ATTACHMENT_BYTES,
            attachment_quota_bytes: pli_proto::attachment::DEFAULT_ATTACHMENT_QUOTA_BYTES,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TlsConfig {
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

impl Config {
    pub const DEFAULT_POW_DIFFICULTY: u8 = 20;
    pub const DEFAULT_REGISTRATIONS_PER_HOUR: u32 = 20;
    pub const DEFAULT_KT_PUBLISH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database: Database::default(),
            tls: None,
            allow_plain_http: false,
            pow_difficulty: Self::DEFAULT_POW_DIFFICULTY,
            registrations_per_hour: Self::DEFAULT_REGISTRATIONS_PER_HOUR,
            max_queue_depth: pli_proto::limits::MAX_QUEUE_DEPTH,
            log_origin: "pli.local/audit".into(),
            regions: Vec::new(),
            default_region: None,
            report_bands: true,
            kt_publish_interval: Self::DEFAULT_KT_PUBLISH_INTERVAL,
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
            witnesses: Vec::new(),
            blobs: None,
        }
    }

    /// Every served region's policy, by name, and which region is the default.
    pub fn policies(&self) -> Policies {
        Policies {
            default_region: self.home_default(),
            by_region: self
                .served_regions()
                .into_iter()
                .map(|r| (r.name, r.policy))
                .collect(),
        }
    }

    /// Refuses settings that would weaken a promise: plain HTTP off loopback without the
    /// explicit opt-in, or a proof of work too hard to ever solve.
    pub fn check(&self, listen: SocketAddr) -> Result<(), ConfigError> {
        if self.tls.is_none() && !listen.ip().is_loopback() && !self.allow_plain_http {
            return Err(ConfigError::PlainHttpOffLoopback);
        }
        if self.pow_difficulty > 32 {
            return Err(ConfigError::PowTooHard);
        }
        if self.limits.ws_max_write_buffer < 2 * pli_proto::limits::MAX_WS_MESSAGE_BYTES {
            return Err(ConfigError::WriteBuffer);
        }
        if self.max_queue_depth == 0 || self.max_queue_depth > pli_proto::limits::MAX_QUEUE_DEPTH {
            return Err(ConfigError::QueueDepth);
        }
        self.check_regions()
    }

    /// Regions must be distinct, the default one of them, and each region's store of the
    /// global store's kind, never the global database itself or another region's.
    pub fn check_regions(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::BTreeSet::new();
        let mut urls = std::collections::BTreeSet::new();
        if let Database::Postgres(global) = &self.database {
            urls.insert(global.url.clone());
        }
        for region in &self.regions {
            if !names.insert(region.name.clone()) {
                return Err(ConfigError::DuplicateRegion(region.name.clone()));
            }
            match (&self.database, &region.database) {
                (Database::Sqlite, None) => {}
                (Database::Postgres(_), Some(own)) if urls.insert(own.url.clone()) => {}
                (Database::Postgres(_), Some(_)) => {
                    return Err(ConfigError::SharedRegionDatabase(region.name.clone()));
                }
                (Database::Postgres(_), None) => {
                    return Err(ConfigError::RegionDatabaseMissing(region.name.clone()));
                }
                (Database::Sqlite, Some(_)) => {
                    return Err(ConfigError::RegionDatabaseMixed(region.name.clone()));
                }
            }
        }
        match &self.default_region {
            Some(default) if !self.regions.iter().any(|r| &r.name == default) => {
                Err(ConfigError::UnknownDefaultRegion(default.clone()))
            }
            _ => Ok(()),
        }
    }

    /// The regions served: those configured, or the implicit one.
    pub fn served_regions(&self) -> Vec<RegionConfig> {
        if self.regions.is_empty() {
            let implicit = Region::parse(IMPLICIT_REGION).expect("the implicit name is valid");
            let mut region = RegionConfig::named(implicit);
            region.policy.report_bands = self.report_bands;
            vec![region]
        } else {
            self.regions.clone()
        }
    }

    /// Whether accounts may live in `region`.
    pub fn serves(&self, region: &Region) -> bool {
        match self.regions.is_empty() {
            true => region.as_str() == IMPLICIT_REGION,
            false => self.regions.iter().any(|r| &r.name == region),
        }
    }

    /// The region of accounts that name none.
    pub fn home_default(&self) -> Region {
        self.default_region
            .clone()
            .unwrap_or_else(|| self.served_regions().remove(0).name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "refusing plain HTTP on a non-loopback address: configure TLS (tls_cert, tls_key) or set allow_plain_http behind a TLS proxy"
    )]
    PlainHttpOffLoopback,
    #[error("the WebSocket write buffer must hold at least two full frames")]
    WriteBuffer,
    #[error("pow_difficulty must be at most 32")]
    PowTooHard,
    #[error(
        "max_queue_depth must be between 1 and {}",
        pli_proto::limits::MAX_QUEUE_DEPTH
    )]
    QueueDepth,
    #[error(
        "accounts live in region {0}, which this configuration does not serve: they would be unreachable (accounts from before regions were configured are in region `default`, in the main database; moving them into regions is not supported yet)"
    )]
    UnservedRegion(Region),
    #[error("region {0} is configured twice")]
    DuplicateRegion(Region),
    #[error("the default region {0} is not one of the configured regions")]
    UnknownDefaultRegion(Region),
    #[error(
        "region {0} needs its own database_url: the global store is PostgreSQL, and a region's data lives in its own database"
    )]
    RegionDatabaseMissing(Region),
    #[error(
        "region {0} names the same database as the global store or another region: each region needs its own"
    )]
    SharedRegionDatabase(Region),
    #[error(
        "region {0} has a database_url but the global store is SQLite: set [database] url too, or drop the region's url"
    )]
    RegionDatabaseMixed(Region),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_allowed_on_loopback_unless_opted_in() {
        let mut config = Config::new("/tmp/x");
        let public: SocketAddr = "0.0.0.0:443".parse().expect("addr");
        let local: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        assert!(config.check(local).is_ok());
        assert!(matches!(
            config.check(public),
            Err(ConfigError::PlainHttpOffLoopback)
        ));
        config.allow_plain_http = true;
        assert!(config.check(public).is_ok());
    }
}
