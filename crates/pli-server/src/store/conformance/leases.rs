//! Job leases and shared server secrets: what several writers at once (several nodes, on
//! PostgreSQL) must see alike.

use crate::store::Store;

pub async fn leases_run_each_job_on_one_holder<S: Store>(store: S) {
    assert!(store.claim_lease("sweep", 1, 0, 100).await.expect("lease"));
    assert!(
        !store.claim_lease("sweep", 2, 50, 100).await.expect("lease"),
        "held by another"
    );
    assert!(
        store.claim_lease("sweep", 1, 60, 100).await.expect("lease"),
        "the holder renews"
    );
    assert!(
        !store
            .claim_lease("sweep", 2, 150, 100)
            .await
            .expect("lease"),
        "the renewal moved the expiry to 160"
    );
    assert!(
        store
            .claim_lease("sweep", 2, 161, 100)
            .await
            .expect("lease"),
        "an expired lease passes on"
    );
    assert!(
        !store
            .claim_lease("sweep", 1, 170, 100)
            .await
            .expect("lease")
    );
    assert!(
        store
            .claim_lease("other", 1, 170, 100)
            .await
            .expect("lease"),
        "jobs are independent"
    );
    store.release_lease("sweep", 1).await.expect("release");
    assert!(
        !store
            .claim_lease("sweep", 1, 175, 100)
            .await
            .expect("lease"),
        "only the holder's own lease is given up"
    );
    store.release_lease("sweep", 2).await.expect("release");
    assert!(
        store
            .claim_lease("sweep", 1, 175, 100)
            .await
            .expect("lease"),
        "a released lease is free before it runs out"
    );
}

pub async fn server_secrets_are_created_once<S: Store>(store: S) {
    let first = store.server_secret("server.key").await.expect("secret");
    let again = store.server_secret("server.key").await.expect("secret");
    let other = store.server_secret("audit.key").await.expect("secret");
    assert_eq!(first, again);
    assert_ne!(first, other);
    assert_ne!(first, [0; 32]);
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_leases {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            leases_run_each_job_on_one_holder,
            server_secrets_are_created_once,
        );
    };
}
