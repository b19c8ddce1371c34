//! Several `pli serve` nodes on one PostgreSQL database (a throwaway cluster the test starts):
//! users on different nodes chat live, commits racing through both nodes leave one order,
//! and when a node is killed under load its clients move to the other and lose nothing.
//! These run on PostgreSQL whatever `PLI_TEST_DATABASE` says: SQLite is one process.

mod common;

use common::{TestUser, serve_binary, share_database};
use pli_client::transport::{Credentials, Transport};
use pli_proto::frame::ServerFrame;
use std::collections::BTreeMap;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Child;

/// How long a pushed message may take to cross nodes before the test calls it lost.
const PUSH_DEADLINE: Duration = Duration::from_secs(10);

struct Node {
    process: Child,
    url: String,
}

/// Two nodes on one fresh database.
async fn two_nodes() -> (TempDir, Node, Node) {
    let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
    let dir = tempfile::tempdir().expect("dir");
    let mut nodes = Vec::new();
    for name in ["node-a", "node-b"] {
        let data = dir.path().join(name);
        share_database(&data, &url);
        let (process, url) = serve_binary(&data).await;
        nodes.push(Node { process, url });
    }
    let b = nodes.pop().expect("b");
    let a = nodes.pop().expect("a");
    (dir, a, b)
}

