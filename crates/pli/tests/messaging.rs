//! End to end: a real server, real clients, real MLS. Each test names the behaviour it
//! proves; all of them also prove nothing is shown twice (a second sync yields nothing).

mod common;

use common::{TestServer, TestUser, alerts, texts};
use pli_client::{Client, ConnectOptions, SendStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_users_chat_one_to_one_and_in_a_group_each_message_once() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;

    // 1:1, both ways, in one conversation.
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    alice.send(&direct, "hello bob").await;
    let got = bob.receive().await;
    assert_eq!(
        got,
        vec![(direct.clone(), "alice".into(), "hello bob".into())]
    );
    let back = bob
        .client
        .direct_conversation(&alice.name)
        .await
        .expect("bob's side");
    assert_eq!(
        back, direct,
        "bob answers in the conversation alice started"
    );
    bob.send(&back, "hi alice").await;
    assert_eq!(
        alice.receive().await,
        vec![(direct.clone(), "bob".into(), "hi alice".into())]
    );

    // A group of three; everyone sees every other member's message exactly once.
    let group = alice
        .client
        .create_group("trio", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    alice.send(&group, "welcome, both").await;
    carol.send(&group, "thanks").await;
    let bob_got = bob.receive().await;
    assert_eq!(
        bob_got,
        vec![
            (group.clone(), "alice".into(), "welcome, both".into()),
            (group.clone(), "carol".into(), "thanks".into())
        ]
    );
    assert_eq!(
        alice.receive().await,
        vec![(group.clone(), "carol".into(), "thanks".into())]
    );
    let carol_conversations = carol.client.conversations().expect("list");
    assert_eq!(carol_conversations.len(), 1);
    assert_eq!(
        carol_conversations[0].name, "trio",
        "the name travelled encrypted"
    );

    // Carol's own send caught up first; the app shows her alice's message at her next read.
    assert_eq!(
        carol.receive().await,
        vec![(group.clone(), "alice".into(), "welcome, both".into())]
    );
    for user in [&mut alice, &mut bob, &mut carol] {
        let again = user.receive().await;
        assert!(again.is_empty(), "nothing is shown twice: {again:?}");
    }
    let epochs: Vec<u64> = [&alice, &bob, &carol]
        .iter()
        .map(|u| u.client.epoch(&group).expect("epoch"))
        .collect();
    assert!(
        epochs.windows(2).all(|w| w[0] == w[1]),
        "one epoch for all: {epochs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_member_reads_what_follows_and_removed_member_cannot() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;

    let group = alice
        .client
        .create_group("project", &[bob.name.clone()])
        .await
        .expect("group");
    alice.send(&group, "before carol").await;
    alice
        .client
        .add_member(&group, &carol.name)
        .await
        .expect("add");
    alice.send(&group, "carol is here").await;
    assert_eq!(
        carol.receive().await,
        vec![(group.clone(), "alice".into(), "carol is here".into())]
    );
    assert_eq!(
        carol.client.conversations().expect("list")[0].name,
        "project"
    );

    alice
        .client
        .remove_member(&group, &carol.name)
        .await
        .expect("remove");
    alice.send(&group, "after carol left").await;
    // Keep the ciphertext for the replay below (bob's ack deletes it from the server).
    let ciphertext = newest_server_message(&server).await;
    let bob_got = bob.receive().await;
    assert_eq!(
        bob_got
            .iter()
            .map(|(_, _, t)| t.as_str())
            .collect::<Vec<_>>(),
        vec!["before carol", "carol is here", "after carol left"]
    );
    assert!(carol.receive().await.is_empty());
    let carol_view = &carol.client.conversations().expect("list")[0];
    assert!(!carol_view.active, "carol learned she was removed");
    assert!(
        carol.client.send_text(&group, "still here?").await.is_err(),
        "a removed member cannot post"
    );
    assert_eq!(
        alice.client.members(&group).expect("members"),
        vec![alice.name.clone(), bob.name.clone()]
    );

    // Even if the ciphertext reaches her, carol cannot read it: replay the newest group
    // message to her device through the API, as a hostile server or member could.
    let transport = alice.transport(&server);
    transport
        .submit(&pli_proto::api::SubmitRequest {
            group_id: group.clone(),
            message: ciphertext.into(),
            recipients: vec![carol.client.device_id()],
            welcome: None,
        })
        .await
        .expect("the server queues it for carol");
    assert!(
        carol.receive().await.is_empty(),
        "carol cannot decrypt what follows her removal"
    );
}

/// The MLS message of the newest message the server holds (read from its database, its
/// franking stamp taken off).
async fn newest_server_message(server: &TestServer) -> Vec<u8> {
    let stored = server
        .db()
        .bytes("SELECT payload FROM messages ORDER BY id DESC LIMIT 1")
        .await
        .pop()
        .expect("a message");
    pli_proto::franking::split_payload(&stored).1.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_recipient_gets_everything_on_reconnect_in_order() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    // Bob is not connected while alice writes.
    for i in 0..5 {
        alice.send(&direct, &format!("message {i}")).await;
    }
    let got: Vec<String> = bob.receive().await.into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(
        got,
        (0..5).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
    assert!(bob.receive().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_sender_queues_and_sends_at_next_sync() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    let data = server.stop().await;
    let status = alice
        .client
        .send_text(&direct, "written offline")
        .await
        .expect("queued");
    assert_eq!(status, SendStatus::Queued);
    assert_eq!(alice.client.outbox_len().expect("outbox"), 1);
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    bob.reopen(&server.url);
    alice.client.sync().await.expect("sync sends the outbox");
    assert_eq!(alice.client.outbox_len().expect("outbox"), 0);
    assert_eq!(
        bob.receive().await,
        vec![(direct, "alice".into(), "written offline".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_accept_before_delivery_loses_nothing_and_shows_nothing_twice() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let group = alice
        .client
        .create_group("durable", &[bob.name.clone()])
        .await
        .expect("group");
    alice.send(&group, "one").await;
    alice.send(&group, "two").await;
    // Accepted, not yet delivered: stop the server and start it again on the same data.
    let data = server.stop().await;
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    bob.reopen(&server.url);
    alice.send(&group, "three").await;
    let got: Vec<String> = bob.receive().await.into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(got, vec!["one", "two", "three"]);
    let data = server.stop().await;
    let server = TestServer::start_on(data).await;
    bob.reopen(&server.url);
    assert!(
        bob.receive().await.is_empty(),
        "acked messages stay deleted across restarts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_commit_is_refused_and_racing_commits_leave_one_epoch() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let mut dave = TestUser::register(&server, "dave").await;
    let group = alice
        .client
        .create_group("race", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    bob.receive().await;
    carol.receive().await;

    // An old commit replayed to the server is refused with a stable code.
    let first_commit = server
        .db()
        .bytes("SELECT payload FROM messages ORDER BY id LIMIT 1")
        .await
        .pop()
        .expect("the group's first commit is still queued for alice's own device");
    let transport = bob.transport(&server);
    let refused = transport
        .submit(&pli_proto::api::SubmitRequest {
            group_id: group.clone(),
            message: first_commit.into(),
            recipients: vec![alice.client.device_id()],
            welcome: None,
        })
        .await
        .expect_err("stale");
    assert_eq!(refused.code(), Some(pli_proto::ErrorCode::StaleEpoch));

    // Alice adds dave while bob removes carol, both from the same epoch.
    let dave_name = dave.name.clone();
    let carol_name = carol.name.clone();
    let (added, removed) = tokio::join!(
        alice.client.add_member(&group, &dave_name),
        bob.client.remove_member(&group, &carol_name)
    );
    added.expect("alice's commit lands, first or after catching up");
    removed.expect("bob's commit lands, first or after catching up");
    for user in [&mut alice, &mut bob, &mut carol, &mut dave] {
        user.receive().await;
    }
    let epoch = alice.client.epoch(&group).expect("epoch");
    assert_eq!(bob.client.epoch(&group).expect("epoch"), epoch);
    assert_eq!(dave.client.epoch(&group).expect("epoch"), epoch);
    let members = vec![alice.name.clone(), bob.name.clone(), dave.name.clone()];
    assert_eq!(alice.client.members(&group).expect("members"), members);
    assert_eq!(bob.client.members(&group).expect("members"), members);
    assert_eq!(dave.client.members(&group).expect("members"), members);
    alice.send(&group, "all settled").await;
    for user in [&mut bob, &mut dave] {
        assert_eq!(
            user.receive().await,
            vec![(group.clone(), "alice".into(), "all settled".into())]
        );
    }
    assert!(carol.receive().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_member_is_committed_out_by_a_remaining_member() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let group = alice
        .client
        .create_group("club", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    carol.receive().await;
    carol.client.leave(&group).await.expect("leave");
    assert!(!carol.client.conversations().expect("list")[0].active);
    // Alice (lowest leaf) commits the departure at her next sync; bob follows.
    alice.receive().await;
    bob.receive().await;
    assert_eq!(
        alice.client.members(&group).expect("members"),
        vec![alice.name.clone(), bob.name.clone()]
    );
    assert_eq!(
        bob.client.members(&group).expect("members"),
        vec![alice.name.clone(), bob.name.clone()]
    );
    bob.send(&group, "just us").await;
    assert_eq!(
        alice.receive().await,
        vec![(group.clone(), "bob".into(), "just us".into())]
    );
    assert!(carol.receive().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_home_never_reuse_a_ratchet_step() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    alice.send(&direct, "one").await;
    // A second process on alice's home (the CLI while a front end runs): it advances the
    // group's ratchet behind the first client's cached copy of the group.
    let options = ConnectOptions {
        server: Some(server.url.clone()),
        ..Default::default()
    };
    let mut other = Client::open(alice.home.path(), &options).expect("open again");
    other.send_text(&direct, "two").await.expect("send");
    alice.send(&direct, "three").await;
    bob.client.sync().await.expect("sync");
    let events = bob.client.take_new().expect("events");
    assert!(alerts(&events).is_empty(), "{:?}", alerts(&events));
    let got: Vec<String> = texts(events).into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(
        got,
        ["one", "two", "three"],
        "a stale group would reuse a key"
    );
}

/// A newer pli's body kind reaches this version: it is kept in the sender's chain and shown
/// as a message this version cannot display, and the sender's next message raises no
/// "withheld" alarm (today the unknown one was dropped and the next one looked like a gap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_a_newer_kind_is_kept_and_raises_no_alarm() {
    use common::forger::{Forger, submit};
    use pli_proto::payload::Envelope;

    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let group = alice
        .client
        .create_group("plans", std::slice::from_ref(&carol.name))
        .await
        .expect("group");
    carol.client.sync().await.expect("carol joins");
    let newer =
        br#"{"v":1,"seq":1,"prev":null,"sent_at":1,"body":{"type":"poll","question":"lunch?"}}"#;
    let next = format!(
        r#"{{"v":1,"seq":2,"prev":"{}","sent_at":2,"body":{{"type":"text","text":"see you there"}}}}"#,
        Envelope::chain_hash(newer)
    );
    let forger = Forger::of(&carol);
    let transport = carol.transport(&server);
    let to = [alice.identity().device_id];
    for encoded in [&newer[..], next.as_bytes()] {
        transport
            .submit(&submit(&group, forger.encrypt(&group, encoded), &to))
            .await
            .expect("submit");
    }
    alice.client.sync().await.expect("sync");
    let events = alice.client.take_new().expect("events");
    assert_eq!(alerts(&events), Vec::<String>::new(), "no false alarm");
    let got: Vec<_> = texts(events).into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(got, vec![pli_client::UNSUPPORTED_TEXT, "see you there"]);
}

/// The ciphertext's size tells only the size bucket: texts of 1 and 100 bytes travel as
/// MLS messages of one size (the server's stored payloads are compared).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_of_1_and_100_bytes_give_ciphertexts_of_one_size() {
    let server = TestServer::start().await;
    let (mut alice, _bob, direct) = common::alice_and_bob(&server).await;
    let db = server.db();
    let before = db
        .integers("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM messages")
        .await[0];
    alice.send(&direct, "x").await;
    alice.send(&direct, &"y".repeat(100)).await;
    let sizes = db
        .integers(&format!(
            "SELECT CAST(LENGTH(payload) AS BIGINT) FROM messages WHERE id > {before} ORDER BY id"
        ))
        .await;
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert_eq!(sizes[0], sizes[1], "{sizes:?}");
    // Nor does the server keep when, to the millisecond: the hour retention needs.
    let times = db
        .integers(&format!(
            "SELECT CAST(created_ms AS BIGINT) FROM messages WHERE id > {before}"
        ))
        .await;
    assert!(
        times.iter().all(|t| *t % 3_600_000 == 0),
        "accept times kept to the hour: {times:?}"
    );
}
