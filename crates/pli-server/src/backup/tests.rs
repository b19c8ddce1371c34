//! A backup and its restore on a data directory laid out as the server lays it out. The
//! end-to-end test under load, against a running server, is `crates/pli/tests/backup.rs`.

use super::*;
use rusqlite::Connection;

/// A data directory with a global and one region database (WAL mode, as the server keeps
/// them) and every secret.
fn data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    for (path, rows) in [("pli.db", 3), ("regions/eu/pli.db", 5)] {
        let path = manifest::under(data.path(), path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x)")
            .expect("schema");
        for x in 0..rows {
            conn.execute("INSERT INTO t VALUES (?1)", [x]).expect("row");
        }
    }
    for (i, name) in manifest::SECRET_FILES.iter().enumerate() {
        std::fs::write(data.path().join(name), [i as u8; 32]).expect("secret");
    }
    data
}

fn rows(path: &Path) -> i64 {
    Connection::open(path)
        .expect("open")
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .expect("count")
}

fn recipient_pair() -> (Protection, Unlock) {
    let identity = age::x25519::Identity::generate();
    let recipient = Protection::recipient(&identity.to_public().to_string()).expect("recipient");
    (recipient, Unlock::Identities(vec![Box::new(identity)]))
}

#[test]
fn a_backup_restores_every_database_and_secret_into_an_absent_directory() {
    let data = data_dir();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("pli.backup");
    let (protection, unlock) = recipient_pair();
    let made = backup(data.path(), &file, &protection).expect("backup");
    assert_eq!(
        (made.databases(), made.secrets()),
        (2, manifest::SECRET_FILES.len())
    );
    let paths: Vec<&str> = made.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        &paths[..2],
        ["regions/eu/pli.db", "pli.db"],
        "regions first"
    );
    let left: Vec<_> = std::fs::read_dir(data.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .filter(|name| name.to_string_lossy().starts_with(".backup"))
        .collect();
    assert!(left.is_empty(), "no staging left: {left:?}");
    let raw = std::fs::read(&file).expect("read");
    assert!(
        !raw.windows(32).any(|w| w == [1u8; 32]),
        "no secret in the clear"
    );

    let restored = out.path().join("new").join("data");
    let read = restore(&file, &restored, &unlock).expect("restore");
    assert_eq!(read, made);
    assert_eq!(rows(&restored.join("pli.db")), 3);
    assert_eq!(rows(&restored.join("regions/eu/pli.db")), 5);
    for (i, name) in manifest::SECRET_FILES.iter().enumerate() {
        assert_eq!(
            std::fs::read(restored.join(name)).expect("secret"),
            [i as u8; 32]
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&restored), 0o700);
        assert_eq!(mode(&restored.join("audit.key")), 0o600);
        assert_eq!(mode(&restored.join("regions/eu/pli.db")), 0o600);
    }
    let entries: Vec<_> = std::fs::read_dir(&restored)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries.iter().all(|name| !name.starts_with('.')),
        "{entries:?}"
    );
}

#[test]
fn a_backup_never_replaces_a_file() {
    let data = data_dir();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("pli.backup");
    std::fs::write(&file, b"an older backup").expect("write");
    let (protection, _) = recipient_pair();
    assert!(matches!(
        backup(data.path(), &file, &protection),
        Err(BackupError::OutputExists(_))
    ));
    assert_eq!(std::fs::read(&file).expect("read"), b"an older backup");
}

#[test]
fn a_passphrase_backup_opens_with_its_passphrase_only() {
    let data = data_dir();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("pli.backup");
    assert!(matches!(
        Protection::passphrase("short".into()),
        Err(BackupError::WeakPassphrase { .. })
    ));
    let protection = Protection::passphrase("correct horse battery".into()).expect("long enough");
    backup(data.path(), &file, &protection).expect("backup");

    let target = out.path().join("restored");
    let wrong = Unlock::passphrase("incorrect horse battery".into());
    assert!(matches!(
        restore(&file, &target, &wrong),
        Err(BackupError::WrongPassphrase)
    ));
    assert!(!target.exists(), "a refused restore leaves nothing");
    let (_, identity) = recipient_pair();
    assert!(matches!(
        restore(&file, &target, &identity),
        Err(BackupError::NeedsPassphrase)
    ));
    let right = Unlock::passphrase("correct horse battery".into());
    restore(&file, &target, &right).expect("the right passphrase");
    assert_eq!(rows(&target.join("regions/eu/pli.db")), 5);
}

#[test]
fn another_identity_is_refused() {
    let data = data_dir();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("pli.backup");
    let (protection, _) = recipient_pair();
    backup(data.path(), &file, &protection).expect("backup");
    let (_, stranger) = recipient_pair();
    assert!(matches!(
        restore(&file, &out.path().join("r"), &stranger),
        Err(BackupError::WrongIdentity)
    ));
    assert!(matches!(
        restore(
            &file,
            &out.path().join("r"),
            &Unlock::passphrase("x".repeat(20))
        ),
        Err(BackupError::NeedsIdentity)
    ));
}

#[test]
fn an_altered_or_cut_backup_is_refused_and_leaves_nothing() {
    let data = data_dir();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("pli.backup");
    let (protection, unlock) = recipient_pair();
    backup(data.path(), &file, &protection).expect("backup");
    let good = std::fs::read(&file).expect("read");

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    let cut = good[..good.len() - 100].to_vec();
    for (what, bytes) in [("flipped", flipped), ("cut", cut)] {
        let bad = out.path().join(what);
        std::fs::write(&bad, bytes).expect("write");
        let target = out.path().join(format!("{what}-restored"));
        let refused = restore(&bad, &target, &unlock);
        assert!(
            matches!(
                refused,
                Err(BackupError::Corrupt(_) | BackupError::Damaged(_))
            ),
            "{what}: {refused:?}"
        );
        assert!(!target.exists(), "{what}: nothing restored");
    }
    let not_age = out.path().join("plain");
    std::fs::write(&not_age, b"hello").expect("write");
    assert!(matches!(
        restore(&not_age, &out.path().join("p"), &unlock),
        Err(BackupError::NotABackup)
    ));
}

#[test]
fn a_restore_never_writes_over_a_directory_with_anything_in_it() {
    let data = data_dir();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("pli.backup");
    let (protection, unlock) = recipient_pair();
    backup(data.path(), &file, &protection).expect("backup");
    let refused = restore(&file, data.path(), &unlock);
    assert!(
        matches!(refused, Err(BackupError::NotEmpty(_))),
        "{refused:?}"
    );
    assert_eq!(
        rows(&data.path().join("pli.db")),
        3,
        "the data is untouched"
    );
    assert!(matches!(
        restore(&file, &file, &unlock),
        Err(BackupError::NotADirectory(_))
    ));
    let empty = tempfile::tempdir().expect("temp dir");
    restore(&file, empty.path(), &unlock).expect("an empty directory is fine");
}
