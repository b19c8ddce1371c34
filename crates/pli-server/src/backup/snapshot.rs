//! Copying a running server's SQLite databases and secrets into a staging directory.
//!
//! Each database is copied with SQLite's online backup API from a read transaction opened
//! beforehand, in one step: WAL mode lets that reader see one committed state while the
//! server goes on writing, so each copy is exactly the database as of one commit, and the
//! server is never blocked.
//!
//! Several files cannot share one transaction, so the order of the snapshots carries the
//! cross-file guarantees (the same way `residency/submit.rs` orders its writes). Every
//! snapshot is taken (its read transaction opened) before any copying starts, within
//! milliseconds, regions first and the global database last:
//! - A registration claims its name in the global index before it creates the account in
//!   its region, so every account in a region's copy has its index entry. The worst a
//!   registration in flight leaves is a name claimed for an account that is not there, as
//!   a crash between the two steps does.
//! - A cross-region message moves its group's epoch in the global store before it is
//!   queued in the regions, so the copy holds no queued commit the epoch has not reached.
//!   A commit in flight can leave the epoch ahead of the queues, as a failed queue write
//!   does; its sender's retry meets `stale_epoch`.
//! - A move between regions copies the account to its new region before erasing it from
//!   the old one, so an account moving while the snapshots are taken is in both copies
//!   (`pli admin region move` again finishes it) — unless the whole move, three durable
//!   commits, fell between two snapshots microseconds apart.
//!
//! Secrets are written once, when first needed, and never change: they are copied after.

use super::error::BackupError;
use super::manifest::{FileKind, REGIONS_DIR, SECRET_FILES};
use crate::DATABASE_FILE;
use pli_proto::Region;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// The data directory's databases in snapshot order (each region's, by name, then the
/// global one), as manifest paths. A directory under `regions/` that is not a valid region
/// name, or holds no database, is no store of the server's and is left out.
fn databases(data: &Path) -> Result<Vec<String>, BackupError> {
    if !data.join(DATABASE_FILE).is_file() {
        return Err(BackupError::NoDatabase);
    }
    let mut regions = Vec::new();
    match std::fs::read_dir(data.join(REGIONS_DIR)) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(BackupError::DataDir)?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if Region::parse(&name).is_ok() && entry.path().join(DATABASE_FILE).is_file() {
                    regions.push(name);
                }
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(BackupError::DataDir(err)),
    }
    regions.sort();
    let mut paths: Vec<String> = regions
        .into_iter()
        .map(|name| format!("{REGIONS_DIR}/{name}/{DATABASE_FILE}"))
        .collect();
    paths.push(DATABASE_FILE.to_owned());
    Ok(paths)
}

/// Opens `path` for reading only (never creating it), with the server's busy timeout.
fn open_source(path: &Path) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Opens a read transaction and reads, which fixes the state it sees (a deferred `BEGIN`
/// alone takes no snapshot).
fn pin(conn: &Connection) -> Result<(), BackupError> {
    conn.execute_batch("BEGIN")?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    Ok(())
}

/// Copies the pinned `source` into a new database at `target`, in one step, so the copy
/// comes from the source's open read transaction.
fn copy(source: &Connection, target: &Path) -> Result<(), BackupError> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(BackupError::Write)?;
    }
    let mut copy = Connection::open(target)?;
    {
        let backup = Backup::new(source, &mut copy)?;
        match backup.step(-1)? {
            StepResult::Done => {}
            _ => return Err(BackupError::Busy),
        }
    }
    // Closing here, not at the end of the scope: the hash is taken of the closed file.
    copy.close().map_err(|(_, err)| BackupError::Sqlite(err))?;
    Ok(())
}

/// Copies every database and present secret of `data` into `staging` under their
/// manifest paths; returns them in archive order with their kinds.
pub(super) fn take(data: &Path, staging: &Path) -> Result<Vec<(String, FileKind)>, BackupError> {
    let paths = databases(data)?;
    let sources = paths
        .iter()
        .map(|path| open_source(&super::manifest::under(data, path)))
        .collect::<Result<Vec<_>, _>>()?;
    for source in &sources {
        pin(source)?;
    }
    for (path, source) in paths.iter().zip(&sources) {
        copy(source, &super::manifest::under(staging, path))?;
    }
    drop(sources);
    let mut files: Vec<(String, FileKind)> = paths
        .into_iter()
        .map(|path| (path, FileKind::Database))
        .collect();
    // A secret not yet made (a data directory `pli admin init` prepared but no server has
    // started on) is made by the restored server, as it would have been here.
    for name in SECRET_FILES {
        let bytes = match std::fs::read(data.join(name)) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(BackupError::DataDir(err)),
        };
        if bytes.len() != 32 {
            return Err(BackupError::BadSecret);
        }
        super::private_files::write_private(&staging.join(name), &bytes)
            .map_err(BackupError::Write)?;
        files.push((name.to_owned(), FileKind::Secret));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(path: &Path, sql: &str) -> Connection {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("dir");
        let conn = Connection::open(path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL;")
            .expect("wal");
        conn.execute_batch(sql).expect("sql");
        conn
    }

    fn count(path: &Path) -> i64 {
        Connection::open(path)
            .expect("open")
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count")
    }

    #[test]
    fn a_snapshot_is_the_state_when_it_was_pinned_not_when_it_was_copied() {
        let data = tempfile::tempdir().expect("temp dir");
        let path = data.path().join(DATABASE_FILE);
        let writer = database(&path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
        let source = open_source(&path).expect("open");
        pin(&source).expect("pin");
        writer
            .execute("INSERT INTO t VALUES (2)", [])
            .expect("a write while pinned is not blocked");
        let staged = tempfile::tempdir().expect("temp dir");
        copy(&source, &staged.path().join("copy.db")).expect("copy");
        assert_eq!(count(&staged.path().join("copy.db")), 1);
        assert_eq!(count(&path), 2);
    }

    #[test]
    fn regions_come_first_by_name_and_other_directories_are_left_out() {
        let data = tempfile::tempdir().expect("temp dir");
        for path in [
            "pli.db",
            "regions/us/pli.db",
            "regions/eu/pli.db",
            "regions/Not-A-Region/pli.db",
        ] {
            database(&super::super::manifest::under(data.path(), path), "");
        }
        std::fs::create_dir_all(data.path().join("regions/ru")).expect("an empty region dir");
        assert_eq!(
            databases(data.path()).expect("databases"),
            ["regions/eu/pli.db", "regions/us/pli.db", "pli.db"]
        );
    }

    #[test]
    fn a_directory_without_a_database_is_refused() {
        let data = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            take(data.path(), data.path()),
            Err(BackupError::NoDatabase)
        ));
    }
}
