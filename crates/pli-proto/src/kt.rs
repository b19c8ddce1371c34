//! Key transparency: what the directory says about a user, and how a client checks it.
//!
//! The server publishes one `akd` directory mapping each username to the set of its
//! devices' signature keys. Every published epoch has a root hash, signed as a checkpoint in
//! the same signed-note format as the audit log (origin `<host>/kt`, size = epoch). This
//! module is the verify-only core shared by the server, clients and outside auditors:
//! - the directory's value format ([`DirectoryDevice`], [`encode_devices`],
//!   [`decode_devices`]) and the endorsement a device signs when it adds another;
//! - [`verify_lookup`] and [`verify_history`]: akd proofs checked against a verified root;
//! - the API bodies of `/v1/directory/…`.
//!
//! Proofs travel as akd's protobuf encodings, base64 in JSON, so any akd client can check
//! them without pli's code.

use crate::b64::Bytes64;
use crate::checkpoint::Checkpoint;
use crate::ids::{DeviceId, Username};
use akd_core::verify::history::HistoryParams;
use akd_core::verify::{HistoryVerificationParams, key_history_verify, lookup_verify};
use akd_core::{AkdLabel, DomainLabel, ExperimentalConfiguration};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use protobuf::Message as _;
use serde::{Deserialize, Serialize};

/// The domain separator of pli's directories: changing it changes every hash.
#[derive(Clone)]
pub struct PliDirectory;

impl DomainLabel for PliDirectory {
    fn domain_label() -> &'static [u8] {
        b"pli key directory v1"
    }
}

/// The akd configuration every pli directory and client uses.
pub type KtConfig = ExperimentalConfiguration<PliDirectory>;

/// Most devices one user may have listed (bounds the value a client decodes).
pub const MAX_DIRECTORY_DEVICES: usize = 64;
const VALUE_VERSION: u8 = 1;

/// Why a directory answer is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KtError {
    /// A directory value that [`encode_devices`] did not write.
    #[error("the directory value is malformed")]
    MalformedValue,
    /// Proof bytes that are not an akd proof.
    #[error("the proof is malformed")]
    MalformedProof,
    /// A proof that does not verify for this user, VRF key and root.
    #[error("the proof does not verify against the signed root")]
    ProofFailed,
    /// A published directory signing key that is not an Ed25519 key.
    #[error("the directory's signing key is malformed")]
    MalformedKey,
    /// Only an ended account's old versions may be forgotten (see [`KeyHistory`]).
    #[error("the directory forgot keys of an account that has not ended")]
    ForgottenTooSoon,
}

/// A device that added another signs this: it binds the new device's id and key to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    /// The endorsing device, one of the same user's.
    pub by: DeviceId,
    /// Its Ed25519 signature over [`endorsement_message`].
    pub signature: [u8; 64],
}

/// One device as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryDevice {
    /// The device's id.
    pub device_id: DeviceId,
    /// Its MLS signature public key (Ed25519, raw bytes): what members check keys against.
    pub signature_key: Vec<u8>,
    /// `None` for the device the account was registered with.
    pub endorsement: Option<Endorsement>,
}

/// The bytes a device signs to endorse `device` with `key` for `user`.
pub fn endorsement_message(user: &Username, device: DeviceId, key: &[u8]) -> Vec<u8> {
    let mut message = b"pli device endorsement v1\n".to_vec();
    message.extend_from_slice(user.as_str().as_bytes());
    message.push(b'\n');
    message.extend_from_slice(&device.get().to_be_bytes());
    message.extend_from_slice(key);
    message
}

