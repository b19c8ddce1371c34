//! Submitting over the delivery WebSocket (`Submit` frames): the same checks and the same
//! "accepted means committed" as `POST /v1/messages`, answered per reference, with many
//! submissions in flight on one socket — more than the server reads at once included.

mod common;

use common::{TestServer, TestUser};
use pli_client::transport::DeliveryStream;
use pli_proto::frame::{ServerFrame, Submit};
use pli_proto::limits::MAX_WS_SUBMITS_IN_FLIGHT;
use pli_proto::{ErrorCode, MessageId};
use std::collections::{BTreeMap, BTreeSet};

/// Reads frames until `answers` answers have come; acks whatever is delivered meanwhile.
async fn answers(stream: &mut DeliveryStream, count: usize) -> BTreeMap<u32, ServerFrame> {
    let mut answers = BTreeMap::new();
    while answers.len() < count {
        match stream.next_frame().await.expect("frame").expect("open") {
            frame @ ServerFrame::Accepted { reference, .. }
            | frame @ ServerFrame::Refused { reference, .. } => {
                assert!(
                    answers.insert(reference, frame).is_none(),
                    "one answer each"
                );
            }
            ServerFrame::Deliver(items) => {
                stream
                    .ack(items.iter().map(|d| d.id).collect())
                    .await
                    .expect("ack");
            }
            ServerFrame::Drained | ServerFrame::Ephemeral { .. } => {}
            ServerFrame::Error(code) => panic!("the server closed the socket: {code}"),
        }
    }
    answers
}

/// Connects and takes (and acks) everything already queued.
async fn drained(stream: DeliveryStream) -> (DeliveryStream, Vec<(MessageId, Vec<u8>)>) {
    let mut stream = stream;
    let mut got = Vec::new();
    loop {
        match stream.next_frame().await.expect("frame").expect("open") {
            ServerFrame::Deliver(items) => {
                stream
                    .ack(items.iter().map(|d| d.id).collect())
                    .await
                    .expect("ack");
                got.extend(items.into_iter().map(|d| (d.id, d.payload)));
            }
            ServerFrame::Drained => return (stream, got),
            other => panic!("unexpected frame while draining: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_over_the_socket_are_checked_committed_and_answered_each() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let group = alice
        .client
        .create_group("over the socket", &[bob.name.clone()])
        .await
        .expect("group");
    let db = server.db();
    let stale_commit = db
        .bytes("SELECT payload FROM messages ORDER BY id LIMIT 1")
        .await
        .pop()
        .expect("the group's first commit");
    alice.send(&group, "over http first").await;
    let stored = db
        .bytes("SELECT payload FROM messages ORDER BY id DESC LIMIT 1")
        .await
        .pop()
        .expect("alice's message");
    // Stored with the server's franking stamp in front; resubmitted as the MLS message.
    let application = pli_proto::franking::split_payload(&stored).1.to_vec();
    bob.receive().await;
    let bob_device = bob.client.device_id();
    let submit = |reference: u32, message: &[u8]| Submit {
        reference,
        group: group.clone(),
        recipients: vec![bob_device],
        message: message.to_vec(),
    };

    let (mut bob_stream, _) = drained(bob.transport(&server).connect().await.expect("bob")).await;
    let (mut alice_stream, _) =
        drained(alice.transport(&server).connect().await.expect("alice")).await;
    alice_stream
        .submit_all([
            submit(1, &application),
            submit(2, b"not an MLS message"),
            submit(3, &stale_commit),
        ])
        .await
        .expect("submit");
    let first = answers(&mut alice_stream, 3).await;
    let ServerFrame::Accepted { id: first_id, .. } = first[&1] else {
        panic!(
            "an application message of the current epoch is accepted: {:?}",
            first[&1]
        );
    };
    assert_eq!(
        first[&2],
        ServerFrame::Refused {
            reference: 2,
            code: ErrorCode::InvalidMlsMessage.as_str().into()
        }
    );
    assert_eq!(
        first[&3],
        ServerFrame::Refused {
            reference: 3,
            code: ErrorCode::StaleEpoch.as_str().into()
        },
        "the epoch rule holds over the socket too"
    );

    // The socket stays open after refusals; more submissions than the server reads at
    // once are all answered, none twice, none lost.
    let many = MAX_WS_SUBMITS_IN_FLIGHT as u32 + 44;
    alice_stream
        .submit_all((100..100 + many).map(|r| submit(r, &application)))
        .await
        .expect("submit many");
    let answered = answers(&mut alice_stream, many as usize).await;
    let mut accepted_ids = BTreeSet::from([first_id]);
    for (reference, answer) in &answered {
        let ServerFrame::Accepted { id, .. } = answer else {
            panic!("submission {reference} refused: {answer:?}");
        };
        assert!(accepted_ids.insert(*id), "a fresh message id for each");
    }
    assert_eq!(
        answered.keys().copied().collect::<Vec<_>>(),
        (100..100 + many).collect::<Vec<_>>()
    );

    // Accepted means committed for bob: exactly those messages reach his socket.
    let mut delivered = BTreeSet::new();
    while delivered.len() < accepted_ids.len() {
        match bob_stream.next_frame().await.expect("frame").expect("open") {
            ServerFrame::Deliver(items) => {
                bob_stream
                    .ack(items.iter().map(|d| d.id).collect())
                    .await
                    .expect("ack");
                for item in items {
                    // Delivered as stored: the server's franking stamp, then the message.
                    let (stamp, message) = pli_proto::franking::split_payload(&item.payload);
                    assert!(stamp.is_some(), "a text's commitment is stamped");
                    assert_eq!(message, &application[..]);
                    assert!(delivered.insert(item.id), "nothing pushed twice");
                }
            }
            other => panic!("unexpected frame for bob: {other:?}"),
        }
    }
    assert_eq!(delivered, accepted_ids);
    alice_stream.close().await.expect("close");
    bob_stream.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_over_the_socket_count_against_the_senders_rate_limit() {
    let server = TestServer::start_with(tempfile::tempdir().expect("temp dir"), |config| {
        config.limits.sends_per_minute = 2;
    })
    .await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let group = alice
        .client
        .create_group("limited", std::slice::from_ref(&bob.name))
        .await
        .expect("group");
    let commit = server
        .db()
        .bytes("SELECT payload FROM messages ORDER BY id DESC LIMIT 1")
        .await
        .pop()
        .expect("the group's commit");
    let (mut stream, _) = drained(alice.transport(&server).connect().await.expect("alice")).await;
    // Whatever the group's creation used of the budget, a burst of five exceeds it.
    stream
        .submit_all((0..5).map(|reference| Submit {
            reference,
            group: group.clone(),
            recipients: vec![bob.client.device_id()],
            message: commit.clone(),
        }))
        .await
        .expect("submit");
    let answered = answers(&mut stream, 5).await;
    let limited = answered
        .values()
        .filter(|a| {
            matches!(a, ServerFrame::Refused { code, .. } if code == ErrorCode::RateLimited.as_str())
        })
        .count();
    assert!(limited >= 3, "at most two sends a minute: {answered:?}");
}
