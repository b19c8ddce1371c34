//! pli-server: the pli service as a library.
//!
//! [`run`] takes a configuration, a bound listener and a shutdown future, so tests bind
//! port 0 and connect without sleeping, and the binary is a thin wrapper. The storage
//! backend is chosen once, here; everything below is generic over [`store::Store`].
//!
//! What lives where:
//! - [`store`]: the `Store` trait of domain operations, the SQLite backend, the conformance
//!   suite every backend passes.
//! - [`accounts`]: registration (proof of work, no phone or e-mail) and device credentials.
//! - [`keys`]: MLS key package validation.
//! - [`delivery`]: the MLS delivery service: epoch rule, per-device queues, WebSocket push.
//! - [`http`]: router, error codes, extractors, one file per endpoint.
//! - [`tls`]: the rustls accept loop.
//! - [`config`], [`clock`], [`ratelimit`]: settings, injected time, token buckets.
//!
//! This crate never depends on `pli-client`; both speak `pli-proto`.

pub mod accounts;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod governance;
pub mod http;
pub mod keys;
pub mod ratelimit;
pub mod store;
pub mod tls;

pub use config::{Config, TlsConfig};

use clock::{Clock, SystemClock};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use store::{SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// The SQLite database's file name inside the data directory.
pub const DATABASE_FILE: &str = "pli.db";
/// The server's secret (challenge MACs), created at first start, readable by its owner only.
pub const SERVER_KEY_FILE: &str = "server.key";

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot use the data directory: {0}")]
    DataDir(std::io::Error),
    #[error(transparent)]
    Store(#[from] store::sqlite::OpenError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("the listener failed: {0}")]
    Listener(std::io::Error),
}

/// Runs the service on `listener` until `shutdown` resolves, with the backend the
/// configuration names (today: embedded SQLite in the data directory).
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(ServerError::DataDir)?;
    let store = SqliteStore::open(&config.data_dir.join(DATABASE_FILE))?;
    serve(config, store, Arc::new(SystemClock), listener, shutdown).await
}

/// Runs the service over any store with any clock; `run` is this with the configured store
/// and the system clock.
pub async fn serve<S: Store>(
    config: Config,
    store: S,
    clock: Arc<dyn Clock>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    config.check(listener.local_addr().map_err(ServerError::Listener)?)?;
    let server_key = load_or_create_key(&config.data_dir)?;
    let tls = match &config.tls {
        Some(tls) => Some(tls::load(&tls.cert_pem, &tls.key_pem)?),
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (sessions_tx, mut sessions_rx) = mpsc::channel::<()>(1);
    let state = http::AppState::new(store, config, clock, server_key, stop_rx, sessions_tx);
    let app = http::router(state);
    let stop = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    tracing::info!(tls = tls.is_some(), "pli server listening");
    match tls {
        None => axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
        .map_err(ServerError::Listener)?,
        Some(tls) => tls::serve(listener, app, tls, stop).await,
    }
    // Every WebSocket session holds a sender; all are gone once the last session closed.
    let _ = sessions_rx.recv().await;
    tracing::info!("pli server stopped");
    Ok(())
}

fn load_or_create_key(data_dir: &Path) -> Result<[u8; 32], ServerError> {
    let path = data_dir.join(SERVER_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => bytes.try_into().map_err(|_| {
            ServerError::DataDir(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "server.key must hold exactly 32 bytes",
            ))
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(ServerError::DataDir)?;
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(ServerError::DataDir)?;
            Ok(key)
        }
        Err(err) => Err(ServerError::DataDir(err)),
    }
}
