//! `/v1/audit/…`: the audit log, its signed checkpoints, its key and its proofs, public
//! and read-only. Entries hold no personal data (targets are commitments), so anyone can
//! verify the log and recompute the transparency reports.

use crate::governance::report::read_log;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::{Query, State};
use base64::Engine;
use pli_proto::governance::{AuditCheckpoints, AuditEntries, AuditKey, AuditProof};
use pli_proto::merkle;

/// Largest page of entries or checkpoints one call returns.
pub const MAX_PAGE: u64 = 1_000;

#[derive(serde::Deserialize)]
pub struct Page {
    #[serde(default)]
    from: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    MAX_PAGE
}

#[derive(serde::Deserialize)]
pub struct Sizes {
    from: u64,
    to: u64,
}

#[derive(serde::Deserialize)]
pub struct Leaf {
    index: u64,
    size: u64,
}

pub async fn key<S: Store>(State(state): State<AppState<S>>) -> Json<AuditKey> {
    let key = state.governance.log_key();
    Json(AuditKey {
        name: key.name,
        public_key: base64::engine::general_purpose::STANDARD.encode(key.key.as_bytes()),
    })
}

pub async fn entries<S: Store>(
    State(state): State<AppState<S>>,
    Query(page): Query<Page>,
) -> Result<Json<AuditEntries>, ApiError> {
    let raw = state
        .store
        .audit_entries(page.from, page.limit.min(MAX_PAGE))
        .await?;
    let entries = raw
        .into_iter()
        .map(|e| String::from_utf8(e).map_err(|_| ApiError::internal(&"audit entry is not UTF-8")))
        .collect::<Result<_, _>>()?;
    Ok(Json(AuditEntries { entries }))
}

pub async fn checkpoints<S: Store>(
    State(state): State<AppState<S>>,
    Query(page): Query<Page>,
) -> Result<Json<AuditCheckpoints>, ApiError> {
    let checkpoints = state
        .store
        .audit_checkpoints(page.from, page.limit.min(MAX_PAGE))
        .await?;
    Ok(Json(AuditCheckpoints { checkpoints }))
}

async fn leaves<S: Store>(state: &AppState<S>) -> Result<Vec<merkle::Hash>, ApiError> {
    Ok(read_log(&state.store)
        .await?
        .iter()
        .map(|e| merkle::leaf_hash(e))
        .collect())
}

/// Proof that the log at size `to` extends the log at size `from`.
pub async fn consistency<S: Store>(
    State(state): State<AppState<S>>,
    Query(sizes): Query<Sizes>,
) -> Result<Json<AuditProof>, ApiError> {
    let leaves = leaves(&state).await?;
    if sizes.from > sizes.to || sizes.to > leaves.len() as u64 {
        return Err(ApiError::bad_request("need from <= to <= the log's size"));
    }
    let proof = merkle::consistency_proof(&leaves[..sizes.to as usize], sizes.from as usize);
    Ok(Json(AuditProof {
        proof: proof.iter().map(hex::encode).collect(),
    }))
}

/// Proof that entry `index` is in the log of size `size`.
pub async fn inclusion<S: Store>(
    State(state): State<AppState<S>>,
    Query(leaf): Query<Leaf>,
) -> Result<Json<AuditProof>, ApiError> {
    let leaves = leaves(&state).await?;
    if leaf.index >= leaf.size || leaf.size > leaves.len() as u64 {
        return Err(ApiError::bad_request("need index < size <= the log's size"));
    }
    let proof = merkle::inclusion_proof(&leaves[..leaf.size as usize], leaf.index as usize);
    Ok(Json(AuditProof {
        proof: proof.iter().map(hex::encode).collect(),
    }))
}
