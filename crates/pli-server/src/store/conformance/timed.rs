//! Disappearing messages: a timed message leaves every queue when its timer is over,
//! delivered or not, whichever way it was queued, and nothing else goes with it.

use super::{dev, group, register, submission};
use crate::store::{EpochRule, Store};
use pli_proto::frame::KIND_MLS;

/// What `device` has queued, as (payload, end of timer).
async fn queued<S: Store>(store: &S, device: u64) -> Vec<(Vec<u8>, Option<u64>)> {
    let page = store
        .fetch_queue(dev(device), None, 10)
        .await
        .expect("fetch");
    page.into_iter()
        .map(|q| (q.payload, q.expires_ms))
        .collect()
}

pub async fn a_timed_message_leaves_every_queue_when_its_timer_is_over<S: Store>(store: S) {
    for (user, device) in [("alice", 1), ("bob", 2), ("carol", 3)] {
        register(&store, user, device).await;
    }
    let g = group(40);
    let commit = submission(&g, EpochRule::Commit { epoch: 0 }, b"commit", &[2, 3]);
    store.submit(commit).await.expect("group");
    let mut timed = submission(&g, EpochRule::Application { epoch: 1 }, b"timed", &[2, 3]);
    timed.expires_ms = Some(60_000);
    store.submit(timed).await.expect("timed");
    let kept = submission(&g, EpochRule::Application { epoch: 1 }, b"kept", &[2, 3]);
    store.submit(kept).await.expect("kept");
    store
        .deliver(
            KIND_MLS,
            b"delivered".to_vec(),
            vec![dev(3)],
            1_000,
            Some(30_000),
        )
        .await
        .expect("deliver")
        .expect("queued");
    assert_eq!(
        queued(&store, 3).await,
        vec![
            (b"commit".to_vec(), None),
            (b"timed".to_vec(), Some(60_000)),
            (b"kept".to_vec(), None),
            (b"delivered".to_vec(), Some(30_000)),
        ],
        "each keeps its end, read back with it"
    );

    // bob fetched and acked the timed one already; carol never did.
    let bobs: Vec<_> = store.fetch_queue(dev(2), None, 10).await.expect("fetch");
    store.ack(dev(2), vec![bobs[1].id]).await.expect("ack");

    assert_eq!(
        store.expire_timed(29_999).await.expect("sweep"),
        0,
        "not yet"
    );
    assert_eq!(store.expire_timed(30_000).await.expect("sweep"), 1);
    assert_eq!(
        store.expire_timed(60_000).await.expect("sweep"),
        1,
        "carol's entry: bob's went with his ack"
    );
    assert_eq!(
        queued(&store, 3).await,
        vec![(b"commit".to_vec(), None), (b"kept".to_vec(), None)]
    );
    assert_eq!(
        queued(&store, 2).await,
        vec![(b"commit".to_vec(), None), (b"kept".to_vec(), None)]
    );
    let lengths = store
        .queue_lengths(&[dev(2), dev(3)])
        .await
        .expect("lengths");
    assert_eq!(lengths, vec![(dev(2), 2), (dev(3), 2)], "the counts follow");
    assert_eq!(store.expire_timed(u64::MAX / 2).await.expect("sweep"), 0);
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_timed {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            a_timed_message_leaves_every_queue_when_its_timer_is_over,
        );
    };
}
