//! Checks for the governance records: the audit log's append rule, effects applied with
//! their entry or not at all, preservation holds and held notices.

use super::{dev, name, register};
use crate::store::{
    AuditAppend, GovernanceEffect, NewNotice, ReleaseNotice, StaffRecord, Store, StoreError,
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
