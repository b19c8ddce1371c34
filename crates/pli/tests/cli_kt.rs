//! The key transparency contract with the real binary: `pli verify @user` (the same safety
//! code on both sides, a new one when a device changes), `pli device link / approve / list
//! / remove` (with `--history`), `pli audit kt` from a server URL with no account (and `--mine` with one), and
//! `pli admin directory publish`.

mod common;

use common::{path_str as path, run_pli as pli};

fn code_of(output: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(output).expect("json");
    value["safety_code"].as_str().expect("a code").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_devices_and_audit_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut server, url) = common::serve_binary(&data).await;
    let home = |name: &str| dir.path().join(name);
    for (user, h) in [("alice", "a"), ("bob", "b")] {
        pli(
            &["--home", path(&home(h)), "register", user, "--server", &url],
            &[],
        )
        .await
        .expect("register");
    }

    let alice_sees = pli(
        &["--home", path(&home("a")), "--json", "verify", "@bob"],
        &[],
    )
    .await
    .expect("verify");
    let bob_sees = pli(
        &["--home", path(&home("b")), "--json", "verify", "alice"],
        &[],
    )
    .await
    .expect("verify");
    let code = code_of(&alice_sees);
    assert_eq!(code, code_of(&bob_sees), "the same code on both sides");
    let groups: Vec<&str> = code.split(' ').collect();
    assert_eq!(groups.len(), 12);
    assert!(groups.iter().all(|g| g.len() == 5));
    let readable = pli(&["--home", path(&home("a")), "verify", "@bob"], &[])
        .await
        .expect("verify");
    assert!(readable.contains(&groups[..4].join(" ")), "{readable}");
    assert!(
        readable.contains("the account's first device"),
        "{readable}"
    );

    // A second device for Alice, linked with a code and approved on her first device, with
    // the history copied over.
    pli(
        &[
            "--home",
            path(&home("a")),
            "send",
            "@bob",
            "said before the link",
        ],
        &[],
    )
    .await
    .expect("send");
    let linked = pli(
        &[
            "--home",
            path(&home("a2")),
            "--json",
            "device",
            "link",
            "@alice",
            "--server",
            &url,
        ],
        &[],
    )
    .await
    .expect("link");
    let linked: serde_json::Value = serde_json::from_str(&linked).expect("json");
    let link_code = linked["code"].as_str().expect("code");
    let new_device = linked["device_id"].as_u64().expect("id");
    let refused = pli(
        &[
            "--home",
            path(&home("a")),
            "device",
            "approve",
            link_code,
            "--history",
            "forever",
        ],
        &[],
    )
    .await
    .expect_err("not a history choice");
    assert!(
        refused.contains("none, all, or a number of days"),
        "{refused}"
    );
    let approved = pli(
        &[
            "--home",
            path(&home("a")),
            "device",
            "approve",
            link_code,
            "--history",
            "all",
        ],
        &[],
    )
    .await
    .expect("approve");
    assert!(approved.contains(&new_device.to_string()), "{approved}");
    assert!(
        approved.contains("copies it all earlier messages"),
        "{approved}"
    );
    pli(&["--home", path(&home("a2")), "sync"], &[])
        .await
        .expect("the new device syncs");
    pli(&["--home", path(&home("a")), "sync"], &[])
        .await
        .expect("the first device adds it and copies the history");
    let copied = pli(&["--home", path(&home("a2")), "sync"], &[])
        .await
        .expect("the new device takes it");
    assert!(copied.contains("copied 1 earlier message"), "{copied}");
    let history = pli(&["--home", path(&home("a2")), "history", "@bob"], &[])
        .await
        .expect("history");
    assert!(history.contains("said before the link"), "{history}");
    let listed = pli(
        &["--home", path(&home("a2")), "--json", "device", "list"],
        &[],
    )
    .await
    .expect("list");
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed["devices"].as_array().expect("devices").len(), 2);
    let after = pli(
        &["--home", path(&home("b")), "--json", "verify", "alice"],
        &[],
    )
    .await
    .expect("verify");
    assert_ne!(code_of(&after), code, "a new device changes the code");
    let synced = pli(&["--home", path(&home("a")), "sync"], &[])
        .await
        .expect("sync");
    assert!(!synced.contains("none of your devices added"), "{synced}");

    let removed = pli(
        &[
            "--home",
            path(&home("a")),
            "device",
            "remove",
            &new_device.to_string(),
        ],
        &[],
    )
    .await
    .expect("remove");
    assert!(removed.contains("removed device"), "{removed}");
    let back = pli(
        &["--home", path(&home("b")), "--json", "verify", "alice"],
        &[],
    )
    .await
    .expect("verify");
    assert_eq!(code_of(&back), code, "the same keys, the same code");

    // Anyone can audit the directory's history with just the URL.
    let audit = pli(&["--server", &url, "--json", "audit", "kt"], &[])
        .await
        .expect("audit");
    let audit: serde_json::Value = serde_json::from_str(&audit).expect("json");
    assert_eq!(audit["from"], 0);
    assert!(audit["to"].as_u64().expect("to") >= 3, "{audit}");
    let wrong_key = pli(
        &[
            "--server",
            &url,
            "audit",
            "kt",
            "--key",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ],
        &[],
    )
    .await
    .expect_err("another key is refused");
    assert!(wrong_key.contains("another key"), "{wrong_key}");

    // Alice audits her own key history too: registered, a device added, one removed.
    let mine = pli(
        &[
            "--home",
            path(&home("a")),
            "--json",
            "audit",
            "kt",
            "--mine",
        ],
        &[],
    )
    .await
    .expect("audit --mine");
    let mine: serde_json::Value = serde_json::from_str(&mine).expect("json");
    let own = &mine["own_keys"];
    assert!(own["versions"].as_u64().expect("versions") >= 2, "{mine}");
    assert_eq!(own["devices"], 1, "{mine}");
    assert_eq!(own["unexplained"], serde_json::json!([]), "{mine}");
    assert!(mine["to"].as_u64().expect("to") >= own["epoch"].as_u64().expect("epoch"));
    let anonymous = pli(&["--home", path(&home("none")), "audit", "kt"], &[])
        .await
        .expect_err("no server, no account");
    assert!(anonymous.contains("--server"), "{anonymous}");

    // The operator publishes on demand; the audit reaches that epoch.
    let operator = common::init_operator_cli(&data).await.expect("init");
    let as_operator = [
        ("PLI_STAFF_CRED", operator.as_str()),
        ("PLI_ADMIN_URL", url.as_str()),
    ];
    pli(
        &[
            "--home",
            path(&home("c")),
            "register",
            "carol",
            "--server",
            &url,
        ],
        &[],
    )
    .await
    .expect("register");
    let published = pli(&["--json", "admin", "directory", "publish"], &as_operator)
        .await
        .expect("publish");
    let published: serde_json::Value = serde_json::from_str(&published).expect("json");
    let epoch = published["epoch"].as_u64().expect("epoch");
    let audit = pli(&["--server", &url, "--json", "audit", "kt"], &[])
        .await
        .expect("audit");
    let audit: serde_json::Value = serde_json::from_str(&audit).expect("json");
    assert_eq!(audit["to"].as_u64(), Some(epoch), "{audit}");
    let readable = pli(&["admin", "directory", "publish"], &as_operator)
        .await
        .expect("publish");
    assert!(
        readable.contains(&format!(
            "key directory at epoch {epoch}: 0 user(s) changed"
        )),
        "{readable}"
    );
    server.kill().await.expect("stop");
}
