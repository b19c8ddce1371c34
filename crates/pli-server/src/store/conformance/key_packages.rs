//! Key packages: handed out once, then the last-resort one, even to claims racing each
//! other; the per-device limit; and lifetimes: expired packages never handed out, expiring
//! ones reported and replaced.

use super::{dev, name, register};
use crate::store::{
    Claim, ClaimedPackage, KeyPackageTime, KeyPackageUpload, NewDevice, NewKeyPackage, Store,
    StoreError,
};

/// The time the checks run at (seconds since the Unix epoch).
pub(crate) const NOW: u64 = 1_800_000_000;
/// Far beyond [`NOW`]: a package that never expires in these checks.
const FAR: u64 = NOW + 60 * 86_400;

pub(crate) fn package(data: &[u8], not_after: u64) -> NewKeyPackage {
    NewKeyPackage {
        data: data.to_vec(),
        not_after,
    }
}

/// An upload at [`NOW`] of packages valid long after it.
pub(crate) fn upload(
    one_time: Vec<Vec<u8>>,
    last_resort: Option<Vec<u8>>,
    max_one_time: usize,
) -> KeyPackageUpload {
    KeyPackageUpload {
        one_time: one_time.iter().map(|p| package(p, FAR)).collect(),
        last_resort: last_resort.map(|p| package(&p, FAR)),
        max_one_time,
        at: KeyPackageTime::at(NOW),
        replace_expiring: false,
    }
}

async fn claim<S: Store>(store: &S, user: &str, now: u64) -> Claim {
    store
        .claim_key_packages(&name(user), now, None)
        .await
        .expect("claim")
        .expect("user")
}

pub async fn key_packages_are_claimed_once_then_last_resort<S: Store>(store: S) {
    register(&store, "bob", 2).await;
    let status = store
        .add_key_packages(
            dev(2),
            upload(
                vec![b"kp1".to_vec(), b"kp2".to_vec()],
                Some(b"lr".to_vec()),
                10,
            ),
        )
        .await
        .expect("add");
    assert_eq!(status.available, 2);
    assert!(status.has_last_resort);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let claimed = claim(&store, "bob", NOW).await.packages;
        assert_eq!(claimed.len(), 1);
        assert!(!claimed[0].last_resort);
        seen.push(claimed[0].key_package.clone());
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![b"kp1".to_vec(), b"kp2".to_vec()],
        "each handed out exactly once"
    );
    for _ in 0..2 {
        assert_eq!(
            claim(&store, "bob", NOW).await.packages,
            vec![ClaimedPackage {
                device_id: dev(2),
                key_package: b"lr".to_vec(),
                last_resort: true
            }],
            "the last-resort package is handed out and kept"
        );
    }
    let status = store
        .key_package_status(dev(2), KeyPackageTime::at(NOW))
        .await
        .expect("status");
    assert_eq!(status.available, 0);
    assert!(status.has_last_resort);
    assert!(
        store
            .claim_key_packages(&name("ghost"), NOW, None)
            .await
            .expect("claim")
            .is_none()
    );
}

pub async fn key_package_limit_refuses_whole_upload<S: Store>(store: S) {
    register(&store, "bob", 2).await;
    store
        .add_key_packages(dev(2), upload(vec![vec![1]; 3], None, 4))
        .await
        .expect("add");
    let over = store
        .add_key_packages(dev(2), upload(vec![vec![2]; 2], None, 4))
        .await;
    assert!(matches!(over, Err(StoreError::TooManyKeyPackages)));
    assert_eq!(
        store
            .key_package_status(dev(2), KeyPackageTime::at(NOW))
            .await
            .expect("status")
            .available,
        3
    );
    let unknown = store
        .add_key_packages(dev(99), upload(vec![vec![1]], None, 4))
        .await;
    assert!(matches!(unknown, Err(StoreError::UnknownDevice)));
}

