//! `GET /v1/ws`: upgrades an authenticated device to its delivery WebSocket, with explicit
//! frame and message limits (tungstenite's defaults are 64 MiB).

use crate::delivery::session;
use crate::http::AppState;
use crate::http::extract::AuthDevice;
use crate::store::Store;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use pli_proto::limits::MAX_WS_MESSAGE_BYTES;

#[tracing::instrument(skip_all)]
pub async fn upgrade<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| session::run(state, device.device_id, socket))
}
