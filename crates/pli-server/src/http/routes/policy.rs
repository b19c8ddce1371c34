//! `GET /v1/policy`: every region's policy, for users choosing where to live and for
//! `pli policy`. Public: it describes the service, not anyone in it.

use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use pli_proto::policy::PolicyResponse;

/// Each region's data policy, in figures (`RegionPolicy::plain_words` turns them into
/// sentences).
#[utoipa::path(get, path = pli_proto::api::paths::POLICY, tag = "service",
    responses((status = 200, body = PolicyResponse, description = "The regions and their policies")))]
pub async fn policy<S: Store>(State(state): State<AppState<S>>) -> Json<PolicyResponse> {
    let regions = state
        .config
        .served_regions()
        .into_iter()
        .map(|region| region.policy.published(&region.name))
        .collect();
    Json(PolicyResponse {
        default_region: state.config.home_default(),
        regions,
    })
}
