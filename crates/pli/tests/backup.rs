//! `pli admin backup` and `pli admin restore`: a backup taken with the real CLI while
//! clients send messages to the running server restores into a fresh directory, a server
//! starts on it, and every message accepted before the backup began is there, with no gap
//! and nothing from after it, and the audit log verifies under the same key and goes on.
//! A wrong passphrase or identity, and a directory that is not empty, are refused.
//!
//! SQLite only: a PostgreSQL deployment is backed up with PostgreSQL's tools (README,
//! "Backups"), so on `PLI_TEST_DATABASE=postgres` these tests have nothing to test.

mod common;

use common::{TestServer, TestUser, on_postgres, path_str, run_pli};
use pli_client::admin::AdminClient;
use pli_proto::GroupId;
use pli_proto::governance::{NewStaff, Role, StaffCredential};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::sync::watch;

const PASSPHRASE: &str = "a long enough backup passphrase";

/// Embedded SQLite with two regions, each its own file under the data directory.
fn two_regions(config: &mut pli_server::Config) {
    config.database = pli_server::Database::Sqlite;
    config.regions = ["eu", "us"]
        .iter()
        .map(|name| {
            pli_server::config::RegionConfig::named(
                pli_proto::Region::parse(name).expect("valid region"),
            )
        })
        .collect();
}

async fn start(data: TempDir) -> TestServer {
    TestServer::start_with(data, two_regions).await
}

/// Sends `tag-0`, `tag-1`, … until `stop`, publishing how many were accepted.
async fn send_until(
    user: &mut TestUser,
    chat: &GroupId,
    tag: &str,
    accepted: &watch::Sender<usize>,
    mut stop: watch::Receiver<bool>,
) {
    let mut sent = 0;
    while !*stop.borrow_and_update() {
        user.send(chat, &format!("{tag}-{sent}")).await;
        sent += 1;
        accepted.send_replace(sent);
    }
}

/// How many of `tag`'s messages `receiver` got, after checking they are `tag-0` onwards
/// with no gap (each database is one commit's state).
async fn received_prefix(receiver: &mut TestUser, tag: &str) -> usize {
    let texts: Vec<String> = receiver
        .receive()
        .await
        .into_iter()
        .map(|(_, _, text)| text)
        .collect();
    let expected: Vec<String> = (0..texts.len()).map(|i| format!("{tag}-{i}")).collect();
    assert_eq!(
        texts, expected,
        "the messages of {tag}, in order, with no gap"
    );
    texts.len()
}

fn public_client(server: &TestServer, credential: Option<StaffCredential>) -> AdminClient {
    AdminClient::new(&server.url, credential, None).expect("admin client")
}

