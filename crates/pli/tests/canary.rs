//! Privacy: a canary string sent in messages and used as a group name appears nowhere in
//! the server's data directory (database, WAL, key file) nor in its logs at trace level, in
//! either log format: the real `pli serve` binary runs with `--log trace` and
//! `--log-format text` or `json`, its stderr a pipe, and the test reads back every line.

mod common;

use common::{TestUser, contains, files_under};
use tempfile::TempDir;
use tokio::io::AsyncBufReadExt as _;

const CANARY: &str = "CANARY-7f3a9c1e-plaintext";

/// `pli serve` on a fresh data directory, its stderr kept line by line.
struct Served {
    url: String,
    data: TempDir,
    child: tokio::process::Child,
    stderr: tokio::task::JoinHandle<Vec<String>>,
}

/// The announcement's text: the line itself, or (JSON) its `message`.
fn message(format: &str, line: &str) -> Option<String> {
    match format {
        "json" => serde_json::from_str::<serde_json::Value>(line)
            .ok()?
            .get("message")?
            .as_str()
            .map(str::to_owned),
        _ => Some(line.to_owned()),
    }
}

impl Served {
    async fn start(format: &'static str) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pli"));
        if let pli_server::Database::Postgres(postgres) = common::database_for(data.path()) {
            command.env("PLI_DATABASE_URL", postgres.url);
        }
        let mut child = command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--pow-difficulty",
                "4",
                "--registrations-per-hour",
                "10000",
                "--log",
                "trace",
                "--log-format",
                format,
                "--data",
            ])
            .arg(data.path())
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn pli serve");
        let stderr = child.stderr.take().expect("stderr");
        let (found, url) = tokio::sync::oneshot::channel();
        // Read every line to the end (the server never blocks on a full pipe); the first
        // announcement names the address.
        let stderr = tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            let mut found = Some(found);
            let mut all = Vec::new();
            while let Some(line) = lines.next_line().await.expect("read stderr") {
                if let Some(text) = message(format, &line)
                    && let Some(rest) = text.strip_prefix("pli serving on ")
                    && let Some(send) = found.take()
                {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = send.send(url.to_owned());
                }
                all.push(line);
            }
            all
        });
        let url = url.await.expect("pli serve announces its address");
        Self {
            url,
            data,
            child,
            stderr,
        }
    }

    /// SIGTERM: the server stops cleanly; its data and every line it wrote.
    async fn stop(mut self) -> (TempDir, Vec<String>) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.child.wait().await.expect("wait");
        assert!(status.success(), "pli serve stops on SIGTERM: {status}");
        let lines = self.stderr.await.expect("the stderr reader");
        (self.data, lines)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_never_reaches_server_storage_or_text_logs() {
    let lines = canary_run("text").await;
    for line in &lines {
        assert!(
            !line.contains("\x1b["),
            "no colour codes when stderr is not a terminal: {line:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_never_reaches_server_storage_or_json_logs() {
    let lines = canary_run("json").await;
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        let object = value.as_object().expect("each line is one JSON object");
        for key in ["timestamp", "level", "target"] {
            assert!(object.contains_key(key), "no {key:?} in {line:?}");
        }
        assert!(
            !object.contains_key("fields"),
            "the event's fields are flattened: {line:?}"
        );
    }
}

/// Messages, a group, queued ciphertexts and staff at work on a `pli serve` logging at
/// trace level in `format`; checks its data and logs, and hands back the log lines.
async fn canary_run(format: &'static str) -> Vec<String> {
    let server = Served::start(format).await;
    let mut alice = TestUser::register_at(&server.url, "alice").await;
    let mut bob = TestUser::register_at(&server.url, "bob").await;
    let mut carol = TestUser::register_at(&server.url, "carol").await;
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
    let staff = common::staff_at(&server.url, server.data.path()).await;
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
    let (data, lines) = server.stop().await;
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
    assert!(
        lines.len() > 10,
        "the server logged at trace level: {lines:?}"
    );
    let captured = lines.join("\n").into_bytes();
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
    lines
}
