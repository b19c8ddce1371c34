//! Checks for abuse reports: a report reads back exactly as filed; a reporter cannot report
//! one message twice (even in two filings at once), while another reporter can; listing is
//! newest first; retention deletes what was filed before its day, with its messages and
//! their replay keys; the counts behind the data inventory; a move's export, import and
//! erase carry reports whole under their ids.

use super::{dev, name};
use crate::store::{NewReport, Store, StoreError, StoredReportMessage};
use pli_proto::abuse::{ReportReason, ReportView, VerifiedMessage};

fn message(commitment: u8, text: &str, day: u32) -> StoredReportMessage {
    StoredReportMessage {
        commitment: [commitment; 32],
        text: text.to_owned(),
        sender_device: dev(7),
        day,
    }
}

fn report(reporter: &str, reported: &str, day: u32, messages: &[(u8, &str)]) -> NewReport {
    NewReport {
        reporter: name(reporter),
        reported: name(reported),
        reason: ReportReason::Spam,
        note: None,
        filed_day: day,
        messages: messages
            .iter()
            .map(|(commitment, text)| message(*commitment, text, day - 1))
            .collect(),
    }
}

fn ids(reports: &[ReportView]) -> Vec<u64> {
    reports.iter().map(|r| r.id).collect()
}

pub async fn a_report_reads_back_exactly_as_filed<S: Store>(store: S) {
    let filed = NewReport {
        reporter: name("alice"),
        reported: name("bob"),
        reason: ReportReason::Harassment,
        note: Some("he keeps writing — «stop»".to_owned()),
        filed_day: 20_100,
        messages: vec![
            message(1, "first, with a newline\nand ünïcode", 20_098),
            StoredReportMessage {
                sender_device: dev(8),
                ..message(2, "", 20_099)
            },
            message(3, "third", 20_097),
        ],
    };
    let id = store.file_report(filed).await.expect("filed");
    assert!(id > 0);
    let expected = ReportView {
        id,
        reported: name("bob"),
        reporter: name("alice"),
        reason: ReportReason::Harassment,
        note: Some("he keeps writing — «stop»".to_owned()),
        filed_day: 20_100,
        messages: vec![
            VerifiedMessage {
                text: "first, with a newline\nand ünïcode".to_owned(),
                sender_device: dev(7),
                day: 20_098,
            },
            VerifiedMessage {
                text: String::new(),
                sender_device: dev(8),
                day: 20_099,
            },
            VerifiedMessage {
                text: "third".to_owned(),
                sender_device: dev(7),
                day: 20_097,
            },
        ],
    };
    assert_eq!(
        store.report(id).await.expect("read"),
        Some(expected.clone())
    );
    assert_eq!(store.list_reports().await.expect("list"), vec![expected]);
    assert_eq!(store.report(id ^ 1).await.expect("read"), None);
    // Every reason and no note read back too.
    for reason in ReportReason::ALL {
        let id = store
            .file_report(NewReport {
                reason: *reason,
                ..report("carol", "bob", 20_100, &[(10 + *reason as u8, "x")])
            })
            .await
            .expect("filed");
        let back = store.report(id).await.expect("read").expect("stored");
        assert_eq!((back.reason, back.note), (*reason, None));
    }
}

pub async fn a_reporter_reports_a_message_once_and_others_still_can<S: Store>(store: S) {
    let first = store
        .file_report(report("alice", "bob", 20_100, &[(1, "spam"), (2, "more")]))
        .await
        .expect("filed");
    // One message reported before, beside a new one: the whole report is refused.
    let again = store
        .file_report(report("alice", "bob", 20_101, &[(3, "new"), (2, "more")]))
        .await;
    assert!(
        matches!(again, Err(StoreError::ReportReplayed)),
        "{again:?}"
    );
    // The same message twice in one report.
    let twice = store
        .file_report(report("alice", "bob", 20_101, &[(4, "a"), (4, "a")]))
        .await;
    assert!(
        matches!(twice, Err(StoreError::ReportReplayed)),
        "{twice:?}"
    );
    assert_eq!(ids(&store.list_reports().await.expect("list")), vec![first]);
    // Nothing of the refused reports was kept: their new messages can still be reported.
    store
        .file_report(report("alice", "bob", 20_101, &[(3, "new"), (4, "a")]))
        .await
        .expect("the new messages alone");
    // Another recipient of the same message reports it too.
    let other = store
        .file_report(report("carol", "bob", 20_101, &[(1, "spam")]))
        .await
        .expect("another reporter");
    assert_eq!(
        store
            .report(other)
            .await
            .expect("read")
            .expect("stored")
            .reporter,
        name("carol")
    );
    // Several filings of one message by one reporter at once: exactly one lands.
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .file_report(report("dave", "bob", 20_102, &[(9, "raced")]))
                    .await
            })
        })
        .collect();
    let mut landed = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(_) => landed += 1,
            Err(StoreError::ReportReplayed) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(landed, 1);
    assert_eq!(
        store.report_counts(&name("dave")).await.expect("counts"),
        (0, 1)
    );
}

