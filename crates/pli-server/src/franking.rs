//! The server's half of message franking (`pli_proto::franking` has the scheme): a stamp
//! on each accepted text that carries a commitment, and the check of a reported message
//! against it.
//!
//! The stamp key of each rotation period is derived from one secret kept with the server's
//! others (`franking.key`), so every node stamps alike and a backup holds it. A stamp
//! verifies only while its period is one of the last [`franking::KEYS_ACCEPTED`]: a message can be
//! reported for 30 to 60 days after it was accepted, and an older stamp is refused even
//! though the key could still be derived.

use hmac::{Hmac, Mac};
use pli_proto::abuse::ReportedMessage;
use pli_proto::franking::{self, FRANK_BYTES, MESSAGE_ID_BYTES, Stamp};
use pli_proto::{GroupId, Username};
use sha2::Sha256;

/// The secret the stamp keys are derived from, beside the server's other secrets.
pub const FRANKING_KEY_FILE: &str = "franking.key";

/// Why a reported message does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrankingError {
    /// A field is not the size the scheme fixes.
    #[error("a reported message's franking fields are malformed")]
    Malformed,
    /// The stamp's key is older than the last {KEYS_ACCEPTED} rotation periods, or from
    /// the future.
    #[error("the message is too old to report: its franking key has been rotated out")]
    KeyExpired,
    /// The commitment did not open to a stamped one: the text, the sender, the device,
    /// the conversation, the day or the stamp itself differ from what was sent.
    #[error("the reported message does not match what the server accepted")]
    DoesNotVerify,
}

/// Stamps and checks; holds the master secret only.
#[derive(Clone)]
pub struct Franker {
    master: [u8; 32],
}

impl Franker {
    pub fn new(master: [u8; 32]) -> Self {
        Self { master }
    }

    /// The stamp key of rotation period `key_id`.
    fn key(&self, key_id: u32) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.master).expect("HMAC takes any key length");
        mac.update(b"pli franking stamp key v1");
        mac.update(&key_id.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The stamp for a message carrying `commitment`, submitted by `sender`'s device at
    /// `now_ms`.
    pub fn stamp(&self, commitment: &[u8; FRANK_BYTES], sender: &Username, now_ms: u64) -> Stamp {
        let day = franking::day_of(now_ms);
        let key_id = franking::key_id(day);
        Stamp {
            key_id,
            day,
            tag: franking::server_tag(&self.key(key_id), commitment, sender, day),
        }
    }

    /// Checks that `message`, reported as sent by `sender` in `conversation`, is what the
    /// server stamped; returns its commitment (which identifies it for replay checks).
    pub fn verify(
        &self,
        sender: &Username,
        conversation: &GroupId,
        message: &ReportedMessage,
        now_ms: u64,
    ) -> Result<[u8; FRANK_BYTES], FrankingError> {
        let key: [u8; FRANK_BYTES] = message
            .franking_key
            .as_slice()
            .try_into()
            .map_err(|_| FrankingError::Malformed)?;
        let message_id: [u8; MESSAGE_ID_BYTES] = message
            .message_id
            .as_slice()
            .try_into()
            .map_err(|_| FrankingError::Malformed)?;
        let tag: [u8; FRANK_BYTES] = message
            .tag
            .as_slice()
            .try_into()
            .map_err(|_| FrankingError::Malformed)?;
        if !franking::key_accepted(message.key_id, franking::day_of(now_ms))
            || franking::key_id(message.day) != message.key_id
        {
            return Err(FrankingError::KeyExpired);
        }
        let commitment = franking::commitment(
            &key,
            &message.text,
            sender,
            message.sender_device,
            conversation,
            &message_id,
        );
        let expected =
            franking::server_tag(&self.key(message.key_id), &commitment, sender, message.day);
        if !franking::tags_match(&tag, &expected) {
            return Err(FrankingError::DoesNotVerify);
        }
        Ok(commitment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pli_proto::DeviceId;

    const DAY_MS: u64 = 86_400_000;

    fn reported(
        franker: &Franker,
        sender: &Username,
        group: &GroupId,
        now_ms: u64,
    ) -> ReportedMessage {
        let key = [3; 32];
        let id = [4; 16];
        let device = DeviceId::new(9).expect("valid");
        let commitment = franking::commitment(&key, "buy now", sender, device, group, &id);
        let stamp = franker.stamp(&commitment, sender, now_ms);
        ReportedMessage {
            text: "buy now".into(),
            sender_device: device,
            message_id: id.to_vec().into(),
            franking_key: key.to_vec().into(),
            key_id: stamp.key_id,
            day: stamp.day,
            tag: stamp.tag.to_vec().into(),
        }
    }

    #[test]
    fn a_stamped_message_verifies_until_its_key_rotates_out() {
        let franker = Franker::new([1; 32]);
        let bob = Username::parse("bob").expect("valid");
        let group = GroupId::from_bytes(&[5; 16]).expect("valid");
        let sent = 20_400 * DAY_MS;
        let message = reported(&franker, &bob, &group, sent);
        assert!(franker.verify(&bob, &group, &message, sent).is_ok());
        let rotated = u64::from(franking::KEY_ROTATION_DAYS * franking::KEYS_ACCEPTED) * DAY_MS;
        assert_eq!(
            franker.verify(&bob, &group, &message, sent + rotated),
            Err(FrankingError::KeyExpired)
        );
        let other_server = Franker::new([2; 32]);
        assert_eq!(
            other_server.verify(&bob, &group, &message, sent),
            Err(FrankingError::DoesNotVerify),
            "another server's key does not verify this one's stamps"
        );
        let mut dated = message.clone();
        dated.day += 1;
        assert!(franker.verify(&bob, &group, &dated, sent).is_err());
    }
}
