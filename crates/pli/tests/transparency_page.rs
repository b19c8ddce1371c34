//! The public transparency page against a real server: every report staff made, with the
//! figures of the signed report (bands where a region's policy asks), the log's current
//! checkpoint and its witness's cosignature, a command to check it that really checks it,
//! under a strict CSP, with every text escaped; and a stable 404 for a report that is not.

mod common;

use common::{TestServer, TestUser, lawful_request, run_pli, staff, test_regions};
use pli_proto::ErrorCode;
use pli_proto::checkpoint::{LogKey, UnverifiedCheckpoint};
use pli_proto::governance::{AuditCheckpoints, AuditKey, DataCategory, LegalBasis, RequestView};
use pli_proto::report::{Figures, Report};
use pli_proto::witness::{Cosignature, WitnessKey, cosign};
use pli_server::clock::ManualClock;
use serde_json::{Value, json};

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// A witness's name is the operator's to choose (`--witness`); the page must escape it.
const WITNESS: &str = "witness<1>.example";

fn day(y: i64, m: u32, d: u32) -> u64 {
    pli_proto::governance::days_from_civil(y, m, d) as u64 * 86_400_000
}

/// A page's status, headers and body.
async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(url).await.expect("get");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

/// The part of `page` under the heading `<h2>{heading}</h2>`, up to the next one.
fn section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!("<h2>{heading}</h2>"))
        .unwrap_or_else(|| panic!("no section {heading}: {page}"));
    let rest = &page[start + 4..];
    &rest[..rest.find("<h2>").unwrap_or(rest.len())]
}

/// Every figure of a set, with the name the page gives it.
fn named(f: &Figures) -> [(&'static str, &pli_proto::report::Figure); 10] {
    [
        ("Requests received", &f.requests),
        ("Accounts specified", &f.accounts_specified),
        (
            "Requests where some data was produced",
            &f.requests_with_data_produced,
        ),
        ("Requests rejected", &f.rejected),
        ("Emergency requests", &f.emergency),
        (
            "Emergency disclosures rejected by their second review",
            &f.emergency_rejected_after_disclosure,
        ),
        (
            "Emergency second reviews overdue",
            &f.emergency_reviews_overdue,
        ),
        ("Preservation requests", &f.preservation),
        ("Notices sent to users", &f.notices_sent),
        (
            "Notices delayed by non-disclosure orders",
            &f.notices_delayed,
        ),
    ]
}

/// A subpoena for the subscriber facts of `targets`, entered by the first legal reviewer.
async fn subpoena(staff: &common::Staff, targets: &[&str]) -> RequestView {
    staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::Subpoena, targets, &[DataCategory::Subscriber]),
        )
        .await
        .expect("request")
}

