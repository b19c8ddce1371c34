//! The public audit log lets nobody confirm whom a lawful request targeted, nor until when
//! a non-disclosure order runs: someone holding the log and a list of candidate names
//! checks every commitment it holds against every guess, and finds nothing. The person
//! named (with the salt from their notice) and an auditor holding the staff view can still
//! check the entries, and when the order ends its date is published and checks against
//! what was committed.

mod common;

use common::{TestServer, TestUser, lawful_request, staff};
use pli_proto::audit::{date_commitment, target_commitment};
use pli_proto::governance::{DataCategory, LegalBasis, RequestView, days_from_civil};
use pli_server::clock::ManualClock;
use serde_json::{Value, json};

fn day(y: i64, m: u32, d: u32) -> u64 {
    days_from_civil(y, m, d) as u64 * 86_400_000
}

/// Every string in an entry's details, at any depth.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// What a script holding the public log and candidate names can confirm: each guess it
/// can match to a value in the log, with every unsalted or guessable salt it can try.
fn confirmable(entries: &[pli_proto::audit::AuditEntry], candidates: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    let mut contexts: Vec<String> = vec!["inventory".into(), "account.move".into()];
    for entry in entries {
        strings(&entry.details, &mut values);
        if let Some(id) = entry.details["request_id"].as_str() {
            contexts.push(id.to_owned());
        }
    }
    let mut found = Vec::new();
    for candidate in candidates {
        for context in &contexts {
            for salt in ["", "00", context.as_str()] {
                if values.contains(&target_commitment(salt, context, candidate)) {
                    found.push(format!("{candidate} in {context}"));
                }
            }
        }
        if values.iter().any(|v| v.contains(candidate)) {
            found.push(format!("{candidate} in clear"));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_log_confirms_no_target_and_no_running_gag_date() {
    let clock = ManualClock::new(day(2026, 11, 23) + 3_600_000);
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let mut alice = TestUser::register(&server, "alice").await;
    TestUser::register(&server, "bob").await;
    let staff = staff(&server).await;
    let mut body = lawful_request(
        LegalBasis::Subpoena,
        &["alice"],
        &[DataCategory::Subscriber],
    );
    body.nondisclosure_until = Some("2026-12-01".into());
    let request: RequestView = staff.legal[0]
        .post("/admin/v1/requests", &body)
        .await
        .expect("request");
    for reviewer in [&staff.legal[1], &staff.legal[2]] {
        let _: RequestView = reviewer
            .post(
                &format!("/admin/v1/requests/{}/approve", request.id),
                &json!({}),
            )
            .await
            .expect("approve");
    }
    let _: Value = staff.legal[1]
        .post(
            &format!("/admin/v1/requests/{}/disclose", request.id),
            &json!({}),
        )
        .await
        .expect("disclose");
    let _: Value = staff.legal[0]
        .get("/admin/v1/inventory/bob")
        .await
        .expect("an inventory shown");
    let public = pli_client::admin::AdminClient::new(&server.url, None, None).expect("client");
    let log = public
        .export_log()
        .await
        .expect("log")
        .verify(None)
        .expect("the log verifies");
    let candidates = ["alice", "bob", "carol", "dave"];
    assert_eq!(confirmable(&log.entries, &candidates), Vec::<String>::new());
    let text: String = log.entries.iter().map(|e| e.details.to_string()).collect();
    assert!(
        !text.contains("2026-12-01"),
        "the gag date is not shown while it runs"
    );

    // Whoever holds the salt (the staff view, the person named) finds the entries.
    let view: RequestView = staff.legal[0]
        .get(&format!("/admin/v1/requests/{}", request.id))
        .await
        .expect("show");
    let named = target_commitment(&view.commitment_salt, &request.id, "alice");
    assert!(
        text.contains(&named),
        "the staff view's salt confirms alice"
    );
    let committed = date_commitment(&view.gag_salt, "2026-12-01");
    assert!(text.contains(&committed), "the date is committed");

    // The order ends: the notice goes out, and the date and its salt are published.
    clock.advance(day(2026, 12, 1) - day(2026, 11, 23));
    alice.client.sync().await.expect("sync");
    let log = public
        .export_log()
        .await
        .expect("log")
        .verify(None)
        .expect("verifies");
    let sent = log
        .entries
        .iter()
        .find(|e| e.action == "notice.sent")
        .expect("the notice went out");
    let ended = &sent.details["nondisclosure_ended"];
    assert_eq!(ended["day"], "2026-12-01");
    let salt = ended["salt"].as_str().expect("the salt");
    assert_eq!(date_commitment(salt, "2026-12-01"), committed);
    assert_eq!(
        confirmable(&log.entries, &candidates),
        Vec::<String>::new(),
        "publishing the date reveals no target"
    );
}

/// A subpoena for the subscriber facts of `targets`, entered by the first legal reviewer.
async fn subpoena(staff: &common::Staff, targets: &[&str]) {
    let _: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::Subpoena, targets, &[DataCategory::Subscriber]),
        )
        .await
        .expect("request");
}

/// The auditor's report of 2026-Q4, as the server publishes it.
async fn q4_report(staff: &common::Staff) -> pli_proto::report::Report {
    staff
        .auditor
        .post(
            "/admin/v1/reports",
            &pli_proto::governance::ReportRequest {
                period: "2026-Q4".into(),
            },
        )
        .await
        .expect("report")
}

/// With bands on, a published report carries only the band of each small count: no exact
/// count and no entry numbers, in its JSON or its page; and `pli audit report` still
/// confirms it from the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banded_report_publishes_the_band_only_and_still_checks() {
    let clock = ManualClock::new(day(2026, 11, 23));
    let server = TestServer::start_clocked(clock, |config| config.report_bands = true).await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    for _ in 0..3 {
        subpoena(&staff, &["alice"]).await;
    }
    let report = q4_report(&staff).await;
    assert!(report.figures.is_none(), "no total beside a banded region");
    let region = &report.regions[0];
    let f = &region.figures;
    assert!(region.bands && f.requests.banded && f.requests.count == 0);
    assert!(f.requests.entries.is_empty());
    assert_eq!(f.requests.shown(region.bands), "0\u{2013}9");
    let json = serde_json::to_value(&report).expect("json");
    assert!(json.get("figures").is_none(), "{json}");
    let mut counts = Vec::new();
    fn walk(value: &Value, counts: &mut Vec<Value>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if key == "count" || key == "entries" {
                        counts.push(v.clone());
                    }
                    walk(v, counts);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, counts)),
            _ => {}
        }
    }
    walk(&json["regions"], &mut counts);
    assert!(
        counts.iter().all(|v| *v == json!(0) || *v == json!([])),
        "no exact count or entry in the JSON: {counts:?}"
    );
    let page = pli_server::governance::report::html(&report);
    assert!(page.contains("0\u{2013}9"));
    assert!(
        page.split("class=\"trace\">")
            .skip(1)
            .all(|cell| cell.starts_with('<')),
        "no entry numbers on the page: {page}"
    );
    pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log")
        .check_report(&report, None)
        .expect("the banded report checks against the log");
}

