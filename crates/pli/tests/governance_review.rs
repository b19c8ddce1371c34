//! The second review of emergencies, end to end: a review not done by its deadline is an
//! audit entry from the moment it falls due, every legal reviewer is told of it, and the
//! review may reject a disclosure already made. Transparency reports count both.

mod common;

use common::{TestServer, TestUser, code, lawful_request, staff};
use pli_client::admin::AdminClient;
use pli_proto::ErrorCode;
use pli_proto::audit::AuditEntry;
use pli_proto::governance::{
    DataCategory, LegalBasis, RejectRequest, RequestState, RequestView, StaffAlert, days_from_civil,
};
use pli_proto::report::Report;
use pli_server::clock::ManualClock;
use serde_json::json;

const HOUR: u64 = 3_600_000;

fn day(y: i64, m: u32, d: u32) -> u64 {
    days_from_civil(y, m, d) as u64 * 86_400_000
}

/// An emergency about alice entered by `staff.legal[0]`, approved by `staff.legal[1]` alone
/// and disclosed.
async fn disclosed_emergency(staff: &common::Staff) -> RequestView {
    let request: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(
                LegalBasis::Emergency,
                &["alice"],
                &[DataCategory::Subscriber],
            ),
        )
        .await
        .expect("created");
    let path = format!("/admin/v1/requests/{}", request.id);
    let approved: RequestView = staff.legal[1]
        .post(&format!("{path}/approve"), &json!({}))
        .await
        .expect("one approval");
    assert_eq!(approved.state, RequestState::Approved);
    let _: serde_json::Value = staff.legal[1]
        .post(&format!("{path}/disclose"), &json!({}))
        .await
        .expect("disclosed");
    request
}

async fn log(server: &TestServer) -> (pli_client::admin::LogExport, Vec<AuditEntry>) {
    let export = AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    let entries = export.verify(None).expect("the log verifies").entries;
    (export, entries)
}

/// The auditor's signed report for 2026-Q4, confirmed against the log as anyone would.
async fn confirmed_report(server: &TestServer, staff: &common::Staff) -> Report {
    let report: Report = staff
        .auditor
        .post("/admin/v1/reports", &json!({ "period": "2026-Q4" }))
        .await
        .expect("report");
    let (export, _) = log(server).await;
    export.check_report(&report, None).expect("confirmed");
    report
}