/// Packages past their `not_after` are never handed out, and a claim says when that left a
/// device out; the status counts the ones expiring within the renewal window, and an upload
/// that replaces them deletes them (expired ones go at every upload, freeing their slots).
pub async fn expired_key_packages_are_never_handed_out_and_expiring_ones_are_replaced<S: Store>(
    store: S,
) {
    register(&store, "bob", 2).await;
    let day = 86_400;
    let soon = NOW + day;
    let mut first = upload(vec![], None, 4);
    first.one_time = vec![package(b"old1", soon), package(b"old2", soon)];
    first.last_resort = Some(package(b"oldlr", soon));
    store.add_key_packages(dev(2), first).await.expect("add");
    let status = store
        .key_package_status(dev(2), KeyPackageTime::at(NOW))
        .await
        .expect("status");
    assert_eq!((status.available, status.expiring), (2, 2));
    assert!(status.has_last_resort && status.last_resort_expiring);

    // A day and a second on, nothing is valid: nothing is handed out, and the claim says
    // the device's packages expired.
    let later = soon + 1;
    assert_eq!(
        claim(&store, "bob", later).await,
        Claim {
            packages: vec![],
            expired_devices: vec![dev(2)]
        }
    );
    let status = store
        .key_package_status(dev(2), KeyPackageTime::at(later))
        .await
        .expect("status");
    assert_eq!((status.available, status.has_last_resort), (0, false));
    // The next upload deletes the expired one-time packages (the last-resort one is
    // replaced).
    let mut fresh = upload(vec![b"new1".to_vec(), b"new2".to_vec()], None, 3);
    fresh.at = KeyPackageTime::at(later);
    fresh.one_time.push(package(b"new3", FAR));
    fresh.last_resort = Some(package(b"newlr", FAR));
    let status = store.add_key_packages(dev(2), fresh).await.expect("add");
    assert_eq!((status.available, status.expiring), (3, 0));
    assert!(status.has_last_resort && !status.last_resort_expiring);
    let export = store
        .export_account(&name("bob"))
        .await
        .expect("export")
        .expect("bob");
    let mut stored: Vec<_> = export.key_packages.iter().map(|k| k.data.clone()).collect();
    stored.sort();
    assert_eq!(
        stored,
        vec![
            b"new1".to_vec(),
            b"new2".to_vec(),
            b"new3".to_vec(),
            b"newlr".to_vec()
        ],
        "the expired packages are gone"
    );
    let handed = claim(&store, "bob", later).await;
    assert_eq!(handed.packages[0].key_package, b"new1".to_vec());

    // Expiring (not expired) packages are replaced only when the upload says so.
    let edge = FAR - day;
    let at_edge = KeyPackageTime::at(edge);
    let status = store
        .key_package_status(dev(2), at_edge)
        .await
        .expect("status");
    assert_eq!((status.available, status.expiring), (2, 2));
    let mut keep = upload(vec![], None, 10);
    keep.at = at_edge;
    keep.one_time = vec![package(b"next1", edge + 80 * day)];
    let status = store.add_key_packages(dev(2), keep).await.expect("add");
    assert_eq!((status.available, status.expiring), (3, 2));
    let mut replace = upload(vec![], None, 10);
    replace.at = at_edge;
    replace.replace_expiring = true;
    replace.one_time = vec![package(b"next2", edge + 80 * day)];
    let status = store.add_key_packages(dev(2), replace).await.expect("add");
    assert_eq!((status.available, status.expiring), (2, 0));
    let mut handed: Vec<_> = Vec::new();
    for _ in 0..2 {
        handed.push(
            claim(&store, "bob", edge).await.packages[0]
                .key_package
                .clone(),
        );
    }
    assert_eq!(handed, vec![b"next1".to_vec(), b"next2".to_vec()]);
    assert!(
        claim(&store, "bob", edge).await.packages[0].last_resort,
        "then the last-resort package"
    );
}

