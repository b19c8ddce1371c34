//! What each era's rows must still be after migrating to this build's schema, read back
//! through the [`Store`] traits (what the server itself calls), not by SQL: the account
//! resolves, its queued message is delivered and acked, its key packages are claimed, the
//! audit log's leaves match its entries and the log goes on from where it was.
//!
//! The seeds of both backends write the same people and rows (alice, bob, … with the same
//! device ids and payloads), each in the schema version that first could hold them, so one
//! check serves both; a backend's era table says which checks its seed makes true. Each
//! check touches only its own rows, so checks of different eras never disturb each other
//! whatever fixture they run on; a new seed keeps to that by bringing its own people,
//! device ids and payloads rather than adding to an earlier era's.

use crate::store::conformance::{dev, group, name};
use crate::store::{
    AuditAppend, EpochRule, GovernanceEffect, KeyPackageTime, KtState, Store, StoreError,
    Submission,
};
use pli_proto::audit::AuditEntry;
use pli_proto::frame::{KIND_MLS, KIND_NOTICE};
use pli_proto::governance::{RequestState, Role};
use pli_proto::{Region, merkle};

/// The time the checks run at: after every seeded row was written, before every seeded
/// expiry (2100) and after bob's held notice's release (2027-01-15).
const NOW_MS: u64 = 1_850_000_000_000;
const NOW_S: u64 = NOW_MS / 1000;
/// The audit entry the seeds hold at position 0, byte for byte.
const AUDIT_ENTRY: &[u8] = br#"{"seq":0,"time_ms":1700000000000,"staff_id":0,"role":"server","action":"staff.add","outcome":"ok","details":{"staff_id":1}}"#;

/// The checks, one per kind of seeded row.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    Accounts,
    KeyPackages,
    Queue,
    Tickets,
    Audit,
    Staff,
    Request,
    Holds,
    Leases,
    Regions,
    Deleted,
    Ips,
    Directory,
    Endorsements,
    Shared,
    Depths,
    Lifetimes,
    Cosignatures,
    ServerKey,
    Totp,
    Reports,
    Moderation,
    Timed,
    Attachments,
    Profiles,
}

impl Check {
    pub async fn run<S: Store>(self, store: &S) {
        match self {
            Check::Accounts => accounts(store).await,
            Check::KeyPackages => key_packages(store).await,
            Check::Queue => queue(store).await,
            Check::Tickets => tickets(store).await,
            Check::Audit => audit(store).await,
            Check::Staff => staff(store).await,
            Check::Request => request(store).await,
            Check::Holds => holds(store).await,
            Check::Leases => leases(store).await,
            Check::Regions => regions(store).await,
            Check::Deleted => deleted(store).await,
            Check::Ips => ips(store).await,
            Check::Directory => directory(store).await,
            Check::Endorsements => endorsements(store).await,
            Check::Shared => shared(store).await,
            Check::Depths => depths(store).await,
            Check::Lifetimes => lifetimes(store).await,
            Check::Cosignatures => cosignatures(store).await,
            Check::ServerKey => server_key(store).await,
            Check::Totp => totp(store).await,
            Check::Reports => super::moderation::reports(store).await,
            Check::Moderation => super::moderation::moderation(store, NOW_MS).await,
            Check::Timed => timed(store).await,
            Check::Attachments => attachments(store).await,
            Check::Profiles => profiles(store).await,
        }
    }
}

/// nina's timed messages keep their ends, and the sweep deletes the one that is over.
async fn timed<S: Store>(store: &S) {
    let queued = store.fetch_queue(dev(16), None, 10).await.expect("fetch");
    let ends: Vec<_> = queued.iter().map(|q| q.expires_ms).collect();
    assert_eq!(ends, vec![Some(NOW_MS - 1_000), Some(NOW_MS + 3_600_000)]);
    assert_eq!(store.expire_timed(NOW_MS).await.expect("sweep"), 1);
    assert_eq!(payloads(store, 16).await, vec![(0, b"not yet".to_vec())]);
    let lengths = store.queue_lengths(&[dev(16)]).await.expect("lengths");
    assert_eq!(lengths, vec![(dev(16), 1)]);
}

