//! The regions contract for trials and scripts, with the real binary: `pli serve --region`
//! (stores under the data directory, named by region), `pli register --region`,
//! `pli policy`, `pli admin region move`, `pli admin retention`, `pli account delete`.

mod common;

use common::{path_str as path, run_pli as pli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut server, url) =
        common::serve_binary_sqlite(&data, &["--region", "eu", "--region", "us"]).await;
    let home = |name: &str| dir.path().join(name);

    let alice = pli(
        &[
            "--home",
            path(&home("a")),
            "register",
            "alice",
            "--server",
            &url,
            "--region",
            "us",
        ],
        &[],
    )
    .await
    .expect("register in us");
    assert!(alice.ends_with("home region us"), "{alice}");
    let bob = pli(
        &[
            "--home",
            path(&home("b")),
            "register",
            "bob",
            "--server",
            &url,
        ],
        &[],
    )
    .await
    .expect("register in the default region");
    assert!(
        bob.ends_with("home region eu"),
        "the first region is the default: {bob}"
    );
    let mars = pli(
        &[
            "--home",
            path(&home("c")),
            "register",
            "carol",
            "--server",
            &url,
            "--region",
            "mars",
        ],
        &[],
    )
    .await
    .expect_err("no such region");
    assert!(
        mars.contains("unknown_region") || mars.contains("no such region"),
        "{mars}"
    );
    for region in ["eu", "us"] {
        let store = data.join("regions").join(region).join("pli.db");
        assert!(store.exists(), "{} holds region {region}", store.display());
    }

    let policy = pli(&["policy", "--server", &url], &[])
        .await
        .expect("policy");
    assert!(
        policy.contains("Region eu (default for new accounts)"),
        "{policy}"
    );
    assert!(policy.contains("Region us"), "{policy}");
    assert!(
        policy.contains("IP addresses are never stored."),
        "{policy}"
    );
    // A registered device knows its server: no --server needed.
    let again = pli(&["--home", path(&home("b")), "policy"], &[])
        .await
        .expect("policy from home");
    assert_eq!(again, policy);

    let operator = pli(&["admin", "init", "--data", path(&data)], &[])
        .await
        .expect("init");
    let as_operator = [
        ("PLI_STAFF_CRED", operator.as_str()),
        ("PLI_ADMIN_URL", url.as_str()),
    ];
    let moved = pli(&["admin", "region", "move", "@bob", "us"], &as_operator)
        .await
        .expect("move");
    assert!(moved.starts_with("moved @bob from eu to us"), "{moved}");
    let swept = pli(&["admin", "retention"], &as_operator)
        .await
        .expect("retention");
    assert!(
        swept.starts_with("expired 0 queued message copies"),
        "{swept}"
    );

    let refused = pli(&["--home", path(&home("b")), "account", "delete"], &[])
        .await
        .expect_err("needs --yes");
    assert!(refused.contains("--yes"), "{refused}");
    let deleted = pli(
        &["--home", path(&home("b")), "account", "delete", "--yes"],
        &[],
    )
    .await
    .expect("delete");
    assert_eq!(deleted, "deleted @bob; nothing about it is kept");
    server.kill().await.expect("stop the server");
}
