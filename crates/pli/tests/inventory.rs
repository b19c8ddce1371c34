//! A user sees what the server holds about their account: `GET /v1/me/inventory` and
//! `pli inventory` give exactly the record staff see (`pli admin inventory`), which is the
//! only source of a disclosure package; without a device's credentials, nothing.

mod common;

use common::{TestServer, TestUser, path_str, run_pli, staff};
use pli_proto::inventory::Inventory;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sees_the_inventory_staff_see() {
    let server = TestServer::start().await;
    let alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let staff = staff(&server).await;

    let mine = alice.client.my_inventory().await.expect("own inventory");
    let seen_by_staff: Inventory = staff.legal[0]
        .get("/admin/v1/inventory/alice")
        .await
        .expect("staff's inventory");
    assert_eq!(mine, seen_by_staff);
    assert_eq!(mine.username, alice.name);
    assert_eq!(mine.devices.len(), 1);
    // Each device sees its own account, never another's.
    let theirs = bob.client.my_inventory().await.expect("bob's");
    assert_eq!(theirs.username, bob.name);

    // The CLI prints the same record, in words and as JSON.
    let home = path_str(alice.home.path());
    let words = run_pli(&["--home", home, "inventory"], &[])
        .await
        .expect("pli inventory");
    assert!(
        words.starts_with("Account @alice, its data in region"),
        "{words}"
    );
    assert!(words.contains("Not held: message content"), "{words}");
    let json = run_pli(&["--home", home, "--json", "inventory"], &[])
        .await
        .expect("pli --json inventory");
    let printed: Inventory = serde_json::from_str(json.trim()).expect("an inventory");
    assert_eq!(printed, seen_by_staff);

    // Without credentials the route answers 401, with the stable code.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let anonymous = reqwest::get(format!("{}/v1/me/inventory", server.url))
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthorized");
}
