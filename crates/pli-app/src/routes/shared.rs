//! What the screens' handlers share: the state extractor, the page shell around a screen,
//! and a form extractor whose rejection is a clear error.

use crate::error::AppError;
use crate::state::AppState;
use crate::views::layout::{self, Frame, Screen};
use axum::extract::{Request, State};
use maud::Markup;
use std::sync::Arc;

pub type Shared = State<Arc<AppState>>;

/// A page in the shell, with the user's name, the connection's state and open alerts.
pub fn shell(
    state: &AppState,
    screen: Screen,
    title: &str,
    body: Markup,
) -> Result<Markup, AppError> {
    let (username, alerts) = match state.read(|c| Ok((c.username().to_string(), c.open_alerts()?)))
    {
        Ok((name, alerts)) => (Some(name), alerts),
        Err(AppError::NotRegistered) => (None, Vec::new()),
        Err(err) => return Err(err),
    };
    let frame = Frame {
        screen,
        username: username.as_deref(),
        status: state.engine.status(),
        alerts: &alerts,
    };
    Ok(layout::page(title, &frame, body))
}

/// A form's body, with a malformed one a clear error rather than the framework's.
pub struct Form<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(value)| Form(value))
            .map_err(|_| AppError::input("bad_form", "the form was not sent as a form"))
    }
}