impl Endorsement {
    /// True if `signature` is `by_key`'s signature over the endorsement of `device`.
    ///
    /// Device 1 endorses alice's new device 2; the endorsement does not carry over to
    /// another key, another user or another endorser:
    ///
    /// ```
    /// use ed25519_dalek::{Signer, SigningKey};
    /// use pli_proto::ids::{DeviceId, Username};
    /// use pli_proto::kt::{DirectoryDevice, Endorsement, endorsement_message};
    ///
    /// let alice = Username::parse("alice")?;
    /// let first = SigningKey::from_bytes(&[1; 32]);
    /// let new_key = SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes().to_vec();
    /// let device_id = DeviceId::new(2)?;
    /// let signature = first.sign(&endorsement_message(&alice, device_id, &new_key)).to_bytes();
    /// let endorsement = Endorsement { by: DeviceId::new(1)?, signature };
    /// let device = DirectoryDevice {
    ///     device_id,
    ///     signature_key: new_key,
    ///     endorsement: Some(endorsement.clone()),
    /// };
    /// let first_key = first.verifying_key().to_bytes();
    /// assert!(endorsement.verifies(&alice, &device, &first_key));
    ///
    /// let swapped = DirectoryDevice { signature_key: vec![9; 32], ..device.clone() };
    /// assert!(!endorsement.verifies(&alice, &swapped, &first_key), "a key the server swapped");
    /// assert!(!endorsement.verifies(&Username::parse("bob")?, &device, &first_key));
    /// let stranger = SigningKey::from_bytes(&[3; 32]).verifying_key().to_bytes();
    /// assert!(!endorsement.verifies(&alice, &device, &stranger));
    /// # Ok::<(), pli_proto::IdError>(())
    /// ```
    pub fn verifies(&self, user: &Username, device: &DirectoryDevice, by_key: &[u8]) -> bool {
        let Ok(key) = <[u8; 32]>::try_from(by_key) else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&key) else {
            return false;
        };
        let message = endorsement_message(user, device.device_id, &device.signature_key);
        key.verify(&message, &Signature::from_bytes(&self.signature))
            .is_ok()
    }
}

/// The directory value for a device set: a version byte, then per device its id, key and
/// optional endorsement, sorted by device id so equal sets encode equally.
pub fn encode_devices(devices: &[DirectoryDevice]) -> Vec<u8> {
    let mut sorted: Vec<&DirectoryDevice> = devices.iter().collect();
    sorted.sort_by_key(|d| d.device_id);
    let mut out = vec![VALUE_VERSION, sorted.len() as u8];
    for device in sorted {
        out.extend_from_slice(&device.device_id.get().to_be_bytes());
        out.push(device.signature_key.len() as u8);
        out.extend_from_slice(&device.signature_key);
        match &device.endorsement {
            None => out.push(0),
            Some(e) => {
                out.push(1);
                out.extend_from_slice(&e.by.get().to_be_bytes());
                out.extend_from_slice(&e.signature);
            }
        }
    }
    out
}

/// Reads a value written by [`encode_devices`]; refuses anything else.
pub fn decode_devices(bytes: &[u8]) -> Result<Vec<DirectoryDevice>, KtError> {
    let mut input = Reader(bytes);
    if input.byte()? != VALUE_VERSION {
        return Err(KtError::MalformedValue);
    }
    let count = input.byte()? as usize;
    if count > MAX_DIRECTORY_DEVICES {
        return Err(KtError::MalformedValue);
    }
    let mut devices = Vec::with_capacity(count);
    for _ in 0..count {
        let device_id = input.device()?;
        let key_len = input.byte()? as usize;
        let signature_key = input.take(key_len)?.to_vec();
        let endorsement = match input.byte()? {
            0 => None,
            1 => Some(Endorsement {
                by: input.device()?,
                signature: input
                    .take(64)?
                    .try_into()
                    .map_err(|_| KtError::MalformedValue)?,
            }),
            _ => return Err(KtError::MalformedValue),
        };
        devices.push(DirectoryDevice {
            device_id,
            signature_key,
            endorsement,
        });
    }
    if !input.0.is_empty() {
        return Err(KtError::MalformedValue);
    }
    Ok(devices)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], KtError> {
        if self.0.len() < n {
            return Err(KtError::MalformedValue);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, KtError> {
        Ok(self.take(1)?[0])
    }

    fn device(&mut self) -> Result<DeviceId, KtError> {
        let bytes: [u8; 8] = self
            .take(8)?
            .try_into()
            .map_err(|_| KtError::MalformedValue)?;
        DeviceId::new(u64::from_be_bytes(bytes)).map_err(|_| KtError::MalformedValue)
    }
}

/// The directory's label for a user.
pub fn label(user: &Username) -> AkdLabel {
    AkdLabel::from(user.as_str())
}

/// The key directory's keys, as the device approving a link pinned them, with a MAC under
/// the link code's one-time secret (which only the two devices have: the user carries the
/// code from the new device to the old one, and the server never sees it). The new device
/// pins these, so a server that shows new devices its own directory keys is caught.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedDirectoryKeys {
    /// The directory's checkpoint origin and signing key name.
    pub origin: String,
    /// The Ed25519 key that signs directory checkpoints.
    pub signing_key: Bytes64,
    /// The directory's VRF public key.
    pub vrf_public_key: Bytes64,
    /// HMAC-SHA256 under the link secret of [`LinkedDirectoryKeys::mac_input`].
    pub mac: Bytes64,
}

