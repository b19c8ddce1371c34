//! Checks for trust & safety actions: what each kind does to the account's standing, a
//! suspension ending by the clock, a ban's end round-tripping, reinstatement; an action is
//! appealed once and only by its account (even two filings at once), decided once (even
//! two decisions at once), and overturning lifts the suspension it set; actions list oldest
//! first; a move's export and import carry them whole, and erasing the account (a move's
//! old copy, retention after deletion) takes them with it.

use super::{name, register};
use crate::store::{Cutoffs, Decision, FOREVER_MS, NewAction, Retention, Store, StoreError};
use pli_proto::abuse::{ActionKind, ActionView, AppealOutcome, AppealView};
use std::collections::BTreeMap;

fn act(account: &str, kind: ActionKind, until_ms: Option<u64>, created_ms: u64) -> NewAction {
    NewAction {
        account: name(account),
        kind,
        until_ms,
        reason: format!("{} — «why»", kind.as_str()),
        staff_id: 7,
        report_id: None,
        created_ms,
    }
}

fn decision(outcome: AppealOutcome, created_ms: u64) -> Decision {
    Decision {
        outcome,
        staff_id: 8,
        reason: "reviewed".to_owned(),
        decided_ms: created_ms,
    }
}

async fn record<S: Store>(store: &S, action: NewAction) -> u64 {
    store.record_action(action).await.expect("recorded")
}

async fn until<S: Store>(store: &S, account: &str, now_ms: u64) -> Option<u64> {
    store
        .suspended_until(&name(account), now_ms)
        .await
        .expect("standing")
}

pub async fn each_kind_of_action_sets_the_standing_it_should<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    record(&store, act("alice", ActionKind::Warn, None, 1_000)).await;
    assert_eq!(until(&store, "alice", 1_000).await, None, "a warning");
    record(
        &store,
        act("alice", ActionKind::Suspend, Some(5_000), 1_100),
    )
    .await;
    assert_eq!(until(&store, "alice", 1_100).await, Some(5_000));
    assert_eq!(until(&store, "alice", 4_999).await, Some(5_000));
    assert_eq!(
        until(&store, "alice", 5_000).await,
        None,
        "ended by the clock"
    );
    assert_eq!(until(&store, "bob", 1_100).await, None, "another account");
    record(&store, act("alice", ActionKind::Dismiss, None, 1_200)).await;
    assert_eq!(
        until(&store, "alice", 1_200).await,
        Some(5_000),
        "a dismissal"
    );
    let ban = record(
        &store,
        act("alice", ActionKind::Ban, Some(FOREVER_MS), 1_300),
    )
    .await;
    assert_eq!(until(&store, "alice", 1_300).await, Some(FOREVER_MS));
    assert_eq!(
        until(&store, "alice", FOREVER_MS - 1).await,
        Some(FOREVER_MS),
        "a ban has no end"
    );
    let view = store.action(ban).await.expect("read").expect("the ban");
    assert_eq!(view.until_ms, Some(FOREVER_MS), "round-trips");
    record(&store, act("alice", ActionKind::Reinstate, None, 1_400)).await;
    assert_eq!(until(&store, "alice", 1_400).await, None, "reinstated");
    // A new suspension replaces an earlier one, shorter or not.
    record(&store, act("bob", ActionKind::Suspend, Some(9_000), 1_500)).await;
    record(&store, act("bob", ActionKind::Suspend, Some(3_000), 1_600)).await;
    assert_eq!(until(&store, "bob", 1_600).await, Some(3_000));
    let unknown = store
        .record_action(act("zed", ActionKind::Ban, Some(FOREVER_MS), 1_700))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::UnknownAccount)),
        "{unknown:?}"
    );
    assert_eq!(until(&store, "zed", 1_700).await, None);
}

