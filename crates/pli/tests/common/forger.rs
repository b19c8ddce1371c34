//! MLS by hand on a registered device's own home: what a modified client (an ordinary
//! account's own software) can send through an honest server, to test what the real
//! client does with it.

use super::TestUser;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::RustCrypto;
use pli_client::mls::{self as pli_mls, Provider};
use pli_proto::api::SubmitRequest;
use pli_proto::payload::{self, Body, ENVELOPE_VERSION, Envelope};
use pli_proto::{DeviceId, GroupId as PliGroupId, Username};

/// MLS by hand on one registered device's own home: what a modified client can do.
pub struct Forger {
    conn: rusqlite::Connection,
    crypto: RustCrypto,
    signer: SignatureKeyPair,
    device: DeviceId,
}

impl Forger {
    pub fn of(user: &TestUser) -> Self {
        let identity = user.identity();
        let conn = pli_client::local::open(user.home.path()).expect("the device's database");
        let signer =
            pli_mls::load_signer(&pli_mls::Storage::new(&conn), &identity.signature_public)
                .expect("the device's signer");
        Self {
            conn,
            crypto: RustCrypto::default(),
            signer,
            device: identity.device_id,
        }
    }

    /// A key package whose credential claims `claimed`'s device `self.device`, signed with
    /// this device's own key; its private parts stay in this home, so this device's own
    /// client joins with it.
    pub fn key_package_as(&self, claimed: &Username) -> KeyPackage {
        let credential = pli_mls::credential(claimed, self.device, &self.signer);
        let provider = Provider::new(&self.crypto, &self.conn);
        KeyPackage::builder()
            .build(pli_mls::ciphersuite(), &provider, &self.signer, credential)
            .expect("key package")
            .key_package()
            .clone()
    }

    /// Adds `package` to `group` (as stored in this home) and returns the commit and the
    /// Welcome; the commit is merged here.
    pub fn add(&self, group: &PliGroupId, package: KeyPackage) -> (Vec<u8>, Vec<u8>) {
        let provider = Provider::new(&self.crypto, &self.conn);
        let mut mls_group = MlsGroup::load(provider.storage(), &pli_mls::group_id(group))
            .expect("load")
            .expect("a member of the group");
        let (commit, welcome, _) = mls_group
            .add_members(&provider, &self.signer, &[package])
            .expect("add");
        mls_group.merge_pending_commit(&provider).expect("merge");
        (
            commit.tls_serialize_detached().expect("commit"),
            welcome.tls_serialize_detached().expect("welcome"),
        )
    }

    /// A new group whose only leaf claims to be `claimed`'s device `self.device`.
    pub fn group_as(&self, claimed: &Username, id: &PliGroupId) {
        let provider = Provider::new(&self.crypto, &self.conn);
        MlsGroup::new_with_group_id(
            &provider,
            &self.signer,
            &pli_mls::create_config(),
            pli_mls::group_id(id),
            pli_mls::credential(claimed, self.device, &self.signer),
        )
        .expect("group");
    }

    /// An application message carrying `body`, as envelope `seq` (the first of a chain)
    /// of this leaf.
    pub fn message(&self, group: &PliGroupId, seq: u64, body: Body) -> Vec<u8> {
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            seq,
            prev: None,
            sent_at: pli_client::local::now_ms(),
            body,
            kt: None,
            id: None,
            frank: None,
            expires: None,
        };
        self.encrypt(group, &envelope.encode())
    }

    /// An application message carrying exactly `encoded` (padded, as pli pads).
    pub fn encrypt(&self, group: &PliGroupId, encoded: &[u8]) -> Vec<u8> {
        let provider = Provider::new(&self.crypto, &self.conn);
        let mut mls_group = MlsGroup::load(provider.storage(), &pli_mls::group_id(group))
            .expect("load")
            .expect("a member");
        mls_group
            .create_message(&provider, &self.signer, &payload::pad(encoded))
            .expect("encrypt")
            .tls_serialize_detached()
            .expect("message")
    }

    pub fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }
}

/// Makes group `id` on `maker`'s device, its only leaf claiming to be a device of
/// `claimed`'s, and welcomes `invited`'s device into it (its key package claimed from the
/// server like any member's): a forged conversation as an ordinary account can make one.
/// The forger, to write in it.
pub async fn forged_group(
    server: &super::TestServer,
    maker: &TestUser,
    claimed: &Username,
    id: &PliGroupId,
    invited: &TestUser,
) -> Forger {
    let forger = Forger::of(maker);
    forger.group_as(claimed, id);
    let claimed_package = maker
        .transport(server)
        .claim(&invited.name)
        .await
        .expect("claim the invited user's key package");
    let invited_device = invited.identity().device_id;
    let package = pli_mls::verify_claimed(
        forger.crypto(),
        claimed_package.key_packages[0].key_package.as_slice(),
        &invited.name,
        invited_device,
    )
    .expect("the invited user's package");
    let (commit, welcome) = forger.add(id, package);
    let mut request = submit(id, commit, &[forger.device()]);
    request.welcome = Some(pli_proto::api::WelcomeOut {
        message: welcome.into(),
        recipients: vec![invited_device],
    });
    maker
        .transport(server)
        .submit(&request)
        .await
        .expect("welcome the invited user");
    forger
}

/// A submission of `message` to `to`, without a Welcome.
pub fn submit(group: &PliGroupId, message: Vec<u8>, to: &[DeviceId]) -> SubmitRequest {
    SubmitRequest {
        group_id: group.clone(),
        message: message.into(),
        recipients: to.to_vec(),
        welcome: None,
    }
}