/// otto's attachment for nina reads back for her device alone, counts for both, and the
/// sweep deletes it (its end is past).
async fn attachments<S: Store>(store: &S) {
    let id = pli_proto::attachment::AttachmentId([0x17; 16]);
    let nina = store
        .attachment_state(id, Some(dev(16)))
        .await
        .expect("state");
    assert_eq!(nina.map(|s| (s.size, s.received)), Some((116, 1)));
    let otto = store
        .attachment_state(id, Some(dev(17)))
        .await
        .expect("state");
    assert!(otto.is_some_and(|s| s.uploaded_by_asker));
    let usage = store.attachment_usage(&name("otto")).await.expect("usage");
    assert_eq!((usage.count, usage.bytes), (1, 116));
    assert_eq!(store.expire_attachments(NOW_MS).await.expect("sweep"), 1);
    assert_eq!(store.attachment_state(id, None).await.expect("state"), None);
}

/// otto's encrypted profile reads back as stored.
async fn profiles<S: Store>(store: &S) {
    let profile = store.profile(&name("otto")).await.expect("profile");
    assert_eq!(profile.as_deref(), Some(&b"sealed profile of otto"[..]));
}

/// The payloads queued for `device`, with their kinds, in delivery order.
async fn payloads<S: Store>(store: &S, device: u64) -> Vec<(u8, Vec<u8>)> {
    let queued = store
        .fetch_queue(dev(device), None, 100)
        .await
        .expect("fetch");
    queued.into_iter().map(|q| (q.kind, q.payload)).collect()
}

/// Acks the message with `payload` on `device`; returns how many entries went.
async fn ack_payload<S: Store>(store: &S, device: u64, payload: &[u8]) -> u64 {
    let queued = store
        .fetch_queue(dev(device), None, 100)
        .await
        .expect("fetch");
    let ids = queued
        .iter()
        .filter(|q| q.payload == payload)
        .map(|q| q.id)
        .collect();
    store.ack(dev(device), ids).await.expect("ack")
}

fn message(payload: &[u8], to: &[u64], rule: EpochRule, max_queue_depth: u64) -> Submission {
    Submission {
        group: group(1),
        rule,
        payload: payload.to_vec(),
        recipients: to.iter().map(|d| dev(*d)).collect(),
        welcome: None,
        now_ms: NOW_MS,
        max_queue_depth,
        expires_ms: None,
    }
}

