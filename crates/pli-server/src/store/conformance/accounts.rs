//! Accounts and devices: unique names, authentication, device lists, devices added with
//! their endorsement and removed alone, single-use WebSocket tickets, encrypted profiles.

use super::{dev, name, register};
use crate::store::{NewAccount, Store, StoreError};

pub async fn accounts_are_unique_and_authenticate<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let again = store
        .create_account(NewAccount {
            region: pli_proto::Region::parse("default").expect("region"),
            username: name("alice"),
            device_id: dev(2),
            secret_hash: [0; 32],
            signature_key: vec![],
            created_day: 1,
        })
        .await;
    assert!(matches!(again, Err(StoreError::UsernameTaken)));
    // The refused account left no device behind.
    assert!(store.device_auth(dev(2)).await.expect("lookup").is_none());
    let auth = store
        .device_auth(dev(1))
        .await
        .expect("lookup")
        .expect("exists");
    assert_eq!(auth.username, name("alice"));
    assert_eq!(auth.secret_hash, [1; 32]);
    assert_eq!(auth.last_seen_day, None);
    store
        .touch_last_seen(&name("alice"), 20_001)
        .await
        .expect("touch");
    let auth = store
        .device_auth(dev(1))
        .await
        .expect("lookup")
        .expect("exists");
    assert_eq!(auth.last_seen_day, Some(20_001));
}

pub async fn lists_devices_or_none_for_unknown_users<S: Store>(store: S) {
    register(&store, "alice", 7).await;
    let devices = store
        .list_devices(&name("alice"))
        .await
        .expect("list")
        .expect("exists");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id, dev(7));
    assert_eq!(devices[0].signature_key, vec![7; 32]);
    assert!(
        store
            .list_devices(&name("nobody"))
            .await
            .expect("list")
            .is_none()
    );
}

pub async fn ws_tickets_work_once_and_expire<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    store
        .create_ws_ticket(dev(1), [1; 32], 5_000)
        .await
        .expect("create");
    store
        .create_ws_ticket(dev(1), [2; 32], 5_000)
        .await
        .expect("create");
    assert_eq!(
        store
            .redeem_ws_ticket([1; 32], 4_000)
            .await
            .expect("redeem"),
        Some(dev(1))
    );
    assert_eq!(
        store.redeem_ws_ticket([1; 32], 4_000).await.expect("again"),
        None,
        "single use"
    );
    assert_eq!(
        store.redeem_ws_ticket([2; 32], 6_000).await.expect("late"),
        None,
        "expired"
    );
    assert_eq!(
        store.redeem_ws_ticket([9; 32], 1).await.expect("unknown"),
        None
    );
}

pub async fn devices_are_added_with_their_endorsement_and_removed_alone<S: Store>(store: S) {
    use crate::store::{NewDevice, StoreError};
    use pli_proto::kt::Endorsement;
    register(&store, "alice", 1).await;
    register(&store, "bob", 5).await;
    let endorsement = Endorsement {
        by: super::dev(1),
        signature: [9; 64],
    };
    let second = |id: u64| NewDevice {
        device_id: super::dev(id),
        secret_hash: [2; 32],
        signature_key: vec![2; 32],
        endorsement: endorsement.clone(),
    };
    store
        .add_device(&name("alice"), second(2))
        .await
        .expect("add");
    assert!(matches!(
        store.add_device(&name("alice"), second(5)).await,
        Err(StoreError::DeviceIdTaken)
    ));
    assert!(matches!(
        store.add_device(&name("nobody"), second(6)).await,
        Err(StoreError::UnknownAccount)
    ));
    let devices = store
        .list_devices(&name("alice"))
        .await
        .expect("list")
        .expect("alice");
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].endorsement, None);
    assert_eq!(devices[1].endorsement, Some(endorsement));
    let auth = store.device_auth(super::dev(2)).await.expect("auth");
    assert_eq!(auth.expect("device").secret_hash, [2; 32]);
    store
        .add_key_packages(super::dev(2), super::upload(vec![vec![1]], None, 10))
        .await
        .expect("packages");
    // Another user's device is not alice's to remove.
    assert!(
        !store
            .remove_device(&name("alice"), super::dev(5))
            .await
            .expect("remove")
    );
    assert!(
        store
            .remove_device(&name("alice"), super::dev(2))
            .await
            .expect("remove")
    );
    assert!(
        store
            .device_auth(super::dev(2))
            .await
            .expect("auth")
            .is_none()
    );
    assert!(
        store
            .device_auth(super::dev(5))
            .await
            .expect("auth")
            .is_some()
    );
    let left = store
        .list_devices(&name("alice"))
        .await
        .expect("list")
        .expect("alice");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].device_id, super::dev(1));
}

/// A profile is replaced whole, removed, carried by an export and import, and gone the
/// moment its account is deleted; only a live account may store one.
pub async fn profiles_are_replaced_carried_and_deleted_with_the_account<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let alice = name("alice");
    assert_eq!(store.profile(&alice).await.expect("read"), None);
    for blob in [&b"first sealed profile"[..], b"second"] {
        store
            .set_profile(&alice, Some(blob.to_vec()))
            .await
            .expect("store");
        assert_eq!(
            store.profile(&alice).await.expect("read"),
            Some(blob.to_vec())
        );
    }
    store.set_profile(&alice, None).await.expect("remove");
    assert_eq!(store.profile(&alice).await.expect("read"), None);
    let nobody = store.set_profile(&name("nobody"), Some(vec![1])).await;
    assert!(
        matches!(nobody, Err(StoreError::UnknownAccount)),
        "{nobody:?}"
    );
    store
        .set_profile(&alice, Some(b"kept".to_vec()))
        .await
        .expect("store");
    let export = store
        .export_account(&alice)
        .await
        .expect("export")
        .expect("alice");
    assert_eq!(export.profile.as_deref(), Some(&b"kept"[..]));
    store.erase_account(&alice).await.expect("erase");
    assert_eq!(store.profile(&alice).await.expect("read"), None);
    store.import_account(export).await.expect("import");
    assert_eq!(
        store.profile(&alice).await.expect("read"),
        Some(b"kept".to_vec())
    );
    assert!(store.delete_account(&alice, 20_001).await.expect("delete"));
    assert_eq!(store.profile(&alice).await.expect("read"), None);
    let after = store.set_profile(&alice, Some(vec![1])).await;
    assert!(
        matches!(after, Err(StoreError::UnknownAccount)),
        "{after:?}"
    );
    let kept = store.export_account(&alice).await.expect("export");
    assert_eq!(kept.and_then(|e| e.profile), None, "not kept past deletion");
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_accounts {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            accounts_are_unique_and_authenticate,
            lists_devices_or_none_for_unknown_users,
            ws_tickets_work_once_and_expire,
            devices_are_added_with_their_endorsement_and_removed_alone,
            profiles_are_replaced_carried_and_deleted_with_the_account,
        );
    };
}
