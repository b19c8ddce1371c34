//! Attachments on the wire: how a file is cut into chunks, its id, the upload and download
//! bodies, and the reference a message carries.
//!
//! A file is encrypted on the sending device (`pli_client::attachments`) and uploaded as
//! ciphertext chunks of [`CHUNK_BYTES`] (the last one shorter), named by the devices that
//! may download it, as a message is. The message that shares it carries an
//! [`AttachmentRef`]: the blob's id, the key, and the SHA-256 of the whole ciphertext. The
//! hash is what makes the scheme key-committing: a server that swaps the blob, or a sender
//! who made a blob that opens two ways, fails it before a byte is shown.

use crate::b64::Bytes64;
use crate::ids::DeviceId;
use serde::{Deserialize, Serialize};

/// Ciphertext bytes in every chunk but the last: a chunk is one HTTP body, so memory on
/// either side stays this small whatever the file's size.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// The AES-GCM tag each chunk ends with.
pub const CHUNK_TAG_BYTES: usize = 16;
/// Plaintext bytes in every chunk but the last.
pub const CHUNK_PLAIN_BYTES: usize = CHUNK_BYTES - CHUNK_TAG_BYTES;
/// A file's largest plaintext size by default (`max_attachment_bytes` changes it).
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 100 * 1024 * 1024;
/// Bytes one account may hold in attachments not yet expired or fetched, by default
/// (`attachment_quota_bytes` changes it).
pub const DEFAULT_ATTACHMENT_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Random bytes in an attachment's id.
pub const ATTACHMENT_ID_BYTES: usize = 16;
/// Longest file name a reference carries, in bytes.
pub const MAX_ATTACHMENT_NAME_BYTES: usize = 255;
/// Longest media type a reference carries, in bytes.
pub const MAX_MEDIA_TYPE_BYTES: usize = 127;
/// Largest thumbnail a reference carries (it travels inside the message).
pub const MAX_THUMBNAIL_BYTES: usize = 48 * 1024;

/// The ciphertext size of a `plain`-byte file: one tag per chunk (an empty file is one
/// empty chunk).
pub fn cipher_len(plain: u64) -> u64 {
    let chunks = plain.div_ceil(CHUNK_PLAIN_BYTES as u64).max(1);
    plain + chunks * CHUNK_TAG_BYTES as u64
}

/// The chunks a `cipher`-byte blob is cut into.
pub fn chunk_count(cipher: u64) -> u32 {
    u32::try_from(cipher.div_ceil(CHUNK_BYTES as u64).max(1)).unwrap_or(u32::MAX)
}

/// The length chunk `index` of a `cipher`-byte blob must have, or `None` past its end.
pub fn chunk_len(cipher: u64, index: u32) -> Option<usize> {
    let start = u64::from(index) * CHUNK_BYTES as u64;
    if index >= chunk_count(cipher) {
        return None;
    }
    Some((cipher - start).min(CHUNK_BYTES as u64) as usize)
}

/// An attachment's id on the server: random, so it says nothing about the file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentId(pub [u8; ATTACHMENT_ID_BYTES]);

impl AttachmentId {
    /// The id's hex, as paths and messages carry it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// An id from its hex, if well-formed.
    pub fn parse(text: &str) -> Option<Self> {
        hex::decode(text).ok()?.try_into().ok().map(Self)
    }
}

impl std::fmt::Debug for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttachmentId({})", self.to_hex())
    }
}

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for AttachmentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for AttachmentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an attachment id"))
    }
}

/// `POST /v1/attachments`: a new upload of `size` ciphertext bytes that these devices may
/// download.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAttachmentRequest {
    /// The ciphertext's size in bytes ([`cipher_len`] of the file's): at least 16 (an empty
    /// file), at most the server's limit (100 MiB of file by default).
    #[cfg_attr(feature = "openapi", schema(minimum = 16))]
    pub size: u64,
    /// The devices that may download it (not the uploading device, which always may), 1 to
    /// [`crate::limits::MAX_RECIPIENTS`].
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 5000))]
    pub recipients: Vec<DeviceId>,
    /// Keep it at most this many seconds, 1 to [`crate::limits::MAX_DISAPPEAR_SECS`]: a
    /// file shared in a conversation with a disappearing timer leaves the server by the
    /// time its message does. Absent: the queue lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 2419200))]
    pub expires_in_secs: Option<u64>,
}

