//! openmls glue: the provider bound to a local SQLite transaction, pli's fixed group
//! configuration, credentials, key packages, and reading who a member is.
//!
//! Every MLS state change runs on a provider borrowed from one SQLite transaction that
//! also holds the application's own bookkeeping (processed ids, message history), so a
//! crash can never leave the ratchet advanced but the message unrecorded, or the reverse.

use crate::error::ClientError;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls::treesync::errors::LifetimeError;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::RustCrypto;
use openmls_sqlite_storage::{Codec, SqliteStorageProvider};
use pli_proto::limits::{KEY_PACKAGE_LIFETIME_SECS, MAX_KEY_PACKAGE_LIFETIME_SECS};
use pli_proto::{DeviceId, Username, credential_identity, parse_credential_identity};
use rusqlite::Connection;

/// Past epochs whose secrets are kept: a device may merge its own commit before reading
/// messages other members sent in the epoch before it (they sit earlier in its queue).
/// Small, because every kept epoch weakens forward secrecy a little.
pub const MAX_PAST_EPOCHS: usize = 5;

/// The codec `openmls_sqlite_storage` is given for its migrations (and was given for
/// its provider before `mls_store` replaced it): keys are still JSON.
#[derive(Default)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    type Error = serde_json::Error;

    fn to_vec<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Self::Error> {
        serde_json::to_vec(value)
    }

    fn from_slice<T: serde::de::DeserializeOwned>(slice: &[u8]) -> Result<T, Self::Error> {
        serde_json::from_slice(slice)
    }
}

/// openmls's storage on the device's database (pli's own provider, `mls_store`).
pub type Storage<'a> = crate::mls_store::MlsStore<'a>;

/// An openmls provider whose storage writes go into the caller's transaction. `S` is pli's
/// own store ([`Storage`]); tests put `openmls_sqlite_storage`'s provider there to write
/// groups as earlier versions of pli did.
pub struct Provider<'a, S = Storage<'a>> {
    crypto: &'a RustCrypto,
    storage: S,
}

impl<'a> Provider<'a> {
    pub fn new(crypto: &'a RustCrypto, conn: &'a Connection) -> Self {
        Self::with_storage(crypto, Storage::new(conn))
    }
}

impl<'a, S> Provider<'a, S> {
    pub fn with_storage(crypto: &'a RustCrypto, storage: S) -> Self {
        Self { crypto, storage }
    }
}

impl<S: openmls_traits::storage::StorageProvider<{ openmls_traits::storage::CURRENT_VERSION }>>
    OpenMlsProvider for Provider<'_, S>
{
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = S;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        self.crypto
    }
}

/// Creates openmls's own tables in the local database.
pub fn migrate(conn: &mut Connection) -> Result<(), ClientError> {
    SqliteStorageProvider::<JsonCodec, &mut Connection>::new(conn)
        .run_migrations()
        .map_err(|e| ClientError::Storage(crate::error::StorageError::MlsState(Box::new(e))))
}

pub fn ciphersuite() -> Ciphersuite {
    Ciphersuite::try_from(pli_proto::CIPHERSUITE)
        .expect("pli's ciphersuite is one openmls supports")
}

fn capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[ciphersuite()]),
        Some(&[ExtensionType::LastResort]),
        None,
        Some(&[CredentialType::Basic]),
    )
}

pub fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(ciphersuite())
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .capabilities(capabilities())
        .build()
}

pub fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .build()
}

pub fn new_signer() -> Result<SignatureKeyPair, ClientError> {
    SignatureKeyPair::new(ciphersuite().signature_algorithm()).map_err(ClientError::mls)
}

pub fn load_signer(
    storage: &Storage<'_>,
    public_key: &[u8],
) -> Result<SignatureKeyPair, ClientError> {
    SignatureKeyPair::read(storage, public_key, ciphersuite().signature_algorithm())
        .ok_or_else(|| ClientError::corrupt("device: its signature key is missing"))
}

pub fn credential(
    user: &Username,
    device: DeviceId,
    signer: &SignatureKeyPair,
) -> CredentialWithKey {
    CredentialWithKey {
        credential: BasicCredential::new(credential_identity(user, device)).into(),
        signature_key: signer.public().into(),
    }
}

/// Wire encodings of freshly made key packages, ready to upload.
pub struct NewKeyPackages {
    pub one_time: Vec<Vec<u8>>,
    pub last_resort: Option<Vec<u8>>,
}

