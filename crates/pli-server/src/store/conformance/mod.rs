//! The behaviour every `Store` backend must show. Each check is a plain async function over
//! any `S: Store`; [`conformance_tests!`](crate::conformance_tests) turns them into one
//! `#[tokio::test]` per check for a backend, given an expression that makes a fresh store
//! (and a guard that keeps its resources alive).

mod accounts;
mod cluster;
mod directory;
mod governance;
mod key_packages;
mod leases;
mod residency;

pub use accounts::*;
pub use cluster::*;
pub use directory::*;
pub use governance::*;
pub use key_packages::*;
pub use leases::*;
pub use residency::*;

use crate::store::{EpochRule, NewAccount, Store, StoreError, Submission};
use pli_proto::{DeviceId, GroupId, MessageId, Username};

pub(crate) fn name(text: &str) -> Username {
    Username::parse(text).expect("test usernames are valid")
}

pub(crate) fn dev(id: u64) -> DeviceId {
    DeviceId::new(id).expect("test device ids are valid")
}

pub(crate) fn group(byte: u8) -> GroupId {
    GroupId::from_bytes(&[byte; 16]).expect("16 bytes is a valid group id")
}

pub(crate) async fn register<S: Store>(store: &S, user: &str, device: u64) {
    store
        .create_account(NewAccount {
            region: pli_proto::Region::parse("default").expect("region"),
            username: name(user),
            device_id: dev(device),
            secret_hash: [device as u8; 32],
            signature_key: vec![device as u8; 32],
            created_day: 20_000,
        })
        .await
        .expect("create account");
}

pub(crate) fn submission(g: &GroupId, rule: EpochRule, payload: &[u8], to: &[u64]) -> Submission {
    Submission {
        group: g.clone(),
        rule,
        payload: payload.to_vec(),
        recipients: to.iter().map(|d| dev(*d)).collect(),
        welcome: None,
        now_ms: 1_000,
        max_queue_depth: 100,
    }
}

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

/// Expands to one test per conformance check for a backend. `$make` is a block evaluating
/// to `(store, guard)`; the guard (a temp dir, a database cluster) lives as long as the test.
#[macro_export]
macro_rules! conformance_tests {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            accounts_are_unique_and_authenticate,
            lists_devices_or_none_for_unknown_users,
            key_packages_are_claimed_once_then_last_resort,
            key_package_limit_refuses_whole_upload,
            expired_key_packages_are_never_handed_out_and_expiring_ones_are_replaced,
            key_packages_without_a_recorded_lifetime_are_valid_but_expiring,
            commits_compare_and_set_the_epoch,
            racing_commits_accept_exactly_one,
            application_messages_need_a_known_group_and_current_epoch,
            submit_is_all_or_nothing,
            queue_depth_is_enforced,
            a_large_group_is_queued_all_or_nothing,
            fetch_pages_in_order_and_ack_removes_only_acked,
            ws_tickets_work_once_and_expire,
            readers_paging_during_concurrent_writes_miss_nothing,
            concurrent_claims_hand_each_package_out_once,
            leases_run_each_job_on_one_holder,
            server_secrets_are_created_once,
            audit_appends_are_serial_and_apply_their_effect_or_nothing,
            holds_keep_the_later_date_and_notices_release_once,
            staff_are_rotated_re_roled_and_revoked_but_an_operator_remains,
            concurrent_removals_leave_one_operator,
            the_index_gives_each_name_one_region,
            epoch_and_queues_as_separate_steps,
            an_exported_account_imports_whole_and_erases_without_trace,
            retention_expires_old_queues_except_held_accounts,
            a_deleted_account_keeps_only_its_facts_until_erased,
            connection_ips_are_kept_until_their_period_ends,
            akd_storage_test_cases_pass,
            directory_changes_wait_until_published,
            a_directory_reopens_with_the_same_roots_and_proofs,
            devices_are_added_with_their_endorsement_and_removed_alone,
        );
    };
    (@each $make:block; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, _guard) = $make;
                $crate::store::conformance::$check(store).await;
            }
        )*
    };
}
