//! A linked device joins the account's existing conversations: the approving device adds
//! it to each at its next sync (a commit per conversation, a key package claimed for the
//! new device alone), so it reads and writes there from then on, never what came before;
//! the other members see who joined; nothing is left to do afterwards. What came before
//! it has only if the user chose to copy it: a history archive sealed under the link
//! secret, which the server relays and cannot open.

mod common;

use common::{TestServer, TestUser, notices, texts};
use pli_client::{Client, ConnectOptions, HistoryChoice};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_device_joins_the_conversations_that_were_there_before_it() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let chat = alice.chat_with(&bob).await;
    alice.send(&chat, "before the link").await;
    bob.receive().await;
    let team = alice
        .client
        .create_group("team", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    carol.receive().await;
    bob.client.take_new().expect("events");

    let first_device = alice.client.device_id();
    let (mut second, _home) = link(&server, &mut alice, HistoryChoice::None).await;
    let added = second.device_id();
    second.sync().await.expect("it joins");
    let mut joined: Vec<String> = second
        .conversations()
        .expect("conversations")
        .iter()
        .map(|c| c.title())
        .collect();
    joined.sort();
    assert_eq!(joined, vec!["@bob".to_owned(), "team".to_owned()]);

    // The others are told a device of alice joined, in each conversation.
    bob.client.sync().await.expect("sync");
    let told = notices(&bob.client.take_new().expect("events"));
    assert_eq!(
        told.iter()
            .filter(|t| *t == "@alice added a new device of theirs")
            .count(),
        2,
        "{told:?}"
    );

    // It reads what comes now, in both, and writes there.
    bob.send(&chat, "after the link").await;
    bob.send(&team, "team, after the link").await;
    second.sync().await.expect("sync");
    let got: Vec<String> = texts(second.take_new().expect("events"))
        .into_iter()
        .map(|(_, _, text)| text)
        .collect();
    assert!(got.contains(&"after the link".to_owned()), "{got:?}");
    assert!(got.contains(&"team, after the link".to_owned()), "{got:?}");
    assert!(
        !got.contains(&"before the link".to_owned()),
        "what came before it is not its to read"
    );
    let status = second
        .send_text(&team, "from alice's new device")
        .await
        .expect("send");
    assert_eq!(status, pli_client::SendStatus::Sent);
    for user in [&mut bob, &mut carol] {
        let seen = user.receive().await;
        assert!(
            seen.iter().any(|(g, from, text)| *g == team
                && from == "alice"
                && text == "from alice's new device"),
            "{seen:?}"
        );
    }
    let on_first = alice.receive().await;
    assert!(
        on_first
            .iter()
            .any(|(_, _, text)| text == "from alice's new device"),
        "alice's first device reads its own account's other device too: {on_first:?}"
    );

    // Nothing is left waiting on the approving device: a later sync claims nothing.
    assert_ne!(added, first_device);
    let db = rusqlite::Connection::open(alice.home.path().join(pli_client::local::DATABASE_FILE))
        .expect("open");
    let waiting: i64 = db
        .query_row("SELECT COUNT(*) FROM linked_devices_to_add", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(waiting, 0);
}

/// Prepares a new device for `user` and approves it with the history choice; the new
/// device's first sync pins the directory keys (keeping the link secret) and uploads its
/// key packages.
async fn approve(
    server: &TestServer,
    user: &mut TestUser,
    history: HistoryChoice,
) -> (Client, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp dir");
    let (mut second, code) = Client::prepare_link(
        home.path(),
        &server.url,
        &user.name,
        &ConnectOptions::default(),
    )
    .await
    .expect("prepare");
    user.client
        .approve_link(&code, history)
        .await
        .expect("approve");
    second.sync().await.expect("the new device works");
    (second, home)
}

/// [`approve`], then the approving device's sync adds the new one to each conversation and
/// sends the history; the caller syncs the new device to take it.
async fn link(
    server: &TestServer,
    user: &mut TestUser,
    history: HistoryChoice,
) -> (Client, tempfile::TempDir) {
    let linked = approve(server, user, history).await;
    user.client
        .sync()
        .await
        .expect("the approving device adds it");
    linked
}

fn texts_of(client: &Client, chat: &pli_proto::GroupId) -> Vec<String> {
    client
        .history(chat)
        .expect("history")
        .into_iter()
        .map(|(_, text, _)| text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_device_gets_the_history_its_user_chose_sealed_from_the_server() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    alice.send(&chat, "long ago").await;
    bob.receive().await;
    let canary = format!("history-canary-{}", rand::random::<u64>());
    bob.send(&chat, &canary).await;
    alice.send(&chat, "recent, from alice").await;
    bob.receive().await;
    alice.receive().await;
    // One message is forty days old on alice's device.
    let db = rusqlite::Connection::open(alice.home.path().join(pli_client::local::DATABASE_FILE))
        .expect("open");
    db.execute(
        "UPDATE messages SET sent_at = sent_at - 40 * 86400000 WHERE text = 'long ago'",
        [],
    )
    .expect("age it");

    // All of it: copied in order, read, with the senders it had; the server held only
    // ciphertext while the parts were queued.
    let (mut all, _home) = link(&server, &mut alice, HistoryChoice::All).await;
    assert!(
        !common::contains(&server.stored_bytes(), canary.as_bytes()),
        "a queued history part is ciphertext"
    );
    all.sync().await.expect("it takes the history");
    assert_eq!(
        texts_of(&all, &chat),
        vec![
            "long ago".to_owned(),
            canary.clone(),
            "recent, from alice".to_owned()
        ]
    );
    let from: Vec<String> = all
        .history(&chat)
        .expect("history")
        .into_iter()
        .map(|(sender, _, _)| sender.to_string())
        .collect();
    assert_eq!(from, ["alice", "bob", "alice"]);
    let summary = all
        .summaries()
        .expect("summaries")
        .into_iter()
        .find(|c| c.conversation.id == chat)
        .expect("the chat");
    assert_eq!(summary.unread, 0, "copied history is not news");
    let told = notices(&all.take_new().expect("events"));
    assert!(
        told.contains(&"your other device copied 3 earlier messages to this one".to_owned()),
        "{told:?}"
    );
    // What comes next still arrives, after the copy.
    bob.send(&chat, "after the copy").await;
    all.sync().await.expect("sync");
    assert_eq!(
        texts_of(&all, &chat).last().map(String::as_str),
        Some("after the copy")
    );

    // The last 30 days: the old message stays behind.
    let (mut recent, _home) = link(&server, &mut alice, HistoryChoice::LastDays(30)).await;
    recent.sync().await.expect("sync");
    let got = texts_of(&recent, &chat);
    assert!(!got.contains(&"long ago".to_owned()), "{got:?}");
    assert!(got.contains(&canary), "{got:?}");

    // None: nothing from before.
    let (mut none, _home) = link(&server, &mut alice, HistoryChoice::None).await;
    none.sync().await.expect("sync");
    assert!(texts_of(&none, &chat).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_part_the_server_alters_or_makes_up_is_refused() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    alice.send(&chat, "kept on alice's device").await;
    bob.receive().await;
    let (mut second, _home) = approve(&server, &mut alice, HistoryChoice::All).await;
    let added = second.device_id();

    // A part not sealed under the link secret (as the server would make one up).
    let transport = alice.transport(&server);
    transport
        .relay_history(added, vec![7; 4096])
        .await
        .expect("relayed");
    second.sync().await.expect("sync");
    let alerts = common::alerts(&second.take_new().expect("events"));
    assert!(
        alerts.iter().any(|a| a.contains("did not arrive intact")),
        "{alerts:?}"
    );
    // The real archive still comes, and opens.
    alice.client.sync().await.expect("alice adds it and copies");
    second.sync().await.expect("sync");
    assert_eq!(texts_of(&second, &chat), ["kept on alice's device"]);

    // The relay's own rules, with stable codes.
    let too_big = transport
        .relay_history(
            added,
            vec![0; pli_proto::limits::MAX_HISTORY_PART_BYTES + 1],
        )
        .await;
    assert_eq!(
        too_big.err().and_then(|e| e.code()),
        Some(pli_proto::ErrorCode::PayloadTooLarge)
    );
    let to_self = transport
        .relay_history(alice.client.device_id(), vec![1; 16])
        .await;
    assert_eq!(
        to_self.err().and_then(|e| e.code()),
        Some(pli_proto::ErrorCode::BadRequest)
    );
    let to_bob = transport
        .relay_history(bob.client.device_id(), vec![1; 16])
        .await;
    assert_eq!(
        to_bob.err().and_then(|e| e.code()),
        Some(pli_proto::ErrorCode::UnknownDevice),
        "only the caller's own devices get history"
    );
}
