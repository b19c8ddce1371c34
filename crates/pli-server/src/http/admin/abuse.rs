//! `/admin/v1/abuse-reports`: trust & safety read the reports users filed. A report holds
//! only what its reporter chose to send, verified; each reading is an audit entry.

use super::actor::StaffActor;
use crate::http::error::ApiError;
use crate::http::extract::ApiPath;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::ErrorCode;
use pli_proto::abuse::ReportView;
use pli_proto::error::ErrorBody;
use serde_json::json;

/// Every stored report, newest first.
#[utoipa::path(get, path = "/admin/v1/abuse-reports",
    operation_id = "list_abuse_reports", tag = "admin",
    security(("staff" = [])),
    responses((status = 200, body = Vec<ReportView>, description = "The reports")))]
#[tracing::instrument(skip_all)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    let reports = state.store.list_reports().await?;
    state
        .log_action(actor, "abuse.list", json!({ "count": reports.len() }))
        .await?;
    Ok(Json(reports))
}

/// One report, with its verified messages.
#[utoipa::path(get, path = "/admin/v1/abuse-reports/{id}",
    operation_id = "show_abuse_report", tag = "admin",
    security(("staff" = [])),
    params(("id" = u64, Path, description = "The report")),
    responses(
        (status = 200, body = ReportView, description = "The report"),
        (status = 404, body = ErrorBody, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn show<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<ReportView>, ApiError> {
    let report = state.store.report(id).await?.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such report",
        )
    })?;
    state.log_action(actor, "abuse.show", json!({})).await?;
    Ok(Json(report))
}