/// Bands follow each region's own policy: a report counts every region apart (a request
/// about accounts of both in each), publishes the banded region's small counts as bands
/// only, the other region's exactly, and no deployment total (it would give the banded
/// counts away). The published policy says which regions band, and
/// `pli audit report` confirms the report, or names the region whose figures are wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_region_is_banded_by_its_own_policy() {
    use common::test_regions;

    let server = TestServer::start_clocked(ManualClock::new(day(2026, 11, 23)), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[0].policy.report_bands = true;
        config.regions[1].policy.report_bands = false;
    })
    .await;
    TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    let policy = pli_client::transport::Transport::new(&server.url, None)
        .expect("transport")
        .policy()
        .await
        .expect("policy");
    let bands: Vec<(&str, bool)> = policy
        .regions
        .iter()
        .map(|r| (r.region.as_str(), r.report_bands))
        .collect();
    assert_eq!(bands, [("eu", true), ("us", false)]);

    let staff = staff(&server).await;
    for targets in [
        &["alice"][..],
        &["alice"],
        &["bob"],
        &["bob"],
        &["bob"],
        &["alice", "bob"],
    ] {
        subpoena(&staff, targets).await;
    }
    let report = q4_report(&staff).await;
    assert!(report.figures.is_none(), "no total beside a banded region");
    let [eu, us] = &report.regions[..] else {
        panic!("eu and us: {:?}", report.regions);
    };
    assert_eq!((eu.region.as_str(), us.region.as_str()), ("eu", "us"));
    assert!(eu.bands && eu.figures.requests.banded && eu.figures.requests.count == 0);
    assert!(eu.figures.requests.entries.is_empty() && eu.figures.accounts_specified.count == 0);
    assert!(eu.figures.requests_by_country_basis.is_empty());
    assert!(
        !us.bands && us.figures.requests.count == 4,
        "bob's three and the shared one"
    );
    assert_eq!(us.figures.requests.entries.len(), 4);
    let page = pli_server::governance::report::html(&report);
    assert!(
        page.contains("Region eu") && page.contains("Region us") && !page.contains("All regions")
    );

    let export = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    export
        .check_report(&report, None)
        .expect("the per-region report checks against the log");
    // A report signed with the real key whose exact region is off by one is refuted, and
    // the region named.
    let mut doctored = report.clone();
    doctored.regions[1].figures.requests.count = 2;
    doctored.sign(&ed25519_dalek::SigningKey::from_bytes(
        &server.audit_seed().await,
    ));
    match export.check_report(&doctored, None) {
        Err(pli_client::admin::AuditError::Refuted(why)) => {
            assert!(why.contains("region us (requests)"), "{why}")
        }
        other => panic!("expected a refutation, got {other:?}"),
    }
}
