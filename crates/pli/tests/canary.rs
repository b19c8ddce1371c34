//! Privacy: a canary string sent in messages and used as a group name appears nowhere in
//! the server's data directory (database, WAL, key file) nor in its logs at debug level.
//! Its own test binary, because it installs a process-wide log subscriber.

mod common;

use common::{TestServer, TestUser, contains, files_under};
use std::io::Write;
use std::sync::{Arc, Mutex};

const CANARY: &str = "CANARY-7f3a9c1e-plaintext";

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_never_reaches_server_storage_or_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let group = alice
        .client
        .create_group(
            &format!("{CANARY} group name"),
            &[bob.name.clone(), carol.name.clone()],
        )
        .await
        .expect("group");
    alice.send(&group, &format!("first {CANARY}")).await;
    // Leave one undelivered in carol's queue so the check covers queued ciphertexts too.
    let got = bob.receive().await;
    assert_eq!(got.len(), 1);
    assert!(got[0].2.contains(CANARY), "the canary really was sent");
    bob.send(&group, &format!("reply {CANARY}")).await;
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    alice.send(&direct, CANARY).await;
    assert!(
        bob.client
            .conversations()
            .expect("list")
            .iter()
            .any(|c| c.name.contains(CANARY))
    );
    let _ = carol.client.sync().await;

    // Staff at work: a lawful request about alice, approved, disclosed, reported.
    let staff = common::staff(&server).await;
    let request: pli_proto::governance::RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &common::lawful_request(
                pli_proto::governance::LegalBasis::CourtOrder,
                &["alice"],
                &[pli_proto::governance::DataCategory::Subscriber],
            ),
        )
        .await
        .expect("request");
    for reviewer in &staff.legal[1..] {
        let _: pli_proto::governance::RequestView = reviewer
            .post(
                &format!("/admin/v1/requests/{}/approve", request.id),
                &serde_json::json!({}),
            )
            .await
            .expect("approve");
    }
    let _: serde_json::Value = staff.legal[1]
        .post(
            &format!("/admin/v1/requests/{}/disclose", request.id),
            &serde_json::json!({}),
        )
        .await
        .expect("disclose");
    let _: serde_json::Value = staff.legal[0]
        .get("/admin/v1/inventory/carol")
        .await
        .expect("inventory");
    let _: serde_json::Value = staff
        .auditor
        .post(
            "/admin/v1/reports",
            &serde_json::json!({"period": "2026-Q4"}),
        )
        .await
        .expect("report");
    let audit_log = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    for name in ["alice", "bob", "carol"] {
        assert!(
            !audit_log.entries.iter().any(|e| e.contains(name)),
            "the public audit log names no user"
        );
    }

    let secrets: Vec<String> = [&alice, &bob, &carol]
        .iter()
        .map(|user| user.identity().secret)
        .collect();
    let data = server.stop().await;
    let files = files_under(data.path());
    let db = common::TestDb::of(data.path());
    if let common::TestDb::Postgres(_) = db {
        let dump = db.dump();
        assert!(
            contains(&dump, b"alice"),
            "the scan covers the database (usernames are in the inventory)"
        );
        // pg_dump writes bytea columns as hex: look for both spellings.
        let spellings = |text: &str| [text.as_bytes().to_vec(), hex::encode(text).into_bytes()];
        for canary in spellings(CANARY) {
            assert!(!contains(&dump, &canary), "canary found in the dump");
        }
        for user in [&alice, &bob, &carol] {
            for secret in spellings(&user.identity().secret) {
                assert!(
                    !contains(&dump, &secret),
                    "a device secret is stored in clear"
                );
            }
        }
    } else {
        assert!(
            files.iter().any(|f| f.ends_with(pli_server::DATABASE_FILE)),
            "the scan covers the database"
        );
    }
    for file in files {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "canary found in {}",
            file.display()
        );
        for secret in &secrets {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "a device secret is stored in clear"
            );
        }
    }
    let captured = logs.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(!captured.is_empty(), "logs were captured");
    assert!(
        !contains(&captured, CANARY.as_bytes()),
        "canary found in the server's logs"
    );
    let text = String::from_utf8_lossy(&captured);
    for secret in &secrets {
        if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
            panic!(
                "a device secret reached the logs: {}",
                &line[..line.len().min(400)]
            );
        }
    }
    assert!(
        !contains(&captured, b"Tribunal judiciaire"),
        "what staff typed into a request stays out of the logs"
    );
    for name in ["alice", "carol"] {
        assert!(
            !contains(&captured, name.as_bytes()),
            "a username reached the logs"
        );
    }
}
