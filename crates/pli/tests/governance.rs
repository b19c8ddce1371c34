//! Lawful requests end to end: the rules the software enforces, disclosure packages, and
//! the notice each user receives (held while a non-disclosure order stands).

mod common;

use common::{TestServer, TestUser, code, lawful_request, staff, test_regions};
use pli_client::Event;
use pli_proto::ErrorCode;
use pli_proto::governance::{
    DataCategory, LegalBasis, NewRequest, RequestState, RequestView, days_from_civil,
};
use pli_server::clock::ManualClock;
use serde_json::json;

const HOUR: u64 = 3_600_000;

fn day(y: i64, m: u32, d: u32) -> u64 {
    days_from_civil(y, m, d) as u64 * 86_400_000
}

fn notices(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { text, .. } if text.contains("disclosed") => Some(text.clone()),
            _ => None,
        })
        .collect()
}

async fn create(client: &pli_client::admin::AdminClient, request: &NewRequest) -> RequestView {
    client
        .post("/admin/v1/requests", request)
        .await
        .expect("request created")
}

async fn approve(
    client: &pli_client::admin::AdminClient,
    id: &str,
) -> Result<RequestView, pli_client::ClientError> {
    client
        .post(&format!("/admin/v1/requests/{id}/approve"), &json!({}))
        .await
}

