//! Extractors with stable rejections: a JSON body whose errors never echo the input, and
//! the authenticated device.

use crate::accounts::{self, AuthedDevice};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use pli_proto::ErrorCode;
use serde::de::DeserializeOwned;

/// A JSON body. Parse failures answer `bad_request` with a fixed text: serde's own messages
/// can quote the offending value, which may be user data.
///
/// An integer may be spelled as a whole number with a fraction (`2.0`, `2e3`): JSON does not
/// tell the two apart, nor does the JSON Schema of `/openapi.json` (API fuzzers send them), so
/// such a body reads as if it said `2`. Everything else serde refuses (`2.5`, `"2"`, a value
/// out of range, a missing field) is still refused.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &St) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            return Err(missing_json_content_type());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| json_rejection(&rejection.into()))?;
        let rejection = match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => return Ok(Self(value)),
            Err(rejection) => rejection,
        };
        if matches!(rejection, JsonRejection::JsonDataError(_))
            && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && respell_whole_numbers(&mut value)
            && let Ok(typed) = serde_json::from_value::<T>(value)
        {
            return Ok(Self(typed));
        }
        Err(json_rejection(&rejection))
    }
}

/// What `axum::Json` takes: `application/json` or `application/…+json`.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Rewrites every float with no fraction (within the range a float spells exactly) as an
/// integer; says whether it changed anything.
fn respell_whole_numbers(value: &mut serde_json::Value) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        serde_json::Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            let Some(float) = number.as_f64() else {
                return false;
            };
            if float.fract() != 0.0 || float.abs() >= EXACT {
                return false;
            }
            // Exact: a whole float below 2^53 in magnitude is an integer an i64 holds.
            *number = serde_json::Number::from(float as i64);
            true
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| respell_whole_numbers(item) | changed),
        serde_json::Value::Object(fields) => fields
            .values_mut()
            .fold(false, |changed, item| respell_whole_numbers(item) | changed),
        _ => false,
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => missing_json_content_type(),
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

fn missing_json_content_type() -> ApiError {
    ApiError::bad_request("expected Content-Type: application/json")
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
