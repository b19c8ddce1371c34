//! The embedded SQLite backend.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync (about 0.2 ms on
//! the project's machines, docs/ARCHITECTURE.md, "Facts the design rests on"). So all writes go to one writer thread that takes
//! every job waiting in its channel, runs each inside its own SAVEPOINT of one transaction,
//! commits once, and only then answers each caller: group commit. A job that fails rolls
//! back to its savepoint without disturbing its neighbours. Reads run in parallel on a small
//! pool of read-only connections (WAL mode lets them proceed during writes).
//!
//! Durability: `synchronous = FULL`, so "accepted" survives power loss, not just a crash of
//! the process. Group commit is what makes that affordable.
//!
//! This file is the engine: opening and migrating the database, the read pool, the writer
//! thread ([`writer`]) and the calls that run a job on either. Each domain's trait impl and
//! its SQL live in a file of their own (`accounts.rs`, `key_packages.rs`, `queue.rs`,
//! `leases.rs`, `governance.rs`, `directory.rs`, `moving.rs`, `reports.rs`, `moderation.rs`), sharing the row helpers in
//! `rows.rs` and a stored message's lifetime in `stored.rs`.

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
pub mod schema;
mod second_factors;
mod secrets;
mod stored;
mod writer;

use crate::store::blobs::{Blobs, BlobsError};
use crate::store::error::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;
use writer::{Undo, WriteJob, configure, writer_loop};

const READERS: usize = 4;
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    /// Attachment bytes: `blobs/` beside the database file unless the server sets another
    /// ([`SqliteStore::with_blobs`]).
    blobs: Blobs,
}

struct Inner {
    path: PathBuf,
    /// `None` only while dropping.
    writer: Option<mpsc::Sender<WriteJob>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// Closing the channel ends the writer loop; joining it means that when the last handle to
/// the store is gone, the database is closed (WAL checkpointed), not merely closing.
impl Drop for Inner {
    fn drop(&mut self) {
        self.writer.take();
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the SQLite database: {0}")]
    Open(#[from] rusqlite::Error),
    /// [`schema::SchemaError`] words it: a schema too new is not a failed migration.
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error("cannot start the SQLite writer thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error(transparent)]
    Blobs(#[from] BlobsError),
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it and starts its writer.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let conn = open_writer(path)?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                reader.busy_timeout(std::time::Duration::from_secs(5))?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>, rusqlite::Error>>()?;
        let blobs = Blobs::local(&path.parent().unwrap_or(Path::new(".")).join("blobs"))?;
        let (sender, receiver) = mpsc::channel::<WriteJob>();
        let writer_thread = std::thread::Builder::new()
            .name("pli-sqlite-writer".into())
            .spawn(move || writer_loop(conn, receiver))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Some(sender),
                writer_thread: Some(writer_thread),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
            blobs,
        })
    }

    /// The same store with its attachment bytes in `blobs` (an S3-compatible store, say).
    pub fn with_blobs(mut self, blobs: Blobs) -> Self {
        self.blobs = blobs;
        self
    }

    fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `op` in the next write batch, in its own savepoint, and waits for that batch to
    /// commit.
    async fn write<R, F>(&self, op: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        self.write_job(op, Undo::Savepoint, false).await
    }

    /// Runs `op` in the next write batch and waits for that batch to commit. `undo` says
    /// whether `op` needs a savepoint ([`Undo`]); `deferrable` lets its commit wait up to
    /// [`writer::DEFER`] to share another job's fsync.
    async fn write_job<R, F>(&self, op: F, undo: Undo, deferrable: bool) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = writer::job(op, undo, move |result| {
            let _ = reply.send(result);
        });
        self.inner
            .writer
            .as_ref()
            .ok_or_else(|| StoreError::Backend("store is closing".into()))?
            .send(WriteJob {
                run: job,
                deferrable,
            })
            .map_err(|_| StoreError::Backend("writer thread stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("writer thread dropped a job".into()))?
    }

    /// Copies the write-ahead log into the database and empties it, from a connection of
    /// its own (the writer's and readers' statements may hold the log otherwise), so rows
    /// just deleted leave no old page images there. For deletions that must not linger
    /// on disk: an erased account, expired abuse reports. In the database file itself
    /// `secure_delete` (`writer::configure`) zeroes them; the log would still hold the
    /// pages as they were before the delete.
    async fn truncate_wal(&self) -> Result<(), StoreError> {
        let path = self.inner.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path).map_err(rows::backend)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(rows::backend)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(rows::backend)
        })
        .await
        .map_err(|_| StoreError::Backend("checkpoint task failed".into()))?
    }

    /// Runs `op` on one of the read connections, off the async runtime.
    async fn read<R, F>(&self, op: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let slot = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[slot]
                .lock()
                .map_err(|_| StoreError::Backend("reader lock poisoned".into()))?;
            op(&conn)
        })
        .await
        .map_err(|_| StoreError::Backend("reader task failed".into()))?
    }
}

/// How long opening waits for another process that is creating or migrating the same
/// database.
const OPEN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

/// The writer's connection, configured and migrated. Two processes opening a new data
/// directory at once (`pli serve` and `pli admin init`) can find it locked in a way
/// SQLite's busy handler does not wait out (switching a new file to WAL takes an exclusive
/// lock and gives up at once), so a busy open is tried again for [`OPEN_PATIENCE`].
fn open_writer(path: &Path) -> Result<Connection, OpenError> {
    let deadline = std::time::Instant::now() + OPEN_PATIENCE;
    loop {
        let attempt = Connection::open(path)
            .map_err(OpenError::from)
            .and_then(|mut conn| {
                configure(&conn)?;
                schema::migrate(&mut conn)?;
                Ok(conn)
            });
        match attempt {
            Err(err) if is_busy(&err) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

fn is_busy(err: &OpenError) -> bool {
    let sqlite = match err {
        OpenError::Open(err) | OpenError::Schema(schema::SchemaError::Sqlite(err)) => err,
        _ => return false,
    };
    matches!(
        sqlite.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;

    crate::conformance_tests!({
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("pli.db")).expect("open store");
        (store, dir)
    });
}

#[cfg(test)]
mod opening {
    use super::SqliteStore;

    /// `pli serve` and `pli admin init` may open a data directory's new database at the
    /// same moment: neither may fail because the other is creating or migrating it.
    #[test]
    fn a_new_database_opened_from_several_processes_at_once_opens_for_all() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("pli.db");
            let start = std::sync::Arc::new(std::sync::Barrier::new(4));
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        SqliteStore::open(&path).map(drop)
                    })
                })
                .collect();
            for opener in openers {
                let opened = opener.join().expect("the opener ran");
                assert!(opened.is_ok(), "{opened:?}");
            }
        }
    }
}
