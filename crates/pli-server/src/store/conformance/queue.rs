//! The delivery queue: the epoch rule (compare and set, one winner among racing commits),
//! submissions all or nothing, the depth limit, paging and acks, a reader paging while
//! several writers commit, and the epoch rule and queue writes as separate steps.

use super::{dev, group, register, submission};
use crate::store::{EpochRule, Store, StoreError};
use pli_proto::MessageId;
use pli_proto::frame::KIND_MLS;
use std::collections::BTreeSet;

pub async fn commits_compare_and_set_the_epoch<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let g = group(1);
    let first = store
        .submit(submission(&g, EpochRule::Commit { epoch: 0 }, b"c0", &[2]))
        .await
        .expect("creating commit");
    assert_eq!(first.epoch, 1);
    assert_eq!(store.group_epoch(&g).await.expect("epoch"), Some(1));
    let stale = store
        .submit(submission(&g, EpochRule::Commit { epoch: 0 }, b"x", &[2]))
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::StaleEpoch {
            submitted: 0,
            current: 1
        })
    ));
    let future = store
        .submit(submission(&g, EpochRule::Commit { epoch: 5 }, b"x", &[2]))
        .await;
    assert!(matches!(future, Err(StoreError::StaleEpoch { .. })));
    let next = store
        .submit(submission(&g, EpochRule::Commit { epoch: 1 }, b"c1", &[2]))
        .await
        .expect("commit at current epoch");
    assert_eq!(next.epoch, 2);
    assert!(next.id > first.id);
    // Refused commits queued nothing.
    let queued = store.fetch_queue(dev(2), None, 10).await.expect("fetch");
    let payloads: Vec<_> = queued.iter().map(|q| q.payload.clone()).collect();
    assert_eq!(payloads, vec![b"c0".to_vec(), b"c1".to_vec()]);
}

pub async fn racing_commits_accept_exactly_one<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let g = group(2);
    store
        .submit(submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &[1]))
        .await
        .expect("create");
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        let s = submission(&g, EpochRule::Commit { epoch: 1 }, &[i], &[1]);
        tokio::spawn(async move { store.submit(s).await })
    });
    let mut accepted = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(a) => {
                assert_eq!(a.epoch, 2);
                accepted += 1;
            }
            Err(StoreError::StaleEpoch { .. }) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(store.group_epoch(&g).await.expect("epoch"), Some(2));
}

pub async fn application_messages_need_a_known_group_and_current_epoch<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let g = group(3);
    let unknown = store
        .submit(submission(
            &g,
            EpochRule::Application { epoch: 0 },
            b"a",
            &[1],
        ))
        .await;
    assert!(matches!(unknown, Err(StoreError::UnknownGroup)));
    store
        .submit(submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &[1]))
        .await
        .expect("create");
    store
        .submit(submission(&g, EpochRule::Commit { epoch: 1 }, b"c", &[1]))
        .await
        .expect("advance");
    let late = store
        .submit(submission(
            &g,
            EpochRule::Application { epoch: 1 },
            b"late",
            &[1],
        ))
        .await;
    assert!(
        matches!(
            late,
            Err(StoreError::StaleEpoch {
                submitted: 1,
                current: 2
            })
        ),
        "a sender behind the group's epoch must catch up first"
    );
    store
        .submit(submission(
            &g,
            EpochRule::Application { epoch: 2 },
            b"now",
            &[1],
        ))
        .await
        .expect("current epoch");
    let ahead = store
        .submit(submission(
            &g,
            EpochRule::Application { epoch: 3 },
            b"a",
            &[1],
        ))
        .await;
    assert!(matches!(ahead, Err(StoreError::StaleEpoch { .. })));
    let old_proposal = store
        .submit(submission(&g, EpochRule::Proposal { epoch: 1 }, b"p", &[1]))
        .await;
    assert!(matches!(old_proposal, Err(StoreError::StaleEpoch { .. })));
}

pub async fn submit_is_all_or_nothing<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let g = group(4);
    let mut s = submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &[2, 404]);
    let unknown = store.submit(s.clone()).await;
    assert!(matches!(unknown, Err(StoreError::UnknownRecipient)));
    assert_eq!(
        store.group_epoch(&g).await.expect("epoch"),
        None,
        "the epoch did not move"
    );
    assert!(
        store
            .fetch_queue(dev(2), None, 10)
            .await
            .expect("fetch")
            .is_empty()
    );
    s.recipients = vec![dev(2)];
    s.welcome = Some((b"welcome".to_vec(), vec![dev(1)]));
    s.max_queue_depth = 1;
    store
        .submit(s)
        .await
        .expect("the refusal left no count behind: depth 1 still has room");
    let welcome = store.fetch_queue(dev(1), None, 10).await.expect("fetch");
    assert_eq!(welcome.len(), 1);
    assert_eq!(welcome[0].payload, b"welcome".to_vec());
}

