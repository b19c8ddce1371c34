//! Residency: each account's data lives only in its home region's store.
//!
//! The property test registers users in random regions, has them chat 1:1 and in a group
//! at random, and then looks at every table of every store: no region holds a row about an
//! account homed elsewhere, and the global store holds only the username → region index.

mod common;

use common::{TestDb, TestServer, TestUser, contains, test_regions};
use pli_proto::ErrorCode;
use proptest::prelude::*;
use std::collections::BTreeMap;

const REGIONS: [&str; 3] = ["eu", "us", "ru"];

/// Tables of a region store that name an account (`username`) or one of its devices
/// (`device_id`).
const BY_USERNAME: [&str; 5] = [
    "accounts",
    "devices",
    "preservation_holds",
    "pending_notices",
    "connection_ips",
];
const BY_DEVICE: [&str; 4] = [
    "SELECT device_id FROM devices",
    "SELECT device_id FROM queue",
    "SELECT device_id FROM key_packages",
    "SELECT device_id FROM ws_tickets",
];

/// The usernames a table holds.
async fn names(db: &TestDb, table: &str) -> Vec<String> {
    let column = match db {
        TestDb::Postgres(_) => "convert_to(username, 'UTF8')",
        TestDb::Sqlite(_) => "CAST(username AS BLOB)",
    };
    db.bytes(&format!("SELECT {column} FROM {table}"))
        .await
        .into_iter()
        .map(|b| String::from_utf8(b).expect("utf-8 username"))
        .collect()
}

/// Asserts every store holds only what residency allows. `homes` maps user → region.
async fn assert_resident(server: &TestServer, users: &[TestUser], homes: &[usize], regions: usize) {
    let global = server.db();
    for table in [
        "accounts",
        "devices",
        "key_packages",
        "queue",
        "messages",
        "ws_tickets",
    ] {
        let rows = global
            .integers(&format!("SELECT COUNT(*) FROM {table}"))
            .await;
        assert_eq!(rows, vec![0], "the global store holds no {table} rows");
    }
    let index = names(&global, "home_regions").await;
    assert_eq!(index.len(), users.len(), "one index entry per account");
    for (r, name) in REGIONS.iter().take(regions).enumerate() {
        let db = TestDb::region(server.data.path(), name);
        let mine: Vec<&TestUser> = users
            .iter()
            .zip(homes)
            .filter(|(_, home)| **home == r)
            .map(|(u, _)| u)
            .collect();
        let my_names: Vec<String> = mine.iter().map(|u| u.name.to_string()).collect();
        let my_devices: Vec<i64> = mine
            .iter()
            .map(|u| u.client.device_id().get() as i64)
            .collect();
        for table in BY_USERNAME {
            for user in names(&db, table).await {
                assert!(
                    my_names.contains(&user),
                    "region {name}: {table} names a stranger"
                );
            }
        }
        for sql in BY_DEVICE {
            for device in db.integers(sql).await {
                assert!(
                    my_devices.contains(&device),
                    "region {name}: {sql} holds a stranger's device"
                );
            }
        }
        assert!(
            names(&db, "home_regions").await.is_empty(),
            "region {name} holds no index"
        );
        let orphans = db
            .integers("SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id)")
            .await;
        assert_eq!(
            orphans,
            vec![0],
            "region {name}: every stored message is queued for a resident"
        );
        // Whatever the tables, the bytes of the store never spell a stranger's name.
        let dump = db.dump();
        for (user, home) in users.iter().zip(homes) {
            if *home != r {
                assert!(
                    !contains(&dump, format!("{}", user.name).as_bytes()),
                    "region {name}'s store mentions an account homed elsewhere"
                );
            }
        }
    }
}

/// A scenario: each user's region, then who writes to whom.
fn scenario() -> impl Strategy<Value = (usize, Vec<usize>, Vec<(usize, usize)>)> {
    (2usize..=3).prop_flat_map(|regions| {
        (
            Just(regions),
            proptest::collection::vec(0..regions, 3..=5),
            proptest::collection::vec((0usize..5, 0usize..5), 1..=5),
        )
    })
}

