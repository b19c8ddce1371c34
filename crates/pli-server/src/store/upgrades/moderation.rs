//! The checks of the abuse reports' and trust & safety seeds (`*_reports.sql`,
//! `*_moderation.sql`).

use crate::store::conformance::{dev, name};
use crate::store::{Decision, FOREVER_MS, NewReport, Store, StoreError, StoredReportMessage};
use pli_proto::abuse::{ActionKind, AppealOutcome, ReportReason};

/// liam's warning and ban read back as recorded, oldest first, with their appeals; the ban
/// still holds and its end is still forever; the decided appeal stays decided, the ban's
/// cannot be filed again, and overturning it lifts the ban. `now_ms` is the checks' time
/// (after every seeded time).
pub async fn moderation<S: Store>(store: &S, now_ms: u64) {
    let liam = name("liam");
    let actions = store.actions_about(&liam).await.expect("actions");
    let summary: Vec<(u64, ActionKind, Option<u64>, Option<u64>)> = actions
        .iter()
        .map(|a| (a.id, a.kind, a.until_ms, a.report_id))
        .collect();
    assert_eq!(
        summary,
        vec![
            (5150, ActionKind::Warn, None, Some(4242)),
            (5151, ActionKind::Ban, Some(FOREVER_MS), None),
        ]
    );
    let warned = actions[0].appeal.as_ref().expect("the warning's appeal");
    assert_eq!(
        (
            warned.text.as_str(),
            warned.filed_ms,
            warned.outcome,
            warned.decided_by,
            warned.decision_reason.as_deref()
        ),
        (
            "it was a joke",
            1_800_000_100_000,
            Some(AppealOutcome::Upheld),
            Some(1),
            Some("it was not")
        )
    );
    assert_eq!(
        store
            .suspended_until(&liam, now_ms)
            .await
            .expect("standing"),
        Some(FOREVER_MS)
    );
    let again = store.file_appeal(5151, &liam, "again".into(), now_ms).await;
    assert!(matches!(again, Err(StoreError::AppealExists)), "{again:?}");
    let decide = |outcome| Decision {
        outcome,
        staff_id: 1,
        reason: "reviewed".to_owned(),
        decided_ms: now_ms,
    };
    let twice = store
        .decide_appeal(5150, decide(AppealOutcome::Overturned))
        .await;
    assert!(matches!(twice, Err(StoreError::InvalidAppeal)), "{twice:?}");
    store
        .decide_appeal(5151, decide(AppealOutcome::Overturned))
        .await
        .expect("decided");
    assert_eq!(
        store
            .suspended_until(&liam, now_ms)
            .await
            .expect("standing"),
        None
    );
}

/// ivan's report about judy reads back as filed, counts in both inventories, and keeps
/// ivan from reporting either message again; another reporter still can.
pub async fn reports<S: Store>(store: &S) {
    let report = store.report(4242).await.expect("read").expect("ivan's");
    assert_eq!(
        (
            report.reporter.as_str(),
            report.reported.as_str(),
            report.reason,
            report.note.as_deref(),
            report.filed_day
        ),
        (
            "ivan",
            "judy",
            ReportReason::Harassment,
            Some("again and again"),
            20_100
        )
    );
    let messages: Vec<(&str, u64, u32)> = report
        .messages
        .iter()
        .map(|m| (m.text.as_str(), m.sender_device.get(), m.day))
        .collect();
    assert_eq!(
        messages,
        vec![
            ("first reported text", 9, 20_098),
            ("second reported text", 9, 20_099)
        ]
    );
    let counts =
        |user: &'static str| async move { store.report_counts(&name(user)).await.expect("counts") };
    assert_eq!(
        (counts("judy").await, counts("ivan").await),
        ((1, 0), (0, 1))
    );
    let again = |reporter: &str| NewReport {
        reporter: name(reporter),
        reported: name("judy"),
        reason: ReportReason::Spam,
        note: None,
        filed_day: 20_200,
        messages: vec![StoredReportMessage {
            commitment: [0x42; 32],
            text: "second reported text".to_owned(),
            sender_device: dev(9),
            day: 20_099,
        }],
    };
    let replay = store.file_report(again("ivan")).await;
    assert!(
        matches!(replay, Err(StoreError::ReportReplayed)),
        "{replay:?}"
    );
    let other = store
        .file_report(again("kim"))
        .await
        .expect("another reporter");
    assert_ne!(other, 4242);
    assert_eq!(counts("judy").await, (2, 0));
}
