//! Calls, signalled inside the conversation: a start rings the other members (a notice,
//! "a message this version cannot display" on an earlier pli), and a call that ends before
//! this account answered, joined or declined it is a missed call in the conversation. The
//! caller's own devices are never told they missed their own call; a device of the account
//! that answered stops the others from calling it missed.

mod common;

use common::{TestServer, TestUser, alice_and_bob, notices};
use pli_proto::call::CallAction;

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
