//! Rolling back a binary after a migration: the real `pli serve`, on a database a newer pli
//! migrated, stops at start with a message that says what happened and what to run, and
//! leaves the database as it found it (RELIABILITY.md, "Upgrades"). That every earlier
//! schema version migrates with its data is `pli-server`'s `store::upgrades`.

mod common;

use common::{TestDb, TestServer, TestUser, database_for};
use std::time::Duration;

/// Longer than any refusal takes; a server that started instead is a failure, not a hang.
const REFUSAL_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_pli_refuses_a_database_a_newer_one_migrated() {
    let server = TestServer::start().await;
    TestUser::register(&server, "alice").await;
    let data = server.stop().await;
    let db = TestDb::of(data.path());
    // What a newer build leaves behind: one migration more than this build knows.
    let (newer, expected) = match database_for(data.path()) {
        pli_server::Database::Sqlite => {
            let known = db.integers("PRAGMA user_version").await[0];
            db.execute(&format!("PRAGMA user_version = {}", known + 1))
                .await;
            let parts = vec![
                format!("schema version {}", known + 1),
                format!("this build knows ({known})"),
            ];
            ("PRAGMA user_version", parts)
        }
        pli_server::Database::Postgres(_) => {
            db.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum,
                 execution_time) VALUES (99990001, 'from a newer pli', TRUE, '\\x00', 0)",
            )
            .await;
            let parts = vec!["migration 99990001".to_owned()];
            ("SELECT max(version) FROM _sqlx_migrations", parts)
        }
    };
    let before = db.integers(newer).await;

    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pli"));
    if let pli_server::Database::Postgres(postgres) = database_for(data.path()) {
        command.env("PLI_DATABASE_URL", postgres.url);
    }
    let run = command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(REFUSAL_WITHIN, run)
        .await
        .expect("pli serve stopped instead of serving")
        .expect("run pli serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it started: {stderr}");
    for part in expected
        .iter()
        .map(String::as_str)
        .chain(["a newer pli migrated it; run that pli or a newer one"])
    {
        assert!(stderr.contains(part), "{stderr:?} lacks {part:?}");
    }
    assert_eq!(db.integers(newer).await, before, "the database was changed");
    let accounts = db.integers("SELECT COUNT(*) FROM accounts").await;
    assert_eq!(accounts, vec![1], "alice's account is still there");
}
