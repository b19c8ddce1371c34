//! Key transparency against a deliberately misbehaving server: an operator with the
//! database and the directory's keys. Each test makes the server lie one way and checks
//! that a client (or an outside auditor) catches it, and that honest history passes.

mod common;

use akd::append_only_zks::{DEFAULT_AZKS_KEY, InsertMode};
use akd::ecvrf::{VRFKeyStorage, VrfError};
use akd::storage::StorageManager;
use akd::storage::types::{DbRecord, ValueState, ValueStateRetrievalFlag};
use akd::{AkdValue, Azks, AzksElement, AzksParallelismConfig, VersionFreshness};
use akd_core::Configuration;
use common::{TestDb, TestServer, TestUser, alerts, on_postgres, test_config};
use pli_client::kt::audit::audit_directory;
use pli_client::{Client, ClientError, ConnectOptions};
use pli_proto::Username;
use pli_proto::checkpoint::Checkpoint;
use pli_proto::kt::{self, DirectoryDevice, KtConfig};
use pli_server::directory::storage::KtDatabase;
use pli_server::directory::{SIGNING_KEY_FILE, VRF_KEY_FILE};
use pli_server::store::{KtRoot, Store};

fn sql_bytes(db: &TestDb, bytes: &[u8]) -> String {
    match db {
        TestDb::Sqlite(_) => format!("X'{}'", hex::encode(bytes)),
        TestDb::Postgres(_) => format!("'\\x{}'::bytea", hex::encode(bytes)),
    }
}

/// The VRF key as a malicious operator reads it from the server's secrets.
#[derive(Clone)]
struct StolenVrf([u8; 32]);

#[async_trait::async_trait]
impl VRFKeyStorage for StolenVrf {
    async fn retrieve(&self) -> Result<Vec<u8>, VrfError> {
        Ok(self.0.to_vec())
    }
}

/// akd's malicious-publish corruptions, written with akd's own tree code.
enum Corruption {
    /// A new version of the user's entry, the old version never marked stale.
    UnmarkedStaleVersion,
    /// The user's version `n` marked stale now, an epoch after its successor appeared.
    MarkStaleLate(u64),
}

/// Publishes one corrupt epoch straight into the server's store (while it is stopped), as
/// an operator bypassing the server's publisher would, and signs its root.
async fn publish_corrupt<S: Store>(store: S, user: &Username, corruption: Corruption) {
    let vrf = StolenVrf(store.server_secret(VRF_KEY_FILE).await.expect("vrf key"));
    let signer = ed25519_dalek::SigningKey::from_bytes(
        &store.server_secret(SIGNING_KEY_FILE).await.expect("key"),
    );
    let db = StorageManager::new_no_cache(KtDatabase::new(store.clone()));
    let DbRecord::Azks(mut azks) = db.get::<Azks>(&DEFAULT_AZKS_KEY).await.expect("azks") else {
        panic!("not an azks record");
    };
    let label = kt::label(user);
    let latest = db
        .get_user_state(&label, ValueStateRetrievalFlag::MaxEpoch)
        .await
        .expect("the user is in the directory");
    let epoch = azks.latest_epoch + 1;
    let mut records = Vec::new();
    let element = match corruption {
        Corruption::UnmarkedStaleVersion => {
            let version = latest.version + 1;
            let value = AkdValue(kt::encode_devices(&[]));
            let node_label = vrf
                .get_node_label::<KtConfig>(&label, VersionFreshness::Fresh, version)
                .await
                .expect("vrf");
            let commitment_key = KtConfig::hash(&vrf.0);
            records.push(DbRecord::ValueState(ValueState {
                value: value.clone(),
                version,
                label: node_label,
                epoch,
                username: label.clone(),
            }));
            AzksElement {
                label: node_label,
                value: KtConfig::compute_fresh_azks_value(
                    &commitment_key,
                    &node_label,
                    version,
                    &value,
                ),
            }
        }
        Corruption::MarkStaleLate(version) => AzksElement {
            label: vrf
                .get_node_label::<KtConfig>(&label, VersionFreshness::Stale, version)
                .await
                .expect("vrf"),
            value: KtConfig::stale_azks_value(),
        },
    };
    assert!(db.begin_transaction());
    azks.batch_insert_nodes::<KtConfig, _>(
        &db,
        vec![element],
        InsertMode::Directory,
        AzksParallelismConfig::default(),
    )
    .await
    .expect("insert");
    records.insert(0, DbRecord::Azks(azks.clone()));
    db.batch_set(records).await.expect("records");
    db.commit_transaction().await.expect("commit");
    let root = azks.get_root_hash::<KtConfig, _>(&db).await.expect("root");
    let origin = kt::origin("pli.local/audit");
    let note = Checkpoint {
        origin: origin.clone(),
        size: epoch,
        root,
    }
    .sign(&origin, &signer);
    store
        .kt_published(0, KtRoot { epoch, root, note })
        .await
        .expect("root");
}

