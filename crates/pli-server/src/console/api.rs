//! How a console page acts: through the admin API's own handler, once the role table
//! allows the action to the signed-in member, exactly as the API's extractor would.

use crate::governance::Actor;
use crate::http::admin::permit;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

/// The admin API's answer to `call`, once the role table allows `action` to `actor`.
pub async fn admin<S: Store, T>(
    state: &AppState<S>,
    actor: Actor,
    action: &str,
    call: impl Future<Output = Result<axum::Json<T>, ApiError>>,
) -> Result<T, ApiError> {
    permit(state, actor, action).await?;
    Ok(call.await?.0)
}
