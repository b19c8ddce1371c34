//! The real binary, end to end: `pli serve` on port 0 (its first line names the address),
//! then the README's walk-through with two users through `pli` commands.

mod common;

use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const PLI: &str = env!("CARGO_BIN_EXE_pli");

/// Runs `pli --home HOME ARGS…`, optionally with standard input; returns stdout, or the
/// exit failure with stderr.
async fn pli(home: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let mut child = Command::new(PLI)
        .arg("--home")
        .arg(home)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pli");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).await.expect("write stdin");
    }
    let output = child.wait_with_output().await.expect("wait");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_with_the_real_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, url) = common::serve_binary(&dir.path().join("data")).await;
    let alice = dir.path().join("alice");
    let bob = dir.path().join("bob");

    let registered = pli(&alice, &["register", "alice", "--server", &url], None)
        .await
        .expect("register alice");
    assert!(registered.contains("registered @alice"), "{registered}");
    pli(&bob, &["--json", "register", "Bob", "--server", &url], None)
        .await
        .expect("register bob");
    let taken = pli(
        &dir.path().join("other"),
        &["register", "BOB", "--server", &url],
        None,
    )
    .await;
    assert!(taken.expect_err("taken").contains("username_taken"));

    pli(&alice, &["send", "@bob", "hello bob"], None)
        .await
        .expect("send");
    let events = json_lines(&pli(&bob, &["--json", "sync"], None).await.expect("sync"));
    let messages: Vec<_> = events.iter().filter(|e| e["type"] == "message").collect();
    assert_eq!(messages.len(), 1);
    let message = messages[0];
    assert_eq!(message["sender"], "alice");
    assert_eq!(message["text"], "hello bob");
    for field in ["conversation", "sent_at", "id"] {
        assert!(!message[field].is_null(), "sync --json carries {field}");
    }
    assert!(
        message["sent_at"]
            .as_str()
            .expect("a timestamp")
            .contains('T')
    );

    let created = pli(&alice, &["group", "create", "team", "@bob"], None)
        .await
        .expect("group create");
    let conversation = created.trim();
    assert_eq!(
        conversation.len(),
        32,
        "prints the conversation id: {created}"
    );
    pli(
        &alice,
        &["send", conversation, "-"],
        Some("from standard input\n"),
    )
    .await
    .expect("send -");
    let events = json_lines(&pli(&bob, &["--json", "sync"], None).await.expect("sync"));
    let texts: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| e["text"].clone())
        .collect();
    assert_eq!(texts, vec![serde_json::json!("from standard input")]);
    let again = pli(&bob, &["--json", "sync"], None).await.expect("sync");
    assert!(
        json_lines(&again).iter().all(|e| e["type"] != "message"),
        "nothing shown twice"
    );

    let listed = json_lines(
        &pli(&bob, &["--json", "conversations"], None)
            .await
            .expect("conversations"),
    );
    assert_eq!(listed.len(), 2);
    let team = listed
        .iter()
        .find(|c| c["name"] == "team")
        .expect("the group is listed by name");
    assert_eq!(team["members"], serde_json::json!(["alice", "bob"]));
    pli(&bob, &["send", "team", "reply by name"], None)
        .await
        .expect("send by name");
    let human = pli(&alice, &["sync"], None).await.expect("sync");
    assert!(human.contains("[team] @bob: reply by name"), "{human}");

    let failed = pli(&alice, &["send", "@nobody_home", "hi"], None)
        .await
        .expect_err("unknown user");
    assert!(failed.starts_with("error:"), "{failed}");
    let unregistered = pli(&dir.path().join("empty"), &["sync"], None)
        .await
        .expect_err("no device");
    assert!(unregistered.contains("pli register"), "{unregistered}");

    // `listen` streams: a message sent while it runs is printed as one JSON line.
    let mut listener = Command::new(PLI)
        .arg("--home")
        .arg(&bob)
        .args(["--json", "listen"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn listen");
    let mut lines = BufReader::new(listener.stdout.take().expect("stdout")).lines();
    pli(&alice, &["send", "@bob", "live"], None)
        .await
        .expect("send");
    let streamed = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            let event: serde_json::Value = serde_json::from_str(&line).expect("json line");
            if event["type"] == "message" {
                return event;
            }
        }
        panic!("listen ended without printing the message");
    })
    .await
    .expect("listen printed the message");
    assert_eq!(streamed["text"], "live");
    assert_eq!(streamed["sender"], "alice");
    listener.start_kill().expect("stop listen");

    server.start_kill().expect("stop server");
    let _ = server.wait().await;
}
