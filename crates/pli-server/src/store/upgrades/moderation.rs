//! The check of the trust & safety seed (`*_moderation.sql`).

use crate::store::conformance::name;
use crate::store::{Decision, FOREVER_MS, Store, StoreError};
use pli_proto::abuse::{ActionKind, AppealOutcome};

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
