//! Message franking: how a recipient proves to the server that a sender really sent a
//! text through it, without the server ever reading unreported messages.
//!
//! Facebook's scheme, adapted to MLS:
//!
//! 1. The sender picks a fresh 32-byte franking key and a random message id for each text,
//!    puts both inside the encrypted envelope, and computes the *commitment*: an HMAC
//!    under that key over the text, the sender's username and device, the conversation and
//!    the message id ([`commitment`]). The commitment goes in the MLS message's
//!    `authenticated_data` ([`aad`]), in clear and authenticated by MLS, so the server can
//!    read it and no member can change it.
//! 2. At accept time the server MACs the commitment together with the account that
//!    authenticated the submission and the accept day, under its own franking key of the
//!    day's rotation period ([`server_tag`]). That *stamp* travels with the delivered
//!    message ([`stamp_payload`]) and the server keeps no copy.
//! 3. The recipient checks that the commitment opens with what it decrypted, and keeps the
//!    opening and the stamp with the message. A report hands them to the server, which
//!    recomputes both MACs: a reporter can frame nobody, because it can change neither the
//!    text (the commitment would not open), nor the sender or day (the stamp would not
//!    verify), nor make up a stamp (only the server holds its key).

use crate::ids::{DeviceId, GroupId, Username};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of a franking key, a commitment and a stamp's tag.
pub const FRANK_BYTES: usize = 32;

/// Bytes of a message id.
pub const MESSAGE_ID_BYTES: usize = 16;

/// Days one server franking key stamps messages before the next one takes over.
pub const KEY_ROTATION_DAYS: u32 = 30;

/// How many rotation periods' keys verify a report: the current one and the one before,
/// so a message can be reported for 30 to 60 days after it was accepted.
pub const KEYS_ACCEPTED: u32 = 2;

/// The first byte of [`aad`] carrying a commitment alone.
const AAD_VERSION: u8 = 1;

/// The first byte of [`aad`] carrying a disappearing-message timer (and any commitment).
const AAD_TIMED: u8 = 2;

/// The first byte of a stored and delivered payload that carries a [`Stamp`] before its
/// MLS message. An `MLSMessage` begins with its protocol version (`0x0001`), so its first
/// byte is never this one.
pub const STAMPED: u8 = 0xF1;

/// Bytes a stamp adds in front of the MLS message: marker, key id, day, tag.
pub const STAMP_BYTES: usize = 1 + 4 + 4 + FRANK_BYTES;

/// The commitment to one text: HMAC-SHA256 under the sender's franking key. Every field is
/// length-prefixed, so no two different inputs give the same bytes to MAC.
pub fn commitment(
    key: &[u8; FRANK_BYTES],
    text: &str,
    sender: &Username,
    device: DeviceId,
    group: &GroupId,
    message_id: &[u8; MESSAGE_ID_BYTES],
) -> [u8; FRANK_BYTES] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"pli franking commitment v1");
    for field in [
        text.as_bytes(),
        sender.as_str().as_bytes(),
        &device.get().to_be_bytes(),
        group.as_bytes(),
        message_id,
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field);
    }
    mac.finalize().into_bytes().into()
}

/// The MLS `authenticated_data` of an application message: what the server may read of
/// it, in clear and authenticated by MLS for the recipients. A text's franking
/// `commitment`, and the disappearing-message timer (`expires_secs`) that bounds how long
/// the server queues it. Version 1 carries a commitment alone (what earlier builds
/// write and read); version 2 the timer, then any commitment.
pub fn aad(commitment: Option<&[u8; FRANK_BYTES]>, expires_secs: Option<u32>) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + 4 + FRANK_BYTES);
    match (commitment, expires_secs) {
        (None, None) => {}
        (Some(commitment), None) => {
            aad.push(AAD_VERSION);
            aad.extend_from_slice(commitment);
        }
        (commitment, Some(secs)) => {
            aad.push(AAD_TIMED);
            aad.extend_from_slice(&secs.to_be_bytes());
            aad.extend_from_slice(commitment.map_or(&[][..], |c| &c[..]));
        }
    }
    aad
}

