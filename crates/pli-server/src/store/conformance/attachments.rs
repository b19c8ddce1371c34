//! Attachments: uploaded chunk by chunk in order by their uploader alone, read by their
//! recipients alone, gone once every recipient fetched them or they expired, within the
//! uploader's quota.

use super::{dev, name, register};
use crate::store::{AttachmentState, NewAttachment, Store, StoreError};
use bytes::Bytes;
use pli_proto::attachment::{AttachmentId, CHUNK_BYTES, chunk_len};

/// Two chunks: one full, one of 100 bytes.
const SIZE: u64 = CHUNK_BYTES as u64 + 100;

fn attachment(id: u8, recipients: &[u64], quota_bytes: u64) -> NewAttachment {
    NewAttachment {
        id: AttachmentId([id; 16]),
        uploader: Some(dev(1)),
        size: SIZE,
        recipients: recipients.iter().map(|d| dev(*d)).collect(),
        now_ms: 1_000,
        expires_ms: 50_000,
        quota_bytes,
    }
}

fn chunk(index: u32, fill: u8) -> Bytes {
    Bytes::from(vec![fill; chunk_len(SIZE, index).expect("in range")])
}

async fn users<S: Store>(store: &S) {
    for (user, device) in [("alice", 1), ("bob", 2), ("carol", 3)] {
        register(store, user, device).await;
    }
}

pub async fn an_attachment_is_uploaded_in_order_and_read_by_its_recipients_alone<S: Store>(
    store: S,
) {
    users(&store).await;
    let id = AttachmentId([1; 16]);
    store
        .create_attachment(attachment(1, &[2], u64::MAX))
        .await
        .expect("create");
    let uploader = store
        .attachment_state(id, Some(dev(1)))
        .await
        .expect("state");
    assert_eq!(
        uploader,
        Some(AttachmentState {
            size: SIZE,
            received: 0,
            uploaded_by_asker: true
        })
    );
    let bob = store
        .attachment_state(id, Some(dev(2)))
        .await
        .expect("state");
    assert!(bob.is_some_and(|s| !s.uploaded_by_asker));
    let carol = store
        .attachment_state(id, Some(dev(3)))
        .await
        .expect("state");
    assert_eq!(carol, None, "carol is no recipient");

    let put = |device: u64, index: u32, bytes: Bytes| {
        store.put_attachment_chunk(id, Some(dev(device)), index, bytes)
    };
    assert!(matches!(
        put(1, 1, chunk(1, 7)).await,
        Err(StoreError::ChunkOutOfOrder { received: 0 })
    ));
    assert!(matches!(
        put(1, 0, chunk(1, 7)).await,
        Err(StoreError::InvalidChunk)
    ));
    assert!(matches!(
        put(2, 0, chunk(0, 7)).await,
        Err(StoreError::UnknownAttachment)
    ));
    assert_eq!(put(1, 0, chunk(0, 7)).await.expect("chunk 0").received, 1);
    let again = put(1, 0, chunk(0, 9)).await.expect("chunk 0 again");
    assert_eq!(again.received, 1, "a chunk sent twice counts once");
    assert!(matches!(
        store.attachment_chunk(id, dev(2), 1).await,
        Err(StoreError::AttachmentIncomplete)
    ));
    assert!(matches!(
        store.attachment_fetched(id, dev(2)).await,
        Err(StoreError::AttachmentIncomplete)
    ));
    assert!(matches!(
        store.attachment_chunk(id, dev(3), 0).await,
        Err(StoreError::UnknownAttachment)
    ));
    let first = store
        .attachment_chunk(id, dev(2), 0)
        .await
        .expect("chunk 0");
    assert_eq!(
        first,
        chunk(0, 7),
        "the first upload's bytes, not the repeat's"
    );
    assert_eq!(put(1, 1, chunk(1, 8)).await.expect("chunk 1").received, 2);
    let last = store
        .attachment_chunk(id, dev(2), 1)
        .await
        .expect("chunk 1");
    assert_eq!(last, chunk(1, 8));

    assert!(store.attachment_fetched(id, dev(2)).await.expect("fetched"));
    assert_eq!(store.attachment_state(id, None).await.expect("state"), None);
    assert!(matches!(
        store.attachment_chunk(id, dev(2), 0).await,
        Err(StoreError::UnknownAttachment)
    ));
}

