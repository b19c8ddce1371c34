//! Retention and region moves, end to end: queued messages expire under their region's
//! time-to-live on a clock the test moves, a preservation order holds them, and a move to
//! another region keeps every undelivered message and leaves nothing in the old store.

mod common;

use common::{TestDb, TestServer, TestUser, contains, lawful_request, staff, test_regions};
use pli_proto::governance::{
    DataCategory, LegalBasis, MoveRequest, MoveResponse, RequestView, RetentionResponse,
};
use pli_server::clock::ManualClock;
use serde_json::json;

const DAY_MS: u64 = 86_400_000;
const START_MS: u64 = 1_800_000_000_000;

/// Queue entries the region's store holds for the user's devices.
async fn queued(server: &TestServer, region: &str, user: &TestUser) -> i64 {
    let db = TestDb::region(server.data.path(), region);
    let device = user.client.device_id().get();
    db.integers(&format!(
        "SELECT COUNT(*) FROM queue WHERE device_id = {device}"
    ))
    .await[0]
}

/// Starts a chat from `from` to `to` and sends `text`; `to` stays offline.
async fn write(from: &mut TestUser, to: &TestUser, text: &str) {
    let chat = from
        .client
        .direct_conversation(&to.name)
        .await
        .expect("direct");
    from.send(&chat, text).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_expire_per_region_and_a_preservation_order_holds_them() {
    let clock = ManualClock::new(START_MS);
    let server = TestServer::start_clocked(clock.clone(), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[0].policy.queue_ttl_days = 1;
        config.regions[1].policy.queue_ttl_days = 30;
    })
    .await;
    let mut alice = TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    let bob = TestUser::register_in_region(&server.url, "bob", Some("eu")).await;
    let carol = TestUser::register_in_region(&server.url, "carol", Some("us")).await;
    let erin = TestUser::register_in_region(&server.url, "erin", Some("eu")).await;
    write(&mut alice, &bob, "to bob").await;
    write(&mut alice, &carol, "to carol").await;
    write(&mut alice, &erin, "to erin").await;
    let (bob_before, carol_before, erin_before) = (
        queued(&server, "eu", &bob).await,
        queued(&server, "us", &carol).await,
        queued(&server, "eu", &erin).await,
    );
    assert!(bob_before > 0 && carol_before > 0 && erin_before > 0);
    // Alice's own copies of her commits wait in eu too (she has not synced).
    let alice_before = queued(&server, "eu", &alice).await;

    // Erin's account is placed under a preservation order (one approval suffices).
    let staff = staff(&server).await;
    let order: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(
                LegalBasis::Preservation,
                &["erin"],
                &[DataCategory::Subscriber],
            ),
        )
        .await
        .expect("preservation request");
    let _: RequestView = staff.legal[1]
        .post(
            &format!("/admin/v1/requests/{}/approve", order.id),
            &json!({}),
        )
        .await
        .expect("approve");

    // Nothing is due yet.
    let swept: RetentionResponse = staff
        .operator
        .post("/admin/v1/retention", &json!({}))
        .await
        .expect("sweep");
    assert_eq!(swept, RetentionResponse::default());

    // Two days on: past eu's one-day time-to-live, well within us's thirty.
    clock.advance(2 * DAY_MS);
    let swept: RetentionResponse = staff
        .operator
        .post("/admin/v1/retention", &json!({}))
        .await
        .expect("sweep");
    assert_eq!(queued(&server, "eu", &bob).await, 0, "bob's queue expired");
    assert_eq!(
        queued(&server, "us", &carol).await,
        carol_before,
        "carol's region keeps messages for thirty days"
    );
    assert_eq!(
        queued(&server, "eu", &erin).await,
        erin_before,
        "the preservation order holds erin's queue"
    );
    assert_eq!(swept.held_queue_entries, erin_before as u64);
    assert_eq!(
        swept.expired_queue_entries,
        (bob_before + alice_before) as u64,
        "bob's queue and alice's own copies, exactly"
    );
    let mut bob = bob;
    assert!(bob.receive().await.is_empty(), "expired messages are gone");

    // The order runs out (90 days by default): then erin's queue expires like any other.
    clock.advance(91 * DAY_MS);
    let swept: RetentionResponse = staff
        .operator
        .post("/admin/v1/retention", &json!({}))
        .await
        .expect("sweep");
    assert_eq!(swept.expired_holds, 1);
    assert_eq!(queued(&server, "eu", &erin).await, 0);
    assert_eq!(
        queued(&server, "us", &carol).await,
        0,
        "and now carol's too"
    );
    // Only operators may run it, and every run is in the audit log.
    let refused: Result<RetentionResponse, _> =
        staff.auditor.post("/admin/v1/retention", &json!({})).await;
    assert!(refused.is_err());
    let entries = server.db().bytes("SELECT entry FROM audit_log").await;
    let runs = entries
        .iter()
        .filter(|e| contains(e, b"retention.run"))
        .count();
    assert_eq!(runs, 4, "three runs and one refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_keeps_undelivered_messages_and_leaves_no_trace_behind() {
    let server = TestServer::start_clocked(ManualClock::new(START_MS), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
    })
    .await;
    let mut alice = TestUser::register_in_region(&server.url, "alice", Some("us")).await;
    let mut bob = TestUser::register_in_region(&server.url, "bobmover", Some("eu")).await;
    let chat = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    alice.send(&chat, "before the move, 1").await;
    alice.send(&chat, "before the move, 2").await;
    let waiting = queued(&server, "eu", &bob).await;
    assert!(waiting >= 3, "welcome and two messages wait for bob");

    let staff = staff(&server).await;
    let moved: MoveResponse = staff
        .operator
        .post(
            "/admin/v1/accounts/bobmover/region",
            &MoveRequest {
                region: pli_proto::Region::parse("us").expect("region"),
            },
        )
        .await
        .expect("move");
    assert_eq!((moved.from.as_str(), moved.to.as_str()), ("eu", "us"));
    assert_eq!(moved.devices, 1);
    assert_eq!(moved.queued_messages, waiting as u64);

    // Nothing about bob is left in eu, not even bytes of his name.
    let eu = TestDb::region(server.data.path(), "eu");
    for table in ["accounts", "devices", "key_packages", "queue", "messages"] {
        assert_eq!(
            eu.integers(&format!("SELECT COUNT(*) FROM {table}")).await,
            vec![0],
            "eu still holds {table} rows"
        );
    }
    assert!(!contains(&eu.dump(), b"bobmover"), "eu's files mention bob");
    assert_eq!(queued(&server, "us", &bob).await, waiting);

    // Bob's device works on: it reads everything that waited, in order, and chats on.
    let got: Vec<String> = bob.receive().await.into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(got, ["before the move, 1", "before the move, 2"]);
    bob.send(&chat, "after the move").await;
    let got: Vec<String> = alice
        .receive()
        .await
        .into_iter()
        .map(|(_, _, t)| t)
        .collect();
    assert_eq!(got, ["after the move"]);
    alice.send(&chat, "welcome to us").await;
    let got: Vec<String> = bob.receive().await.into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(got, ["welcome to us"]);
    let inventory: serde_json::Value = staff.legal[0]
        .get("/admin/v1/inventory/bobmover")
        .await
        .expect("inventory");
    assert_eq!(inventory["home_region"], "us");

    // The move is in the audit log, and a region the server lacks is refused.
    let entries = server.db().bytes("SELECT entry FROM audit_log").await;
    assert!(entries.iter().any(|e| contains(e, b"account.move")));
    assert!(
        !entries.iter().any(|e| contains(e, b"bobmover")),
        "the log commits to the name without revealing it"
    );
    let refused: Result<MoveResponse, _> = staff
        .operator
        .post(
            "/admin/v1/accounts/bobmover/region",
            &MoveRequest {
                region: pli_proto::Region::parse("mars").expect("a well-formed name"),
            },
        )
        .await;
    let Err(pli_client::ClientError::Api { code, .. }) = refused else {
        panic!("refused")
    };
    assert_eq!(code, pli_proto::ErrorCode::UnknownRegion);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_accounts_facts_are_kept_for_its_regions_period_then_erased() {
    let clock = ManualClock::new(START_MS);
    let server = TestServer::start_clocked(clock.clone(), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[0].policy.deleted_retention_days = 0;
        config.regions[1].policy.deleted_retention_days = 30;
    })
    .await;
    let alice = TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    let mut bob = TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    let mut carol = TestUser::register_in_region(&server.url, "carol", Some("us")).await;
    write(&mut carol, &bob, "for bob").await;
    let staff = staff(&server).await;
    let inventory = async |name: &str| -> Option<serde_json::Value> {
        staff.legal[0]
            .get(&format!("/admin/v1/inventory/{name}"))
            .await
            .ok()
    };

    // us keeps a deleted account's facts for thirty days: its devices and queue go now.
    assert_eq!(bob.client.delete_account().await.expect("delete"), 30);
    let facts = inventory("bob").await.expect("facts kept");
    assert!(facts["deleted_day"].is_string(), "{facts}");
    assert_eq!(facts["devices"], json!([]));
    assert_eq!(facts["queued_ciphertexts"], 0);
    assert!(
        bob.client.sync().await.is_err(),
        "bob's device no longer authenticates"
    );
    let mut dave = TestUser::register_in_region(&server.url, "dave", Some("eu")).await;
    let claim = dave.client.direct_conversation(&bob.name).await;
    assert!(
        claim.is_err(),
        "nobody can start a chat with a deleted account"
    );
    let home = tempfile::tempdir().expect("home");
    let taken =
        pli_client::Client::register(home.path(), &server.url, &bob.name, &Default::default())
            .await;
    assert!(
        taken.is_err(),
        "the name stays taken while its facts are kept"
    );

    // eu keeps nothing: alice's account is erased at once, and her name is free.
    assert_eq!(alice.client.delete_account().await.expect("delete"), 0);
    assert!(inventory("alice").await.is_none());
    let eu = TestDb::region(server.data.path(), "eu");
    assert_eq!(
        eu.integers("SELECT COUNT(*) FROM accounts WHERE username = 'alice'")
            .await,
        vec![0]
    );
    TestUser::register_in_region(&server.url, "alice", Some("us")).await;

    // Thirty-one days on, the sweep erases bob's facts and frees his name.
    clock.advance(31 * DAY_MS);
    let swept: RetentionResponse = staff
        .operator
        .post("/admin/v1/retention", &json!({}))
        .await
        .expect("sweep");
    assert_eq!(swept.erased_accounts, 1);
    assert!(inventory("bob").await.is_none());
    let us = TestDb::region(server.data.path(), "us");
    assert_eq!(
        us.integers("SELECT COUNT(*) FROM accounts").await,
        vec![2],
        "carol and the new alice"
    );
    TestUser::register_in_region(&server.url, "bob", Some("eu")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_addresses_are_kept_only_where_the_policy_says_and_only_as_long() {
    let clock = ManualClock::new(START_MS);
    let server = TestServer::start_clocked(clock.clone(), |config| {
        config.regions = test_regions(&config.data_dir, &["eu", "us"]);
        config.regions[1].policy.ip_retention_days = Some(7);
    })
    .await;
    let mut alice = TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    let mut bob = TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    alice.receive().await;
    bob.receive().await;
    let staff = staff(&server).await;
    let inventory = async |name: &str| -> serde_json::Value {
        staff.legal[0]
            .get(&format!("/admin/v1/inventory/{name}"))
            .await
            .expect("inventory")
    };
    let bob_facts = inventory("bob").await;
    assert_eq!(
        bob_facts["ip_addresses"][0]["address"], "127.0.0.1",
        "{bob_facts}"
    );
    let alice_facts = inventory("alice").await;
    assert!(alice_facts.get("ip_addresses").is_none(), "{alice_facts}");
    let eu = TestDb::region(server.data.path(), "eu");
    assert_eq!(
        eu.integers("SELECT COUNT(*) FROM connection_ips").await,
        vec![0]
    );
    assert!(
        !contains(&eu.dump(), b"127.0.0.1"),
        "eu never stores an address"
    );

    // A court order may ask for bob's addresses; alice's region keeps none to ask for.
    let ip_request =
        |target: &str| lawful_request(LegalBasis::CourtOrder, &[target], &[DataCategory::Ip]);
    let _: RequestView = staff.legal[0]
        .post("/admin/v1/requests", &ip_request("bob"))
        .await
        .expect("us keeps IP data");
    let refused: Result<RequestView, _> = staff.legal[0]
        .post("/admin/v1/requests", &ip_request("alice"))
        .await;
    assert!(refused.is_err(), "eu keeps none");

    // Eight days on, bob's address is past us's seven.
    clock.advance(8 * DAY_MS);
    let swept: RetentionResponse = staff
        .operator
        .post("/admin/v1/retention", &json!({}))
        .await
        .expect("sweep");
    assert_eq!(swept.expired_ips, 1);
    assert!(inventory("bob").await.get("ip_addresses").is_none());
}