/// The commitment an MLS message's `authenticated_data` carries, if it carries one.
pub fn commitment_in(aad: &[u8]) -> Option<[u8; FRANK_BYTES]> {
    match aad.split_first() {
        Some((&AAD_VERSION, rest)) => rest.try_into().ok(),
        Some((&AAD_TIMED, rest)) => rest.get(4..)?.try_into().ok(),
        _ => None,
    }
}

/// The disappearing-message timer, in seconds, an MLS message's `authenticated_data`
/// carries, if it carries one (0 is none).
pub fn expiry_in(aad: &[u8]) -> Option<u32> {
    match aad.split_first() {
        Some((&AAD_TIMED, rest)) if rest.len() == 4 || rest.len() == 4 + FRANK_BYTES => {
            let secs = u32::from_be_bytes(rest[..4].try_into().ok()?);
            (secs > 0).then_some(secs)
        }
        _ => None,
    }
}

/// The server's mark on one accepted message: which of its keys made it, on which day
/// (days since the Unix epoch, UTC), and the tag.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The rotation period of the key: [`key_id`] of the day.
    pub key_id: u32,
    /// The day the server accepted the message.
    pub day: u32,
    /// [`server_tag`] of the commitment, sender and day.
    pub tag: [u8; FRANK_BYTES],
}

/// Redacted: a tag is not secret, but it is no log's business.
impl std::fmt::Debug for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stamp(key {}, day {})", self.key_id, self.day)
    }
}

/// The rotation period, and so the server key id, that stamps messages on `day`.
pub fn key_id(day: u32) -> u32 {
    day / KEY_ROTATION_DAYS
}

/// Whether a stamp made with key `key_id` still verifies on `today`.
pub fn key_accepted(key_id: u32, today: u32) -> bool {
    let current = self::key_id(today);
    key_id <= current && current - key_id < KEYS_ACCEPTED
}

/// The server's tag: HMAC-SHA256 under its franking key over the commitment, the account
/// that authenticated the submission, and the accept day.
pub fn server_tag(
    server_key: &[u8; 32],
    commitment: &[u8; FRANK_BYTES],
    sender: &Username,
    day: u32,
) -> [u8; FRANK_BYTES] {
    let mut mac = Hmac::<Sha256>::new_from_slice(server_key).expect("HMAC takes any key length");
    mac.update(b"pli franking stamp v1");
    mac.update(commitment);
    mac.update(&(sender.as_str().len() as u64).to_be_bytes());
    mac.update(sender.as_str().as_bytes());
    mac.update(&day.to_be_bytes());
    mac.finalize().into_bytes().into()
}

