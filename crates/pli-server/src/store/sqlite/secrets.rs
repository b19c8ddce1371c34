//! The server's secrets for the SQLite backend: one file each beside the database, readable
//! by the server's user only, created at first use.

use crate::store::StoreError;
use std::io::Write as _;
use std::path::Path;

fn failed(err: std::io::Error) -> StoreError {
    StoreError::Backend(format!("server key file: {err}"))
}

pub(super) fn load_or_create(dir: &Path, name: &str) -> Result<[u8; 32], StoreError> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => bytes
            .try_into()
            .map_err(|_| StoreError::Backend("a key file must hold exactly 32 bytes".into())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(failed)?;
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(failed)?;
            Ok(key)
        }
        Err(err) => Err(failed(err)),
    }
}
