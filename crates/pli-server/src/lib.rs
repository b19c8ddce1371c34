//! pli-server: the pli service as a library.
//!
//! [`run`] takes a configuration, a bound listener and a shutdown future, so tests bind
//! port 0 and connect without sleeping, and the binary is a thin wrapper. The storage
//! backend is chosen once, here, from [`config::Database`]; everything below is generic
//! over [`store::Store`]. With PostgreSQL, any number of processes serve one database:
//! wake-ups travel through it, background jobs run on the holder of their lease, and the
//! server's secrets live in it, so nodes keep no state of their own.
//!
//! What lives where:
//! - [`store`]: the `Store` trait of domain operations, the SQLite and PostgreSQL backends,
//!   the conformance suite every backend passes.
//! - [`accounts`]: registration (proof of work, no phone or e-mail) and device credentials.
//! - [`devices`]: the rules for adding and removing a user's devices.
//! - [`keys`]: MLS key package validation.
//! - [`directory`]: key transparency: the akd directory of device keys, its epochs and
//!   signed roots.
//! - [`delivery`]: the MLS delivery service: epoch rule, per-device queues, WebSocket push.
//! - [`http`]: router, error codes, extractors, one file per endpoint.
//! - [`console`]: the staff console in the browser, on the admin surface: the admin API's
//!   own handlers behind a credential + TOTP sign-in, adding no power.
//! - [`tls`]: the rustls accept loop.
//! - [`residency`]: each account's data in its home region's store (a `Store` of stores).
//! - [`retention`]: each region's policy applied on a timer and on demand.
//! - [`governance`]: staff roles, lawful requests and their rules, the audit log, the data
//!   inventory, transparency reports.
//! - [`transparency`]: the public transparency page: every report made, with charts, and
//!   how to check it.
//! - [`policy`]: each region's policy, which configuration builds and governance and
//!   retention read.
//! - [`listener`]: accepting connections (limits, deadlines) for the HTTP and TLS servers.
//! - [`jobs`]: background jobs, leased or on every node, all ending on one stop signal.
//! - [`state`]: what every handler, session and job shares ([`state::AppState`]).
//! - [`config`], [`clock`], [`ratelimit`]: settings, injected time, token buckets.
//! - [`backup`]: encrypted online backups of a SQLite deployment, and their restore.
//!
//! This crate never depends on `pli-client`; both speak `pli-proto`.

pub mod abuse;
pub mod accounts;
pub mod attachments;
pub mod backup;
pub mod clock;
pub mod config;
pub mod console;
pub mod delivery;
pub mod devices;
pub mod directory;
pub mod franking;
pub mod governance;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod listener;
pub mod moderation;
pub mod policy;
pub mod ratelimit;
pub mod residency;
pub mod retention;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod transparency;

pub use config::{Config, Database, Limits, TlsConfig};

