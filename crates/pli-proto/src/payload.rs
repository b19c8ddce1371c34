//! The plaintext inside every MLS application message: a versioned pli envelope.
//!
//! Each envelope carries the sender device's sequence number in the conversation and the
//! hash of its previous envelope. Receivers keep the last pair per sender, so a server that
//! drops, replays or reorders a sender's messages is caught and the user told, even though
//! it cannot read them. The body is an open enum so attachments, receipts and calls can be
//! added without a new envelope version.

use crate::attachment::AttachmentRef;
use crate::call::CallAction;
use crate::franking::{FRANK_BYTES, MESSAGE_ID_BYTES};
use crate::limits::{
    MAX_DISAPPEAR_SECS, MAX_GROUP_NAME_BYTES, MAX_PAYLOAD_BYTES, MAX_REACTION_BYTES, MAX_TEXT_BYTES,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The envelope version this build writes and reads ([`Envelope::v`]).
pub const ENVELOPE_VERSION: u32 = 1;

/// Why decrypted bytes are not an envelope this build accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Over [`MAX_PAYLOAD_BYTES`].
    #[error("payload exceeds the size limit")]
    TooLarge,
    /// Not padding this module wrote, or not an envelope's JSON.
    #[error("payload is not a pli envelope")]
    Malformed,
    /// An envelope version other than [`ENVELOPE_VERSION`].
    #[error("payload envelope version is not supported")]
    UnsupportedVersion,
    /// A text or group name over its limit in [`crate::limits`].
    #[error("a field exceeds its limit")]
    FieldTooLarge,
}

/// What the message says.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// A text message.
    Text {
        /// The text, at most [`MAX_TEXT_BYTES`] bytes of UTF-8.
        text: String,
        /// The message this one answers ([`Envelope::id`] hex). An earlier pli ignores it
        /// and shows the text alone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// The sender's reaction to a message (one per user and message: a later one replaces
    /// it), or its withdrawal when `reaction` is empty.
    Reaction {
        /// The message reacted to ([`Envelope::id`] hex).
        to: String,
        /// An emoji, at most [`MAX_REACTION_BYTES`] bytes; empty withdraws.
        reaction: String,
    },
    /// A new text for one of the sender's own texts. Receivers apply it only when the
    /// sender wrote the message it names, and keep the earlier text on the device.
    Edit {
        /// The message edited ([`Envelope::id`] hex).
        to: String,
        /// Its new text, at most [`MAX_TEXT_BYTES`] bytes, not empty.
        text: String,
    },
    /// That the sender's device received (or its user read) these messages. Sent only for
    /// messages of others, and only where the sender has receipts on.
    Receipt {
        /// True once read; false for delivered.
        read: bool,
        /// The messages ([`Envelope::id`] hex), 1 to [`MAX_RECEIPT_IDS`].
        to: Vec<String>,
    },
    /// That the sender is typing (or stopped) in the conversation: sent only as an
    /// ephemeral message (`POST /v1/ephemeral`), outside the sender's hash chain (`seq` 0),
    /// never stored by the server or by the recipient.
    Typing {
        /// True while typing; false once stopped (sent, or cleared the composer).
        typing: bool,
    },
    /// Deletion for everyone of one of the sender's own texts: every member device drops
    /// its text (and edits and reactions) and shows "message deleted". Receivers apply it
    /// only when the sender wrote the message it names.
    Delete {
        /// The message deleted ([`Envelope::id`] hex).
        to: String,
    },
    /// The conversation's disappearing-message timer, set by any member: every message sent
    /// after it carries [`Envelope::expires`], and each device deletes it that long after
    /// it was sent or received. Shown to every member as a notice.
    Timer {
        /// Seconds, 1 to [`MAX_DISAPPEAR_SECS`]; 0 turns the timer off.
        seconds: u64,
    },
    /// A file shared in the conversation, uploaded encrypted before this message: the
    /// reference holds its key and the hash of its ciphertext ([`crate::attachment`]).
    /// An earlier pli shows "a message this version cannot display".
    Attachment {
        /// The blob, its key and its ciphertext's hash.
        attachment: AttachmentRef,
        /// A caption, at most [`MAX_TEXT_BYTES`]; often empty.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        text: String,
    },
    /// The sender's profile key, with which its encrypted profile
    /// (`GET /v1/users/{username}/profile`) opens: shared with the people the sender talks
    /// to, never with the server. `version` grows with each profile the sender stores, so
    /// receivers know to fetch it again (and refuse an older one the server might replay).
    ProfileKey {
        /// Hex of the 32-byte key.
        key: String,
        /// The profile's version, from 1.
        version: u64,
    },
    /// A call's signalling ([`crate::call`]): its start, an answer, a decline, a join, a
    /// leave, its end. The media keys come from the call's own MLS group, not from here.
    Call {
        /// The call's random id ([`crate::call::CALL_ID_BYTES`] bytes, hex).
        call: String,
        /// What happens to it.
        action: CallAction,
        /// Whether the sender sends video (a start rings as a video call).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        video: bool,
    },
    /// The conversation's name and kind, sent by whoever creates it or adds members, so the
    /// server never learns either.
    Meta {
        /// The conversation's name, as its members see it.
        name: String,
        /// Whether it is a direct (1:1) conversation rather than a named group.
        direct: bool,
        /// The conversation's disappearing-message timer in seconds (0: none), sent when
        /// members are added so they learn it. Absent from an earlier pli: unchanged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timer: Option<u64>,
    },
    /// A kind of body a newer pli sends that this version does not know. It is kept (shown
    /// as "a message this version cannot display" and counted in the sender's hash chain),
    /// so a newer sender's next message raises no false alarm. Never sent.
    #[serde(other)]
    Unknown,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Text { text, reply_to } => write!(
                f,
                "Text(<{} bytes>, reply: {})",
                text.len(),
                reply_to.is_some()
            ),
            Body::Reaction { .. } => write!(f, "Reaction"),
            Body::Edit { text, .. } => write!(f, "Edit(<{} bytes>)", text.len()),
            Body::Delete { .. } => write!(f, "Delete"),
            Body::Typing { typing } => write!(f, "Typing({typing})"),
            Body::Receipt { read, to } => write!(f, "Receipt(read: {read}, {} ids)", to.len()),
            Body::Timer { seconds } => write!(f, "Timer({seconds} s)"),
            Body::Attachment { attachment, text } => {
                write!(
                    f,
                    "Attachment({attachment:?}, caption <{} bytes>)",
                    text.len()
                )
            }
            Body::Meta { direct, .. } => write!(f, "Meta(direct: {direct})"),
            Body::ProfileKey { version, .. } => write!(f, "ProfileKey(version {version})"),
            Body::Call { action, video, .. } => write!(f, "Call({action:?}, video: {video})"),
            Body::Unknown => write!(f, "Unknown"),
        }
    }
}

