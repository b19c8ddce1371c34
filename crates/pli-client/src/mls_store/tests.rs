//! The store reads what `openmls_sqlite_storage` wrote and carries a group on from there.

use super::{PACKED, pack, unpack};
use crate::mls::{self, JsonCodec, Provider};
use openmls::ciphersuite::hash_ref::ProposalRef;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::RustCrypto;
use openmls_sqlite_storage::SqliteStorageProvider;
use openmls_traits::storage::StorageProvider as _;
use pli_proto::{DeviceId, Username};
use rusqlite::Connection;

/// openmls on `openmls_sqlite_storage`'s provider: how pli stored groups before `mls_store`.
type Legacy<'a> = Provider<'a, SqliteStorageProvider<JsonCodec, &'a Connection>>;

/// One device: its database with openmls's tables, its signer and credential.
struct Member {
    conn: Connection,
    crypto: RustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

impl Member {
    fn new(name: &str, device: u64) -> Self {
        let mut conn = Connection::open_in_memory().expect("database");
        mls::migrate(&mut conn).expect("openmls tables");
        let signer = mls::new_signer().expect("signer");
        let user = Username::parse(name).expect("username");
        let credential = mls::credential(&user, DeviceId::new(device).expect("device"), &signer);
        Self {
            conn,
            crypto: RustCrypto::default(),
            signer,
            credential,
        }
    }

    fn legacy(&self) -> Legacy<'_> {
        Legacy::with_storage(&self.crypto, SqliteStorageProvider::new(&self.conn))
    }

    fn provider(&self) -> Provider<'_> {
        Provider::new(&self.crypto, &self.conn)
    }

    /// Values of `table`'s `column` for this device, as stored.
    fn stored(&self, table: &str, column: &str) -> Vec<Vec<u8>> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {column} FROM {table}"))
            .expect("query");
        st.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    }
}

fn wire(message: &MlsMessageOut) -> Vec<u8> {
    message.tls_serialize_detached().expect("serialise")
}

fn protocol(bytes: &[u8]) -> ProtocolMessage {
    MlsMessageIn::tls_deserialize_exact(bytes)
        .expect("message")
        .try_into_protocol_message()
        .expect("protocol message")
}

/// Processes a message; merges a commit, queues a proposal; returns an application
/// message's bytes.
fn receive(group: &mut MlsGroup, provider: &impl OpenMlsProvider, bytes: &[u8]) -> Vec<u8> {
    let processed = group
        .process_message(provider, protocol(bytes))
        .expect("process");
    match processed.into_content() {
        ProcessedMessageContent::ApplicationMessage(app) => app.into_bytes(),
        ProcessedMessageContent::StagedCommitMessage(staged) => {
            group.merge_staged_commit(provider, *staged).expect("merge");
            Vec::new()
        }
        ProcessedMessageContent::ProposalMessage(proposal) => {
            group
                .store_pending_proposal(provider.storage(), *proposal)
                .expect("queue proposal");
            Vec::new()
        }
        _ => panic!("unexpected content"),
    }
}

#[test]
fn values_are_packed_and_json_values_still_read() {
    let value = (vec![0u8, 255, 7], Some("text".to_string()), 42u64);
    let packed = pack(&value).expect("pack");
    assert_eq!(packed[0], PACKED);
    assert!(
        packed.len() < serde_json::to_vec(&value).expect("json").len(),
        "the packed form is the smaller one"
    );
    let back: (Vec<u8>, Option<String>, u64) = unpack(&packed).expect("unpack");
    assert_eq!(back, value);
    let json = serde_json::to_vec(&value).expect("json");
    let from_json: (Vec<u8>, Option<String>, u64) = unpack(&json).expect("unpack json");
    assert_eq!(from_json, value);
    assert!(
        unpack::<u64>(&[PACKED, 0xc1]).is_err(),
        "a damaged value is an error, not a default"
    );
}