impl LinkedDirectoryKeys {
    /// What the MAC covers: a label, then each key part, length-prefixed.
    pub fn mac_input(origin: &str, signing_key: &[u8], vrf_public_key: &[u8]) -> Vec<u8> {
        let mut input = b"pli linked directory keys v1".to_vec();
        for part in [origin.as_bytes(), signing_key, vrf_public_key] {
            input.extend_from_slice(&(part.len() as u32).to_be_bytes());
            input.extend_from_slice(part);
        }
        input
    }
}

/// What a verified lookup says: the user's devices as of `epoch` (none if the account was
/// deleted), and the version of the user's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLookup {
    /// The directory epoch this version was published in.
    pub epoch: u64,
    /// The user's entry version, from 1, one more at each change of the device set.
    pub version: u64,
    /// The devices listed; none once the account was deleted.
    pub devices: Vec<DirectoryDevice>,
}

/// Checks a lookup proof (akd protobuf bytes) for `user` against a verified root.
///
/// The proof must come with the root it was made for, verified first with the directory's
/// signing key. Here, the directory's answers about `alice` (two devices, the second
/// endorsed by the first, in epoch 2 of a small directory with `bob`), saved in
/// `fixtures/kt-alice.json` as the server sends them (see `fixtures/README.md`). The proof
/// verifies for alice and the signed root only:
///
/// ```
/// use pli_proto::checkpoint::{Checkpoint, UnverifiedCheckpoint};
/// use pli_proto::ids::Username;
/// use pli_proto::kt::{DirectoryKeysResponse, KtError, LookupResponse, verify_lookup};
///
/// # let fixture: serde_json::Value = serde_json::from_str(include_str!(concat!(
/// #     env!("CARGO_MANIFEST_DIR"),
/// #     "/fixtures/kt-alice.json"
/// # )))?;
/// let keys: DirectoryKeysResponse = serde_json::from_value(fixture["keys"].clone())?;
/// let answer: LookupResponse = serde_json::from_value(fixture["lookup"].clone())?;
/// let root = UnverifiedCheckpoint::parse(&answer.root)?.verify(&keys.log_key()?)?;
/// let vrf = keys.vrf_public_key.as_slice();
///
/// let alice = Username::parse("alice")?;
/// let lookup = verify_lookup(vrf, &root, &alice, answer.proof.as_slice())?;
/// assert_eq!((lookup.epoch, lookup.version, lookup.devices.len()), (2, 2, 2));
///
/// let bob = Username::parse("bob")?;
/// assert_eq!(verify_lookup(vrf, &root, &bob, answer.proof.as_slice()), Err(KtError::ProofFailed));
/// let other_root = Checkpoint { root: [0; 32], ..root.clone() };
/// assert_eq!(
///     verify_lookup(vrf, &other_root, &alice, answer.proof.as_slice()),
///     Err(KtError::ProofFailed)
/// );
/// let mut altered = answer.proof.into_inner();
/// let last = altered.len() - 1;
/// altered[last] ^= 1;
/// assert!(verify_lookup(vrf, &root, &alice, &altered).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_lookup(
    vrf_public_key: &[u8],
    root: &Checkpoint,
    user: &Username,
    proof: &[u8],
) -> Result<VerifiedLookup, KtError> {
    let proto = akd_core::proto::specs::types::LookupProof::parse_from_bytes(proof)
        .map_err(|_| KtError::MalformedProof)?;
    let proof = akd_core::LookupProof::try_from(&proto).map_err(|_| KtError::MalformedProof)?;
    let result =
        lookup_verify::<KtConfig>(vrf_public_key, root.root, root.size, label(user), proof)
            .map_err(|_| KtError::ProofFailed)?;
    Ok(VerifiedLookup {
        epoch: result.epoch,
        version: result.version,
        devices: decode_devices(&result.value.0)?,
    })
}