/// The plaintext of one application message, with the sender's hash-chain link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The envelope version, [`ENVELOPE_VERSION`].
    pub v: u32,
    /// The sender device's sequence number in this conversation, from 1.
    pub seq: u64,
    /// Hex SHA-256 of the sender's previous envelope in this conversation, absent for seq 1.
    pub prev: Option<String>,
    /// Sender's clock, milliseconds since the Unix epoch.
    pub sent_at: u64,
    /// What the message says.
    pub body: Body,
    /// The newest key directory root the sender has verified, so members shown different
    /// roots for one epoch (a split view) find out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kt: Option<RootRef>,
    /// This message's id, hex of [`MESSAGE_ID_BYTES`] random bytes: what a report (and
    /// later a reply or a reaction) names. Absent in messages from before franking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The franking key, hex of [`FRANK_BYTES`] random bytes, under which the commitment in
    /// the MLS message's authenticated data was made ([`crate::franking`]). Only texts
    /// carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frank: Option<String>,
    /// Seconds after it was sent that this message disappears from every device (the
    /// conversation's [`Body::Timer`] when it was written). Copied into the MLS message's
    /// authenticated data, so the server's queue entry expires no later
    /// ([`crate::franking::aad`]). Absent: kept until deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
}

/// A message's franking opening: its id and franking key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The message id ([`Envelope::id`]).
    pub message_id: [u8; MESSAGE_ID_BYTES],
    /// The franking key ([`Envelope::frank`]).
    pub key: [u8; FRANK_BYTES],
}

/// Redacted: the key opens the commitment.
impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opening(<hidden>)")
    }
}

