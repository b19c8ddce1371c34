//! The server's secrets for the SQLite backend: one file each beside the database, readable
//! by the server's user only, created at first use.

use crate::store::error::StoreError;
use std::io::Write as _;
use std::path::Path;

fn failed(err: std::io::Error) -> StoreError {
    StoreError::Backend(format!("server key file: {err}"))
}

fn read(path: &Path) -> Result<[u8; 32], StoreError> {
    std::fs::read(path)
        .map_err(failed)?
        .try_into()
        .map_err(|_| StoreError::Backend("a key file must hold exactly 32 bytes".into()))
}

/// The secret in `dir/name`, created if there is none. A new key is written whole to a
/// file of its own and then linked into place, so two processes starting on a new data
/// directory (`pli serve` and `pli admin init`) end up with the same key, and neither ever
/// reads a half-written one.
pub(super) fn load_or_create(dir: &Path, name: &str) -> Result<[u8; 32], StoreError> {
    let path = dir.join(name);
    if path.exists() {
        return read(&path);
    }
    let key: [u8; 32] = rand::random();
    let draft = dir.join(format!(".{name}.{:016x}", rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        file.write_all(&key)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, &path));
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => Ok(key),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
        Err(err) => Err(failed(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_creating_a_key_at_once_all_get_the_same_one() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("temp dir");
            let start = std::sync::Barrier::new(6);
            let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
                let makers: Vec<_> = (0..6)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            load_or_create(dir.path(), "server.key")
                        })
                    })
                    .collect();
                makers
                    .into_iter()
                    .map(|maker| maker.join().expect("thread").expect("key"))
                    .collect()
            });
            assert!(keys.iter().all(|key| *key == keys[0]), "one key");
            let files: Vec<_> = std::fs::read_dir(dir.path())
                .expect("dir")
                .map(|entry| entry.expect("entry").file_name())
                .collect();
            assert_eq!(files, vec!["server.key"], "no drafts left behind");
            assert_eq!(read(&dir.path().join("server.key")).expect("read"), keys[0]);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(dir.path().join("server.key"))
                    .expect("metadata")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("audit.key"), [1; 31]).expect("write");
        assert!(matches!(
            load_or_create(dir.path(), "audit.key"),
            Err(StoreError::Backend(why)) if why.contains("32 bytes")
        ));
    }
}
