//! Checks for staff members' second factors: an enrolment lands with its audit entry or
//! not at all, once per member; a time step is spent once, and never one older than the
//! newest spent, even by several sign-ins at once; revoking a member forgets it.

use crate::store::{
    AuditAppend, GovernanceEffect, StaffChange, StaffRecord, StaffTotp, Store, StoreError,
};
use pli_proto::governance::Role;

fn append(seq: u64) -> AuditAppend {
    AuditAppend {
        seq,
        entry: format!("entry {seq}").into_bytes(),
        leaf_hash: [seq as u8; 32],
        checkpoint: format!("checkpoint {}", seq + 1),
    }
}

fn member(id: u64, role: Role) -> GovernanceEffect {
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

fn enrol(id: u64, secret: &[u8], step: u64) -> GovernanceEffect {
    GovernanceEffect {
        totp: Some(StaffTotp {
            staff_id: id,
            secret: secret.to_vec(),
            last_step: step,
        }),
        ..Default::default()
    }
}

pub async fn a_totp_is_enrolled_once_with_its_audit_entry<S: Store>(store: S) {
    store
        .governance_commit(Some(append(0)), member(1, Role::Operator))
        .await
        .expect("operator");
    store
        .governance_commit(Some(append(1)), member(2, Role::Legal))
        .await
        .expect("member");
    assert_eq!(store.staff_totp(2).await.expect("read"), None);
    // A stale audit position: neither the entry nor the enrolment lands.
    let stale = store
        .governance_commit(Some(append(1)), enrol(2, b"secret-a", 10))
        .await;
    assert!(matches!(stale, Err(StoreError::AuditConflict)), "{stale:?}");
    assert_eq!(store.staff_totp(2).await.expect("read"), None);
    store
        .governance_commit(Some(append(2)), enrol(2, b"secret-a", 10))
        .await
        .expect("enrolled");
    let totp = store.staff_totp(2).await.expect("read").expect("enrolled");
    assert_eq!(
        (totp.secret.as_slice(), totp.last_step),
        (&b"secret-a"[..], 10)
    );
    let again = store
        .governance_commit(Some(append(3)), enrol(2, b"secret-b", 20))
        .await;
    assert!(matches!(again, Err(StoreError::TotpEnrolled)), "{again:?}");
    assert_eq!(
        store.audit_leaves().await.expect("leaves").len(),
        3,
        "no entry for it"
    );
    assert_eq!(
        store
            .staff_totp(2)
            .await
            .expect("read")
            .expect("kept")
            .secret,
        b"secret-a"
    );
    let nobody = store
        .governance_commit(Some(append(3)), enrol(99, b"secret", 1))
        .await;
    assert!(
        matches!(nobody, Err(StoreError::UnknownStaff)),
        "{nobody:?}"
    );
    // Revoking the member forgets their second factor.
    store
        .governance_commit(
            Some(append(3)),
            GovernanceEffect {
                staff_change: Some(StaffChange::Revoke { id: 2 }),
                ..Default::default()
            },
        )
        .await
        .expect("revoked");
    assert_eq!(store.staff_totp(2).await.expect("read"), None);
}

pub async fn a_totp_step_is_spent_once_and_never_an_older_one<S: Store>(store: S) {
    store
        .governance_commit(Some(append(0)), member(1, Role::Legal))
        .await
        .expect("member");
    assert!(
        !store.spend_totp_step(1, 5).await.expect("spend"),
        "nothing enrolled"
    );
    store
        .governance_commit(Some(append(1)), enrol(1, b"secret", 10))
        .await
        .expect("enrolled");
    assert!(
        !store.spend_totp_step(1, 10).await.expect("spend"),
        "the enrolling code"
    );
    assert!(
        !store.spend_totp_step(1, 9).await.expect("spend"),
        "an older step"
    );
    assert!(store.spend_totp_step(1, 11).await.expect("spend"));
    assert!(!store.spend_totp_step(1, 11).await.expect("spend"), "spent");
    // Several sign-ins with one code at once: exactly one wins.
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.spend_totp_step(1, 12).await.expect("spend") })
    });
    let mut won = 0;
    for attempt in attempts {
        won += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(won, 1);
    assert_eq!(
        store
            .staff_totp(1)
            .await
            .expect("read")
            .expect("enrolled")
            .last_step,
        12
    );
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_second_factors {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            a_totp_is_enrolled_once_with_its_audit_entry,
            a_totp_step_is_spent_once_and_never_an_older_one,
        );
    };
}