pub async fn actions_read_back_whole_and_list_oldest_first<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let late = record(&store, act("alice", ActionKind::Warn, None, 3_000)).await;
    let early = record(
        &store,
        NewAction {
            report_id: Some((1 << 53) - 1),
            ..act("alice", ActionKind::Suspend, Some(86_400_000), 1_000)
        },
    )
    .await;
    let middle = record(&store, act("alice", ActionKind::Dismiss, None, 2_000)).await;
    record(&store, act("bob", ActionKind::Warn, None, 1_500)).await;
    assert!(early > 0 && early < 1 << 53);
    let expected = ActionView {
        id: early,
        account: name("alice"),
        kind: ActionKind::Suspend,
        until_ms: Some(86_400_000),
        reason: "suspend — «why»".to_owned(),
        staff_id: 7,
        report_id: Some((1 << 53) - 1),
        created_ms: 1_000,
        appeal: None,
    };
    assert_eq!(store.action(early).await.expect("read"), Some(expected));
    let about: Vec<u64> = store
        .actions_about(&name("alice"))
        .await
        .expect("list")
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(about, vec![early, middle, late]);
    assert_eq!(store.action(42).await.expect("read"), None);
    assert!(
        store
            .actions_about(&name("zed"))
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn an_action_is_appealed_once_and_only_by_its_account<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let id = record(
        &store,
        act("alice", ActionKind::Suspend, Some(9_000), 1_000),
    )
    .await;
    let by_bob = store
        .file_appeal(id, &name("bob"), "not mine".into(), 1_100)
        .await;
    assert!(
        matches!(by_bob, Err(StoreError::UnknownAction)),
        "{by_bob:?}"
    );
    let none = store
        .file_appeal(42, &name("alice"), "none".into(), 1_100)
        .await;
    assert!(matches!(none, Err(StoreError::UnknownAction)), "{none:?}");
    store
        .file_appeal(id, &name("alice"), "I did nothing".into(), 1_200)
        .await
        .expect("appealed");
    let again = store
        .file_appeal(id, &name("alice"), "really".into(), 1_300)
        .await;
    assert!(matches!(again, Err(StoreError::AppealExists)), "{again:?}");
    let view = store.action(id).await.expect("read").expect("the action");
    assert_eq!(
        view.appeal,
        Some(AppealView {
            text: "I did nothing".to_owned(),
            filed_ms: 1_200,
            outcome: None,
            decided_by: None,
            decision_reason: None,
        })
    );
    // Two filings at once: one is stored, the other refused.
    let raced = record(&store, act("alice", ActionKind::Warn, None, 1_400)).await;
    let filings: Vec<_> = (0..2)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .file_appeal(raced, &name("alice"), format!("appeal {i}"), 1_500)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for filing in filings {
        results.push(filing.await.expect("task"));
    }
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(StoreError::AppealExists))),
        "{results:?}"
    );
}

pub async fn an_appeal_is_decided_once_and_overturning_lifts_the_suspension<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let suspension = record(
        &store,
        act("alice", ActionKind::Suspend, Some(9_000), 1_000),
    )
    .await;
    let early = store
        .decide_appeal(suspension, decision(AppealOutcome::Upheld, 1_100))
        .await;
    assert!(
        matches!(early, Err(StoreError::InvalidAppeal)),
        "no appeal: {early:?}"
    );
    let unknown = store
        .decide_appeal(42, decision(AppealOutcome::Upheld, 1_100))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::UnknownAction)),
        "{unknown:?}"
    );
    store
        .file_appeal(suspension, &name("alice"), "please".into(), 1_200)
        .await
        .expect("appealed");
    store
        .decide_appeal(suspension, decision(AppealOutcome::Upheld, 1_300))
        .await
        .expect("decided");
    assert_eq!(until(&store, "alice", 1_300).await, Some(9_000), "upheld");
    let twice = store
        .decide_appeal(suspension, decision(AppealOutcome::Overturned, 1_400))
        .await;
    assert!(matches!(twice, Err(StoreError::InvalidAppeal)), "{twice:?}");
    assert_eq!(until(&store, "alice", 1_400).await, Some(9_000));
    let appeal = store
        .action(suspension)
        .await
        .expect("read")
        .and_then(|a| a.appeal)
        .expect("the appeal");
    assert_eq!(
        (
            appeal.outcome,
            appeal.decided_by,
            appeal.decision_reason.as_deref()
        ),
        (Some(AppealOutcome::Upheld), Some(8), Some("reviewed"))
    );
    // A ban appealed and overturned is lifted; two decisions at once, one wins.
    let ban = record(
        &store,
        act("alice", ActionKind::Ban, Some(FOREVER_MS), 1_500),
    )
    .await;
    store
        .file_appeal(ban, &name("alice"), "please".into(), 1_600)
        .await
        .expect("appealed");
    let decisions: Vec<_> = [AppealOutcome::Overturned, AppealOutcome::Overturned]
        .into_iter()
        .map(|outcome| {
            let store = store.clone();
            tokio::spawn(async move { store.decide_appeal(ban, decision(outcome, 1_700)).await })
        })
        .collect();
    let mut results = Vec::new();
    for decided in decisions {
        results.push(decided.await.expect("task"));
    }
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(StoreError::InvalidAppeal))),
        "{results:?}"
    );
    assert_eq!(until(&store, "alice", 1_700).await, None, "overturned");
    // Overturning an old suspension leaves a later one standing.
    let old = record(
        &store,
        act("alice", ActionKind::Suspend, Some(5_000), 1_800),
    )
    .await;
    record(
        &store,
        act("alice", ActionKind::Suspend, Some(8_000), 1_900),
    )
    .await;
    store
        .file_appeal(old, &name("alice"), "that one".into(), 2_000)
        .await
        .expect("appealed");
    store
        .decide_appeal(old, decision(AppealOutcome::Overturned, 2_100))
        .await
        .expect("decided");
    assert_eq!(until(&store, "alice", 2_100).await, Some(8_000));
}

