//! Key package lifetimes, end to end: a package valid for longer than pli's maximum is
//! refused by the server on upload and by the client on claim; an expired package is never
//! handed out, and the claim says so; a device replaces its packages before they expire
//! (and after, when it was away), so others can still start a conversation with it.

mod common;

use common::{TestDb, TestServer, TestUser};
use pli_client::ClientError;
use pli_proto::ErrorCode;
use pli_proto::api::UploadKeyPackagesRequest;
use pli_server::clock::ManualClock;

const DAY_SECS: u64 = 86_400;
const DAY_MS: u64 = DAY_SECS * 1000;
const CENTURY_SECS: u64 = 100 * 365 * DAY_SECS;

fn sql_bytes(db: &TestDb, bytes: &[u8]) -> String {
    match db {
        TestDb::Sqlite(_) => format!("X'{}'", hex::encode(bytes)),
        TestDb::Postgres(_) => format!("'\\x{}'::bytea", hex::encode(bytes)),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// Key packages signed with `user`'s own key and naming their device (as the device itself
/// would make them), valid for `lifetime_secs`; their private halves go to a scratch
/// database, since nobody will join with them.
fn packages_of(
    user: &TestUser,
    count: usize,
    lifetime_secs: u64,
) -> pli_client::mls::NewKeyPackages {
    let identity = user.identity();
    let home = pli_client::local::open(user.home.path()).expect("the device's database");
    let signer = pli_client::mls::load_signer(
        &pli_client::mls::Storage::new(&home),
        &identity.signature_public,
    )
    .expect("the device's signer");
    let credential = pli_client::mls::credential(&user.name, identity.device_id, &signer);
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut conn = rusqlite::Connection::open(scratch.path().join("scratch.db")).expect("db");
    pli_client::mls::migrate(&mut conn).expect("migrate");
    let crypto = openmls_rust_crypto::RustCrypto::default();
    pli_client::mls::key_packages_valid_for(
        &pli_client::mls::Provider::new(&crypto, &conn),
        &signer,
        &credential,
        count,
        true,
        lifetime_secs,
    )
    .expect("packages")
}

/// Deletes every key package the server holds for the user's device.
async fn drop_packages(server: &TestServer, user: &TestUser) {
    let device = user.client.device_id().get();
    server
        .db()
        .execute(&format!(
            "DELETE FROM key_packages WHERE device_id = {device}"
        ))
        .await;
}

async fn stored_packages(server: &TestServer, user: &TestUser) -> i64 {
    let device = user.client.device_id().get();
    server
        .db()
        .integers(&format!(
            "SELECT COUNT(*) FROM key_packages WHERE device_id = {device}"
        ))
        .await[0]
}

/// The code a refused request carried.
fn code(result: Result<impl std::fmt::Debug, ClientError>) -> Option<ErrorCode> {
    result.expect_err("refused").code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_a_key_package_valid_for_a_century() {
    let server = TestServer::start().await;
    let alice = TestUser::register(&server, "alice").await;
    let before = stored_packages(&server, &alice).await;
    let century = packages_of(&alice, 1, CENTURY_SECS);
    let transport = alice.transport(&server);
    let refused = transport
        .upload_key_packages(&UploadKeyPackagesRequest {
            key_packages: century.one_time.iter().cloned().map(Into::into).collect(),
            last_resort: None,
            replace_expiring: false,
        })
        .await;
    assert_eq!(code(refused), Some(ErrorCode::KeyPackageLifetimeTooLong));
    let refused = transport
        .upload_key_packages(&UploadKeyPackagesRequest {
            key_packages: vec![],
            last_resort: century.last_resort.map(Into::into),
            replace_expiring: false,
        })
        .await;
    assert_eq!(code(refused), Some(ErrorCode::KeyPackageLifetimeTooLong));
    assert_eq!(
        stored_packages(&server, &alice).await,
        before,
        "nothing stored"
    );
    // pli's own lifetime is within the limit.
    let ordinary = packages_of(&alice, 1, pli_proto::limits::KEY_PACKAGE_LIFETIME_SECS);
    transport
        .upload_key_packages(&UploadKeyPackagesRequest {
            key_packages: ordinary.one_time.into_iter().map(Into::into).collect(),
            last_resort: None,
            replace_expiring: false,
        })
        .await
        .expect("an 84-day package is accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_refuses_a_claimed_key_package_valid_for_a_century() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    // The operator stores packages for Bob, signed with Bob's key, valid for 100 years
    // (say, made by an old client, or kept from before the limit).
    let century = packages_of(&bob, 1, CENTURY_SECS);
    drop_packages(&server, &bob).await;
    let db = server.db();
    let device = bob.client.device_id().get();
    for (data, last_resort) in [
        (&century.one_time[0], false),
        (century.last_resort.as_ref().expect("last resort"), true),
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
        matches!(&refused, Err(ClientError::Protocol(why)) if why.contains("lifetime is longer")),
        "refused for its lifetime: {refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_hands_out_no_expired_key_package_and_says_so() {
    let clock = ManualClock::new(now_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    // 85 days on, every package Alice uploaded at registration (84 days) has expired, and
    // she has not been online since.
    clock.advance(85 * DAY_MS);
    assert_eq!(
        code(bob.client.direct_conversation(&alice.name).await),
        Some(ErrorCode::KeyPackageExpired)
    );
    assert!(
        stored_packages(&server, &alice).await > 0,
        "they are there, but not handed out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_back_after_its_packages_expired_writes_and_replaces_them_at_its_next_sync() {
    let clock = ManualClock::new(now_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let carol = TestUser::register(&server, "carol").await;
    // Alice's packages last a minute (as 84 days do for a device away for three months),
    // and the server's clock moves on two.
    drop_packages(&server, &alice).await;
    alice
        .client
        .top_up_key_packages_valid_for(60)
        .await
        .expect("short-lived packages");
    clock.advance(120_000);
    assert_eq!(
        code(bob.client.direct_conversation(&alice.name).await),
        Some(ErrorCode::KeyPackageExpired),
        "the server hands out none of them"
    );
    // Her own expired packages do not stop her from writing before her next top-up (a
    // claim for her own user leaves out the device that claims).
    let to_carol = alice
        .client
        .direct_conversation(&carol.name)
        .await
        .expect("her own packages are not needed");
    alice.send(&to_carol, "back").await;

    // Alice comes back online: her sync replaces them, and Bob can write to her.
    alice.client.sync().await.expect("sync");
    let chat = bob
        .client
        .direct_conversation(&alice.name)
        .await
        .expect("a fresh package");
    bob.send(&chat, "welcome back").await;
    let texts: Vec<_> = alice.receive().await.into_iter().map(|m| m.2).collect();
    assert_eq!(texts, vec!["welcome back".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_are_replaced_before_they_expire_so_others_can_still_write() {
    let clock = ManualClock::new(now_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    // Alice's packages last 20 days.
    drop_packages(&server, &alice).await;
    alice
        .client
        .top_up_key_packages_valid_for(20 * DAY_SECS)
        .await
        .expect("20-day packages");
    let transport = alice.transport(&server);
    let status = transport.self_device().await.expect("status");
    assert_eq!(status.key_packages_expiring, 0);

    // A week on, they expire within the renewal window (14 days): the server says so, and
    // Alice's next sync replaces them, last-resort package included.
    clock.advance(7 * DAY_MS);
    let status = transport.self_device().await.expect("status");
    assert_eq!(
        (status.key_packages_expiring, status.last_resort_expiring),
        (status.key_packages_available, true)
    );
    alice.client.sync().await.expect("sync");
    let status = transport.self_device().await.expect("status");
    assert_eq!(
        (status.key_packages_expiring, status.last_resort_expiring),
        (0, false),
        "replaced"
    );
    assert_eq!(
        status.key_packages_available,
        pli_client::client::KEY_PACKAGE_TARGET
    );

    // Three weeks on, the first packages have expired, but Bob gets a fresh one.
    clock.advance(14 * DAY_MS);
    let chat = bob
        .client
        .direct_conversation(&alice.name)
        .await
        .expect("a package that has not expired");
    bob.send(&chat, "still there?").await;
    let texts: Vec<_> = alice.receive().await.into_iter().map(|m| m.2).collect();
    assert_eq!(texts, vec!["still there?".to_owned()]);
}
