//! The writer thread: one connection, every write job of the process, group commit.
//!
//! Jobs wait in a channel; the writer takes all that are waiting (up to [`MAX_BATCH`]), runs
//! each in its own savepoint of one transaction, commits once and then answers each caller.

use super::queries::backend;
use crate::store::StoreError;
use rusqlite::Connection;
use std::sync::mpsc;

/// Most jobs folded into one transaction; bounds the latency a single batch can add.
const MAX_BATCH: usize = 1024;
/// How long a batch of deferrable jobs only (acks) waits for another job to share its
/// commit. Nobody waits on an ack's fsync, while a message that arrives during one waits
/// for it and then for its own; under steady traffic the next message comes well within
/// this, so acks ride along with messages instead of taking fsyncs of their own.
pub(super) const DEFER: std::time::Duration = std::time::Duration::from_millis(2);

/// Runs once the batch's commit is known, with its outcome.
pub(super) type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write job: runs inside the batch transaction and returns how to answer its caller.
pub(super) type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

/// A job as the writer receives it.
pub(super) struct WriteJob {
    pub(super) run: Job,
    /// Whether its commit may wait a moment for company (see [`DEFER`]).
    pub(super) deferrable: bool,
}

/// `secure_delete`: what is deleted (an acked message, an account moved to another region)
/// is overwritten in the file, not merely unlinked from its pages. `temp_store = MEMORY`
/// keeps the sub-journal of each job's savepoint in memory instead of a temporary file
/// (one `pwrite` per first-touched page otherwise; it only ever serves a rollback to the
/// savepoint, never recovery, which is the WAL's job). The writer's page cache is 32 MiB
/// instead of SQLite's 2 MiB: a large group's fan-out touches the queue's table and index
/// all over, and with 2 MiB the writer spent a tenth of its time re-reading pages from the
/// OS (`pread`, BENCHMARKS.md).
pub(super) fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // The writer runs every kind of write; rusqlite's default cache of 16 statements
    // would evict hot ones whenever a rarer write passes through.
    conn.set_prepared_statement_cache_capacity(128);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;",
    )
}

/// Runs one job inside its own savepoint. The statements are prepared once (cached):
/// parsing them again for every job was a visible share of the writer's time.
pub(super) fn run_in_savepoint<R>(
    conn: &Connection,
    op: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut st| st.execute([]));
    run("SAVEPOINT job").map_err(backend)?;
    let outcome = op(conn);
    let close = if outcome.is_ok() {
        run("RELEASE job")
    } else {
        run("ROLLBACK TO job").and_then(|_| run("RELEASE job"))
    };
    close.map_err(backend)?;
    outcome
}

/// Adds whatever is already waiting to `batch`, up to [`MAX_BATCH`].
fn take_waiting(jobs: &mpsc::Receiver<WriteJob>, batch: &mut Vec<WriteJob>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

pub(super) fn writer_loop(conn: Connection, jobs: mpsc::Receiver<WriteJob>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        take_waiting(&jobs, &mut batch);
        if batch.iter().all(|job| job.deferrable)
            && let Ok(job) = jobs.recv_timeout(DEFER)
        {
            batch.push(job);
            take_waiting(&jobs, &mut batch);
        }
        let batch: Vec<Job> = batch.into_iter().map(|job| job.run).collect();
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            let message = err.to_string();
            for job in batch {
                // Answer every caller: the job itself never ran.
                let completion = job(&conn);
                completion(Err(message.clone()));
            }
            continue;
        }
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(&conn)).collect();
        let commit = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for completion in completions {
            completion(commit.clone());
        }
    }
}
