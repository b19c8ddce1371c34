//! The key directory's life on an honest server: epochs published in batches (on demand
//! and on an interval), the public audit over any range of them, the directory surviving a
//! restart, devices linked and removed, and an ended account forgotten so that its name
//! starts a clean history. (`key_transparency.rs` makes the server lie.)

mod common;

use common::{TestServer, TestUser, alerts, test_config, test_regions};
use pli_client::kt::audit::audit_directory;
use pli_client::{Client, ClientError, ConnectOptions};
use pli_proto::Username;
use pli_proto::kt::{self, DirectoryDevice};
use pli_server::directory::SIGNING_KEY_FILE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_survives_a_restart_with_the_same_roots_and_proofs() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let before = alice
        .client
        .directory_devices(&bob.name)
        .await
        .expect("lookup");
    let transport = bob.transport(&server);
    let lookup_before = transport.directory_lookup(&bob.name).await.expect("lookup");
    let roots_before = transport.directory_roots(0, 100).await.expect("roots");
    let data = server.stop().await;

    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    let after = alice
        .client
        .directory_devices(&bob.name)
        .await
        .expect("lookup after restart");
    assert_eq!(after, before);
    let transport = bob.transport(&server);
    assert_eq!(
        transport.directory_lookup(&bob.name).await.expect("lookup"),
        lookup_before,
        "the same signed root and the same proof"
    );
    assert_eq!(
        transport.directory_roots(0, 100).await.expect("roots"),
        roots_before
    );
    let expected: Vec<DirectoryDevice> = before.devices;
    assert_eq!(expected.len(), 1);
    assert_eq!(expected[0].device_id, bob.client.device_id());
}

