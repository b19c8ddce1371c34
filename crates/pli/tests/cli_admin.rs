//! The staff CLI contract with the real binary: `pli admin …` and `pli audit …` against a
//! real `pli serve`, spelled as GOVERNANCE.md and the README show them.

mod common;

use std::path::Path;

use common::{path_str as path, run_pli as pli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_from_init_to_a_confirmed_report() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut server, url) = common::serve_binary(&data).await;

    let home = dir.path().join("alice");
    pli(
        &["--home", path(&home), "register", "alice", "--server", &url],
        &[],
    )
    .await
    .expect("register");

    // On PostgreSQL, `init` is pointed at the database the server uses.
    let operator = common::init_operator_cli(&data).await.expect("init");
    assert!(operator.ends_with("staff-operator.cred"), "{operator}");
    let again = common::init_operator_cli(&data).await;
    assert!(
        again
            .expect_err("once only")
            .contains("initialisation is done once")
    );
    let as_operator = [
        ("PLI_STAFF_CRED", operator.as_str()),
        ("PLI_ADMIN_URL", url.as_str()),
    ];
    let mut legal = Vec::new();
    for name in ["l1", "l2", "l3"] {
        let out = dir.path().join(format!("{name}.cred"));
        pli(
            &[
                "admin",
                "staff",
                "add",
                name,
                "--role",
                "legal",
                "--out",
                path(&out),
            ],
            &as_operator,
        )
        .await
        .expect("staff add");
        legal.push(out);
    }
    let auditor = dir.path().join("auditor.cred");
    pli(
        &[
            "admin",
            "staff",
            "add",
            "aud",
            "--role",
            "auditor",
            "--out",
            path(&auditor),
        ],
        &as_operator,
    )
    .await
    .expect("staff add");
    let as_staff = |cred: &Path| -> Vec<String> {
        vec![
            "admin".into(),
            "--cred".into(),
            path(cred).into(),
            "--server".into(),
            url.clone(),
        ]
    };

    let new = |cred: &Path, basis: &str, data: &str| {
        let mut args = as_staff(cred);
        args.extend(
            [
                "request",
                "new",
                "--authority",
                "Tribunal de Paris",
                "--country",
                "FR",
                "--basis",
                basis,
                "--doc-ref",
                "RG 1",
                "--doc-sha256",
            ]
            .map(String::from),
        );
        args.push("ab".repeat(32));
        args.extend(["--target", "@alice", "--data", data].map(String::from));
        args
    };
    let args = new(&legal[0], "court-order", "content");
    let content = pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    assert!(
        content
            .expect_err("refused")
            .contains("content is not a data category")
    );
    let args = new(&legal[0], "subpoena", "devices");
    let weak = pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    assert!(weak.expect_err("refused").contains("policy_refused"));
    let args = new(&legal[0], "court-order", "subscriber,devices");
    let id = pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        .await
        .expect("request new");
    assert_eq!(id.len(), 16, "prints the request id: {id}");

    for cred in &legal[1..] {
        let mut args = as_staff(cred);
        args.extend(["request", "approve", &id].map(String::from));
        pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
            .await
            .expect("approve");
    }
    let package = dir.path().join("package.json");
    let mut args = as_staff(&legal[1]);
    args.extend(["request", "disclose", &id, "--out", path(&package)].map(String::from));
    pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        .await
        .expect("disclose");
    let disclosed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&package).expect("package")).expect("json");
    assert_eq!(disclosed["accounts"][0]["subscriber"]["username"], "alice");

    let mut args = as_staff(&legal[0]);
    args.extend(["request", "show", &id, "--json"].map(String::from));
    let shown: serde_json::Value = serde_json::from_str(
        &pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
            .await
            .expect("show"),
    )
    .expect("json");
    assert_eq!(shown["state"], "notified");
    let mut args = as_staff(&legal[0]);
    args.extend(["inventory", "@alice"].map(String::from));
    let inventory = pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        .await
        .expect("inventory");
    assert!(
        inventory.contains("\"created_day\"") && inventory.contains("IP addresses: not kept"),
        "{inventory}"
    );

    let reports = dir.path().join("reports");
    let period = {
        let today = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            / 86_400) as i64;
        let (year, month, _) = pli_proto::governance::civil_from_days(today);
        format!("{year}-Q{}", (month - 1) / 3 + 1)
    };
    let mut args = as_staff(&auditor);
    args.extend(["report", "--period", &period, "--out", path(&reports)].map(String::from));
    let written = pli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        .await
        .expect("report");
    let json_path = written
        .lines()
        .find(|l| l.ends_with(".json"))
        .expect("json report");
    assert!(written.lines().any(|l| l.ends_with(".html")));
    let confirmed = pli(
        &["audit", "report", "--server", &url, "--report", json_path],
        &[],
    )
    .await
    .expect("audit report");
    assert!(confirmed.starts_with("confirmed"), "{confirmed}");
    let verified = pli(&["audit", "verify", "--server", &url], &[])
        .await
        .expect("audit verify");
    assert!(verified.starts_with("verified:"), "{verified}");
    let export = dir.path().join("log.json");
    pli(
        &["audit", "export", "--server", &url, "--out", path(&export)],
        &[],
    )
    .await
    .expect("export");
    let offline = pli(&["audit", "verify", "--log", path(&export)], &[])
        .await
        .expect("offline verify");
    assert_eq!(
        offline, verified,
        "the export verifies offline to the same checkpoint"
    );

    // The user got the notice through the ordinary delivery path.
    let synced = pli(&["--home", path(&home), "sync"], &[])
        .await
        .expect("sync");
    assert!(
        synced.contains("was disclosed to Tribunal de Paris (FR)"),
        "{synced}"
    );
    server.start_kill().expect("stop");
    let _ = server.wait().await;
}

