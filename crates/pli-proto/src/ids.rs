//! Validated identifiers. Each type can only hold a valid value, so code past the API
//! boundary never re-checks them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused. The text names the rule, never the input, so it is safe
/// to log and to send back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "a username has 3 to 32 characters: a-z, 0-9, '_' or '.', starting with a letter and not ending with '.'"
    )]
    /// Not a valid [`Username`].
    Username,
    /// Not a valid [`DeviceId`].
    #[error("a device id is a positive whole number below 2^53")]
    DeviceId,
    /// Not a valid [`GroupId`].
    #[error("a group id is 16 to 32 bytes written as lowercase hex")]
    GroupId,
    /// Not a valid [`Region`].
    #[error("a region name has 1 to 32 characters: a-z, 0-9 or '-', starting with a letter")]
    Region,
}

/// A username: 3–32 characters of `a-z 0-9 _ .`, starting with a letter, not ending with a
/// dot. Usernames are case-insensitive: input is lowered before checking, so `Alice` and
/// `alice` are the same account. A leading `@` is accepted and dropped.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Fewest characters in a username.
    pub const MIN_LEN: usize = 3;
    /// Most characters in a username.
    pub const MAX_LEN: usize = 32;

    /// Checks `input` (lowered, a leading `@` dropped) against the rules above.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let name = input
            .strip_prefix('@')
            .unwrap_or(input)
            .to_ascii_lowercase();
        let bytes = name.as_bytes();
        let valid_len = (Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len());
        let valid_chars = bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'.');
        let starts_with_letter = bytes.first().is_some_and(u8::is_ascii_lowercase);
        let ends_well = bytes.last().is_some_and(|b| *b != b'.');
        if valid_len && valid_chars && starts_with_letter && ends_well {
            Ok(Self(name))
        } else {
            Err(IdError::Username)
        }
    }

    /// The canonical (lowercase) name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Usernames are personal data: `Debug` hides them so a stray `{:?}` in a log line leaks
/// nothing. Use `Display` deliberately where the name must be shown to its owner.
impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Username(<redacted>)")
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Username {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Username {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A region's name (`eu`, `us`, `ru` …): where an account's data lives. Lowercase letters,
/// digits and `-`, starting with a letter, so it is safe in file names and URLs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    /// Most characters in a region name.
    pub const MAX_LEN: usize = 32;

    /// Checks `input` against the rules above; case is not folded.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let bytes = input.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= Self::MAX_LEN
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(IdError::Region)
        }
    }

    /// The region's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Region {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A device, chosen at random by the server at registration. Below 2^53 so that it
/// survives JSON in every language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeviceId(u64);

impl DeviceId {
    /// The largest device id: 2^53 − 1, the largest integer every JSON reader keeps exact.
    pub const MAX: u64 = (1 << 53) - 1;

    /// `value` as a device id, if it is in `1..=MAX`.
    pub fn new(value: u64) -> Result<Self, IdError> {
        if value == 0 || value > Self::MAX {
            Err(IdError::DeviceId)
        } else {
            Ok(Self(value))
        }
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for DeviceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<u64>()
            .map_err(|_| IdError::DeviceId)
            .and_then(Self::new)
    }
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(u64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// An MLS group id: opaque random bytes chosen by the group's creator. The server sees it
/// only as a key for the group's epoch counter. Written as lowercase hex, which is also the
/// conversation id users see.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(Vec<u8>);

impl GroupId {
    /// Fewest bytes in a group id.
    pub const MIN_LEN: usize = 16;
    /// Most bytes in a group id.
    pub const MAX_LEN: usize = 32;

    /// `bytes` as a group id, if its length is in `MIN_LEN..=MAX_LEN`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
        if (Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len()) {
            Ok(Self(bytes.to_vec()))
        } else {
            Err(IdError::GroupId)
        }
    }

    /// Parses the lowercase hex form ([`GroupId::to_hex`]); upper case is refused so that
    /// one group has exactly one spelling.
    pub fn parse_hex(text: &str) -> Result<Self, IdError> {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(IdError::GroupId);
        }
        let bytes = hex::decode(text).map_err(|_| IdError::GroupId)?;
        Self::from_bytes(&bytes)
    }