/// An attachment's upload state: what `POST /v1/attachments`, `GET
/// /v1/attachments/{id}` and each chunk upload answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentStatus {
    /// The attachment's id (hex).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: AttachmentId,
    /// The ciphertext's size in bytes.
    pub size: u64,
    /// Chunks in all ([`chunk_count`]).
    pub chunks: u32,
    /// Chunks uploaded so far, from the first: an interrupted upload resumes at this one.
    pub received: u32,
}

impl AttachmentStatus {
    /// Whether every chunk is uploaded.
    pub fn complete(&self) -> bool {
        self.received >= self.chunks
    }
}

/// What a message says about the file it shares ([`crate::payload::Body::Attachment`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// The blob's id on the server.
    pub id: AttachmentId,
    /// Hex of the 32-byte AES-256-GCM key, fresh for this file.
    pub key: String,
    /// Hex SHA-256 of the whole ciphertext: checked before anything is decrypted.
    pub digest: String,
    /// The file's plaintext size in bytes.
    pub size: u64,
    /// The file's name, without any directory, at most [`MAX_ATTACHMENT_NAME_BYTES`].
    pub name: String,
    /// Its media type (`image/png`, `audio/wav` …), at most [`MAX_MEDIA_TYPE_BYTES`].
    pub media_type: String,
    /// A small JPEG of an image, made on the sending device, at most
    /// [`MAX_THUMBNAIL_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<Bytes64>,
}

/// The key and digest stay out of logs.
impl std::fmt::Debug for AttachmentRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttachmentRef({}, {} bytes)", self.id, self.size)
    }
}

impl AttachmentRef {
    /// Whether its fields are well-formed and within their limits.
    pub fn well_formed(&self) -> bool {
        let key = hex::decode(&self.key).is_ok_and(|k| k.len() == 32);
        let digest = hex::decode(&self.digest).is_ok_and(|d| d.len() == 32);
        key && digest
            && self.name.len() <= MAX_ATTACHMENT_NAME_BYTES
            && !self.name.contains(['/', '\\'])
            && self.media_type.len() <= MAX_MEDIA_TYPE_BYTES
            && self
                .thumbnail
                .as_ref()
                .is_none_or(|t| t.as_slice().len() <= MAX_THUMBNAIL_BYTES)
    }

    /// The key, if well-formed.
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.key).ok()?.try_into().ok()
    }

    /// The digest, if well-formed.
    pub fn digest_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.digest).ok()?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_ciphertext_exactly() {
        for plain in [
            0u64,
            1,
            CHUNK_PLAIN_BYTES as u64,
            CHUNK_PLAIN_BYTES as u64 + 1,
            5 << 20,
        ] {
            let cipher = cipher_len(plain);
            let chunks = chunk_count(cipher);
            let total: u64 = (0..chunks)
                .map(|i| chunk_len(cipher, i).expect("in range") as u64)
                .sum();
            assert_eq!(total, cipher, "plain {plain}");
            assert_eq!(chunk_len(cipher, chunks), None);
            assert!(chunk_len(cipher, chunks - 1).expect("last") > CHUNK_TAG_BYTES - 1);
        }
    }

    #[test]
    fn ids_round_trip_through_hex_and_refuse_other_lengths() {
        let id = AttachmentId([7; ATTACHMENT_ID_BYTES]);
        assert_eq!(AttachmentId::parse(&id.to_hex()), Some(id));
        assert_eq!(AttachmentId::parse("abcd"), None);
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(serde_json::from_str::<AttachmentId>(&json).ok(), Some(id));
    }
}
