//! What a conversation list and a chat view read from the client: each conversation with
//! its last message and unread count, the most recently active first; the history a page
//! at a time, newest page first; read markers that outgoing messages never disturb.

mod common;

use common::{TestServer, TestUser};
use pli_client::ClientError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_list_their_last_message_and_histories_come_in_pages() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    for n in 1..=7 {
        alice.send(&chat, &format!("message {n}")).await;
    }
    assert_eq!(bob.receive().await.len(), 7);

    let summaries = bob.client.summaries().expect("summaries");
    assert_eq!(summaries.len(), 1);
    let last = summaries[0].last.as_ref().expect("a last message");
    assert_eq!((last.text.as_str(), summaries[0].unread), ("message 7", 7));
    assert!(!last.outgoing && last.sender == alice.name);

    // Pages of three, newest page first, each oldest first; then nothing older.
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = bob.client.history_page(&chat, before, 3).expect("page");
        let Some(first) = page.first() else { break };
        before = Some(first.local_id);
        pages.push(page.iter().map(|m| m.text.clone()).collect::<Vec<_>>());
    }
    let expected: Vec<Vec<String>> = [&[5, 6, 7][..], &[2, 3, 4], &[1]]
        .iter()
        .map(|ns| ns.iter().map(|n| format!("message {n}")).collect())
        .collect();
    assert_eq!(pages, expected);

    // Read up to now; a reply of one's own is not unread, a new message is.
    bob.client.mark_read(&chat).expect("read");
    assert_eq!(bob.client.summaries().expect("summaries")[0].unread, 0);
    bob.send(&chat, "thanks").await;
    assert_eq!(bob.client.summaries().expect("summaries")[0].unread, 0);
    alice.receive().await;
    alice.send(&chat, "you're welcome").await;
    bob.receive().await;
    let summaries = bob.client.summaries().expect("summaries");
    assert_eq!(summaries[0].unread, 1);
    assert_eq!(
        summaries[0].last.as_ref().map(|m| m.text.as_str()),
        Some("you're welcome")
    );

    // A conversation with a newer message comes first.
    let group = bob
        .client
        .create_group("team", &[alice.name.clone()])
        .await
        .expect("group");
    bob.send(&group, "team hello").await;
    let order: Vec<_> = bob
        .client
        .summaries()
        .expect("summaries")
        .into_iter()
        .map(|s| s.conversation.id)
        .collect();
    assert_eq!(order, [group, chat]);

    let unknown = pli_proto::GroupId::from_bytes(&[9; 16]).expect("id");
    assert!(matches!(
        bob.client.mark_read(&unknown),
        Err(ClientError::UnknownConversation(_))
    ));
}

/// Each own message says where it is: sent once the server accepted it, queued while the
/// server cannot be reached (then sent at the next sync), failed with the reason when it
/// was given up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_messages_show_queued_sent_or_failed_with_the_reason() {
    use pli_client::SendStatus;
    use pli_client::timeline::Delivery;

    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    alice.send(&chat, "first").await;
    let newest = |user: &TestUser| {
        let page = user.client.history_page(&chat, None, 1).expect("page");
        let message = page.into_iter().next().expect("a message");
        (message.text, message.delivery)
    };
    assert_eq!(newest(&alice), ("first".into(), Some(Delivery::Sent)));

    // The server goes away: the message waits, and says so; it goes at the next sync.
    let data = server.stop().await;
    let status = alice
        .client
        .send_text(&chat, "offline")
        .await
        .expect("queued");
    assert_eq!(status, SendStatus::Queued);
    assert_eq!(newest(&alice), ("offline".into(), Some(Delivery::Queued)));
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    bob.reopen(&server.url);
    alice.client.sync().await.expect("sync");
    assert_eq!(newest(&alice), ("offline".into(), Some(Delivery::Sent)));
    let got: Vec<String> = bob.receive().await.into_iter().map(|m| m.2).collect();
    assert_eq!(got, ["first", "offline"]);
    assert_eq!(
        newest(&bob).1,
        None,
        "a received message has no delivery state"
    );

    // Bob deletes his account: nobody is left to send to, and the message says why.
    bob.client.delete_account().await.expect("delete");
    let _ = alice.client.send_text(&chat, "anyone?").await;
    let (text, delivery) = newest(&alice);
    assert_eq!(text, "anyone?");
    let Some(Delivery::Failed(why)) = delivery else {
        panic!("failed, with a reason: {delivery:?}")
    };
    assert!(!why.is_empty(), "{why}");
}