/// `pli admin …` as one staff member: credential and server first, then `args`.
async fn as_staff(cred: &Path, url: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["admin", "--cred", path(cred), "--server", url];
    all.extend_from_slice(args);
    pli(&all, &[]).await
}

/// The request fields `request new` and `request edit` take, after the command words.
fn request_fields<'a>(basis: &'a str, data: &'a str, doc_sha256: &'a str) -> Vec<&'a str> {
    vec![
        "--authority",
        "Tribunal de Paris",
        "--country",
        "FR",
        "--basis",
        basis,
        "--doc-ref",
        "RG 2",
        "--doc-sha256",
        doc_sha256,
        "--target",
        "@alice",
        "--data",
        data,
        "--attest",
        "an imminent threat to a named person's life",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_who_edits_a_request_cannot_then_approve_it() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut server, url) = common::serve_binary(&data).await;
    let home = dir.path().join("alice");
    pli(
        &["--home", path(&home), "register", "alice", "--server", &url],
        &[],
    )
    .await
    .expect("register");
    let operator = common::init_operator_cli(&data).await.expect("init");
    let mut legal = Vec::new();
    for name in ["l1", "l2", "l3"] {
        let out = dir.path().join(format!("{name}.cred"));
        as_staff(
            Path::new(&operator),
            &url,
            &["staff", "add", name, "--role", "legal", "--out", path(&out)],
        )
        .await
        .expect("staff add");
        legal.push(out);
    }
    let doc = "cd".repeat(32);
    let mut new = vec!["request", "new"];
    new.extend(request_fields("court-order", "subscriber", &doc));
    let id = as_staff(&legal[0], &url, &new).await.expect("request new");

    // l2 rewrites l1's request as an emergency for more data, then tries to approve it.
    let mut edit = vec!["request", "edit", &id];
    edit.extend(request_fields("emergency", "subscriber,devices", &doc));
    as_staff(&legal[1], &url, &edit)
        .await
        .expect("request edit");
    let refused = as_staff(&legal[1], &url, &["request", "approve", &id])
        .await
        .expect_err("the editor's approval is refused");
    assert!(refused.contains("policy_refused"), "{refused}");
    let out = dir.path().join("package.json");
    let nothing = as_staff(
        &legal[1],
        &url,
        &["request", "disclose", &id, "--out", path(&out)],
    )
    .await
    .expect_err("nothing approved to disclose");
    assert!(nothing.contains("invalid_state"), "{nothing}");
    assert!(!out.exists());

    // A reviewer who neither entered nor edited it may approve it.
    let shown = as_staff(&legal[2], &url, &["request", "approve", &id])
        .await
        .expect("an independent approval");
    assert!(shown.contains("[approved]"), "{shown}");
    server.start_kill().expect("stop");
    let _ = server.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_are_rotated_re_roled_and_revoked_by_name_or_id() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut server, url) = common::serve_binary(&data).await;
    let operator = common::init_operator_cli(&data).await.expect("init");
    let operator = Path::new(&operator);
    let ana = dir.path().join("ana.cred");
    as_staff(
        operator,
        &url,
        &[
            "staff",
            "add",
            "ana",
            "--role",
            "auditor",
            "--out",
            path(&ana),
        ],
    )
    .await
    .expect("staff add");
    let listed = as_staff(&ana, &url, &["staff", "list"])
        .await
        .expect("ana may list");
    let ana_id = listed
        .lines()
        .find(|l| l.contains("  ana  "))
        .and_then(|l| l.split_whitespace().next())
        .expect("ana listed")
        .to_owned();

    // By name, printed once on stdout; the old credential stops working.
    let printed = as_staff(operator, &url, &["staff", "rotate", "ana"])
        .await
        .expect("rotate");
    let rotated: pli_proto::governance::StaffCredential =
        serde_json::from_str(&printed).expect("a credential");
    assert_eq!(rotated.staff_id.to_string(), ana_id);
    let old = as_staff(&ana, &url, &["staff", "list"])
        .await
        .expect_err("the old secret is dead");
    assert!(old.contains("unauthorized"), "{old}");
    let ana2 = dir.path().join("ana2.cred");
    std::fs::write(&ana2, &printed).expect("write");
    as_staff(&ana2, &url, &["staff", "list"])
        .await
        .expect("the new one works");
    // By id, into a private file.
    let ana3 = dir.path().join("ana3.cred");
    let written = as_staff(
        operator,
        &url,
        &["staff", "rotate", &ana_id, "--out", path(&ana3)],
    )
    .await
    .expect("rotate by id");
    assert_eq!(written, path(&ana3));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ana3).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(as_staff(&ana2, &url, &["staff", "list"]).await.is_err());

    let changed = as_staff(operator, &url, &["staff", "role", "ana", "operator"])
        .await
        .expect("role");
    assert_eq!(changed, format!("{ana_id}  ana  operator"));
    // Ana, an operator now, demotes the first operator; then she is the last one.
    as_staff(&ana3, &url, &["staff", "role", "operator", "auditor"])
        .await
        .expect("demote the first operator");
    for last in [
        vec!["staff", "role", "ana", "legal"],
        vec!["staff", "revoke", &ana_id],
    ] {
        let refused = as_staff(&ana3, &url, &last)
            .await
            .expect_err("the last operator stays");
        assert!(refused.contains("last_operator"), "{refused}");
    }
    as_staff(&ana3, &url, &["staff", "role", "operator", "operator"])
        .await
        .expect("promote back");
    let revoked = as_staff(operator, &url, &["staff", "revoke", "ana"])
        .await
        .expect("revoke");
    assert_eq!(revoked, format!("revoked {ana_id}  ana"));
    let gone = as_staff(&ana3, &url, &["staff", "list"])
        .await
        .expect_err("revoked");
    assert!(gone.contains("unauthorized"), "{gone}");
    let nobody = as_staff(operator, &url, &["staff", "revoke", "nobody"])
        .await
        .expect_err("no such member");
    assert!(
        nobody.contains("no staff member has that name or id"),
        "{nobody}"
    );

    let verified = pli(&["audit", "verify", "--server", &url], &[])
        .await
        .expect("audit verify");
    assert!(verified.starts_with("verified:"), "{verified}");
    let log = pli_client::admin::AdminClient::new(&url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log")
        .verify(None)
        .expect("verifies");
    let acts: Vec<(&str, &str)> = log
        .entries
        .iter()
        .filter(|e| e.details["staff_id"].as_u64().map(|id| id.to_string()) == Some(ana_id.clone()))
        .filter(|e| e.action != "staff.add")
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        acts,
        [
            ("staff.rotate", "ok"),
            ("staff.rotate", "ok"),
            ("staff.role", "ok"),
            ("staff.role", "refused"),
            ("staff.revoke", "refused"),
            ("staff.revoke", "ok"),
        ]
    );
    server.start_kill().expect("stop");
    let _ = server.wait().await;
}
