//! The audit log's state as the page shows it: its newest signed checkpoint, exactly as
//! `GET /v1/audit/checkpoints` serves it (cosignature lines included), and the newest
//! checkpoint each listed witness co-signed. All of it is public already; this only reads.

use super::error::TransparencyError;
use crate::governance::Governance;
use crate::store::Store;
use pli_proto::checkpoint::{Checkpoint, UnverifiedCheckpoint};
use pli_proto::witness::WitnessKey;

/// The log's newest checkpoint and what its witnesses co-signed.
pub struct LogState {
    /// The signed note, with every cosignature line kept for it.
    pub note: String,
    /// The note, verified with the log's key.
    pub checkpoint: Checkpoint,
    /// Each witness the operator lists (`--witness`), in the configured order.
    pub witnesses: Vec<WitnessSeen>,
}

/// One listed witness and the newest checkpoint it co-signed.
pub struct WitnessSeen {
    pub name: String,
    /// Its key as a C2SP vkey, as `pli audit require-witness` takes it.
    pub vkey: String,
    /// The size of the newest checkpoint it co-signed, and when (seconds since the Unix
    /// epoch, as the witness stated it); `None` if it has co-signed none.
    pub newest: Option<(u64, u64)>,
}

/// The log's state at `size` (its current size), or `None` for an empty log.
pub async fn current<S: Store>(
    store: &S,
    governance: &Governance,
    witnesses: &[WitnessKey],
    size: u64,
) -> Result<Option<LogState>, TransparencyError> {
    if size == 0 {
        return Ok(None);
    }
    let lines = store.audit_cosignatures(1, size).await?;
    let Some((note, checkpoint)) = checkpoint_at(store, governance, size).await? else {
        return Err(TransparencyError::NoCheckpoint);
    };
    let mut served = note;
    for (_, line) in lines.iter().filter(|(at, _)| *at == size) {
        served.push_str(line);
        served.push('\n');
    }
    let mut seen = Vec::with_capacity(witnesses.len());
    for witness in witnesses {
        // Newest first: the first line that verifies is the witness's newest cosignature.
        let mut newest = None;
        for (at, line) in lines.iter().rev().filter(|(_, l)| names(l, &witness.name)) {
            let Some((_, signed)) = checkpoint_at(store, governance, *at).await? else {
                continue;
            };
            if let Ok(time) = witness.verify(&signed, line) {
                newest = Some((*at, time));
                break;
            }
        }
        seen.push(WitnessSeen {
            name: witness.name.clone(),
            vkey: witness.vkey(),
            newest,
        });
    }
    Ok(Some(LogState {
        note: served,
        checkpoint,
        witnesses: seen,
    }))
}

/// Whether a signature line is signed under `name`.
fn names(line: &str, name: &str) -> bool {
    line.strip_prefix("\u{2014} ")
        .and_then(|rest| rest.rsplit_once(' '))
        .is_some_and(|(signer, _)| signer == name)
}

/// The stored checkpoint of log size `size`, and it verified: a stored one that does not
/// verify is a fault, not something to show.
async fn checkpoint_at<S: Store>(
    store: &S,
    governance: &Governance,
    size: u64,
) -> Result<Option<(String, Checkpoint)>, TransparencyError> {
    let Some(note) = store.audit_checkpoints(size, 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let checkpoint = UnverifiedCheckpoint::parse(&note)
        .ok()
        .filter(|c| c.claimed_size() == size)
        .ok_or(TransparencyError::BadCheckpoint)?
        .verify(&governance.log_key())
        .map_err(|_| TransparencyError::BadCheckpoint)?;
    Ok(Some((note, checkpoint)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_names_its_signer_exactly() {
        assert!(super::names("\u{2014} w.example AAAA", "w.example"));
        assert!(!super::names("\u{2014} w.example AAAA", "w"));
        assert!(!super::names("w.example AAAA", "w.example"));
    }
}
