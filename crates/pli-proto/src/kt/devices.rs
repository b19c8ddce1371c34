//! The directory's value: a user's devices with their keys and endorsements, in a format
//! every client decodes the same way, and the keys a linked device takes from its approver.

use super::domain::{KtError, MAX_DIRECTORY_DEVICES, VALUE_VERSION};
use crate::b64::Bytes64;
use crate::ids::{DeviceId, Username};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

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
