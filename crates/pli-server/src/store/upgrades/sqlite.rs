//! SQLite fixtures: `schema::MIGRATIONS[..v]` with the seeds of those versions, then
//! [`SqliteStore::open`], which migrates.

use super::era::{Era, era};
use crate::store::SqliteStore;
use crate::store::sqlite::schema::MIGRATIONS;
use rusqlite::Connection;
use std::path::Path;

/// Seed `i` holds rows of schema version `i + 1` (written after migration `i`), and the
/// checks they make true.
const ERAS: &[Era] = &[
    era!("sqlite", "01_initial.sql", [Accounts, KeyPackages, Queue]),
    era!("sqlite", "02_ws_tickets.sql", [Tickets]),
    era!(
        "sqlite",
        "03_governance.sql",
        [Audit, Staff, Request, Holds]
    ),
    era!("sqlite", "04_job_leases.sql", [Leases]),
    era!("sqlite", "05_home_regions.sql", [Regions]),
    era!("sqlite", "06_account_deletion.sql", [Deleted]),
    era!("sqlite", "07_connection_ips.sql", [Ips]),
    era!("sqlite", "08_key_directory.sql", [Directory, Endorsements]),
    era!("sqlite", "09_message_counts.sql", [Shared]),
    era!("sqlite", "10_queue_lens.sql", [Depths]),
    era!("sqlite", "11_key_package_lifetimes.sql", [Lifetimes]),
    era!("sqlite", "12_audit_cosignatures.sql", [Cosignatures]),
    era!("sqlite", "13_staff_totp.sql", [Totp]),
    era!("sqlite", "14_reports.sql", [Reports]),
    era!("sqlite", "15_moderation.sql", [Moderation]),
    era!("sqlite", "16_disappearing.sql", [Timed]),
    era!("sqlite", "17_attachments.sql", [Attachments]),
    era!("sqlite", "18_profiles.sql", [Profiles]),
];

/// The database at `path` as builds up to schema `version` left it. Foreign keys are
/// enforced, as the server enforces them, so a seed cannot hold rows no server could have.
fn fixture(path: &Path, version: usize) {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    for (migration, era) in MIGRATIONS[..version].iter().zip(ERAS) {
        conn.execute_batch(&format!("BEGIN; {migration} COMMIT;"))
            .expect("an old migration");
        conn.execute_batch(era.seed)
            .unwrap_or_else(|err| panic!("seed {}: {err}", era.file));
    }
    conn.execute_batch(&format!("PRAGMA user_version = {version}"))
        .expect("version");
}

fn user_version(path: &Path) -> i64 {
    let conn = Connection::open(path).expect("open");
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version")
}

/// Every schema version this build can meet (the newest too, so its seed is checked on the
/// schema it was written for), migrated, with every seeded row readable as the server reads
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_every_earlier_schema_version_opens_with_its_data() {
    for version in 1..=MIGRATIONS.len() {
        // Shown with the failure, if there is one.
        eprintln!("the fixture of schema version {version}");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pli.db");
        fixture(&path, version);
        let store = SqliteStore::open(&path)
            .unwrap_or_else(|err| panic!("opening schema version {version}: {err}"));
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
        for era in &ERAS[..version] {
            for check in era.checks {
                check.run(&store).await;
            }
        }
    }
}

/// A migration appended without a seed (or a seed file without its line in [`ERAS`])
/// fails here, not silently untested.
#[test]
fn every_migration_has_a_seed_of_its_rows() {
    assert_eq!(
        ERAS.len(),
        MIGRATIONS.len(),
        "each migration needs a seed in tests/fixtures/upgrades/sqlite and a line in ERAS"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrades/sqlite");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("the seeds")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let listed: Vec<&str> = ERAS.iter().map(|era| era.file).collect();
    assert_eq!(files, listed);
    for (index, era) in ERAS.iter().enumerate() {
        assert!(
            era.file.starts_with(&format!("{:02}_", index + 1)),
            "{} is seed {}",
            era.file,
            index + 1
        );
    }
}

/// A database a newer pli migrated is refused untouched, with a message naming its version
/// and this build's and saying what to run instead.
#[test]
fn a_database_from_a_newer_build_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pli.db");
    let known = MIGRATIONS.len();
    fixture(&path, known);
    let newer = Connection::open(&path).expect("open");
    newer
        .execute_batch(&format!(
            "CREATE TABLE from_a_newer_pli (x INTEGER); PRAGMA user_version = {}",
            known + 1
        ))
        .expect("a newer migration");
    drop(newer);
    let Err(err) = SqliteStore::open(&path) else {
        panic!("a newer schema opened");
    };
    let text = err.to_string();
    for part in [
        format!("schema version {}", known + 1),
        format!("this build knows ({known})"),
        "run that pli or a newer one".to_owned(),
    ] {
        assert!(text.contains(&part), "{text:?} lacks {part:?}");
    }
    assert_eq!(user_version(&path), known as i64 + 1);
}
