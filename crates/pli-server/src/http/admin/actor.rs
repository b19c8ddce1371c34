//! Who calls an admin route: the staff member's credential, checked in constant time,
//! and their role's right to the route's action (from the role table), before the body is
//! read. A file of its own so the route files use it without importing the route table.

use crate::accounts::hash_secret;
use crate::governance::{Actor, GovernanceError, roles};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::Store;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use pli_proto::ErrorCode;
use pli_proto::governance::STAFF_AUTH_SCHEME;
use subtle::ConstantTimeEq;

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
    permit(state, actor, action).await?;
    Ok(actor)
}

/// Checks that `actor`'s role may perform `action`, by the role table; a denial is recorded
/// in the audit log. The staff console asks this same question before each of its actions,
/// so it can do nothing the admin API would refuse.
pub async fn permit<S: Store>(
    state: &AppState<S>,
    actor: Actor,
    action: &str,
) -> Result<(), ApiError> {
    if actor.role.is_none_or(|role| !roles::allowed(action, role)) {
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
    Ok(())
}
