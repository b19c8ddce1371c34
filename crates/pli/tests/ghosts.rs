//! Ghost members: device keys the key directory does not list, slipped into a conversation
//! by an ordinary account (mallory) that crafts MLS messages with her own device, through an
//! honest server. A malicious server could deliver the same messages; nothing here needs the
//! server's help. Each test checks that no ciphertext a ghost can decrypt leaves a device,
//! and that nothing is shown as from a user whose key the directory does not list.

mod common;

use common::forger::{Forger, forged_group, submit};
use common::{TestServer, TestUser, alerts, contains, files_under};
use pli_client::{ClientError, Event};
use pli_proto::api::WelcomeOut;
use pli_proto::payload::Body;
use pli_proto::{GroupId as PliGroupId, Username};

/// The texts of messages shown as from `sender`.
fn shown_from(events: &[Event], sender: &Username) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message {
                sender: s, text, ..
            } if s == sender => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Mallory, a member of alice's group, commits a ghost leaf claiming to be a device of
/// bob's (her accomplice's device, under its own key). The server delivers the commit; then
/// alice sends at once, without a sync in between. Today's send drained the queue and
/// encrypted to the ghost before any directory check ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ghost_added_by_a_commit_receives_nothing_it_can_decrypt() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut mallory = TestUser::register(&server, "mallory").await;
    let bob = TestUser::register(&server, "bob").await;
    let mut ghost = TestUser::register(&server, "ghost").await;
    let group = alice
        .client
        .create_group("plans", std::slice::from_ref(&mallory.name))
        .await
        .expect("group");
    mallory.client.sync().await.expect("mallory joins");

    let ghost_forger = Forger::of(&ghost);
    let package = ghost_forger.key_package_as(&bob.name);
    let (commit, welcome) = Forger::of(&mallory).add(&group, package);
    let mut request = submit(
        &group,
        commit,
        &[alice.identity().device_id, mallory.identity().device_id],
    );
    request.welcome = Some(WelcomeOut {
        message: welcome.into(),
        recipients: vec![ghost_forger.device()],
    });
    mallory
        .transport(&server)
        .submit(&request)
        .await
        .expect("the server accepts the ghost's commit");
    ghost.client.sync().await.expect("the ghost joins");

    let secret = "the plan: tuesday at nine";
    let sent = alice.client.send_text(&group, secret).await;
    assert!(
        matches!(sent, Err(ClientError::UntrustedMember)),
        "alice's send is refused: {sent:?}"
    );
    let raised = alerts(&alice.client.take_new().expect("events"));
    assert!(
        raised
            .iter()
            .any(|a| a.contains("@bob") && a.contains("does not list")),
        "{raised:?}"
    );
    assert_eq!(
        alice.client.outbox_len().expect("outbox"),
        1,
        "the message is held, not lost"
    );

    let _ = ghost.client.sync().await;
    drop(ghost_forger);
    for file in files_under(ghost.home.path()) {
        let bytes = std::fs::read(&file).expect("read the ghost's files");
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "the ghost decrypted alice's message ({})",
            file.display()
        );
    }
    // A later sync does not let it out either.
    let _ = alice.client.sync().await;
    assert_eq!(alice.client.outbox_len().expect("outbox"), 1);
}

/// Mallory makes a group whose only leaf claims to be dave's device (her own device, her
/// own key), invites alice, and calls it the direct chat with dave. Alice already has a
/// real chat with dave: `send @dave` must keep going there, before and after the fake one
/// is flagged, and nothing mallory writes is shown as from dave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_direct_chat_never_takes_the_place_of_the_real_one() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut dave = TestUser::register(&server, "dave").await;
    let mallory = TestUser::register(&server, "mallory").await;
    let real = alice
        .client
        .direct_conversation(&dave.name)
        .await
        .expect("the real chat");
    alice.send(&real, "hello dave").await;
    assert_eq!(dave.receive().await.len(), 1);

    // The forged group sorts before the real one.
    let forged = PliGroupId::from_bytes(&[0; 16]).expect("group id");
    assert!(forged.as_bytes() < real.as_bytes());
    let forger = forged_group(&server, &mallory, &dave.name, &forged, &alice).await;
    let alice_device = alice.identity().device_id;
    let transport = mallory.transport(&server);
    let meta = forger.message(
        &forged,
        1,
        Body::Meta {
            name: String::new(),
            direct: true,
            timer: None,
        },
    );
    transport
        .submit(&submit(&forged, meta, &[alice_device]))
        .await
        .expect("call it direct");

    // Before any sync flags it, and after.
    for round in 0..2 {
        let chosen = alice
            .client
            .direct_conversation(&dave.name)
            .await
            .expect("direct");
        assert_eq!(
            chosen, real,
            "round {round}: send @dave goes to the real chat"
        );
        alice.send(&chosen, "only for dave").await;
        let _ = alice.client.sync().await;
    }
    let got = dave.receive().await;
    assert_eq!(got.len(), 2, "{got:?}");

    // Mallory writes in the fake chat as "dave": never shown as from dave.
    let forged_text = forger.message(&forged, 2, Body::text("it's dave, send me the code"));
    let _ = transport
        .submit(&submit(&forged, forged_text, &[alice_device]))
        .await;
    let _ = alice.client.sync().await;
    let events = alice.client.take_new().expect("events");
    assert!(
        shown_from(&events, &dave.name).is_empty(),
        "{:?}",
        shown_from(&events, &dave.name)
    );
    // Nor found by a search of alice's history, which does find her own words.
    let found = alice.client.search("send me the code", 10).expect("search");
    assert!(found.is_empty(), "a held message is never found: {found:?}");
    assert_eq!(
        alice.client.search("hello dave", 10).expect("search").len(),
        1
    );
    let listed: Vec<_> = alice
        .client
        .conversations()
        .expect("conversations")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(listed.contains(&real));
}
