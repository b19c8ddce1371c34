//! The key directory's records: akd's own storage test cases, pending changes and roots, and
//! a directory that reopens on the same store with the same roots and proofs.

use super::{name, register};
use crate::directory::KeyDirectory;
use crate::directory::storage::KtDatabase;
use crate::store::{KtRoot, Store};
use pli_proto::checkpoint::{LogKey, UnverifiedCheckpoint};
use pli_proto::kt;

/// akd's storage-layer suite (records by id, user states by flag, batches, transactions,
/// tombstones), run against the backend through [`KtDatabase`].
pub async fn akd_storage_test_cases_pass<S: Store>(store: S) {
    akd::storage::tests::run_test_cases_for_storage_impl(KtDatabase::new(store)).await;
}

pub async fn directory_changes_wait_until_published<S: Store>(store: S) {
    assert_eq!(store.kt_pending().await.expect("pending").users, vec![]);
    store
        .kt_mark(vec![name("alice"), name("bob"), name("alice")])
        .await
        .expect("mark");
    let pending = store.kt_pending().await.expect("pending");
    assert_eq!(pending.users, vec![name("alice"), name("bob")]);
    assert!(store.kt_is_pending(&name("bob")).await.expect("pending"));
    // A change noted after the batch was read stays for the next epoch.
    store.kt_mark(vec![name("bob")]).await.expect("mark");
    let root = KtRoot {
        epoch: 1,
        root: [7; 32],
        note: "note 1".into(),
    };
    store
        .kt_published(pending.through, root.clone())
        .await
        .expect("published");
    assert!(!store.kt_is_pending(&name("alice")).await.expect("pending"));
    assert_eq!(
        store.kt_pending().await.expect("pending").users,
        vec![name("bob")]
    );
    // A root is recorded once: a repeat (an interrupted publication redone) changes nothing.
    let again = KtRoot {
        note: "other".into(),
        ..root.clone()
    };
    store.kt_published(0, again).await.expect("repeat");
    assert_eq!(store.kt_roots(0, 10).await.expect("roots"), vec![root]);
}

pub async fn a_directory_reopens_with_the_same_roots_and_proofs<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    store.kt_mark(vec![name("alice")]).await.expect("mark");
    let clock = crate::clock::SystemClock;
    let directory = KeyDirectory::open(store.clone(), "pli.test/audit")
        .await
        .expect("open");
    let first = directory
        .lookup(&name("alice"), &clock)
        .await
        .expect("lookup");
    let keys = directory.keys();
    drop(directory);
    let reopened = KeyDirectory::open(store.clone(), "pli.test/audit")
        .await
        .expect("reopen");
    assert_eq!(reopened.keys(), keys, "the same keys after reopening");
    let second = reopened
        .lookup(&name("alice"), &clock)
        .await
        .expect("lookup");
    assert_eq!(second.root, first.root, "the same signed root");
    let log_key = LogKey {
        name: keys.origin.clone(),
        key: ed25519_dalek::VerifyingKey::from_bytes(
            &keys.signing_key.as_slice().try_into().expect("32 bytes"),
        )
        .expect("key"),
    };
    let root = UnverifiedCheckpoint::parse(&second.root)
        .expect("parse")
        .verify(&log_key)
        .expect("signed by the directory key");
    let found = kt::verify_lookup(
        keys.vrf_public_key.as_slice(),
        &root,
        &name("alice"),
        second.proof.as_slice(),
    )
    .expect("the proof verifies after reopening");
    assert_eq!(found.devices.len(), 1);
    assert_eq!(found.devices[0].signature_key, vec![1; 32]);
    // Epoch 0 (empty) and epoch 1 (alice) were both recorded.
    let roots = reopened.roots(0, 10).await.expect("roots");
    assert_eq!(roots.len(), 2);
    assert_eq!(roots[1], second.root);
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_directory {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            akd_storage_test_cases_pass,
            directory_changes_wait_until_published,
            a_directory_reopens_with_the_same_roots_and_proofs,
        );
    };
}