/// Links a second device to `user`'s account (its code approved by the first), synced once;
/// its home goes with it.
async fn link_second_device(
    server: &TestServer,
    user: &mut TestUser,
) -> (tempfile::TempDir, Client) {
    let home = tempfile::tempdir().expect("temp dir");
    let (mut second, code) = Client::prepare_link(
        home.path(),
        &server.url,
        &user.name,
        &ConnectOptions::default(),
    )
    .await
    .expect("prepare");
    let added = user
        .client
        .approve_link(&code, pli_client::HistoryChoice::None)
        .await
        .expect("approve");
    assert_eq!(added, second.device_id());
    second.sync().await.expect("the new device works");
    (home, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_and_removed_devices_are_published_and_raise_no_alarm() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;

    // A second device for Alice: it shows a code, her first device approves it.
    let (_second_home, mut second) = link_second_device(&server, &mut alice).await;
    let added = second.device_id();
    let listed = alice.client.devices().await.expect("devices");
    assert_eq!(listed.devices.len(), 2);
    let endorsed = listed
        .devices
        .iter()
        .find(|d| d.device_id == added)
        .expect("listed");
    assert_eq!(
        endorsed.endorsement.as_ref().map(|e| e.by),
        Some(alice.client.device_id())
    );
    alice.client.sync().await.expect("sync");
    assert!(alerts(&alice.client.take_new().expect("events")).is_empty());
    assert!(alerts(&second.take_new().expect("events")).is_empty());

    // Bob's new conversation reaches both of Alice's devices.
    let chat = bob
        .client
        .direct_conversation(&alice.name)
        .await
        .expect("chat");
    bob.send(&chat, "to both of you").await;
    assert_eq!(alice.receive().await[0].2, "to both of you");
    second.sync().await.expect("sync");
    let on_second = common::texts(second.take_new().expect("events"));
    assert_eq!(on_second[0].2, "to both of you");

    // A code for another account, or an endorsement that does not verify, is refused.
    let other_home = tempfile::tempdir().expect("temp dir");
    let (_, bobs_code) = Client::prepare_link(
        other_home.path(),
        &server.url,
        &bob.name,
        &ConnectOptions::default(),
    )
    .await
    .expect("prepare");
    assert!(matches!(
        alice
            .client
            .approve_link(&bobs_code, pli_client::HistoryChoice::None)
            .await,
        Err(ClientError::Invalid(_))
    ));
    let request = pli_client::devices::LinkRequest::decode(&bobs_code).expect("code");
    let forged = alice
        .transport(&server)
        .add_device(&pli_proto::api::AddDeviceRequest {
            device_id: request.device_id,
            signature_key: request.signature_key,
            secret_hash: request.secret_hash,
            endorsement: vec![7; 64].into(),
            directory_keys: None,
        })
        .await;
    assert_eq!(
        common::code(forged),
        pli_proto::ErrorCode::InvalidEndorsement
    );

    // Removing the second device: the directory lists one again, nobody is alarmed, and
    // the removed device can no longer reach the account.
    alice
        .client
        .remove_device(second.device_id())
        .await
        .expect("remove");
    assert_eq!(
        alice.client.devices().await.expect("devices").devices.len(),
        1
    );
    let last = alice.client.remove_device(alice.client.device_id()).await;
    assert_eq!(common::code(last), pli_proto::ErrorCode::LastDevice);
    assert!(
        second.sync().await.is_err(),
        "the removed device is shut out"
    );
    alice.client.sync().await.expect("sync");
    assert!(alerts(&alice.client.take_new().expect("events")).is_empty());
    let seen_by_bob = bob.client.verify_user(&alice.name).await.expect("verify");
    assert_eq!(seen_by_bob.peer_devices.len(), 1);
}

/// The newest epoch the server has signed, as anyone sees it.
async fn newest_epoch(server: &TestServer) -> u64 {
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    transport
        .directory_roots(0, kt::MAX_ROOTS)
        .await
        .expect("roots")
        .roots
        .len() as u64
        - 1
}

/// The first operator, as `pli admin init` makes them.
async fn operator(server: &TestServer) -> pli_client::admin::AdminClient {
    let credential = pli_server::init_first_operator(&test_config(server.data.path()), "root")
        .await
        .expect("init");
    common::staff_client(server, credential)
}

/// `pli admin directory publish`.
async fn publish(operator: &pli_client::admin::AdminClient) -> kt::PublishResponse {
    operator
        .post("/admin/v1/directory/publish", &serde_json::json!({}))
        .await
        .expect("publish")
}

/// A server that publishes only when asked.
async fn start_publishing_on_demand() -> TestServer {
    TestServer::start_with(tempfile::tempdir().expect("temp dir"), |config| {
        config.kt_publish_interval = std::time::Duration::from_secs(3600);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_published_as_one_epoch_on_demand_and_on_the_interval() {
    let server = start_publishing_on_demand().await;
    let before = newest_epoch(&server).await;
    for name in ["alice", "bob", "carol"] {
        TestUser::register(&server, name).await;
    }
    assert_eq!(newest_epoch(&server).await, before, "nothing published yet");
    let db = server.db();
    let pending = "SELECT COUNT(DISTINCT username) FROM kt_changes";
    assert_eq!(db.integers(pending).await, vec![3]);

    let operator = operator(&server).await;
    let published = publish(&operator).await;
    assert_eq!(
        (published.epoch, published.changes),
        (before + 1, 3),
        "three registrations, one epoch"
    );
    assert_eq!(db.integers(pending).await, vec![0]);
    assert_eq!(newest_epoch(&server).await, before + 1);
    let again = publish(&operator).await;
    assert_eq!((again.epoch, again.changes), (before + 1, 0), "nothing new");
    drop(server.stop().await);

    // A one-second interval publishes a registration with nobody asking.
    let server = TestServer::start_with(tempfile::tempdir().expect("temp dir"), |config| {
        config.kt_publish_interval = std::time::Duration::from_secs(1);
    })
    .await;
    let before = newest_epoch(&server).await;
    TestUser::register(&server, "dave").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while newest_epoch(&server).await == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the interval never published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(newest_epoch(&server).await, before + 1);
    assert_eq!(server.db().integers(pending).await, vec![0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_covers_a_range_of_epochs_or_all_of_them_across_proof_pages() {
    let server = start_publishing_on_demand().await;
    let first = newest_epoch(&server).await;
    let operator = operator(&server).await;
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    // More epochs than one audit answer holds, so the auditor asks page by page.
    let epochs = kt::MAX_AUDIT_STEPS + 2;
    for i in 0..epochs {
        let key = ed25519_dalek::SigningKey::from_bytes(&[i as u8 + 1; 32]).verifying_key();
        let name = Username::parse(&format!("user{i}")).expect("name");
        transport
            .register_solving(&name, key.as_bytes(), None)
            .await
            .expect("register");
        assert_eq!(publish(&operator).await.changes, 1);
    }
    let newest = newest_epoch(&server).await;
    assert_eq!(newest, first + epochs);

    let all = audit_directory(&transport, None, None, None)
        .await
        .expect("the whole history");
    assert_eq!((all.from, all.to), (0, newest));
    let range = audit_directory(&transport, Some(3), Some(newest - 1), None)
        .await
        .expect("a range");
    assert_eq!((range.from, range.to), (3, newest - 1));
    assert_ne!(range.root, all.root, "the range ends an epoch earlier");
    let beyond = audit_directory(&transport, Some(3), Some(newest + 5), None).await;
    assert!(
        matches!(&beyond, Err(ClientError::Directory(why)) if why.contains(&format!("only up to epoch {newest}"))),
        "{beyond:?}"
    );
    let keys = transport.directory_keys().await.expect("keys");
    let key = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        keys.signing_key.as_slice(),
    );
    audit_directory(&transport, Some(newest - 1), None, Some(&key))
        .await
        .expect("the published key is the one expected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_account_is_forgotten_and_its_name_starts_a_clean_history() {
    // A region that keeps nothing of a deleted account: its name is free at once.
    let server = TestServer::start_with(tempfile::tempdir().expect("temp dir"), |config| {
        config.regions = test_regions(&config.data_dir, &["eu"]);
        config.regions[0].policy.deleted_retention_days = 0;
    })
    .await;
    let alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let old_key = alice.identity().signature_public;
    let db = server.db();
    let states = "SELECT data FROM kt_states";
    let holds_old_key = async || {
        db.bytes(states)
            .await
            .iter()
            .any(|data| common::contains(data, &old_key))
    };
    assert_eq!(
        bob.client
            .verify_user(&alice.name)
            .await
            .expect("verify")
            .peer_devices
            .len(),
        1
    );
    assert!(holds_old_key().await, "the directory lists alice's key");

    // Alice deletes her account; the next epoch lists her with no devices and forgets the
    // keys her account had.
    alice.client.delete_account().await.expect("delete");
    let gone = bob.client.verify_user(&alice.name).await.expect("verify");
    assert!(gone.peer_devices.is_empty());
    assert!(!holds_old_key().await, "her key left the directory's store");

    // Someone else takes the name: a clean history, no alarm, and nothing of the last
    // owner's devices.
    let mut new_alice = TestUser::register(&server, "alice").await;
    new_alice.client.sync().await.expect("sync");
    assert_eq!(
        alerts(&new_alice.client.take_new().expect("events")),
        Vec::<String>::new()
    );
    let own = new_alice.client.audit_own_keys().await.expect("audit");
    assert_eq!(own.devices, 1);
    assert!(own.forgotten >= 1, "{own:?}");
    assert!(
        own.unexplained.is_empty() && own.ended.is_empty(),
        "{own:?}"
    );
    let seen = bob
        .client
        .verify_user(&new_alice.name)
        .await
        .expect("verify");
    let listed: Vec<DirectoryDevice> = seen.peer_devices;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].device_id, new_alice.client.device_id());
    // The public audit still holds: forgetting values leaves the tree as it grew.
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    audit_directory(&transport, None, None, None)
        .await
        .expect("append-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_devices_and_deleted_accounts_leave_their_conversations() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let carol = TestUser::register(&server, "carol").await;
    let (_second_home, second) = link_second_device(&server, &mut alice).await;
    let chat = bob
        .client
        .direct_conversation(&alice.name)
        .await
        .expect("chat");
    let group = bob
        .client
        .create_group("plans", &[alice.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    bob.send(&chat, "to both of you").await;
    assert_eq!(alice.receive().await.len(), 1);

    // Alice removes her second device from her first: it leaves both conversations at once,
    // and everyone can still write to them.
    alice
        .client
        .remove_device(second.device_id())
        .await
        .expect("remove");
    bob.client.sync().await.expect("sync");
    let notices: Vec<String> = bob
        .client
        .take_new()
        .expect("events")
        .into_iter()
        .filter_map(|e| match e {
            pli_client::Event::Notice { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        notices.iter().any(|n| n.contains("a device of @alice")),
        "{notices:?}"
    );
    assert!(
        !notices.iter().any(|n| n.contains("removed @alice")),
        "alice is still in both conversations: {notices:?}"
    );
    bob.send(&chat, "after the removal").await;
    bob.send(&group, "the group too").await;
    let got: Vec<String> = alice.receive().await.into_iter().map(|m| m.2).collect();
    assert_eq!(got, ["after the removal", "the group too"]);

    // Carol deletes her account. Nobody was told; the group's next sender finds her devices
    // gone from the directory, takes them out, and the message goes through.
    carol.client.delete_account().await.expect("delete");
    alice.send(&group, "without carol").await;
    let got: Vec<String> = bob.receive().await.into_iter().map(|m| m.2).collect();
    assert_eq!(got, ["without carol"]);
    assert_eq!(
        bob.client.members(&group).expect("members"),
        [alice.name.clone(), bob.name.clone()]
    );
    assert!(alerts(&bob.client.take_new().expect("events")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_keys_made_at_init_are_the_ones_the_server_signs_with() {
    let data = tempfile::tempdir().expect("temp dir");
    pli_server::init_first_operator(&test_config(data.path()), "root")
        .await
        .expect("init");
    let db = common::TestDb::of(data.path());
    let seed: [u8; 32] = match &db {
        common::TestDb::Sqlite(_) => {
            std::fs::read(data.path().join(pli_server::directory::SIGNING_KEY_FILE))
                .expect("the signing key is in the data directory")
        }
        common::TestDb::Postgres(_) => db
            .bytes(&format!(
                "SELECT secret FROM server_keys WHERE name = '{}'",
                pli_server::directory::SIGNING_KEY_FILE
            ))
            .await
            .pop()
            .expect("the signing key is in the database"),
    }
    .try_into()
    .expect("32 bytes");
    let server = TestServer::start_on(data).await;
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    let keys = transport.directory_keys().await.expect("keys");
    assert_eq!(
        keys.signing_key.as_slice(),
        ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .as_bytes()
    );
}

/// Copies a device's home as someone who took its state would (the client is idle).
fn steal_state(from: &std::path::Path) -> tempfile::TempDir {
    let stolen = tempfile::tempdir().expect("temp dir");
    for file in common::files_under(from) {
        let target = stolen
            .path()
            .join(file.strip_prefix(from).expect("under the home"));
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("dirs");
        std::fs::copy(&file, &target).expect("copy");
    }
    stolen
}

/// Post-compromise healing: a copy of bob's device state taken before bob's leaf rotation
/// (which linking a device of his triggers) reads what alice sends before it, and nothing
/// she sends after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_state_copied_before_a_rotation_cannot_decrypt_what_follows() {
    use pli_client::hot_paths::LocalDevice;

    let server = TestServer::start().await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    alice.send(&direct, "hello bob").await;
    assert_eq!(bob.receive().await.len(), 1);
    let stolen = steal_state(bob.home.path());
    let mut thief = LocalDevice::open(stolen.path()).expect("the stolen state");
    let db = server.db();
    let newest = || async {
        let rows = db
            .bytes("SELECT payload FROM messages ORDER BY id DESC LIMIT 1")
            .await;
        rows.into_iter().next().expect("a stored message")
    };

    alice.send(&direct, "before the rotation").await;
    let stored = thief.messages_stored().expect("count");
    thief.process(1_000_001, &newest().await).expect("process");
    assert_eq!(
        thief.messages_stored().expect("count"),
        stored + 1,
        "the stolen state reads what is sent before the rotation"
    );

    let epoch = bob.client.epoch(&direct).expect("epoch");
    let (_second_home, _second) = link_second_device(&server, &mut bob).await;
    bob.client.sync().await.expect("bob rotates his leaf");
    assert!(
        bob.client.epoch(&direct).expect("epoch") > epoch,
        "the link made bob commit a new leaf"
    );
    alice.client.sync().await.expect("alice follows");
    alice.send(&direct, "after the rotation").await;
    let after = newest().await;
    let stored = thief.messages_stored().expect("count");
    thief.process(1_000_002, &after).expect("process");
    assert_eq!(
        thief.messages_stored().expect("count"),
        stored,
        "the stolen state cannot read what follows the rotation"
    );
    let got = bob.receive().await;
    assert!(
        got.iter().any(|(_, _, text)| text == "after the rotation"),
        "{got:?}"
    );
}

/// A newly linked device pins the key directory's keys its approving device holds, not the
/// ones the server shows it: an operator who swaps the directory's signing key before a
/// device is linked (to show the new device a directory of its own) is caught by that
/// device at its first sync. Today's devices took the keys from the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_device_takes_the_directory_keys_from_the_approving_device() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    alice.client.sync().await.expect("sync");
    let pinned = |home: &std::path::Path| {
        let conn = pli_client::local::open(home).expect("open");
        pli_client::kt::pinned_keys(&conn)
            .expect("read")
            .map(|k| (k.origin, k.signing_key, k.vrf_key))
    };
    let (second_home, _second) = link_second_device(&server, &mut alice).await;
    assert_eq!(pinned(second_home.path()), pinned(alice.home.path()));

    // The operator signs the directory with a key of its own from now on.
    let other = [99u8; 32];
    let data = server.stop().await;
    match common::TestDb::of(data.path()) {
        db @ common::TestDb::Postgres(_) => {
            db.execute(&format!(
                "UPDATE server_keys SET secret = '\\x{}'::bytea WHERE name = '{SIGNING_KEY_FILE}'",
                hex::encode(other)
            ))
            .await
        }
        common::TestDb::Sqlite(_) => {
            std::fs::write(data.path().join(SIGNING_KEY_FILE), other).expect("swap the key")
        }
    }
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    let third_home = tempfile::tempdir().expect("temp dir");
    let (mut third, code) = Client::prepare_link(
        third_home.path(),
        &server.url,
        &alice.name,
        &ConnectOptions::default(),
    )
    .await
    .expect("prepare");
    alice
        .client
        .approve_link(&code, pli_client::HistoryChoice::None)
        .await
        .expect("approve");
    let synced = third.sync().await;
    assert!(
        matches!(synced, Err(ClientError::Directory(_))),
        "the new device refuses roots its approving device's key did not sign: {synced:?}"
    );
    assert_eq!(
        pinned(third_home.path()),
        pinned(alice.home.path()),
        "it pinned the approving device's keys"
    );
}
