//! The backup file: a tar of the manifest then every file it names, in its order, the whole
//! encrypted with age (to a passphrase through scrypt, or to an X25519 recipient).
//!
//! Reading verifies as it goes: the manifest is checked before any file is written, each
//! file must be the manifest's next, of its size and hash, and the age stream is read to its
//! authenticated end, so a truncated or altered archive is refused rather than half
//! restored.

use super::error::BackupError;
use super::keys::{Protection, Unlock};
use super::manifest::{self, FileEntry, MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest};
use sha2::{Digest, Sha256};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// The size and lowercase-hex SHA-256 of what `reader` yields, copied to `sink`.
fn hash_copy(reader: &mut impl Read, sink: &mut impl Write) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        sink.write_all(&buffer[..read])?;
        size += read as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The manifest entry of a staged file.
pub(super) fn entry(
    staging: &Path,
    path: String,
    kind: manifest::FileKind,
) -> Result<FileEntry, BackupError> {
    let mut file =
        std::fs::File::open(manifest::under(staging, &path)).map_err(BackupError::Write)?;
    let (size, sha256) = hash_copy(&mut file, &mut std::io::sink()).map_err(BackupError::Write)?;
    Ok(FileEntry {
        path,
        kind,
        size,
        sha256,
    })
}

fn header(size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// Writes the archive of `manifest`'s files in `staging` to `sink`, encrypted.
pub(super) fn write(
    sink: std::fs::File,
    protection: &Protection,
    manifest: &Manifest,
    staging: &Path,
) -> Result<std::fs::File, BackupError> {
    let encrypted = protection
        .encryptor()?
        .wrap_output(BufWriter::new(sink))
        .map_err(BackupError::Write)?;
    let mut tar = tar::Builder::new(encrypted);
    let mtime = manifest.created_at_ms / 1000;
    let json = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    let mut head = header(json.len() as u64, mtime);
    tar.append_data(&mut head, MANIFEST_PATH, json.as_slice())
        .map_err(BackupError::Write)?;
    for file in &manifest.files {
        let source = std::fs::File::open(manifest::under(staging, &file.path))
            .map_err(BackupError::Write)?;
        let mut head = header(file.size, mtime);
        // Exactly the hashed bytes: a staged file cannot change, but `take` makes sure.
        tar.append_data(&mut head, &file.path, source.take(file.size))
            .map_err(BackupError::Write)?;
    }
    let encrypted = tar.into_inner().map_err(BackupError::Write)?;
    let buffered = encrypted.finish().map_err(BackupError::Write)?;
    buffered
        .into_inner()
        .map_err(|err| BackupError::Write(err.into_error()))
}

/// Decrypts `archive` with `unlock`, checks it, and writes its files under `staging`;
/// returns the checked manifest. Nothing is written before the key is known to fit and the
/// manifest checked.
pub(super) fn read(
    archive: &Path,
    unlock: &Unlock,
    staging: &Path,
) -> Result<Manifest, BackupError> {
    let file = std::fs::File::open(archive).map_err(BackupError::Read)?;
    let decryptor =
        age::Decryptor::new_buffered(BufReader::new(file)).map_err(|err| match err {
            age::DecryptError::Io(err) => BackupError::Read(err),
            _ => BackupError::NotABackup,
        })?;
    let plain = unlock.open(decryptor)?;
    let mut tar = tar::Archive::new(plain);
    let manifest = {
        let mut entries = tar.entries().map_err(damaged)?;
        let mut first = entries
            .next()
            .ok_or(BackupError::Damaged("the archive is empty"))?
            .map_err(damaged)?;
        if first.path_bytes().as_ref() != MANIFEST_PATH.as_bytes()
            || first.header().size().map_err(damaged)? > MAX_MANIFEST_BYTES
        {
            return Err(BackupError::Damaged(
                "the archive does not start with its manifest",
            ));
        }
        let mut json = Vec::new();
        first.read_to_end(&mut json).map_err(damaged)?;
        let manifest: Manifest = serde_json::from_slice(&json)
            .map_err(|_| BackupError::Damaged("the manifest is not readable"))?;
        manifest.check()?;
        let mut expected = manifest.files.iter();
        for entry in entries {
            let mut entry = entry.map_err(damaged)?;
            let file = expected.next().ok_or(BackupError::Damaged(
                "the archive holds a file its manifest does not name",
            ))?;
            extract(&mut entry, file, staging)?;
        }
        if expected.next().is_some() {
            return Err(BackupError::Damaged("a file the manifest names is missing"));
        }
        manifest
    };
    // The end of the age stream is authenticated: reading to it proves nothing was cut.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(damaged)?;
    Ok(manifest)
}

/// Writes `entry`, which must be `file`, under `staging`, checking its size and hash.
fn extract(
    entry: &mut tar::Entry<'_, impl Read>,
    file: &FileEntry,
    staging: &Path,
) -> Result<(), BackupError> {
    let header = entry.header();
    if entry.path_bytes().as_ref() != file.path.as_bytes()
        || header.entry_type() != tar::EntryType::Regular
        || header.size().map_err(damaged)? != file.size
    {
        return Err(BackupError::Damaged(
            "a file is not the one its manifest names",
        ));
    }
    let target = manifest::under(staging, &file.path);
    if let Some(dir) = target.parent() {
        super::private_files::create_private_dir(dir).map_err(BackupError::Restore)?;
    }
    let mut out = BufWriter::new(
        super::private_files::create_private(&target).map_err(BackupError::Restore)?,
    );
    let (size, sha256) = hash_copy(entry, &mut out).map_err(damaged)?;
    out.flush().map_err(BackupError::Restore)?;
    let out = out
        .into_inner()
        .map_err(|err| BackupError::Restore(err.into_error()))?;
    out.sync_all().map_err(BackupError::Restore)?;
    if size != file.size || sha256 != file.sha256 {
        return Err(BackupError::Damaged("a file does not match its hash"));
    }
    Ok(())
}

/// A read failure inside the decrypted stream: a cut or altered archive (age refuses any
/// chunk that does not authenticate), or a broken tar.
fn damaged(err: std::io::Error) -> BackupError {
    BackupError::Corrupt(err)
}
