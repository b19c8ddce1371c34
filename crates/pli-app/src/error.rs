//! The app's one error type: each case has a stable code (in the page's `data-code` and the
//! `x-pli-error` header, for scripts and tests) and plain words for the person.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use pli_client::ClientError;
use pli_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("pli app serves only on the loopback interface (127.0.0.1 or ::1)")]
    NotLoopback,
    #[error("another pli app is already running on this home")]
    HomeInUse,
    #[error("cannot listen or serve")]
    Io(#[source] std::io::Error),
    #[error("this link is not the one pli app printed")]
    BadToken,
    #[error("this link was already used; restart pli app for a new one")]
    TokenSpent,
    #[error("this address is not the app's own (refused, against DNS rebinding)")]
    ForeignHost,
    #[error("a request from another site was refused")]
    ForeignOrigin,
    #[error("open the link pli app printed when it started")]
    NoSession,
    /// A form field that does not hold what it must.
    #[error("{message}")]
    Input { code: &'static str, message: String },
    #[error("this home has no account yet")]
    NotRegistered,
    #[error("this home already has an account")]
    AlreadyRegistered,
    #[error("the app is stopping")]
    Stopping,
    #[error("no such page")]
    NotFound,
    #[error("{}", client_words(.0))]
    Client(#[from] ClientError),
}

impl AppError {
    pub fn input(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Input {
            code,
            message: message.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotLoopback => "not_loopback",
            AppError::HomeInUse => "home_in_use",
            AppError::Io(_) => "io",
            AppError::BadToken => "bad_token",
            AppError::TokenSpent => "token_spent",
            AppError::ForeignHost => "foreign_host",
            AppError::ForeignOrigin => "foreign_origin",
            AppError::NoSession => "no_session",
            AppError::Input { code, .. } => code,
            AppError::NotRegistered => "not_registered",
            AppError::AlreadyRegistered => "already_registered",
            AppError::Stopping => "stopping",
            AppError::NotFound => "not_found",
            AppError::Client(err) => client_code(err),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadToken | AppError::TokenSpent | AppError::NoSession => {
                StatusCode::UNAUTHORIZED
            }
            AppError::ForeignHost | AppError::ForeignOrigin => StatusCode::FORBIDDEN,
            AppError::Input { .. } | AppError::AlreadyRegistered => StatusCode::BAD_REQUEST,
            AppError::NotRegistered => StatusCode::CONFLICT,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Client(err) if err.is_retryable() => StatusCode::BAD_GATEWAY,
            AppError::Client(
                ClientError::Api { .. }
                | ClientError::Invalid(_)
                | ClientError::UnknownConversation(_)
                | ClientError::NoKeyPackage
                | ClientError::UntrustedMember
                | ClientError::NotInDirectory(_),
            ) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn client_code(err: &ClientError) -> &'static str {
    if err.is_transport() {
        return "server_unreachable";
    }
    match err {
        ClientError::Api { code, .. } => match code {
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::InvalidUsername => "invalid_username",
            ErrorCode::UnknownRegion => "unknown_region",
            ErrorCode::UnknownUser | ErrorCode::UnknownRecipient => "unknown_user",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ReportReplayed => "report_replayed",
            ErrorCode::OwnMessage => "own_message",
            ErrorCode::BadFranking => "bad_franking",
            ErrorCode::FrankingKeyExpired => "franking_key_expired",
            _ => "server_refused",
        },
        ClientError::NotRegistered => "not_registered",
        ClientError::AlreadyRegistered => "already_registered",
        ClientError::UnknownConversation(_) => "unknown_conversation",
        ClientError::Invalid(_) => "invalid",
        ClientError::NoKeyPackage => "no_key_package",
        ClientError::UntrustedMember => "untrusted_member",
        ClientError::NotInDirectory(_) => "not_in_directory",
        ClientError::SplitView(_) => "split_view",
        ClientError::Directory(_) => "directory_failed",
        ClientError::AuditLog(_) => "audit_log",
        ClientError::Contention => "contention",
        ClientError::Protocol(_) => "protocol",
        ClientError::Storage(_) => "storage",
        _ => "client_failed",
    }
}

/// What a person reads: the server's refusals in words of their own, the rest as the
/// client says it.
fn client_words(err: &ClientError) -> String {
    if err.is_transport() {
        return "the server cannot be reached; check its address and your connection".into();
    }
    match err.code() {
        Some(ErrorCode::UsernameTaken) => "this username is taken; choose another".into(),
        Some(ErrorCode::InvalidUsername) => {
            "a username is 3 to 32 lowercase letters, digits or _".into()
        }
        Some(ErrorCode::UnknownRegion) => "the server does not serve this region".into(),
        Some(ErrorCode::UnknownUser | ErrorCode::UnknownRecipient) => {
            "no such user on this server".into()
        }
        Some(ErrorCode::RateLimited) => "the server asks to slow down; try again soon".into(),
        Some(ErrorCode::ReportReplayed) => {
            "you reported this message already: the server keeps one report of it from you".into()
        }
        Some(ErrorCode::OwnMessage) => "this is a message you sent: it cannot be reported".into(),
        Some(ErrorCode::BadFranking) => {
            "the server could not match this message to what it delivered, so it was not \
             reported"
                .into()
        }
        Some(ErrorCode::FrankingKeyExpired) => {
            "this message is too old for the server to verify, so it cannot be reported".into()
        }
        _ => err.to_string(),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        let page = error_page(code, &self.to_string());
        let mut response = (self.status(), page).into_response();
        response
            .headers_mut()
            .insert("x-pli-error", axum::http::HeaderValue::from_static(code));
        response
    }
}

/// A whole page for an error: its plain words, and its stable code for scripts.
pub fn error_page(code: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Error · pli" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                main id="main" class="narrow" {
                    h1 { "Something went wrong" }
                    p role="alert" class="error" data-code=(code) { (message) }
                    p { a href="/" { "Back to pli" } }
                }
            }
        }
    }
}