/// A user's verified key history.
///
/// An entry published with no devices marks an account that ended (deleted; the last device
/// of a live account cannot be removed). Once it is published, the directory forgets the
/// device keys of that account's earlier versions (akd's tombstones: the tree keeps their
/// commitments, the store drops the values), so a removed device's key does not outlive the
/// account and the next owner of the name does not see the last one's devices. A forgotten
/// version anywhere else does not verify: a server may not hide a live account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHistory {
    /// The versions whose values are kept, oldest first.
    pub versions: Vec<VerifiedLookup>,
    /// The version numbers whose device keys the directory forgot.
    pub forgotten: Vec<u64>,
}

/// Checks a complete key-history proof for `user` against a verified root.
///
/// The same directory as [`verify_lookup`]'s example: alice's history holds both versions
/// (one device, then two), every device explained by the ones before it, and the proof
/// is refused for another user or root:
///
/// ```
/// use pli_proto::checkpoint::{Checkpoint, UnverifiedCheckpoint};
/// use pli_proto::ids::Username;
/// use pli_proto::kt::{
///     DirectoryKeysResponse, HistoryResponse, KtError, unexplained_devices, verify_history,
/// };
///
/// # let fixture: serde_json::Value = serde_json::from_str(include_str!(concat!(
/// #     env!("CARGO_MANIFEST_DIR"),
/// #     "/fixtures/kt-alice.json"
/// # )))?;
/// let keys: DirectoryKeysResponse = serde_json::from_value(fixture["keys"].clone())?;
/// let answer: HistoryResponse = serde_json::from_value(fixture["history"].clone())?;
/// let root = UnverifiedCheckpoint::parse(&answer.root)?.verify(&keys.log_key()?)?;
/// let vrf = keys.vrf_public_key.as_slice();
///
/// let alice = Username::parse("alice")?;
/// let history = verify_history(vrf, &root, &alice, answer.proof.as_slice())?;
/// let versions: Vec<_> = history.versions.iter().map(|v| (v.version, v.devices.len())).collect();
/// assert_eq!(versions, [(1, 1), (2, 2)]);
/// assert!(history.forgotten.is_empty());
/// assert_eq!(unexplained_devices(&alice, &history.versions), []);
///
/// let bob = Username::parse("bob")?;
/// assert_eq!(verify_history(vrf, &root, &bob, answer.proof.as_slice()), Err(KtError::ProofFailed));
/// let older_root = Checkpoint { size: 1, ..root.clone() };
/// assert_eq!(
///     verify_history(vrf, &older_root, &alice, answer.proof.as_slice()),
///     Err(KtError::ProofFailed)
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_history(
    vrf_public_key: &[u8],
    root: &Checkpoint,
    user: &Username,
    proof: &[u8],
) -> Result<KeyHistory, KtError> {
    let proto = akd_core::proto::specs::types::HistoryProof::parse_from_bytes(proof)
        .map_err(|_| KtError::MalformedProof)?;
    let proof = akd_core::HistoryProof::try_from(&proto).map_err(|_| KtError::MalformedProof)?;
    let params = HistoryVerificationParams::AllowMissingValues {
        history_params: HistoryParams::Complete,
    };
    let results = key_history_verify::<KtConfig>(
        vrf_public_key,
        root.root,
        root.size,
        label(user),
        proof,
        params,
    )
    .map_err(|_| KtError::ProofFailed)?;
    let mut history = KeyHistory {
        versions: Vec::new(),
        forgotten: Vec::new(),
    };
    for result in results {
        if result.value.0 == akd_core::TOMBSTONE {
            history.forgotten.push(result.version);
        } else {
            history.versions.push(VerifiedLookup {
                epoch: result.epoch,
                version: result.version,
                devices: decode_devices(&result.value.0)?,
            });
        }
    }
    history.versions.sort_by_key(|v| v.version);
    let last_end = history
        .versions
        .iter()
        .filter(|v| v.devices.is_empty())
        .map(|v| v.version)
        .max();
    if history
        .forgotten
        .iter()
        .any(|&forgotten| last_end.is_none_or(|end| forgotten >= end))
    {
        return Err(KtError::ForgottenTooSoon);
    }
    Ok(history)
}

