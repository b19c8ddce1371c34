//! `/v1/audit/…`: the audit log, its signed checkpoints, its key and its proofs, public
//! and read-only. Entries hold no personal data (targets are commitments), so anyone can
//! verify the log and recompute the transparency reports.

use crate::governance::report::read_log;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use pli_proto::ErrorCode;
use pli_proto::checkpoint::UnverifiedCheckpoint;
use pli_proto::error::ErrorBody;
use pli_proto::governance::{AuditCheckpoints, AuditEntries, AuditKey, AuditProof};
use pli_proto::merkle;
use pli_proto::witness::{Cosignature, CosignatureKept, WitnessKey};

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

/// A page of signed checkpoints (C2SP signed notes), one per log size, each carrying the
/// cosignatures witnesses gave it as further signature lines.
#[utoipa::path(get, path = pli_proto::api::paths::AUDIT_CHECKPOINTS, tag = "audit", params(Page),
    responses((status = 200, body = AuditCheckpoints, description = "Checkpoints from `from`")))]
pub async fn checkpoints<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<AuditCheckpoints>, ApiError> {
    let mut checkpoints = state
        .store
        .audit_checkpoints(page.from, page.limit.min(MAX_PAGE))
        .await?;
    let sizes: Vec<Option<u64>> = checkpoints
        .iter()
        .map(|note| {
            UnverifiedCheckpoint::parse(note)
                .ok()
                .map(|c| c.claimed_size())
        })
        .collect();
    if let (Some(first), Some(last)) = (
        sizes.iter().flatten().min().copied(),
        sizes.iter().flatten().max().copied(),
    ) {
        for (size, line) in state.store.audit_cosignatures(first, last).await? {
            if let Some(at) = sizes.iter().position(|s| *s == Some(size)) {
                checkpoints[at].push_str(&line);
                checkpoints[at].push('\n');
            }
        }
    }
    Ok(Json(AuditCheckpoints { checkpoints }))
}

/// Keeps a witness's cosignature of one of the log's checkpoints, to serve with it. Only a
/// witness the operator lists (`--witness`) is heard, and only a cosignature that verifies
/// for the checkpoint it names.
#[utoipa::path(post, path = pli_proto::api::paths::AUDIT_COSIGNATURES, tag = "audit",
    request_body = Cosignature,
    responses(
        (status = 200, body = CosignatureKept, description = "Kept; served with the checkpoint"),
        (status = 400, body = ErrorBody, description = "`bad_request`: no checkpoint of that size"),
        (status = 403, body = ErrorBody, description = "`unknown_witness`: a witness the operator does not list"),
        (status = 422, body = ErrorBody, description = "`bad_cosignature`: it does not verify for that checkpoint"),
    ))]
pub async fn cosign<S: Store>(
    State(state): State<AppState<S>>,
    ApiJson(request): ApiJson<Cosignature>,
) -> Result<Json<CosignatureKept>, ApiError> {
    let witness = state
        .config
        .witnesses
        .iter()
        .find(|w| WitnessKey::parse(&request.witness).is_ok_and(|named| named == **w))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::UnknownWitness,
                "this server lists no such witness",
            )
        })?;
    let note = state
        .store
        .audit_checkpoints(request.size, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("the log has no checkpoint of that size"))?;
    let checkpoint = UnverifiedCheckpoint::parse(&note)
        .ok()
        .filter(|c| c.claimed_size() == request.size)
        .ok_or_else(|| ApiError::bad_request("the log has no checkpoint of that size"))?
        .verify(&state.governance.log_key())
        .map_err(|_| ApiError::internal(&"a stored checkpoint does not verify"))?;
    let bad = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadCosignature,
            "the cosignature does not verify for that checkpoint",
        )
    };
    if request.cosignature.contains('\n') {
        return Err(bad());
    }
    witness
        .verify(&checkpoint, &request.cosignature)
        .map_err(|_| bad())?;
    state
        .store
        .add_audit_cosignature(request.size, &witness.vkey(), &request.cosignature)
        .await?;
    Ok(Json(CosignatureKept { size: request.size }))
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
