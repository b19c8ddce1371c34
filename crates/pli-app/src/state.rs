//! What every handler shares: the engine (for what needs the server), a second connection
//! to the home for reads (the conversation list, history pages, search: never waiting on
//! the network), the guard, and a link code being shown.

use crate::engine::Engine;
use crate::error::AppError;
use crate::guard::Guard;
use pli_client::{Client, ClientError, ConnectOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;

pub struct AppState {
    pub guard: Guard,
    pub engine: Engine,
    pub home: PathBuf,
    pub connect: ConnectOptions,
    /// The home's device for local reads; opened once the home has one.
    reader: Mutex<Option<Client>>,
    /// The link code this new device shows until another device approves it.
    pub link_code: Mutex<Option<String>>,
    /// Turns true when the app stops: open event streams end, so the server can.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    pub fn new(
        home: PathBuf,
        connect: ConnectOptions,
        addr: SocketAddr,
        engine: Engine,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Self, AppError> {
        let reader = match Client::open(&home, &connect) {
            Ok(client) => Some(client),
            Err(ClientError::NotRegistered) => None,
            Err(err) => return Err(err.into()),
        };
        Ok(Self {
            guard: Guard::new(addr),
            engine,
            home,
            connect,
            reader: Mutex::new(reader),
            link_code: Mutex::new(None),
            stopping,
        })
    }

    /// Reads from the home's device (opened on first use after registration).
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Client) -> Result<T, ClientError>,
    ) -> Result<T, AppError> {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if reader.is_none() {
            *reader = match Client::open(&self.home, &self.connect) {
                Ok(client) => Some(client),
                Err(ClientError::NotRegistered) => return Err(AppError::NotRegistered),
                Err(err) => return Err(err.into()),
            };
        }
        let client = reader.as_ref().ok_or(AppError::NotRegistered)?;
        Ok(read(client)?)
    }

    /// True once the home holds a device (registered, or linked and waiting).
    pub fn has_device(&self) -> bool {
        self.read(|_| Ok(())).is_ok()
    }

    pub fn link_code(&self) -> Option<String> {
        self.link_code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
