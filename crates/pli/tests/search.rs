//! Search in the local history: messages holding every word, newest first, found by the
//! recipient and the sender alike, as soon as they are stored; words that look like FTS5
//! syntax are only words; `pli search` prints the same.

mod common;

use common::{TestServer, TestUser, path_str, run_pli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_searched_by_every_word() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let chat = alice.chat_with(&bob).await;
    for text in [
        "the quarterly numbers are ready",
        "lunch tomorrow?",
        "numbers again, revised",
    ] {
        alice.send(&chat, text).await;
    }
    assert_eq!(bob.receive().await.len(), 3);

    let found = bob.client.search("numbers", 10).expect("search");
    let texts: Vec<&str> = found.iter().map(|f| f.text.as_str()).collect();
    assert_eq!(
        texts,
        ["numbers again, revised", "the quarterly numbers are ready"],
        "newest first"
    );
    assert!(
        found
            .iter()
            .all(|f| f.sender == alice.name && f.conversation == chat)
    );
    // Every word must be there; the last may be the start of one.
    assert_eq!(
        bob.client
            .search("numbers ready", 10)
            .expect("search")
            .len(),
        1
    );
    assert_eq!(bob.client.search("quart", 10).expect("search").len(), 1);
    assert!(bob.client.search("dinner", 10).expect("search").is_empty());
    assert_eq!(bob.client.search("numbers", 1).expect("search").len(), 1);
    // The sender finds her own messages too.
    assert_eq!(alice.client.search("lunch", 10).expect("search").len(), 1);
    // FTS5's syntax in a search is text, never an error.
    for odd in ["numbers AND (", "NEAR(\"x", "*", "\"", "numbers OR"] {
        bob.client.search(odd, 10).expect(odd);
    }
    assert!(
        bob.client.search("   ", 10).is_err(),
        "no words: a clear error"
    );

    let home = path_str(bob.home.path());
    let printed = run_pli(&["--home", home, "search", "numbers", "again"], &[])
        .await
        .expect("pli search");
    assert!(
        printed.contains("[@alice] @alice: numbers again, revised"),
        "{printed}"
    );
    assert_eq!(printed.lines().count(), 1, "{printed}");
}
