//! A server that drops, reorders or replays a sender's messages cannot do it silently: the
//! hash chain inside every encrypted envelope lets the recipient's client tell the user.
//! The "misbehaving server" here is the real one with its database edited between runs.

mod common;

use common::{TestServer, alerts};
use pli_client::Event;

fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Runs `sql` against the stopped server's database, then restarts it.
async fn tamper(server: TestServer, sql: &str) -> TestServer {
    let data = server.stop().await;
    common::TestDb::of(data.path()).execute(sql).await;
    TestServer::start_on(data).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_message_is_reported_to_the_recipient() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    alice.send(&direct, "one").await;
    bob.receive().await;
    alice.send(&direct, "two").await;
    alice.send(&direct, "three").await;
    // The server withholds "two": the older of the two messages queued for bob.
    let server = tamper(
        server,
        "DELETE FROM queue WHERE message_id = (SELECT MIN(message_id) FROM queue q
           JOIN devices d ON d.device_id = q.device_id WHERE d.username = 'bob')",
    )
    .await;
    bob.reopen(&server.url);
    bob.client.sync().await.expect("sync");
    let events = bob.client.take_new().expect("events");
    assert_eq!(texts(&events), vec!["three"]);
    let alerts = alerts(&events);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0].contains("1 message(s) from @alice never arrived"),
        "{}",
        alerts[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_messages_are_reported_to_the_recipient() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    alice.send(&direct, "one").await;
    bob.receive().await;
    alice.send(&direct, "two").await;
    alice.send(&direct, "three").await;
    // The server swaps the two queued ciphertexts, so bob receives "three" before "two".
    let server = tamper(
        server,
        "CREATE TEMP TABLE pair AS SELECT m.id, m.payload FROM messages m
           JOIN queue q ON q.message_id = m.id JOIN devices d ON d.device_id = q.device_id
           WHERE d.username = 'bob' ORDER BY m.id;
         UPDATE messages SET payload = (SELECT payload FROM pair WHERE pair.id <> messages.id)
           WHERE id IN (SELECT id FROM pair);",
    )
    .await;
    bob.reopen(&server.url);
    bob.client.sync().await.expect("sync");
    let events = bob.client.take_new().expect("events");
    assert_eq!(
        texts(&events),
        vec!["three", "two"],
        "both arrive and are shown once"
    );
    let alerts = alerts(&events);
    assert!(
        alerts.iter().any(|a| a.contains("never arrived")),
        "the gap is flagged first: {alerts:?}"
    );
    assert!(
        alerts.iter().any(|a| a.contains("out of order")),
        "then the late one: {alerts:?}"
    );
}
