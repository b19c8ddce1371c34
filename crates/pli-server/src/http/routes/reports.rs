//! `POST /v1/reports`: a device reports messages it received. Stored only once every
//! message verifies against the server's franking stamp (`abuse`).

use crate::abuse::Desk;
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, AuthDevice};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pli_proto::abuse::{AbuseReportRequest, ReportFiled};
use pli_proto::error::ErrorBody;

/// Reports received messages of one sender in one conversation, each with its franking
/// opening and the stamp it was delivered with.
#[utoipa::path(post, path = pli_proto::api::paths::REPORTS,
    operation_id = "file_abuse_report", tag = "abuse",
    security(("device" = [])),
    request_body = AbuseReportRequest,
    responses(
        (status = 201, body = ReportFiled, description = "Verified and stored"),
        (status = 404, body = ErrorBody, description = "`unknown_user`: the reported account is gone"),
        (status = 409, body = ErrorBody, description = "`report_replayed`"),
        (status = 422, body = ErrorBody, description = "`bad_franking`, `franking_key_expired` or `own_message`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn file<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<AbuseReportRequest>,
) -> Result<(StatusCode, Json<ReportFiled>), ApiError> {
    state.rate_limit(&state.reports, device.device_id, client)?;
    let desk = Desk {
        store: &state.store,
        franker: &state.franker,
        governance: &state.governance,
        clock: state.clock.as_ref(),
    };
    let id = desk.file(&device.username, request).await?;
    Ok((StatusCode::CREATED, Json(ReportFiled { id })))
}