async fn run_scenario(regions: usize, homes: Vec<usize>, messages: Vec<(usize, usize)>) {
    let server = TestServer::start_clocked(
        pli_server::clock::ManualClock::new(1_800_000_000_000),
        |config| {
            config.regions = test_regions(&config.data_dir, &REGIONS[..regions]);
            // One region keeps connection addresses: those rows must stay home too.
            config.regions[0].policy.ip_retention_days = Some(7);
        },
    )
    .await;
    let mut users = Vec::new();
    for (i, home) in homes.iter().enumerate() {
        // Distinctive names, so a scan of raw bytes cannot match by accident.
        let name = format!("resident{i}x{}", REGIONS[*home]);
        users.push(TestUser::register_in_region(&server.url, &name, Some(REGIONS[*home])).await);
    }
    let n = users.len();
    let mut expected: BTreeMap<usize, usize> = BTreeMap::new();
    for (from, to) in messages {
        let (from, to) = (from % n, to % n);
        if from == to {
            continue;
        }
        let peer = users[to].name.clone();
        let chat = users[from]
            .client
            .direct_conversation(&peer)
            .await
            .expect("direct");
        users[from].send(&chat, "across regions").await;
        *expected.entry(to).or_default() += 1;
    }
    // A group with every user: commits and welcomes cross every region at once.
    let others: Vec<_> = users[1..].iter().map(|u| u.name.clone()).collect();
    let group = users[0]
        .client
        .create_group("all", &others)
        .await
        .expect("group");
    users[0].send(&group, "hello all").await;
    assert_resident(&server, &users, &homes, regions).await;
    for (i, user) in users.iter_mut().enumerate() {
        let got = user.receive().await;
        let direct = got
            .iter()
            .filter(|(_, _, text)| text == "across regions")
            .count();
        assert_eq!(
            direct,
            expected.get(&i).copied().unwrap_or(0),
            "user {i} got each message once"
        );
        if i > 0 {
            assert!(
                got.iter()
                    .any(|(g, _, text)| g == &group && text == "hello all"),
                "user {i} got the group message"
            );
        }
    }
    // Delivered and acked: the queues are empty, and the stores still hold no stranger.
    assert_resident(&server, &users, &homes, regions).await;
    server.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn no_region_holds_a_row_about_an_account_homed_elsewhere(
        (regions, homes, messages) in scenario()
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run_scenario(regions, homes, messages));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_regions_are_refused_and_the_policy_lists_each_region() {
    let server = TestServer::start_clocked(
        pli_server::clock::ManualClock::new(1_800_000_000_000),
        |config| {
            config.regions = test_regions(&config.data_dir, &["eu", "us"]);
            config.regions[1].policy.ip_retention_days = Some(7);
            config.regions[1].policy.notes = "Operated under US law.".into();
            config.default_region = Some(pli_proto::Region::parse("us").expect("region"));
        },
    )
    .await;
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    let policy = transport.policy().await.expect("policy");
    assert_eq!(policy.default_region.as_str(), "us");
    let names: Vec<&str> = policy.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(names, ["eu", "us"]);
    assert_eq!(policy.regions[0].ip_retention_days, None);
    assert_eq!(policy.regions[1].ip_retention_days, Some(7));
    let words = policy.regions[1].plain_words().join("\n");
    assert!(
        words.contains("kept for 7 days") && words.contains("Operated under US law."),
        "{words}"
    );

    // No region named: the default one.
    let home = tempfile::tempdir().expect("home");
    let carol = pli_proto::Username::parse("carol").expect("name");
    let (_, region) = pli_client::Client::register_in(
        home.path(),
        &server.url,
        &carol,
        None,
        &Default::default(),
    )
    .await
    .expect("register");
    assert_eq!(region.as_str(), "us");
    // A region the server does not have: refused, and the name stays free.
    let home = tempfile::tempdir().expect("home");
    let dave = pli_proto::Username::parse("dave").expect("name");
    let mars = pli_proto::Region::parse("mars").expect("a well-formed name");
    let refused = pli_client::Client::register_in(
        home.path(),
        &server.url,
        &dave,
        Some(&mars),
        &Default::default(),
    )
    .await;
    let Err(pli_client::ClientError::Api { code, .. }) = refused else {
        panic!("refused with an API error")
    };
    assert_eq!(code, ErrorCode::UnknownRegion);
    let home = tempfile::tempdir().expect("home");
    let eu = pli_proto::Region::parse("eu").expect("region");
    let (_, region) = pli_client::Client::register_in(
        home.path(),
        &server.url,
        &dave,
        Some(&eu),
        &Default::default(),
    )
    .await
    .expect("the name is still free");
    assert_eq!(region, eu);
    // The inventory shows the home region (staff see where the account's data lives).
    let staff = common::staff(&server).await;
    let inventory: serde_json::Value = staff.legal[0]
        .get("/admin/v1/inventory/dave")
        .await
        .expect("inventory");
    assert_eq!(inventory["home_region"], "eu");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_that_would_strand_existing_accounts_are_refused_at_start() {
    let server = TestServer::start().await;
    TestUser::register(&server, "alice").await;
    let data = server.stop().await;
    let mut config = common::test_config(data.path());
    config.regions = test_regions(data.path(), &["eu"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let refused = pli_server::run(config, listener, async {}).await;
    let Err(err) = refused else {
        panic!("a configuration that strands accounts must not start")
    };
    assert!(err.to_string().contains("region default"), "{err}");
    // Unchanged, the server starts again and alice is still there.
    let server = TestServer::start_on(data).await;
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    assert_eq!(transport.policy().await.expect("policy").regions.len(), 1);
    let db = server.db();
    assert_eq!(db.integers("SELECT COUNT(*) FROM accounts").await, vec![1]);
}