/// Whether `tag` is `expected`, compared in constant time.
pub fn tags_match(tag: &[u8; FRANK_BYTES], expected: &[u8; FRANK_BYTES]) -> bool {
    tag.iter()
        .zip(expected)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// The stored and delivered form of a stamped message: [`STAMPED`], the stamp, the MLS
/// message.
pub fn stamp_payload(stamp: &Stamp, message: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(STAMP_BYTES + message.len());
    payload.push(STAMPED);
    payload.extend_from_slice(&stamp.key_id.to_be_bytes());
    payload.extend_from_slice(&stamp.day.to_be_bytes());
    payload.extend_from_slice(&stamp.tag);
    payload.extend_from_slice(message);
    payload
}

/// Splits a delivered MLS payload into its stamp, if it has one, and its MLS message.
pub fn split_payload(payload: &[u8]) -> (Option<Stamp>, &[u8]) {
    if payload.first() != Some(&STAMPED) || payload.len() < STAMP_BYTES {
        return (None, payload);
    }
    let number = |at: usize| u32::from_be_bytes(payload[at..at + 4].try_into().expect("4 bytes"));
    let stamp = Stamp {
        key_id: number(1),
        day: number(5),
        tag: payload[9..STAMP_BYTES].try_into().expect("32 bytes"),
    };
    (Some(stamp), &payload[STAMP_BYTES..])
}

/// Days since the Unix epoch (UTC) of `ms` milliseconds since it.
pub fn day_of(ms: u64) -> u32 {
    (ms / 86_400_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authenticated_data_carries_a_commitment_and_a_timer_apart() {
        let commitment = [5; FRANK_BYTES];
        let both = aad(Some(&commitment), Some(3600));
        assert_eq!(commitment_in(&both), Some(commitment));
        assert_eq!(expiry_in(&both), Some(3600));
        let timer = aad(None, Some(30));
        assert_eq!((commitment_in(&timer), expiry_in(&timer)), (None, Some(30)));
        let franked = aad(Some(&commitment), None);
        assert_eq!(franked[0], 1, "what earlier builds read");
        assert_eq!(
            (commitment_in(&franked), expiry_in(&franked)),
            (Some(commitment), None)
        );
        assert!(aad(None, None).is_empty());
        assert_eq!(expiry_in(&aad(None, Some(0))), None);
        assert_eq!(expiry_in(&[2, 0, 0]), None, "truncated");
    }

    fn user(name: &str) -> Username {
        Username::parse(name).expect("valid")
    }

    #[test]
    fn a_commitment_binds_every_field() {
        let key = [7; 32];
        let group = GroupId::from_bytes(&[1; 16]).expect("valid");
        let other_group = GroupId::from_bytes(&[2; 16]).expect("valid");
        let device = DeviceId::new(3).expect("valid");
        let id = [9; 16];
        let base = commitment(&key, "hi", &user("bob"), device, &group, &id);
        assert_ne!(
            base,
            commitment(&key, "hj", &user("bob"), device, &group, &id)
        );
        assert_ne!(
            base,
            commitment(&key, "hi", &user("carol"), device, &group, &id)
        );
        let other_device = DeviceId::new(4).expect("valid");
        assert_ne!(
            base,
            commitment(&key, "hi", &user("bob"), other_device, &group, &id)
        );
        assert_ne!(
            base,
            commitment(&key, "hi", &user("bob"), device, &other_group, &id)
        );
        assert_ne!(
            base,
            commitment(&key, "hi", &user("bob"), device, &group, &[8; 16])
        );
        assert_ne!(
            base,
            commitment(&[6; 32], "hi", &user("bob"), device, &group, &id)
        );
        assert_eq!(commitment_in(&aad(Some(&base), None)), Some(base));
        assert_eq!(commitment_in(&[]), None);
        assert_eq!(commitment_in(&[2; 33]), None);
    }

    #[test]
    fn a_stamp_survives_the_payload_and_an_unstamped_payload_is_left_whole() {
        let stamp = Stamp {
            key_id: 680,
            day: 20_400,
            tag: [5; 32],
        };
        let payload = stamp_payload(&stamp, &[0, 1, 2, 3]);
        assert_eq!(split_payload(&payload), (Some(stamp), &[0, 1, 2, 3][..]));
        assert_eq!(split_payload(&[0, 1, 2]), (None, &[0, 1, 2][..]));
    }

    #[test]
    fn keys_verify_for_two_rotation_periods_only() {
        let today = 20_400;
        assert!(key_accepted(key_id(today), today));
        assert!(key_accepted(key_id(today) - 1, today));
        assert!(!key_accepted(key_id(today) - 2, today));
        assert!(
            !key_accepted(key_id(today) + 1, today),
            "no key from the future"
        );
        let tag = server_tag(&[1; 32], &[2; 32], &user("bob"), today);
        assert!(tags_match(&tag, &tag));
        assert!(!tags_match(
            &tag,
            &server_tag(&[1; 32], &[2; 32], &user("bob"), today + 1)
        ));
    }
}
