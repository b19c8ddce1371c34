//! Abuse reports with message franking, end to end on a real server and real clients: a
//! valid report shows trust & safety exactly what was sent, by whom and when; every
//! forgery is refused with its code; a message past its franking key's rotation cannot be
//! reported; unreported text never reaches storage, and reported text leaves with its
//! retention; and the CLI contract (`pli report`, `pli admin reports`).

mod common;

use common::{TestDb, TestServer, TestUser, code, contains};
use pli_client::reporting::ReportSelection;
use pli_proto::ErrorCode;
use pli_proto::abuse::{AbuseReportRequest, ReportReason, ReportView};
use pli_server::clock::ManualClock;
use std::path::Path;

const DAY_MS: u64 = 86_400_000;

/// The first report alice would file about `conversation`'s newest `n` received messages.
fn requests(
    alice: &TestUser,
    conversation: &pli_proto::GroupId,
    n: usize,
) -> Vec<AbuseReportRequest> {
    alice
        .client
        .report_requests(
            conversation,
            &ReportSelection::Last(n),
            ReportReason::Spam,
            None,
        )
        .expect("report requests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_report_shows_trust_and_safety_exactly_the_text_sender_and_day() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    let staff = common::staff(&server).await;
    bob.receive().await;
    let text = "cheap pills, visit example.invalid now";
    bob.send(&direct, text).await;
    assert_eq!(alice.receive().await.len(), 1);
    let filed = alice
        .client
        .report(
            &direct,
            &ReportSelection::Last(1),
            ReportReason::Spam,
            Some("he keeps sending these"),
            false,
        )
        .await
        .expect("the report is filed");
    assert_eq!(filed.len(), 1);
    assert_eq!((filed[0].reported.as_str(), filed[0].messages), ("bob", 1));

    let listed: Vec<ReportView> = staff
        .trust_safety
        .get("/admin/v1/abuse-reports")
        .await
        .expect("trust & safety list reports");
    assert_eq!(listed.len(), 1);
    let shown: ReportView = staff
        .trust_safety
        .get(&format!("/admin/v1/abuse-reports/{}", filed[0].id))
        .await
        .expect("trust & safety show a report");
    assert_eq!(shown, listed[0]);
    assert_eq!(
        (shown.reported.as_str(), shown.reporter.as_str()),
        ("bob", "alice")
    );
    assert_eq!(shown.reason, ReportReason::Spam);
    assert_eq!(shown.note.as_deref(), Some("he keeps sending these"));
    let today = (pli_server::delivery::wall_clock_ms() / DAY_MS) as u32;
    assert_eq!(shown.messages.len(), 1);
    assert_eq!(shown.messages[0].text, text);
    assert_eq!(shown.messages[0].sender_device, bob.client.device_id());
    assert_eq!(shown.messages[0].day, today);
    assert_eq!(shown.filed_day, today);

    // Only trust & safety read reports.
    for other in [&staff.operator, &staff.auditor, &staff.legal[0]] {
        let refused = other
            .get::<Vec<ReportView>>("/admin/v1/abuse-reports")
            .await;
        assert_eq!(code(refused), ErrorCode::Forbidden);
    }
    // The same message cannot be reported twice by the same reporter.
    let again = alice
        .client
        .report(
            &direct,
            &ReportSelection::Last(1),
            ReportReason::Spam,
            None,
            false,
        )
        .await;
    assert_eq!(code(again), ErrorCode::ReportReplayed);
    // The log counts the report by reason, naming nobody.
    let log = server.db().bytes("SELECT entry FROM audit_log").await;
    let reported: Vec<_> = log
        .iter()
        .filter(|e| contains(e, b"abuse.report"))
        .collect();
    assert_eq!(reported.len(), 1);
    assert!(contains(reported[0], b"\"reason\":\"spam\""));
    assert!(!contains(reported[0], b"bob") && !contains(reported[0], b"alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forgery_of_a_report_is_refused() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    let mut carol = TestUser::register(&server, "carol").await;
    let trio = alice
        .client
        .create_group("trio", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    bob.receive().await;
    carol.receive().await;
    bob.send(&trio, "from bob").await;
    carol.send(&trio, "from carol").await;
    alice.receive().await;
    let by_sender = requests(&alice, &trio, 2);
    let [from_bob, from_carol] =
        <[AbuseReportRequest; 2]>::try_from(by_sender).expect("two senders");
    assert_eq!(from_bob.reported, bob.name);
    assert_eq!(from_carol.reported, carol.name);
    let transport = alice.transport(&server);

    let mut altered = from_bob.clone();
    altered.messages[0].text = "from bob, and I will hurt you".into();
    let mut swapped = from_carol.clone();
    swapped.reported = bob.name.clone();
    let mut elsewhere = from_bob.clone();
    elsewhere.conversation = direct.clone();
    let mut made_up_key = from_bob.clone();
    made_up_key.messages[0].franking_key = vec![7; 32].into();
    let mut made_up_tag = from_bob.clone();
    made_up_tag.messages[0].tag = vec![7; 32].into();
    let mut other_device = from_bob.clone();
    other_device.messages[0].sender_device = carol.client.device_id();
    for (what, forged) in [
        ("the text altered", &altered),
        ("carol's message claimed as bob's", &swapped),
        (
            "the commitment replayed in another conversation",
            &elsewhere,
        ),
        ("a franking key made up", &made_up_key),
        ("a server tag made up", &made_up_tag),
        ("another sending device claimed", &other_device),
    ] {
        assert_eq!(
            code(transport.report(forged).await),
            ErrorCode::BadFranking,
            "{what}"
        );
    }
    let mut own = from_bob.clone();
    own.reported = alice.name.clone();
    assert_eq!(code(transport.report(&own).await), ErrorCode::OwnMessage);
    let mut empty = from_bob.clone();
    empty.messages.clear();
    assert_eq!(code(transport.report(&empty).await), ErrorCode::BadRequest);

    // Nothing was stored by the refusals; the genuine reports still verify.
    assert_eq!(
        server.db().integers("SELECT COUNT(*) FROM reports").await,
        vec![0]
    );
    transport
        .report(&from_bob)
        .await
        .expect("bob's message verifies");
    transport
        .report(&from_carol)
        .await
        .expect("carol's message verifies");
    assert_eq!(
        code(transport.report(&from_bob).await),
        ErrorCode::ReportReplayed
    );
    // Another recipient may report the same group message.
    bob.receive().await;
    let from_carol_to_bob = requests(&bob, &trio, 1);
    bob.transport(&server)
        .report(&from_carol_to_bob[0])
        .await
        .expect("bob reports carol's message too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_past_its_franking_key_rotation_cannot_be_reported() {
    let clock = ManualClock::new(pli_server::delivery::wall_clock_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    bob.receive().await;
    bob.send(&direct, "an old insult").await;
    alice.receive().await;
    let old = requests(&alice, &direct, 1);
    let rotation = u64::from(pli_proto::franking::KEY_ROTATION_DAYS);
    let accepted_for = rotation * u64::from(pli_proto::franking::KEYS_ACCEPTED);
    clock.advance(accepted_for * DAY_MS);
    assert_eq!(
        code(alice.transport(&server).report(&old[0]).await),
        ErrorCode::FrankingKeyExpired
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreported_text_never_reaches_storage_and_reported_text_leaves_with_its_retention() {
    const UNREPORTED: &str = "CANARY-unreported-5d1e";
    const REPORTED: &str = "CANARY-reported-93ab";
    let clock = ManualClock::new(pli_server::delivery::wall_clock_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    let staff = common::staff(&server).await;
    bob.receive().await;
    bob.send(&direct, UNREPORTED).await;
    bob.send(&direct, REPORTED).await;
    alice.receive().await;
    alice
        .client
        .report(
            &direct,
            &ReportSelection::Last(1),
            ReportReason::Harassment,
            None,
            true,
        )
        .await
        .expect("report the second message");
    let db = server.db();
    let stored = db.dump();
    assert!(
        !contains(&stored, UNREPORTED.as_bytes()),
        "unreported text stored"
    );
    assert!(
        contains(&stored, REPORTED.as_bytes()),
        "the report holds its text"
    );
    // The reporter blocked bob in the same step: his next message is dropped on arrival.
    assert_eq!(
        alice.client.blocked().expect("blocked"),
        vec![bob.name.clone()]
    );
    bob.send(&direct, "are you ignoring me").await;
    assert!(
        alice.receive().await.is_empty(),
        "a blocked sender's text is dropped"
    );

    let retention = pli_proto::policy::DEFAULT_REPORT_RETENTION_DAYS;
    clock.advance(u64::from(retention + 1) * DAY_MS);
    let _: serde_json::Value = staff
        .operator
        .post("/admin/v1/retention", &serde_json::json!({}))
        .await
        .expect("retention runs");
    assert_eq!(
        db.integers("SELECT COUNT(*) FROM report_messages").await,
        vec![0]
    );
    let data = server.stop().await;
    let after = TestDb::of(data.path()).dump();
    assert!(
        !contains(&after, REPORTED.as_bytes()),
        "the report outlived its retention"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_the_last_message_and_trust_and_safety_read_it() {
    use common::{path_str as path, run_pli as pli};
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut server, url) = common::serve_binary(&data).await;
    let alice = dir.path().join("alice");
    let bob = dir.path().join("bob");
    for (home, name) in [(&alice, "alice"), (&bob, "bob")] {
        pli(
            &["--home", path(home), "register", name, "--server", &url],
            &[],
        )
        .await
        .expect("register");
    }
    let text = "win a prize, send your bank details";
    pli(&["--home", path(&bob), "send", "@alice", text], &[])
        .await
        .expect("send");
    pli(&["--home", path(&alice), "sync"], &[])
        .await
        .expect("sync");
    let reported = pli(
        &[
            "--home",
            path(&alice),
            "report",
            "@bob",
            "--last",
            "1",
            "--reason",
            "spam",
        ],
        &[],
    )
    .await
    .expect("pli report");
    assert!(
        reported.contains("reported 1 message(s) from @bob"),
        "{reported}"
    );

    let operator = common::init_operator_cli(&data).await.expect("init");
    let ts = dir.path().join("ts.cred");
    as_staff(
        Path::new(&operator),
        &url,
        &[
            "staff",
            "add",
            "ts",
            "--role",
            "trust-safety",
            "--out",
            path(&ts),
        ],
    )
    .await
    .expect("staff add");
    let listed = as_staff(&ts, &url, &["--json", "reports", "list"])
        .await
        .expect("reports list");
    let listed: Vec<ReportView> = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reported.as_str(), "bob");
    let shown = as_staff(&ts, &url, &["reports", "show", &listed[0].id.to_string()])
        .await
        .expect("reports show");
    assert!(shown.contains(text), "{shown}");
    assert!(shown.contains("@bob"), "{shown}");
    server.start_kill().expect("stop");
    let _ = server.wait().await;
}

async fn as_staff(cred: &Path, url: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["admin", "--cred", common::path_str(cred), "--server", url];
    all.extend_from_slice(args);
    common::run_pli(&all, &[]).await
}