impl Opening {
    /// A fresh opening for a new message.
    pub fn random(random: impl FnOnce(&mut [u8])) -> Self {
        let mut bytes = [0u8; MESSAGE_ID_BYTES + FRANK_BYTES];
        random(&mut bytes);
        Self {
            message_id: bytes[..MESSAGE_ID_BYTES].try_into().expect("16 bytes"),
            key: bytes[MESSAGE_ID_BYTES..].try_into().expect("32 bytes"),
        }
    }
}

/// Most messages one receipt names.
pub const MAX_RECEIPT_IDS: usize = 100;

/// A message id as a body names it: hex of [`MESSAGE_ID_BYTES`] bytes.
pub fn parse_message_id(hex_id: &str) -> Option<[u8; MESSAGE_ID_BYTES]> {
    hex::decode(hex_id).ok()?.try_into().ok()
}

/// A key directory root as a message carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRef {
    /// The directory epoch.
    pub epoch: u64,
    /// Hex of the 32-byte root hash.
    pub root: String,
}

impl RootRef {
    /// The reference to `root`, the root hash of directory epoch `epoch`.
    pub fn new(epoch: u64, root: &[u8; 32]) -> Self {
        Self {
            epoch,
            root: hex::encode(root),
        }
    }

    /// The root hash, if well-formed.
    pub fn hash(&self) -> Option<[u8; 32]> {
        hex::decode(&self.root).ok()?.try_into().ok()
    }
}

impl Envelope {
    /// The envelope's JSON, before [`pad`]; the hash chain covers these bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope of strings and integers always serialises")
    }

    /// Reads unpadded envelope JSON, refusing other versions and oversized fields.
    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge);
        }
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|_| PayloadError::Malformed)?;
        if envelope.v != ENVELOPE_VERSION {
            return Err(PayloadError::UnsupportedVersion);
        }
        envelope.body.check_limits()?;
        Ok(envelope)
    }

    /// Decodes an envelope as it came out of MLS: padded by [`pad`], or unpadded (as an
    /// earlier pli sent it). Returns the envelope and its unpadded encoding (what the
    /// sender's hash chain covers).
    pub fn decode_padded(bytes: &[u8]) -> Result<(Self, &[u8]), PayloadError> {
        let encoded = unpad(bytes)?;
        Ok((Self::decode(encoded)?, encoded))
    }

    /// The envelope's franking opening, if it carries a well-formed one.
    pub fn opening(&self) -> Option<Opening> {
        let message_id = hex::decode(self.id.as_deref()?).ok()?.try_into().ok()?;
        let key = hex::decode(self.frank.as_deref()?).ok()?.try_into().ok()?;
        Some(Opening { message_id, key })
    }

    /// The envelope's message id, if it carries a well-formed one.
    pub fn message_id(&self) -> Option<[u8; MESSAGE_ID_BYTES]> {
        parse_message_id(self.id.as_deref()?)
    }

    /// Puts `opening` in the envelope.
    pub fn set_opening(&mut self, opening: &Opening) {
        self.id = Some(hex::encode(opening.message_id));
        self.frank = Some(hex::encode(opening.key));
    }

    /// The hash the sender's next envelope names as `prev`.
    pub fn chain_hash(encoded: &[u8]) -> String {
        hex::encode(Sha256::digest(encoded))
    }
}

/// The smallest padded size: every text up to about 300 bytes (an envelope carries some 200
/// bytes of hashes and numbers) looks alike.
pub const MIN_PADDED_BYTES: usize = 512;

/// Pads an encoded envelope before encryption, so the ciphertext's size tells only the
/// size bucket of the message, not its length: the envelope, one `0x80` byte, then zeros up
/// to the next power of two (at least [`MIN_PADDED_BYTES`], at most [`MAX_PAYLOAD_BYTES`]).
/// Powers of two rather than Padmé: text messages are short, and a 1-byte and a 100-byte
/// text must fall in one bucket; the cost is at most double for a long text.
///
/// ```
/// use pli_proto::payload::{pad, unpad};
/// let short = pad(br#"{"v":1}"#);
/// let longer = pad(&[b'{'; 200]);
/// assert_eq!(short.len(), longer.len());
/// assert_eq!(unpad(&short), Ok(&br#"{"v":1}"#[..]));
/// ```
pub fn pad(encoded: &[u8]) -> Vec<u8> {
    let wanted = (encoded.len() + 1)
        .max(MIN_PADDED_BYTES)
        .checked_next_power_of_two()
        .unwrap_or(usize::MAX)
        .min(MAX_PAYLOAD_BYTES)
        .max(encoded.len() + 1);
    let mut padded = Vec::with_capacity(wanted);
    padded.extend_from_slice(encoded);
    padded.push(0x80);
    padded.resize(wanted, 0);
    padded
}

