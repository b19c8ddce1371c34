//! Trust & safety act on reports (`crate::moderation`): resolve one with an action on its
//! account, reinstate an account, list an account's actions, decide an appeal.

use super::actor::StaffActor;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::moderation;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::abuse::{ActionView, AppealDecisionRequest, ReasonRequest, ResolveRequest};
use pli_proto::error::ErrorBody;
use serde_json::json;

/// Resolves a report: dismiss it, or warn, suspend or ban its account (logged; the account
/// is told, and may appeal once).
#[utoipa::path(post, path = "/admin/v1/abuse-reports/{id}/resolve",
    operation_id = "resolve_abuse_report", tag = "admin",
    security(("staff" = [])),
    params(("id" = u64, Path, description = "The report")),
    request_body = ResolveRequest,
    responses(
        (status = 200, body = ActionView, description = "The action taken"),
        (status = 400, body = ErrorBody, description = "`bad_request`"),
        (status = 404, body = ErrorBody, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn resolve<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<u64>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> Result<Json<ActionView>, ApiError> {
    Ok(Json(moderation::resolve(&state, actor, id, request).await?))
}

/// Lifts an account's suspension or ban (logged; the account is told).
#[utoipa::path(post, path = "/admin/v1/accounts/{username}/reinstate",
    operation_id = "reinstate_account", tag = "admin",
    security(("staff" = [])),
    params(("username" = pli_proto::Username, Path, description = "The account")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = ActionView, description = "The reinstatement"),
        (status = 404, body = ErrorBody, description = "`unknown_user`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reinstate<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<ActionView>, ApiError> {
    let account = crate::http::extract::path_username(&raw)?;
    Ok(Json(
        moderation::reinstate(&state, actor, account, request.reason).await?,
    ))
}

/// Every trust & safety action about an account, with its appeal.
#[utoipa::path(get, path = "/admin/v1/accounts/{username}/actions",
    operation_id = "list_account_actions", tag = "admin",
    security(("staff" = [])),
    params(("username" = pli_proto::Username, Path, description = "The account")),
    responses((status = 200, body = Vec<ActionView>, description = "The actions")))]
#[tracing::instrument(skip_all)]
pub async fn actions<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Vec<ActionView>>, ApiError> {
    let account = crate::http::extract::path_username(&raw)?;
    let actions = state.store.actions_about(&account).await?;
    state.log_action(actor, "abuse.actions", json!({})).await?;
    Ok(Json(actions))
}

/// Decides an action's appeal; refused to the staff member who took the action.
#[utoipa::path(post, path = "/admin/v1/actions/{id}/appeal/decide",
    operation_id = "decide_appeal", tag = "admin",
    security(("staff" = [])),
    params(("id" = u64, Path, description = "The action")),
    request_body = AppealDecisionRequest,
    responses(
        (status = 200, body = ActionView, description = "The action, with the decision"),
        (status = 403, body = ErrorBody, description = "`policy_refused`: the staff member took the action"),
        (status = 404, body = ErrorBody, description = "`not_found`: no such action"),
        (status = 409, body = ErrorBody, description = "`invalid_state`: no appeal to decide"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn decide<S: Store>(
    State(state): State<AppState<S>>,
    StaffActor(actor): StaffActor,
    ApiPath(id): ApiPath<u64>,
    ApiJson(request): ApiJson<AppealDecisionRequest>,
) -> Result<Json<ActionView>, ApiError> {
    Ok(Json(
        moderation::decide(&state, actor, id, request.outcome, request.reason).await?,
    ))
}
