//! `/admin/v1/staff`, `/admin/v1/inventory/{username}`, `/admin/v1/reports`.

use super::actor::StaffActor;
use crate::governance::inventory::{self, Inventory};
use crate::governance::report;
use crate::governance::staff::{check_name, new_staff};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::extract::ApiPath;
use crate::state::AppState;
use crate::store::{GovernanceEffect, Store};
use axum::Json;
use axum::extract::State;
use pli_proto::audit::target_commitment;
use pli_proto::error::ErrorBody;
use pli_proto::governance::{NewStaff, ReportRequest, StaffCredential, StaffInfo};
use pli_proto::report::{Period, Report};
use serde_json::json;

/// Adds a staff member; the credential is shown once.
#[utoipa::path(post, path = "/admin/v1/staff", tag = "admin",
    security(("staff" = [])),
    request_body = NewStaff,
    responses(
        (status = 200, body = StaffCredential, description = "The new credential"),
        (status = 409, body = ErrorBody, description = "`staff_name_taken`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiJson(request): ApiJson<NewStaff>,
) -> Result<Json<StaffCredential>, ApiError> {
    check_name(&request.name)?;
    let (record, credential) = new_staff(&request);
    let details = json!({ "staff_id": record.id, "role": record.role });
    let effect = GovernanceEffect {
        staff: Some(record),
        ..Default::default()
    };
    state
        .governance
        .record(
            &state.store,
            state.clock.as_ref(),
            actor,
            "staff.add",
            "ok",
            details,
            effect,
        )
        .await?;
    Ok(Json(credential))
}

/// Every staff member (no secrets).
#[utoipa::path(get, path = "/admin/v1/staff", tag = "admin",
    operation_id = "list_staff",
    security(("staff" = [])),
    responses(
        (status = 200, body = Vec<StaffInfo>, description = "All staff"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<Vec<StaffInfo>>, ApiError> {
    let staff = state.store.list_staff().await?;
    state.log_action(actor, "staff.list", json!({})).await?;
    Ok(Json(
        staff
            .into_iter()
            .map(|s| StaffInfo {
                staff_id: s.id,
                name: s.name,
                role: s.role,
            })
            .collect(),
    ))
}

/// Everything the server holds about one account: the data inventory, filled in.
#[utoipa::path(get, path = "/admin/v1/inventory/{username}", tag = "admin",
    security(("staff" = [])),
    params(("username" = pli_proto::Username, Path, description = "The account")),
    responses(
        (status = 200, body = Inventory, description = "The account's inventory"),
        (status = 404, body = ErrorBody, description = "`unknown_user`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn inventory<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Inventory>, ApiError> {
    let user = crate::http::extract::path_username(&raw)?;
    // The log commits to the name under a fresh salt kept nowhere: the entry counts that
    // an inventory was shown, and can be linked to no name and to no other entry.
    let salt = crate::governance::requests::new_salt();
    let details = json!({ "target": target_commitment(&salt, "inventory", user.as_str()) });
    state.log_action(actor, "inventory.show", details).await?;
    let inventory = inventory::load(&state.store, &user, &state.governance.policies)
        .await?
        .ok_or(crate::governance::GovernanceError::UnknownUser)?;
    Ok(Json(inventory))
}

/// A signed transparency report for a period, computed from the audit log up to and
/// including the entry recording its making (so the public page can rebuild it).
#[utoipa::path(post, path = "/admin/v1/reports", tag = "admin",
    security(("staff" = [])),
    request_body = ReportRequest,
    responses(
        (status = 200, body = Report, description = "The signed report"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn report<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiJson(request): ApiJson<ReportRequest>,
) -> Result<Json<Report>, ApiError> {
    let period = Period::parse(&request.period)
        .ok_or_else(|| ApiError::bad_request("a period is written 2026-Q4 or 2026-H2"))?;
    let seq = state
        .governance
        .record(
            &state.store,
            state.clock.as_ref(),
            actor,
            "report.create",
            "ok",
            json!({ "period": period.label }),
            GovernanceEffect::default(),
        )
        .await?;
    let log = report::Log::read(&state.store).await?;
    let made = log
        .made_at(seq)
        .ok_or_else(|| ApiError::internal(&"a report's entry is not in the log"))?;
    Ok(Json(log.report(&state.governance, &made)))
}
