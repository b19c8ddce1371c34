//! A witness of a server's audit log (`pli audit witness`): it keeps the newest checkpoint
//! it verified (a state file), and co-signs a newer checkpoint only after a consistency
//! proof shows it extends that one. Its cosignatures go back to the server, which serves
//! them on the checkpoint notes, so clients that require this witness accept only
//! checkpoints of a log that never changed its past.

use crate::audit_state::{SeenCheckpoint, WatchError, load_state, save_state};
use crate::audit_watch::newest_from;
use crate::error::ClientError;
use crate::transport::Transport;
use ed25519_dalek::SigningKey;
use pli_proto::checkpoint::LogKey;
use pli_proto::witness::{WitnessKey, cosign};
use std::path::{Path, PathBuf};

/// One witness: its key, its name, and where it keeps what it saw of one log.
pub struct Witness {
    transport: Transport,
    name: String,
    key: SigningKey,
    state: PathBuf,
}

/// What one look at the log did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Witnessed {
    /// The log's newest checkpoint, of this size, extends what the witness saw: co-signed.
    Cosigned(u64),
    /// The log has no checkpoint yet.
    Empty,
}

/// Reads the witness's Ed25519 seed from `path`, making one (owner-only) if there is none.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey, ClientError> {
    let failed = ClientError::file("the witness key file");
    match std::fs::read(path) {
        Ok(bytes) => {
            let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                ClientError::Invalid("the witness key file does not hold a 32-byte key".into())
            })?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let seed: [u8; 32] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(path).map_err(failed)?, &seed)
                .map_err(failed)?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(err) => Err(failed(err)),
    }
}

impl Witness {
    pub fn new(transport: Transport, name: &str, key: SigningKey, state: PathBuf) -> Self {
        Self {
            transport,
            name: name.to_owned(),
            key,
            state,
        }
    }

    /// The witness's public key, as clients and servers name it.
    pub fn vkey(&self) -> String {
        WitnessKey::of(&self.name, &self.key).vkey()
    }

    /// Looks at the log once: verifies its newest checkpoint, checks that it extends the one
    /// kept, co-signs it and hands the cosignature to the server. A rollback or a fork is an
    /// error ([`ClientError::AuditLog`]) and nothing is co-signed or kept.
    pub async fn once(&self) -> Result<Witnessed, ClientError> {
        let served = self.transport.audit_key().await?;
        let log_key = LogKey::from_published(&served.name, &served.public_key)
            .map_err(|e| ClientError::Protocol(format!("audit key: {e}")))?;
        let seen = load_state(&self.state)?;
        if let Some(seen) = &seen
            && seen.key != served.public_key
        {
            return Err(WatchError::KeyChanged.into());
        }
        let from = seen.as_ref().map_or(1, |s| s.size.max(1));
        let Some((_, newest)) = newest_from(&self.transport, from).await? else {
            return match seen {
                Some(seen) => Err(WatchError::Rollback {
                    seen: seen.size,
                    now: 0,
                }
                .into()),
                None => Ok(Witnessed::Empty),
            };
        };
        let newest = newest
            .verify(&log_key)
            .map_err(|e| ClientError::Protocol(format!("audit checkpoint: {e}")))?;
        if let Some(seen) = &seen {
            if newest.size == seen.size {
                // Co-signed already (the state is kept only once the server has it): only
                // check that the past did not change.
                seen.extended_by_proof(&newest, &[])?;
                return Ok(Witnessed::Cosigned(newest.size));
            }
            let proof = self
                .transport
                .audit_consistency(seen.size, newest.size)
                .await?;
            seen.extended_by_proof(&newest, &proof)?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let line = cosign(&newest, &self.name, &self.key, now);
        self.transport
            .submit_cosignature(newest.size, &self.vkey(), &line)
            .await?;
        save_state(
            &self.state,
            &SeenCheckpoint::new(&newest, &served.public_key),
        )?;
        Ok(Witnessed::Cosigned(newest.size))
    }
}