use clock::{Clock, SystemClock};
use residency::Regional;
use std::future::Future;
use std::sync::Arc;
use store::{PostgresStore, RemoteWake, SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// The SQLite database's file name inside the data directory.
pub const DATABASE_FILE: &str = "pli.db";
/// The server's secret (challenge MACs), created at first start: a file beside the SQLite
/// database (readable by its owner only), or a row in PostgreSQL shared by every node.
pub const SERVER_KEY_FILE: &str = "server.key";
/// The Ed25519 seed that signs audit checkpoints, reports and disclosure packages; kept
/// like [`SERVER_KEY_FILE`].
pub const AUDIT_KEY_FILE: &str = "audit.key";
/// How often each region's retention policy is applied.
pub const RETENTION_SWEEP: std::time::Duration = std::time::Duration::from_secs(600);
/// How often held user notices are checked for release (they are also released when one of
/// the user's devices connects).
pub const NOTICE_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// How often the queue entries of disappearing messages whose timer is over are deleted,
/// and expired attachments with them.
/// None is pushed after its end even before that (`delivery::session`); this bounds how
/// long its ciphertext stays on disk past it.
pub const TIMER_SWEEP: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot use the data directory: {0}")]
    DataDir(std::io::Error),
    #[error(transparent)]
    Store(#[from] store::sqlite::OpenError),
    #[error(transparent)]
    Postgres(#[from] store::postgres::ConnectError),
    #[error(transparent)]
    Blobs(store::BlobsError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("the listener failed: {0}")]
    Listener(std::io::Error),
    #[error("storage failed: {0}")]
    StoreOp(#[from] store::StoreError),
    #[error(transparent)]
    Governance(#[from] governance::GovernanceError),
    #[error(transparent)]
    Directory(#[from] directory::DirectoryError),
}

/// Runs the service on `listener` until `shutdown` resolves, with the backend the
/// configuration names (embedded SQLite in the data directory, or PostgreSQL). The admin
/// API is served on the same listener.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    run_with_admin(config, listener, None, shutdown).await
}

/// Like [`run`], with the admin API on its own listener when one is given (and then not on
/// the public one).
pub async fn run_with_admin(
    config: Config,
    listener: TcpListener,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listeners = Listeners {
        public: listener,
        admin,
        metrics: None,
    };
    run_clocked(config, Arc::new(SystemClock), listeners, shutdown).await
}

/// Like [`run_with_admin`], on a clock the caller controls (tests move it to see retention
/// and deadlines happen).
pub async fn run_clocked(
    config: Config,
    clock: Arc<dyn Clock>,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    config.check_regions()?;
    match &config.database {
        Database::Sqlite => {
            let store = open_sqlite_regions(&config)?;
            check_no_stranded_accounts(&config, &store).await?;
            serve(config, store, clock, listeners, shutdown).await
        }
        Database::Postgres(postgres) => {
            let store = open_postgres_regions(&config, postgres).await?;
            check_no_stranded_accounts(&config, &store).await?;
            serve(config, store, clock, listeners, shutdown).await
        }
    }
}

/// Refuses to start when the index names a region the configuration does not serve (a
/// region dropped from the file, or regions turned on for accounts made before them).
async fn check_no_stranded_accounts<S: Store>(
    config: &Config,
    store: &S,
) -> Result<(), ServerError> {
    for region in store.regions_in_use().await? {
        if !config.serves(&region) {
            return Err(config::ConfigError::UnservedRegion(region).into());
        }
    }
    Ok(())
}

fn open_sqlite(config: &Config) -> Result<SqliteStore, ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(ServerError::DataDir)?;
    Ok(SqliteStore::open(&config.data_dir.join(DATABASE_FILE))?)
}

/// The global SQLite store in the data directory and, when regions are configured, one
/// file per region under `regions/<name>/`.
pub fn open_sqlite_regions(config: &Config) -> Result<Regional<SqliteStore>, ServerError> {
    let global = open_sqlite(config)?;
    if config.regions.is_empty() {
        let global = match blobs_for(config, None)? {
            Some(blobs) => global.with_blobs(blobs),
            None => global,
        };
        return Ok(Regional::single(global, config.home_default()));
    }
    let mut regions = Vec::with_capacity(config.regions.len());
    for region in &config.regions {
        let path = region.sqlite_path(&config.data_dir);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(ServerError::DataDir)?;
        }
        let store = SqliteStore::open(&path)?;
        let store = match blobs_for(config, Some(region))? {
            Some(blobs) => store.with_blobs(blobs),
            None => store,
        };
        regions.push((region.name.clone(), store));
    }
    Ok(Regional::new(global, regions))
}

/// The global PostgreSQL database and each region's own (checked present by
/// [`Config::check_regions`]).
pub async fn open_postgres_regions(
    config: &Config,
    global: &store::PostgresConfig,
) -> Result<Regional<PostgresStore>, ServerError> {
    let global = PostgresStore::connect(global).await?;
    if config.regions.is_empty() {
        let blobs = blobs_for(config, None)?.map_or_else(|| local_blobs(config, None), Ok)?;
        return Ok(Regional::single(
            global.with_blobs(blobs),
            config.home_default(),
        ));
    }
    let mut regions = Vec::with_capacity(config.regions.len());
    for region in &config.regions {
        let own = region
            .database
            .as_ref()
            .ok_or_else(|| config::ConfigError::RegionDatabaseMissing(region.name.clone()))?;
        let blobs = blobs_for(config, Some(region))?
            .map_or_else(|| local_blobs(config, Some(region)), Ok)?;
        let store = PostgresStore::connect(own).await?.with_blobs(blobs);
        regions.push((region.name.clone(), store));
    }
    Ok(Regional::new(global, regions))
}

/// The S3-compatible store for a region's attachment bytes (the global store's with no
/// regions): the region's own `blobs`, else the deployment's under the region's name. `None`
/// when neither is configured.
fn blobs_for(
    config: &Config,
    region: Option<&config::RegionConfig>,
) -> Result<Option<store::Blobs>, ServerError> {
    let own = region.and_then(|r| r.blobs.as_ref());
    let opened = match (own, &config.blobs) {
        (Some(own), _) => store::Blobs::s3(own, None),
        (None, Some(shared)) => store::Blobs::s3(shared, region.map(|r| r.name.as_str())),
        (None, None) => return Ok(None),
    };
    opened.map(Some).map_err(ServerError::Blobs)
}

/// Files under the data directory (`blobs/`, or `regions/NAME/blobs/`), for PostgreSQL
/// without an S3 store: right for one machine, not for nodes on several.
fn local_blobs(
    config: &Config,
    region: Option<&config::RegionConfig>,
) -> Result<store::Blobs, ServerError> {
    let dir = match region {
        Some(region) => config.data_dir.join("regions").join(region.name.as_str()),
        None => config.data_dir.clone(),
    };
    store::Blobs::local(&dir.join("blobs")).map_err(ServerError::Blobs)
}

/// Where the server listens: the user API, and optionally a separate admin API and a
/// listener for Prometheus alone (`--metrics-listen`).
pub struct Listeners {
    pub public: TcpListener,
    pub admin: Option<TcpListener>,
    pub metrics: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(public: TcpListener) -> Self {
        Self {
            public,
            admin: None,
            metrics: None,
        }
    }
}

async fn load_governance<S: Store>(
    config: &Config,
    store: &S,
) -> Result<governance::Governance, ServerError> {
    let seed = store.server_secret(AUDIT_KEY_FILE).await?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    Ok(
        governance::Governance::load(store, key, config.log_origin.clone(), config.policies())
            .await?,
    )
}

/// Creates the first operator, on the server host (`pli admin init`). Refused once any
/// staff member exists. The creation is the audit log's first entry.
pub async fn init_first_operator(
    config: &Config,
    name: &str,
) -> Result<pli_proto::governance::StaffCredential, ServerError> {
    match &config.database {
        Database::Sqlite => init_operator_in(config, open_sqlite(config)?, name).await,
        Database::Postgres(postgres) => {
            init_operator_in(config, PostgresStore::connect(postgres).await?, name).await
        }
    }
}

async fn init_operator_in<S: Store>(
    config: &Config,
    store: S,
    name: &str,
) -> Result<pli_proto::governance::StaffCredential, ServerError> {
    let governance = load_governance(config, &store).await?;
    // The key directory's keys are made here too, so the keys that will sign and hide the
    // directory exist (and can be backed up) before the first user registers.
    for secret in [directory::VRF_KEY_FILE, directory::SIGNING_KEY_FILE] {
        store.server_secret(secret).await?;
    }
    if !store.list_staff().await?.is_empty() {
        return Err(governance::GovernanceError::AlreadyInitialised.into());
    }
    let request = pli_proto::governance::NewStaff {
        name: name.to_owned(),
        role: pli_proto::governance::Role::Operator,
    };
    let (record, credential) = governance::staff::new_staff(&request);
    let details = serde_json::json!({ "staff_id": record.id, "role": record.role });
    let effect = store::GovernanceEffect {
        staff: Some(record),
        ..Default::default()
    };
    governance
        .record(
            &store,
            &SystemClock,
            governance::Actor::SERVER,
            "staff.init",
            "ok",
            details,
            effect,
        )
        .await?;
    Ok(credential)
}

/// Runs the service over any store with any clock; `run` is this with the configured store
/// and the system clock.
pub async fn serve<S: Store>(
    config: Config,
    store: S,
    clock: Arc<dyn Clock>,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let Listeners {
        public: listener,
        admin,
        metrics,
    } = listeners.into();
    config.check(listener.local_addr().map_err(ServerError::Listener)?)?;
    for extra in admin.iter().chain(&metrics) {
        config.check(extra.local_addr().map_err(ServerError::Listener)?)?;
    }
    let server_key = store.server_secret(SERVER_KEY_FILE).await?;
    let governance = load_governance(&config, &store).await?;
    let directory = directory::KeyDirectory::open(store.clone(), &config.log_origin).await?;
    let tls = match &config.tls {
        Some(tls) => Some(tls::load(&tls.cert_pem, &tls.key_pem)?),
        None => None,
    };
    let listener_limits = listener::ListenerLimits {
        max_connections: config.limits.max_connections,
        handshake_timeout: config.limits.handshake_timeout,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (sessions_tx, mut sessions_rx) = mpsc::channel::<()>(1);
    let keys = state::ServerKeys {
        challenges: server_key,
        franking: store.server_secret(franking::FRANKING_KEY_FILE).await?,
    };
    let state = http::AppState::new(
        store,
        config,
        clock,
        keys,
        http::Transparency {
            governance,
            directory: directory.clone(),
        },
        stop_rx.clone(),
        sessions_tx,
    );
    telemetry::install();
    let surface = if admin.is_some() {
        http::Surface::Public
    } else {
        http::Surface::All
    };
    let app = http::router(state.clone(), surface);
    let admin_app = http::router(state.clone(), http::Surface::Admin);
    let jobs = jobs::Jobs::new(state.store.clone(), state.clock.clone(), stop_rx.clone());
    let sweeper = state.clone();
    jobs.leased("notice-sweep", NOTICE_SWEEP, move || {
        let state = sweeper.clone();
        async move {
            let max_depth = state.config.max_queue_depth;
            let (governance, store) = (&state.governance, &state.store);
            governance::sweep::sweep_due(governance, store, state.clock.as_ref(), max_depth).await;
        }
    });
    let retained = state.clone();
    jobs.leased("retention", RETENTION_SWEEP, move || {
        let state = retained.clone();
        async move {
            if let Err(err) = retention::sweep(&state).await {
                tracing::warn!(error = err.kind(), "retention sweep failed");
            }
        }
    });
    let timed = state.clone();
    jobs.leased("timer-sweep", TIMER_SWEEP, move || {
        let state = timed.clone();
        async move {
            let now_ms = state.clock.now_ms();
            if let Err(err) = state.store.expire_timed(now_ms).await {
                tracing::warn!(error = err.kind(), "disappearing-message sweep failed");
            }
            if let Err(err) = state.store.expire_attachments(now_ms).await {
                tracing::warn!(error = err.kind(), "attachment sweep failed");
            }
        }
    });
    let (published, clock) = (directory.clone(), state.clock.clone());
    let publisher = jobs.every(
        state.config.kt_publish_interval,
        jobs::FirstRun::AfterInterval,
        move || {
            let (directory, now_ms) = (published.clone(), clock.now_ms());
            async move {
                if let Err(err) = directory.publish_pending(now_ms).await {
                    tracing::warn!(error = %err, "publishing a key directory epoch failed");
                }
            }
        },
    );
    // Readiness: the store answered (opened and migrated above) and the jobs are started.
    // (Marked before the state moves into the last job: a state kept here would hold the
    // session sender that the end of this function waits to see dropped.)
    state.mark_ready();
    let (lifecycle, drain_grace) = (state.lifecycle(), state.config.limits.drain_grace);
    let metrics_state = metrics.as_ref().map(|_| state.clone());
    jobs.until_stopped(relay_wakeups(state));
    // The drain: readiness fails first, and the node serves on for the grace period (load
    // balancers take it out of rotation meanwhile); then the listeners stop accepting,
    // requests in flight finish, and WebSockets close saying why (their devices reconnect,
    // through the balancer, to another node).
    tokio::spawn(async move {
        shutdown.await;
        lifecycle.begin_draining();
        tracing::info!(grace_ms = drain_grace.as_millis() as u64, "draining");
        tokio::time::sleep(drain_grace).await;
        let _ = stop_tx.send(true);
    });
    tracing::info!(
        tls = tls.is_some(),
        separate_admin = admin.is_some(),
        "pli server listening"
    );
    let public = listener::serve(
        listener,
        app,
        tls.clone(),
        listener_limits,
        stopped(stop_rx.clone()),
    );
    let admin = async {
        if let Some(admin) = admin {
            listener::serve(
                admin,
                admin_app,
                tls.clone(),
                listener_limits,
                stopped(stop_rx.clone()),
            )
            .await;
        }
    };
    let metrics = async {
        if let (Some(metrics), Some(metrics_state)) = (metrics, metrics_state) {
            listener::serve(
                metrics,
                http::metrics_router(metrics_state),
                tls.clone(),
                listener_limits,
                stopped(stop_rx.clone()),
            )
            .await;
        }
    };
    tokio::join!(public, admin, metrics);
    // Every WebSocket session holds a sender; all are gone once the last session closed.
    let _ = sessions_rx.recv().await;
    // The publisher gives up its lease once stopped: a restarted node publishes at once.
    let _ = publisher.await;
    directory.give_up_lease().await;
    tracing::info!("pli server stopped");
    Ok(())
}

/// Resolves once shutdown has begun (or its sender is gone).
pub(crate) async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Wakes connections here for messages other nodes accepted (run until shutdown).
async fn relay_wakeups<S: Store>(state: http::AppState<S>) {
    let target = state.clone();
    let sink: store::WakeSink = Arc::new(move |wake| match wake {
        RemoteWake::Devices(devices) => target.hub.wake(devices),
        RemoteWake::Everyone => target.hub.wake_all(),
        RemoteWake::Replaced(devices) => target.hub.replace(devices),
        RemoteWake::Ephemeral(devices, frame) => {
            target.hub.hand_ephemeral(devices, &frame);
        }
    });
    state.store.relay_wakeups(sink).await;
}
