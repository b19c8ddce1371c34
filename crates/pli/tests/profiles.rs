//! Profiles end to end: a display name and picture set with `pli profile set` reach the
//! people the user talks to (in `pli sync` and `pli profile show`, always beside the
//! username) while the server holds only ciphertext, counted in the inventory; someone
//! without the key fetches the blob and can open nothing; a newcomer to a conversation is
//! given the key; an older profile the server serves under a newer key is refused; a
//! cleared profile goes from the server and from the others' devices.

mod common;

use common::{TestServer, TestUser, alice_and_bob, contains, path_str, run_pli};
use pli_client::profile_seal::{self, Profile, ProfileKey};

const NAME: &str = "Alice Quetzalcoatl-Liddell";

fn picture(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("me.png");
    image::RgbImage::from_fn(600, 400, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .save(&path)
    .expect("png");
    path
}

fn shown_name(user: &TestUser, whose: &TestUser) -> Option<String> {
    user.client
        .profile_of(&whose.name)
        .expect("profile")
        .map(|p| p.name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_reaches_the_people_one_talks_to_and_the_server_holds_only_ciphertext() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = alice_and_bob(&server).await;
    let mut carol = TestUser::register(&server, "carol").await;
    bob.client.sync().await.expect("bob joins");
    let files = tempfile::tempdir().expect("dir");
    let (alice_home, bob_home) = (path_str(alice.home.path()), path_str(bob.home.path()));

    let set = run_pli(
        &[
            "--home",
            alice_home,
            "profile",
            "set",
            NAME,
            "--avatar",
            path_str(&picture(files.path())),
        ],
        &[],
    )
    .await
    .expect("pli profile set");
    assert!(set.starts_with("profile set"), "{set}");

    // bob's next sync brings the key and opens the profile: name and a 128-pixel picture.
    let shown = run_pli(&["--home", bob_home, "profile", "show", "@alice"], &[])
        .await
        .expect("pli profile show");
    assert!(
        shown.starts_with(&format!("{NAME} (@alice), picture ")),
        "{shown}"
    );
    let avatar = bob
        .client
        .profile_of(&alice.name)
        .expect("profile")
        .and_then(|p| p.avatar)
        .expect("a picture");
    let decoded = image::load_from_memory(&avatar).expect("a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (128, 85));

    // Messages show the name beside the username, never instead of it.
    run_pli(&["--home", alice_home, "send", "@bob", "hi there"], &[])
        .await
        .expect("send");
    let listed = run_pli(&["--home", bob_home, "sync"], &[])
        .await
        .expect("sync");
    assert!(
        listed.contains(&format!("{NAME} (@alice): hi there")),
        "{listed}"
    );

    // The server holds ciphertext only, and says how much in the inventory.
    assert!(!contains(&server.stored_bytes(), NAME.as_bytes()));
    let inventory = alice
        .transport(&server)
        .my_inventory()
        .await
        .expect("inventory");
    let sealed = carol
        .transport(&server)
        .profile("alice")
        .await
        .expect("fetch")
        .expect("stored");
    assert_eq!(inventory.encrypted_profile_bytes, sealed.len() as u64);
    let words = run_pli(&["--home", alice_home, "inventory"], &[])
        .await
        .expect("pli inventory");
    assert!(
        words.contains(&format!("An encrypted profile of {} bytes", sealed.len())),
        "{words}"
    );
    assert!(!words.contains("encrypted profile: none stored"), "{words}");
    // carol, who talks to no one, can fetch the blob but has no key to open it.
    carol.client.sync().await.expect("carol syncs");
    assert_eq!(shown_name(&carol, &alice), None);

    // A newcomer is given the key: bob adds carol to a group with alice.
    let group = bob
        .client
        .create_group("trio", &[alice.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    alice.client.sync().await.expect("alice joins and shares");
    carol.client.sync().await.expect("carol joins");
    carol.client.sync().await.expect("carol opens");
    assert_eq!(shown_name(&carol, &alice).as_deref(), Some(NAME));
    let _ = group;

    // A server that serves the older profile under the newer key is caught: bob keeps the
    // last profile that opened.
    let older = sealed.clone();
    alice
        .client
        .set_profile("Alice, second", None, false)
        .await
        .expect("second profile");
    alice
        .transport(&server)
        .put_profile(older)
        .await
        .expect("the old blob back");
    bob.client.sync().await.expect("bob syncs");
    assert_eq!(shown_name(&bob, &alice).as_deref(), Some(NAME));
    // Another user's sealed profile served as alice's does not open either.
    let key = ProfileKey::random();
    let forged = profile_seal::seal(
        &key,
        &Profile {
            username: carol.name.clone(),
            version: 9,
            name: "not alice".into(),
            avatar: None,
        },
    );
    assert_eq!(profile_seal::open(&key, &alice.name, 1, &forged), None);

    // Cleared: gone from the server and, at their next sync, from the others' devices.
    run_pli(&["--home", alice_home, "profile", "clear"], &[])
        .await
        .expect("pli profile clear");
    assert_eq!(
        carol
            .transport(&server)
            .profile("alice")
            .await
            .expect("fetch"),
        None
    );
    bob.client.sync().await.expect("bob syncs");
    carol.client.sync().await.expect("carol syncs");
    assert_eq!(shown_name(&bob, &alice), None);
    assert_eq!(shown_name(&carol, &alice), None);
    let inventory = alice
        .transport(&server)
        .my_inventory()
        .await
        .expect("inventory");
    assert_eq!(inventory.encrypted_profile_bytes, 0);
    assert!(
        inventory
            .not_held
            .iter()
            .any(|line| line == "encrypted profile: none stored")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_inputs_are_checked_with_stable_codes() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let transport = alice.transport(&server);
    let too_big = transport
        .put_profile(vec![0; pli_proto::limits::MAX_PROFILE_BYTES + 1])
        .await;
    assert_eq!(
        too_big.err().and_then(|e| e.code()),
        Some(pli_proto::ErrorCode::PayloadTooLarge)
    );
    let empty = transport.put_profile(Vec::new()).await;
    assert_eq!(
        empty.err().and_then(|e| e.code()),
        Some(pli_proto::ErrorCode::BadRequest)
    );
    assert_eq!(transport.profile("nobody").await.expect("fetch"), None);
    let long = "x".repeat(pli_proto::limits::MAX_DISPLAY_NAME_BYTES + 1);
    let refused = alice.client.set_profile(&long, None, false).await;
    assert!(matches!(refused, Err(pli_client::ClientError::Invalid(_))));
    let files = tempfile::tempdir().expect("dir");
    let not_a_picture = files.path().join("notes.png");
    std::fs::write(&not_a_picture, b"plain text").expect("write");
    let refused = alice
        .client
        .set_profile("Alice", Some(&not_a_picture), false)
        .await;
    assert!(matches!(refused, Err(pli_client::ClientError::Invalid(_))));
    assert_eq!(
        transport.profile("alice").await.expect("fetch"),
        None,
        "nothing stored"
    );
}

/// A ghost (mallory's device under a credential claiming dave) announces a profile key for
/// dave with a high version. Alice's device uses no key from a device the directory does not
/// list: dave's real profile stays, and his next one still reaches her.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ghost_can_neither_rename_a_user_nor_hold_back_their_profile() {
    use common::forger::{forged_group, submit};
    use pli_proto::payload::Body;
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut dave = TestUser::register(&server, "dave").await;
    let mallory = TestUser::register(&server, "mallory").await;
    dave.client
        .direct_conversation(&alice.name)
        .await
        .expect("the real chat");
    dave.client
        .set_profile("Dave Real", None, false)
        .await
        .expect("dave's profile");
    alice.client.sync().await.expect("alice joins");
    alice.client.sync().await.expect("alice opens");
    assert_eq!(shown_name(&alice, &dave).as_deref(), Some("Dave Real"));

    // Mallory's group, whose only leaf claims to be dave's, with alice invited.
    let forged = pli_proto::GroupId::from_bytes(&[7; 16]).expect("group id");
    let forger = forged_group(&server, &mallory, &dave.name, &forged, &alice).await;
    let alice_device = alice.identity().device_id;
    let transport = mallory.transport(&server);
    let key = ProfileKey::random();
    let ghost_key = forger.message(
        &forged,
        1,
        Body::ProfileKey {
            key: hex::encode(key.0),
            version: 50,
        },
    );
    transport
        .submit(&submit(&forged, ghost_key, &[alice_device]))
        .await
        .expect("the ghost's key");
    let _ = alice.client.sync().await;
    assert_eq!(shown_name(&alice, &dave).as_deref(), Some("Dave Real"));

    dave.client
        .set_profile("Dave, updated", None, false)
        .await
        .expect("dave's next profile");
    alice.client.sync().await.expect("alice syncs");
    assert_eq!(
        shown_name(&alice, &dave).as_deref(),
        Some("Dave, updated"),
        "the ghost's higher version held nothing back"
    );
}
