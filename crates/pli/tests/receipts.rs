//! Delivery and read receipts: a message received says so to its sender, one read says so
//! too; receipts switched off for the account, or for one conversation, send nothing
//! there (a conversation's choice overrides the account's); they are encrypted (the server
//! never holds the message ids they name); `pli receipts` and `pli history` show them.

mod common;

use common::{TestServer, TestUser, contains, path_str, run_pli};
use pli_client::timeline::{HistoryMessage, Receipts};
use pli_proto::GroupId;

/// The receipts of `user`'s own message `id` in `conversation`.
fn receipts(user: &TestUser, conversation: &GroupId, id: &str) -> Option<Receipts> {
    user.client
        .history_page(conversation, None, 50)
        .expect("history")
        .into_iter()
        .find(|m: &HistoryMessage| m.message_id.as_deref() == Some(id))
        .expect("the message")
        .receipts
}

async fn send(user: &mut TestUser, conversation: &GroupId, text: &str) -> String {
    user.client
        .send_reply(conversation, text, None)
        .await
        .expect("send")
        .message_id
        .expect("an id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_tell_the_sender_and_stay_off_where_switched_off() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let chat = alice.chat_with(&bob).await;
    let first = send(&mut alice, &chat, "did you get this?").await;
    assert_eq!(receipts(&alice, &chat, &first), Some(Receipts::default()));

    // Bob's device stores it: delivered (the receipt goes with bob's sync).
    bob.receive().await;
    alice.receive().await;
    assert_eq!(
        receipts(&alice, &chat, &first),
        Some(Receipts {
            delivered: 1,
            read: 0
        })
    );
    // Bob reads it: read.
    bob.client.mark_read(&chat).expect("read");
    assert!(bob.client.owes_receipts().expect("owes"));
    bob.client.send_receipts().await.expect("receipts");
    assert!(!bob.client.owes_receipts().expect("owes"));
    alice.receive().await;
    assert_eq!(
        receipts(&alice, &chat, &first),
        Some(Receipts {
            delivered: 1,
            read: 1
        })
    );
    // What is bob's own has none; receipts name message ids the server never holds.
    let reply = send(&mut bob, &chat, "yes").await;
    assert_eq!(
        bob.client
            .history_page(&chat, None, 50)
            .expect("history")
            .iter()
            .find(|m| m.message_id.as_deref() == Some(first.as_str()))
            .and_then(|m| m.receipts),
        None,
        "receipts are for one's own messages"
    );
    let dump = server.db().dump();
    for id in [&first, &reply] {
        let raw = hex::decode(id).expect("hex");
        assert!(
            !contains(&dump, &raw) && !contains(&dump, id.as_bytes()),
            "the server holds no message id"
        );
    }

    // Off for bob's account: nothing more from him, in any conversation.
    bob.client.set_receipts(None, false).expect("off");
    assert!(!bob.client.receipts_enabled(None).expect("setting"));
    let team = alice
        .client
        .create_group("team", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    let second = send(&mut alice, &chat, "and this?").await;
    let in_team = send(&mut alice, &team, "team news").await;
    bob.receive().await;
    bob.client.mark_read(&chat).expect("read");
    bob.client.mark_read(&team).expect("read");
    assert!(!bob.client.owes_receipts().expect("owes"));
    carol.receive().await;
    alice.receive().await;
    assert_eq!(receipts(&alice, &chat, &second), Some(Receipts::default()));
    assert_eq!(
        receipts(&alice, &team, &in_team),
        Some(Receipts {
            delivered: 1,
            read: 0
        }),
        "carol's receipts still come"
    );

    // On again for the team only: the conversation's choice overrides the account's.
    bob.client.set_receipts(Some(&team), true).expect("on here");
    assert!(bob.client.receipts_enabled(Some(&team)).expect("setting"));
    assert!(!bob.client.receipts_enabled(Some(&chat)).expect("setting"));
    let third = send(&mut alice, &team, "more team news").await;
    let fourth = send(&mut alice, &chat, "still there?").await;
    bob.receive().await;
    carol.receive().await;
    alice.receive().await;
    assert_eq!(
        receipts(&alice, &team, &third).map(|r| r.delivered),
        Some(2)
    );
    assert_eq!(receipts(&alice, &chat, &fourth), Some(Receipts::default()));

    // The CLI: the choice, and alice's history with what her messages got.
    let home = path_str(bob.home.path()).to_owned();
    let shown = run_pli(&["--home", &home, "receipts"], &[])
        .await
        .expect("pli receipts");
    assert_eq!(shown, "receipts are off for this account");
    let turned = run_pli(
        &[
            "--home",
            &home,
            "receipts",
            "on",
            "--conversation",
            "@alice",
        ],
        &[],
    )
    .await
    .expect("pli receipts on");
    assert!(turned.starts_with("receipts are on in "), "{turned}");
    let alice_home = path_str(alice.home.path()).to_owned();
    let history = run_pli(&["--home", &alice_home, "history", "@bob"], &[])
        .await
        .expect("pli history");
    assert!(
        history.contains("you: did you get this? · read by 1"),
        "{history}"
    );
}
