//! Checks for what several writers at once (several nodes, on PostgreSQL) must not break:
//! per-device ordering as seen by a paging reader, one-time key packages, job leases and
//! shared server secrets.

use super::{dev, group, register, submission};
use crate::store::{EpochRule, Store};
use pli_proto::MessageId;
use std::collections::BTreeSet;

/// A reader that pages with `after = last id seen` while writers commit must see every
/// message: a message id may never become visible below one the reader already passed.
pub async fn readers_paging_during_concurrent_writes_miss_nothing<S: Store>(store: S) {
    const WRITERS: u8 = 4;
    const EACH: u8 = 40;
    register(&store, "alice", 1).await;
    let g = group(9);
    store
        .submit(submission(&g, EpochRule::Commit { epoch: 0 }, b"c", &[1]))
        .await
        .expect("create");
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            let g = g.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    let mut s = submission(&g, EpochRule::Application { epoch: 1 }, &[w, i], &[1]);
                    s.max_queue_depth = 10_000;
                    store.submit(s).await.expect("submit");
                }
            })
        })
        .collect();
    let expected = 1 + usize::from(WRITERS) * usize::from(EACH);
    let mut seen: Vec<MessageId> = Vec::new();
    let mut after = None;
    let mut writers_done = false;
    loop {
        let page = store.fetch_queue(dev(1), after, 16).await.expect("fetch");
        if let Some(last) = page.last() {
            after = Some(last.id);
        }
        let empty = page.is_empty();
        seen.extend(page.iter().map(|q| q.id));
        if empty && writers_done {
            break;
        }
        if empty {
            writers_done = writers.iter().all(|w| w.is_finished());
            tokio::task::yield_now().await;
        }
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no message paged twice");
    assert_eq!(
        seen.len(),
        expected,
        "the paging reader saw every message exactly once"
    );
}
