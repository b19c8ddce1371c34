//! Safety codes: digits two people compare to know they see the same keys for each other.

use super::devices::DirectoryDevice;
use crate::ids::Username;

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
