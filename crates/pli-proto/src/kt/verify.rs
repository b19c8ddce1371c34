//! akd proofs checked against a verified root: one lookup, or a user's whole key history,
//! and which devices in it no device of the user endorsed.

use super::devices::{DirectoryDevice, decode_devices};
use super::domain::{KtConfig, KtError, label};
use crate::checkpoint::Checkpoint;
use crate::ids::{DeviceId, Username};
use akd_core::verify::history::HistoryParams;
use akd_core::verify::{HistoryVerificationParams, key_history_verify, lookup_verify};
use protobuf::Message as _;

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