    /// The raw id, as MLS carries it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The lowercase hex form: the conversation id users see and JSON carries.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({})", self.to_hex())
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for GroupId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for GroupId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// The server's id for one accepted message. Ids grow with acceptance order, so a device's
/// queue read in id order is the order the server accepted its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The MLS credential identity of a device: `username/device_id`. `/` never occurs in a
/// username, so the split is unambiguous. Clients check it against the server's device list
/// and the server checks it on every uploaded key package.
pub fn credential_identity(username: &Username, device: DeviceId) -> Vec<u8> {
    format!("{username}/{device}").into_bytes()
}

/// Parses a credential identity made by [`credential_identity`].
pub fn parse_credential_identity(identity: &[u8]) -> Option<(Username, DeviceId)> {
    let text = std::str::from_utf8(identity).ok()?;
    let (name, device) = text.split_once('/')?;
    let username = Username::parse(name).ok()?;
    // Only the canonical spelling is accepted, so one device has exactly one identity.
    if username.as_str() != name {
        return None;
    }
    let device: DeviceId = device.parse().ok()?;
    (credential_identity(&username, device) == identity).then_some((username, device))
}

/// The one MLS ciphersuite pli uses:
/// `MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519` (RFC 9420 §17.1, value 0x0003).
pub const CIPHERSUITE: u16 = 0x0003;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credential_identities_round_trip_only_in_canonical_form() {
        let alice = Username::parse("alice").expect("valid");
        let device = DeviceId::new(42).expect("valid");
        let identity = credential_identity(&alice, device);
        assert_eq!(identity, b"alice/42");
        assert_eq!(parse_credential_identity(&identity), Some((alice, device)));
        for bad in [
            &b"Alice/42"[..],
            b"alice/042",
            b"alice/0",
            b"alice",
            b"@alice/42",
            b"alice/42/1",
        ] {
            assert_eq!(
                parse_credential_identity(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn usernames_are_case_insensitive_and_accept_at() {
        let a = Username::parse("@Alice_1").expect("valid");
        assert_eq!(a.as_str(), "alice_1");
        assert_eq!(a, Username::parse("ALICE_1").expect("valid"));
    }

    #[test]
    fn usernames_refuse_bad_shapes() {
        for bad in [
            "ab",
            "1abc",
            "abc.",
            "a b c",
            "ab-c",
            "é_abc",
            "",
            "@",
            &"a".repeat(33),
        ] {
            assert_eq!(Username::parse(bad), Err(IdError::Username), "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn username_debug_is_redacted() {
        let name = Username::parse("secretname").expect("valid");
        assert!(!format!("{name:?}").contains("secretname"));
    }

    #[test]
    fn device_ids_are_bounded() {
        assert!(DeviceId::new(0).is_err());
        assert!(DeviceId::new(DeviceId::MAX + 1).is_err());
        assert!(serde_json::from_str::<DeviceId>("0").is_err());
        assert_eq!(
            serde_json::from_str::<DeviceId>("42").expect("valid").get(),
            42
        );
    }

    #[test]
    fn group_ids_are_lowercase_hex_of_bounded_length() {
        let id = GroupId::parse_hex(&"ab".repeat(16)).expect("valid");
        assert_eq!(id.as_bytes().len(), 16);
        assert!(GroupId::parse_hex(&"AB".repeat(16)).is_err());
        assert!(GroupId::parse_hex(&"ab".repeat(15)).is_err());
        assert!(GroupId::parse_hex(&"ab".repeat(33)).is_err());
        assert!(GroupId::parse_hex("zz").is_err());
    }

    proptest! {
        #[test]
        fn username_parse_never_panics_and_valid_ones_round_trip(s in "\\PC{0,40}") {
            if let Ok(name) = Username::parse(&s) {
                prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
            }
        }
    }
}
