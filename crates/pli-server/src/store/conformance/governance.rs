//! Checks for the governance records: the audit log's append rule, effects applied with
//! their entry or not at all, preservation holds and held notices; and changes to staff
//! members (revocation, credential rotation, role changes), each applied with its audit
//! entry or not at all, under the rule that one operator always remains, which must hold
//! when several writers (nodes, on PostgreSQL) race to break it.

use super::{dev, name, register};
use crate::store::{
    AuditAppend, GovernanceEffect, NewNotice, ReleaseNotice, StaffChange, StaffRecord, Store,
    StoreError,
};
use pli_proto::frame::KIND_NOTICE;
use pli_proto::governance::Role;

fn append(seq: u64) -> AuditAppend {
    AuditAppend {
        seq,
        entry: format!("entry {seq}").into_bytes(),
        leaf_hash: [seq as u8; 32],
        checkpoint: format!("checkpoint {}", seq + 1),
    }
}

fn staff(id: u64, staff_name: &str) -> GovernanceEffect {
    GovernanceEffect {
        staff: Some(StaffRecord {
            id,
            name: staff_name.into(),
            role: Role::Legal,
            secret_hash: [id as u8; 32],
        }),
        ..Default::default()
    }
}

pub async fn audit_appends_are_serial_and_apply_their_effect_or_nothing<S: Store>(store: S) {
    store
        .governance_commit(Some(append(0)), staff(10, "ana"))
        .await
        .expect("first append");
    let replay = store
        .governance_commit(Some(append(0)), staff(11, "ben"))
        .await;
    assert!(matches!(replay, Err(StoreError::AuditConflict)));
    let gap = store
        .governance_commit(Some(append(2)), staff(11, "ben"))
        .await;
    assert!(matches!(gap, Err(StoreError::AuditConflict)));
    let taken = store
        .governance_commit(Some(append(1)), staff(12, "ana"))
        .await;
    assert!(matches!(taken, Err(StoreError::StaffNameTaken)));
    // None of the refused appends left an entry or a staff member behind.
    assert_eq!(store.audit_leaves().await.expect("leaves"), vec![[0; 32]]);
    let members = store.list_staff().await.expect("staff");
    assert_eq!(members.len(), 1);
    assert_eq!(
        store.staff(10).await.expect("staff").map(|s| s.name),
        Some("ana".to_owned())
    );
    assert_eq!(store.staff(11).await.expect("staff"), None);
    store
        .governance_commit(Some(append(1)), GovernanceEffect::default())
        .await
        .expect("second append");
    assert_eq!(
        store.audit_entries(1, 10).await.expect("entries"),
        vec![b"entry 1".to_vec()]
    );
    assert_eq!(
        store.audit_checkpoints(1, 10).await.expect("checkpoints"),
        vec!["checkpoint 1".to_owned(), "checkpoint 2".to_owned()]
    );
    for (size, witness, line) in [
        (1, "w2", "old"),
        (1, "w2", "w2 on 1"),
        (2, "w1", "w1 on 2"),
        (1, "w1", "w1 on 1"),
    ] {
        store
            .add_audit_cosignature(size, witness, line)
            .await
            .expect("cosignature");
    }
    assert_eq!(
        store.audit_cosignatures(1, 1).await.expect("cosignatures"),
        vec![(1, "w1 on 1".to_owned()), (1, "w2 on 1".to_owned())],
        "one line per witness and size, the newest"
    );
    assert_eq!(
        store
            .audit_cosignatures(2, 9)
            .await
            .expect("cosignatures")
            .len(),
        1
    );
}

