//! What a backup is encrypted to ([`Protection`]) and what opens it ([`Unlock`]): an age
//! passphrase (scrypt) or an X25519 recipient and its identity. `Debug` never shows a
//! passphrase or an identity.

use super::error::BackupError;
use age::secrecy::{ExposeSecret as _, SecretString};
use std::path::Path;

/// The shortest passphrase a backup is made with: scrypt slows guessing, it cannot make a
/// short passphrase long.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// How a backup is encrypted.
pub enum Protection {
    /// Through scrypt, at a work factor of about a second on this machine.
    Passphrase(SecretString),
    Recipient(age::x25519::Recipient),
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Protection::Passphrase(..)"),
            Self::Recipient(recipient) => write!(f, "Protection::Recipient({recipient})"),
        }
    }
}

impl Protection {
    /// A passphrase of at least [`MIN_PASSPHRASE_CHARS`] characters.
    pub fn passphrase(text: String) -> Result<Self, BackupError> {
        if text.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(BackupError::WeakPassphrase {
                min: MIN_PASSPHRASE_CHARS,
            });
        }
        Ok(Self::Passphrase(SecretString::from(text)))
    }

    /// An `age1…` recipient.
    pub fn recipient(text: &str) -> Result<Self, BackupError> {
        text.trim()
            .parse()
            .map(Self::Recipient)
            .map_err(|_| BackupError::BadRecipient)
    }

    pub(super) fn encryptor(&self) -> Result<age::Encryptor, BackupError> {
        match self {
            Self::Passphrase(passphrase) => Ok(age::Encryptor::with_user_passphrase(
                SecretString::from(passphrase.expose_secret().to_owned()),
            )),
            Self::Recipient(recipient) => {
                age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                    .map_err(BackupError::Encrypt)
            }
        }
    }
}

/// What opens a backup.
pub enum Unlock {
    Passphrase(SecretString),
    Identities(Vec<Box<dyn age::Identity>>),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Unlock::Passphrase(..)"),
            Self::Identities(ids) => write!(f, "Unlock::Identities({} identities)", ids.len()),
        }
    }
}

impl Unlock {
    pub fn passphrase(text: String) -> Self {
        Self::Passphrase(SecretString::from(text))
    }

    /// The identities in an age identity file (`AGE-SECRET-KEY-1…` lines, as `age-keygen`
    /// writes).
    pub fn identity_file(path: &Path) -> Result<Self, BackupError> {
        let identities = age::IdentityFile::from_file(path.to_string_lossy().into_owned())
            .map_err(BackupError::IdentityFile)?
            .into_identities()
            .map_err(|_| BackupError::NoIdentity)?;
        if identities.is_empty() {
            return Err(BackupError::NoIdentity);
        }
        Ok(Self::Identities(identities))
    }

    /// The decrypted stream, or why this key does not open it.
    pub(super) fn open<R: std::io::Read>(
        &self,
        decryptor: age::Decryptor<R>,
    ) -> Result<age::stream::StreamReader<R>, BackupError> {
        let refused = |err| match err {
            age::DecryptError::DecryptionFailed => BackupError::WrongPassphrase,
            age::DecryptError::NoMatchingKeys => BackupError::WrongIdentity,
            age::DecryptError::ExcessiveWork { .. } => BackupError::ExcessiveWork,
            age::DecryptError::Io(err) => BackupError::Read(err),
            other => BackupError::Decrypt(other),
        };
        match self {
            Self::Passphrase(passphrase) => {
                if !decryptor.is_scrypt() {
                    return Err(BackupError::NeedsIdentity);
                }
                let identity = age::scrypt::Identity::new(SecretString::from(
                    passphrase.expose_secret().to_owned(),
                ));
                decryptor
                    .decrypt(std::iter::once(&identity as &dyn age::Identity))
                    .map_err(refused)
            }
            Self::Identities(identities) => {
                if decryptor.is_scrypt() {
                    return Err(BackupError::NeedsPassphrase);
                }
                let identities = identities
                    .iter()
                    .map(|identity| identity.as_ref() as &dyn age::Identity);
                decryptor.decrypt(identities).map_err(refused)
            }
        }
    }
}
