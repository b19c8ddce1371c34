//! The admin API (`/admin/v1/…`): staff only, every call checked against the role table
//! and written to the audit log. It can be served on its own listener.
//!
//! No route here can add a member or a device, publish a key for a user, or return
//! message content: there is no store operation that would let it.

mod abuse;
mod actor;
mod moderation;
// The staff console calls these handlers themselves (after `permit`), so it goes through
// exactly what the API does.
pub(crate) mod regions;
pub(crate) mod requests;
pub(crate) mod staff;
pub(crate) mod staff_changes;

use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use axum::routing::{get, post};

pub use actor::{StaffActor, permit};

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
        .route("/admin/v1/abuse-reports", get(abuse::list::<S>))
        .route("/admin/v1/abuse-reports/{id}", get(abuse::show::<S>))
        .route(
            "/admin/v1/abuse-reports/{id}/resolve",
            post(moderation::resolve::<S>),
        )
        .route(
            "/admin/v1/accounts/{username}/reinstate",
            post(moderation::reinstate::<S>),
        )
        .route(
            "/admin/v1/accounts/{username}/actions",
            get(moderation::actions::<S>),
        )
        .route(
            "/admin/v1/actions/{id}/appeal/decide",
            post(moderation::decide::<S>),
        )
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
        abuse::list,
        abuse::show,
        moderation::resolve,
        moderation::reinstate,
        moderation::actions,
        moderation::decide,
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