pub async fn holds_keep_the_later_date_and_notices_release_once<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let hold = |until| GovernanceEffect {
        holds: vec![(name("alice"), until)],
        ..Default::default()
    };
    store
        .governance_commit(Some(append(0)), hold(100))
        .await
        .expect("hold");
    store
        .governance_commit(Some(append(1)), hold(50))
        .await
        .expect("shorter hold");
    let inventory = store
        .inventory(&name("alice"))
        .await
        .expect("inventory")
        .expect("account");
    assert_eq!(inventory.preserved_until_ms, Some(100));
    assert_eq!(inventory.devices.len(), 1);
    assert_eq!(inventory.queued_messages, 0);
    assert_eq!(store.inventory(&name("nobody")).await.expect("inv"), None);

    let notice = GovernanceEffect {
        new_notices: vec![NewNotice {
            request_id: "req-1".into(),
            username: name("alice"),
            payload: b"your data was requested".to_vec(),
            release_ms: 10,
        }],
        ..Default::default()
    };
    store
        .governance_commit(Some(append(2)), notice)
        .await
        .expect("notice");
    assert!(store.due_notices(None, 9).await.expect("due").is_empty());
    let due = store
        .due_notices(Some(&name("alice")), 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].request_id, "req-1");
    assert!(
        store
            .due_notices(Some(&name("bob")), 10)
            .await
            .expect("due")
            .is_empty()
    );
    let release = |seq| {
        (
            append(seq),
            GovernanceEffect {
                release: Some(ReleaseNotice {
                    notice_id: due[0].notice_id,
                    username: due[0].username.clone(),
                    now_ms: 10,
                    max_queue_depth: 100,
                }),
                ..Default::default()
            },
        )
    };
    let (entry, effect) = release(3);
    store
        .governance_commit(Some(entry), effect)
        .await
        .expect("release");
    let queued = store.fetch_queue(dev(1), None, 10).await.expect("fetch");
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, KIND_NOTICE);
    assert_eq!(queued[0].payload, b"your data was requested");
    let (entry, effect) = release(4);
    assert!(matches!(
        store.governance_commit(Some(entry), effect).await,
        Err(StoreError::NoticeReleased)
    ));
    assert!(store.due_notices(None, 10).await.expect("due").is_empty());
    assert_eq!(store.audit_leaves().await.expect("leaves").len(), 4);
}

fn logged(seq: u64) -> Option<AuditAppend> {
    Some(AuditAppend {
        seq,
        entry: format!("staff entry {seq}").into_bytes(),
        leaf_hash: [seq as u8; 32],
        checkpoint: format!("checkpoint {}", seq + 1),
    })
}

fn add(id: u64, role: Role) -> GovernanceEffect {
    GovernanceEffect {
        staff: Some(StaffRecord {
            id,
            name: format!("member-{id}"),
            role,
            secret_hash: [id as u8; 32],
        }),
        ..Default::default()
    }
}

fn change(change: StaffChange) -> GovernanceEffect {
    GovernanceEffect {
        staff_change: Some(change),
        ..Default::default()
    }
}

async fn role_of<S: Store>(store: &S, id: u64) -> Option<Role> {
    store.staff(id).await.expect("staff").map(|s| s.role)
}

