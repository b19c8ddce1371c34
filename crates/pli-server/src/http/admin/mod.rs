//! The admin API (`/admin/v1/…`): staff only, every call checked against the role table
//! and written to the audit log. It can be served on its own listener.
//!
//! No route here can add a member or a device, publish a key for a user, or return
//! message content: there is no store operation that would let it.

mod regions;
mod requests;
mod staff;
mod staff_changes;

pub use staff::new_staff;

use super::{ApiError, AppState};
use crate::accounts::hash_secret;
use crate::governance::{Actor, GovernanceError, roles, rules::RuleError};
use crate::store::Store;
use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use pli_proto::ErrorCode;
use pli_proto::governance::STAFF_AUTH_SCHEME;
use subtle::ConstantTimeEq;

pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(
            "/admin/v1/staff",
            post(staff::add::<S>).get(staff::list::<S>),
        )
        .route(
            "/admin/v1/staff/{staff_id}/rotate",
            post(staff_changes::rotate::<S>),
        )
        .route(
            "/admin/v1/staff/{staff_id}/role",
            post(staff_changes::role::<S>),
        )
        .route(
            "/admin/v1/staff/{staff_id}/revoke",
            post(staff_changes::revoke::<S>),
        )
        .route(
            "/admin/v1/requests",
            post(requests::create::<S>).get(requests::list::<S>),
        )
        .route("/admin/v1/requests/{id}", get(requests::show::<S>))
        .route("/admin/v1/requests/{id}/edit", post(requests::edit::<S>))
        .route(
            "/admin/v1/requests/{id}/approve",
            post(requests::approve::<S>),
        )
        .route(
            "/admin/v1/requests/{id}/reject",
            post(requests::reject::<S>),
        )
        .route(
            "/admin/v1/requests/{id}/disclose",
            post(requests::disclose::<S>),
        )
        .route("/admin/v1/requests/{id}/close", post(requests::close::<S>))
        .route("/admin/v1/alerts", get(requests::alerts::<S>))
        .route("/admin/v1/inventory/{username}", get(staff::inventory::<S>))
        .route("/admin/v1/reports", post(staff::report::<S>))
        .route(
            "/admin/v1/accounts/{username}/region",
            post(regions::move_account::<S>),
        )
        .route("/admin/v1/retention", post(regions::retention::<S>))
        .route(
            "/admin/v1/directory/publish",
            post(regions::publish_directory::<S>),
        )
}

/// The admin API's description; [`crate::http::openapi`] completes it.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        staff::add,
        staff::list,
        staff_changes::rotate,
        staff_changes::role,
        staff_changes::revoke,
        staff::inventory,
        staff::report,
        requests::create,
        requests::list,
        requests::show,
        requests::edit,
        requests::approve,
        requests::reject,
        requests::disclose,
        requests::close,
        requests::alerts,
        regions::move_account,
        regions::retention,
        regions::publish_directory,
    ),
    tags((name = "admin", description = "Staff only: every call is checked against the role table and logged"))
)]
pub struct AdminApi;

/// The staff member calling an admin route, authorised for it. The action comes from the
/// route table (by method and route template), and the check runs before the request body
/// is read, so every denial is answered 403 and logged whatever the body holds.
pub struct StaffActor(pub Actor);

impl<S: Store> FromRequestParts<AppState<S>> for StaffActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_owned());
        let route = roles::ADMIN_ROUTES
            .iter()
            .find(|r| Some(r.path) == template.as_deref() && r.method == parts.method.as_str())
            .ok_or_else(|| ApiError::internal(&"admin route missing from the role table"))?;
        authorize(state, &parts.headers, route.action)
            .await
            .map(Self)
    }
}

/// Authenticates the staff member and checks that their role may perform `action`. A
/// denial is itself recorded in the audit log.
async fn authorize<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    action: &str,
) -> Result<Actor, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "missing or invalid staff credentials",
        )
    };
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix(STAFF_AUTH_SCHEME))
        .and_then(|h| h.strip_prefix(' '))
        .ok_or_else(unauthorized)?;
    let (id, secret) = credentials.split_once('.').ok_or_else(unauthorized)?;
    let id: u64 = id.parse().map_err(|_| unauthorized())?;
    let staff = state.store.staff(id).await?.ok_or_else(unauthorized)?;
    if !bool::from(staff.secret_hash.ct_eq(&hash_secret(secret))) {
        return Err(unauthorized());
    }
    let actor = Actor {
        staff_id: staff.id,
        role: Some(staff.role),
    };
    if !roles::allowed(action, staff.role) {
        let error = state
            .governance
            .refuse(
                &state.store,
                state.clock.as_ref(),
                actor,
                action,
                GovernanceError::Forbidden,
                serde_json::json!({}),
            )
            .await;
        return Err(error.into());
    }
    Ok(actor)
}

impl From<GovernanceError> for ApiError {
    fn from(err: GovernanceError) -> Self {
        let text = err.to_string();
        match err {
            GovernanceError::Store(store) => store.into(),
            GovernanceError::Forbidden => {
                Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, text)
            }
            GovernanceError::UnknownRequest => {
                Self::new(StatusCode::NOT_FOUND, ErrorCode::UnknownRequest, text)
            }
            GovernanceError::UnknownUser => {
                Self::new(StatusCode::NOT_FOUND, ErrorCode::UnknownUser, text)
            }
            GovernanceError::AlreadyInitialised => {
                Self::new(StatusCode::CONFLICT, ErrorCode::AlreadyInitialised, text)
            }
            GovernanceError::Rule(RuleError::Invalid(_)) => Self::bad_request(text),
            GovernanceError::Rule(RuleError::Refused(_)) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::PolicyRefused,
                text,
            ),
            GovernanceError::Rule(RuleError::State(_)) => {
                Self::new(StatusCode::CONFLICT, ErrorCode::InvalidState, text)
            }
        }
    }
}
