//! MLS key packages: validated at the boundary, stored, handed out once.
//!
//! The server checks every uploaded key package before storing it: a well-formed RFC 9420
//! key package, signed by its leaf key, in pli's ciphersuite, whose credential names the
//! uploading device and whose signature key is the one the device registered. A server that
//! stored garbage would make other users' conversation starts fail; one that stored packages
//! for another device would be an impersonation vector. Its lifetime must be no longer than
//! [`MAX_KEY_PACKAGE_LIFETIME_SECS`] (RFC 9420 §7.2) and must not have ended on the
//! server's clock; the end is stored with the package, so that a claim never hands out an
//! expired one.

use openmls::prelude::{
    BasicCredential, Ciphersuite, KeyPackageIn, KeyPackageVerifyError, MlsMessageBodyIn,
    MlsMessageIn, ProtocolVersion,
};
use openmls::treesync::errors::LifetimeError;
use openmls_rust_crypto::RustCrypto;
use pli_proto::limits::{MAX_KEY_PACKAGE_BYTES, MAX_KEY_PACKAGE_LIFETIME_SECS};
use pli_proto::{CIPHERSUITE, DeviceId, Username, credential_identity};
use tls_codec::Deserialize as _;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyPackageError {
    #[error("a key package exceeds {MAX_KEY_PACKAGE_BYTES} bytes")]
    TooLarge,
    #[error("not an MLS key package message")]
    Malformed,
    #[error("the key package signature does not verify")]
    Invalid,
    #[error("the key package has expired")]
    Expired,
    #[error("the key package is not valid yet")]
    NotYetValid,
    #[error("the key package lifetime exceeds {MAX_KEY_PACKAGE_LIFETIME_SECS} seconds")]
    LifetimeTooLong,
    #[error("the key package uses another ciphersuite than pli's")]
    WrongCiphersuite,
    #[error("the key package credential does not name this device and its registered key")]
    WrongIdentity,
    #[error("the last-resort extension is missing or misplaced")]
    LastResortMismatch,
}

/// Who may upload: the device, its user and its registered signature key.
pub struct Uploader<'a> {
    pub username: &'a Username,
    pub device_id: DeviceId,
    pub signature_key: &'a [u8],
}

/// Checks one uploaded key package at `now_s` (the server's clock, seconds since the Unix
/// epoch) and returns the end of its lifetime. `last_resort` says which slot it is
/// uploaded to; the package's own extension must agree.
pub fn validate(
    bytes: &[u8],
    who: &Uploader<'_>,
    last_resort: bool,
    now_s: u64,
) -> Result<u64, KeyPackageError> {
    if bytes.len() > MAX_KEY_PACKAGE_BYTES {
        return Err(KeyPackageError::TooLarge);
    }
    let message =
        MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| KeyPackageError::Malformed)?;
    let MlsMessageBodyIn::KeyPackage(package_in) = message.extract() else {
        return Err(KeyPackageError::Malformed);
    };
    // openmls also checks the lifetime, on the machine's clock.
    let package =
        KeyPackageIn::validate(package_in, &RustCrypto::default(), ProtocolVersion::Mls10)
            .map_err(|err| match err {
                KeyPackageVerifyError::LifetimeError(LifetimeError::Expired { .. }) => {
                    KeyPackageError::Expired
                }
                KeyPackageVerifyError::LifetimeError(LifetimeError::NotValidYet { .. }) => {
                    KeyPackageError::NotYetValid
                }
                _ => KeyPackageError::Invalid,
            })?;
    let lifetime = package.life_time();
    if lifetime.not_after().saturating_sub(lifetime.not_before()) > MAX_KEY_PACKAGE_LIFETIME_SECS {
        return Err(KeyPackageError::LifetimeTooLong);
    }
    if lifetime.not_after() <= now_s {
        return Err(KeyPackageError::Expired);
    }
    if package.ciphersuite()
        != Ciphersuite::try_from(CIPHERSUITE).map_err(|_| KeyPackageError::WrongCiphersuite)?
    {
        return Err(KeyPackageError::WrongCiphersuite);
    }
    let leaf = package.leaf_node();
    let credential = BasicCredential::try_from(leaf.credential().clone())
        .map_err(|_| KeyPackageError::WrongIdentity)?;
    if credential.identity() != credential_identity(who.username, who.device_id).as_slice()
        || leaf.signature_key().as_slice() != who.signature_key
    {
        return Err(KeyPackageError::WrongIdentity);
    }
    if package.last_resort() != last_resort {
        return Err(KeyPackageError::LastResortMismatch);
    }
    Ok(lifetime.not_after())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_panicking() {
        let alice = Username::parse("alice").expect("valid");
        let who = Uploader {
            username: &alice,
            device_id: DeviceId::new(1).expect("valid"),
            signature_key: &[0; 32],
        };
        assert_eq!(
            validate(&[], &who, false, 0),
            Err(KeyPackageError::Malformed)
        );
        assert_eq!(
            validate(&[0, 1, 0, 5, 1, 2], &who, false, 0),
            Err(KeyPackageError::Malformed)
        );
        assert_eq!(
            validate(&vec![0; MAX_KEY_PACKAGE_BYTES + 1], &who, false, 0),
            Err(KeyPackageError::TooLarge)
        );
    }
}
