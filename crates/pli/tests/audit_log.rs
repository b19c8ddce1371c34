//! The audit log is tamper-evident and reports are checkable: edits to audit rows in the
//! database are caught and named, and a report the log does not support is refuted.

mod common;

use common::{TestServer, TestUser, lawful_request, staff};
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
    let f = &report.figures;
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
    doctored.figures.rejected.count = 0;
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
