//! The audit log is tamper-evident and reports are checkable: edits to audit rows in the
//! database are caught and named, and a report the log does not support is refuted.

mod common;

use common::{TestServer, TestUser, alerts, lawful_request, staff};
use pli_client::admin::{AdminClient, AuditError};
use pli_proto::audit::LogError;
use pli_proto::governance::{
    DataCategory, LegalBasis, RejectRequest, ReportRequest, RequestView, days_from_civil,
};
use pli_proto::report::Report;
use pli_server::clock::ManualClock;
use serde_json::json;

const PLI: &str = env!("CARGO_BIN_EXE_pli");

fn public(server: &TestServer) -> AdminClient {
    AdminClient::new(&server.url, None, None).expect("client")
}

async fn tamper(server: TestServer, sql: &str) -> TestServer {
    let data = server.stop().await;
    common::TestDb::of(data.path()).execute(sql).await;
    TestServer::start_on(data).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_or_deleting_an_audit_row_is_detected_and_named() {
    let server = TestServer::start().await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    for _ in 0..2 {
        let _: RequestView = staff.legal[0]
            .post(
                "/admin/v1/requests",
                &lawful_request(
                    LegalBasis::Subpoena,
                    &["alice"],
                    &[DataCategory::Subscriber],
                ),
            )
            .await
            .expect("request");
    }
    let honest = public(&server).export_log().await.expect("export");
    let size = honest.verify(None).expect("an honest log verifies").size;
    assert!(size >= 8, "init, five staff, two requests: {size}");
    let key = honest.key.public_key.clone();

    // Proofs for auditors holding an older checkpoint, or one entry.
    let log = honest.verify(None).expect("verifies");
    let leaves: Vec<_> = honest
        .entries
        .iter()
        .map(|e| pli_proto::merkle::leaf_hash(e.as_bytes()))
        .collect();
    let old_root = pli_proto::merkle::root(&leaves[..3]);
    let hashes = |proof: pli_proto::governance::AuditProof| -> Vec<[u8; 32]> {
        proof
            .proof
            .iter()
            .map(|h| hex::decode(h).expect("hex").try_into().expect("32 bytes"))
            .collect()
    };
    let consistency: pli_proto::governance::AuditProof = public(&server)
        .get(&format!("/v1/audit/consistency?from=3&to={size}"))
        .await
        .expect("consistency proof");
    assert!(pli_proto::merkle::verify_consistency(
        3,
        size,
        &old_root,
        &log.root,
        &hashes(consistency)
    ));
    let inclusion: pli_proto::governance::AuditProof = public(&server)
        .get(&format!("/v1/audit/inclusion?index=2&size={size}"))
        .await
        .expect("inclusion proof");
    assert!(pli_proto::merkle::verify_inclusion(
        &leaves[2],
        2,
        size,
        &hashes(inclusion),
        &log.root
    ));

    // Someone with database access rewrites entry 3 (a staff member's role).
    let rewrite = if common::on_postgres() {
        "UPDATE audit_log SET entry = convert_to(replace(convert_from(entry, 'UTF8'), '\"legal\"', '\"auditor\"'), 'UTF8') WHERE seq = 3"
    } else {
        "UPDATE audit_log SET entry = CAST(replace(CAST(entry AS TEXT), '\"legal\"', '\"auditor\"') AS BLOB) WHERE seq = 3"
    };
    let server = tamper(server, rewrite).await;
    let edited = public(&server).export_log().await.expect("export");
    assert!(
        matches!(
            edited.verify(Some(&key)),
            Err(AuditError::Log(LogError::BadEntry(3)))
        ),
        "{:?}",
        edited.verify(Some(&key)).err()
    );
    let output = tokio::process::Command::new(PLI)
        .args(["audit", "verify", "--server", &server.url, "--key", &key])
        .output()
        .await
        .expect("run pli audit verify");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("entry 3 "),
        "the CLI names the entry: {stderr}"
    );

    // Deleting an entry (and its checkpoint) is caught at the first missing position.
    let server = tamper(
        server,
        "DELETE FROM audit_log WHERE seq = 6; DELETE FROM audit_checkpoints WHERE size = 7;",
    )
    .await;
    let deleted = public(&server).export_log().await.expect("export");
    assert!(matches!(
        deleted.verify(Some(&key)),
        Err(AuditError::Log(
            LogError::BadEntry(3) | LogError::BadEntry(6)
        ))
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_matches_the_log_and_a_doctored_one_is_refuted() {
    let clock = ManualClock::new(days_from_civil(2026, 11, 23) as u64 * 86_400_000);
    let server = TestServer::start_clocked(clock, |config| config.report_bands = false).await;
    for name in ["alice", "bob", "carol", "dave"] {
        TestUser::register(&server, name).await;
    }
    let staff = staff(&server).await;
    let legal = &staff.legal;
    let create =
        async |basis, target: &str, categories: &[DataCategory], country: &str| -> RequestView {
            let mut body = lawful_request(basis, &[target], categories);
            body.country = country.into();
            legal[0]
                .post("/admin/v1/requests", &body)
                .await
                .expect("create")
        };
    let rejected = create(
        LegalBasis::Subpoena,
        "alice",
        &[DataCategory::Subscriber],
        "FR",
    )
    .await;
    let _: RequestView = legal[1]
        .post(
            &format!("/admin/v1/requests/{}/reject", rejected.id),
            &RejectRequest {
                reason: "no jurisdiction".into(),
            },
        )
        .await
        .expect("reject");
    let disclosed = create(
        LegalBasis::CourtOrder,
        "bob",
        &[DataCategory::Subscriber, DataCategory::Devices],
        "DE",
    )
    .await;
    for reviewer in &legal[1..] {
        let _: RequestView = reviewer
            .post(
                &format!("/admin/v1/requests/{}/approve", disclosed.id),
                &json!({}),
            )
            .await
            .expect("approve");
    }
    let _: serde_json::Value = legal[1]
        .post(
            &format!("/admin/v1/requests/{}/disclose", disclosed.id),
            &json!({}),
        )
        .await
        .expect("disclose");
    let emergency = create(
        LegalBasis::Emergency,
        "carol",
        &[DataCategory::Subscriber],
        "FR",
    )
    .await;
    let _: RequestView = legal[1]
        .post(
            &format!("/admin/v1/requests/{}/approve", emergency.id),
            &json!({}),
        )
        .await
        .expect("approve");
    let _: serde_json::Value = legal[1]
        .post(
            &format!("/admin/v1/requests/{}/disclose", emergency.id),
            &json!({}),
        )
        .await
        .expect("disclose");
    let preservation = create(
        LegalBasis::Preservation,
        "dave",
        &[DataCategory::Subscriber],
        "US",
    )
    .await;
    let before: serde_json::Value = legal[0]
        .get("/admin/v1/inventory/dave")
        .await
        .expect("inventory");
    let _: RequestView = legal[1]
        .post(
            &format!("/admin/v1/requests/{}/approve", preservation.id),
            &json!({}),
        )
        .await
        .expect("approve");
    let after: serde_json::Value = legal[0]
        .get("/admin/v1/inventory/dave")
        .await
        .expect("inventory");
    assert_eq!(
        before["devices"], after["devices"],
        "preservation creates nothing"
    );
    assert!(
        after["preserved_until"].is_string(),
        "but holds the inventory from expiry"
    );

    let report: Report = staff
        .auditor
        .post(
            "/admin/v1/reports",
            &ReportRequest {
                period: "2026-Q4".into(),
            },
        )
        .await
        .expect("report");
    let f = report
        .figures
        .as_ref()
        .expect("exact totals: no region bands");
    assert_eq!(
        (
            f.requests.count,
            f.rejected.count,
            f.emergency.count,
            f.preservation.count
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(f.requests_with_data_produced.count, 2);
    assert_eq!(f.accounts_specified.count, 4);
    assert_eq!(f.notices_sent.count, 2);
    assert_eq!(f.requests_by_country_basis["FR/subpoena"].count, 1);
    assert_eq!(f.requests_by_country_basis["DE/court-order"].count, 1);

    let export = public(&server).export_log().await.expect("export");
    export
        .check_report(&report, None)
        .expect("the published report is confirmed");

    let mut doctored = report.clone();
    doctored.figures.as_mut().expect("totals").rejected.count = 0;
    assert!(matches!(
        export.check_report(&doctored, None),
        Err(AuditError::ReportSignature)
    ));

    // A server that signs figures its own log does not support is refuted all the same.
    let seed = server.audit_seed().await;
    doctored.sign(&ed25519_dalek::SigningKey::from_bytes(&seed));
    match export.check_report(&doctored, None) {
        Err(AuditError::Refuted(why)) => assert!(why.contains("rejected"), "{why}"),
        other => panic!("expected a refutation, got {other:?}"),
    }
    let html = pli_server::governance::report::html(&report);
    assert!(html.contains("Requests rejected") && html.contains("<td>1</td>"));
}

/// Hex of `bytes` as a SQL literal for the test's backend.
fn sql_blob(bytes: &[u8]) -> String {
    if common::on_postgres() {
        format!("'\\x{}'::bytea", hex::encode(bytes))
    } else {
        format!("X'{}'", hex::encode(bytes))
    }
}

/// What an operator holding `audit.key` does to hide a record: rewrites entry 3 and signs
/// every checkpoint again with the real key, so the log verifies on its own.
async fn rewrite_and_resign(server: TestServer, name: &str) -> TestServer {
    let seed = server.audit_seed().await;
    let data = server.stop().await;
    let db = common::TestDb::of(data.path());
    let rewrite = if common::on_postgres() {
        "UPDATE audit_log SET entry = convert_to(replace(convert_from(entry, 'UTF8'), '\"legal\"', '\"auditor\"'), 'UTF8') WHERE seq = 3"
    } else {
        "UPDATE audit_log SET entry = CAST(replace(CAST(entry AS TEXT), '\"legal\"', '\"auditor\"') AS BLOB) WHERE seq = 3"
    };
    db.execute(rewrite).await;
    let entries = db.bytes("SELECT entry FROM audit_log ORDER BY seq").await;
    let leaves: Vec<_> = entries
        .iter()
        .map(|e| pli_proto::merkle::leaf_hash(e))
        .collect();
    let first = db.integers("SELECT MIN(seq) FROM audit_log").await[0];
    db.execute(&format!(
        "UPDATE audit_log SET leaf_hash = {} WHERE seq = 3",
        sql_blob(&leaves[(3 - first) as usize])
    ))
    .await;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    for size in db
        .integers("SELECT size FROM audit_checkpoints ORDER BY size")
        .await
    {
        let note = pli_proto::checkpoint::Checkpoint {
            origin: name.to_owned(),
            size: size as u64,
            root: pli_proto::merkle::root(&leaves[..size as usize]),
        }
        .sign(name, &key);
        db.execute(&format!(
            "UPDATE audit_checkpoints SET note = '{}' WHERE size = {size}",
            note.replace('\'', "''")
        ))
        .await;
    }
    TestServer::start_on(data).await
}

/// The operator rewrites one entry and re-signs the whole log with the real key: the log
/// verifies on its own, but the auditor that kept its last checkpoint (`--state`) and a
/// user's device each catch it; so is a log cut back to fewer entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_and_re_signed_log_is_caught_by_whoever_kept_a_checkpoint() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    staff(&server).await;
    let states = tempfile::tempdir().expect("temp dir");
    let state = states.path().join("auditor.json");
    let verify = |url: String, state: std::path::PathBuf| async move {
        tokio::process::Command::new(PLI)
            .args(["audit", "verify", "--server", &url, "--state"])
            .arg(&state)
            .output()
            .await
            .expect("run pli audit verify")
    };
    assert!(
        verify(server.url.clone(), state.clone())
            .await
            .status
            .success()
    );
    alice.client.sync().await.expect("sync");
    assert!(alerts(&alice.client.take_new().expect("events")).is_empty());
    let name = public(&server).export_log().await.expect("export").key.name;

    let mut server = rewrite_and_resign(server, &name).await;
    alice.reopen(&server.url);
    let forged = public(&server).export_log().await.expect("export");
    forged
        .verify(None)
        .expect("the re-signed log verifies on its own");
    let output = verify(server.url.clone(), state.clone()).await;
    assert!(!output.status.success(), "the stateful auditor refuses it");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fork"), "{stderr}");
    alice.client.sync().await.expect("messaging goes on");
    let raised = alerts(&alice.client.take_new().expect("events"));
    assert!(
        raised
            .iter()
            .any(|a| a.contains("audit log") && a.contains("fork")),
        "{raised:?}"
    );

    // A new auditor starts from the forged log; the operator then cuts it back.
    let fresh = states.path().join("fresh.json");
    assert!(
        verify(server.url.clone(), fresh.clone())
            .await
            .status
            .success()
    );
    let size = forged.verify(None).expect("verifies").size;
    let data = server.stop().await;
    common::TestDb::of(data.path())
        .execute(&format!(
            "DELETE FROM audit_log WHERE seq > {keep}; DELETE FROM audit_checkpoints WHERE size > {keep};",
            keep = size - 2
        ))
        .await;
    server = TestServer::start_on(data).await;
    let output = verify(server.url.clone(), fresh).await;
    assert!(!output.status.success(), "a rollback fails");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rollback"), "{stderr}");
    server.stop().await;
}

/// `pli audit witness` as a process: its output lines and its stop.
struct WitnessProcess {
    child: tokio::process::Child,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    stderr: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>,
}

impl WitnessProcess {
    fn start(url: &str, key: &std::path::Path, state: &std::path::Path) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(PLI)
            .args([
                "audit",
                "witness",
                "--server",
                url,
                "--interval",
                "1",
                "--key",
            ])
            .arg(key)
            .arg("--state")
            .arg(state)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the witness");
        let stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let stderr = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        Self {
            child,
            stdout,
            stderr,
        }
    }

    async fn line(&mut self) -> String {
        self.stdout
            .next_line()
            .await
            .expect("read")
            .expect("a line")
    }

    /// Ctrl-C: the witness stops cleanly.
    async fn interrupt(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.child.wait().await.expect("wait");
        assert!(status.success(), "the witness stops on Ctrl-C: {status}");
    }
}

/// A witness co-signs the log's checkpoints and the server serves its cosignatures; a
/// device that requires it keeps only what it co-signed. After the operator rewrites an
/// entry and re-signs the log, the witness refuses to co-sign, so no checkpoint of the
/// forged log carries its cosignature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_co_signs_what_extends_its_view_and_refuses_a_rewritten_log() {
    use pli_proto::witness::WitnessKey;

    let files = tempfile::tempdir().expect("temp dir");
    let key_file = files.path().join("witness.key");
    let state = files.path().join("witness.json");
    std::fs::write(&key_file, [42u8; 32]).expect("key");
    let witness = WitnessKey::of(
        "pli-witness",
        &ed25519_dalek::SigningKey::from_bytes(&[42; 32]),
    );
    let listed = witness.clone();
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), move |config| {
        config.witnesses = vec![listed];
    })
    .await;
    let mut alice = TestUser::register(&server, "alice").await;
    staff(&server).await;
    alice
        .client
        .require_witness(&witness.vkey())
        .expect("policy");

    let mut process = WitnessProcess::start(&server.url, &key_file, &state);
    assert_eq!(process.line().await, format!("witness {}", witness.vkey()));
    let cosigned = process.line().await;
    let size: u64 = cosigned
        .strip_prefix("co-signed the checkpoint of size ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cosigned}"));
    process.interrupt().await;

    let export = public(&server).export_log().await.expect("export");
    let log_key = export.log_key(None).expect("key");
    let served: pli_proto::governance::AuditCheckpoints = public(&server)
        .get(&format!("/v1/audit/checkpoints?from={size}&limit=1"))
        .await
        .expect("checkpoints");
    let note = &served.checkpoints[0];
    let checkpoint = pli_proto::checkpoint::UnverifiedCheckpoint::parse(note)
        .expect("parse")
        .verify(&log_key)
        .expect("the log's own signature still verifies");
    assert!(witness.cosigned(&checkpoint, note), "{note}");
    alice.client.sync().await.expect("sync");
    let db = |home: &std::path::Path| {
        rusqlite::Connection::open(home.join(pli_client::local::DATABASE_FILE)).expect("db")
    };
    let kept: i64 = db(alice.home.path())
        .query_row("SELECT size FROM audit_seen", [], |r| r.get(0))
        .expect("alice kept a checkpoint");
    assert_eq!(kept as u64, size, "the witnessed checkpoint");

    // A cosignature from a witness the server does not list, or one that does not verify.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let line = pli_proto::witness::cosign(&checkpoint, "stranger", &stranger, 1);
    let refused = alice
        .transport(&server)
        .submit_cosignature(size, &WitnessKey::of("stranger", &stranger).vkey(), &line)
        .await;
    assert_eq!(common::code(refused), pli_proto::ErrorCode::UnknownWitness);
    let forged_line = pli_proto::witness::cosign(&checkpoint, "pli-witness", &stranger, 1);
    let refused = alice
        .transport(&server)
        .submit_cosignature(size, &witness.vkey(), &forged_line)
        .await;
    assert_eq!(common::code(refused), pli_proto::ErrorCode::BadCosignature);

    let name = export.key.name.clone();
    let server = rewrite_and_resign(server, &name).await;
    let mut process = WitnessProcess::start(&server.url, &key_file, &state);
    assert_eq!(process.line().await, format!("witness {}", witness.vkey()));
    let refusal = process
        .stderr
        .next_line()
        .await
        .expect("read")
        .expect("a refusal");
    assert!(
        refusal.contains("refused") && refusal.contains("fork"),
        "{refusal}"
    );
    process.interrupt().await;
    let served: pli_proto::governance::AuditCheckpoints = public(&server)
        .get("/v1/audit/checkpoints?from=1")
        .await
        .expect("checkpoints");
    for note in &served.checkpoints {
        let checkpoint = pli_proto::checkpoint::UnverifiedCheckpoint::parse(note)
            .expect("parse")
            .verify(&log_key)
            .expect("re-signed with the real key");
        assert!(
            !witness.cosigned(&checkpoint, note),
            "the forged checkpoint of size {} carries no valid cosignature",
            checkpoint.size
        );
    }
    server.stop().await;
}