/// The devices in a user's key history (`history` in ascending version order) that none of
/// the user's devices added, as (version, device): a device is explained if it was there in
/// the version before with the same key, or it is the one device the account was registered
/// with (the first version, or the first after an account with the name ended, with no
/// endorsement), or an explained device of this version or the one before endorsed it.
/// Anything else was put there by someone else — the server. (Whether an account really
/// ended is for its own devices to judge: see `pli_client`'s monitor.)
///
/// Alice registers with device 1, which adds device 2; then a device 9 appears that no
/// device of hers endorsed:
///
/// ```
/// use ed25519_dalek::{Signer, SigningKey};
/// use pli_proto::ids::{DeviceId, Username};
/// use pli_proto::kt::{
///     DirectoryDevice, Endorsement, VerifiedLookup, endorsement_message, unexplained_devices,
/// };
///
/// let alice = Username::parse("alice")?;
/// let key = |seed: u8| SigningKey::from_bytes(&[seed; 32]);
/// let device = |id: u64, endorser: Option<u64>| -> Result<DirectoryDevice, pli_proto::IdError> {
///     let device_id = DeviceId::new(id)?;
///     let signature_key = key(id as u8).verifying_key().to_bytes().to_vec();
///     let endorsement = match endorser {
///         None => None,
///         Some(by) => Some(Endorsement {
///             by: DeviceId::new(by)?,
///             signature: key(by as u8)
///                 .sign(&endorsement_message(&alice, device_id, &signature_key))
///                 .to_bytes(),
///         }),
///     };
///     Ok(DirectoryDevice { device_id, signature_key, endorsement })
/// };
/// let version = |version, devices| VerifiedLookup { epoch: version, version, devices };
/// let mut history = vec![
///     version(1, vec![device(1, None)?]),
///     version(2, vec![device(1, None)?, device(2, Some(1))?]),
/// ];
/// assert_eq!(unexplained_devices(&alice, &history), []);
///
/// history.push(version(3, vec![device(1, None)?, device(2, Some(1))?, device(9, None)?]));
/// assert_eq!(unexplained_devices(&alice, &history), [(3, DeviceId::new(9)?)]);
/// # Ok::<(), pli_proto::IdError>(())
/// ```
pub fn unexplained_devices(user: &Username, history: &[VerifiedLookup]) -> Vec<(u64, DeviceId)> {
    let mut unexplained = Vec::new();
    let mut previous: &[DirectoryDevice] = &[];
    for version in history {
        let first_version = previous.is_empty();
        let unendorsed = version
            .devices
            .iter()
            .filter(|d| d.endorsement.is_none())
            .count();
        let mut explained: Vec<&DirectoryDevice> = version
            .devices
            .iter()
            .filter(|d| {
                previous.contains(d)
                    || (first_version && unendorsed == 1 && d.endorsement.is_none())
            })
            .collect();
        loop {
            let before = explained.len();
            for device in &version.devices {
                if explained.contains(&device) {
                    continue;
                }
                let Some(endorsement) = &device.endorsement else {
                    continue;
                };
                let endorser = explained
                    .iter()
                    .copied()
                    .chain(previous.iter())
                    .find(|e| e.device_id == endorsement.by);
                if endorser.is_some_and(|e| endorsement.verifies(user, device, &e.signature_key)) {
                    explained.push(device);
                }
            }
            if explained.len() == before {
                break;
            }
        }
        for device in &version.devices {
            if !explained.contains(&device) {
                unexplained.push((version.version, device.device_id));
            }
        }
        previous = &version.devices;
    }
    unexplained
}