fn transport(user: &TestUser, url: &str) -> Transport {
    let identity = user.identity();
    Transport::new(url, None)
        .expect("transport")
        .with_credentials(Credentials {
            device_id: identity.device_id,
            secret: identity.secret,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_different_nodes_chat_live_one_to_one_and_in_a_group() {
    let (_dir, a, b) = two_nodes().await;
    let mut alice = TestUser::register_at(&a.url, "alice").await;
    let mut bob = TestUser::register_at(&b.url, "bob").await;
    let mut carol = TestUser::register_at(&b.url, "carol").await;

    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct chat through node a");
    // Bob is connected to node b, his backlog drained: what alice sends through node a can
    // only reach this socket if node a's commit wakes node b.
    let mut stream = transport(&bob, &b.url).connect().await.expect("connect");
    loop {
        match stream.next_frame().await.expect("frame") {
            Some(ServerFrame::Drained) => break,
            Some(_) => {}
            None => panic!("node b closed the stream"),
        }
    }
    alice.send(&direct, "across the nodes").await;
    let pushed = tokio::time::timeout(PUSH_DEADLINE, async {
        loop {
            match stream.next_frame().await.expect("frame") {
                Some(ServerFrame::Deliver(items)) => return items.len(),
                Some(_) => {}
                None => panic!("node b closed the stream"),
            }
        }
    })
    .await
    .expect("node b pushed the message accepted by node a");
    assert!(pushed >= 1);
    stream.close().await.expect("close");
    let received = bob.receive().await;
    assert!(
        received
            .iter()
            .any(|(c, from, text)| c == &direct && from == "alice" && text == "across the nodes"),
        "{received:?}"
    );

    let group = alice
        .client
        .create_group("nodes", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group through node a");
    carol.receive().await;
    carol.send(&group, "hello from node b").await;
    let at_alice = alice.receive().await;
    assert!(
        at_alice
            .iter()
            .any(|(c, from, text)| c == &group && from == "carol" && text == "hello from node b"),
        "{at_alice:?}"
    );
    let at_bob = bob.receive().await;
    assert!(
        at_bob
            .iter()
            .any(|(_, _, text)| text == "hello from node b")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_racing_through_both_nodes_leave_one_epoch() {
    let (_dir, a, b) = two_nodes().await;
    let mut alice = TestUser::register_at(&a.url, "alice").await;
    let mut bob = TestUser::register_at(&b.url, "bob").await;
    let dave = TestUser::register_at(&a.url, "dave").await;
    let erin = TestUser::register_at(&b.url, "erin").await;
    let group = alice
        .client
        .create_group("race", std::slice::from_ref(&bob.name))
        .await
        .expect("group");
    bob.receive().await;
    let before = alice.client.epoch(&group).expect("epoch");
    assert_eq!(bob.client.epoch(&group).expect("epoch"), before);

    // Both commit at the same epoch at once, alice through node a, bob through node b.
    let (by_alice, by_bob) = tokio::join!(
        alice.client.add_member(&group, &dave.name),
        bob.client.add_member(&group, &erin.name)
    );
    assert!(
        by_alice.is_ok() || by_bob.is_ok(),
        "one of the racing commits is accepted: {by_alice:?} {by_bob:?}"
    );
    // Whoever lost catches up and tries again on the new epoch.
    alice.receive().await;
    bob.receive().await;
    if by_alice.is_err() {
        alice
            .client
            .add_member(&group, &dave.name)
            .await
            .expect("retry");
    }
    if by_bob.is_err() {
        bob.client
            .add_member(&group, &erin.name)
            .await
            .expect("retry");
    }
    alice.receive().await;
    bob.receive().await;
    alice.receive().await;
    let epoch = alice.client.epoch(&group).expect("epoch");
    assert_eq!(epoch, before + 2, "two commits, one after the other");
    assert_eq!(bob.client.epoch(&group).expect("epoch"), epoch, "one order");
    assert_eq!(
        alice.client.members(&group).expect("members"),
        bob.client.members(&group).expect("members")
    );
    alice.send(&group, "after the race").await;
    let at_bob = bob.receive().await;
    assert!(at_bob.iter().any(|(_, _, text)| text == "after the race"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_s_clients_move_to_the_other_with_nothing_lost() {
    const PER_SENDER: usize = 25;
    let (_dir, mut a, b) = two_nodes().await;
    let mut bob = TestUser::register_at(&b.url, "bob").await;
    let mut senders = Vec::new();
    for name in ["alice", "carol"] {
        let mut user = TestUser::register_at(&a.url, name).await;
        let chat = user
            .client
            .direct_conversation(&bob.name)
            .await
            .expect("direct");
        senders.push((user, chat));
    }
    bob.receive().await;

    // Both senders write through node a, which is killed once a fifth of the load is sent.
    let (progress, mut watched) = tokio::sync::watch::channel(0usize);
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|(mut user, chat)| {
            let progress = progress.clone();
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for n in 0..PER_SENDER {
                    let text = format!("{}-{n}", user.name);
                    // Sent, queued in the outbox, or cut off mid-flight: each must arrive.
                    let status = user.client.send_text(&chat, &text).await;
                    assert!(
                        !matches!(status, Err(ref e) if !e.is_retryable()),
                        "a send failed for good: {status:?}"
                    );
                    sent.push(text);
                    progress.send_modify(|n| *n += 1);
                }
                (user, chat, sent)
            })
        })
        .collect();
    watched
        .wait_for(|sent| *sent >= 2 * PER_SENDER / 5)
        .await
        .expect("senders running");
    a.process.start_kill().expect("SIGKILL node a");
    let at_kill = *watched.borrow();
    let _ = a.process.wait().await;
    assert!(at_kill < 2 * PER_SENDER, "the kill landed mid-load");

    let mut attempted = Vec::new();
    for task in tasks {
        let (mut user, chat, sent) = task.await.expect("sender");
        attempted.extend(sent);
        // The client moves to node b (the global --server override) and flushes its outbox.
        user.reopen(&b.url);
        user.client.sync().await.expect("sync through node b");
        user.send(&chat, &format!("{}-after", user.name)).await;
        attempted.push(format!("{}-after", user.name));
        assert_eq!(user.client.outbox_len().expect("outbox"), 0);
    }

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..3 {
        for (_, _, text) in bob.receive().await {
            *counts.entry(text).or_default() += 1;
        }
    }
    let lost: Vec<_> = attempted
        .iter()
        .filter(|t| !counts.contains_key(*t))
        .collect();
    let duplicated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let invented: Vec<_> = counts.keys().filter(|t| !attempted.contains(t)).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(duplicated.is_empty(), "duplicated: {duplicated:?}");
    assert!(invented.is_empty(), "invented: {invented:?}");
    assert_eq!(counts.len(), attempted.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_connecting_to_another_node_closes_its_older_connection() {
    let (_dir, a, b) = two_nodes().await;
    let alice = TestUser::register_at(&a.url, "alice").await;
    let drained = async |url: &str| {
        let mut stream = transport(&alice, url).connect().await.expect("connect");
        loop {
            match stream.next_frame().await.expect("frame") {
                Some(ServerFrame::Drained) => return stream,
                Some(_) => {}
                None => panic!("closed before the backlog was drained"),
            }
        }
    };
    let mut on_a = drained(&a.url).await;
    let _on_b = drained(&b.url).await;
    // One consumer per device across the cluster: node a closes the older connection.
    let closed = tokio::time::timeout(PUSH_DEADLINE, async {
        loop {
            match on_a.next_frame().await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "node a kept the replaced connection open");
}
