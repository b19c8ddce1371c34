//! Why a console request failed, as a page. Every refusal carries the API's stable error
//! code (the same `ErrorCode` the admin API answers with), shown on the page and in its
//! `data-code`, so a reviewer can name the rule that refused them.

use super::views::layout;
use crate::governance::GovernanceError;
use crate::http::error::ApiError;
use crate::store::StoreError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pli_proto::ErrorCode;

pub enum ConsoleError {
    /// No session (or one that ended): a page load goes to the sign-in page.
    SignIn,
    /// Anything the API itself would answer: its status, code and message.
    Api(ApiError),
}

impl ConsoleError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Api(ApiError::new(status, code, message))
    }

    /// A form without this session's anti-forgery token, or from another site.
    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::CsrfRefused,
            "this form did not come from this console session: reload the page and try again",
        )
    }

    pub fn bad_form(message: impl Into<String>) -> Self {
        Self::Api(ApiError::bad_request(message))
    }
}

impl From<ApiError> for ConsoleError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<GovernanceError> for ConsoleError {
    fn from(err: GovernanceError) -> Self {
        Self::Api(err.into())
    }
}

impl From<StoreError> for ConsoleError {
    fn from(err: StoreError) -> Self {
        Self::Api(err.into())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::SignIn => (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, super::session::SIGNIN_PATH)],
            )
                .into_response(),
            ConsoleError::Api(err) => {
                let page = layout::refusal(err.status, err.code, &err.message);
                let mut response = (err.status, page).into_response();
                if let Some(secs) = err.retry_after_secs {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, secs.into());
                }
                // The request log names the code, as for the API.
                response.extensions_mut().insert(err.code);
                response
            }
        }
    }
}
