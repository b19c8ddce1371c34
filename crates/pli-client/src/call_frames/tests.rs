//! Frame keys of a real call group (openmls, on each member's own database): every member
//! opens the others' frames; a member who left, or joined later, opens nothing of the
//! epochs it was not in; the previous epoch opens only for the grace period.

use super::*;
use crate::mls::{self, Provider};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use pli_proto::{DeviceId, Username};

struct Member {
    _home: tempfile::TempDir,
    conn: rusqlite::Connection,
    crypto: RustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    group: Option<MlsGroup>,
}

impl Member {
    fn new(name: &str, device: u64) -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let conn = crate::local::open(home.path()).expect("open");
        let signer = mls::new_signer().expect("signer");
        let user = Username::parse(name).expect("username");
        let credential = mls::credential(&user, DeviceId::new(device).expect("id"), &signer);
        Self {
            _home: home,
            conn,
            crypto: RustCrypto::default(),
            signer,
            credential,
            group: None,
        }
    }

    fn provider(&self) -> Provider<'_> {
        Provider::new(&self.crypto, &self.conn)
    }

    fn start(&mut self) {
        let id = GroupId::from_slice(&rand::random::<[u8; 32]>());
        let group = MlsGroup::new_with_group_id(
            &self.provider(),
            &self.signer,
            &mls::create_config(),
            id,
            self.credential.clone(),
        )
        .expect("call group");
        self.group = Some(group);
    }

    fn key_package(&self) -> KeyPackage {
        KeyPackage::builder()
            .build(
                mls::ciphersuite(),
                &self.provider(),
                &self.signer,
                self.credential.clone(),
            )
            .expect("key package")
            .key_package()
            .clone()
    }

    fn group(&self) -> &MlsGroup {
        self.group.as_ref().expect("in the call")
    }

    fn frames(&self) -> CallFrames {
        CallFrames::new(self.group(), &self.crypto).expect("frame keys")
    }

    /// Adds `joiners`; returns the commit for the members already in and the Welcome.
    fn add(&mut self, joiners: &[&Member]) -> (Vec<u8>, Vec<u8>) {
        let packages: Vec<KeyPackage> = joiners.iter().map(|m| m.key_package()).collect();
        let provider = Provider::new(&self.crypto, &self.conn);
        let group = self.group.as_mut().expect("in the call");
        let (commit, welcome, _) = group
            .add_members(&provider, &self.signer, &packages)
            .expect("add");
        group.merge_pending_commit(&provider).expect("merge");
        (
            mls::serialize(&commit).expect("commit"),
            mls::serialize(&welcome).expect("welcome"),
        )
    }

    fn remove(&mut self, leaf: LeafNodeIndex) -> Vec<u8> {
        let provider = Provider::new(&self.crypto, &self.conn);
        let group = self.group.as_mut().expect("in the call");
        let (commit, _, _) = group
            .remove_members(&provider, &self.signer, &[leaf])
            .expect("remove");
        group.merge_pending_commit(&provider).expect("merge");
        mls::serialize(&commit).expect("commit")
    }

    fn join(&mut self, welcome: &[u8]) {
        let message = MlsMessageIn::tls_deserialize_exact(welcome).expect("welcome");
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            panic!("not a welcome");
        };
        let provider = self.provider();
        let group = StagedWelcome::new_from_welcome(&provider, &mls::join_config(), welcome, None)
            .expect("staged")
            .into_group(&provider)
            .expect("joined");
        self.group = Some(group);
    }

    fn apply(&mut self, commit: &[u8]) {
        let message = MlsMessageIn::tls_deserialize_exact(commit).expect("commit");
        let MlsMessageBodyIn::PrivateMessage(private) = message.extract() else {
            panic!("not a private message");
        };
        let provider = Provider::new(&self.crypto, &self.conn);
        let group = self.group.as_mut().expect("in the call");
        let processed = group.process_message(&provider, private).expect("process");
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            panic!("not a commit");
        };
        group
            .merge_staged_commit(&provider, *staged)
            .expect("merge");
    }

    fn leaf(&self) -> u32 {
        self.group().own_leaf_index().u32()
    }
}

