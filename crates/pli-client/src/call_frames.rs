//! A call's frame encryption: every media frame is an SFrame ciphertext (RFC 9605, the
//! `sframe` crate) under keys the call's own MLS group exports (§5.2), so the relay that
//! forwards the frames never holds a key.
//!
//! Each epoch of the call group gives one base key (the MLS exporter under
//! [`SFRAME_EXPORTER_LABEL`](pli_proto::call::SFRAME_EXPORTER_LABEL)) and from it one key
//! per member, told apart by the SFrame key id: the low bits of the epoch and the member's
//! leaf index ([`KEY_ID_BITS`]). Every join and every leave is a commit, hence a new epoch,
//! hence new keys: a member who left holds none of the new epoch's, a member who joined none
//! of the earlier ones'. After a switch, frames of the previous epoch are still opened for
//! [`PREVIOUS_EPOCH_GRACE`], because a sender that merged the commit a moment later, and
//! frames already in flight, would otherwise be lost; past that they are refused, so the
//! old epoch's keys (which a departed member holds) open nothing for long.
//!
//! What a relay needs in clear (a codec's header for video, say) travels as SFrame metadata:
//! authenticated, not encrypted.

use openmls::prelude::{ExportSecretError, MlsGroup};
use openmls_rust_crypto::RustCrypto;
use sframe::CipherSuite;
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::header::KeyId;
use sframe::key::{DecryptionKey, EncryptionKey};
use sframe::mls::{MlsExporter, MlsKeyId, MlsKeyIdBitRange};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The SFrame cipher suite of pli's calls: AES-128-GCM with HKDF-SHA256 (RFC 9605 §4.5,
/// 0x0004), which browsers' WebCrypto also has.
pub const FRAME_SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

/// How the 64-bit SFrame key id splits (RFC 9605 §5.2): 8 bits of epoch, 10 of leaf index
/// (a call of 40 leaves a tree far narrower than 1,024 leaves), the rest a context id of 0,
/// the shortest header.
pub const KEY_ID_BITS: (u8, u8) = (8, 10);

/// How long the previous epoch's frames are still opened after a switch: long enough for
/// every member to merge the commit and for frames in flight (a jitter buffer holds well
/// under a second) to arrive, short enough that the keys a departed member holds open
/// little of what follows.
pub const PREVIOUS_EPOCH_GRACE: Duration = Duration::from_secs(2);

/// Why a frame could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The call group gave no key (it is not active, say).
    #[error("the call group gave no frame key")]
    Keys,
    /// Not an SFrame ciphertext.
    #[error("the frame is not SFrame")]
    Malformed,
    /// No key of the call's current (or just previous) epoch opens it.
    #[error("no key of this call opens the frame")]
    NoKey,
    /// The epoch's frame counter is used up: the call needs a new epoch.
    #[error("this epoch's frame counter is used up")]
    Exhausted,
}

/// The MLS exporter of a call group, as the `sframe` crate asks for it.
struct Exporter<'a> {
    group: &'a MlsGroup,
    crypto: &'a RustCrypto,
}

impl MlsExporter for Exporter<'_> {
    type BaseKey = Vec<u8>;
    type Error = ExportSecretError;

    fn export_secret(
        &self,
        label: &str,
        context: &[u8],
        key_length: usize,
    ) -> Result<Self::BaseKey, Self::Error> {
        self.group
            .export_secret(self.crypto, label, context, key_length)
    }
}

/// One epoch's keys for opening the other members' frames, by key id.
struct EpochKeys {
    epoch: u64,
    open: HashMap<KeyId, DecryptionKey>,
}

/// A member's frame keys in one call: its own sealing key and counter for the current
/// epoch, the other members' opening keys, and the previous epoch's for a short while.
pub struct CallFrames {
    seal: EncryptionKey,
    counter: MonotonicCounter,
    current: EpochKeys,
    previous: Option<(EpochKeys, Instant)>,
}

fn bits() -> MlsKeyIdBitRange {
    MlsKeyIdBitRange::new(KEY_ID_BITS.0, KEY_ID_BITS.1)
}