pub async fn an_attachment_stays_until_its_last_recipient_fetched_it<S: Store>(store: S) {
    users(&store).await;
    let id = AttachmentId([2; 16]);
    store
        .create_attachment(attachment(2, &[2, 3], u64::MAX))
        .await
        .expect("create");
    for index in 0..2 {
        store
            .put_attachment_chunk(id, Some(dev(1)), index, chunk(index, 5))
            .await
            .expect("chunk");
    }
    assert!(!store.attachment_fetched(id, dev(2)).await.expect("bob"));
    assert!(
        !store
            .attachment_fetched(id, dev(1))
            .await
            .expect("uploader"),
        "the uploader's word does not count"
    );
    let carols = store.attachment_chunk(id, dev(3), 1).await.expect("carol");
    assert_eq!(carols, chunk(1, 5));
    assert!(store.attachment_fetched(id, dev(3)).await.expect("carol"));
    assert_eq!(
        store
            .attachment_state(id, Some(dev(1)))
            .await
            .expect("state"),
        None
    );
}

pub async fn attachments_count_against_a_quota_and_expire<S: Store>(store: S) {
    users(&store).await;
    store
        .create_attachment(attachment(3, &[2], SIZE))
        .await
        .expect("within the quota");
    assert!(matches!(
        store.create_attachment(attachment(4, &[2], SIZE)).await,
        Err(StoreError::QuotaExceeded)
    ));
    assert!(matches!(
        store.create_attachment(attachment(3, &[2], u64::MAX)).await,
        Err(StoreError::AttachmentExists)
    ));
    assert!(matches!(
        store
            .create_attachment(attachment(5, &[2, 99], u64::MAX))
            .await,
        Err(StoreError::UnknownRecipient)
    ));
    let nothing = store
        .attachment_state(AttachmentId([5; 16]), None)
        .await
        .expect("state");
    assert_eq!(nothing, None, "a refused create leaves nothing");

    let alice = store.attachment_usage(&name("alice")).await.expect("usage");
    assert_eq!((alice.count, alice.bytes), (1, SIZE));
    let bob = store.attachment_usage(&name("bob")).await.expect("usage");
    assert_eq!(
        (bob.count, bob.bytes),
        (1, SIZE),
        "waiting for bob's device"
    );
    let carol = store.attachment_usage(&name("carol")).await.expect("usage");
    assert_eq!(carol.count, 0);

    let id = AttachmentId([3; 16]);
    store
        .put_attachment_chunk(id, Some(dev(1)), 0, chunk(0, 1))
        .await
        .expect("chunk");
    assert_eq!(store.expire_attachments(49_999).await.expect("sweep"), 0);
    assert_eq!(store.expire_attachments(50_000).await.expect("sweep"), 1);
    assert_eq!(store.attachment_state(id, None).await.expect("state"), None);
    assert!(matches!(
        store.attachment_chunk(id, dev(2), 0).await,
        Err(StoreError::UnknownAttachment)
    ));
    let alice = store.attachment_usage(&name("alice")).await.expect("usage");
    assert_eq!(alice.count, 0, "the quota is free again");
    store
        .create_attachment(attachment(4, &[2], SIZE))
        .await
        .expect("room again");
}

#[macro_export]
macro_rules! conformance_attachments {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            an_attachment_is_uploaded_in_order_and_read_by_its_recipients_alone,
            an_attachment_stays_until_its_last_recipient_fetched_it,
            attachments_count_against_a_quota_and_expire,
        );
    };
}
