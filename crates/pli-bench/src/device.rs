//! A simulated device: registered like a real one (proof of work, signature key), with an
//! in-memory openmls provider, so setting up thousands costs little, and real MLS groups.

use crate::BenchError;
use futures_util::StreamExt;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use pli_client::mls;
use pli_client::transport::{Credentials, Transport};
use pli_proto::api::{SubmitRequest, WelcomeOut};
use pli_proto::{DeviceId, GroupId, Username};
use rand::Rng;

/// Concurrent registrations while populating a scenario.
const REGISTER_CONCURRENCY: usize = 32;
/// Members added per commit, so each Welcome stays far below the message size limit.
const ADD_BATCH: usize = 100;

pub struct Device {
    pub username: Username,
    pub transport: Transport,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    provider: OpenMlsRustCrypto,
}

/// A name prefix unique to this run, so runs against one server never collide.
pub fn run_prefix() -> String {
    format!("bench{:08x}", rand::rng().random::<u32>())
}

impl Device {
    /// Registers `name`, and uploads one key package if `key_package` (to be added to a
    /// group once).
    /// `anonymous` is shared by every simulated device (one HTTP connection pool, as a
    /// fleet of real clients would not hold one idle connection each to the same server).
    pub async fn register(
        anonymous: &Transport,
        name: &str,
        key_package: bool,
    ) -> Result<Self, BenchError> {
        let username = Username::parse(name)
            .map_err(|e| BenchError::Server(format!("bad simulated username: {e}")))?;
        let signer = mls::new_signer()?;
        let registered = anonymous
            .register_solving(&username, signer.public(), None)
            .await?;
        let transport = anonymous.clone().with_credentials(Credentials {
            device_id: registered.device_id,
            secret: registered.device_secret.clone(),
        });
        let credential = mls::credential(&username, registered.device_id, &signer);
        let provider = OpenMlsRustCrypto::default();
        if key_package {
            let made = mls::key_packages(&provider, &signer, &credential, 1, false)?;
            transport
                .upload_key_packages(&pli_proto::api::UploadKeyPackagesRequest {
                    key_packages: made.one_time.into_iter().map(Into::into).collect(),
                    last_resort: None,
                    replace_expiring: false,
                })
                .await?;
        }
        Ok(Self {
            username,
            transport,
            signer,
            credential,
            provider,
        })
    }

    /// Registers `count` devices named `{prefix}u{i}`, a few at a time. With several
    /// servers (nodes), devices are spread over them in contiguous blocks.
    pub async fn register_many(
        servers: &[String],
        prefix: &str,
        count: usize,
        key_package: bool,
        bar: &indicatif::ProgressBar,
    ) -> Result<Vec<Self>, BenchError> {
        let anonymous = servers
            .iter()
            .map(|server| Transport::new(server, None))
            .collect::<Result<Vec<_>, _>>()?;
        let anonymous = &anonymous;
        futures_util::stream::iter(0..count)
            .map(|i| async move {
                let node = &anonymous[i * anonymous.len() / count.max(1)];
                Self::register(node, &format!("{prefix}u{i}"), key_package).await
            })
            .buffered(REGISTER_CONCURRENCY)
            .inspect(|_| bar.inc(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// Creates a group on the server with `members` (claiming a key package of each),
    /// adding them in batches. Members are not told to join: they only receive.
    pub async fn create_group(&self, members: &[&Device]) -> Result<Group, BenchError> {
        let id = GroupId::from_bytes(&rand::rng().random::<[u8; 16]>())
            .map_err(|e| BenchError::Mls(e.to_string()))?;
        // No ratchet tree in the Welcome: members never join here, and a 1,000-member tree
        // would not fit one message.
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(mls::ciphersuite())
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .build();
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &config,
            mls::group_id(&id),
            self.credential.clone(),
        )
        .map_err(BenchError::mls)?;
        let mut group = Group {
            id,
            mls: group,
            recipients: Vec::new(),
        };
        for batch in members.chunks(ADD_BATCH) {
            let mut packages = Vec::with_capacity(batch.len());
            let mut added = Vec::with_capacity(batch.len());
            for member in batch {
                let claimed = self.transport.claim(&member.username).await?;
                for package in claimed.key_packages {
                    let key = mls::verify_claimed(
                        self.provider.crypto(),
                        package.key_package.as_slice(),
                        &member.username,
                        package.device_id,
                    )?;
                    packages.push(key);
                    added.push(package.device_id);
                }
            }
            let (commit, welcome, _) = group
                .mls
                .add_members(&self.provider, &self.signer, &packages)
                .map_err(BenchError::mls)?;
            let request = SubmitRequest {
                group_id: group.id.clone(),
                message: serialize(&commit)?.into(),
                recipients: group.recipients.clone(),
                welcome: Some(WelcomeOut {
                    message: serialize(&welcome)?.into(),
                    recipients: added.clone(),
                }),
            };
            self.transport.submit(&request).await?;
            group
                .mls
                .merge_pending_commit(&self.provider)
                .map_err(BenchError::mls)?;
            group.recipients.extend(added);
        }
        Ok(group)
    }

    /// Encrypts `count` application messages of `size` random bytes for `group`, each with a
    /// franking commitment in its authenticated data as a pli client's text carries one, so
    /// the server stamps every message as it does in use.
    pub fn encrypt(
        &self,
        group: &mut Group,
        count: usize,
        size: usize,
    ) -> Result<Vec<Vec<u8>>, BenchError> {
        let mut rng = rand::rng();
        let mut plaintext = vec![0u8; size];
        (0..count)
            .map(|_| {
                rng.fill(plaintext.as_mut_slice());
                let commitment: [u8; 32] = rng.random();
                group
                    .mls
                    .set_aad(pli_proto::franking::aad(Some(&commitment), None));
                let message = group
                    .mls
                    .create_message(&self.provider, &self.signer, &plaintext)
                    .map_err(BenchError::mls)?;
                serialize(&message)
            })
            .collect()
    }
}

/// A group as its creator holds it.
pub struct Group {
    pub id: GroupId,
    mls: MlsGroup,
    /// Every member device but the creator's.
    pub recipients: Vec<DeviceId>,
}

impl Group {
    /// What sending needs, without the MLS state (which stays behind, on this thread).
    pub fn address(&self) -> Address {
        Address {
            id: self.id.clone(),
            recipients: self.recipients.clone(),
        }
    }
}

/// Where a group's messages go.
#[derive(Clone)]
pub struct Address {
    pub id: GroupId,
    pub recipients: Vec<DeviceId>,
}

impl Address {
    pub fn submission(&self, ciphertext: Vec<u8>) -> SubmitRequest {
        SubmitRequest {
            group_id: self.id.clone(),
            message: ciphertext.into(),
            recipients: self.recipients.clone(),
            welcome: None,
        }
    }
}

fn serialize(message: &MlsMessageOut) -> Result<Vec<u8>, BenchError> {
    message.tls_serialize_detached().map_err(BenchError::mls)
}