pub async fn queue_depth_is_enforced<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    let g = group(5);
    let mut s = submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &[1]);
    s.max_queue_depth = 2;
    store.submit(s.clone()).await.expect("1");
    s.rule = EpochRule::Application { epoch: 1 };
    store.submit(s.clone()).await.expect("2");
    assert!(matches!(
        store.submit(s.clone()).await,
        Err(StoreError::QueueFull)
    ));
    let ids: Vec<MessageId> = store
        .fetch_queue(dev(1), None, 10)
        .await
        .expect("fetch")
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(store.ack(dev(1), ids[..1].to_vec()).await.expect("ack"), 1);
    store.submit(s).await.expect("room again after an ack");
}

/// A group large enough for a backend to queue its messages in bulk keeps the same rules:
/// one unknown or full recipient refuses the message for everyone, counters included.
pub async fn a_large_group_is_queued_all_or_nothing<S: Store>(store: S) {
    let members: Vec<u64> = (1..=40).collect();
    for &m in &members {
        register(&store, &format!("member{m}"), m).await;
    }
    let g = group(12);
    let mut with_stranger = members.clone();
    with_stranger.push(404);
    let mut s = submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &with_stranger);
    s.max_queue_depth = 1;
    assert!(matches!(
        store.submit(s.clone()).await,
        Err(StoreError::UnknownRecipient)
    ));
    s.recipients = members.iter().map(|m| dev(*m)).collect();
    store
        .submit(s.clone())
        .await
        .expect("the refusal left no count behind: depth 1 still has room");
    for &m in &members {
        let queued = store.fetch_queue(dev(m), None, 10).await.expect("fetch");
        assert_eq!(queued.len(), 1, "device {m} has the commit once");
    }
    s.rule = EpochRule::Application { epoch: 1 };
    assert!(matches!(
        store.submit(s.clone()).await,
        Err(StoreError::QueueFull)
    ));
    let first = store.fetch_queue(dev(1), None, 10).await.expect("fetch")[0].id;
    store.ack(dev(1), vec![first]).await.expect("ack");
    assert!(
        matches!(store.submit(s.clone()).await, Err(StoreError::QueueFull)),
        "the others are still full"
    );
    assert!(
        store
            .fetch_queue(dev(1), None, 10)
            .await
            .expect("fetch")
            .is_empty(),
        "nothing of the refused messages reached the one with room"
    );
}

pub async fn fetch_pages_in_order_and_ack_removes_only_acked<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let g = group(6);
    store
        .submit(submission(
            &g,
            EpochRule::Commit { epoch: 0 },
            b"m0",
            &[1, 2],
        ))
        .await
        .expect("0");
    for i in 1..5u8 {
        let s = submission(
            &g,
            EpochRule::Application { epoch: 1 },
            &[b'm', b'0' + i],
            &[1, 2],
        );
        store.submit(s).await.expect("message");
    }
    let page = store.fetch_queue(dev(1), None, 2).await.expect("page 1");
    assert_eq!(page.len(), 2);
    let rest = store
        .fetch_queue(dev(1), Some(page[1].id), 10)
        .await
        .expect("page 2");
    assert_eq!(rest.len(), 3);
    assert!(page.iter().chain(&rest).map(|q| q.id).is_sorted());
    let acked = vec![page[0].id, rest[0].id, MessageId(999_999)];
    assert_eq!(store.ack(dev(1), acked.clone()).await.expect("ack"), 2);
    assert_eq!(
        store.ack(dev(1), acked).await.expect("again"),
        0,
        "acks are idempotent"
    );
    assert_eq!(
        store
            .fetch_queue(dev(1), None, 10)
            .await
            .expect("fetch")
            .len(),
        3
    );
    // Bob's queue, sharing the stored ciphertexts, is untouched.
    assert_eq!(
        store
            .fetch_queue(dev(2), None, 10)
            .await
            .expect("fetch")
            .len(),
        5
    );
}

/// A reader that pages with `after = last id seen` while writers commit must see every
/// message: a message id may never become visible below one the reader already passed.
pub async fn readers_paging_during_concurrent_writes_miss_nothing<S: Store>(store: S) {
    const WRITERS: u8 = 4;
    const EACH: u8 = 40;
    register(&store, "alice", 1).await;
    let g = group(9);
    store
        .submit(submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &[1]))
        .await
        .expect("create");
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            let g = g.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    let mut s = submission(&g, EpochRule::Application { epoch: 1 }, &[w, i], &[1]);
                    s.max_queue_depth = 10_000;
                    store.submit(s).await.expect("submit");
                }
            })
        })
        .collect();
    let expected = 1 + usize::from(WRITERS) * usize::from(EACH);
    let mut seen: Vec<MessageId> = Vec::new();
    let mut after = None;
    let mut writers_done = false;
    loop {
        let page = store.fetch_queue(dev(1), after, 16).await.expect("fetch");
        if let Some(last) = page.last() {
            after = Some(last.id);
        }
        let empty = page.is_empty();
        seen.extend(page.iter().map(|q| q.id));
        if empty && writers_done {
            break;
        }
        if empty {
            writers_done = writers.iter().all(|w| w.is_finished());
            tokio::task::yield_now().await;
        }
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no message paged twice");
    assert_eq!(
        seen.len(),
        expected,
        "the paging reader saw every message exactly once"
    );
}

