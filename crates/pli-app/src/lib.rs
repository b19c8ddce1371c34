//! pli app: the user's own pli, as a web page in their own browser.
//!
//! `pli app` serves a local web UI on the loopback interface, over `pli-client`. Every key,
//! every MLS state and every decryption stays in this process, on the user's machine: the
//! browser only renders what it is sent, and the operator serves no code at all, so a
//! compromised server cannot ship a malicious client.
//!
//! What lives where:
//! - [`guard`]: loopback only, the one-time token and session cookie, `Host`/`Origin`.
//! - [`engine`]: the thread that owns the networked client: listens, runs what pages ask.
//! - [`state`]: what every handler shares: the engine, a read-only view of the home.
//! - [`status`]: whether the app reaches its server.
//! - `routes`: the HTTP handlers, one file per screen; `views`: the HTML they render.
//! - [`error`]: [`AppError`], with a stable code per case.
//!
//! `crates/pli-app/README.md` says why the UI is server-rendered HTML with one small
//! script and no third-party code.

pub mod engine;
pub mod error;
pub mod guard;
mod routes;
pub mod state;
pub mod status;
mod views;

pub use error::AppError;

use pli_client::{Client, ClientError, ConnectOptions};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The lock file that keeps a second app off a home.
pub const LOCK_FILE: &str = "app.lock";

/// How to start the app.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// The device's home (made if missing).
    pub home: PathBuf,
    /// Where to listen: a loopback address (port 0 picks a free one).
    pub listen: SocketAddr,
    /// How to reach the server (an extra CA, a server override).
    pub connect: ConnectOptions,
}

/// A bound app, not serving yet: its URL can be printed before the first request.
pub struct App {
    listener: tokio::net::TcpListener,
    state: Arc<state::AppState>,
    engine_thread: std::thread::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
    _lock: std::fs::File,
}

impl App {
    /// Checks the address, takes the home's lock, binds, and starts the engine.
    pub async fn bind(options: AppOptions) -> Result<Self, AppError> {
        guard::check_listen(options.listen)?;
        std::fs::create_dir_all(&options.home).map_err(AppError::Io)?;
        let lock = std::fs::File::create(options.home.join(LOCK_FILE)).map_err(AppError::Io)?;
        lock.try_lock().map_err(|err| match err {
            std::fs::TryLockError::WouldBlock => AppError::HomeInUse,
            std::fs::TryLockError::Error(err) => AppError::Io(err),
        })?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(AppError::Io)?;
        let addr = listener.local_addr().map_err(AppError::Io)?;
        let device = match Client::open(&options.home, &options.connect) {
            Ok(client) => Some(client),
            Err(ClientError::NotRegistered) => None,
            Err(err) => return Err(err.into()),
        };
        let (engine, engine_thread) = engine::Engine::start(device)?;
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let state = state::AppState::new(options.home, options.connect, addr, engine, stopping)?;
        Ok(Self {
            listener,
            state: Arc::new(state),
            engine_thread,
            stop,
            _lock: lock,
        })
    }

    /// The URL to open, with its one-time token.
    pub fn url(&self) -> String {
        self.state.guard.url()
    }

    pub fn local_addr(&self) -> Result<SocketAddr, AppError> {
        self.listener.local_addr().map_err(AppError::Io)
    }

    /// Serves until `shutdown` resolves, then stops the engine (its stream closed cleanly).
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let router = routes::router(self.state);
        let stop = self.stop;
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Event streams never end by themselves: told to, so the server can stop.
                let _ = stop.send(true);
            })
            .await
            .map_err(AppError::Io)?;
        let thread = self.engine_thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|_| AppError::Stopping)?
            .map_err(|_| AppError::Stopping)
    }
}
