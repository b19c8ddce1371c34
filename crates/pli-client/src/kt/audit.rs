//! `pli audit kt`: anyone, with no account, checks that a server's key directory only ever
//! grew: every signed root between two epochs verifies, and each epoch follows from the one
//! before by akd's append-only proof. A server that rewrote a published key in place, or
//! signed a root that its tree does not produce, fails here.

use crate::error::ClientError;
use crate::transport::Transport;
use base64::Engine as _;
use pli_proto::checkpoint::{LogKey, UnverifiedCheckpoint};
use pli_proto::kt::{self, KtConfig};
use protobuf::Message as _;

/// The signed roots of epochs `from..=to` (to the newest when `to` is `None`), each
/// checked for its signature, its origin and its place in order; fewer if the server has
/// fewer.
pub(crate) async fn fetch_roots(
    transport: &Transport,
    log_key: &LogKey,
    from: u64,
    to: Option<u64>,
) -> Result<Vec<[u8; 32]>, ClientError> {
    let mut roots: Vec<[u8; 32]> = Vec::new();
    loop {
        let next = from + roots.len() as u64;
        if to.is_some_and(|to| next > to) {
            return Ok(roots);
        }
        let limit = to.map_or(kt::MAX_ROOTS, |to| kt::MAX_ROOTS.min(to - next + 1));
        let page = transport.directory_roots(next, limit).await?;
        if page.roots.is_empty() {
            return Ok(roots);
        }
        for note in &page.roots {
            let root = UnverifiedCheckpoint::parse(note)
                .map_err(ClientError::directory)?
                .verify(log_key)
                .map_err(ClientError::directory)?;
            if root.origin != log_key.name || root.size != from + roots.len() as u64 {
                return Err(ClientError::directory(
                    "the server's roots are out of order",
                ));
            }
            roots.push(root.root);
            if to.is_some_and(|to| from + roots.len() as u64 > to) {
                return Ok(roots);
            }
        }
    }
}

/// Proves that each root in `roots` (the roots of epochs `from`, `from + 1`, …) follows from
/// the one before by the server's append-only proofs.
pub(crate) async fn verify_steps(
    transport: &Transport,
    from: u64,
    roots: &[[u8; 32]],
) -> Result<(), ClientError> {
    let to = from + roots.len().saturating_sub(1) as u64;
    let mut start = from;
    while start < to {
        let end = (start + kt::MAX_AUDIT_STEPS).min(to);
        let audit = transport.directory_audit(start, end).await?;
        if audit.proofs.len() as u64 != end - start {
            return Err(ClientError::directory(
                "the audit proof has the wrong number of steps",
            ));
        }
        for (step, proof) in audit.proofs.iter().enumerate() {
            let epoch = start + step as u64;
            let proto = akd_core::proto::specs::types::SingleAppendOnlyProof::parse_from_bytes(
                proof.as_slice(),
            )
            .map_err(ClientError::directory)?;
            let proof = akd_core::SingleAppendOnlyProof::try_from(&proto)
                .map_err(ClientError::directory)?;
            akd::auditor::verify_consecutive_append_only::<KtConfig>(
                &proof,
                roots[(epoch - from) as usize],
                roots[(epoch + 1 - from) as usize],
                epoch + 1,
            )
            .await
            .map_err(|_| {
                ClientError::directory(format!("epoch {} does not extend epoch {epoch}", epoch + 1))
            })?;
        }
        start = end;
    }
    Ok(())
}

/// What an audit covered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DirectoryAudit {
    pub origin: String,
    /// The signing key, base64, for comparing with a published one.
    pub key: String,
    pub from: u64,
    pub to: u64,
    /// Hex of the root at `to`.
    pub root: String,
}

/// Audits the directory at `transport` from epoch `from` (0 when `None`) to `to` (the newest
/// when `None`). `expected_key` (base64) refuses a directory signed by another key.
pub async fn audit_directory(
    transport: &Transport,
    from: Option<u64>,
    to: Option<u64>,
    expected_key: Option<&str>,
) -> Result<DirectoryAudit, ClientError> {
    let keys = transport.directory_keys().await?;
    let key_b64 = base64::engine::general_purpose::STANDARD.encode(keys.signing_key.as_slice());
    if expected_key.is_some_and(|expected| expected.trim() != key_b64) {
        return Err(ClientError::directory(
            "the directory is signed by another key than expected",
        ));
    }
    let log_key = keys.log_key().map_err(ClientError::directory)?;
    let from = from.unwrap_or(0);
    let roots = fetch_roots(transport, &log_key, from, to).await?;
    let Some(last) = roots.last().copied() else {
        return Err(ClientError::directory(
            "the server has no signed root in that range",
        ));
    };
    let to_reached = from + roots.len() as u64 - 1;
    if to.is_some_and(|to| to != to_reached) {
        return Err(ClientError::directory(format!(
            "the server has signed roots only up to epoch {to_reached}"
        )));
    }
    verify_steps(transport, from, &roots).await?;
    Ok(DirectoryAudit {
        origin: keys.origin,
        key: key_b64,
        from,
        to: to_reached,
        root: hex::encode(last),
    })
}
