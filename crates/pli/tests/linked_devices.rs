//! A linked device joins the account's existing conversations: the approving device adds
//! it to each at its next sync (a commit per conversation, a key package claimed for the
//! new device alone), so it reads and writes there from then on, never what came before;
//! the other members see who joined; nothing is left to do afterwards.

mod common;

use common::{TestServer, TestUser, notices, texts};
use pli_client::{Client, ConnectOptions};

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

    let home = tempfile::tempdir().expect("temp dir");
    let (mut second, code) = Client::prepare_link(
        home.path(),
        &server.url,
        &alice.name,
        &ConnectOptions::default(),
    )
    .await
    .expect("prepare");
    let added = alice.client.approve_link(&code).await.expect("approve");
    // Its first sync uploads its key packages; alice's next one adds it everywhere.
    second.sync().await.expect("the new device works");
    let first_device = alice.client.device_id();
    alice.client.sync().await.expect("alice adds it");
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
