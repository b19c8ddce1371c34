//! Attachments end to end: a file sent with `pli send --attach` reaches its recipient,
//! listed by `pli sync` and written by `pli attachment save` exactly as sent; the server
//! only ever holds ciphertext (a canary inside the file is found nowhere in its storage),
//! refuses it to a device that is not a recipient, and lets it go once every recipient
//! fetched it, or when its lifetime ends on a moved clock. A blob the server altered, or a
//! message whose key does not open the blob, is refused. An upload the network cuts
//! resumes where the server has it. The same holds with the blobs in an S3-compatible
//! store (moto, in server mode).

mod common;

use common::forger::{Forger, submit};
use common::harness_net::{CuttingProxy, S3Server};
use common::{TestServer, TestUser, alice_and_bob, code, contains, files_under, path_str, run_pli};
use pli_client::{ClientError, SendStatus};
use pli_proto::ErrorCode;
use pli_proto::attachment::{AttachmentId, AttachmentRef, CHUNK_BYTES, cipher_len};
use pli_proto::payload::Body;
use pli_server::clock::{Clock as _, ManualClock, SystemClock};
use rand::{RngCore, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CANARY: &[u8] = b"quetzal-canary-5521 in the attachment";

/// A file of `len` bytes of noise with the canary at its start, middle and end.
fn canary_file(dir: &Path, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(len as u64);
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    for offset in [0, len / 2, len - CANARY.len()] {
        bytes[offset..offset + CANARY.len()].copy_from_slice(CANARY);
    }
    let path = dir.join(name);
    std::fs::write(&path, &bytes).expect("write the file");
    (path, bytes)
}

/// The blob files of the server's default store.
fn blob_files(server: &TestServer) -> Vec<PathBuf> {
    let dir = server.data.path().join("blobs");
    match dir.exists() {
        true => files_under(&dir),
        false => Vec::new(),
    }
}

/// The first attachment among the device's new events.
fn first_attachment(user: &mut TestUser) -> Option<Box<pli_client::attachments::Attachment>> {
    user.client
        .take_new()
        .expect("events")
        .into_iter()
        .find_map(|e| match e {
            pli_client::Event::Message { attachment, .. } => attachment,
            _ => None,
        })
}

/// Syncs, takes the first attachment that came, saves it under `dir` as `name`; its bytes.
async fn receive_and_save(user: &mut TestUser, dir: &Path, name: &str) -> Vec<u8> {
    user.client.sync().await.expect("sync");
    let shared = first_attachment(user).expect("an attachment came");
    let out = dir.join(name);
    user.client
        .save_attachment(&shared, &out)
        .await
        .expect("save");
    std::fs::read(&out).expect("saved")
}

/// The attachment ids a device holds, in the order its messages arrived.
fn attachment_ids(user: &TestUser) -> Vec<AttachmentId> {
    let conn = pli_client::local::open(user.home.path()).expect("db");
    let mut st = conn
        .prepare("SELECT attachment_id FROM attachments ORDER BY local_id")
        .expect("prepare");
    st.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .map(|id| AttachmentId(id.expect("row").try_into().expect("16 bytes")))
        .collect()
}

async fn server_attachments(server: &TestServer) -> i64 {
    server
        .db()
        .integers("SELECT COUNT(*) FROM attachments")
        .await[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_reaches_its_recipient_verified_and_the_server_never_holds_it_in_clear() {
    let server = TestServer::start().await;
    let (alice, bob, _) = alice_and_bob(&server).await;
    let carol = TestUser::register(&server, "carol").await;
    let files = tempfile::tempdir().expect("dir");
    let (path, original) = canary_file(files.path(), "holiday.bin", 2 * CHUNK_BYTES + 500_000);
    let (alice_home, bob_home) = (path_str(alice.home.path()), path_str(bob.home.path()));

    let sent = run_pli(
        &[
            "--home",
            alice_home,
            "send",
            "@bob",
            "--attach",
            path_str(&path),
            "the beach",
        ],
        &[],
    )
    .await
    .expect("pli send --attach");
    assert!(sent.starts_with("sent to"), "{sent}");

    // bob's sync lists it with its short id, name, size and caption.
    let listed = run_pli(&["--home", bob_home, "sync"], &[])
        .await
        .expect("pli sync");
    let line = listed
        .lines()
        .find(|l| l.contains("[attachment "))
        .unwrap_or_else(|| panic!("no attachment listed: {listed}"));
    assert!(line.contains(": holiday.bin, 2.5 MiB] the beach"), "{line}");
    let short = line
        .split("[attachment ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .expect("an id")
        .to_owned();
    let id = attachment_ids(&bob)[0];
    assert!(id.to_hex().starts_with(&short));

    // The inventory counts it, for its uploader and its recipient, by size alone.
    let whole = cipher_len(original.len() as u64);
    for user in [&alice, &bob] {
        let inventory = user
            .transport(&server)
            .my_inventory()
            .await
            .expect("inventory");
        assert_eq!(
            (inventory.attachments, inventory.attachment_bytes),
            (1, whole)
        );
    }
    let carols = carol
        .transport(&server)
        .my_inventory()
        .await
        .expect("inventory");
    assert_eq!(carols.attachments, 0);

    // The server holds ciphertext only, and refuses it to carol.
    assert!(!blob_files(&server).is_empty(), "the blob is stored");
    assert!(
        !contains(&server.stored_bytes(), CANARY),
        "the file's text reached the server's storage"
    );
    let carols = carol.transport(&server);
    assert!(matches!(
        carols.attachment_chunk(&id, 0).await,
        Err(ClientError::Api {
            code: ErrorCode::UnknownAttachment,
            ..
        })
    ));
    assert!(matches!(
        carols.attachment_status(&id).await,
        Err(ClientError::Api {
            code: ErrorCode::UnknownAttachment,
            ..
        })
    ));

    let out = files.path().join("saved.bin");
    let saved = run_pli(
        &[
            "--home",
            bob_home,
            "attachment",
            "save",
            &short,
            path_str(&out),
        ],
        &[],
    )
    .await
    .expect("pli attachment save");
    assert!(
        saved.starts_with("saved holiday.bin (2.5 MiB) to"),
        "{saved}"
    );
    assert_eq!(std::fs::read(&out).expect("saved"), original);

    // Its one recipient fetched it: gone from the server, rows and bytes.
    assert_eq!(server_attachments(&server).await, 0);
    let inventory = alice
        .transport(&server)
        .my_inventory()
        .await
        .expect("inventory");
    assert_eq!(inventory.attachments, 0);
    assert_eq!(blob_files(&server), Vec::<PathBuf>::new());
    // Each device keeps its own copy, as ciphertext: saved again with no server blob.
    let again = files.path().join("again.bin");
    run_pli(
        &[
            "--home",
            bob_home,
            "attachment",
            "save",
            &short,
            path_str(&again),
        ],
        &[],
    )
    .await
    .expect("saved again");
    assert_eq!(std::fs::read(&again).expect("saved"), original);
    let history = run_pli(&["--home", alice_home, "history", "@bob"], &[])
        .await
        .expect("pli history");
    assert!(
        history.contains(&format!(
            "[attachment {short}: holiday.bin, 2.5 MiB] the beach"
        )),
        "{history}"
    );
    let mine = files.path().join("mine.bin");
    run_pli(
        &[
            "--home",
            alice_home,
            "attachment",
            "save",
            &short,
            path_str(&mine),
        ],
        &[],
    )
    .await
    .expect("the sender's own copy");
    assert_eq!(std::fs::read(&mine).expect("saved"), original);
    for user in [&alice, &bob] {
        let home: Vec<u8> = files_under(user.home.path())
            .into_iter()
            .flat_map(|f| std::fs::read(f).unwrap_or_default())
            .collect();
        assert!(!contains(&home, CANARY), "kept encrypted at rest");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_blob_and_a_key_that_does_not_open_it_are_refused() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, chat) = alice_and_bob(&server).await;
    let files = tempfile::tempdir().expect("dir");
    let (first, _) = canary_file(files.path(), "one.bin", 300_000);
    let (second, original) = canary_file(files.path(), "two.bin", 200_000);
    for path in [&first, &second] {
        let sent = alice
            .client
            .send_attachment(&chat, path, "")
            .await
            .expect("send");
        assert_eq!(sent.status, SendStatus::Sent);
    }
    bob.client.sync().await.expect("sync");
    let events = bob.client.take_new().expect("events");
    let shared: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            pli_client::Event::Message { attachment, .. } => attachment.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(shared.len(), 2);

    // The server flips one byte of the first blob: bob's device refuses it whole.
    let blob = server
        .data
        .path()
        .join("blobs/attachments")
        .join(shared[0].id.to_hex())
        .join("0");
    let mut bytes = std::fs::read(&blob).expect("the stored chunk");
    bytes[100] ^= 0x01;
    std::fs::write(&blob, &bytes).expect("tamper");
    let out = files.path().join("one.out");
    let refused = bob.client.save_attachment(&shared[0], &out).await;
    assert!(
        matches!(refused, Err(ClientError::AttachmentTampered)),
        "{refused:?}"
    );
    assert!(!out.exists(), "nothing written");
    assert!(
        !files_under(bob.home.path())
            .iter()
            .any(|f| f.ends_with(shared[0].id.to_hex())),
        "the altered ciphertext is not kept"
    );

    // A modified client shares the second blob again under another key: the blob's hash
    // matches, its key does not open it, and nothing is shown.
    let mut reference = {
        let conn = pli_client::local::open(alice.home.path()).expect("db");
        conn.query_row(
            "SELECT hex(digest) FROM attachments WHERE attachment_id = ?1",
            [&shared[1].id.0[..]],
            |r| r.get::<_, String>(0),
        )
        .expect("alice's row")
    };
    reference.make_ascii_lowercase();
    let forged = Body::Attachment {
        attachment: AttachmentRef {
            id: shared[1].id,
            key: hex::encode([7u8; 32]),
            digest: reference,
            size: shared[1].size,
            name: "two.bin".into(),
            media_type: "application/octet-stream".into(),
            thumbnail: None,
        },
        text: "same blob, other key".into(),
    };
    let forger = Forger::of(&alice);
    let seq = 4; // after the conversation's name and alice's two attachment messages
    let message = forger.message(&chat, seq, forged);
    let bobs_device = bob.identity().device_id;
    alice
        .transport(&server)
        .submit(&submit(&chat, message, &[bobs_device]))
        .await
        .expect("the server relays it");
    alice.reopen(&server.url);
    bob.client.sync().await.expect("sync");
    let events = bob.client.take_new().expect("events");
    let forged_one = events
        .clone()
        .into_iter()
        .find_map(|e| match e {
            pli_client::Event::Message { attachment, .. } => attachment,
            _ => None,
        })
        .unwrap_or_else(|| panic!("the forged message arrived: {events:?}"));
    let out = files.path().join("forged.out");
    let refused = bob.client.save_attachment(&forged_one, &out).await;
    assert!(
        matches!(refused, Err(ClientError::AttachmentTampered)),
        "{refused:?}"
    );
    assert!(!out.exists());
    // The real message still opens its (verified, downloaded) blob.
    let out = files.path().join("two.out");
    bob.client
        .save_attachment(&shared[1], &out)
        .await
        .expect("the real key opens it");
    assert_eq!(std::fs::read(&out).expect("saved"), original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_the_network_cuts_resumes_where_the_server_has_it() {
    let server = TestServer::start().await;
    let proxy = CuttingProxy::start(&server.url).await;
    let mut alice = TestUser::register_at(&proxy.url, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("chat");
    let files = tempfile::tempdir().expect("dir");
    let len = 3 * CHUNK_BYTES;
    let (path, original) = canary_file(files.path(), "big.bin", len);

    // The network drops halfway through the second chunk.
    proxy.cut_after((CHUNK_BYTES + CHUNK_BYTES / 2) as i64);
    let sent = alice
        .client
        .send_attachment(&chat, &path, "resumed")
        .await
        .expect("kept for later");
    assert_eq!(sent.status, SendStatus::Queued);
    assert!(proxy.is_cut());
    let id = attachment_ids_pending(&alice);
    let status = bob_sees_status(&bob, &server, &id).await;
    assert_eq!(status, Some(1), "a recipient sees how far the upload got");
    let received = server
        .db()
        .integers("SELECT CAST(received AS BIGINT) FROM attachments")
        .await;
    assert_eq!(
        received,
        vec![1],
        "the first chunk arrived, the second did not"
    );

    // Back online, the next sync uploads the rest (not the first chunk again) and sends.
    proxy.heal();
    alice.client.sync().await.expect("sync");
    let resent = proxy.sent();
    let whole = cipher_len(len as u64);
    assert!(
        resent < whole - (CHUNK_BYTES as u64) / 2,
        "{resent} bytes sent to finish a {whole}-byte upload"
    );
    let saved = receive_and_save(&mut bob, files.path(), "big.out").await;
    assert_eq!(saved, original, "the message came once the upload finished");
}

/// The upload alice's device still has to finish.
fn attachment_ids_pending(user: &TestUser) -> AttachmentId {
    let conn = pli_client::local::open(user.home.path()).expect("db");
    let id: Vec<u8> = conn
        .query_row("SELECT attachment_id FROM attachment_uploads", [], |r| {
            r.get(0)
        })
        .expect("one upload pending");
    AttachmentId(id.try_into().expect("16 bytes"))
}

async fn bob_sees_status(bob: &TestUser, server: &TestServer, id: &AttachmentId) -> Option<u32> {
    bob.transport(server)
        .attachment_status(id)
        .await
        .ok()
        .map(|s| s.received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_expires_with_the_queue_lifetime_and_limits_have_codes() {
    let clock = ManualClock::new(SystemClock.now_ms());
    let server = TestServer::start_clocked(clock.clone(), |config| {
        config.limits.max_attachment_bytes = 1_000_000;
        config.limits.attachment_quota_bytes = 1_500_000;
    })
    .await;
    let (mut alice, mut bob, chat) = alice_and_bob(&server).await;
    let files = tempfile::tempdir().expect("dir");
    let (big, _) = canary_file(files.path(), "big.bin", 1_000_001);
    assert_eq!(
        code(alice.client.send_attachment(&chat, &big, "").await),
        ErrorCode::PayloadTooLarge
    );
    let (file, _) = canary_file(files.path(), "kept.bin", 900_000);
    alice
        .client
        .send_attachment(&chat, &file, "")
        .await
        .expect("within the limits");
    assert_eq!(
        code(alice.client.send_attachment(&chat, &file, "").await),
        ErrorCode::QuotaExceeded,
        "two would pass the account's quota"
    );
    bob.client.sync().await.expect("sync");
    let shared = first_attachment(&mut bob).expect("shared");

    // Bob never fetches it; its lifetime (the queue's, 30 days) passes on the server.
    clock.advance(30 * 86_400_000 + 60_000);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server_attachments(&server).await > 0 {
        assert!(Instant::now() < deadline, "the sweep never deleted it");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(blob_files(&server), Vec::<PathBuf>::new());
    let out = files.path().join("late.out");
    assert_eq!(
        code(bob.client.save_attachment(&shared, &out).await),
        ErrorCode::UnknownAttachment
    );
    // The quota is free again.
    alice
        .client
        .send_attachment(&chat, &file, "")
        .await
        .expect("room again");
}

/// A file shared where messages disappear leaves the server by the time its message does,
/// not at the queue's lifetime; a lifetime out of range is refused with its code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_in_a_disappearing_conversation_goes_with_its_timer() {
    let clock = ManualClock::new(SystemClock.now_ms());
    let server = TestServer::start_clocked(clock.clone(), |_| {}).await;
    let (mut alice, mut bob, chat) = alice_and_bob(&server).await;
    bob.client.sync().await.expect("bob joins");
    alice
        .client
        .set_disappearing(&chat, 3_600)
        .await
        .expect("a one-hour timer");
    let files = tempfile::tempdir().expect("dir");
    let (file, _) = canary_file(files.path(), "brief.bin", 50_000);
    alice
        .client
        .send_attachment(&chat, &file, "")
        .await
        .expect("shared");
    assert_eq!(server_attachments(&server).await, 1);
    clock.advance(3_600_000 + 60_000);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server_attachments(&server).await > 0 {
        assert!(
            Instant::now() < deadline,
            "kept past the conversation's timer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = alice
        .transport(&server)
        .create_attachment(&pli_proto::attachment::CreateAttachmentRequest {
            size: 16,
            recipients: vec![bob.identity().device_id],
            expires_in_secs: Some(0),
        })
        .await;
    assert_eq!(code(refused), ErrorCode::BadRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_blobs_in_an_s3_store_the_bucket_holds_only_ciphertext() {
    let s3 = S3Server::start("pli-test-blobs").await;
    let config = s3.config();
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), move |c| {
        c.blobs = Some(config);
    })
    .await;
    let (mut alice, mut bob, chat) = alice_and_bob(&server).await;
    let files = tempfile::tempdir().expect("dir");
    let (path, original) = canary_file(files.path(), "s3.bin", CHUNK_BYTES + 4_000);
    alice
        .client
        .send_attachment(&chat, &path, "via S3")
        .await
        .expect("send");

    let objects = s3.objects().await;
    assert_eq!(
        objects.len(),
        2,
        "two chunks: {:?}",
        objects.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    assert!(
        objects
            .iter()
            .all(|(key, _)| key.starts_with("pli/attachments/"))
    );
    assert!(objects.iter().all(|(_, bytes)| !contains(bytes, CANARY)));
    assert!(blob_files(&server).is_empty(), "nothing on the local disk");

    let saved = receive_and_save(&mut bob, files.path(), "s3.out").await;
    assert_eq!(saved, original, "shared");
    assert_eq!(
        s3.objects().await.len(),
        0,
        "fetched by its one recipient: deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_regions_the_bytes_are_kept_only_where_a_recipient_lives() {
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.regions = common::test_regions(&config.data_dir, &["eu", "us"]);
    })
    .await;
    let mut alice = TestUser::register_in_region(&server.url, "alice", Some("eu")).await;
    let mut bob = TestUser::register_in_region(&server.url, "bob", Some("us")).await;
    let chat = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("chat");
    let files = tempfile::tempdir().expect("dir");
    let (path, original) = canary_file(files.path(), "abroad.bin", 50_000);
    alice
        .client
        .send_attachment(&chat, &path, "")
        .await
        .expect("send");

    let region_blobs = |name: &str| {
        let dir = server.data.path().join("regions").join(name).join("blobs");
        match dir.exists() {
            true => files_under(&dir),
            false => Vec::new(),
        }
    };
    assert_eq!(
        region_blobs("eu"),
        Vec::<PathBuf>::new(),
        "no recipient in eu"
    );
    assert_eq!(
        region_blobs("us").len(),
        1,
        "bob's region holds the one chunk"
    );
    let eu = common::TestDb::region(server.data.path(), "eu");
    let us = common::TestDb::region(server.data.path(), "us");
    let named = "SELECT COUNT(*) FROM attachments WHERE uploader IS NOT NULL";
    assert_eq!(
        eu.integers(named).await,
        vec![1],
        "the uploader's region counts it"
    );
    assert_eq!(
        us.integers(named).await,
        vec![0],
        "bob's region's copy names no uploader"
    );

    let saved = receive_and_save(&mut bob, files.path(), "abroad.out").await;
    assert_eq!(saved, original, "shared");
    assert_eq!(region_blobs("us"), Vec::<PathBuf>::new(), "fetched: gone");
    assert_eq!(
        us.integers("SELECT COUNT(*) FROM attachments").await,
        vec![0]
    );
}