pub async fn reports_list_newest_first_and_retention_deletes_the_old<S: Store>(store: S) {
    let old = store
        .file_report(report("alice", "bob", 20_000, &[(1, "old")]))
        .await
        .expect("filed");
    let newest = store
        .file_report(report("alice", "bob", 20_200, &[(2, "newest")]))
        .await
        .expect("filed");
    let middle = store
        .file_report(report("carol", "bob", 20_100, &[(3, "middle")]))
        .await
        .expect("filed");
    let later_same_day = store
        .file_report(report("carol", "erin", 20_100, &[(4, "same day")]))
        .await
        .expect("filed");
    assert_eq!(
        ids(&store.list_reports().await.expect("list")),
        vec![newest, later_same_day, middle, old],
        "by day, then the later filing first"
    );
    assert_eq!(
        store
            .delete_reports_filed_before(20_000)
            .await
            .expect("sweep"),
        0,
        "filed on the day itself: kept"
    );
    assert_eq!(
        store
            .delete_reports_filed_before(20_101)
            .await
            .expect("sweep"),
        3
    );
    assert_eq!(
        ids(&store.list_reports().await.expect("list")),
        vec![newest]
    );
    assert_eq!(store.report(old).await.expect("read"), None);
    assert_eq!(store.report(middle).await.expect("read"), None);
    // The deleted report's messages went with it, their replay keys too.
    store
        .file_report(report("alice", "bob", 20_201, &[(1, "old")]))
        .await
        .expect("no replay key left behind");
    let replay = store
        .file_report(report("alice", "bob", 20_201, &[(2, "newest")]))
        .await;
    assert!(
        matches!(replay, Err(StoreError::ReportReplayed)),
        "{replay:?}"
    );
}

pub async fn report_counts_are_what_an_account_received_and_filed<S: Store>(store: S) {
    assert_eq!(
        store.report_counts(&name("bob")).await.expect("counts"),
        (0, 0)
    );
    for (reporter, reported, commitment) in [
        ("alice", "bob", 1),
        ("carol", "bob", 2),
        ("alice", "bob", 3),
        ("bob", "alice", 4),
    ] {
        store
            .file_report(report(reporter, reported, 20_100, &[(commitment, "x")]))
            .await
            .expect("filed");
    }
    let counts = |user: &'static str| {
        let store = store.clone();
        async move { store.report_counts(&name(user)).await.expect("counts") }
    };
    assert_eq!(counts("bob").await, (3, 1));
    assert_eq!(counts("alice").await, (1, 2));
    assert_eq!(counts("carol").await, (0, 1));
    assert_eq!(counts("erin").await, (0, 0));
    store
        .delete_reports_filed_before(20_101)
        .await
        .expect("sweep");
    assert_eq!(counts("bob").await, (0, 0));
}

pub async fn reports_move_whole_under_their_ids<S: Store>(store: S) {
    let first = store
        .file_report(NewReport {
            note: Some("note".to_owned()),
            ..report("alice", "bob", 20_100, &[(1, "one"), (2, "two")])
        })
        .await
        .expect("filed");
    let second = store
        .file_report(report("carol", "bob", 20_101, &[(3, "three")]))
        .await
        .expect("filed");
    let other = store
        .file_report(report("bob", "erin", 20_101, &[(4, "four")]))
        .await
        .expect("filed");
    // Compared by id: moved reports are the store's latest filings of their day.
    let by_id = |mut reports: Vec<ReportView>| {
        reports.sort_by_key(|r| r.id);
        reports
    };
    let before = by_id(store.list_reports().await.expect("list"));
    let exported = store.export_reports(&name("bob")).await.expect("export");
    assert_eq!(
        exported.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![first, second],
        "oldest filed first"
    );
    assert_eq!(
        exported[0].report,
        NewReport {
            note: Some("note".to_owned()),
            ..report("alice", "bob", 20_100, &[(1, "one"), (2, "two")])
        },
        "commitments and all"
    );
    assert_eq!(
        store
            .erase_reports_about(&name("bob"))
            .await
            .expect("erase"),
        2
    );
    assert_eq!(ids(&store.list_reports().await.expect("list")), vec![other]);
    store
        .import_reports(exported.clone())
        .await
        .expect("import");
    // An interrupted move imports again: the copy replaces the earlier one.
    store
        .import_reports(exported.clone())
        .await
        .expect("import again");
    assert_eq!(by_id(store.list_reports().await.expect("list")), before);
    let replay = store
        .file_report(report("alice", "bob", 20_102, &[(2, "two")]))
        .await;
    assert!(
        matches!(replay, Err(StoreError::ReportReplayed)),
        "replay keys moved too: {replay:?}"
    );
    // A report filed meanwhile in the new store keeps its message; the moved one keeps
    // the rest of its own.
    store
        .erase_reports_about(&name("bob"))
        .await
        .expect("erase");
    let meanwhile = store
        .file_report(report("alice", "bob", 20_102, &[(2, "two")]))
        .await
        .expect("filed meanwhile");
    store.import_reports(exported).await.expect("import");
    let moved = store.report(first).await.expect("read").expect("moved");
    assert_eq!(
        moved
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        vec!["one"]
    );
    assert_eq!(
        store
            .report(meanwhile)
            .await
            .expect("read")
            .expect("kept")
            .messages
            .len(),
        1
    );
    assert_eq!(
        store.report_counts(&name("bob")).await.expect("counts"),
        (3, 1)
    );
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_reports {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            a_report_reads_back_exactly_as_filed,
            a_reporter_reports_a_message_once_and_others_still_can,
            reports_list_newest_first_and_retention_deletes_the_old,
            report_counts_are_what_an_account_received_and_filed,
            reports_move_whole_under_their_ids,
        );
    };
}
