//! Checks for changes to staff members: revocation, credential rotation and role changes,
//! each applied with its audit entry or not at all, and the rule that one operator always
//! remains, which must hold when several writers (nodes, on PostgreSQL) race to break it.

use crate::store::{AuditAppend, GovernanceEffect, StaffChange, StaffRecord, Store, StoreError};
use pli_proto::governance::Role;

fn append(seq: u64) -> Option<AuditAppend> {
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
        .governance_commit(append(0), add(op, Role::Operator))
        .await
        .expect("operator");
    store
        .governance_commit(append(1), add(legal, Role::Legal))
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
        let answer = store.governance_commit(append(2), change(refused)).await;
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
        .governance_commit(append(2), change(same))
        .await
        .expect("same role");
    let rotate = StaffChange::Rotate {
        id: op,
        secret_hash: [0xee; 32],
    };
    store
        .governance_commit(append(3), change(rotate))
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
        let answer = store.governance_commit(append(4), change(unknown)).await;
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
        .governance_commit(append(4), change(promote))
        .await
        .expect("promote");
    store
        .governance_commit(append(5), change(StaffChange::Revoke { id: op }))
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
    let answer = store.governance_commit(append(6), change(demote)).await;
    assert!(
        matches!(answer, Err(StoreError::LastOperator)),
        "{answer:?}"
    );
    // A revoked member's change is refused like any unknown one, and their name is free.
    let answer = store
        .governance_commit(append(6), change(StaffChange::Revoke { id: op }))
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
        .governance_commit(append(6), again)
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
