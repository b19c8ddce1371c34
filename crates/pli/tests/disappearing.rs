//! Disappearing messages: a timer set by one member (`pli disappear`) reaches every member
//! as a notice; a timed message is then gone from both devices' databases and from the
//! search index once it is over (by a raw scan of every file of each home), the server's
//! queue entry expires no later (a device that connects afterwards gets nothing, and the
//! sweep deletes the ciphertext), and turning the timer off stops timing new messages.

mod common;

use common::{TestServer, TestUser, contains, files_under, notices, path_str, run_pli};
use pli_server::clock::{Clock as _, ManualClock, SystemClock};
use std::time::{Duration, Instant};

/// Every byte of every file under the device's home (database, WAL, anything else).
fn raw_home(user: &TestUser) -> Vec<u8> {
    files_under(user.home.path())
        .into_iter()
        .flat_map(|file| std::fs::read(file).unwrap_or_default())
        .collect()
}

/// Rows of the server's store that still have a disappearing timer.
async fn timed_on_server(server: &TestServer) -> i64 {
    server
        .db()
        .integers("SELECT COUNT(*) FROM messages WHERE expires_ms IS NOT NULL")
        .await[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_message_is_gone_from_every_device_and_the_server() {
    let clock = ManualClock::new(SystemClock.now_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    alice.send(&chat, "before the timer").await;
    bob.receive().await;

    // Alice sets a timer from the CLI; bob is told, and his device knows it too.
    let alice_home = path_str(alice.home.path()).to_owned();
    let set = run_pli(&["--home", &alice_home, "disappear", "@bob", "2s"], &[])
        .await
        .expect("pli disappear");
    assert_eq!(
        set,
        "messages disappear 2 seconds after they are sent, on every device"
    );
    bob.client.sync().await.expect("sync");
    let told = notices(&bob.client.take_new().expect("events"));
    assert!(
        told.iter()
            .any(|t| t.starts_with("@alice set disappearing messages to 2 seconds")),
        "{told:?}"
    );
    assert_eq!(bob.client.disappearing(&chat).expect("timer"), Some(2));
    alice.reopen(&server.url);
    assert_eq!(alice.client.disappearing(&chat).expect("timer"), Some(2));

    // A timed text, received by bob: on both devices, in both search indexes.
    let canary = "zebrafinch4711 sings at dawn";
    let sent = Instant::now();
    alice.send(&chat, canary).await;
    let got = bob.receive().await;
    assert_eq!(got.len(), 1);
    for user in [&alice, &bob] {
        assert!(contains(&raw_home(user), canary.as_bytes()), "stored first");
        assert_eq!(
            user.client
                .search("zebrafinch4711", 10)
                .expect("search")
                .len(),
            1
        );
    }

    // A second one bob's device is offline for; the server's clock passes its timer.
    alice.send(&chat, "never seen by bob").await;
    // (Bob's ack of the first may still be on its way: at least this one is there.)
    assert!(timed_on_server(&server).await >= 1, "queued with its end");
    clock.advance(3_000);
    assert!(
        bob.receive().await.is_empty(),
        "over on the server: not delivered"
    );
    // The sweep (every few seconds) deletes the ciphertext too.
    let deadline = Instant::now() + Duration::from_secs(30);
    while timed_on_server(&server).await > 0 {
        assert!(Instant::now() < deadline, "the sweep never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The text's own timer, on the devices' clocks.
    tokio::time::sleep(
        (sent + Duration::from_millis(2_100)).saturating_duration_since(Instant::now()),
    )
    .await;
    for user in [&mut alice, &mut bob] {
        user.client.sync().await.expect("sync purges");
        let raw = raw_home(user);
        assert!(
            !contains(&raw, canary.as_bytes()),
            "the text is gone from the files"
        );
        assert!(
            !contains(&raw, b"zebrafinch4711"),
            "and its word from the search index"
        );
        assert!(
            user.client
                .search("zebrafinch4711", 10)
                .expect("search")
                .is_empty()
        );
        let history = user.client.history_page(&chat, None, 50).expect("history");
        assert!(history.iter().all(|m| m.text != canary));
        assert!(
            history.iter().any(|m| m.text == "before the timer"),
            "what came before the timer stays"
        );
    }

    // Bob turns it off: alice is told, and new messages are kept.
    let bob_home = path_str(bob.home.path()).to_owned();
    let off = run_pli(&["--home", &bob_home, "disappear", "@alice", "off"], &[])
        .await
        .expect("pli disappear off");
    assert_eq!(off, "disappearing messages are off");
    alice.client.sync().await.expect("sync");
    let told = notices(&alice.client.take_new().expect("events"));
    assert!(
        told.contains(&"@bob turned off disappearing messages".to_owned()),
        "{told:?}"
    );
    assert_eq!(alice.client.disappearing(&chat).expect("timer"), None);
    alice.send(&chat, "kept from now on").await;
    assert_eq!(timed_on_server(&server).await, 0);

    // A timer that is not one is refused before anything is sent.
    let bad = run_pli(&["--home", &bob_home, "disappear", "@alice", "5x"], &[])
        .await
        .expect_err("refused");
    assert!(bad.contains("30s, 5m, 1h"), "{bad}");
}

/// A member added after the timer was set learns it from the adder (the conversation's
/// `Meta` carries it); the others, who know it, are not told again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_later_learns_the_timer() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let team = alice
        .client
        .create_group("team", std::slice::from_ref(&bob.name))
        .await
        .expect("group");
    alice
        .client
        .set_disappearing(&team, 3_600)
        .await
        .expect("timer");
    bob.client.sync().await.expect("sync");
    bob.client.take_new().expect("events");
    alice
        .client
        .add_member(&team, &carol.name)
        .await
        .expect("add carol");
    carol.client.sync().await.expect("sync");
    assert_eq!(
        carol.client.disappearing(&team).expect("timer"),
        Some(3_600)
    );
    let told = notices(&carol.client.take_new().expect("events"));
    assert!(
        told.iter().any(|t| t.starts_with(
            "Disappearing messages are on in this conversation: new messages are deleted 1 hour"
        )),
        "{told:?}"
    );
    bob.client.sync().await.expect("sync");
    let again = notices(&bob.client.take_new().expect("events"));
    assert!(
        again
            .iter()
            .all(|t| !t.starts_with("Disappearing messages")),
        "{again:?}"
    );
    assert_eq!(bob.client.disappearing(&team).expect("timer"), Some(3_600));
}