/// Two regions, eu banded and us exact, and a witness: requests about both, one disclosed,
/// a report made by the auditor. The page shows that report's figures (eu's as bands
/// only), serves it signed exactly as the auditor got it, shows the current checkpoint
/// with the witness's cosignature, and its command confirms the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_each_report_as_signed_with_the_current_checkpoint() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let witness_key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let server = TestServer::start_clocked(ManualClock::new(day(2026, 11, 23)), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[0].policy.report_bands = true;
        config.regions[1].policy.report_bands = false;
        config.witnesses = vec![WitnessKey::of(WITNESS, &witness_key)];
    })
    .await;
    TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    let staff = staff(&server).await;
    subpoena(&staff, &["alice"]).await;
    for _ in 0..2 {
        subpoena(&staff, &["bob"]).await;
    }
    let disclosed = subpoena(&staff, &["bob"]).await;
    for reviewer in [&staff.legal[1], &staff.legal[2]] {
        let _: RequestView = reviewer
            .post(
                &format!("/admin/v1/requests/{}/approve", disclosed.id),
                &json!({}),
            )
            .await
            .expect("approve");
    }
    let _: Value = staff.legal[1]
        .post(
            &format!("/admin/v1/requests/{}/disclose", disclosed.id),
            &json!({}),
        )
        .await
        .expect("disclose");
    let signed: Report = staff
        .auditor
        .post(
            "/admin/v1/reports",
            &pli_proto::governance::ReportRequest {
                period: "2026-Q4".into(),
            },
        )
        .await
        .expect("report");
    let us_figures = &signed.regions[1].figures;
    assert_eq!(
        (
            us_figures.requests.count,
            us_figures.requests_with_data_produced.count
        ),
        (3, 1),
        "the report has figures to show"
    );
    // The report covers the log up to its own entry, which is its id on the page.
    let id = signed.log_size - 1;

    // The witness co-signs the log's current checkpoint (nothing was logged since).
    let key: AuditKey = reqwest::get(format!("{}/v1/audit/key", server.url))
        .await
        .expect("key")
        .json()
        .await
        .expect("json");
    let log_key = LogKey::from_published(&key.name, &key.public_key).expect("log key");
    let notes: AuditCheckpoints = reqwest::get(format!(
        "{}/v1/audit/checkpoints?from={}&limit=1",
        server.url, signed.log_size
    ))
    .await
    .expect("checkpoints")
    .json()
    .await
    .expect("json");
    let current = UnverifiedCheckpoint::parse(&notes.checkpoints[0])
        .expect("a note")
        .verify(&log_key)
        .expect("it verifies");
    assert_eq!(
        current.size, signed.log_size,
        "the report is the newest entry"
    );
    let line = cosign(&current, WITNESS, &witness_key, 1_795_000_000);
    let kept = reqwest::Client::new()
        .post(format!("{}/v1/audit/cosignatures", server.url))
        .json(&Cosignature {
            size: current.size,
            witness: WitnessKey::of(WITNESS, &witness_key).vkey(),
            cosignature: line.clone(),
        })
        .send()
        .await
        .expect("cosign");
    assert_eq!(kept.status(), 200);

    // The index lists the report, under the CSP, escaped.
    let (status, headers, index) = get(&format!("{}/transparency", server.url)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-security-policy"], CSP);
    assert!(
        headers["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    assert!(index.contains(&format!("<a href=\"/transparency/{id}\">2026-Q4</a>")));
    assert!(index.contains("<html lang=\"en\">") && index.contains("<title>"));
    assert!(!index.contains("<script") && !index.contains("style=\""));
    assert!(index.contains("witness&lt;1&gt;.example") && !index.contains("<1>"));
    let (status, headers, css) = get(&format!("{}/transparency/style.css", server.url)).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/css"))
    );
    assert!(css.contains(".chart .band"));

    // The report's page: each region's figures as the signed report has them, in the table
    // and the chart; eu's as bands, with no entry numbers.
    let (status, headers, page) = get(&format!("{}/transparency/{id}", server.url)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-security-policy"], CSP);
    assert!(!page.contains("<script") && !page.contains("style=\"") && !page.contains("<1>"));
    assert!(signed.figures.is_none(), "no total beside a banded region");
    assert!(!page.contains("<h2>All regions</h2>"));
    for region in &signed.regions {
        let part = section(&page, &format!("Region {}", region.region));
        for (label, figure) in named(&region.figures) {
            let shown = figure.shown(region.bands);
            assert!(
                part.contains(&format!("<th scope=\"row\">{label}</th><td>{shown}</td>")),
                "{} {label} = {shown} in the table: {part}",
                region.region
            );
            let drawn = if region.bands {
                format!(">{shown} (band)</text>")
            } else {
                format!(">{shown}</text>")
            };
            assert!(part.contains(&drawn), "{label} drawn as {drawn}: {part}");
        }
    }
    let eu = section(&page, "Region eu");
    assert!(eu.contains("publishes counts below 10 as the band 0\u{2013}9"));
    assert!(
        eu.split("class=\"trace\">")
            .skip(1)
            .all(|c| c.starts_with('<')),
        "no entry numbers for a banded region: {eu}"
    );
    assert!(!eu.contains("<td>1</td>"), "no exact count: {eu}");
    let us = section(&page, "Region us");
    assert!(us.contains("<td>3</td>") && us.contains("FR/subpoena"));

    // The current checkpoint and its witness's cosignature, as the audit API serves them.
    let verify = section(&page, "Verify it yourself");
    assert!(verify.contains(&format!("<dd>{}</dd>", current.size)));
    assert!(verify.contains(&hex::encode(current.root)));
    let (_, log_signature) = notes.checkpoints[0]
        .lines()
        .last()
        .and_then(|l| l.rsplit_once(' '))
        .expect("the log's signature line");
    assert!(verify.contains(log_signature));
    assert!(verify.contains(&format!("size {}, ", current.size)));
    let (_, cosignature) = line.rsplit_once(' ').expect("a cosignature");
    assert!(
        verify.contains(cosignature),
        "the note as served, cosignature included"
    );
    assert!(verify.contains("<dt>Co-signed by</dt><dd>witness&lt;1&gt;.example</dd>"));

    // The JSON the page links to is the auditor's report, signature and all.
    let json_url = format!("{}/transparency/{id}/report.json", server.url);
    assert!(page.contains(&format!("href=\"/transparency/{id}/report.json\"")));
    let served: Report = reqwest::get(&json_url)
        .await
        .expect("json")
        .json()
        .await
        .expect("a report");
    assert_eq!(served, signed);

    // The command the page gives, run as written, confirms it.
    let command = verify
        .split("<pre><code>")
        .nth(1)
        .and_then(|c| c.split("</code>").next())
        .expect("the pli audit report command");
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(
        words[..4],
        ["pli", "audit", "report", "--server"],
        "{command}"
    );
    assert_eq!(words[4], server.url);
    assert_eq!(words[5..7], ["--report", "report-2026-Q4.json"]);
    assert_eq!(words[7..], ["--key", key.public_key.as_str()]);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join(words[6]);
    std::fs::write(&file, serde_json::to_vec(&served).expect("json")).expect("write");
    let mut args = words[1..].to_vec();
    args[5] = common::path_str(&file);
    let confirmed = run_pli(&args, &[]).await.expect("pli audit report");
    assert!(confirmed.starts_with("confirmed"), "{confirmed}");
}

