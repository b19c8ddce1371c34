//! Reports' own tests: periods, tracing, regions and bands, signatures.

use super::*;
use crate::audit::AuditEntry;
use crate::governance::days_from_civil;

fn entry(seq: u64, time_ms: u64, action: &str, details: serde_json::Value) -> AuditEntry {
    AuditEntry {
        seq,
        time_ms,
        staff_id: 1,
        role: "legal".into(),
        action: action.into(),
        outcome: "ok".into(),
        details,
    }
}

#[test]
fn periods_cover_quarters_and_halves() {
    let q4 = Period::parse("2026-Q4").expect("valid");
    assert_eq!(
        q4.start_ms,
        days_from_civil(2026, 10, 1) as u64 * 86_400_000
    );
    assert_eq!(q4.end_ms, days_from_civil(2027, 1, 1) as u64 * 86_400_000);
    let h1 = Period::parse("2026-H1").expect("valid");
    assert_eq!(h1.end_ms, days_from_civil(2026, 7, 1) as u64 * 86_400_000);
    assert!(Period::parse("2026-Q5").is_none() && Period::parse("Q1").is_none());
}

#[test]
fn figures_count_only_the_period_and_trace_their_entries() {
    let q = Period::parse("2026-Q4").expect("valid");
    let inside = q.start_ms + 1;
    let entries = vec![
        entry(
            0,
            inside,
            "request.create",
            serde_json::json!({"country": "FR", "basis": "subpoena", "targets": ["a", "b"]}),
        ),
        entry(
            1,
            inside,
            "request.create",
            serde_json::json!({"country": "FR", "basis": "emergency", "targets": ["c"]}),
        ),
        entry(
            2,
            inside,
            "request.disclose",
            serde_json::json!({"request_id": "r1"}),
        ),
        entry(
            3,
            inside,
            "request.disclose",
            serde_json::json!({"request_id": "r1"}),
        ),
        entry(
            4,
            q.end_ms,
            "request.create",
            serde_json::json!({"country": "US", "basis": "subpoena", "targets": ["d"]}),
        ),
        entry(5, inside, "notice.delayed", serde_json::json!({})),
        entry(
            6,
            inside,
            "request.reject",
            serde_json::json!({"request_id": "r2", "rejected_after_disclosure": true}),
        ),
        entry(
            7,
            inside,
            "request.reject",
            serde_json::json!({"request_id": "r3"}),
        ),
        entry(
            8,
            inside,
            "request.overdue",
            serde_json::json!({"request_id": "r2"}),
        ),
        entry(
            9,
            inside,
            "request.overdue",
            serde_json::json!({"request_id": "r2"}),
        ),
    ];
    let tally = compute(&entries, &q);
    assert_eq!(tally.total, tally.by_region[UNRECORDED_REGION]);
    let figures = &tally.total;
    assert_eq!(figures.requests.count, 2);
    assert_eq!(figures.requests.entries, vec![0, 1]);
    assert_eq!(figures.accounts_specified.count, 3);
    assert_eq!(figures.emergency.count, 1);
    assert_eq!(
        figures.requests_with_data_produced.count, 1,
        "one request, disclosed twice"
    );
    assert_eq!(figures.requests_by_country_basis["FR/subpoena"].count, 1);
    assert_eq!(figures.notices_delayed.count, 1);
    assert_eq!(figures.rejected.entries, vec![6, 7]);
    assert_eq!(figures.emergency_rejected_after_disclosure.entries, vec![6]);
    assert_eq!(figures.emergency_reviews_overdue.entries, vec![8]);
    assert_eq!(figures.requests.shown(true), "0\u{2013}9");
    assert_eq!(figures.requests.shown(false), "2");
}

#[test]
fn signed_reports_verify_and_doctored_ones_do_not() {
    let key = SigningKey::from_bytes(&[5; 32]);
    let mut report = Report {
        origin: "test".into(),
        period: Period::parse("2026-Q4").expect("valid"),
        log_size: 3,
        log_root: "00".into(),
        figures: Some(Figures::default()),
        regions: Vec::new(),
        generated_ms: 1,
        signature: String::new(),
    };
    report.sign(&key);
    assert!(report.verify_signature(&key.verifying_key()));
    report.figures.as_mut().expect("figures").rejected.count = 7;
    assert!(!report.verify_signature(&key.verifying_key()));
}

/// Each entry counts for its request's regions; a banded region shows bands only, no
/// breakdown by country, and keeps the deployment total out (it would give the banded
/// counts away).
#[test]
fn regions_are_counted_apart_and_banded_by_their_own_policy() {
    let q = Period::parse("2026-Q4").expect("valid");
    let inside = q.start_ms + 1;
    let create = |seq, id: &str, region: &str| {
        entry(
            seq,
            inside,
            "request.create",
            serde_json::json!({"request_id": id, "region": region, "country": "FR", "basis": "subpoena", "targets": ["t"]}),
        )
    };
    let entries = vec![
        create(0, "r1", "eu"),
        create(1, "r2", "us"),
        create(2, "r3", "us"),
        create(3, "r4", "eu+us"),
        // Later entries name only their request: they count where it was created.
        entry(
            4,
            inside,
            "request.disclose",
            serde_json::json!({"request_id": "r2"}),
        ),
        entry(
            5,
            inside,
            "notice.sent",
            serde_json::json!({"request_id": "r1"}),
        ),
        // Not a counted action: makes no region appear.
        entry(6, inside, "staff.add", serde_json::json!({})),
    ];
    let exact = [("eu".to_owned(), false), ("us".to_owned(), false)];
    let report = published(&entries, &q, &exact);
    let total = report.figures.expect("a total when nothing is banded");
    assert_eq!(
        total.requests.entries,
        vec![0, 1, 2, 3],
        "each request once"
    );
    let names: Vec<&str> = report.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(names, ["eu", "us"]);
    let [eu, us] = &report.regions[..] else {
        unreachable!()
    };
    assert_eq!(eu.figures.requests.entries, vec![0, 3], "r4 is about both");
    assert_eq!(eu.figures.notices_sent.entries, vec![5]);
    assert_eq!(us.figures.requests.entries, vec![1, 2, 3]);
    assert_eq!(us.figures.requests_with_data_produced.entries, vec![4]);

    let eu_bands = [("eu".to_owned(), true), ("us".to_owned(), false)];
    let report = published(&entries, &q, &eu_bands);
    assert!(report.figures.is_none());
    let [eu, us] = &report.regions[..] else {
        panic!("two regions: {:?}", report.regions);
    };
    assert!(eu.bands && eu.figures.requests.banded && eu.figures.requests.entries.is_empty());
    assert!(
        eu.figures.requests_by_country_basis.is_empty(),
        "no row says 'at least one'"
    );
    assert!(!us.bands && us.figures.requests.count == 3);
    // Entries that name no region count apart, banded if any region is.
    let legacy = entry(
        0,
        inside,
        "request.create",
        serde_json::json!({"basis": "subpoena"}),
    );
    let report = published(&[legacy], &q, &eu_bands);
    assert!(report.regions[2].region == UNRECORDED_REGION && report.regions[2].bands);
}
