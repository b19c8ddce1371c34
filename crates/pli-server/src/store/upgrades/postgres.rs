//! PostgreSQL fixtures: this build's migrations applied up to each one by sqlx's migrator
//! (as the build that ended there applied them, checksums and all), with the seeds of those
//! versions, then [`PostgresStore::connect`], which migrates. One throwaway cluster, one
//! database per version.

use super::era::{Era, era};
use crate::store::postgres::{ConnectError, MIGRATOR, PostgresConfig, PostgresStore};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{PgPool, SqlSafeStr as _};
use std::path::Path;

/// Seed `i` holds rows written once migration `i + 1` had run, and the checks they make
/// true. The first migration made most tables, so its seed holds most rows.
const ERAS: &[Era] = &[
    era!(
        "postgres",
        "0001_initial.sql",
        [
            Accounts,
            KeyPackages,
            Queue,
            Tickets,
            Depths,
            Audit,
            Staff,
            Request,
            Holds,
            Leases,
            ServerKey
        ]
    ),
    era!("postgres", "0002_delivery_functions.sql", [Shared]),
    era!("postgres", "0003_residency.sql", [Regions]),
    era!("postgres", "0004_account_deletion.sql", [Deleted]),
    era!("postgres", "0005_connection_ips.sql", [Ips]),
    era!(
        "postgres",
        "0006_key_directory.sql",
        [Directory, Endorsements]
    ),
    era!("postgres", "0007_key_package_lifetimes.sql", [Lifetimes]),
    era!("postgres", "0008_audit_cosignatures.sql", [Cosignatures]),
    era!("postgres", "0009_staff_totp.sql", [Totp]),
    era!("postgres", "0010_reports.sql", [Reports]),
    era!("postgres", "0011_moderation.sql", [Moderation]),
    era!("postgres", "0012_disappearing.sql", [Timed]),
    era!("postgres", "0013_attachments.sql", [Attachments]),
    era!("postgres", "0014_profiles.sql", [Profiles]),
];

async fn connect(url: &str) -> Result<PostgresStore, ConnectError> {
    let mut config = PostgresConfig::new(url);
    config.max_connections = 4;
    config.min_connections = 0;
    PostgresStore::connect(&config).await
}

fn newest() -> i64 {
    MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .expect("migrations")
}

/// Every migration this build has (the newest too, so its seed is checked on the schema
/// it was written for) as the last one applied, migrated at connect, with every seeded row
/// readable as the server reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_every_earlier_migration_connects_with_its_data() {
    for (count, migration) in MIGRATOR.iter().enumerate().map(|(i, m)| (i + 1, m)) {
        // Shown with the failure, if there is one.
        eprintln!("the fixture of migration {}", migration.version);
        let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
        let pool = PgPool::connect(&url).await.expect("pool");
        // Each seed right after its migration, as the rows were written in their era: a
        // later migration then finds them (the residency one backfills accounts).
        for (era, step) in ERAS[..count].iter().zip(MIGRATOR.iter()) {
            MIGRATOR
                .run_to(step.version, &pool)
                .await
                .expect("an older migration");
            sqlx::raw_sql(era.seed)
                .execute(&pool)
                .await
                .unwrap_or_else(|err| panic!("seed {}: {err}", era.file));
        }
        pool.close().await;
        let blobs = tempfile::tempdir().expect("temp dir");
        let store = connect(&url)
            .await
            .unwrap_or_else(|err| panic!("connecting at migration {}: {err}", migration.version))
            .with_blobs(crate::store::Blobs::local(blobs.path()).expect("blobs"));
        for era in &ERAS[..count] {
            for check in era.checks {
                check.run(&store).await;
            }
        }
    }
}

/// A migration appended without a seed (or a seed not named after its migration) fails
/// here, not silently untested.
#[test]
fn every_migration_has_a_seed_of_its_rows() {
    let migrations: Vec<String> = MIGRATOR
        .iter()
        .map(|m| format!("{:04}_{}.sql", m.version, m.description.replace(' ', "_")))
        .collect();
    let listed: Vec<&str> = ERAS.iter().map(|era| era.file).collect();
    assert_eq!(
        listed, migrations,
        "each migration needs a seed of the same name in tests/fixtures/upgrades/postgres \
         and a line in ERAS"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrades/postgres");
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
    assert_eq!(files, migrations);
}

/// A database a newer pli migrated (sqlx: "previously applied but is missing") is refused
/// at connect, naming its migration and this build's newest and saying what to run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_migrated_by_a_newer_build_is_refused() {
    let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
    drop(connect(&url).await.expect("this build migrates"));
    let known = newest();
    let mut newer: Vec<Migration> = MIGRATOR.iter().cloned().collect();
    newer.push(Migration::new(
        known + 1,
        "from a newer pli".into(),
        MigrationType::Simple,
        "CREATE TABLE from_a_newer_pli (x BIGINT)".into_sql_str(),
        false,
    ));
    let pool = PgPool::connect(&url).await.expect("pool");
    Migrator::with_migrations(newer)
        .run(&pool)
        .await
        .expect("the newer build migrates");
    let Err(err) = connect(&url).await else {
        panic!("a newer database was accepted");
    };
    assert!(
        matches!(err, ConnectError::TooNew { found, known: k } if found == known + 1 && k == known),
        "{err:?}"
    );
    let text = err.to_string();
    for part in [
        format!("migration {}", known + 1),
        format!("this build knows ({known})"),
        "run that pli or a newer one".to_owned(),
    ] {
        assert!(text.contains(&part), "{text:?} lacks {part:?}");
    }
    // A migration edited after release is refused too, rather than half-trusted.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(known + 1)
        .execute(&pool)
        .await
        .expect("forget the newer migration");
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 1")
        .execute(&pool)
        .await
        .expect("edit a migration");
    let Err(err) = connect(&url).await else {
        panic!("an edited migration was accepted");
    };
    assert!(matches!(err, ConnectError::Modified(1)), "{err:?}");
}