#[test]
fn every_member_opens_the_others_frames_and_the_relay_sees_only_sframe() {
    let (mut alice, mut bob, mut carol) = (
        Member::new("alice", 1),
        Member::new("bob", 2),
        Member::new("carol", 3),
    );
    alice.start();
    let (_, welcome) = alice.add(&[&bob, &carol]);
    bob.join(&welcome);
    carol.join(&welcome);
    let now = Instant::now();
    let mut at_alice = alice.frames();
    let codec_header = b"vp8 keyframe";
    let voice = b"an opus frame of alice's voice".as_slice();
    let sealed = at_alice.seal(codec_header, voice).expect("seal");
    for member in [&bob, &carol] {
        let (sender, frame) = member
            .frames()
            .open(codec_header, &sealed, now)
            .expect("open");
        assert_eq!((sender, frame.as_slice()), (alice.leaf(), voice));
    }
    // The metadata is authenticated: a relay that changes it breaks the frame.
    assert!(matches!(
        bob.frames().open(b"vp8 delta", &sealed, now),
        Err(FrameError::NoKey)
    ));
    // What the relay forwards parses as SFrame and holds nothing of the frame in clear.
    assert!(EncryptedFrameView::try_new(&sealed).is_ok());
    assert!(!sealed.windows(voice.len()).any(|w| w == voice));
    assert!(matches!(
        bob.frames().open(b"", b"\x00", now),
        Err(FrameError::Malformed | FrameError::NoKey)
    ));
    // One code for the epoch on every side.
    let code = CallFrames::code(alice.group());
    assert_eq!(code, CallFrames::code(bob.group()));
    assert_eq!(code, CallFrames::code(carol.group()));
}

#[test]
fn after_a_leave_and_a_join_only_the_members_of_an_epoch_open_its_frames() {
    let (mut alice, mut bob, mut carol, mut dave) = (
        Member::new("alice", 1),
        Member::new("bob", 2),
        Member::new("carol", 3),
        Member::new("dave", 4),
    );
    alice.start();
    let (_, welcome) = alice.add(&[&bob, &carol]);
    bob.join(&welcome);
    carol.join(&welcome);
    let (mut at_alice, mut at_bob) = (alice.frames(), bob.frames());
    let at_carol = carol.frames();
    let switch = Instant::now();
    let before = at_alice
        .seal(b"", b"said while carol was in")
        .expect("seal");
    let code_before = CallFrames::code(alice.group());

    // carol is removed while alice speaks: alice and bob switch to the new epoch.
    let carol_leaf = carol.group().own_leaf_index();
    let commit = alice.remove(carol_leaf);
    bob.apply(&commit);
    at_alice
        .rekey(alice.group(), &alice.crypto, switch)
        .expect("rekey");
    at_bob
        .rekey(bob.group(), &bob.crypto, switch)
        .expect("rekey");
    assert_eq!(at_alice.epoch(), at_bob.epoch());
    assert_ne!(CallFrames::code(alice.group()), code_before);
    let after = at_alice.seal(b"", b"said after carol left").expect("seal");
    assert_eq!(
        at_bob.open(b"", &after, switch).expect("bob opens").1,
        b"said after carol left"
    );
    assert!(
        matches!(at_carol.open(b"", &after, switch), Err(FrameError::NoKey)),
        "no key carol holds opens what follows her leave"
    );
    // A frame of the previous epoch still in flight opens within the grace, not after.
    let soon = switch + Duration::from_millis(500);
    assert!(at_bob.open(b"", &before, soon).is_ok());
    let late = switch + PREVIOUS_EPOCH_GRACE + Duration::from_millis(1);
    assert!(matches!(
        at_bob.open(b"", &before, late),
        Err(FrameError::NoKey)
    ));

    // dave joins: he opens what comes now, and nothing from before he came.
    let (commit, welcome) = alice.add(&[&dave]);
    bob.apply(&commit);
    dave.join(&welcome);
    let joined = switch + Duration::from_secs(10);
    at_alice
        .rekey(alice.group(), &alice.crypto, joined)
        .expect("rekey");
    at_bob
        .rekey(bob.group(), &bob.crypto, joined)
        .expect("rekey");
    let at_dave = dave.frames();
    let now_said = at_bob.seal(b"", b"bob welcomes dave").expect("seal");
    assert_eq!(
        at_dave.open(b"", &now_said, joined).expect("dave opens").1,
        b"bob welcomes dave"
    );
    assert_eq!(
        at_alice
            .open(b"", &now_said, joined)
            .expect("alice opens")
            .0,
        bob.leaf()
    );
    for earlier in [&before, &after] {
        assert!(matches!(
            at_dave.open(b"", earlier, joined),
            Err(FrameError::NoKey)
        ));
    }
}
