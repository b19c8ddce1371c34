//! A profile's encryption: the display name and avatar as JSON, sealed with AES-256-GCM
//! under the user's profile key, with the username and the scheme in the associated data.
//! The server stores the sealed bytes and learns their length only. Each profile the user
//! stores gets a fresh key and a higher version, both inside the seal, so a server that
//! serves an older profile (or another user's) under a newer key is caught: the seal does
//! not open, or names another user or version.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use pli_proto::Username;
use pli_proto::b64::Bytes64;
use serde::{Deserialize, Serialize};

/// What the seal's tag covers besides the profile: the scheme and its version.
const SCHEME: &[u8] = b"pli profile v1\0";
const NONCE_BYTES: usize = 12;

/// A profile key: whoever holds it can read the profile sealed under it.
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileKey(pub [u8; 32]);

impl std::fmt::Debug for ProfileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProfileKey(<hidden>)")
    }
}

impl ProfileKey {
    /// A fresh random key.
    pub fn random() -> Self {
        Self(rand::random())
    }
}

/// A profile as its owner wrote it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Whose it is: checked against the name it was fetched for.
    pub username: Username,
    /// From 1, one higher for each profile the user stores.
    pub version: u64,
    /// The display name, at most [`pli_proto::limits::MAX_DISPLAY_NAME_BYTES`]; may be
    /// empty.
    pub name: String,
    /// A small JPEG, if the user chose a picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Bytes64>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Profile(version {})", self.version)
    }
}

fn aad(username: &Username) -> Vec<u8> {
    [SCHEME, username.as_str().as_bytes()].concat()
}

/// The sealed bytes of `profile`: a random nonce, then the ciphertext and tag.
pub fn seal(key: &ProfileKey, profile: &Profile) -> Vec<u8> {
    let plain = serde_json::to_vec(profile).expect("a profile serialises");
    let nonce: [u8; NONCE_BYTES] = rand::random();
    let sealed = Aes256Gcm::new(&key.0.into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad(&profile.username),
            },
        )
        .expect("AES-GCM encrypts any profile");
    [nonce.as_slice(), &sealed].concat()
}

/// Opens `sealed`, fetched as `username`'s profile of `version` or later; `None` if it
/// does not open under `key`, or is another user's or an older one.
pub fn open(key: &ProfileKey, username: &Username, version: u64, sealed: &[u8]) -> Option<Profile> {
    if sealed.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    let plain = Aes256Gcm::new(&key.0.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: &aad(username),
            },
        )
        .ok()?;
    let profile: Profile = serde_json::from_slice(&plain).ok()?;
    let fits = profile.name.len() <= pli_proto::limits::MAX_DISPLAY_NAME_BYTES;
    (profile.username == *username && profile.version >= version && fits).then_some(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice(version: u64) -> Profile {
        Profile {
            username: Username::parse("alice").expect("name"),
            version,
            name: "Alice Liddell".into(),
            avatar: Some(vec![0xff, 0xd8, 1, 2, 3].into()),
        }
    }

    #[test]
    fn a_profile_opens_only_under_its_key_for_its_user_and_version() {
        let key = ProfileKey::random();
        let profile = alice(3);
        let sealed = seal(&key, &profile);
        assert!(
            !sealed.windows(5).any(|w| w == b"Alice"),
            "the name is not in clear"
        );
        let user = profile.username.clone();
        assert_eq!(open(&key, &user, 3, &sealed), Some(profile.clone()));
        assert_eq!(
            open(&ProfileKey::random(), &user, 3, &sealed),
            None,
            "another key"
        );
        let bob = Username::parse("bob").expect("name");
        assert_eq!(
            open(&key, &bob, 3, &sealed),
            None,
            "served as another user's"
        );
        assert_eq!(open(&key, &user, 4, &sealed), None, "older than announced");
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(open(&key, &user, 3, &flipped), None, "altered");
        assert_eq!(open(&key, &user, 3, &sealed[..8]), None, "truncated");
    }
}