/// Hash rounds per fingerprint (as Signal's safety numbers): makes searching for a device
/// set with a colliding code expensive.
const FINGERPRINT_ROUNDS: usize = 5200;

/// 30 digits naming `user` and the device keys the directory lists for them.
fn fingerprint(user: &Username, devices: &[DirectoryDevice]) -> String {
    use sha2::{Digest, Sha512};
    let mut keys: Vec<&[u8]> = devices.iter().map(|d| d.signature_key.as_slice()).collect();
    keys.sort();
    let mut material = b"pli safety number v1\n".to_vec();
    material.extend_from_slice(user.as_str().as_bytes());
    material.push(b'\n');
    for key in keys {
        material.push(key.len() as u8);
        material.extend_from_slice(key);
    }
    let mut hash = Sha512::digest(&material).to_vec();
    for _ in 1..FINGERPRINT_ROUNDS {
        let mut round = Sha512::new();
        round.update(&hash);
        round.update(&material);
        hash = round.finalize().to_vec();
    }
    hash[..30]
        .chunks(5)
        .map(|chunk| {
            let value = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", value % 100_000)
        })
        .collect()
}

/// The safety code two users compare: 60 digits in groups of five, the same on both sides
/// (each user's fingerprint of their own directory-listed keys, in name order). It changes
/// whenever either user's devices change.
///
/// Alice and bob compute the same code, each from their own side; if the directory showed
/// alice another key for bob, her code differs and the comparison catches it:
///
/// ```
/// use ed25519_dalek::SigningKey;
/// use pli_proto::ids::{DeviceId, Username};
/// use pli_proto::kt::{DirectoryDevice, safety_code};
///
/// let listed = |id: u64, seed: u8| -> Result<DirectoryDevice, pli_proto::IdError> {
///     Ok(DirectoryDevice {
///         device_id: DeviceId::new(id)?,
///         signature_key: SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes().to_vec(),
///         endorsement: None,
///     })
/// };
/// let (alice, bob) = (Username::parse("alice")?, Username::parse("bob")?);
/// let alices = [listed(1, 1)?];
/// let bobs = [listed(2, 2)?];
/// let on_alices_side = safety_code((&alice, &alices), (&bob, &bobs));
/// let on_bobs_side = safety_code((&bob, &bobs), (&alice, &alices));
/// assert_eq!(on_alices_side, on_bobs_side);
/// assert_eq!(on_alices_side.split(' ').count(), 12);
///
/// let swapped = [listed(2, 66)?];
/// assert_ne!(safety_code((&alice, &alices), (&bob, &swapped)), on_bobs_side);
/// # Ok::<(), pli_proto::IdError>(())
/// ```
pub fn safety_code(
    a: (&Username, &[DirectoryDevice]),
    b: (&Username, &[DirectoryDevice]),
) -> String {
    let (first, second) = if a.0.as_str() <= b.0.as_str() {
        (a, b)
    } else {
        (b, a)
    };
    let digits = fingerprint(first.0, first.1) + &fingerprint(second.0, second.1);
    digits
        .as_bytes()
        .chunks(5)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The origin of the directory's checkpoints, and the name of the key that signs them: the
/// audit log origin's host part, then `/kt`.
pub fn origin(log_origin: &str) -> String {
    let host = log_origin.split('/').next().unwrap_or(log_origin);
    format!("{host}/kt")
}

/// `GET /v1/directory/keys`: what a client pins the first time it meets the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryKeysResponse {
    /// The checkpoints' origin line, which is also the signing key's name.
    pub origin: String,
    /// The Ed25519 key that signs directory checkpoints.
    pub signing_key: Bytes64,
    /// The directory's VRF public key (hides usernames in the tree).
    pub vrf_public_key: Bytes64,
}

