//! Typing indicators: ephemeral. A member connected when one is sent sees it; a member
//! offline then never does, not even after syncing; nothing of it reaches the server's
//! storage (no message row, no queue entry, not its bytes); bad input is refused with its
//! code; and `pli typing` sends one.

mod common;

use common::forger::Forger;
use common::{TestDb, TestServer, TestUser, code, contains};
use pli_client::Event;
use pli_proto::ErrorCode;
use pli_proto::api::EphemeralRequest;
use pli_proto::payload::Body;
use tokio::sync::{mpsc, oneshot};

/// Rows of the server's message and queue tables.
async fn stored(db: &TestDb) -> i64 {
    db.integers("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM queue)")
        .await[0]
}

/// Listens with `user`'s device in the background: every event goes to the channel, until
/// the returned sender stops it (giving the device back).
fn listen(
    mut user: TestUser,
) -> (
    mpsc::UnboundedReceiver<Event>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<TestUser>,
) {
    let (events, received) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut on_event = move |event| {
            let _ = events.send(event);
        };
        user.client
            .listen(&mut on_event, async {
                let _ = stopped.await;
            })
            .await
            .expect("listen");
        user
    });
    (received, stop, task)
}

/// The next event that is not a notice.
async fn next(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    loop {
        match events.recv().await.expect("the listener is running") {
            Event::Notice { .. } => continue,
            event => return event,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_member_sees_typing_an_offline_one_never_does_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let team = alice
        .client
        .create_group("team", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    carol.receive().await;
    let (mut events, stop, listening) = listen(bob);
    // Bob's device is connected once it shows a message sent now.
    alice.send(&team, "hello").await;
    loop {
        if let Event::Message { text, .. } = next(&mut events).await
            && text == "hello"
        {
            break;
        }
    }

    let db = server.db();
    let before = stored(&db).await;
    assert!(alice.client.send_typing(&team, true).await.expect("typing"));
    assert_eq!(
        next(&mut events).await,
        Event::Typing {
            conversation: team.clone(),
            sender: alice.name.clone(),
            typing: true
        }
    );
    assert!(
        alice
            .client
            .send_typing(&team, false)
            .await
            .expect("stopped")
    );
    assert!(matches!(
        next(&mut events).await,
        Event::Typing { typing: false, .. }
    ));
    // Acks may take rows away meanwhile; typing never adds one.
    assert!(
        stored(&db).await <= before,
        "no message or queue row for typing"
    );

    // Carol was offline: she never learns of it, and her next messages still decrypt.
    carol.client.sync().await.expect("sync");
    let seen = carol.client.take_new().expect("events");
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Typing { .. })),
        "{seen:?}"
    );
    alice.send(&team, "after typing").await;
    let got = carol.receive().await;
    assert_eq!(
        got.last().map(|(_, _, text)| text.as_str()),
        Some("after typing")
    );

    // A typing indicator made by hand reaches bob, and its bytes are nowhere in storage.
    let forger = Forger::of(&alice);
    let forged = forger.message(&team, 0, Body::Typing { typing: true });
    let bob_device = {
        let _ = stop.send(());
        let bob = listening.await.expect("listener");
        let device = bob.client.device_id();
        let (mut events, stop, listening) = listen(bob);
        alice.send(&team, "once more").await;
        loop {
            if let Event::Message { text, .. } = next(&mut events).await
                && text == "once more"
            {
                break;
            }
        }
        alice
            .transport(&server)
            .ephemeral(&EphemeralRequest {
                group_id: team.clone(),
                message: forged.clone().into(),
                recipients: vec![device],
            })
            .await
            .expect("handed on");
        assert!(matches!(
            next(&mut events).await,
            Event::Typing { typing: true, .. }
        ));
        let _ = stop.send(());
        listening.await.expect("listener");
        device
    };
    let dump = db.dump();
    assert!(
        !contains(&dump, &forged) && !contains(&dump, hex::encode(&forged).as_bytes()),
        "the ephemeral message is not in the server's storage"
    );

    // Bad input, each with its code.
    let transport = alice.transport(&server);
    let refused = |request: EphemeralRequest| {
        let transport = &transport;
        async move { code(transport.ephemeral(&request).await) }
    };
    let request = |message: Vec<u8>, recipients: Vec<pli_proto::DeviceId>| EphemeralRequest {
        group_id: team.clone(),
        message: message.into(),
        recipients,
    };
    assert_eq!(
        refused(request(vec![0; 3_000], vec![bob_device])).await,
        ErrorCode::PayloadTooLarge
    );
    assert_eq!(
        refused(request(forged.clone(), vec![bob_device; 65])).await,
        ErrorCode::TooManyRecipients
    );
    assert_eq!(
        refused(request(b"not mls".to_vec(), vec![bob_device])).await,
        ErrorCode::InvalidMlsMessage
    );
    assert_eq!(
        refused(request(forged.clone(), vec![])).await,
        ErrorCode::BadRequest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pli_typing_tells_a_listening_member() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    let (mut events, stop, listening) = listen(bob);
    alice.send(&chat, "hi").await;
    loop {
        if let Event::Message { text, .. } = next(&mut events).await
            && text == "hi"
        {
            break;
        }
    }
    let home = alice.home.path().to_owned();
    let printed = common::run_pli(&["--home", common::path_str(&home), "typing", "@bob"], &[])
        .await
        .expect("pli typing");
    assert!(
        printed.starts_with("told whoever is connected"),
        "{printed}"
    );
    assert!(matches!(
        next(&mut events).await,
        Event::Typing { typing: true, .. }
    ));
    let _ = stop.send(());
    listening.await.expect("listener");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_a_member_connected_to_another_node_on_postgresql() {
    let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
    let dir = tempfile::tempdir().expect("dir");
    let mut nodes = Vec::new();
    for name in ["node-a", "node-b"] {
        let data = dir.path().join(name);
        common::share_database(&data, &url);
        nodes.push(common::serve_binary(&data).await);
    }
    let (a, b) = (nodes[0].1.clone(), nodes[1].1.clone());
    let mut alice = TestUser::register_at(&a, "alice").await;
    let mut bob = TestUser::register_at(&a, "bob").await;
    let chat = alice.chat_with(&bob).await;
    bob.receive().await;
    // Bob's device listens at node b; alice's typing goes to node a.
    bob.reopen(&b);
    let (mut events, stop, listening) = listen(bob);
    alice.send(&chat, "over here").await;
    loop {
        if let Event::Message { text, .. } = next(&mut events).await
            && text == "over here"
        {
            break;
        }
    }
    assert!(alice.client.send_typing(&chat, true).await.expect("typing"));
    assert_eq!(
        next(&mut events).await,
        Event::Typing {
            conversation: chat.clone(),
            sender: alice.name.clone(),
            typing: true
        }
    );
    let _ = stop.send(());
    listening.await.expect("listener");
    for (mut process, _) in nodes {
        let _ = process.kill().await;
    }
}
