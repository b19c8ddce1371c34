//! The PostgreSQL backend, for several `pli serve` nodes on one database (README.md, "Running several nodes").
//!
//! Every operation is one transaction on a pooled connection; PostgreSQL batches the WAL
//! flushes of concurrent commits itself, and row locks (see [`queue`]) keep the delivery
//! rules exact when nodes write at once. What one node accepts wakes the recipients'
//! connections on every node through `LISTEN`/`NOTIFY` ([`wakeups`]), once committed.
//!
//! The schema lives in `migrations/postgres`, applied at connect by sqlx's migrator.
//!
//! This file is the engine: the pools, connecting and migrating, and the connection and
//! transaction each operation runs on. Each domain's trait impl and its SQL live in a file
//! of their own (`accounts.rs`, `key_packages.rs`, `queue.rs`, `leases.rs`,
//! `governance.rs`, `directory.rs`, `moving.rs`), sharing the row helpers in `rows.rs`;
//! the wake-up relay is [`wakeups`] and the orphaned-message sweep `sweeper.rs`.

mod accounts;
mod attachments;
mod directory;
mod governance;
mod key_packages;
mod leases;
mod moderation;
mod moving;
mod queue;
mod reports;
mod rows;
mod second_factors;
mod sweeper;
mod wakeups;

use crate::store::error::StoreError;
use rows::backend;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr as _;
use std::time::Duration;

/// This build's migrations, `migrations/postgres/NNNN_*.sql`, compiled in. Append only: a
/// database remembers each applied migration's checksum, and one it has that this list
/// lacks means a newer pli migrated it ([`ConnectError::TooNew`]).
pub(in crate::store) static MIGRATOR: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/postgres");

/// Where the database is and how the pool behaves. Every field is a documented setting
/// (README, "Running several nodes").
#[derive(Clone)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database?sslmode=…`; never logged (it may hold a
    /// password).
    pub url: String,
    /// Connections this node keeps at most (several nodes share the server's
    /// `max_connections`).
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout: Duration,
    /// An idle connection above `min_connections` is closed after this long.
    pub idle_timeout: Duration,
    /// A statement running longer is cancelled by the server.
    pub statement_timeout: Duration,
}

impl PostgresConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 32,
            min_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &"<redacted>")
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the PostgreSQL URL is not valid")]
    Url,
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the PostgreSQL database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the PostgreSQL database has migration {found}, newer than the newest this build \
         knows ({known}): a newer pli migrated it; run that pli or a newer one"
    )]
    TooNew { found: i64, known: i64 },
    #[error(
        "migration {0} as applied to the PostgreSQL database differs from this build's: \
         migrations are append-only, so run the pli build that migrated the database"
    )]
    Modified(i64),
}

impl ConnectError {
    /// sqlx's words for a database ahead of this build ("previously applied but is missing
    /// in the resolved migrations") or for an edited migration ("has been modified") say
    /// nothing of what to do: pli's do.
    fn from_migrate(err: sqlx::migrate::MigrateError) -> Self {
        use sqlx::migrate::MigrateError;
        match err {
            MigrateError::VersionMissing(found) => Self::TooNew {
                found,
                known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
            },
            MigrateError::VersionMismatch(version) => Self::Modified(version),
            other => Self::Migrate(other),
        }
    }
}

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The two connections wake-ups use (see `connect`).
    signals: PgPool,
    /// This process's id in wake-up notices, so it skips its own.
    node: u64,
    notifier: wakeups::Notifier,
    _sweeper: sweeper::Sweeper,
    /// Attachment bytes; none until the server sets them ([`PostgresStore::with_blobs`]).
    blobs: crate::store::blobs::Blobs,
}

impl PostgresStore {
    /// Connects, migrates the schema to this build's version, and returns the store.
    pub async fn connect(config: &PostgresConfig) -> Result<Self, ConnectError> {
        // The URL's own parse error may quote it (and a password): say only that it failed.
        let options = PgConnectOptions::from_str(&config.url)
            .map_err(|_| ConnectError::Url)?
            .application_name("pli")
            .options([(
                "statement_timeout",
                format!("{}ms", config.statement_timeout.as_millis()),
            )]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .min_connections(config.min_connections.min(config.max_connections))
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(Some(config.idle_timeout))
            .connect_with(options.clone())
            .await
            .map_err(ConnectError::Connect)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(ConnectError::from_migrate)?;
        // Wake-ups get their own two connections (the listener holds one for good, the
        // notifier uses the other), so a request pool at its limit never delays them.
        let signals = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .connect_lazy_with(options);
        let node = rand::random();
        Ok(Self {
            notifier: wakeups::Notifier::start(signals.clone(), node),
            _sweeper: sweeper::Sweeper::start(pool.clone()),
            pool,
            signals,
            node,
            blobs: crate::store::blobs::Blobs::unset(),
        })
    }

    /// The same store with its attachment bytes in `blobs`.
    pub fn with_blobs(mut self, blobs: crate::store::blobs::Blobs) -> Self {
        self.blobs = blobs;
        self
    }

    fn blobs(&self) -> &crate::store::blobs::Blobs {
        &self.blobs
    }

    /// A pooled connection; how long it took to get one is the pool-wait metric (a pool
    /// too small for the load shows there first).
    async fn conn(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        let waiting = std::time::Instant::now();
        let conn = self.pool.acquire().await.map_err(backend);
        metrics::histogram!(crate::telemetry::PG_POOL_WAIT_SECONDS)
            .record(waiting.elapsed().as_secs_f64());
        conn
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let conn = self.conn().await?;
        Transaction::begin(conn, None).await.map_err(backend)
    }
}

async fn commit(tx: Transaction<'static, Postgres>) -> Result<(), StoreError> {
    tx.commit().await.map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::{PostgresConfig, PostgresStore};

    crate::conformance_tests!({
        let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
        let mut config = PostgresConfig::new(url);
        config.max_connections = 8;
        let blobs = tempfile::tempdir().expect("temp dir");
        let store = PostgresStore::connect(&config)
            .await
            .expect("connect")
            .with_blobs(crate::store::blobs::Blobs::local(blobs.path()).expect("blobs"));
        (store, blobs)
    });

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sweep_deletes_only_messages_no_queue_holds() {
        use crate::store::EpochRule;
        use crate::store::conformance::{group, register, submission};
        use crate::store::prelude::*;
        let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
        let store = PostgresStore::connect(&PostgresConfig::new(url))
            .await
            .expect("connect");
        register(&store, "alice", 1).await;
        store
            .submit(submission(
                &group(1),
                EpochRule::Commit { epoch: 0 },
                b"queued",
                &[1],
            ))
            .await
            .expect("submit");
        // What two racing last acks can leave behind: a message without a queue row.
        sqlx::query("INSERT INTO messages (kind, payload, created_ms) VALUES (0, 'orphan', 0)")
            .execute(&store.pool)
            .await
            .expect("insert");
        // The background sweeper may hold the pass's lock at that moment: then it deletes the
        // orphan itself, and a later pass finds nothing. Either way the orphan goes and the
        // queued message stays.
        let mut left: Vec<Vec<u8>> = Vec::new();
        for _ in 0..1_000 {
            let (_, next) = super::sweeper::sweep(&store.pool, 0).await.expect("sweep");
            assert_eq!(next, 0, "fewer than a batch: the next pass starts over");
            left = sqlx::query_scalar("SELECT payload FROM messages ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .expect("select");
            if left.len() == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(left, vec![b"queued".to_vec()]);
    }
}
