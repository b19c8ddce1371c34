//! The client's hot paths against raw openmls, in the same run: encrypting a 256-byte
//! message, decrypting one, and processing a commit, in groups of 10, 100, 1,000 and
//! 10,000 members. "openmls" is openmls with its in-memory provider; "pli" is the code a
//! pli client runs (`pli_client::hot_paths`): the same MLS operation inside one SQLite
//! transaction with pli's bookkeeping (outbox chain, history, processed ids), durable.
//!
//! `PLI_BENCH_MEMBERS=10,100` limits the group sizes (the 10,000-member set-up takes about
//! a minute). Results go to BENCHMARKS.md by hand.

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use pli_client::hot_paths::LocalDevice;
use pli_client::mls;
use pli_proto::payload::{Body, ENVELOPE_VERSION, Envelope};
use pli_proto::{DeviceId, GroupId, Username};
use std::time::Duration;

const MESSAGE_BYTES: usize = 256;

fn member_counts() -> Vec<usize> {
    std::env::var("PLI_BENCH_MEMBERS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000, 10_000])
}

fn user(name: &str) -> Username {
    Username::parse(name).expect("a valid username")
}

fn device(id: u64) -> DeviceId {
    DeviceId::new(id).expect("a valid device id")
}

fn bytes(message: &MlsMessageOut) -> Vec<u8> {
    message.tls_serialize_detached().expect("serialise")
}

/// An openmls identity with the in-memory provider.
struct RawIdentity {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

impl RawIdentity {
    fn new(name: &str, id: u64) -> Self {
        let signer = mls::new_signer().expect("signer");
        let credential = mls::credential(&user(name), device(id), &signer);
        Self {
            provider: OpenMlsRustCrypto::default(),
            signer,
            credential,
        }
    }

    fn key_package(&self, name: &str, id: u64) -> KeyPackage {
        let made = mls::key_packages(&self.provider, &self.signer, &self.credential, 1, false)
            .expect("key package");
        verify(&self.provider, &made.one_time[0], name, id)
    }
}

fn verify(provider: &OpenMlsRustCrypto, bytes: &[u8], name: &str, id: u64) -> KeyPackage {
    mls::verify_claimed(provider.crypto(), bytes, &user(name), device(id)).expect("valid package")
}

/// The group's creator, who sends application messages and commits in it.
struct Creator {
    identity: RawIdentity,
    group: MlsGroup,
    seq: u64,
    prev: Option<String>,
}

impl Creator {
    /// A group of the creator, `joiner` and dummies up to `members`; returns the Welcome.
    fn new(members: usize, joiner: KeyPackage, dummies: &[KeyPackage]) -> (Self, Vec<u8>) {
        let identity = RawIdentity::new("creator", 1);
        let id = GroupId::from_bytes(&rand::random::<[u8; 16]>()).expect("group id");
        let mut group = MlsGroup::new_with_group_id(
            &identity.provider,
            &identity.signer,
            &mls::create_config(),
            mls::group_id(&id),
            identity.credential.clone(),
        )
        .expect("group");
        let mut packages = vec![joiner];
        packages.extend_from_slice(&dummies[..members.saturating_sub(2)]);
        let (_, welcome, _) = group
            .add_members(&identity.provider, &identity.signer, &packages)
            .expect("add members");
        group
            .merge_pending_commit(&identity.provider)
            .expect("merge");
        let creator = Self {
            identity,
            group,
            seq: 0,
            prev: None,
        };
        (creator, bytes(&welcome))
    }

    fn id(&self) -> GroupId {
        GroupId::from_bytes(self.group.group_id().as_slice()).expect("group id")
    }

    /// The next link of the creator's envelope chain, encrypted.
    fn message(&mut self) -> Vec<u8> {
        self.seq += 1;
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            seq: self.seq,
            prev: self.prev.take(),
            sent_at: 0,
            body: Body::text("x".repeat(MESSAGE_BYTES)),
            kt: None,
            id: None,
            frank: None,
            expires: None,
        }
        .encode();
        self.prev = Some(Envelope::chain_hash(&envelope));
        let message = self
            .group
            .create_message(&self.identity.provider, &self.identity.signer, &envelope)
            .expect("encrypt");
        bytes(&message)
    }

    fn commit(&mut self) -> Vec<u8> {
        let bundle = self
            .group
            .self_update(
                &self.identity.provider,
                &self.identity.signer,
                LeafNodeParameters::default(),
            )
            .expect("commit");
        self.group
            .merge_pending_commit(&self.identity.provider)
            .expect("merge");
        bytes(&bundle.into_commit())
    }
}

/// A member on raw openmls.
struct RawMember {
    identity: RawIdentity,
    group: MlsGroup,
}

impl RawMember {
    fn join(identity: RawIdentity, welcome: &[u8]) -> Self {
        let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(welcome)
            .expect("welcome")
            .extract()
        else {
            panic!("not a welcome");
        };
        let group =
            StagedWelcome::new_from_welcome(&identity.provider, &mls::join_config(), welcome, None)
                .expect("stage welcome")
                .into_group(&identity.provider)
                .expect("join");
        Self { identity, group }
    }

    fn encrypt(&mut self) -> Vec<u8> {
        let message = self
            .group
            .create_message(
                &self.identity.provider,
                &self.identity.signer,
                &[7; MESSAGE_BYTES],
            )
            .expect("encrypt");
        bytes(&message)
    }

    fn process(&mut self, message: &[u8]) {
        let protocol = MlsMessageIn::tls_deserialize_exact(message)
            .expect("message")
            .try_into_protocol_message()
            .expect("protocol message");
        let processed = self
            .group
            .process_message(&self.identity.provider, protocol)
            .expect("process");
        if let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() {
            self.group
                .merge_staged_commit(&self.identity.provider, *staged)
                .expect("merge");
        }
    }
}

/// Both sides at one group size: the same creator behaviour into two groups, one with a
/// raw openmls member and one with a pli member.
struct Setup {
    raw_creator: Creator,
    raw: RawMember,
    pli_creator: Creator,
    pli: LocalDevice,
    pli_group: GroupId,
    next_id: u64,
    _home: tempfile::TempDir,
}

impl Setup {
    fn new(members: usize) -> Self {
        let verifier = OpenMlsRustCrypto::default();
        let dummies: Vec<KeyPackage> = (0..members.saturating_sub(2))
            .map(|i| RawIdentity::new("dummy", 100 + i as u64).key_package("dummy", 100 + i as u64))
            .collect();
        let raw_identity = RawIdentity::new("rawmember", 3);
        let raw_package = raw_identity.key_package("rawmember", 3);
        let (raw_creator, welcome) = Creator::new(members, raw_package, &dummies);
        let raw = RawMember::join(raw_identity, &welcome);

        let home = tempfile::tempdir().expect("temp dir");
        let mut pli =
            LocalDevice::create(home.path(), &user("plimember"), device(4)).expect("device");
        let pli_package = verify(
            &verifier,
            &pli.key_package().expect("key package"),
            "plimember",
            4,
        );
        let (pli_creator, welcome) = Creator::new(members, pli_package, &dummies);
        pli.process(1, &welcome).expect("join");
        let pli_group = pli_creator.id();
        pli.trust_members(&pli_group).expect("trust members");
        assert!(
            pli.epoch(&pli_group).expect("epoch").is_some(),
            "the pli member joined"
        );
        Self {
            raw_creator,
            raw,
            pli_creator,
            pli,
            pli_group,
            next_id: 2,
            _home: home,
        }
    }
}

fn hot_paths(c: &mut Criterion) {
    for members in member_counts() {
        let mut s = Setup::new(members);
        let mut group = c.benchmark_group(format!("{members} members"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(if members >= 10_000 { 8 } else { 3 }));

        group.bench_function("encrypt/openmls", |b| b.iter(|| s.raw.encrypt()));
        group.bench_function("encrypt/pli", |b| {
            b.iter(|| {
                s.pli
                    .encrypt(&s.pli_group, &[7; MESSAGE_BYTES])
                    .expect("encrypt")
                    .expect("a member")
            })
        });

        group.bench_function("decrypt/openmls", |b| {
            b.iter_batched(
                || s.raw_creator.message(),
                |m| s.raw.process(&m),
                BatchSize::PerIteration,
            )
        });
        let stored = s.pli.messages_stored().expect("count");
        let mut processed = 0;
        group.bench_function("decrypt/pli", |b| {
            b.iter_batched(
                || {
                    s.next_id += 1;
                    (s.next_id, s.pli_creator.message())
                },
                |(id, m)| {
                    s.pli.process(id, &m).expect("process");
                    processed += 1;
                },
                BatchSize::PerIteration,
            )
        });
        assert_eq!(
            s.pli.messages_stored().expect("count"),
            stored + processed,
            "every message was decrypted and stored"
        );

        group.bench_function("commit/openmls", |b| {
            b.iter_batched(
                || s.raw_creator.commit(),
                |m| s.raw.process(&m),
                BatchSize::PerIteration,
            )
        });
        let epoch = s.pli.epoch(&s.pli_group).expect("epoch").expect("a member");
        let mut commits = 0;
        group.bench_function("commit/pli", |b| {
            b.iter_batched(
                || {
                    s.next_id += 1;
                    (s.next_id, s.pli_creator.commit())
                },
                |(id, m)| {
                    s.pli.process(id, &m).expect("process");
                    commits += 1;
                },
                BatchSize::PerIteration,
            )
        });
        assert_eq!(
            s.pli.epoch(&s.pli_group).expect("epoch"),
            Some(epoch + commits),
            "every commit was processed"
        );
        let (served, decoded) = s.pli.group_cache_stats();
        assert!(
            served > decoded,
            "the group cache served most messages ({served} served, {decoded} decoded)"
        );
        group.finish();
    }
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