async fn disclose(
    client: &pli_client::admin::AdminClient,
    id: &str,
) -> Result<serde_json::Value, pli_client::ClientError> {
    client
        .post(&format!("/admin/v1/requests/{id}/disclose"), &json!({}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_disclose_only_the_inventory_and_the_user_is_told() {
    let server =
        TestServer::start_clocked(ManualClock::new(day(2026, 11, 23) + 12 * HOUR), |_| {}).await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    alice.send(&direct, "private words").await;
    let staff = staff(&server).await;
    let (entering, second, third) = (&staff.legal[0], &staff.legal[1], &staff.legal[2]);

    let request = create(
        entering,
        &lawful_request(
            LegalBasis::CourtOrder,
            &["alice"],
            &[DataCategory::Subscriber, DataCategory::Devices],
        ),
    )
    .await;
    assert_eq!(request.state, RequestState::Received);
    assert_eq!(
        code(approve(entering, &request.id).await),
        ErrorCode::PolicyRefused,
        "the enterer cannot approve"
    );
    let reviewed = approve(second, &request.id).await.expect("first approval");
    assert_eq!(reviewed.state, RequestState::InReview);
    assert_eq!(
        code(approve(second, &request.id).await),
        ErrorCode::PolicyRefused,
        "one reviewer counts once"
    );
    assert_eq!(
        code(disclose(second, &request.id).await),
        ErrorCode::InvalidState,
        "one approval is not enough"
    );
    assert_eq!(
        approve(third, &request.id)
            .await
            .expect("second approval")
            .state,
        RequestState::Approved
    );

    let inventory: serde_json::Value = entering
        .get("/admin/v1/inventory/alice")
        .await
        .expect("inventory");
    let package = disclose(second, &request.id).await.expect("disclosed");
    let account = &package["accounts"][0];
    assert_eq!(account["found"], true);
    assert_eq!(account["subscriber"]["username"], "alice");
    assert_eq!(
        account["subscriber"]["created_day"],
        inventory["created_day"]
    );
    assert_eq!(
        account["devices"], inventory["devices"],
        "devices exactly as the inventory shows them"
    );
    let text = package.to_string();
    assert!(
        !text.contains("private words") && !text.contains("queued"),
        "no content, no queue, nothing beyond the categories"
    );

    // The package is signed by the log's key; its hash is in the request and the log.
    let export = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    let key = export.log_key(None).expect("key");
    let package_struct: pli_server::governance::inventory::Package =
        serde_json::from_value(package.clone()).expect("package");
    assert!(
        package_struct.verify_signature(&key.key),
        "signed by the log key"
    );
    let mut doctored = package_struct.clone();
    doctored.categories.push(DataCategory::Ip);
    assert!(
        !doctored.verify_signature(&key.key),
        "a doctored package does not verify"
    );
    let shown: RequestView = second
        .get(&format!("/admin/v1/requests/{}", request.id))
        .await
        .expect("show");
    assert_eq!(shown.state, RequestState::Notified);
    assert_eq!(
        shown.package_sha256.as_deref(),
        Some(package_struct.sha256().as_str())
    );
    let log = export.verify(None).expect("the log verifies");
    assert!(log.entries.iter().any(|e| e.action == "request.disclose"
        && e.details["package_sha256"] == json!(package_struct.sha256())));
    assert!(
        !export.entries.iter().any(|e| e.contains("alice")),
        "the public log names no user"
    );

    alice.client.sync().await.expect("sync");
    let told = notices(&alice.client.take_new().expect("events"));
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("Tribunal judiciaire de Paris (FR)") && told[0].contains("court-order"),
        "{}",
        told[0]
    );
    bob.client.sync().await.expect("sync");
    assert!(notices(&bob.client.take_new().expect("events")).is_empty());
}

async fn edit(
    client: &pli_client::admin::AdminClient,
    id: &str,
    request: &NewRequest,
) -> Result<RequestView, pli_client::ClientError> {
    client
        .post(&format!("/admin/v1/requests/{id}/edit"), request)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_who_edits_a_request_cannot_approve_it() {
    let server = TestServer::start_clocked(ManualClock::new(day(2026, 11, 23)), |_| {}).await;
    TestUser::register(&server, "alice").await;
    TestUser::register(&server, "bob").await;
    let staff = staff(&server).await;
    let (entering, editing, independent) = (&staff.legal[0], &staff.legal[1], &staff.legal[2]);
    let request = create(
        entering,
        &lawful_request(
            LegalBasis::CourtOrder,
            &["alice"],
            &[DataCategory::Subscriber],
        ),
    )
    .await;
    // The second reviewer rewrites it: another target, more data, an emergency (which one
    // approval discloses)...
    let rewritten = edit(
        editing,
        &request.id,
        &lawful_request(
            LegalBasis::Emergency,
            &["alice", "bob"],
            &[DataCategory::Subscriber, DataCategory::Devices],
        ),
    )
    .await
    .expect("edited");
    assert_eq!(rewritten.edited_by, vec![staff.legal_ids[1]]);
    // ...and may not approve it alone, nor may the one who entered it.
    assert_eq!(
        code(approve(editing, &request.id).await),
        ErrorCode::PolicyRefused,
        "an editor cannot approve"
    );
    assert_eq!(
        code(approve(entering, &request.id).await),
        ErrorCode::PolicyRefused,
        "the enterer cannot approve"
    );
    assert_eq!(
        code(disclose(editing, &request.id).await),
        ErrorCode::InvalidState,
        "nothing to disclose"
    );
    // A reviewer who neither entered nor edited it is the one approval an emergency needs.
    let approved = approve(independent, &request.id).await.expect("approved");
    assert_eq!(approved.state, RequestState::Approved);
    assert!(approved.second_review_due_ms.is_some());
    // The refusals are in the log, with the reason.
    let export = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    let log = export.verify(None).expect("verifies");
    let refused: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.action == "request.approve" && e.outcome == "refused")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused.iter().all(|e| e.details["reason"]
            .as_str()
            .is_some_and(|r| r.contains("entered or edited"))),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_weak_bases_and_unrecognised_bases_are_refused_with_reasons() {
    // Two regions: requests about an account follow its home region's policy.
    let server = TestServer::start_clocked(ManualClock::new(day(2026, 11, 23)), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[0].policy.recognised_bases = vec![
            LegalBasis::Subpoena,
            LegalBasis::CourtOrder,
            LegalBasis::Emergency,
            LegalBasis::Preservation,
        ];
    })
    .await;
    TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    let staff = staff(&server).await;
    let legal = &staff.legal[0];
    let mut body = serde_json::to_value(lawful_request(
        LegalBasis::CourtOrder,
        &["alice"],
        &[DataCategory::Subscriber],
    ))
    .expect("json");
    body["categories"] = json!(["content"]);
    let refused: Result<RequestView, _> = legal.post("/admin/v1/requests", &body).await;
    assert_eq!(
        code(refused),
        ErrorCode::BadRequest,
        "content is not a category at all"
    );

    let weak = legal
        .post::<_, RequestView>(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::Subpoena, &["alice"], &[DataCategory::Devices]),
        )
        .await;
    let pli_client::ClientError::Api { code, message, .. } = weak.expect_err("refused") else {
        panic!("api error")
    };
    assert_eq!(code, ErrorCode::PolicyRefused);
    assert!(
        message.contains("devices category needs at least a court-order"),
        "{message}"
    );

    let unrecognised = legal
        .post::<_, RequestView>(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::Mlat, &["alice"], &[DataCategory::Subscriber]),
        )
        .await;
    let pli_client::ClientError::Api { message, .. } = unrecognised.expect_err("refused") else {
        panic!("api error")
    };
    assert!(message.contains("not recognised in region eu"), "{message}");
    // The same basis for an account homed in a region that recognises it is accepted, and
    // a request naming accounts of both regions is held to the stricter policy.
    legal
        .post::<_, RequestView>(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::Mlat, &["bob"], &[DataCategory::Subscriber]),
        )
        .await
        .expect("mlat is recognised in region us");
    let both = legal
        .post::<_, RequestView>(
            "/admin/v1/requests",
            &lawful_request(
                LegalBasis::Mlat,
                &["bob", "alice"],
                &[DataCategory::Subscriber],
            ),
        )
        .await;
    let pli_client::ClientError::Api { message, .. } = both.expect_err("refused") else {
        panic!("api error")
    };
    assert!(
        message.contains("not recognised in region us+eu"),
        "{message}"
    );

    let ip = legal
        .post::<_, RequestView>(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::CourtOrder, &["alice"], &[DataCategory::Ip]),
        )
        .await;
    let pli_client::ClientError::Api { message, .. } = ip.expect_err("refused") else {
        panic!("api error")
    };
    assert!(message.contains("keeps no IP"), "{message}");

    // Refusals are logged too.
    let export = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    let log = export.verify(None).expect("verifies");
    assert!(
        log.entries
            .iter()
            .filter(|e| e.action == "request.create" && e.outcome == "refused")
            .count()
            >= 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_policy_is_checked_again_at_approval_and_at_disclosure() {
    let server = TestServer::start_clocked(ManualClock::new(day(2026, 11, 23)), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[0].policy.recognised_bases = vec![LegalBasis::CourtOrder];
    })
    .await;
    TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    let staff = staff(&server).await;
    let body = lawful_request(LegalBasis::Mlat, &["bob"], &[DataCategory::Subscriber]);
    let pending = create(&staff.legal[0], &body).await;
    let ready = create(&staff.legal[0], &body).await;
    approve(&staff.legal[1], &pending.id).await.expect("first");
    approve(&staff.legal[1], &ready.id).await.expect("first");
    approve(&staff.legal[2], &ready.id).await.expect("second");
    let move_to = async |region: &str| {
        staff
            .operator
            .post::<_, serde_json::Value>(
                "/admin/v1/accounts/bob/region",
                &json!({ "region": region }),
            )
            .await
            .expect("moved")
    };
    // Bob's account moves to a region that does not recognise an MLAT request.
    move_to("eu").await;
    let refused = approve(&staff.legal[2], &pending.id).await;
    let pli_client::ClientError::Api { code, message, .. } = refused.expect_err("refused") else {
        panic!("api error")
    };
    assert_eq!(code, ErrorCode::PolicyRefused);
    assert!(message.contains("not recognised in region eu"), "{message}");
    let refused = disclose(&staff.legal[1], &ready.id).await;
    let pli_client::ClientError::Api { code, message, .. } = refused.expect_err("refused") else {
        panic!("api error")
    };
    assert_eq!(code, ErrorCode::PolicyRefused);
    assert!(message.contains("not recognised in region eu"), "{message}");
    // Back home, the same request discloses: the refusal was the policy's.
    move_to("us").await;
    disclose(&staff.legal[1], &ready.id)
        .await
        .expect("disclosed under the policy of us");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_discloses_on_one_approval_and_a_late_second_review_is_flagged() {
    let clock = ManualClock::new(day(2026, 11, 23));
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    let mut body = lawful_request(
        LegalBasis::Emergency,
        &["alice"],
        &[DataCategory::Subscriber],
    );
    body.attestation = None;
    assert_eq!(
        code(
            staff.legal[0]
                .post::<_, RequestView>("/admin/v1/requests", &body)
                .await
        ),
        ErrorCode::PolicyRefused,
        "attestation required"
    );
    let request = create(
        &staff.legal[0],
        &lawful_request(
            LegalBasis::Emergency,
            &["alice"],
            &[DataCategory::Subscriber],
        ),
    )
    .await;
    let approved = approve(&staff.legal[1], &request.id)
        .await
        .expect("one reviewer suffices");
    assert_eq!(approved.state, RequestState::Approved);
    assert!(approved.second_review_due_ms.is_some());
    disclose(&staff.legal[1], &request.id)
        .await
        .expect("emergency disclosure");
    clock.advance(47 * HOUR);
    let view: RequestView = staff.legal[0]
        .get(&format!("/admin/v1/requests/{}", request.id))
        .await
        .expect("show");
    assert!(!view.overdue, "not yet due");
    clock.advance(2 * HOUR);
    let view: RequestView = staff.legal[0]
        .get(&format!("/admin/v1/requests/{}", request.id))
        .await
        .expect("show");
    assert!(view.overdue, "the missing second review is flagged");
    let reviewed = approve(&staff.legal[2], &request.id)
        .await
        .expect("second review");
    assert!(!reviewed.overdue && reviewed.second_review_due_ms.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notice_waits_for_the_nondisclosure_order_then_arrives() {
    let clock = ManualClock::new(day(2026, 11, 23) + HOUR);
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let mut alice = TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    let mut body = lawful_request(
        LegalBasis::Subpoena,
        &["alice"],
        &[DataCategory::Subscriber],
    );
    body.nondisclosure_until = Some("2026-12-01".into());
    let request = create(&staff.legal[0], &body).await;
    approve(&staff.legal[1], &request.id)
        .await
        .expect("approve");
    approve(&staff.legal[2], &request.id)
        .await
        .expect("approve");
    disclose(&staff.legal[1], &request.id)
        .await
        .expect("disclose");
    let view: RequestView = staff.legal[0]
        .get(&format!("/admin/v1/requests/{}", request.id))
        .await
        .expect("show");
    assert_eq!(view.state, RequestState::Disclosed, "not yet notified");
    alice.client.sync().await.expect("sync");
    assert!(
        notices(&alice.client.take_new().expect("events")).is_empty(),
        "held by the order"
    );

    clock.advance(day(2026, 12, 1) - day(2026, 11, 23));
    alice.client.sync().await.expect("sync");
    let told = notices(&alice.client.take_new().expect("events"));
    assert_eq!(told.len(), 1, "released when the order expired");
    let view: RequestView = staff.legal[0]
        .get(&format!("/admin/v1/requests/{}", request.id))
        .await
        .expect("show");
    assert_eq!(view.state, RequestState::Notified);
    let export = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    let log = export.verify(None).expect("verifies");
    assert_eq!(
        log.entries
            .iter()
            .filter(|e| e.action == "notice.delayed")
            .count(),
        1
    );
    assert_eq!(
        log.entries
            .iter()
            .filter(|e| e.action == "notice.sent")
            .count(),
        1
    );
}
