//! Live updates: server push → this app → the open pages, as server-sent events. Each event
//! names what changed; the page fetches the new part itself (a page behind by more than the
//! engine's buffer is told to reread everything).

use super::shared::Shared;
use crate::engine::Update;
use axum::Router;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

pub fn routes() -> Router<Arc<crate::state::AppState>> {
    Router::new().route("/events", get(events))
}

async fn events(
    axum::extract::State(state): Shared,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let updates = state.engine.subscribe();
    let stopping = state.stopping.clone();
    let stream = futures_util::stream::unfold(
        (updates, stopping),
        |(mut updates, mut stopping)| async move {
            let received = tokio::select! {
                received = updates.recv() => received,
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            let update = match received {
                Ok(update) => update,
                Err(RecvError::Lagged(_)) => Update::Changed { conversation: None },
                Err(RecvError::Closed) => return None,
            };
            let event = Event::default()
                .json_data(&update)
                .unwrap_or_else(|_| Event::default().data("{}"));
            Some((Ok(event), (updates, stopping)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