/// Strips [`pad`]'s padding. An envelope that ends in `}` is unpadded JSON, as an earlier
/// pli sent it.
pub fn unpad(bytes: &[u8]) -> Result<&[u8], PayloadError> {
    if bytes.last() == Some(&b'}') {
        return Ok(bytes);
    }
    let end = bytes
        .iter()
        .rposition(|b| *b != 0)
        .ok_or(PayloadError::Malformed)?;
    if bytes[end] != 0x80 {
        return Err(PayloadError::Malformed);
    }
    Ok(&bytes[..end])
}

impl Body {
    /// A text that answers nothing.
    pub fn text(text: impl Into<String>) -> Self {
        Body::Text {
            text: text.into(),
            reply_to: None,
        }
    }

    /// The message a reply, reaction, edit or deletion names, if any.
    pub fn refers_to(&self) -> Option<&str> {
        match self {
            Body::Text { reply_to, .. } => reply_to.as_deref(),
            Body::Reaction { to, .. } | Body::Edit { to, .. } | Body::Delete { to } => Some(to),
            Body::Meta { .. }
            | Body::Typing { .. }
            | Body::Receipt { .. }
            | Body::Timer { .. }
            | Body::Attachment { .. }
            | Body::ProfileKey { .. }
            | Body::Call { .. }
            | Body::Unknown => None,
        }
    }

    /// A [`Body::ProfileKey`]'s key and version, if well-formed.
    pub fn profile_key(&self) -> Option<([u8; 32], u64)> {
        let Body::ProfileKey { key, version } = self else {
            return None;
        };
        let key = hex::decode(key).ok()?.try_into().ok()?;
        (*version >= 1).then_some((key, *version))
    }

    /// Checks the body's fields against their limits in [`crate::limits`], and that a
    /// message it names is a well-formed message id.
    pub fn check_limits(&self) -> Result<(), PayloadError> {
        if self
            .refers_to()
            .is_some_and(|to| parse_message_id(to).is_none())
        {
            return Err(PayloadError::Malformed);
        }
        let ok = match self {
            Body::Text { text, .. } => text.len() <= MAX_TEXT_BYTES,
            Body::Reaction { reaction, .. } => reaction.len() <= MAX_REACTION_BYTES,
            Body::Edit { text, .. } => !text.is_empty() && text.len() <= MAX_TEXT_BYTES,
            Body::Delete { .. } | Body::Typing { .. } => true,
            Body::Receipt { to, .. } => {
                if to.iter().any(|id| parse_message_id(id).is_none()) {
                    return Err(PayloadError::Malformed);
                }
                !to.is_empty() && to.len() <= MAX_RECEIPT_IDS
            }
            Body::Meta { name, timer, .. } => {
                name.len() <= MAX_GROUP_NAME_BYTES
                    && timer.is_none_or(|seconds| seconds <= MAX_DISAPPEAR_SECS)
            }
            Body::Timer { seconds } => *seconds <= MAX_DISAPPEAR_SECS,
            Body::Attachment { attachment, text } => {
                if !attachment.well_formed() {
                    return Err(PayloadError::Malformed);
                }
                text.len() <= MAX_TEXT_BYTES
            }
            Body::ProfileKey { .. } => {
                if self.profile_key().is_none() {
                    return Err(PayloadError::Malformed);
                }
                true
            }
            Body::Call { call, .. } => {
                if crate::call::parse_call_id(call).is_none() {
                    return Err(PayloadError::Malformed);
                }
                true
            }
            Body::Unknown => true,
        };
        if ok {
            Ok(())
        } else {
            Err(PayloadError::FieldTooLarge)
        }
    }
}

#[cfg(test)]
mod tests;
