//! Checks for the operations residency builds on: the username → region index, an
//! account's export / import / erase, and the retention sweep (expired queues, deleted
//! accounts' facts, connection IP addresses).

use super::{dev, group, name, register, submission};
use crate::store::{Cutoffs, EpochRule, GovernanceEffect, Retention, Store, StoreError};
use pli_proto::frame::KIND_MLS;
use pli_proto::{MessageId, Region};
use std::collections::BTreeMap;

fn region(text: &str) -> Region {
    Region::parse(text).expect("test regions are valid")
}

pub async fn the_index_gives_each_name_one_region<S: Store>(store: S) {
    let alice = name("alice");
    assert_eq!(store.home_region(&alice).await.expect("read"), None);
    store
        .claim_username(&alice, &region("eu"))
        .await
        .expect("claim");
    assert!(matches!(
        store.claim_username(&alice, &region("us")).await,
        Err(StoreError::UsernameTaken)
    ));
    store
        .set_home_region(&alice, &region("us"))
        .await
        .expect("move");
    assert_eq!(
        store.home_region(&alice).await.expect("read"),
        Some(region("us"))
    );
    assert_eq!(
        store.regions_in_use().await.expect("read"),
        vec![region("us")]
    );
    store.release_username(&alice).await.expect("release");
    assert_eq!(store.home_region(&alice).await.expect("read"), None);
}

pub async fn an_exported_account_imports_whole_and_erases_without_trace<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    store
        .add_key_packages(
            dev(2),
            super::upload(vec![b"kp1".to_vec()], Some(b"last".to_vec()), 10),
        )
        .await
        .expect("packages");
    for payload in [&b"one"[..], b"two", b"three"] {
        store
            .submit(submission(
                &group(1),
                EpochRule::Commit { epoch: 0 },
                payload,
                &[1, 2],
            ))
            .await
            .ok();
        store
            .deliver(KIND_MLS, payload.to_vec(), vec![dev(2)], 7, None)
            .await
            .expect("deliver");
    }
    let hold = GovernanceEffect {
        holds: vec![(name("bob"), 99)],
        ..Default::default()
    };
    store.governance_commit(None, hold).await.expect("hold");
    let export = store
        .export_account(&name("bob"))
        .await
        .expect("export")
        .expect("bob exists");
    assert_eq!(export.devices.len(), 1);
    assert_eq!(export.key_packages.len(), 2);
    assert!(
        export.key_packages.iter().all(|k| k.not_after.is_some()),
        "lifetimes travel with the packages"
    );
    assert_eq!(export.preserved_until_ms, Some(99));
    store.erase_account(&name("bob")).await.expect("erase");
    assert!(
        store
            .export_account(&name("bob"))
            .await
            .expect("read")
            .is_none()
    );
    assert!(store.device_auth(dev(2)).await.expect("auth").is_none());
    // Alice's copies of the shared messages stay; bob's alone are gone.
    let alice_queue = store.fetch_queue(dev(1), None, 10).await.expect("alice");
    assert_eq!(alice_queue.len(), 1, "the one accepted commit");
    store.import_account(export.clone()).await.expect("import");
    let again = store
        .export_account(&name("bob"))
        .await
        .expect("export")
        .expect("bob");
    assert_eq!(again, export, "the import is the export, whole");
    let payloads: Vec<Vec<u8>> = store
        .fetch_queue(dev(2), None, 10)
        .await
        .expect("bob's queue")
        .into_iter()
        .map(|q| q.payload)
        .collect();
    let expected: Vec<Vec<u8>> = export.queued.iter().map(|m| m.payload.clone()).collect();
    assert_eq!(payloads, expected, "in the same order");
    // Importing again replaces, never duplicates.
    store.import_account(export.clone()).await.expect("again");
    assert_eq!(
        store.fetch_queue(dev(2), None, 10).await.expect("q").len(),
        expected.len()
    );
}

