//! Calls: their signalling inside the conversation, and what derives from a call's id.
//!
//! A call is started, answered, declined, joined, left and ended by [`Body::Call`]
//! messages in the conversation's MLS group, so the server sees only ciphertext, as for a
//! text, and an earlier pli shows "a message this version cannot display". Each call's
//! media keys come from an MLS group of its own, whose members are the devices in the call
//! right now: its id derives from the conversation and the call's random id
//! ([`call_group_id`]), its SFrame base key from the MLS exporter under
//! [`SFRAME_EXPORTER_LABEL`] (RFC 9605 §5.2), and the short code people compare aloud from
//! its epoch authenticator ([`call_code`]).
//!
//! [`Body::Call`]: crate::payload::Body::Call

use crate::GroupId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of a call's random id.
pub const CALL_ID_BYTES: usize = 16;

/// The MLS exporter label of a call group's SFrame base key (RFC 9605 §5.2).
pub const SFRAME_EXPORTER_LABEL: &str = "SFrame 1.0 Base Key";

/// What a call message says about the call it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallAction {
    /// The sender starts the call and rings the conversation's other members.
    Start,
    /// The sender answers a call that rings (a 1:1 call, or the first answer to a group
    /// call): every other device of the sender's account stops ringing.
    Answer,
    /// The sender will not take the call; its other devices stop ringing.
    Decline,
    /// The sender joins a call that is already running.
    Join,
    /// The sender left; the call goes on for the others.
    Leave,
    /// The call is over for everyone (its starter hung up before an answer, or the last
    /// participant left).
    End,
}

/// A call's random id, as hex in a [`crate::payload::Body::Call`].
pub fn parse_call_id(hex_id: &str) -> Option<[u8; CALL_ID_BYTES]> {
    hex::decode(hex_id).ok()?.try_into().ok()
}

/// The id of a call's own MLS group: a hash of the conversation and the call's id, so
/// members of the conversation find it and it names no other conversation's call.
pub fn call_group_id(conversation: &GroupId, call: &[u8; CALL_ID_BYTES]) -> GroupId {
    let digest = Sha256::new()
        .chain_update(b"pli call group v1\0")
        .chain_update(conversation.as_bytes())
        .chain_update(call)
        .finalize();
    GroupId::from_bytes(&digest).expect("32 bytes are a group id")
}

/// The short code of a call's current epoch, from its MLS epoch authenticator: four groups
/// of three digits (a 40-bit fingerprint), short enough to compare aloud. A new epoch (a
/// join, a leave) has a new code.
pub fn call_code(epoch_authenticator: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"pli call code v1\0")
        .chain_update(epoch_authenticator)
        .finalize();
    let mut value = digest[..5]
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    value %= 1_000_000_000_000;
    let digits = format!("{value:012}");
    digits
        .as_bytes()
        .chunks(3)
        .map(|group| std::str::from_utf8(group).expect("digits are ASCII"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_group_is_its_conversations_and_its_calls_alone() {
        let chat = GroupId::from_bytes(&[1; 16]).expect("id");
        let other = GroupId::from_bytes(&[2; 16]).expect("id");
        let call = [7; CALL_ID_BYTES];
        assert_eq!(call_group_id(&chat, &call), call_group_id(&chat, &call));
        assert_ne!(call_group_id(&chat, &call), call_group_id(&other, &call));
        assert_ne!(call_group_id(&chat, &call), call_group_id(&chat, &[8; 16]));
        assert_ne!(&call_group_id(&chat, &call), &chat);
    }

    #[test]
    fn a_call_code_is_twelve_digits_and_changes_with_the_epoch() {
        let code = call_code(&[1; 32]);
        assert_eq!(code.len(), 15);
        assert!(
            code.split(' ')
                .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        assert_eq!(code, call_code(&[1; 32]));
        assert_ne!(code, call_code(&[2; 32]));
    }

    #[test]
    fn call_ids_are_sixteen_bytes_of_hex() {
        assert_eq!(parse_call_id(&"ab".repeat(16)), Some([0xab; 16]));
        assert_eq!(parse_call_id("ab"), None);
        assert_eq!(parse_call_id(&"zz".repeat(16)), None);
    }
}
