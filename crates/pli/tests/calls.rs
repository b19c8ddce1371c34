//! Calls, signalled inside the conversation: a start rings the other members (a notice,
//! "a message this version cannot display" on an earlier pli), and a call that ends before
//! this account answered, joined or declined it is a missed call in the conversation. The
//! caller's own devices are never told they missed their own call; a device of the account
//! that answered stops the others from calling it missed. The call's own MLS group holds
//! the devices in the call: a member adds each device that answers or joins, removes one
//! that leaves, and every such change moves the frame keys and the call code on.

mod common;

use common::{TestServer, TestUser, alice_and_bob, notices};
use pli_client::call_frames::CallFrames;
use pli_proto::GroupId;
use pli_proto::call::CallAction;
use std::time::Instant;

async fn told(user: &mut TestUser) -> Vec<String> {
    user.client.sync().await.expect("sync");
    notices(&user.client.take_new().expect("events"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rings_in_the_conversation_and_one_not_taken_is_missed() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, chat) = alice_and_bob(&server).await;
    told(&mut bob).await;

    // Not answered: it rings at bob's, then it is missed there, not at alice's.
    let (call, _) = alice.client.start_call(&chat, false).await.expect("start");
    assert!(
        told(&mut bob)
            .await
            .contains(&"@alice is calling".to_owned())
    );
    alice
        .client
        .signal_call(&chat, &call, CallAction::End, false)
        .await
        .expect("hang up");
    assert!(
        told(&mut bob)
            .await
            .contains(&"missed call from @alice".to_owned())
    );
    let calls = bob.client.calls(&chat).expect("calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].call, call);
    assert!(calls[0].missed(&bob.name) && calls[0].ended_ms.is_some());
    let at_alice = told(&mut alice).await;
    assert!(
        !at_alice.iter().any(|t| t.contains("missed")),
        "{at_alice:?}"
    );
    assert!(!alice.client.calls(&chat).expect("calls")[0].missed(&alice.name));

    // Answered: not missed, on either side.
    let (video, _) = alice.client.start_call(&chat, true).await.expect("start");
    assert!(
        told(&mut bob)
            .await
            .contains(&"@alice is video calling".to_owned())
    );
    bob.client
        .signal_call(&chat, &video, CallAction::Answer, true)
        .await
        .expect("answer");
    alice
        .client
        .signal_call(&chat, &video, CallAction::End, true)
        .await
        .expect("hang up");
    let after = told(&mut bob).await;
    assert!(!after.iter().any(|t| t.contains("missed")), "{after:?}");
    let answered = &bob.client.calls(&chat).expect("calls")[1];
    assert!(answered.taken && answered.video && !answered.missed(&bob.name));

    // Declined: not missed either.
    let (declined, _) = alice.client.start_call(&chat, false).await.expect("start");
    told(&mut bob).await;
    bob.client
        .signal_call(&chat, &declined, CallAction::Decline, false)
        .await
        .expect("decline");
    alice
        .client
        .signal_call(&chat, &declined, CallAction::End, false)
        .await
        .expect("end");
    let after = told(&mut bob).await;
    assert!(!after.iter().any(|t| t.contains("missed")), "{after:?}");
    assert!(bob.client.calls(&chat).expect("calls")[2].declined);

    // A call id that is not one is refused before anything is sent.
    let bad = bob
        .client
        .signal_call(&chat, "not-a-call", CallAction::End, false)
        .await;
    assert!(
        matches!(bad, Err(pli_client::ClientError::Invalid(_))),
        "{bad:?}"
    );
}

/// The frame keys and the call code of `user`'s device in the call, once it is in.
fn frames(user: &TestUser, chat: &GroupId, call: &str) -> Option<(CallFrames, String)> {
    user.client.call_frames(chat, call).expect("frames")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_group_holds_the_devices_in_the_call_and_rekeys_at_each_join_and_leave() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let team = alice
        .client
        .create_group("team", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    told(&mut bob).await;
    told(&mut carol).await;

    // alice starts: she is the call, alone.
    let (call, _) = alice.client.start_call(&team, false).await.expect("start");
    let (_, alone) = frames(&alice, &team, &call).expect("alice is in");
    told(&mut bob).await;
    bob.client
        .enter_call(&team, &call, CallAction::Answer, false)
        .await
        .expect("answer");
    assert!(frames(&bob, &team, &call).is_none(), "in only once added");
    alice.client.sync().await.expect("alice adds bob");
    bob.client.sync().await.expect("bob takes the Welcome");
    let (mut at_alice, code) = frames(&alice, &team, &call).expect("alice");
    let (at_bob, bobs_code) = frames(&bob, &team, &call).expect("bob is in");
    assert_eq!(code, bobs_code, "one call code on both sides");
    assert_ne!(code, alone, "a join is a new epoch");
    let now = Instant::now();
    let sealed = at_alice.seal(b"", b"hello bob").expect("seal");
    assert_eq!(
        at_bob.open(b"", &sealed, now).expect("open").1,
        b"hello bob"
    );
    assert!(
        frames(&carol, &team, &call).is_none(),
        "a member who did not join holds no key to the call"
    );

    // carol joins the running call: alice (the lowest leaf) adds her, bob follows.
    told(&mut carol).await;
    carol
        .client
        .enter_call(&team, &call, CallAction::Join, false)
        .await
        .expect("join");
    alice.client.sync().await.expect("alice adds carol");
    carol.client.sync().await.expect("carol takes the Welcome");
    bob.client.sync().await.expect("bob merges the join");
    let codes: Vec<String> = [&alice, &bob, &carol]
        .iter()
        .map(|u| frames(u, &team, &call).expect("in the call").1)
        .collect();
    assert!(codes.iter().all(|c| *c == codes[0]), "{codes:?}");
    assert!(
        carol
            .client
            .call_frames(&team, &call)
            .expect("frames")
            .expect("carol")
            .0
            .open(b"", &sealed, now)
            .is_err(),
        "a late joiner opens nothing from before her join"
    );

    // bob leaves: alice removes him, and his keys open nothing that follows.
    let (bobs_keys, _) = frames(&bob, &team, &call).expect("bob");
    bob.client.leave_call(&team, &call).await.expect("leave");
    assert!(frames(&bob, &team, &call).is_none());
    alice.client.sync().await.expect("alice removes bob");
    carol.client.sync().await.expect("carol merges the leave");
    let (mut at_alice, code) = frames(&alice, &team, &call).expect("alice");
    let (at_carol, carols_code) = frames(&carol, &team, &call).expect("carol");
    assert_eq!(code, carols_code);
    assert_ne!(code, codes[0]);
    let after = at_alice.seal(b"", b"after bob left").expect("seal");
    assert_eq!(
        at_carol.open(b"", &after, Instant::now()).expect("open").1,
        b"after bob left"
    );
    assert!(bobs_keys.open(b"", &after, Instant::now()).is_err());
}