pub async fn retention_expires_old_queues_except_held_accounts<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    for (payload, at) in [(&b"old"[..], 100), (b"new", 5_000)] {
        store
            .deliver(KIND_MLS, payload.to_vec(), vec![dev(1), dev(2)], at, None)
            .await
            .expect("deliver");
    }
    let hold = GovernanceEffect {
        holds: vec![(name("bob"), 10_000)],
        ..Default::default()
    };
    store.governance_commit(None, hold).await.expect("hold");
    let sweep = |now_ms| Retention {
        now_ms,
        cutoffs: Cutoffs {
            queue_before_ms: 1_000,
            deleted_through_day: 0,
            ip_before_day: 0,
        },
        by_region: BTreeMap::new(),
    };
    let report = store.expire(sweep(2_000)).await.expect("sweep");
    assert_eq!(
        (report.expired_queue_entries, report.held_queue_entries),
        (1, 1)
    );
    let alice: Vec<MessageId> = store
        .fetch_queue(dev(1), None, 10)
        .await
        .expect("alice")
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(
        alice.len(),
        1,
        "alice's old copy expired, the new one stays"
    );
    assert_eq!(
        store.queue_lengths(&[dev(1)]).await.expect("len"),
        vec![(dev(1), 1)]
    );
    assert_eq!(
        store
            .fetch_queue(dev(2), None, 10)
            .await
            .expect("bob")
            .len(),
        2
    );
    let report = store.expire(sweep(20_000)).await.expect("after the hold");
    assert_eq!((report.expired_queue_entries, report.expired_holds), (1, 1));
    assert_eq!(
        store
            .fetch_queue(dev(2), None, 10)
            .await
            .expect("bob")
            .len(),
        1
    );
}

pub async fn a_deleted_account_keeps_only_its_facts_until_erased<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    store
        .deliver(KIND_MLS, b"hi".to_vec(), vec![dev(1), dev(2)], 5, None)
        .await
        .expect("deliver");
    assert!(
        store
            .delete_account(&name("alice"), 20_001)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_account(&name("alice"), 20_002)
            .await
            .expect("twice"),
        "once"
    );
    assert!(store.device_auth(dev(1)).await.expect("auth").is_none());
    assert!(
        store
            .list_devices(&name("alice"))
            .await
            .expect("list")
            .is_none()
    );
    let facts = store
        .inventory(&name("alice"))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!((facts.deleted_day, facts.devices.len()), (Some(20_001), 0));
    assert_eq!(
        store
            .fetch_queue(dev(2), None, 10)
            .await
            .expect("bob")
            .len(),
        1
    );
    let sweep = |deleted_through_day| Retention {
        now_ms: 10,
        cutoffs: Cutoffs {
            queue_before_ms: 0,
            deleted_through_day,
            ip_before_day: 0,
        },
        by_region: BTreeMap::new(),
    };
    let report = store.expire(sweep(20_000)).await.expect("too early");
    assert!(report.erased_accounts.is_empty());
    let report = store.expire(sweep(20_001)).await.expect("due");
    assert_eq!(report.erased_accounts, vec![name("alice")]);
    assert!(
        store
            .inventory(&name("alice"))
            .await
            .expect("read")
            .is_none()
    );
}

pub async fn connection_ips_are_kept_until_their_period_ends<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    for (ip, day) in [("192.0.2.1", 100), ("192.0.2.1", 100), ("2001:db8::1", 105)] {
        store
            .record_ip(&name("alice"), ip, day)
            .await
            .expect("record");
    }
    let facts = store
        .inventory(&name("alice"))
        .await
        .expect("read")
        .expect("alice");
    assert_eq!(
        facts.ips,
        vec![
            (100, "192.0.2.1".to_owned()),
            (105, "2001:db8::1".to_owned())
        ],
        "one record per address and day"
    );
    let sweep = Retention {
        now_ms: 10,
        cutoffs: Cutoffs {
            queue_before_ms: 0,
            deleted_through_day: i64::MIN,
            ip_before_day: 101,
        },
        by_region: BTreeMap::new(),
    };
    assert_eq!(store.expire(sweep).await.expect("sweep").expired_ips, 1);
    let facts = store
        .inventory(&name("alice"))
        .await
        .expect("read")
        .expect("alice");
    assert_eq!(facts.ips, vec![(105, "2001:db8::1".to_owned())]);
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_moving {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            the_index_gives_each_name_one_region,
            an_exported_account_imports_whole_and_erases_without_trace,
            retention_expires_old_queues_except_held_accounts,
            a_deleted_account_keeps_only_its_facts_until_erased,
            connection_ips_are_kept_until_their_period_ends,
        );
    };
}
