//! Crash safety: 1:1 and group messages flow while the real `pli serve` process is killed
//! with SIGKILL at random moments (mid-transaction included) and restarted on the same
//! data, again and again; then every client drains. A checker in the style of Jepsen's
//! total-queue counts, per recipient:
//!
//! - lost: accepted by the server ("sent") but never shown to the recipient;
//! - unexpected: shown but never sent;
//! - duplicated: shown more than once.
//!
//! All three must be zero. Messages whose send failed are kept in the sender's outbox and
//! must arrive too. CI runs a few cycles; a long run:
//! `PLI_CRASH_CYCLES=200 PLI_CRASH_MESSAGES=40 cargo test --release -p pli --test crash -- --nocapture`.

mod common;

use pli_client::{Client, ConnectOptions, Event, SendStatus};
use pli_proto::{GroupId, Username};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn open(home: &Path, url: &str) -> Client {
    Client::open(
        home,
        &ConnectOptions {
            server: Some(url.to_owned()),
            ..Default::default()
        },
    )
    .expect("open")
}

fn shown(events: Vec<Event>, into: &mut Vec<String>) {
    for event in events {
        if let Event::Message { text, .. } = event {
            into.push(text);
        }
    }
}

struct Sender {
    name: &'static str,
    home: PathBuf,
    conversation: GroupId,
    recipients: Vec<&'static str>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_accepted_message_is_lost_duplicated_or_invented_across_sigkills() {
    let cycles = setting("PLI_CRASH_CYCLES", 4);
    let per_cycle = setting("PLI_CRASH_MESSAGES", 8);
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let names = ["alice", "bob", "carol", "dave"];
    let homes: BTreeMap<&str, PathBuf> = names.iter().map(|n| (*n, dir.path().join(n))).collect();

    // Set up while the server is healthy: a 1:1 (alice → bob) and a group of four.
    let (mut server, url) = common::serve_binary(&data).await;
    let mut clients = BTreeMap::new();
    for name in names {
        let user = Username::parse(name).expect("valid");
        clients.insert(
            name,
            Client::register(&homes[name], &url, &user, &ConnectOptions::default())
                .await
                .expect("register"),
        );
    }
    let bob = Username::parse("bob").expect("valid");
    let direct = clients
        .get_mut("alice")
        .expect("alice")
        .direct_conversation(&bob)
        .await
        .expect("direct");
    let others: Vec<Username> = ["bob", "carol", "dave"]
        .iter()
        .map(|n| Username::parse(n).expect("valid"))
        .collect();
    let group = clients
        .get_mut("alice")
        .expect("alice")
        .create_group("crash", &others)
        .await
        .expect("group");
    for name in names {
        clients
            .get_mut(name)
            .expect("client")
            .sync()
            .await
            .expect("join");
        let _ = clients.get_mut(name).expect("client").take_new();
    }
    drop(clients);
    let senders = vec![
        Sender {
            name: "alice",
            home: homes["alice"].clone(),
            conversation: direct.clone(),
            recipients: vec!["bob"],
        },
        Sender {
            name: "carol",
            home: homes["carol"].clone(),
            conversation: group.clone(),
            recipients: vec!["alice", "bob", "dave"],
        },
        Sender {
            name: "dave",
            home: homes["dave"].clone(),
            conversation: group.clone(),
            recipients: vec!["alice", "bob", "carol"],
        },
    ];

    let mut accepted: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut attempted: BTreeSet<String> = BTreeSet::new();
    let mut url = url;
    for cycle in 0..cycles {
        // Each sender writes its share while a killer strikes at a random moment.
        let mut tasks = Vec::new();
        for sender in &senders {
            let (home, conversation, name, url) = (
                sender.home.clone(),
                sender.conversation.clone(),
                sender.name,
                url.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut client = open(&home, &url);
                let mut outcomes = Vec::new();
                for n in 0..per_cycle {
                    let text = format!("{name}-{cycle}-{n}");
                    let status = client.send_text(&conversation, &text).await;
                    outcomes.push((text, matches!(status, Ok(SendStatus::Sent))));
                }
                outcomes
            }));
        }
        // Long enough that many sends are accepted before the kill, short enough that the
        // kill lands in the middle of the load.
        let strike = rand::rng().random_range(100..1_500);
        tokio::time::sleep(std::time::Duration::from_millis(strike)).await;
        server.start_kill().expect("SIGKILL");
        let _ = server.wait().await;
        for (sender, task) in senders.iter().zip(tasks) {
            for (text, was_accepted) in task.await.expect("sender task") {
                attempted.insert(text.clone());
                if was_accepted {
                    accepted.insert(text, sender.recipients.clone());
                }
            }
        }
        let (restarted, new_url) = common::serve_binary(&data).await;
        server = restarted;
        url = new_url;
    }

    // Drain: every outbox is sent, every queue read, until nothing moves.
    let mut delivered: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for _round in 0..3 {
        for name in names {
            let mut client = open(&homes[name], &url);
            client.sync().await.expect("sync after the last restart");
            shown(
                client.take_new().expect("events"),
                delivered.entry(name).or_default(),
            );
            assert_eq!(
                client.outbox_len().expect("outbox"),
                0,
                "{name}'s outbox emptied"
            );
        }
    }

    let (mut lost, mut unexpected, mut duplicated) = (0, 0, 0);
    for name in names {
        let seen = delivered.get(name).cloned().unwrap_or_default();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for text in &seen {
            *counts.entry(text.as_str()).or_default() += 1;
        }
        for (text, count) in &counts {
            if !attempted.contains(*text) {
                unexpected += 1;
            }
            duplicated += count - 1;
        }
        for (text, recipients) in &accepted {
            if recipients.contains(&name) && !counts.contains_key(text.as_str()) {
                lost += 1;
            }
        }
        // Messages whose send failed were kept in the outbox: they must arrive too.
        for sender in senders.iter().filter(|s| s.recipients.contains(&name)) {
            for text in attempted
                .iter()
                .filter(|t| t.starts_with(&format!("{}-", sender.name)))
            {
                if !counts.contains_key(text.as_str()) {
                    lost += 1;
                }
            }
        }
    }
    let deliveries: usize = delivered.values().map(Vec::len).sum();
    println!(
        "crash harness: {cycles} SIGKILL cycles, {} messages sent ({} accepted before a crash), {deliveries} deliveries checked: lost {lost}, unexpected {unexpected}, duplicated {duplicated}",
        attempted.len(),
        accepted.len()
    );
    assert_eq!((lost, unexpected, duplicated), (0, 0, 0));
    assert!(deliveries >= attempted.len(), "the run delivered something");
    server.start_kill().expect("stop");
}