/// alice signs in with her device's secret, lists her devices, and is in the default
/// region (the residency migration's backfill, on either backend).
async fn accounts<S: Store>(store: &S) {
    let auth = store
        .device_auth(dev(1))
        .await
        .expect("auth")
        .expect("device 1");
    assert_eq!(auth.username, name("alice"));
    assert_eq!(auth.secret_hash, [1; 32]);
    assert_eq!(auth.last_seen_day, Some(19001));
    let devices = store
        .list_devices(&name("alice"))
        .await
        .expect("devices")
        .expect("alice");
    let keys: Vec<_> = devices
        .iter()
        .map(|d| {
            (
                d.device_id.get(),
                d.signature_key.clone(),
                d.endorsement.is_some(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            (1, b"signature key 1".to_vec(), false),
            (2, b"signature key 2".to_vec(), false)
        ]
    );
    let region = store.home_region(&name("alice")).await.expect("region");
    assert_eq!(region, Some(Region::parse("default").expect("region")));
    let inventory = store
        .inventory(&name("alice"))
        .await
        .expect("inventory")
        .expect("alice");
    assert_eq!(
        (inventory.created_day, inventory.deleted_day),
        (19000, None)
    );
}

/// alice's packages from before lifetimes: valid but expiring, each one-time package handed
/// out once, then the last-resort one.
async fn key_packages<S: Store>(store: &S) {
    let status = store
        .key_package_status(dev(1), KeyPackageTime::at(NOW_S))
        .await
        .expect("status");
    assert_eq!((status.available, status.expiring), (1, 1));
    assert!(status.has_last_resort && status.last_resort_expiring);
    let mut claimed = Vec::new();
    for _ in 0..2 {
        let claim = store
            .claim_key_packages(&name("alice"), NOW_S, None)
            .await
            .expect("claim")
            .expect("alice");
        claimed.push(
            claim
                .packages
                .into_iter()
                .map(|p| (p.device_id.get(), p.key_package, p.last_resort))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        claimed,
        vec![
            vec![
                (1, b"key package 1a".to_vec(), false),
                (2, b"key package 2a".to_vec(), false)
            ],
            vec![(1, b"key package 1z".to_vec(), true)],
        ]
    );
}

/// The message queued for both of alice's devices is delivered to each and leaves each
/// queue with its ack; the group's epoch goes on from 3; a new message gets a higher id
/// than the old one (ids are never reused: clients drop duplicates by id).
async fn queue<S: Store>(store: &S) {
    assert_eq!(
        payloads(store, 1).await,
        vec![(KIND_MLS, b"hello".to_vec())]
    );
    assert_eq!(
        payloads(store, 2).await,
        vec![(KIND_MLS, b"hello".to_vec())]
    );
    let lengths = store
        .queue_lengths(&[dev(1), dev(2)])
        .await
        .expect("lengths");
    assert_eq!(lengths, vec![(dev(1), 1), (dev(2), 1)]);
    assert_eq!(store.group_epoch(&group(1)).await.expect("epoch"), Some(3));
    let old = store
        .fetch_queue(dev(1), None, 1)
        .await
        .expect("fetch")
        .remove(0)
        .id;
    let accepted = store
        .submit(message(b"after", &[1], EpochRule::Commit { epoch: 3 }, 100))
        .await
        .expect("submit");
    assert_eq!(accepted.epoch, 4);
    assert!(accepted.id.0 > old.0, "message ids are never reused");
    assert_eq!(ack_payload(store, 1, b"hello").await, 1);
    assert_eq!(
        payloads(store, 1).await,
        vec![(KIND_MLS, b"after".to_vec())]
    );
    assert_eq!(
        payloads(store, 2).await,
        vec![(KIND_MLS, b"hello".to_vec())]
    );
    assert_eq!(ack_payload(store, 2, b"hello").await, 1);
    assert_eq!(payloads(store, 2).await, vec![]);
}

/// alice's unredeemed ticket opens one WebSocket, once.
async fn tickets<S: Store>(store: &S) {
    let first = store.redeem_ws_ticket([0x22; 32], NOW_MS).await;
    assert_eq!(first.expect("redeem"), Some(dev(1)));
    let again = store.redeem_ws_ticket([0x22; 32], NOW_MS).await;
    assert_eq!(again.expect("redeem"), None);
}

/// The audit log's entry reads back as it was written, its leaf hash is that entry's, and
/// the log goes on at position 1 (a replay of position 0 is refused).
async fn audit<S: Store>(store: &S) {
    let entries = store.audit_entries(0, 10).await.expect("entries");
    assert_eq!(entries, vec![AUDIT_ENTRY.to_vec()]);
    let entry = AuditEntry::decode(&entries[0]).expect("an audit entry");
    assert_eq!((entry.seq, entry.action.as_str()), (0, "staff.add"));
    let leaves = store.audit_leaves().await.expect("leaves");
    assert_eq!(leaves, vec![merkle::leaf_hash(AUDIT_ENTRY)]);
    let checkpoints = store.audit_checkpoints(1, 10).await.expect("checkpoints");
    assert_eq!(checkpoints, vec!["the checkpoint of size 1".to_owned()]);
    let append = |seq: u64| AuditAppend {
        seq,
        entry: format!("entry {seq}").into_bytes(),
        leaf_hash: [seq as u8; 32],
        checkpoint: format!("checkpoint {}", seq + 1),
    };
    let replay = store
        .governance_commit(Some(append(0)), GovernanceEffect::default())
        .await;
    assert!(matches!(replay, Err(StoreError::AuditConflict)));
    store
        .governance_commit(Some(append(1)), GovernanceEffect::default())
        .await
        .expect("the next entry");
    assert_eq!(store.audit_leaves().await.expect("leaves").len(), 2);
}

async fn staff<S: Store>(store: &S) {
    let olivia = store.staff(1).await.expect("staff").expect("olivia");
    assert_eq!(
        (olivia.name.as_str(), olivia.role, olivia.secret_hash),
        ("olivia", Role::Operator, [0x5a; 32])
    );
    assert_eq!(store.list_staff().await.expect("staff").len(), 1);
}

/// A request recorded before salts and edits reads as one: no salt (its commitments are
/// the unsalted form), no editors.
async fn request<S: Store>(store: &S) {
    let view = store.request("r1").await.expect("request").expect("r1");
    assert_eq!(view.state, RequestState::Received);
    assert_eq!(view.request.targets, vec![name("bob")]);
    assert_eq!((view.entered_by, view.edited_by.len()), (1, 0));
    assert_eq!(view.commitment_salt, "");
    let all = store.list_requests().await.expect("requests");
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r1"]
    );
}

/// bob's hold shows in his inventory, his held notice comes due at its release time and
/// not before, and the notice already queued for him is delivered as a notice.
async fn holds<S: Store>(store: &S) {
    let inventory = store
        .inventory(&name("bob"))
        .await
        .expect("inventory")
        .expect("bob");
    assert_eq!(inventory.preserved_until_ms, Some(4_102_444_800_000));
    assert_eq!(inventory.queued_messages, 1);
    let early = store
        .due_notices(Some(&name("bob")), 1_799_999_999_999)
        .await
        .expect("due");
    assert!(early.is_empty());
    let due = store
        .due_notices(Some(&name("bob")), NOW_MS)
        .await
        .expect("due");
    let due: Vec<_> = due
        .iter()
        .map(|n| (n.request_id.as_str(), n.username.clone()))
        .collect();
    assert_eq!(due, vec![("r1", name("bob"))]);
    assert_eq!(
        payloads(store, 3).await,
        vec![(KIND_NOTICE, b"a notice".to_vec())]
    );
}

/// The lease held until 2100 keeps other nodes off the job until its holder lets go.
async fn leases<S: Store>(store: &S) {
    let ttl = 60_000;
    assert!(
        !store
            .claim_lease("retention", 8, NOW_MS, ttl)
            .await
            .expect("claim")
    );
    assert!(
        store
            .claim_lease("retention", 7, NOW_MS, ttl)
            .await
            .expect("renew")
    );
    store.release_lease("retention", 7).await.expect("release");
    assert!(
        store
            .claim_lease("retention", 8, NOW_MS, ttl)
            .await
            .expect("claim")
    );
}

async fn regions<S: Store>(store: &S) {
    let eu = Region::parse("eu").expect("region");
    let dora = store.home_region(&name("dora")).await.expect("region");
    assert_eq!(dora, Some(eu.clone()));
    let in_use = store.regions_in_use().await.expect("regions");
    assert!(in_use.contains(&eu), "{in_use:?}");
}

/// erin's deleted account keeps its row (and name) for retention, with no devices.
async fn deleted<S: Store>(store: &S) {
    assert_eq!(store.list_devices(&name("erin")).await.expect("list"), None);
    let inventory = store
        .inventory(&name("erin"))
        .await
        .expect("inventory")
        .expect("erin's row");
    assert_eq!(
        (inventory.deleted_day, inventory.devices.len()),
        (Some(19500), 0)
    );
}

async fn ips<S: Store>(store: &S) {
    let inventory = store
        .inventory(&name("alice"))
        .await
        .expect("inventory")
        .expect("alice");
    assert_eq!(inventory.ips, vec![(19010, "192.0.2.1".to_owned())]);
}

async fn directory<S: Store>(store: &S) {
    let nodes = store
        .kt_nodes(vec![b"node id".to_vec()])
        .await
        .expect("nodes");
    assert_eq!(nodes, vec![(b"node id".to_vec(), b"node data".to_vec())]);
    let states = store.kt_states(b"label".to_vec()).await.expect("states");
    let state = KtState {
        label: b"label".to_vec(),
        epoch: 1,
        version: 1,
        data: b"state data".to_vec(),
    };
    assert_eq!(states, vec![state]);
    let pending = store.kt_pending().await.expect("pending");
    assert_eq!(pending.users, vec![name("alice")]);
    assert!(store.kt_is_pending(&name("alice")).await.expect("pending"));
    let roots = store.kt_roots(1, 10).await.expect("roots");
    let roots: Vec<_> = roots
        .iter()
        .map(|r| (r.epoch, r.root, r.note.as_str()))
        .collect();
    assert_eq!(roots, vec![(1, [0x77; 32], "the root of epoch 1")]);
}

/// frank's second device carries his first device's endorsement.
async fn endorsements<S: Store>(store: &S) {
    let devices = store
        .list_devices(&name("frank"))
        .await
        .expect("devices")
        .expect("frank");
    let endorsements: Vec<_> = devices
        .iter()
        .map(|d| {
            (
                d.device_id.get(),
                d.endorsement.as_ref().map(|e| (e.by.get(), e.signature)),
            )
        })
        .collect();
    assert_eq!(endorsements, vec![(9, None), (10, Some((9, [0xee; 64])))]);
}

/// One message in two of gina's queues stays until both have acked it.
async fn shared<S: Store>(store: &S) {
    for device in [5, 6] {
        assert_eq!(
            payloads(store, device).await,
            vec![(KIND_MLS, b"counted".to_vec())]
        );
    }
    assert_eq!(ack_payload(store, 5, b"counted").await, 1);
    assert_eq!(payloads(store, 5).await, vec![]);
    assert_eq!(
        payloads(store, 6).await,
        vec![(KIND_MLS, b"counted".to_vec())]
    );
    assert_eq!(ack_payload(store, 6, b"counted").await, 1);
    let lengths = store
        .queue_lengths(&[dev(5), dev(6)])
        .await
        .expect("lengths");
    assert_eq!(lengths, vec![(dev(5), 0), (dev(6), 0)]);
}

/// hana's queue depth counts her queued message: at a depth limit of one her device takes
/// nothing more until she acks it.
async fn depths<S: Store>(store: &S) {
    let lengths = store.queue_lengths(&[dev(7)]).await.expect("lengths");
    assert_eq!(lengths, vec![(dev(7), 1)]);
    store
        .advance_epoch(&group(7), EpochRule::Commit { epoch: 0 })
        .await
        .expect("a group for hana");
    let to_hana = |payload: &[u8]| Submission {
        group: group(7),
        ..message(payload, &[7], EpochRule::Application { epoch: 1 }, 1)
    };
    let full = store.submit(to_hana(b"one too many")).await;
    assert!(matches!(full, Err(StoreError::QueueFull)), "{full:?}");
    assert_eq!(ack_payload(store, 7, b"deep").await, 1);
    store.submit(to_hana(b"room now")).await.expect("submit");
}

/// Of hana's packages with lifetimes, the expired one is never handed out.
async fn lifetimes<S: Store>(store: &S) {
    let status = store
        .key_package_status(dev(7), KeyPackageTime::at(NOW_S))
        .await
        .expect("status");
    assert_eq!((status.available, status.expiring), (1, 0));
    assert!(status.has_last_resort && !status.last_resort_expiring);
    let mut claimed = Vec::new();
    for _ in 0..2 {
        let claim = store
            .claim_key_packages(&name("hana"), NOW_S, None)
            .await
            .expect("claim")
            .expect("hana");
        claimed.extend(claim.packages.into_iter().map(|p| p.key_package));
    }
    assert_eq!(
        claimed,
        vec![b"key package 7a".to_vec(), b"key package 7z".to_vec()]
    );
}

async fn cosignatures<S: Store>(store: &S) {
    let lines = store.audit_cosignatures(1, 1).await.expect("cosignatures");
    assert_eq!(lines, vec![(1, "a cosignature line".to_owned())]);
}

/// A server key stored by an older build is kept, not replaced by a new random one.
async fn server_key<S: Store>(store: &S) {
    let key = store.server_secret("upgrade-test").await.expect("key");
    assert_eq!(key, [0x5e; 32]);
}

/// olivia's second factor keeps its secret, and no code of a step she spent works again.
async fn totp<S: Store>(store: &S) {
    let enrolled = store.staff_totp(1).await.expect("totp").expect("olivia's");
    assert_eq!(enrolled.secret, b"twenty bytes secret!".to_vec());
    assert_eq!(enrolled.last_step, 56_666_666);
    assert!(!store.spend_totp_step(1, 56_666_666).await.expect("spend"));
    assert!(store.spend_totp_step(1, 56_666_667).await.expect("spend"));
}