/// A package stored before the server recorded lifetimes (no `not_after`: here, brought in
/// by an import) is handed out, but counted as expiring, so its device replaces it.
pub async fn key_packages_without_a_recorded_lifetime_are_valid_but_expiring<S: Store>(store: S) {
    register(&store, "bob", 2).await;
    store
        .add_key_packages(
            dev(2),
            upload(vec![b"a".to_vec(), b"b".to_vec()], Some(b"lr".to_vec()), 10),
        )
        .await
        .expect("add");
    let mut export = store
        .export_account(&name("bob"))
        .await
        .expect("export")
        .expect("bob");
    for package in &mut export.key_packages {
        package.not_after = None;
    }
    store.import_account(export).await.expect("import");
    let at = KeyPackageTime::at(NOW);
    let status = store.key_package_status(dev(2), at).await.expect("status");
    assert_eq!((status.available, status.expiring), (2, 2));
    assert!(status.has_last_resort && status.last_resort_expiring);
    assert_eq!(
        claim(&store, "bob", NOW).await.packages[0].key_package,
        b"a"
    );
    let mut replace = upload(vec![b"c".to_vec()], Some(b"lr2".to_vec()), 10);
    replace.replace_expiring = true;
    let status = store.add_key_packages(dev(2), replace).await.expect("add");
    assert_eq!((status.available, status.expiring), (1, 0));
    assert!(status.has_last_resort && !status.last_resort_expiring);
}

pub async fn concurrent_claims_hand_each_package_out_once<S: Store>(store: S) {
    register(&store, "bob", 2).await;
    let packages: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 4]).collect();
    store
        .add_key_packages(
            dev(2),
            super::upload(packages.clone(), Some(b"lr".to_vec()), 100),
        )
        .await
        .expect("add");
    let claims: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_key_packages(&super::name("bob"), super::NOW, None)
                    .await
                    .expect("claim")
                    .expect("user")
                    .packages
            })
        })
        .collect();
    let mut handed_out = Vec::new();
    for claim in claims {
        let claimed = claim.await.expect("task");
        assert_eq!(claimed.len(), 1);
        assert!(!claimed[0].last_resort, "one-time packages were left");
        handed_out.push(claimed[0].key_package.clone());
    }
    handed_out.sort();
    assert_eq!(handed_out, packages, "each package handed out exactly once");
}

/// A claim for one device of a user takes that device's package alone, and one for a
/// device the user does not have takes nothing.
pub async fn a_claim_for_one_device_spends_no_other_package<S: Store>(store: S) {
    register(&store, "erin", 30).await;
    let endorsement = pli_proto::kt::Endorsement {
        by: dev(30),
        signature: [3; 64],
    };
    let second = NewDevice {
        device_id: dev(31),
        secret_hash: [31; 32],
        signature_key: vec![31; 32],
        endorsement,
    };
    store
        .add_device(&name("erin"), second)
        .await
        .expect("second device");
    for (device, data) in [(30, b"first".to_vec()), (31, b"second".to_vec())] {
        store
            .add_key_packages(dev(device), upload(vec![data], None, 10))
            .await
            .expect("upload");
    }
    let only = store
        .claim_key_packages(&name("erin"), NOW, Some(dev(31)))
        .await
        .expect("claim")
        .expect("user");
    assert_eq!(
        only.packages
            .iter()
            .map(|p| (p.device_id, p.key_package.clone()))
            .collect::<Vec<_>>(),
        vec![(dev(31), b"second".to_vec())]
    );
    let first = store
        .key_package_status(dev(30), KeyPackageTime::at(NOW))
        .await
        .expect("status");
    assert_eq!(first.available, 1, "the first device's package is left");
    let elsewhere = store
        .claim_key_packages(&name("erin"), NOW, Some(dev(99)))
        .await
        .expect("claim")
        .expect("user");
    assert!(elsewhere.packages.is_empty());
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_key_packages {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            key_packages_are_claimed_once_then_last_resort,
            key_package_limit_refuses_whole_upload,
            expired_key_packages_are_never_handed_out_and_expiring_ones_are_replaced,
            key_packages_without_a_recorded_lifetime_are_valid_but_expiring,
            concurrent_claims_hand_each_package_out_once,
            a_claim_for_one_device_spends_no_other_package,
        );
    };
}
