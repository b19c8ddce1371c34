//! An attachment's encryption: AES-256-GCM, chunk by chunk, under a fresh random key per
//! file. Each chunk's nonce is its index, with a flag on the last one, so chunks cannot be
//! reordered, dropped from the end, or moved between files without failing their tags.
//! The message that shares the file carries the key and the SHA-256 of the whole
//! ciphertext; the hash is checked before a chunk is opened. With the key and the
//! ciphertext both fixed by the message, a blob opens one way or not at all: AES-GCM alone
//! is not key-committing, the hash makes the pair so.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use pli_proto::attachment::{CHUNK_BYTES, CHUNK_PLAIN_BYTES, chunk_count};

/// What every chunk's tag also covers: the scheme and its version.
const AAD: &[u8] = b"pli attachment v1";

/// A file's key.
#[derive(Clone)]
pub struct FileKey(pub [u8; 32]);

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(<hidden>)")
    }
}

impl FileKey {
    /// A fresh random key.
    pub fn random() -> Self {
        Self(rand::random())
    }
}

fn nonce(index: u32, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[0] = u8::from(last);
    nonce[8..].copy_from_slice(&index.to_be_bytes());
    nonce
}

/// Encrypts chunk `index` of a file whose ciphertext has `chunks` chunks.
pub fn seal_chunk(key: &FileKey, index: u32, chunks: u32, plain: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(&key.0.into());
    let nonce = nonce(index, index + 1 == chunks);
    cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: AAD,
            },
        )
        .expect("AES-GCM encrypts any chunk under 64 GiB")
}

/// Decrypts chunk `index` of `chunks`; `None` if its tag does not verify.
pub fn open_chunk(key: &FileKey, index: u32, chunks: u32, sealed: &[u8]) -> Option<Vec<u8>> {
    let cipher = Aes256Gcm::new(&key.0.into());
    let nonce = nonce(index, index + 1 == chunks);
    cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: sealed,
                aad: AAD,
            },
        )
        .ok()
}

/// The plaintext pieces of a `plain`-byte file, as (offset, length).
pub fn plain_pieces(plain: u64) -> impl Iterator<Item = (u64, usize)> {
    let chunks = chunk_count(pli_proto::attachment::cipher_len(plain));
    (0..chunks).map(move |index| {
        let offset = u64::from(index) * CHUNK_PLAIN_BYTES as u64;
        let len = (plain - offset).min(CHUNK_PLAIN_BYTES as u64) as usize;
        (offset, len)
    })
}

/// The byte range chunk `index` takes in the ciphertext.
pub fn cipher_offset(index: u32) -> u64 {
    u64::from(index) * CHUNK_BYTES as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use pli_proto::attachment::{chunk_len, cipher_len};

    fn seal_all(key: &FileKey, data: &[u8]) -> Vec<Vec<u8>> {
        let chunks = chunk_count(cipher_len(data.len() as u64));
        plain_pieces(data.len() as u64)
            .enumerate()
            .map(|(i, (offset, len))| {
                seal_chunk(key, i as u32, chunks, &data[offset as usize..][..len])
            })
            .collect()
    }

    #[test]
    fn chunks_open_in_place_and_nowhere_else() {
        let key = FileKey::random();
        let data: Vec<u8> = (0..CHUNK_PLAIN_BYTES * 2 + 5).map(|i| i as u8).collect();
        let sealed = seal_all(&key, &data);
        let cipher = cipher_len(data.len() as u64);
        assert_eq!(sealed.len(), 3);
        for (i, chunk) in sealed.iter().enumerate() {
            assert_eq!(Some(chunk.len()), chunk_len(cipher, i as u32));
        }
        let opened: Vec<u8> = sealed
            .iter()
            .enumerate()
            .flat_map(|(i, c)| open_chunk(&key, i as u32, 3, c).expect("opens"))
            .collect();
        assert_eq!(opened, data);
        assert_eq!(open_chunk(&key, 1, 3, &sealed[0]), None, "moved chunk");
        assert_eq!(
            open_chunk(&key, 1, 2, &sealed[1]),
            None,
            "cut after chunk 1"
        );
        assert_eq!(
            open_chunk(&FileKey::random(), 0, 3, &sealed[0]),
            None,
            "other key"
        );
        let mut flipped = sealed[2].clone();
        flipped[0] ^= 1;
        assert_eq!(open_chunk(&key, 2, 3, &flipped), None, "altered byte");
    }

    #[test]
    fn an_empty_file_is_one_tag() {
        let key = FileKey::random();
        let sealed = seal_all(&key, b"");
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].len(), 16);
        assert_eq!(open_chunk(&key, 0, 1, &sealed[0]), Some(Vec::new()));
    }
}