impl DirectoryKeysResponse {
    /// The key that verifies the directory's checkpoints.
    pub fn log_key(&self) -> Result<crate::checkpoint::LogKey, KtError> {
        let bytes: [u8; 32] = self
            .signing_key
            .as_slice()
            .try_into()
            .map_err(|_| KtError::MalformedKey)?;
        Ok(crate::checkpoint::LogKey {
            name: self.origin.clone(),
            key: VerifyingKey::from_bytes(&bytes).map_err(|_| KtError::MalformedKey)?,
        })
    }
}

/// `GET /v1/users/{username}/directory`: the user's devices as the directory lists them,
/// with the proof and the signed root it verifies against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LookupResponse {
    /// The signed checkpoint of the epoch the proof is for.
    pub root: String,
    /// akd `LookupProof`, protobuf.
    pub proof: Bytes64,
}

/// `GET /v1/directory/self/history`: the calling user's complete key history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    /// The signed checkpoint of the epoch the proof is for.
    pub root: String,
    /// akd `HistoryProof`, protobuf.
    pub proof: Bytes64,
}

/// `GET /v1/directory/roots`: signed checkpoints of epochs `from..`, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RootsResponse {
    /// Signed checkpoints (origin `<host>/kt`, size = epoch), oldest first.
    pub roots: Vec<String>,
}

/// `GET /v1/directory/audit`: append-only proofs for each epoch step in
/// `from..to`, as akd `SingleAppendOnlyProof` protobufs (proof `i` leads from epoch
/// `from + i` to `from + i + 1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditProofResponse {
    /// The first epoch.
    pub from: u64,
    /// The last epoch.
    pub to: u64,
    /// One proof per step, `to - from` of them.
    pub proofs: Vec<Bytes64>,
}

/// Most epoch steps one audit response covers.
pub const MAX_AUDIT_STEPS: u64 = 64;
/// Most roots one roots response lists.
pub const MAX_ROOTS: u64 = 1000;