async fn with_store(data: &std::path::Path, user: &Username, corruption: Corruption) {
    let config = test_config(data);
    match &config.database {
        pli_server::Database::Sqlite => {
            let store = pli_server::open_sqlite_regions(&config).expect("open");
            publish_corrupt(store, user, corruption).await;
        }
        pli_server::Database::Postgres(postgres) => {
            let store = pli_server::open_postgres_regions(&config, postgres)
                .await
                .expect("connect");
            publish_corrupt(store, user, corruption).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_package_whose_key_is_not_in_the_directory_is_refused() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let carol = TestUser::register(&server, "carol").await;

    // The operator swaps Bob's key packages for ones made with a key it holds: a valid
    // package, signed, naming Bob's device — but not Bob's key.
    let home = tempfile::tempdir().expect("temp dir");
    let mut conn = rusqlite::Connection::open(home.path().join("forger.db")).expect("db");
    pli_client::mls::migrate(&mut conn).expect("migrate");
    let crypto = openmls_rust_crypto::RustCrypto::default();
    let signer = pli_client::mls::new_signer().expect("signer");
    let credential = pli_client::mls::credential(&bob.name, bob.client.device_id(), &signer);
    let forged = pli_client::mls::key_packages(
        &pli_client::mls::Provider::new(&crypto, &conn),
        &signer,
        &credential,
        1,
        true,
    )
    .expect("forged packages");
    let db = server.db();
    let device = bob.client.device_id().get();
    db.execute(&format!(
        "DELETE FROM key_packages WHERE device_id = {device}"
    ))
    .await;
    for (data, last_resort) in [
        (&forged.one_time[0], false),
        (forged.last_resort.as_ref().expect("last resort"), true),
    ] {
        db.execute(&format!(
            "INSERT INTO key_packages (device_id, data, last_resort) VALUES ({device}, {}, {})",
            sql_bytes(&db, data),
            if last_resort { "TRUE" } else { "FALSE" }
        ))
        .await;
    }

    let refused = alice.client.direct_conversation(&bob.name).await;
    assert!(
        matches!(&refused, Err(ClientError::NotInDirectory(user)) if user == "bob"),
        "the forged key is refused: {refused:?}"
    );
    assert!(bob.receive().await.is_empty(), "nothing reached Bob");
    // Keys the directory lists are used as before.
    let chat = alice
        .client
        .direct_conversation(&carol.name)
        .await
        .expect("carol's keys verify");
    alice.send(&chat, "hello carol").await;
    let _ = alice.receive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_key_none_of_the_users_devices_added_is_reported_at_the_next_sync() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    alice.client.sync().await.expect("sync");
    assert_eq!(
        alerts(&alice.client.take_new().expect("events")),
        Vec::<String>::new(),
        "honest history raises nothing"
    );

    // The operator adds a device of its own to Alice's account; the publisher, doing its
    // job, publishes it.
    let db = server.db();
    let ghost_key = ed25519_dalek::SigningKey::from_bytes(&[42; 32])
        .verifying_key()
        .to_bytes();
    db.execute(&format!(
        "INSERT INTO devices (device_id, username, secret_hash, signature_key)
         VALUES (4242, 'alice', {}, {})",
        sql_bytes(&db, &[0; 32]),
        sql_bytes(&db, &ghost_key)
    ))
    .await;
    db.execute("INSERT INTO kt_changes (username) VALUES ('alice')")
        .await;

    alice.client.sync().await.expect("sync");
    let raised = alerts(&alice.client.take_new().expect("events"));
    assert_eq!(raised.len(), 1, "one alert: {raised:?}");
    assert!(
        raised[0].contains("none of your devices added"),
        "{raised:?}"
    );
    assert!(raised[0].contains("4242"), "{raised:?}");
    // Told once, not at every sync.
    alice.client.sync().await.expect("sync");
    assert!(alerts(&alice.client.take_new().expect("events")).is_empty());
    // Her own audit still lists it, as long as the history holds it.
    let own = alice.client.audit_own_keys().await.expect("audit");
    assert_eq!(
        own.unexplained,
        vec![pli_proto::DeviceId::new(4242).expect("id")]
    );
    assert_eq!(own.devices, 2);
    // Bob, looking Alice up, sees the ghost too: his safety code with Alice changes.
    let bob = TestUser::register(&server, "bob").await;
    let verified = bob.client.verify_user(&alice.name).await.expect("verify");
    assert_eq!(verified.peer_devices.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_shown_different_roots_for_one_epoch_detect_it() {
    if on_postgres() {
        // The fork is made by copying the SQLite files; the detection is the client's and
        // does not depend on the backend.
        return;
    }
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("chat");
    alice.send(&chat, "before the fork").await;
    assert_eq!(bob.receive().await.len(), 1);
    let data = server.stop().await;

    // The operator keeps a copy of the data, then runs two directories from one past.
    let fork = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(data.path()).expect("data") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), fork.path().join(entry.file_name())).expect("copy");
        }
    }
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    let _carol = TestUser::register(&server, "carol").await;
    let carol_name = Username::parse("carol").expect("name");
    let seen = alice
        .client
        .directory_devices(&carol_name)
        .await
        .expect("alice sees carol");
    let data = server.stop().await;

    let forked = TestServer::start_on(fork).await;
    bob.reopen(&forked.url);
    let _dave = TestUser::register(&forked, "dave").await;
    let dave_name = Username::parse("dave").expect("name");
    let other = bob
        .client
        .directory_devices(&dave_name)
        .await
        .expect("bob sees dave");
    assert_eq!(seen.epoch, other.epoch, "one epoch, two directories");

    // Alice's message carries the root she verified; Bob knows another for that epoch.
    alice.reopen(&forked.url);
    alice.send(&chat, "after the fork").await;
    bob.client.sync().await.expect("sync");
    let raised = alerts(&bob.client.take_new().expect("events"));
    assert!(
        raised
            .iter()
            .any(|a| a.contains("different key directories")),
        "bob detects the split view: {raised:?}"
    );
    // Alice, shown the fork's root for an epoch she knows, refuses it.
    let alice_sync = alice.client.sync().await;
    assert!(
        matches!(alice_sync, Err(ClientError::SplitView(epoch)) if epoch == seen.epoch),
        "{alice_sync:?}"
    );
    drop(forked.stop().await);
    drop(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_publications_fail_verification_and_honest_history_passes() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    bob.client
        .directory_devices(&alice.name)
        .await
        .expect("lookup");
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    let honest = audit_directory(&transport, None, None, None)
        .await
        .expect("honest history passes the audit");
    assert!(honest.to >= 1, "epochs were published: {honest:?}");
    let own = alice.client.audit_own_keys().await.expect("honest keys");
    assert_eq!((own.versions, own.devices), (1, 1));
    assert!(own.unexplained.is_empty());
    let data = server.stop().await;

    // akd's first malicious case: a new version, the old one never marked stale.
    with_store(data.path(), &alice.name, Corruption::UnmarkedStaleVersion).await;
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    let caught = alice.client.monitor_own_keys().await;
    assert!(
        matches!(caught, Err(ClientError::Directory(_))),
        "the unmarked version is caught: {caught:?}"
    );
    let raised = alerts(&alice.client.take_new().expect("events"));
    assert!(
        raised.iter().any(|a| a.contains("does not verify")),
        "and Alice is told: {raised:?}"
    );
    // The tree itself only grew, so the append-only audit holds: the history proof is what
    // exposes a version swapped without its trail.
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    audit_directory(&transport, None, None, None)
        .await
        .expect("still append-only");
    let data = server.stop().await;

    // akd's second case: the old version marked stale one epoch late.
    with_store(data.path(), &alice.name, Corruption::MarkStaleLate(1)).await;
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    let caught = alice.client.audit_own_keys().await;
    assert!(
        matches!(caught, Err(ClientError::Directory(_))),
        "the late mark is caught: {caught:?}"
    );

    // A root the tree does not produce, signed with the directory's key, fails the audit.
    let db = server.db();
    let latest = db
        .integers("SELECT MAX(epoch) FROM kt_roots")
        .await
        .pop()
        .expect("epoch") as u64;
    let key = match &db {
        TestDb::Sqlite(_) => std::fs::read(server.data.path().join(SIGNING_KEY_FILE)).expect("key"),
        TestDb::Postgres(_) => db
            .bytes(&format!(
                "SELECT secret FROM server_keys WHERE name = '{SIGNING_KEY_FILE}'"
            ))
            .await
            .pop()
            .expect("key"),
    };
    let signer = ed25519_dalek::SigningKey::from_bytes(&key.try_into().expect("32 bytes"));
    let origin = kt::origin("pli.local/audit");
    let forged = Checkpoint {
        origin: origin.clone(),
        size: latest,
        root: [0xAB; 32],
    }
    .sign(&origin, &signer);
    db.execute(&format!(
        "UPDATE kt_roots SET note = '{}' WHERE epoch = {latest}",
        forged.replace('\'', "''")
    ))
    .await;
    let transport = pli_client::transport::Transport::new(&server.url, None).expect("transport");
    let audit = audit_directory(&transport, None, None, None).await;
    assert!(
        matches!(&audit, Err(ClientError::Directory(why)) if why.contains("does not extend")),
        "the forged root fails the audit: {audit:?}"
    );
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_and_removed_devices_are_published_and_raise_no_alarm() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;

    // A second device for Alice: it shows a code, her first device approves it.
    let home = tempfile::tempdir().expect("temp dir");
    let (mut second, code) = Client::prepare_link(
        home.path(),
        &server.url,
        &alice.name,
        &ConnectOptions::default(),
    )
    .await
    .expect("prepare");
    let added = alice.client.approve_link(&code).await.expect("approve");
    assert_eq!(added, second.device_id());
    second.sync().await.expect("the new device works");
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
        alice.client.approve_link(&bobs_code).await,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_key_the_directory_does_not_list_makes_the_conversation_untrusted() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let carol = TestUser::register(&server, "carol").await;
    let group = alice
        .client
        .create_group("plans", std::slice::from_ref(&carol.name))
        .await
        .expect("group");

    // The directory now lists another key for Carol's device than the one in the group.
    let db = server.db();
    let other = ed25519_dalek::SigningKey::from_bytes(&[77; 32])
        .verifying_key()
        .to_bytes();
    db.execute(&format!(
        "UPDATE devices SET signature_key = {} WHERE username = 'carol'",
        sql_bytes(&db, &other)
    ))
    .await;
    db.execute("INSERT INTO kt_changes (username) VALUES ('carol')")
        .await;

    // Bob joins: the Welcome shows Carol with a key the directory does not list.
    alice
        .client
        .add_member(&group, &bob.name)
        .await
        .expect("add bob");
    bob.client.sync().await.expect("sync");
    let raised = alerts(&bob.client.take_new().expect("events"));
    assert!(
        raised
            .iter()
            .any(|a| a.contains("@carol") && a.contains("does not list")),
        "{raised:?}"
    );
    let refused = bob.client.send_text(&group, "is this safe?").await;
    assert!(
        matches!(refused, Err(ClientError::UntrustedMember)),
        "{refused:?}"
    );
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