fn key_id(epoch: u64, leaf: u32) -> Result<MlsKeyId, FrameError> {
    MlsKeyId::try_new(0u64, epoch, u64::from(leaf), bits()).map_err(|_| FrameError::Keys)
}

/// The sealing key of this member and the opening keys of every other member, for the
/// group's current epoch.
fn epoch_keys(
    group: &MlsGroup,
    crypto: &RustCrypto,
) -> Result<(EncryptionKey, EpochKeys), FrameError> {
    let exporter = Exporter { group, crypto };
    let epoch = group.epoch().as_u64();
    let own = group.own_leaf_index().u32();
    let seal = EncryptionKey::derive_from_mls(FRAME_SUITE, &exporter, key_id(epoch, own)?)
        .map_err(|_| FrameError::Keys)?;
    let mut open = HashMap::new();
    for member in group.members() {
        let leaf = member.index.u32();
        if leaf == own {
            continue;
        }
        let key = DecryptionKey::derive_from_mls(FRAME_SUITE, &exporter, key_id(epoch, leaf)?)
            .map_err(|_| FrameError::Keys)?;
        open.insert(key.key_id(), key);
    }
    Ok((seal, EpochKeys { epoch, open }))
}

impl CallFrames {
    /// The keys of the call group's current epoch.
    pub fn new(group: &MlsGroup, crypto: &RustCrypto) -> Result<Self, FrameError> {
        let (seal, current) = epoch_keys(group, crypto)?;
        Ok(Self {
            seal,
            counter: MonotonicCounter::default(),
            current,
            previous: None,
        })
    }

    /// Switches to the group's new epoch (after a join or a leave was merged) at `now`:
    /// frames are sealed under the new keys from here on, and the previous epoch's are
    /// opened until [`PREVIOUS_EPOCH_GRACE`] after `now`.
    pub fn rekey(
        &mut self,
        group: &MlsGroup,
        crypto: &RustCrypto,
        now: Instant,
    ) -> Result<(), FrameError> {
        if group.epoch().as_u64() == self.current.epoch {
            return Ok(());
        }
        let (seal, current) = epoch_keys(group, crypto)?;
        self.seal = seal;
        self.counter = MonotonicCounter::default();
        let old = std::mem::replace(&mut self.current, current);
        self.previous = Some((old, now));
        Ok(())
    }

    /// The epoch frames are sealed in now.
    pub fn epoch(&self) -> u64 {
        self.current.epoch
    }

    /// Seals one encoded frame; `meta` (a codec header the relay may read) is authenticated
    /// and left in clear, outside the returned ciphertext.
    pub fn seal(&mut self, meta: &[u8], frame: &[u8]) -> Result<Vec<u8>, FrameError> {
        let media = MediaFrameView::try_with_meta_data(&mut self.counter, frame, meta)
            .map_err(|_| FrameError::Exhausted)?;
        let sealed = media.encrypt(&self.seal).map_err(|_| FrameError::Keys)?;
        Ok(sealed.sframe_cipher_text().to_vec())
    }

    /// Opens a frame sealed by another member at `now`: its sender's leaf index and the
    /// encoded frame.
    pub fn open(
        &self,
        meta: &[u8],
        sealed: &[u8],
        now: Instant,
    ) -> Result<(u32, Vec<u8>), FrameError> {
        let view = EncryptedFrameView::try_with_meta_data(&sealed, &meta)
            .map_err(|_| FrameError::Malformed)?;
        let id = view.header().key_id();
        let keys = if self.current.open.contains_key(&id) {
            &self.current.open
        } else {
            match &self.previous {
                Some((previous, since))
                    if now.saturating_duration_since(*since) <= PREVIOUS_EPOCH_GRACE =>
                {
                    &previous.open
                }
                _ => return Err(FrameError::NoKey),
            }
        };
        let media = view.decrypt(keys).map_err(|_| FrameError::NoKey)?;
        let leaf = MlsKeyId::from_key_id(id, bits()).member_index();
        Ok((leaf as u32, media.payload().to_vec()))
    }

    /// The short code of the call group's current epoch, to compare aloud.
    pub fn code(group: &MlsGroup) -> String {
        pli_proto::call::call_code(group.epoch_authenticator().as_slice())
    }
}

#[cfg(test)]
mod tests;