async fn alerts(client: &AdminClient) -> Vec<StaffAlert> {
    client.get("/admin/v1/alerts").await.expect("alerts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_second_review_is_logged_when_due_and_every_reviewer_is_told() {
    let clock = ManualClock::new(day(2026, 11, 23));
    // Exact figures: bands would publish small counts as "0–9" only.
    let server =
        TestServer::start_clocked(clock.clone(), |config| config.report_bands = false).await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    let request = disclosed_emergency(&staff).await;
    let path = format!("/admin/v1/requests/{}", request.id);

    clock.advance(47 * HOUR);
    let _: Vec<RequestView> = staff.legal[0]
        .get("/admin/v1/requests")
        .await
        .expect("list");
    assert!(alerts(&staff.legal[2]).await.is_empty(), "not yet due");
    let (_, entries) = log(&server).await;
    assert!(!entries.iter().any(|e| e.action == "request.overdue"));

    clock.advance(2 * HOUR);
    // The first staff call after the deadline finds the lateness already in the log.
    let told = alerts(&staff.legal[2]).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].request_id, request.id);
    assert_eq!(told[0].kind, "second-review-overdue");
    assert!(told[0].open);
    for reviewer in &staff.legal {
        assert_eq!(alerts(reviewer).await, told, "every legal reviewer is told");
    }
    let shown: RequestView = staff.legal[0].get(&path).await.expect("show");
    assert!(shown.overdue);
    let _: Vec<RequestView> = staff.legal[0]
        .get("/admin/v1/requests")
        .await
        .expect("list");
    let (_, entries) = log(&server).await;
    let overdue: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| e.action == "request.overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "recorded once, when it fell due");
    assert_eq!(overdue[0].seq, told[0].seq);
    assert_eq!(
        (overdue[0].staff_id, overdue[0].role.as_str()),
        (0, "server")
    );
    let mut notified: Vec<u64> = overdue[0].details["notify"]
        .as_array()
        .expect("notify")
        .iter()
        .map(|id| id.as_u64().expect("a staff id"))
        .collect();
    notified.sort_unstable();
    let mut legal = staff.legal_ids.clone();
    legal.sort_unstable();
    assert_eq!(notified, legal, "names every legal reviewer, and only them");

    // The review itself: neither the author nor the approver may give it.
    for not_independent in &staff.legal[..2] {
        assert_eq!(
            code(
                not_independent
                    .post::<_, RequestView>(&format!("{path}/approve"), &json!({}))
                    .await
            ),
            ErrorCode::PolicyRefused
        );
    }
    let reviewed: RequestView = staff.legal[2]
        .post(&format!("{path}/approve"), &json!({}))
        .await
        .expect("second review");
    assert!(!reviewed.overdue && reviewed.second_review_due_ms.is_none());
    assert!(!alerts(&staff.legal[0]).await[0].open, "done");

    let report = confirmed_report(&server, &staff).await;
    assert_eq!(
        report
            .figures
            .as_ref()
            .expect("exact totals")
            .emergency_reviews_overdue
            .count,
        1
    );
    assert_eq!(
        report
            .figures
            .as_ref()
            .expect("exact totals")
            .emergency_reviews_overdue
            .entries,
        vec![overdue[0].seq]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_review_can_reject_an_emergency_disclosure() {
    let clock = ManualClock::new(day(2026, 11, 23));
    // Exact figures: bands would publish small counts as "0–9" only.
    let server =
        TestServer::start_clocked(clock.clone(), |config| config.report_bands = false).await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    let request = disclosed_emergency(&staff).await;
    let reject = format!("/admin/v1/requests/{}/reject", request.id);
    let reason = RejectRequest {
        reason: "no imminent threat: the attestation describes a past event".into(),
    };
    for not_independent in &staff.legal[..2] {
        assert_eq!(
            code(
                not_independent
                    .post::<_, RequestView>(&reject, &reason)
                    .await
            ),
            ErrorCode::PolicyRefused,
            "the author and the approver do not review their own emergency"
        );
    }
    let rejected: RequestView = staff.legal[2]
        .post(&reject, &reason)
        .await
        .expect("the second review rejects it");
    assert_eq!(rejected.state, RequestState::Rejected);
    assert!(rejected.package_sha256.is_some(), "it was disclosed");
    assert!(
        rejected.second_review_due_ms.is_none(),
        "the review is done"
    );
    assert_eq!(
        code(
            staff.legal[2]
                .post::<_, RequestView>(&reject, &reason)
                .await
        ),
        ErrorCode::InvalidState,
        "rejected once"
    );

    // An ordinary rejection, before anything was disclosed, is not counted with them.
    let ordinary: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(
                LegalBasis::Subpoena,
                &["alice"],
                &[DataCategory::Subscriber],
            ),
        )
        .await
        .expect("created");
    let _: RequestView = staff.legal[1]
        .post(
            &format!("/admin/v1/requests/{}/reject", ordinary.id),
            &reason,
        )
        .await
        .expect("rejected");

    // Past the deadline nothing falls overdue: the review was given.
    clock.advance(49 * HOUR);
    assert!(alerts(&staff.legal[0]).await.is_empty());
    let (_, entries) = log(&server).await;
    let after: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| e.action == "request.reject" && e.outcome == "ok")
        .collect();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].details["rejected_after_disclosure"], true);
    assert!(after[1].details.get("rejected_after_disclosure").is_none());
    assert!(!entries.iter().any(|e| e.action == "request.overdue"));

    let report = confirmed_report(&server, &staff).await;
    assert_eq!(
        report
            .figures
            .as_ref()
            .expect("exact totals")
            .rejected
            .count,
        2
    );
    assert_eq!(
        report
            .figures
            .as_ref()
            .expect("exact totals")
            .emergency_rejected_after_disclosure
            .entries,
        vec![after[0].seq]
    );
    let html = pli_server::governance::report::html(&report);
    assert!(html.contains("Emergency disclosures rejected by their second review"));
}
