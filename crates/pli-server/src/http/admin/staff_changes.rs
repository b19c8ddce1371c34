//! `/admin/v1/staff/{staff_id}/…`: revoking a staff member, rotating their credential and
//! changing their role. Each is one audit entry written in the transaction that applies
//! it; the store refuses to leave no operator, and the refusal is logged too.

use super::actor::StaffActor;
use crate::accounts::hash_secret;
use crate::governance::GovernanceError;
use crate::governance::staff::new_secret;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::{GovernanceEffect, StaffChange, StaffRecord, Store, StoreError};
use axum::Json;
use axum::extract::State;
use pli_proto::error::ErrorBody;
use pli_proto::governance::{StaffCredential, StaffInfo, StaffRoleChange};
use serde_json::json;

/// Applies `change` with its audit entry (`action`, the member's id and `details`), or
/// logs why it was refused. Returns the member as they were before the change.
async fn apply<S: Store>(
    state: &AppState<S>,
    actor: crate::governance::Actor,
    action: &str,
    change: StaffChange,
    details: serde_json::Value,
) -> Result<StaffRecord, ApiError> {
    let refuse = async |refusal: StoreError| -> ApiError {
        state
            .governance
            .refuse(
                &state.store,
                state.clock.as_ref(),
                actor,
                action,
                GovernanceError::Store(refusal),
                details.clone(),
            )
            .await
            .into()
    };
    let Some(member) = state.store.staff(change.staff_id()).await? else {
        return Err(refuse(StoreError::UnknownStaff).await);
    };
    let effect = GovernanceEffect {
        staff_change: Some(change),
        ..Default::default()
    };
    let recorded = state
        .governance
        .record(
            &state.store,
            state.clock.as_ref(),
            actor,
            action,
            "ok",
            details.clone(),
            effect,
        )
        .await;
    match recorded {
        Ok(_) => Ok(member),
        // The store decides, inside the transaction: the member may have gone meanwhile, and
        // whether an operator would remain is only known there.
        Err(GovernanceError::Store(
            refusal @ (StoreError::UnknownStaff | StoreError::LastOperator),
        )) => Err(refuse(refusal).await),
        Err(other) => Err(other.into()),
    }
}

/// Revokes a staff member: their credential stops working at once, on every node.
#[utoipa::path(post, path = "/admin/v1/staff/{staff_id}/revoke", tag = "admin",
    operation_id = "revoke_staff",
    security(("staff" = [])),
    params(("staff_id" = u64, Path, description = "The staff member")),
    responses(
        (status = 200, body = StaffInfo, description = "The member revoked"),
        (status = 404, body = ErrorBody, description = "`unknown_staff`"),
        (status = 409, body = ErrorBody, description = "`last_operator`: no operator would remain"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<StaffInfo>, ApiError> {
    let change = StaffChange::Revoke { id };
    let member = apply(
        &state,
        actor,
        "staff.revoke",
        change,
        json!({ "staff_id": id }),
    )
    .await?;
    Ok(Json(StaffInfo {
        staff_id: member.id,
        name: member.name,
        role: member.role,
    }))
}

/// Gives a staff member a new credential (shown once); the old one stops working at once.
#[utoipa::path(post, path = "/admin/v1/staff/{staff_id}/rotate", tag = "admin",
    operation_id = "rotate_staff",
    security(("staff" = [])),
    params(("staff_id" = u64, Path, description = "The staff member")),
    responses(
        (status = 200, body = StaffCredential, description = "The new credential"),
        (status = 404, body = ErrorBody, description = "`unknown_staff`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn rotate<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<StaffCredential>, ApiError> {
    let secret = new_secret();
    let change = StaffChange::Rotate {
        id,
        secret_hash: hash_secret(&secret),
    };
    // The entry names the member, never the secret or its hash.
    let member = apply(
        &state,
        actor,
        "staff.rotate",
        change,
        json!({ "staff_id": id }),
    )
    .await?;
    Ok(Json(StaffCredential {
        staff_id: member.id,
        name: member.name,
        role: member.role,
        secret,
        server: None,
    }))
}

/// Changes a staff member's role; what they may do changes with their next call.
#[utoipa::path(post, path = "/admin/v1/staff/{staff_id}/role", tag = "admin",
    operation_id = "change_staff_role",
    security(("staff" = [])),
    params(("staff_id" = u64, Path, description = "The staff member")),
    request_body = StaffRoleChange,
    responses(
        (status = 200, body = StaffInfo, description = "The member with their new role"),
        (status = 404, body = ErrorBody, description = "`unknown_staff`"),
        (status = 409, body = ErrorBody, description = "`last_operator`: no operator would remain"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn role<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<StaffRoleChange>,
) -> Result<Json<StaffInfo>, ApiError> {
    let change = StaffChange::Role {
        id,
        role: body.role,
    };
    let details = json!({ "staff_id": id, "role": body.role });
    let member = apply(&state, actor, "staff.role", change, details).await?;
    Ok(Json(StaffInfo {
        staff_id: member.id,
        name: member.name,
        role: body.role,
    }))
}
