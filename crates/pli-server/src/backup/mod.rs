//! Backups of a SQLite deployment, taken while the server serves, and their restore into a
//! fresh data directory (`pli admin backup`, `pli admin restore`).
//!
//! A backup holds every database of the data directory (the global `pli.db` and each
//! `regions/<name>/pli.db`), each as of one commit (`snapshot` says which and why in that
//! order), and the server's secrets: without `audit.key` the restored audit log could not
//! go on under the key auditors hold, and without the key directory's keys every client's
//! key transparency check would fail. So the file is always encrypted, to a passphrase
//! (scrypt) or to an age X25519 recipient whose identity is kept away from the server.
//!
//! It reads the files on the server host, as `pli admin init` does, and needs no API. A
//! PostgreSQL deployment backs up with PostgreSQL's own tools (README, "Backups").
//!
//! - `keys`: what a backup is encrypted to, and what opens it.
//! - [`manifest`]: what an archive holds and the only paths it may name.
//! - `snapshot`: consistent copies of the live databases and the secrets.
//! - `archive`: the encrypted tar, written, and read back verified.
//! - `error`, `private_files`: the errors, and owner-only files and staging.

mod archive;
mod error;
mod keys;
pub mod manifest;
mod private_files;
mod snapshot;

pub use error::BackupError;
pub use keys::{MIN_PASSPHRASE_CHARS, Protection, Unlock};
pub use manifest::{FileEntry, FileKind, Manifest};

use crate::DATABASE_FILE;
use crate::clock::{Clock as _, SystemClock};
use private_files::{Staging, create_private, create_private_dir};
use std::path::Path;

/// Backs up the SQLite deployment in `data` to a new file `out`, while its server runs.
/// The copies are staged inside `data` (they are as sensitive as the originals, so they
/// stay where those are) and removed afterwards; the archive is written to a hidden file
/// beside `out` and renamed into place once whole.
pub fn backup(data: &Path, out: &Path, protection: &Protection) -> Result<Manifest, BackupError> {
    if !data.join(DATABASE_FILE).is_file() {
        return Err(BackupError::NoDatabase);
    }
    if out.exists() {
        return Err(BackupError::OutputExists(out.to_owned()));
    }
    let staging = Staging::new(data, "backup").map_err(BackupError::DataDir)?;
    let created_at_ms = SystemClock.now_ms();
    let files = snapshot::take(data, staging.path())?
        .into_iter()
        .map(|(path, kind)| archive::entry(staging.path(), path, kind))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = Manifest {
        kind: manifest::KIND.into(),
        format: manifest::FORMAT,
        pli_version: env!("CARGO_PKG_VERSION").into(),
        created_at_ms,
        files,
    };
    let name = out
        .file_name()
        .ok_or_else(|| BackupError::Write(std::io::ErrorKind::InvalidInput.into()))?;
    let draft = out.with_file_name(format!(
        ".{}.{:016x}.partial",
        name.to_string_lossy(),
        rand::random::<u64>()
    ));
    let written = create_private(&draft)
        .map_err(BackupError::Write)
        .and_then(|file| archive::write(file, protection, &manifest, staging.path()))
        .and_then(|file| file.sync_all().map_err(BackupError::Write))
        .and_then(|()| {
            if out.exists() {
                return Err(BackupError::OutputExists(out.to_owned()));
            }
            std::fs::rename(&draft, out).map_err(BackupError::Write)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&draft);
    }
    written.map(|()| manifest)
}

/// Restores the backup `archive` into `data`, which must be empty or absent (it is made,
/// readable by its owner only). Everything is decrypted and verified into a staging
/// directory inside `data` first, then moved into place, so a wrong key or a damaged file
/// leaves nothing (and a directory this call made is removed).
pub fn restore(archive: &Path, data: &Path, unlock: &Unlock) -> Result<Manifest, BackupError> {
    let created = prepare_target(data)?;
    let restored = restore_into(archive, data, unlock);
    if restored.is_err() && created {
        let _ = std::fs::remove_dir(data);
    }
    restored
}

fn restore_into(archive: &Path, data: &Path, unlock: &Unlock) -> Result<Manifest, BackupError> {
    let staging = Staging::new(data, "restore").map_err(BackupError::Restore)?;
    let manifest = archive::read(archive, unlock, staging.path())?;
    for file in &manifest.files {
        let target = manifest::under(data, &file.path);
        if let Some(dir) = target.parent() {
            create_private_dir(dir).map_err(BackupError::Restore)?;
        }
        std::fs::rename(manifest::under(staging.path(), &file.path), &target)
            .map_err(BackupError::Restore)?;
    }
    drop(staging);
    // The renames are durable once the directories holding them are.
    #[cfg(unix)]
    for dir in manifest.files.iter().filter_map(|file| {
        manifest::under(data, &file.path)
            .parent()
            .map(Path::to_owned)
    }) {
        std::fs::File::open(&dir)
            .and_then(|dir| dir.sync_all())
            .map_err(BackupError::Restore)?;
    }
    Ok(manifest)
}

/// Checks that `data` is an empty directory or absent (then makes it); true if made here.
fn prepare_target(data: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(data).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(false),
        Ok(false) => Err(BackupError::NotEmpty(data.to_owned())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir(data).map_err(BackupError::Restore)?;
            Ok(true)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotADirectory => {
            Err(BackupError::NotADirectory(data.to_owned()))
        }
        Err(err) => Err(BackupError::Restore(err)),
    }
}

#[cfg(test)]
mod tests;