pub async fn epoch_and_queues_as_separate_steps<S: Store>(store: S) {
    register(&store, "alice", 1).await;
    register(&store, "bob", 2).await;
    let g = group(1);
    assert_eq!(
        store
            .advance_epoch(&g, EpochRule::Commit { epoch: 0 })
            .await
            .expect("create"),
        1
    );
    assert!(matches!(
        store
            .advance_epoch(&g, EpochRule::Application { epoch: 0 })
            .await,
        Err(StoreError::StaleEpoch {
            submitted: 0,
            current: 1
        })
    ));
    assert_eq!(
        store
            .advance_epoch(&g, EpochRule::Application { epoch: 1 })
            .await
            .expect("current"),
        1
    );
    assert_eq!(store.group_epoch(&g).await.expect("read"), Some(1));
    let lengths = store
        .queue_lengths(&[dev(1), dev(2), dev(9)])
        .await
        .expect("lengths");
    assert_eq!(
        lengths,
        vec![(dev(1), 0), (dev(2), 0)],
        "device 9 is not here"
    );
    let id = store
        .deliver(KIND_MLS, b"hello".to_vec(), vec![dev(2), dev(9)], 5, None)
        .await
        .expect("deliver")
        .expect("bob is here");
    let queue = store.fetch_queue(dev(2), None, 10).await.expect("fetch");
    assert_eq!(
        (queue[0].id, queue[0].payload.as_slice()),
        (id, &b"hello"[..])
    );
    assert_eq!(
        store
            .deliver(KIND_MLS, b"x".to_vec(), vec![dev(9)], 5, None)
            .await
            .expect("none"),
        None
    );
    assert_eq!(
        store.queue_lengths(&[dev(2)]).await.expect("len"),
        vec![(dev(2), 1)]
    );
}

/// The depth distribution the metrics publish counts each device once, in every band its
/// queue fits, and follows acks down.
pub async fn queue_depths_are_counted_in_bands<S: Store>(store: S) {
    use crate::store::QUEUE_DEPTH_BOUNDS;
    assert_eq!(QUEUE_DEPTH_BOUNDS[..3], [0, 1, 10]);
    for (name, id) in [("alice", 1), ("bob", 2), ("carol", 3)] {
        register(&store, name, id).await;
    }
    let empty = store.queue_depths().await.expect("depths");
    assert_eq!((empty.queued, empty.devices), (0, 3));
    assert_eq!(empty.at_most[0], 3, "all three queues are empty");
    let g = group(11);
    store
        .submit(submission(
            &g,
            EpochRule::Commit { epoch: 0 },
            b"c",
            &[2, 3],
        ))
        .await
        .expect("create");
    for i in 0..11u8 {
        let s = submission(&g, EpochRule::Application { epoch: 1 }, &[i], &[3]);
        store.submit(s).await.expect("message");
    }
    // alice 0, bob 1, carol 12.
    let depths = store.queue_depths().await.expect("depths");
    assert_eq!(depths.queued, 13);
    assert_eq!(depths.devices, 3);
    assert_eq!(depths.at_most[..4], [1, 2, 2, 3]);
    let carol: Vec<MessageId> = store
        .fetch_queue(dev(3), None, 100)
        .await
        .expect("fetch")
        .iter()
        .map(|q| q.id)
        .collect();
    store.ack(dev(3), carol[..5].to_vec()).await.expect("ack");
    let acked = store.queue_depths().await.expect("depths");
    assert_eq!(acked.queued, 8);
    assert_eq!(acked.at_most[..3], [1, 2, 3], "carol's 7 are within 10 now");
}

/// This file's checks, expanded for a backend by [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_queue {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            commits_compare_and_set_the_epoch,
            racing_commits_accept_exactly_one,
            application_messages_need_a_known_group_and_current_epoch,
            submit_is_all_or_nothing,
            queue_depth_is_enforced,
            a_large_group_is_queued_all_or_nothing,
            fetch_pages_in_order_and_ack_removes_only_acked,
            readers_paging_during_concurrent_writes_miss_nothing,
            epoch_and_queues_as_separate_steps,
            queue_depths_are_counted_in_bands,
        );
    };
}