/// `POST /admin/v1/directory/publish`: the directory's epoch after publishing what was
/// pending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublishResponse {
    /// The directory's current epoch.
    pub epoch: u64,
    /// Users whose device set changed in this publication (0: nothing was pending).
    pub changes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: u64, endorsed: bool) -> DirectoryDevice {
        DirectoryDevice {
            device_id: DeviceId::new(id).expect("id"),
            signature_key: vec![id as u8; 32],
            endorsement: endorsed.then(|| Endorsement {
                by: DeviceId::new(1).expect("id"),
                signature: [id as u8; 64],
            }),
        }
    }

    #[test]
    fn values_round_trip_sorted_and_refuse_garbage() {
        let set = vec![device(5, true), device(1, false)];
        let bytes = encode_devices(&set);
        assert_eq!(bytes, encode_devices(&[device(1, false), device(5, true)]));
        let decoded = decode_devices(&bytes).expect("decode");
        assert_eq!(decoded, vec![device(1, false), device(5, true)]);
        assert_eq!(decode_devices(&encode_devices(&[])), Ok(vec![]));
        for cut in 0..bytes.len() {
            assert_eq!(decode_devices(&bytes[..cut]), Err(KtError::MalformedValue));
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(decode_devices(&extra), Err(KtError::MalformedValue));
    }

    #[test]
    fn the_origin_uses_the_log_host() {
        assert_eq!(origin("pli.example/audit"), "pli.example/kt");
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn user() -> Username {
        Username::parse("alice").expect("name")
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn listed(id: u64, seed: u8, by: Option<(u64, u8)>) -> DirectoryDevice {
        let device_id = DeviceId::new(id).expect("id");
        let signature_key = key(seed).verifying_key().to_bytes().to_vec();
        let endorsement = by.map(|(by, by_seed)| Endorsement {
            by: DeviceId::new(by).expect("id"),
            signature: key(by_seed)
                .sign(&endorsement_message(&user(), device_id, &signature_key))
                .to_bytes(),
        });
        DirectoryDevice {
            device_id,
            signature_key,
            endorsement,
        }
    }

    fn version(version: u64, devices: Vec<DirectoryDevice>) -> VerifiedLookup {
        VerifiedLookup {
            epoch: version,
            version,
            devices,
        }
    }

    #[test]
    fn safety_codes_match_on_both_sides_and_change_with_the_keys() {
        let bob = Username::parse("bob").expect("name");
        let alice_devices = vec![listed(1, 1, None)];
        let bob_devices = vec![listed(2, 2, None)];
        let code = safety_code((&user(), &alice_devices), (&bob, &bob_devices));
        assert_eq!(
            code,
            safety_code((&bob, &bob_devices), (&user(), &alice_devices))
        );
        let groups: Vec<&str> = code.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        let swapped = vec![listed(2, 3, None)];
        assert_ne!(
            code,
            safety_code((&user(), &alice_devices), (&bob, &swapped))
        );
    }

    #[test]
    fn devices_the_user_added_are_explained_and_others_are_not() {
        let honest = vec![
            version(1, vec![listed(1, 1, None)]),
            version(2, vec![listed(1, 1, None), listed(2, 2, Some((1, 1)))]),
            // Device 3 endorsed by device 2 in the same epoch as device 4 endorsed by 3.
            version(
                3,
                vec![
                    listed(2, 2, Some((1, 1))),
                    listed(3, 3, Some((2, 2))),
                    listed(4, 4, Some((3, 3))),
                ],
            ),
            version(4, vec![]),
        ];
        assert_eq!(unexplained_devices(&user(), &honest), vec![]);

        // A device slipped in with no endorsement, one endorsed by a stranger's key, and a
        // known device whose key was swapped.
        let forged = vec![
            version(1, vec![listed(1, 1, None)]),
            version(2, vec![listed(1, 1, None), listed(9, 9, None)]),
            version(3, vec![listed(1, 1, None), listed(8, 8, Some((1, 7)))]),
            version(4, vec![listed(1, 5, None)]),
        ];
        assert_eq!(
            unexplained_devices(&user(), &forged),
            vec![
                (2, DeviceId::new(9).expect("id")),
                (3, DeviceId::new(8).expect("id")),
                (4, DeviceId::new(1).expect("id")),
            ]
        );
        // Two unendorsed devices at registration: neither can be told from a forgery.
        let twins = vec![version(1, vec![listed(1, 1, None), listed(2, 2, None)])];
        assert_eq!(unexplained_devices(&user(), &twins).len(), 2);
    }

    #[test]
    fn after_an_account_ends_the_name_starts_again_with_one_device() {
        let taken_again = vec![
            version(1, vec![listed(1, 1, None)]),
            version(2, vec![]),
            version(3, vec![listed(5, 5, None)]),
            version(4, vec![listed(5, 5, None), listed(6, 6, Some((5, 5)))]),
        ];
        assert_eq!(unexplained_devices(&user(), &taken_again), vec![]);
        // The new account's first version is held to the registration rule too, and an old
        // device reappearing without the new one's endorsement is a stranger.
        let crowded = vec![
            version(1, vec![listed(1, 1, None)]),
            version(2, vec![]),
            version(3, vec![listed(5, 5, None), listed(6, 6, None)]),
            version(4, vec![listed(5, 5, None), listed(1, 1, None)]),
        ];
        let id = |n| DeviceId::new(n).expect("id");
        assert_eq!(
            unexplained_devices(&user(), &crowded),
            vec![(3, id(5)), (3, id(6)), (4, id(1))]
        );
    }
}
