//! Replies, reactions, edits and deletion for everyone, end to end: each names its message
//! by the id inside the encrypted envelope, reaches every member device, and holds by the
//! rules every client applies (only the author edits or deletes; a modified client's edit
//! of someone else's message is never shown). `pli send --reply`, `pli react`, `pli edit`,
//! `pli delete` and `pli history` do the same through the real binary.

mod common;

use common::forger::{Forger, submit};
use common::{TestServer, TestUser, path_str, run_pli};
use pli_client::timeline::HistoryMessage;
use pli_client::{ClientError, Event};
use pli_proto::GroupId;
use pli_proto::payload::Body;

const THUMBS_UP: &str = "\u{1F44D}";
const HEART: &str = "\u{2764}\u{FE0F}";

/// The newest message of `conversation` on `user`'s device whose id is `id`.
fn shown(user: &TestUser, conversation: &GroupId, id: &str) -> HistoryMessage {
    user.client
        .history_page(conversation, None, 50)
        .expect("history")
        .into_iter()
        .find(|m| m.message_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("@{} has message {id}", user.name))
}

fn reactions(message: &HistoryMessage) -> Vec<(String, u32, bool)> {
    message
        .reactions
        .iter()
        .map(|r| (r.reaction.clone(), r.count, r.mine))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_reactions_edits_and_deletions_reach_every_member_and_only_authors_change_texts() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let team = alice
        .client
        .create_group("team", &[bob.name.clone(), carol.name.clone()])
        .await
        .expect("group");
    let sent = alice
        .client
        .send_reply(&team, "lunch at noon?", None)
        .await
        .expect("send");
    let lunch = sent.message_id.expect("a text has a message id");
    bob.receive().await;
    carol.receive().await;

    // A reply names the message; everyone sees the quote.
    let reply = bob
        .client
        .send_reply(&team, "works for me", Some(&lunch))
        .await
        .expect("reply")
        .message_id
        .expect("id");
    let events = {
        alice.client.sync().await.expect("sync");
        alice.client.take_new().expect("events")
    };
    let replied = events.iter().find_map(|e| match e {
        Event::Message {
            text,
            reply_to,
            message_id,
            ..
        } if text == "works for me" => Some((reply_to.clone(), message_id.clone())),
        _ => None,
    });
    assert_eq!(replied, Some((Some(lunch.clone()), Some(reply.clone()))));
    carol.receive().await;
    for user in [&alice, &carol] {
        let quote = shown(user, &team, &reply).reply.expect("a reply");
        assert_eq!(quote.message_id, lunch);
        assert_eq!(
            quote.original,
            Some((alice.name.clone(), "lunch at noon?".to_owned()))
        );
    }
    // A reply to a message the conversation does not have is refused before it is sent.
    let nowhere = "00".repeat(16);
    assert!(matches!(
        bob.client
            .send_reply(&team, "to nothing", Some(&nowhere))
            .await,
        Err(ClientError::Invalid(_))
    ));

    // Reactions: one per user and message, a later one replaces it, empty withdraws.
    bob.client
        .react(&team, &lunch, THUMBS_UP)
        .await
        .expect("react");
    carol
        .client
        .react(&team, &lunch, THUMBS_UP)
        .await
        .expect("react");
    carol
        .client
        .react(&team, &lunch, HEART)
        .await
        .expect("react");
    alice.receive().await;
    assert_eq!(
        reactions(&shown(&alice, &team, &lunch)),
        [
            (THUMBS_UP.to_owned(), 1, false),
            (HEART.to_owned(), 1, false)
        ]
    );
    alice
        .client
        .react(&team, &lunch, THUMBS_UP)
        .await
        .expect("react");
    assert_eq!(
        reactions(&shown(&alice, &team, &lunch))[0],
        (THUMBS_UP.to_owned(), 2, true)
    );
    carol
        .client
        .react(&team, &lunch, "")
        .await
        .expect("withdraw");
    bob.receive().await;
    assert_eq!(
        reactions(&shown(&bob, &team, &lunch)),
        [(THUMBS_UP.to_owned(), 2, true)]
    );

    // An edit by its author: the new text everywhere, marked edited, the old one kept on
    // the device only, and search finds the new text alone.
    alice
        .client
        .edit_message(&team, &lunch, "lunch at one?")
        .await
        .expect("edit");
    bob.client.sync().await.expect("sync");
    let changed: Vec<_> = bob
        .client
        .take_new()
        .expect("events")
        .into_iter()
        .filter_map(|e| match e {
            Event::Changed { message, .. } => Some(message.text),
            _ => None,
        })
        .collect();
    assert!(
        changed.contains(&"lunch at one?".to_owned()),
        "the change is an event: {changed:?}"
    );
    carol.receive().await;
    for user in [&alice, &bob, &carol] {
        let message = shown(user, &team, &lunch);
        assert_eq!(
            (message.text.as_str(), message.edited),
            ("lunch at one?", true)
        );
        assert_eq!(
            user.client.edit_history(message.local_id).expect("edits")[0].0,
            "lunch at noon?"
        );
        assert!(user.client.search("noon", 10).expect("search").is_empty());
        assert_eq!(user.client.search("one", 10).expect("search").len(), 1);
    }
    // A reply now quotes the new text.
    assert_eq!(
        shown(&carol, &team, &reply).reply.expect("reply").original,
        Some((alice.name.clone(), "lunch at one?".to_owned()))
    );

    // Nobody else edits or deletes it: their own client refuses...
    for refused in [
        bob.client.edit_message(&team, &lunch, "lunch never").await,
        bob.client.delete_for_everyone(&team, &lunch).await,
    ] {
        assert!(
            matches!(refused, Err(ClientError::Invalid(_))),
            "{refused:?}"
        );
    }
    // ...and a modified client's edit and deletion are dropped by every other device.
    let mut mallory = TestUser::register(&server, "mallory").await;
    alice
        .client
        .add_member(&team, &mallory.name)
        .await
        .expect("add mallory");
    mallory.receive().await;
    bob.receive().await;
    carol.receive().await;
    let forger = Forger::of(&mallory);
    let devices = [
        alice.client.device_id(),
        bob.client.device_id(),
        carol.client.device_id(),
    ];
    for (seq, body) in [
        Body::Edit {
            to: lunch.clone(),
            text: "lunch is cancelled, wire me the money".into(),
        },
        Body::Delete { to: lunch.clone() },
    ]
    .into_iter()
    .enumerate()
    {
        let forged = forger.message(&team, seq as u64 + 1, body);
        mallory
            .transport(&server)
            .submit(&submit(&team, forged, &devices))
            .await
            .expect("an honest server delivers it");
    }
    for user in [&mut alice, &mut bob, &mut carol] {
        user.client.sync().await.expect("sync");
        let message = shown(user, &team, &lunch);
        assert_eq!(
            (message.text.as_str(), message.deleted),
            ("lunch at one?", false),
            "@{} kept the author's text",
            user.name
        );
    }

    // Deletion for everyone by its author: the text, its earlier versions and its
    // reactions leave every member device; the reply's quote says so.
    alice
        .client
        .delete_for_everyone(&team, &lunch)
        .await
        .expect("delete");
    for user in [&mut bob, &mut carol] {
        user.client.sync().await.expect("sync");
    }
    for user in [&alice, &bob, &carol] {
        let message = shown(user, &team, &lunch);
        assert!(message.deleted && message.text.is_empty(), "{message:?}");
        assert!(message.reactions.is_empty());
        assert!(
            user.client
                .edit_history(message.local_id)
                .expect("edits")
                .is_empty()
        );
        assert!(user.client.search("lunch", 10).expect("search").is_empty());
        let quote = shown(user, &team, &reply).reply.expect("reply");
        assert!(quote.deleted, "@{}: {quote:?}", user.name);
        let db = rusqlite::Connection::open(user.home.path().join("client.db")).expect("db");
        let left: i64 = db
            .query_row(
                "SELECT (SELECT count(*) FROM messages WHERE text LIKE '%lunch%')
                      + (SELECT count(*) FROM message_edits WHERE text LIKE '%lunch%')",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(left, 0, "@{} holds no text of it", user.name);
    }
    // A deleted message takes no reaction, edit or reply.
    assert!(matches!(
        bob.client.react(&team, &lunch, THUMBS_UP).await,
        Err(ClientError::Invalid(_))
    ));
    assert!(matches!(
        alice.client.edit_message(&team, &lunch, "again").await,
        Err(ClientError::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_replies_reacts_edits_deletes_and_shows_the_history_with_ids() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let alice = dir.path().join("alice");
    let bob = dir.path().join("bob");
    let pli = |home: &std::path::Path, args: &[&str]| {
        let mut all = vec!["--home".to_owned(), path_str(home).to_owned()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        async move {
            let args: Vec<&str> = all.iter().map(String::as_str).collect();
            run_pli(&args, &[]).await
        }
    };
    for (home, name) in [(&alice, "alice"), (&bob, "bob")] {
        pli(home, &["register", name, "--server", &server.url])
            .await
            .expect("register");
    }
    let sent = pli(&alice, &["--json", "send", "@bob", "see you at 5"])
        .await
        .expect("send");
    let sent: serde_json::Value = serde_json::from_str(&sent).expect("JSON");
    let id = sent["message_id"].as_str().expect("an id").to_owned();
    let short = &id[..8];
    let synced = pli(&bob, &["sync"]).await.expect("sync");
    assert!(
        synced.contains(&format!("@alice: see you at 5   #{short}")),
        "{synced}"
    );

    pli(&bob, &["send", "@alice", "--reply", short, "make it 6"])
        .await
        .expect("reply");
    pli(&bob, &["react", "@alice", &format!("#{short}"), THUMBS_UP])
        .await
        .expect("react");
    pli(&alice, &["sync"]).await.expect("sync");
    pli(&alice, &["edit", "@bob", short, "see you at 6"])
        .await
        .expect("edit");
    let refused = pli(&bob, &["edit", "@alice", short, "never"])
        .await
        .expect_err("not bob's message");
    assert!(refused.contains("only its author"), "{refused}");
    let unknown = pli(&bob, &["react", "@alice", "abcdef", THUMBS_UP])
        .await
        .expect_err("no such message");
    assert!(unknown.contains("no message"), "{unknown}");
    pli(&bob, &["sync"]).await.expect("sync");

    let history = pli(&bob, &["history", "@alice"]).await.expect("history");
    assert!(
        history.contains(&format!("#{short}")) && history.contains("@alice: see you at 6 (edited)"),
        "{history}"
    );
    assert!(history.contains(&format!("· {THUMBS_UP} 1")), "{history}");
    assert!(
        history.contains(&format!("↪ #{short} @alice: see you at 6")),
        "{history}"
    );
    assert!(history.contains("you: make it 6"), "{history}");

    pli(&alice, &["delete", "@bob", short])
        .await
        .expect("delete");
    pli(&bob, &["sync"]).await.expect("sync");
    let lines: Vec<serde_json::Value> = pli(&bob, &["--json", "history", "@alice"])
        .await
        .expect("history")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    let deleted = lines
        .iter()
        .find(|m| m["message_id"] == id.as_str())
        .expect("the message keeps its place");
    assert_eq!(
        (deleted["deleted"].clone(), deleted["text"].clone()),
        (serde_json::json!(true), serde_json::json!(""))
    );
    let human = pli(&bob, &["history", "@alice"]).await.expect("history");
    assert!(human.contains("@alice: message deleted"), "{human}");
}