async fn add_staff(operator: &AdminClient, name: &str) {
    let _: StaffCredential = operator
        .post(
            "/admin/v1/staff",
            &NewStaff {
                name: name.into(),
                role: Role::Auditor,
            },
        )
        .await
        .expect("staff add");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_message_accepted_before_it() {
    if on_postgres() {
        return;
    }
    let server = start(tempfile::tempdir().expect("temp dir")).await;
    let mut config = pli_server::Config::new(server.data.path());
    two_regions(&mut config);
    let root = pli_server::init_first_operator(&config, "root")
        .await
        .expect("init");
    add_staff(&public_client(&server, Some(root.clone())), "auditor").await;
    let log_before = public_client(&server, None)
        .export_log()
        .await
        .expect("export");
    let key = log_before.key.public_key.clone();
    let size_before = log_before.verify(Some(&key)).expect("verifies").size;

    // Messages land in both regions' files: alice (eu) to bob (us), carol (us) to dave (eu).
    let register = |name: &'static str, region: &'static str| {
        let url = server.url.clone();
        async move { TestUser::register_in_region(&url, name, Some(region)).await }
    };
    let mut alice = register("alice", "eu").await;
    let mut bob = register("bob", "us").await;
    let mut carol = register("carol", "us").await;
    let mut dave = register("dave", "eu").await;
    let to_bob = alice.chat_with(&bob).await;
    let to_dave = carol.chat_with(&dave).await;

    let (alice_count, alice_seen) = watch::channel(0usize);
    let (carol_count, carol_seen) = watch::channel(0usize);
    let (stop, stopped) = watch::channel(false);
    let out = tempfile::tempdir().expect("temp dir");
    let archive = out.path().join("pli.backup");
    let backup = async {
        // The backup starts once both senders are under way, and they go on during it.
        let mut seen = (alice_seen.clone(), carol_seen.clone());
        seen.0.wait_for(|n| *n >= 3).await.expect("alice sends");
        seen.1.wait_for(|n| *n >= 3).await.expect("carol sends");
        let before = (*alice_seen.borrow(), *carol_seen.borrow());
        let printed = run_pli(
            &[
                "admin",
                "backup",
                "--data",
                path_str(server.data.path()),
                "--out",
                path_str(&archive),
            ],
            &[("PLI_BACKUP_PASSPHRASE", PASSPHRASE)],
        )
        .await
        .expect("pli admin backup");
        let after = (*alice_seen.borrow(), *carol_seen.borrow());
        stop.send_replace(true);
        (before, after, printed)
    };
    let (_, _, (before, after, printed)) = tokio::join!(
        send_until(&mut alice, &to_bob, "alice", &alice_count, stopped.clone()),
        send_until(&mut carol, &to_dave, "carol", &carol_count, stopped.clone()),
        backup,
    );
    assert!(
        printed.contains("3 databases and 5 secrets"),
        "global and two regions, every secret: {printed}"
    );
    let sent = (*alice_count.borrow(), *carol_count.borrow());
    assert!(
        sent.0 > after.0 && sent.1 > after.1,
        "the senders went on after the backup: {sent:?} {after:?}"
    );
    drop(server.stop().await);

    let passphrase_file = out.path().join("passphrase");
    std::fs::write(&passphrase_file, format!("{PASSPHRASE}\n")).expect("write");
    let fresh = tempfile::tempdir().expect("temp dir");
    run_pli(
        &[
            "admin",
            "restore",
            path_str(&archive),
            "--data",
            path_str(fresh.path()),
            "--passphrase-file",
            path_str(&passphrase_file),
        ],
        &[],
    )
    .await
    .expect("pli admin restore");
    let restored = start(fresh).await;

    // Every message accepted before the backup began is there; none sent after it ended
    // (one per sender may have been accepted as the backup ended, before its reply came).
    bob.reopen(&restored.url);
    dave.reopen(&restored.url);
    let got = (
        received_prefix(&mut bob, "alice").await,
        received_prefix(&mut dave, "carol").await,
    );
    assert!(
        got.0 >= before.0 && got.1 >= before.1,
        "{got:?} < {before:?}"
    );
    assert!(
        got.0 <= after.0 + 1 && got.1 <= after.1 + 1,
        "{got:?} > {after:?}"
    );

    // The audit log verifies under the key auditors hold, and goes on under it.
    let log = public_client(&restored, None)
        .export_log()
        .await
        .expect("export");
    assert_eq!(
        log.verify(Some(&key)).expect("restored log verifies").size,
        size_before
    );
    add_staff(&public_client(&restored, Some(root)), "auditor2").await;
    let log = public_client(&restored, None)
        .export_log()
        .await
        .expect("export");
    assert_eq!(
        log.verify(Some(&key)).expect("extended log verifies").size,
        size_before + 1
    );
    drop(restored.stop().await);
}

/// A stopped server's data directory with one account, and its backup (in a directory of
/// its own) protected by `how`.
async fn backed_up(how: &[&str], env: &[(&str, &str)]) -> (TempDir, TempDir, PathBuf) {
    let server = start(tempfile::tempdir().expect("temp dir")).await;
    TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    let data = server.stop().await;
    let out = tempfile::tempdir().expect("temp dir");
    let archive = out.path().join("pli.backup");
    let mut args = vec![
        "admin",
        "backup",
        "--data",
        path_str(data.path()),
        "--out",
        path_str(&archive),
    ];
    args.extend_from_slice(how);
    run_pli(&args, env).await.expect("pli admin backup");
    (data, out, archive)
}

async fn restore(
    archive: &Path,
    into: &Path,
    how: &[&str],
    env: &[(&str, &str)],
) -> Result<String, String> {
    let mut args = vec![
        "admin",
        "restore",
        path_str(archive),
        "--data",
        path_str(into),
    ];
    args.extend_from_slice(how);
    run_pli(&args, env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passphrase_or_a_directory_in_use_is_refused() {
    if on_postgres() {
        return;
    }
    let short = run_pli(
        &["admin", "backup", "--data", ".", "--out", "x.backup"],
        &[("PLI_BACKUP_PASSPHRASE", "too short")],
    )
    .await
    .expect_err("a short passphrase is refused");
    assert!(short.contains("too short"), "{short}");

    let env = [("PLI_BACKUP_PASSPHRASE", PASSPHRASE)];
    let (data, _out, archive) = backed_up(&[], &env).await;
    let target = tempfile::tempdir().expect("temp dir");
    let absent = target.path().join("data");
    let wrong_env = [("PLI_BACKUP_PASSPHRASE", "not the passphrase")];
    let wrong = restore(&archive, &absent, &[], &wrong_env)
        .await
        .expect_err("a wrong passphrase is refused");
    assert!(wrong.contains("wrong passphrase"), "{wrong}");
    assert!(!absent.exists(), "a refused restore leaves nothing behind");

    let in_use = restore(&archive, data.path(), &[], &env)
        .await
        .expect_err("a directory with data in it is refused");
    assert!(in_use.contains("is not empty"), "{in_use}");
    let other = tempfile::tempdir().expect("temp dir");
    std::fs::write(other.path().join("notes.txt"), "mine").expect("write");
    let refused = restore(&archive, other.path(), &[], &env)
        .await
        .expect_err("any file in it is enough");
    assert!(refused.contains("is not empty"), "{refused}");
    let left: Vec<_> = common::files_under(other.path());
    assert_eq!(left, [other.path().join("notes.txt")], "nothing added");
    assert_eq!(
        std::fs::read_to_string(other.path().join("notes.txt")).expect("read"),
        "mine"
    );

    restore(&archive, &absent, &[], &env)
        .await
        .expect("the right passphrase restores into an absent directory");
    for file in [
        "pli.db",
        "regions/eu/pli.db",
        "regions/us/pli.db",
        "audit.key",
    ] {
        assert!(absent.join(file).is_file(), "{file} restored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_to_a_recipient_opens_with_its_identity_only() {
    if on_postgres() {
        return;
    }
    use age::secrecy::ExposeSecret as _;
    let keys = tempfile::tempdir().expect("temp dir");
    let identity = age::x25519::Identity::generate();
    let identity_file = keys.path().join("backup.key");
    std::fs::write(&identity_file, identity.to_string().expose_secret()).expect("write");
    let stranger_file = keys.path().join("stranger.key");
    let stranger = age::x25519::Identity::generate();
    std::fs::write(&stranger_file, stranger.to_string().expose_secret()).expect("write");
    let recipient = identity.to_public().to_string();

    let (_data, _out, archive) = backed_up(&["--recipient", &recipient], &[]).await;
    let target = tempfile::tempdir().expect("temp dir");
    let stranger_args = ["--identity", path_str(&stranger_file)];
    let refused = restore(&archive, target.path(), &stranger_args, &[])
        .await
        .expect_err("another identity is refused");
    assert!(refused.contains("wrong identity"), "{refused}");
    let passphrase = restore(
        &archive,
        target.path(),
        &[],
        &[("PLI_BACKUP_PASSPHRASE", PASSPHRASE)],
    )
    .await
    .expect_err("a passphrase does not open it");
    assert!(passphrase.contains("identity file"), "{passphrase}");

    let identity_args = ["--identity", path_str(&identity_file)];
    restore(&archive, target.path(), &identity_args, &[])
        .await
        .expect("its identity opens it");
    let restored = start(target).await;
    let mut bob = TestUser::register_in_region(&restored.url, "bob", Some("us")).await;
    let alice = pli_proto::Username::parse("alice").expect("valid");
    let chat = bob.client.direct_conversation(&alice).await;
    assert!(chat.is_ok(), "alice's account came back: {chat:?}");
    drop(restored.stop().await);
}
