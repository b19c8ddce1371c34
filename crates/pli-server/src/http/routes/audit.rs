//! `/v1/audit/…`: the audit log, its signed checkpoints, its key and its proofs, public
//! and read-only. Entries hold no personal data (targets are commitments), so anyone can
//! verify the log and recompute the transparency reports.

use crate::governance::report::read_log;
use crate::http::extract::ApiQuery;
use crate::http::{ApiError, AppState};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use base64::Engine;
use pli_proto::governance::{AuditCheckpoints, AuditEntries, AuditKey, AuditProof};
use pli_proto::merkle;

/// Largest page of entries or checkpoints one call returns.
pub const MAX_PAGE: u64 = 1_000;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// The first position to return, from 0.
    #[serde(default)]
    from: u64,
    /// At most this many (capped at 1,000).
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    MAX_PAGE
}

/// Two log sizes, `from <= to`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Sizes {
    from: u64,
    to: u64,
}

/// An entry's position and a log size, `index < size`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Leaf {
    index: u64,
    size: u64,
}

/// The public key that verifies checkpoints, reports and disclosure packages.
#[utoipa::path(get, path = pli_proto::api::paths::AUDIT_KEY, tag = "audit",
    responses((status = 200, body = AuditKey, description = "The log's key")))]
pub async fn key<S: Store>(State(state): State<AppState<S>>) -> Json<AuditKey> {
    let key = state.governance.log_key();
    Json(AuditKey {
        name: key.name,
        public_key: base64::engine::general_purpose::STANDARD.encode(key.key.as_bytes()),
    })
}

/// A page of the log's entries, each as its exact JSON text.
#[utoipa::path(get, path = pli_proto::api::paths::AUDIT_ENTRIES, tag = "audit", params(Page),
    responses((status = 200, body = AuditEntries, description = "Entries from `from`")))]
pub async fn entries<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(page): ApiQuery<Page>,
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

/// A page of signed checkpoints (C2SP signed notes), one per log size.
#[utoipa::path(get, path = pli_proto::api::paths::AUDIT_CHECKPOINTS, tag = "audit", params(Page),
    responses((status = 200, body = AuditCheckpoints, description = "Checkpoints from `from`")))]
pub async fn checkpoints<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(page): ApiQuery<Page>,
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
#[utoipa::path(get, path = pli_proto::api::paths::AUDIT_CONSISTENCY, tag = "audit", params(Sizes),
    responses((status = 200, body = AuditProof, description = "RFC 6962 consistency proof")))]
pub async fn consistency<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(sizes): ApiQuery<Sizes>,
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
#[utoipa::path(get, path = pli_proto::api::paths::AUDIT_INCLUSION, tag = "audit", params(Leaf),
    responses((status = 200, body = AuditProof, description = "RFC 6962 inclusion proof")))]
pub async fn inclusion<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(leaf): ApiQuery<Leaf>,
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