pub async fn actions_and_standing_move_whole_and_go_with_the_account<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let ban = record(
        &store,
        act("alice", ActionKind::Ban, Some(FOREVER_MS), 1_000),
    )
    .await;
    store
        .file_appeal(ban, &name("alice"), "please".into(), 1_100)
        .await
        .expect("appealed");
    store
        .decide_appeal(ban, decision(AppealOutcome::Upheld, 1_200))
        .await
        .expect("decided");
    let warning = record(&store, act("alice", ActionKind::Warn, None, 1_300)).await;
    record(&store, act("bob", ActionKind::Suspend, Some(9_000), 1_400)).await;
    let exported = store
        .export_moderation(&name("alice"))
        .await
        .expect("export");
    assert_eq!(exported.suspended_until_ms, Some(FOREVER_MS));
    assert_eq!(
        exported
            .actions
            .iter()
            .map(|a| a.view.id)
            .collect::<Vec<_>>(),
        vec![ban, warning]
    );
    assert_eq!(exported.actions[0].decided_ms, Some(1_200));
    let before = store.actions_about(&name("alice")).await.expect("list");
    store.erase_account(&name("alice")).await.expect("erase");
    assert!(
        store
            .actions_about(&name("alice"))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(store.action(ban).await.expect("read"), None);
    assert_eq!(until(&store, "alice", 1_500).await, None);
    let gone = store
        .export_moderation(&name("alice"))
        .await
        .expect("export");
    assert!(gone.is_empty(), "{gone:?}");
    // Imported (twice, as an interrupted move does): the same actions under their ids.
    store
        .import_moderation(exported.clone())
        .await
        .expect("import");
    store
        .import_moderation(exported.clone())
        .await
        .expect("import again");
    assert_eq!(
        store.actions_about(&name("alice")).await.expect("list"),
        before
    );
    assert_eq!(
        store
            .export_moderation(&name("alice"))
            .await
            .expect("export"),
        exported
    );
    assert_eq!(until(&store, "alice", 1_500).await, Some(FOREVER_MS));
    assert_eq!(until(&store, "bob", 1_500).await, Some(9_000), "bob's stay");
    // Deleted by its user, the account keeps its record until retention erases it.
    assert!(
        store
            .delete_account(&name("bob"), 20_000)
            .await
            .expect("delete")
    );
    assert_eq!(
        store.actions_about(&name("bob")).await.expect("list").len(),
        1
    );
    let sweep = Retention {
        now_ms: 10,
        cutoffs: Cutoffs {
            queue_before_ms: 0,
            deleted_through_day: 20_000,
            ip_before_day: 0,
        },
        by_region: BTreeMap::new(),
    };
    let report = store.expire(sweep).await.expect("sweep");
    assert_eq!(report.erased_accounts, vec![name("bob")]);
    assert!(
        store
            .actions_about(&name("bob"))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(until(&store, "bob", 1_500).await, None);
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_moderation {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            each_kind_of_action_sets_the_standing_it_should,
            actions_read_back_whole_and_list_oldest_first,
            an_action_is_appealed_once_and_only_by_its_account,
            an_appeal_is_decided_once_and_overturning_lifts_the_suspension,
            actions_and_standing_move_whole_and_go_with_the_account,
        );
    };
}
