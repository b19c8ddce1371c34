//! What can go wrong in a backup or a restore. The messages are for the operator at the
//! server's console: they name the operator's own paths, never anything a backup holds.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "no SQLite database in the data directory (a PostgreSQL deployment is backed up with \
         pg_dump or PITR: see the README, \"Backups\")"
    )]
    NoDatabase,
    #[error("cannot read the data directory: {0}")]
    DataDir(#[source] std::io::Error),
    #[error("copying a database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a database stayed busy during the copy: try again")]
    Busy,
    #[error("a secret file in the data directory is not 32 bytes")]
    BadSecret,
    #[error("cannot write the backup: {0}")]
    Write(#[source] std::io::Error),
    #[error("{} already exists: a backup never replaces a file", .0.display())]
    OutputExists(PathBuf),
    #[error("cannot read the backup: {0}")]
    Read(#[source] std::io::Error),
    #[error("not a pli backup (not an age-encrypted file)")]
    NotABackup,
    #[error("the passphrase is too short: use at least {min} characters")]
    WeakPassphrase { min: usize },
    #[error("not an age X25519 recipient (age1…)")]
    BadRecipient,
    #[error("cannot read the identity file: {0}")]
    IdentityFile(#[source] std::io::Error),
    #[error("the identity file holds no usable age identity")]
    NoIdentity,
    #[error("this backup is encrypted to a passphrase: give the passphrase, not an identity")]
    NeedsPassphrase,
    #[error("this backup is encrypted to an age recipient: give its identity file")]
    NeedsIdentity,
    #[error("wrong passphrase: this backup does not open with it")]
    WrongPassphrase,
    #[error("wrong identity: this backup was not encrypted to it")]
    WrongIdentity,
    #[error("the backup's passphrase needs far more work than this machine allows")]
    ExcessiveWork,
    #[error("cannot decrypt the backup: {0}")]
    Decrypt(#[source] age::DecryptError),
    #[error("cannot encrypt the backup: {0}")]
    Encrypt(#[source] age::EncryptError),
    #[error("the backup is damaged: {0}")]
    Damaged(&'static str),
    #[error("the backup is damaged or cut short: {0}")]
    Corrupt(#[source] std::io::Error),
    #[error("the backup is in format {0}, which this pli does not read")]
    Format(u32),
    #[error(
        "{} is not empty: restore only into an empty or absent directory, never over data",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot write the restored data directory: {0}")]
    Restore(#[source] std::io::Error),
}
