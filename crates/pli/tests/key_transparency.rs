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
use pli_client::ClientError;
use pli_client::kt::audit::audit_directory;
use pli_proto::Username;
use pli_proto::checkpoint::Checkpoint;
use pli_proto::kt::{self, KtConfig};
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
enum TreeCorruption {
    /// A new version of the user's entry, the old version never marked stale.
    UnmarkedStaleVersion,
    /// The user's version `n` marked stale now, an epoch after its successor appeared.
    MarkStaleLate(u64),
}

/// What an operator with the store and the directory's keys does to a user's entry.
enum Corruption {
    Tree(TreeCorruption),
    /// The live account published with no devices (as if deleted) and its earlier keys
    /// forgotten, so that the server's publisher lists its devices next as a new account.
    EndAccount,
    /// Every version's keys forgotten, the newest too.
    ForgetAll,
}

/// Publishes one corrupt epoch straight into the server's store (while it is stopped), as
/// an operator bypassing the server's publisher would, and signs its root.
async fn publish_corrupt<S: Store>(store: S, user: &Username, corruption: Corruption) {
    let vrf = StolenVrf(store.server_secret(VRF_KEY_FILE).await.expect("vrf key"));
    let signer = ed25519_dalek::SigningKey::from_bytes(
        &store.server_secret(SIGNING_KEY_FILE).await.expect("key"),
    );
    let db = StorageManager::new_no_cache(KtDatabase::new(store.clone()));
    let label = kt::label(user);
    let corruption = match corruption {
        Corruption::EndAccount => {
            let directory = akd::directory::Directory::<KtConfig, _, _>::new(
                StorageManager::new_no_cache(KtDatabase::new(store.clone())),
                vrf,
                AzksParallelismConfig::default(),
            )
            .await
            .expect("directory");
            let ended = directory
                .publish(vec![(label.clone(), AkdValue(kt::encode_devices(&[])))])
                .await
                .expect("publish");
            db.tombstone_value_states(&label, ended.0 - 1)
                .await
                .expect("forget");
            return sign_root(&store, &signer, ended.0, ended.1).await;
        }
        Corruption::ForgetAll => {
            db.tombstone_value_states(&label, u64::MAX)
                .await
                .expect("forget");
            return;
        }
        Corruption::Tree(tree) => tree,
    };
    let DbRecord::Azks(mut azks) = db.get::<Azks>(&DEFAULT_AZKS_KEY).await.expect("azks") else {
        panic!("not an azks record");
    };
    let latest = db
        .get_user_state(&label, ValueStateRetrievalFlag::MaxEpoch)
        .await
        .expect("the user is in the directory");
    let epoch = azks.latest_epoch + 1;
    let mut records = Vec::new();
    let element = match corruption {
        TreeCorruption::UnmarkedStaleVersion => {
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
        TreeCorruption::MarkStaleLate(version) => AzksElement {
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
    sign_root(&store, &signer, epoch, root).await;
}

/// Signs and records the root of `epoch` as the server's publisher would.
async fn sign_root<S: Store>(
    store: &S,
    signer: &ed25519_dalek::SigningKey,
    epoch: u64,
    root: [u8; 32],
) {
    let origin = kt::origin("pli.local/audit");
    let note = Checkpoint {
        origin: origin.clone(),
        size: epoch,
        root,
    }
    .sign(&origin, signer);
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
    let mut bob = TestUser::register(&server, "bob").await;
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
    let mut bob = TestUser::register(&server, "bob").await;
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
    with_store(
        data.path(),
        &alice.name,
        Corruption::Tree(TreeCorruption::UnmarkedStaleVersion),
    )
    .await;
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
    with_store(
        data.path(),
        &alice.name,
        Corruption::Tree(TreeCorruption::MarkStaleLate(1)),
    )
    .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_account_shown_as_deleted_and_created_again_is_reported() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    alice.client.sync().await.expect("sync");
    assert!(alerts(&alice.client.take_new().expect("events")).is_empty());
    let data = server.stop().await;

    // The operator makes Alice's name look deleted and taken again by her own device key:
    // her old versions forgotten, then her device listed anew as a new account's first.
    with_store(data.path(), &alice.name, Corruption::EndAccount).await;
    let server = TestServer::start_on(data).await;
    server
        .db()
        .execute("INSERT INTO kt_changes (username) VALUES ('alice')")
        .await;
    alice.reopen(&server.url);
    let own = alice
        .client
        .audit_own_keys()
        .await
        .expect("the history verifies");
    assert!(own.unexplained.is_empty(), "every device looks explained");
    assert_eq!(own.ended.len(), 1, "but her account never ended: {own:?}");
    assert_eq!(own.forgotten, 1);
    let raised = alerts(&alice.client.take_new().expect("events"));
    assert!(
        raised
            .iter()
            .any(|a| a.contains("deleted and created again")),
        "{raised:?}"
    );
    let data = server.stop().await;

    // Forgetting the keys of a version no ended account explains: the history fails.
    with_store(data.path(), &alice.name, Corruption::ForgetAll).await;
    let server = TestServer::start_on(data).await;
    alice.reopen(&server.url);
    let caught = alice.client.audit_own_keys().await;
    assert!(
        matches!(&caught, Err(ClientError::Directory(why)) if why.contains("has not ended")),
        "{caught:?}"
    );
}
