//! The manifest at the head of every backup: what it holds, when it was taken, and each
//! file's size and SHA-256, so a restore can refuse a damaged or doctored archive before
//! anything of it is put in place.
//!
//! The paths a manifest may name are a closed list (the global database, one database per
//! region, the server's known secrets): an archive is only as trusted as whoever could
//! encrypt it, and anyone holding the X25519 recipient can, so nothing in it gets to choose
//! where a restore writes.

use super::error::BackupError;
use crate::{AUDIT_KEY_FILE, DATABASE_FILE, SERVER_KEY_FILE, directory};
use pli_proto::Region;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The archive's format; a restore refuses any other.
pub const FORMAT: u32 = 1;
/// What the manifest's `kind` says, so a tar of something else is told apart.
pub const KIND: &str = "pli-backup";
/// The manifest's name inside the archive, always its first entry.
pub const MANIFEST_PATH: &str = "manifest.json";
/// More than any honest manifest needs (a handful of entries).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The data directory's own subdirectory of per-region stores.
pub const REGIONS_DIR: &str = "regions";

/// The server's secrets on SQLite: files beside the global database
/// (`store/sqlite/secrets.rs`), all of them 32 bytes. A secret not listed here is not
/// backed up, so one added to the server must be added here.
pub const SECRET_FILES: [&str; 5] = [
    SERVER_KEY_FILE,
    AUDIT_KEY_FILE,
    crate::franking::FRANKING_KEY_FILE,
    directory::VRF_KEY_FILE,
    directory::SIGNING_KEY_FILE,
];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub kind: String,
    pub format: u32,
    /// The pli that wrote it (a newer one migrates the databases when it starts on them).
    pub pli_version: String,
    /// Just before the databases' snapshots were taken (milliseconds since the epoch).
    pub created_at_ms: u64,
    /// In archive order: region databases, the global database, then secrets.
    pub files: Vec<FileEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the data directory, `/`-separated.
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Database,
    Secret,
}

impl Manifest {
    pub fn databases(&self) -> usize {
        self.count(FileKind::Database)
    }

    pub fn secrets(&self) -> usize {
        self.count(FileKind::Secret)
    }

    fn count(&self, kind: FileKind) -> usize {
        self.files.iter().filter(|f| f.kind == kind).count()
    }

    /// Refuses a manifest a restore cannot trust: another format, a path outside the
    /// closed list, a kind that does not fit its path, a repeated path, a malformed hash,
    /// or no global database.
    pub fn check(&self) -> Result<(), BackupError> {
        if self.kind != KIND {
            return Err(BackupError::Damaged("not a pli backup"));
        }
        if self.format != FORMAT {
            return Err(BackupError::Format(self.format));
        }
        let mut seen = HashSet::new();
        for file in &self.files {
            if expected_kind(&file.path) != Some(file.kind) {
                return Err(BackupError::Damaged(
                    "the manifest names an unexpected file",
                ));
            }
            if file.kind == FileKind::Secret && file.size != 32 {
                return Err(BackupError::Damaged("a secret is not 32 bytes"));
            }
            let hex_hash = file.sha256.len() == 64
                && file
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_hash {
                return Err(BackupError::Damaged("a file's hash is malformed"));
            }
            if !seen.insert(file.path.as_str()) {
                return Err(BackupError::Damaged("the manifest names a file twice"));
            }
        }
        if !seen.contains(DATABASE_FILE) {
            return Err(BackupError::Damaged("the backup has no global database"));
        }
        Ok(())
    }
}

/// What a path in the data directory may hold, or `None` for a path no backup contains.
fn expected_kind(path: &str) -> Option<FileKind> {
    if path == DATABASE_FILE {
        return Some(FileKind::Database);
    }
    if SECRET_FILES.contains(&path) {
        return Some(FileKind::Secret);
    }
    match path.split('/').collect::<Vec<_>>().as_slice() {
        [REGIONS_DIR, name, DATABASE_FILE] if Region::parse(name).is_ok() => {
            Some(FileKind::Database)
        }
        _ => None,
    }
}

/// A checked manifest path as a path under `root`.
pub fn under(root: &Path, path: &str) -> PathBuf {
    path.split('/')
        .fold(root.to_owned(), |dir, part| dir.join(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(paths: &[(&str, FileKind, u64)]) -> Manifest {
        Manifest {
            kind: KIND.into(),
            format: FORMAT,
            pli_version: "test".into(),
            created_at_ms: 0,
            files: paths
                .iter()
                .map(|(path, kind, size)| FileEntry {
                    path: (*path).into(),
                    kind: *kind,
                    size: *size,
                    sha256: "0".repeat(64),
                })
                .collect(),
        }
    }

    #[test]
    fn the_known_layout_is_accepted() {
        let ok = manifest(&[
            ("regions/eu/pli.db", FileKind::Database, 4096),
            ("pli.db", FileKind::Database, 4096),
            ("audit.key", FileKind::Secret, 32),
        ]);
        ok.check().expect("the data directory's own layout");
        assert_eq!((ok.databases(), ok.secrets()), (2, 1));
    }

    #[test]
    fn paths_outside_the_layout_are_refused() {
        for path in [
            "../pli.db",
            "/etc/passwd",
            "regions/../pli.db",
            "regions/EU/pli.db",
            "regions/eu/../../x",
            "regions/eu/pli.db/x",
            "tls.key",
            "",
        ] {
            let bad = manifest(&[
                ("pli.db", FileKind::Database, 4096),
                (path, FileKind::Database, 4096),
            ]);
            assert!(
                matches!(bad.check(), Err(BackupError::Damaged(_))),
                "{path:?} is refused"
            );
        }
    }

    #[test]
    fn a_manifest_without_a_global_database_or_with_a_repeat_is_refused() {
        let none = manifest(&[("regions/eu/pli.db", FileKind::Database, 4096)]);
        assert!(matches!(none.check(), Err(BackupError::Damaged(_))));
        let twice = manifest(&[
            ("pli.db", FileKind::Database, 4096),
            ("pli.db", FileKind::Database, 4096),
        ]);
        assert!(matches!(twice.check(), Err(BackupError::Damaged(_))));
        let wrong_kind = manifest(&[
            ("pli.db", FileKind::Database, 4096),
            ("server.key", FileKind::Database, 32),
        ]);
        assert!(matches!(wrong_kind.check(), Err(BackupError::Damaged(_))));
    }

    #[test]
    fn another_format_is_refused_by_number() {
        let mut newer = manifest(&[("pli.db", FileKind::Database, 4096)]);
        newer.format = FORMAT + 1;
        assert!(matches!(newer.check(), Err(BackupError::Format(f)) if f == FORMAT + 1));
    }
}