/// A group written by `openmls_sqlite_storage` (Alice's and Bob's homes from before),
/// then carried on by the store: messages both ways, a proposal queued and committed, an
/// update commit. Every row written since is in the packed form, and the rows are still
/// found by the keys the old provider wrote.
#[test]
fn a_group_stored_by_openmls_sqlite_storage_carries_on() {
    let alice = Member::new("alice", 1);
    let bob = Member::new("bob", 2);
    let bob_package = KeyPackage::builder()
        .build(
            mls::ciphersuite(),
            &bob.legacy(),
            &bob.signer,
            bob.credential.clone(),
        )
        .expect("key package");
    alice
        .signer
        .store(alice.legacy().storage())
        .expect("store signer");
    let mut group = MlsGroup::new(
        &alice.legacy(),
        &alice.signer,
        &mls::create_config(),
        alice.credential.clone(),
    )
    .expect("group");
    let (_, welcome, _) = group
        .add_members(
            &alice.legacy(),
            &alice.signer,
            &[bob_package.key_package().clone()],
        )
        .expect("add bob");
    group.merge_pending_commit(&alice.legacy()).expect("merge");
    let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(wire(&welcome))
        .expect("welcome")
        .extract()
    else {
        panic!("not a welcome");
    };
    let joined = StagedWelcome::new_from_welcome(&bob.legacy(), &mls::join_config(), welcome, None)
        .expect("stage")
        .into_group(&bob.legacy())
        .expect("join");
    let id = group.group_id().clone();
    let epoch = joined.epoch();
    drop((group, joined));
    assert!(
        alice
            .stored("openmls_group_data", "group_data")
            .iter()
            .all(|v| v[0] != PACKED),
        "the old provider wrote JSON"
    );

    // From here on, only the store.
    let (ap, bp) = (alice.provider(), bob.provider());
    let mut a = MlsGroup::load(ap.storage(), &id)
        .expect("load")
        .expect("alice's group");
    let mut b = MlsGroup::load(bp.storage(), &id)
        .expect("load")
        .expect("bob's group");
    assert_eq!((a.epoch(), b.epoch()), (epoch, epoch));
    let signer = mls::load_signer(ap.storage(), alice.signer.public()).expect("old signer reads");
    assert_eq!(signer.public(), alice.signer.public());

    let hello = a
        .create_message(&ap, &alice.signer, b"hello")
        .expect("encrypt");
    assert_eq!(receive(&mut b, &bp, &wire(&hello)), b"hello");

    let (proposal, _) = b
        .propose_self_update(&bp, &bob.signer, LeafNodeParameters::default())
        .expect("propose");
    receive(&mut a, &ap, &wire(&proposal));
    let queued: Vec<(ProposalRef, QueuedProposal)> =
        ap.storage().queued_proposals(&id).expect("queued");
    assert_eq!(queued.len(), 1, "Alice holds Bob's proposal");
    let (commit, _, _) = a
        .commit_to_pending_proposals(&ap, &alice.signer)
        .expect("commit proposals");
    a.merge_pending_commit(&ap).expect("merge");
    receive(&mut b, &bp, &wire(&commit));
    let queued: Vec<(ProposalRef, QueuedProposal)> =
        ap.storage().queued_proposals(&id).expect("queued");
    assert!(queued.is_empty(), "the commit emptied Alice's queue");

    let update = b
        .self_update(&bp, &bob.signer, LeafNodeParameters::default())
        .expect("update");
    b.merge_pending_commit(&bp).expect("merge");
    receive(&mut a, &ap, &wire(&update.into_commit()));
    assert_eq!(a.epoch(), b.epoch());
    assert_eq!(a.epoch().as_u64(), epoch.as_u64() + 2);

    let reply = b.create_message(&bp, &bob.signer, b"hi").expect("encrypt");
    assert_eq!(receive(&mut a, &ap, &wire(&reply)), b"hi");

    // What the groups hold now decodes from the database alone.
    drop((a, b));
    let a = MlsGroup::load(ap.storage(), &id)
        .expect("load")
        .expect("group");
    assert_eq!(a.epoch().as_u64(), epoch.as_u64() + 2);
    for member in [&alice, &bob] {
        let tree_rows: Vec<Vec<u8>> = member
            .conn
            .prepare("SELECT group_data FROM openmls_group_data WHERE data_type = 'tree'")
            .expect("query")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            tree_rows.len(),
            1,
            "one tree per group, found by its old key"
        );
        assert_eq!(tree_rows[0][0], PACKED, "the tree was rewritten packed");
        assert!(
            member
                .stored("openmls_epoch_keys_pairs", "key_pairs")
                .iter()
                .any(|v| v[0] == PACKED),
            "epoch keys written since are packed"
        );
    }
}
