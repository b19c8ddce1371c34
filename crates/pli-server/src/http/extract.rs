//! Extractors with stable rejections: a JSON body whose errors never echo the input, and
//! the authenticated device.

use super::{ApiError, AppState};
use crate::accounts::{self, AuthedDevice};
use crate::store::Store;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use pli_proto::ErrorCode;
use serde::de::DeserializeOwned;

/// A JSON body. Parse failures answer `bad_request` with a fixed text: serde's own messages
/// can quote the offending value, which may be user data.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &St) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::bad_request("expected Content-Type: application/json")
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("the body is not valid JSON"),
        JsonRejection::JsonDataError(_) => ApiError::bad_request(
            "the JSON body does not have the fields and values this endpoint takes",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!(
                "request bodies are limited to {} bytes",
                pli_proto::limits::MAX_HTTP_BODY_BYTES
            ),
        ),
        _ => ApiError::bad_request("the request body could not be read"),
    }
}

/// A path parameter. Rejections (e.g. a segment that is not valid percent-encoded UTF-8)
/// answer `bad_request` in the API's JSON form rather than axum's plain text.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, St: Send + Sync> FromRequestParts<St> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| ApiError::bad_request("a path parameter is malformed"))
    }
}

/// A query string, with the same kind of rejection as [`ApiPath`].
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequestParts<St> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|_| {
                ApiError::bad_request(
                    "the query string does not have the parameters this endpoint takes",
                )
            })
    }
}

/// The device behind a valid `Authorization: Pli …` header. Also records the day of the
/// account's last connection (once per day at most: the day is all the inventory keeps).
pub struct AuthDevice(pub AuthedDevice);

impl<S: Store> FromRequestParts<AppState<S>> for AuthDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers).await.map(Self)
    }
}

/// Checks the `Authorization` header and records the day of the connection.
pub async fn authenticate<S: Store>(
    state: &AppState<S>,
    headers: &axum::http::HeaderMap,
) -> Result<AuthedDevice, ApiError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let device = accounts::authenticate(&state.store, header).await?;
    let today = state.clock.today();
    if device.last_seen_day != Some(today) {
        state.store.touch_last_seen(&device.username, today).await?;
    }
    Ok(device)
}

/// Parses a username from a path segment with the API's stable error.
pub(crate) fn path_username(raw: &str) -> Result<pli_proto::Username, ApiError> {
    pli_proto::Username::parse(raw).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            pli_proto::ErrorCode::InvalidUsername,
            e.to_string(),
        )
    })
}