/// Makes `count` one-time key packages and, if asked, one last-resort package, stored in
/// the provider's storage, valid for pli's [`KEY_PACKAGE_LIFETIME_SECS`]; returns their
/// wire encodings.
pub fn key_packages(
    provider: &impl OpenMlsProvider,
    signer: &SignatureKeyPair,
    credential: &CredentialWithKey,
    count: usize,
    last_resort: bool,
) -> Result<NewKeyPackages, ClientError> {
    key_packages_valid_for(
        provider,
        signer,
        credential,
        count,
        last_resort,
        KEY_PACKAGE_LIFETIME_SECS,
    )
}

/// [`key_packages`] valid for `lifetime_secs` from now (openmls dates them an hour back,
/// for skewed clocks). Tests make short-lived or over-long ones.
pub fn key_packages_valid_for(
    provider: &impl OpenMlsProvider,
    signer: &SignatureKeyPair,
    credential: &CredentialWithKey,
    count: usize,
    last_resort: bool,
    lifetime_secs: u64,
) -> Result<NewKeyPackages, ClientError> {
    let make = |resort: bool| -> Result<Vec<u8>, ClientError> {
        let mut builder = KeyPackage::builder()
            .leaf_node_capabilities(capabilities())
            .key_package_lifetime(Lifetime::new(lifetime_secs));
        if resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle = builder
            .build(ciphersuite(), provider, signer, credential.clone())
            .map_err(ClientError::mls)?;
        MlsMessageOut::from(bundle.key_package().clone())
            .tls_serialize_detached()
            .map_err(ClientError::mls)
    };
    let one_time = (0..count)
        .map(|_| make(false))
        .collect::<Result<Vec<_>, _>>()?;
    let last_resort = if last_resort { Some(make(true)?) } else { None };
    Ok(NewKeyPackages {
        one_time,
        last_resort,
    })
}

/// Checks a key package the server handed out for `user`'s `device`: a valid signature, a
/// lifetime that covers now and is no longer than pli's maximum (RFC 9420 §7.2), pli's
/// ciphersuite, and a credential naming exactly that device.
pub fn verify_claimed(
    crypto: &RustCrypto,
    bytes: &[u8],
    user: &Username,
    device: DeviceId,
) -> Result<KeyPackage, ClientError> {
    let bad =
        |why: &str| ClientError::Protocol(format!("server handed out a bad key package: {why}"));
    let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| bad("malformed"))?;
    let MlsMessageBodyIn::KeyPackage(package) = message.extract() else {
        return Err(bad("not a key package"));
    };
    let package = package
        .validate(crypto, ProtocolVersion::Mls10)
        .map_err(|err| match err {
            KeyPackageVerifyError::LifetimeError(LifetimeError::Expired { .. }) => {
                bad("its lifetime has ended")
            }
            KeyPackageVerifyError::LifetimeError(LifetimeError::NotValidYet { .. }) => {
                bad("its lifetime has not begun")
            }
            _ => bad("invalid signature"),
        })?;
    let lifetime = package.life_time();
    if lifetime.not_after().saturating_sub(lifetime.not_before()) > MAX_KEY_PACKAGE_LIFETIME_SECS {
        return Err(bad("its lifetime is longer than pli allows"));
    }
    if package.ciphersuite() != ciphersuite() {
        return Err(bad("wrong ciphersuite"));
    }
    if member_identity(package.leaf_node().credential()) != Some((user.clone(), device)) {
        return Err(bad("credential names another device"));
    }
    Ok(package)
}

/// The user and device a credential names, if it is a well-formed pli credential.
pub fn member_identity(credential: &Credential) -> Option<(Username, DeviceId)> {
    let basic = BasicCredential::try_from(credential.clone()).ok()?;
    parse_credential_identity(basic.identity())
}

/// Every member device of the group: (leaf index, user, device).
pub fn members(group: &MlsGroup) -> Vec<(LeafNodeIndex, Username, DeviceId)> {
    group
        .members()
        .filter_map(|m| member_identity(&m.credential).map(|(u, d)| (m.index, u, d)))
        .collect()
}

pub fn serialize(message: &MlsMessageOut) -> Result<Vec<u8>, ClientError> {
    message.tls_serialize_detached().map_err(ClientError::mls)
}

/// A group id from MLS as pli's, refused if out of pli's range.
pub fn pli_group(id: &GroupId) -> Result<pli_proto::GroupId, ClientError> {
    pli_proto::GroupId::from_bytes(id.as_slice())
        .map_err(|_| ClientError::Protocol("group id out of range".into()))
}

pub fn group_id(id: &pli_proto::GroupId) -> GroupId {
    GroupId::from_slice(id.as_bytes())
}