pub async fn staff_are_rotated_re_roled_and_revoked_but_an_operator_remains<S: Store>(store: S) {
    let (op, legal) = (1, 2);
    store
        .governance_commit(logged(0), add(op, Role::Operator))
        .await
        .expect("operator");
    store
        .governance_commit(logged(1), add(legal, Role::Legal))
        .await
        .expect("legal");

    // The only operator can be neither revoked nor demoted, and the refusal undoes its
    // entry too.
    for refused in [
        StaffChange::Revoke { id: op },
        StaffChange::Role {
            id: op,
            role: Role::Auditor,
        },
    ] {
        let answer = store.governance_commit(logged(2), change(refused)).await;
        assert!(
            matches!(answer, Err(StoreError::LastOperator)),
            "{answer:?}"
        );
    }
    assert_eq!(store.audit_leaves().await.expect("leaves").len(), 2);
    assert_eq!(role_of(&store, op).await, Some(Role::Operator));
    // Keeping the role, or rotating the credential, takes no operator away.
    let same = StaffChange::Role {
        id: op,
        role: Role::Operator,
    };
    store
        .governance_commit(logged(2), change(same))
        .await
        .expect("same role");
    let rotate = StaffChange::Rotate {
        id: op,
        secret_hash: [0xee; 32],
    };
    store
        .governance_commit(logged(3), change(rotate))
        .await
        .expect("rotate");
    let rotated = store.staff(op).await.expect("staff").expect("still there");
    assert_eq!(rotated.secret_hash, [0xee; 32]);
    assert_eq!(rotated.name, "member-1");

    // A change to a member nobody is leaves nothing behind.
    for unknown in [
        StaffChange::Revoke { id: 99 },
        StaffChange::Rotate {
            id: 99,
            secret_hash: [1; 32],
        },
        StaffChange::Role {
            id: 99,
            role: Role::Legal,
        },
    ] {
        let answer = store.governance_commit(logged(4), change(unknown)).await;
        assert!(
            matches!(answer, Err(StoreError::UnknownStaff)),
            "{answer:?}"
        );
    }
    assert_eq!(store.audit_leaves().await.expect("leaves").len(), 4);
    assert_eq!(store.staff(99).await.expect("staff"), None);

    // With a second operator, the first may go; then the second is the last.
    let promote = StaffChange::Role {
        id: legal,
        role: Role::Operator,
    };
    store
        .governance_commit(logged(4), change(promote))
        .await
        .expect("promote");
    store
        .governance_commit(logged(5), change(StaffChange::Revoke { id: op }))
        .await
        .expect("revoke");
    assert_eq!(store.staff(op).await.expect("staff"), None);
    let left = store.list_staff().await.expect("list");
    assert_eq!(
        left.iter().map(|s| (s.id, s.role)).collect::<Vec<_>>(),
        vec![(legal, Role::Operator)]
    );
    let demote = StaffChange::Role {
        id: legal,
        role: Role::Legal,
    };
    let answer = store.governance_commit(logged(6), change(demote)).await;
    assert!(
        matches!(answer, Err(StoreError::LastOperator)),
        "{answer:?}"
    );
    // A revoked member's change is refused like any unknown one, and their name is free.
    let answer = store
        .governance_commit(logged(6), change(StaffChange::Revoke { id: op }))
        .await;
    assert!(
        matches!(answer, Err(StoreError::UnknownStaff)),
        "{answer:?}"
    );
    let mut again = add(3, Role::Auditor);
    if let Some(record) = &mut again.staff {
        record.name = "member-1".into();
    }
    store
        .governance_commit(logged(6), again)
        .await
        .expect("a revoked member's name can be given again");
    assert_eq!(store.audit_leaves().await.expect("leaves").len(), 7);
}

/// Three operators, and three writers at once each removing a different one (revoking or
/// demoting it): two succeed, one is refused, one operator remains. Round after round, so a
/// check made outside the writers' transactions would sooner or later let all three through.
pub async fn concurrent_removals_leave_one_operator<S: Store>(store: S) {
    const ROUNDS: u64 = 12;
    let mut survivor = 1_000;
    store
        .governance_commit(None, add(survivor, Role::Operator))
        .await
        .expect("first operator");
    for round in 0..ROUNDS {
        let (a, b) = (2 * round + 1, 2 * round + 2);
        for id in [a, b] {
            store
                .governance_commit(None, add(id, Role::Operator))
                .await
                .expect("operator");
        }
        let removals = [
            StaffChange::Revoke { id: survivor },
            StaffChange::Role {
                id: a,
                role: Role::Legal,
            },
            StaffChange::Revoke { id: b },
        ];
        let writers: Vec<_> = removals
            .into_iter()
            .map(|removal| {
                let store = store.clone();
                tokio::spawn(async move { store.governance_commit(None, change(removal)).await })
            })
            .collect();
        let mut refused = 0;
        for writer in writers {
            match writer.await.expect("writer") {
                Ok(()) => {}
                Err(StoreError::LastOperator) => refused += 1,
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(refused, 1, "round {round}: exactly one removal is refused");
        let operators: Vec<u64> = store
            .list_staff()
            .await
            .expect("list")
            .into_iter()
            .filter(|s| s.role == Role::Operator)
            .map(|s| s.id)
            .collect();
        assert_eq!(operators.len(), 1, "round {round}: {operators:?}");
        survivor = operators[0];
    }
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_governance {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            audit_appends_are_serial_and_apply_their_effect_or_nothing,
            holds_keep_the_later_date_and_notices_release_once,
            staff_are_rotated_re_roled_and_revoked_but_an_operator_remains,
            concurrent_removals_leave_one_operator,
        );
    };
}