/// A fresh server's page says there is nothing yet; an id that names no report is a 404
/// with a stable code, however it is written; the page is on the public listener, not on
/// a separate admin one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_report_yet_and_unknown_ids_are_not_found() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().expect("dir");
    let public = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (public_url, admin_url) = (
        format!("http://{}", public.local_addr().expect("addr")),
        format!("http://{}", admin.local_addr().expect("addr")),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pli_server::run_with_admin(
        common::test_config(data.path()),
        public,
        Some(admin),
        async {
            let _ = stopped.await;
        },
    ));
    let (status, _, index) = get(&format!("{public_url}/transparency")).await;
    assert_eq!(status, 200);
    assert!(index.contains("No report has been made yet."), "{index}");
    assert!(index.contains("The audit log is empty"), "{index}");
    let (status, _, _) = get(&format!("{admin_url}/transparency")).await;
    assert_eq!(status, 404, "not on the admin listener");

    // A staff member is added (an entry that is not a report), then ids that name nothing.
    let _staff = common::staff_at(&admin_url, data.path()).await;
    for path in [
        "0",
        "1",
        "99",
        "007",
        "-1",
        "abc",
        "%3Cb%3E",
        "0/report.json",
        "99/report.json",
    ] {
        let (status, headers, body) = get(&format!("{public_url}/transparency/{path}")).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            headers["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("application/json"))
        );
        let body: Value = serde_json::from_str(&body).expect("an error body");
        assert_eq!(
            body["error"]["code"],
            ErrorCode::NotFound.as_str(),
            "{path}"
        );
    }
    let _ = stop.send(());
    task.await.expect("task").expect("clean stop");
}
