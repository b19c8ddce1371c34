//! The writer thread: one connection, every write job of the process, group commit.
//!
//! Jobs wait in a channel; the writer takes all that are waiting (up to [`MAX_BATCH`]), runs
//! them in one transaction, commits once and then answers each caller. A job normally runs
//! in its own savepoint, so its refusal or failure undoes only its own writes. The two jobs
//! every message runs (a submission without a welcome, an ack) are written to refuse before
//! they write, and skip the savepoint: its sub-journal (each page the job first touches,
//! copied) and its two statements were a quarter of the writer's time (BENCHMARKS.md). If
//! such a job fails part-way (a storage error, not a refusal), nothing can undo its writes
//! alone, so the whole batch rolls back and every caller in it is told so.

use super::rows::backend;
use crate::store::error::StoreError;
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
/// A write job: runs inside the batch transaction (`None`: the transaction could not be
/// begun, so it must not run) and returns what the writer needs from it.
pub(super) type Job = Box<dyn FnOnce(Option<&Connection>) -> Ran + Send>;

/// What a job leaves the writer.
pub(super) struct Ran {
    /// How to answer its caller once the batch's fate is known.
    pub(super) answer: Completion,
    /// It failed part-way without a savepoint: the batch must not commit.
    pub(super) spoiled: bool,
}

/// How a job's writes are undone if it refuses or fails.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Undo {
    /// Its own savepoint: any error undoes exactly its writes.
    Savepoint,
    /// None needed for a refusal: the job refuses before its first write (or puts back what
    /// it wrote before refusing). A storage error part-way spoils the batch.
    RefusesFirst,
}

/// Wraps `op` into a job that answers through `reply`.
pub(super) fn job<R, F>(
    op: F,
    undo: Undo,
    reply: impl FnOnce(Result<R, StoreError>) + Send + 'static,
) -> Job
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
{
    Box::new(move |conn| {
        let (outcome, spoiled) = match (conn, undo) {
            (None, _) => (Err(StoreError::Unavailable), false),
            (Some(conn), Undo::Savepoint) => (run_in_savepoint(conn, op), false),
            (Some(conn), Undo::RefusesFirst) => {
                let outcome = op(conn);
                let spoiled = matches!(
                    outcome,
                    Err(StoreError::Backend(_) | StoreError::Unavailable)
                );
                (outcome, spoiled)
            }
        };
        Ran {
            answer: Box::new(move |commit| {
                reply(commit.map_err(StoreError::Backend).and(outcome));
            }),
            spoiled,
        }
    })
}

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
fn run_in_savepoint<R>(
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
        metrics::histogram!(crate::telemetry::SQLITE_BATCH_JOBS).record(batch.len() as f64);
        let batch: Vec<Job> = batch.into_iter().map(|job| job.run).collect();
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            let message = err.to_string();
            for job in batch {
                // Answer every caller without running its job: outside a transaction its
                // writes would commit on their own while its caller is told it failed.
                (job(None).answer)(Err(message.clone()));
            }
            continue;
        }
        let ran: Vec<Ran> = batch.into_iter().map(|job| job(Some(&conn))).collect();
        let outcome = if ran.iter().any(|ran| ran.spoiled) {
            let _ = conn.execute_batch("ROLLBACK");
            Err("a write in this batch failed part-way; the batch was rolled back".to_owned())
        } else {
            let committing = std::time::Instant::now();
            let commit = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
            metrics::histogram!(crate::telemetry::SQLITE_COMMIT_SECONDS)
                .record(committing.elapsed().as_secs_f64());
            if commit.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            commit
        };
        for ran in ran {
            (ran.answer)(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job's name and its caller's answer.
    type Answer = (&'static str, Result<(), StoreError>);
    /// A job's name, how it is undone, and what it does.
    type TestJob = (
        &'static str,
        Undo,
        fn(&Connection) -> Result<(), StoreError>,
    );

    /// Runs `jobs` (name, undo, what it does) as one batch of a writer over a fresh
    /// database with a table `t(x)`; returns each job's answer and the rows of `t`.
    fn one_batch(jobs: Vec<TestJob>) -> (Vec<Answer>, Vec<i64>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).expect("open");
        configure(&conn).expect("configure");
        conn.execute_batch("CREATE TABLE t (x INTEGER)")
            .expect("table");
        let (sender, receiver) = mpsc::channel();
        let (answered, answers) = mpsc::channel::<Answer>();
        // Queued before the writer starts, so that they share one batch.
        for (name, undo, op) in jobs {
            let answered = answered.clone();
            let run = job(op, undo, move |result| {
                let _ = answered.send((name, result));
            });
            sender
                .send(WriteJob {
                    run,
                    deferrable: false,
                })
                .expect("send");
        }
        drop(sender);
        std::thread::spawn(move || writer_loop(conn, receiver))
            .join()
            .expect("writer");
        drop(answered);
        let reader = Connection::open(&path).expect("reopen");
        let rows = reader
            .prepare("SELECT x FROM t ORDER BY x")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .expect("rows");
        (answers.iter().collect(), rows)
    }

    fn insert(conn: &Connection, x: i64) -> Result<(), StoreError> {
        conn.execute("INSERT INTO t (x) VALUES (?1)", [x])
            .map(|_| ())
            .map_err(super::backend)
    }

    #[test]
    fn a_refusal_without_a_savepoint_leaves_the_batch_alone() {
        let (answers, rows) = one_batch(vec![
            ("refuses", Undo::RefusesFirst, |_| {
                Err(StoreError::QueueFull)
            }),
            ("guarded", Undo::Savepoint, |c| {
                insert(c, 1)?;
                Err(StoreError::UnknownRecipient)
            }),
            ("writes", Undo::RefusesFirst, |c| insert(c, 2)),
        ]);
        assert!(matches!(
            answers[0],
            ("refuses", Err(StoreError::QueueFull))
        ));
        assert!(matches!(
            answers[1],
            ("guarded", Err(StoreError::UnknownRecipient))
        ));
        assert!(matches!(answers[2], ("writes", Ok(()))));
        assert_eq!(
            rows,
            vec![2],
            "the savepoint undid only its own job's write"
        );
    }

    #[test]
    fn a_failure_part_way_without_a_savepoint_rolls_back_the_whole_batch() {
        let (answers, rows) = one_batch(vec![
            ("before", Undo::Savepoint, |c| insert(c, 1)),
            ("fails", Undo::RefusesFirst, |c| {
                insert(c, 2)?;
                Err(StoreError::Backend("disk I/O error".into()))
            }),
            ("after", Undo::RefusesFirst, |c| insert(c, 3)),
        ]);
        assert_eq!(answers.len(), 3);
        for (name, answer) in &answers {
            assert!(
                matches!(answer, Err(StoreError::Backend(_))),
                "{name} was told the batch failed"
            );
        }
        assert_eq!(
            rows,
            Vec::<i64>::new(),
            "nothing of the batch was committed"
        );
    }
}
