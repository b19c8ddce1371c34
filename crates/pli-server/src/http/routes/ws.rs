//! `POST /v1/ws/ticket` and `GET /v1/ws`: the delivery WebSocket, with explicit frame and
//! message limits (tungstenite's defaults are 64 MiB).
//!
//! A device opens its socket with a single-use ticket valid for a minute, obtained over
//! authenticated HTTP, rather than its long-lived secret: WebSocket libraries log the
//! handshake at trace level, and browsers cannot set headers on a WebSocket. The
//! `Authorization` header is still accepted, for tools.

use crate::accounts;
use crate::delivery::session;
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{self, ApiQuery, AuthDevice};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use pli_proto::api::TicketResponse;
use pli_proto::limits::MAX_WS_MESSAGE_BYTES;
use rand::Rng;

pub const TICKET_TTL_MS: u64 = 60_000;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// A ticket from `POST /v1/ws/ticket`; without one, the `Authorization` header is used.
    ticket: Option<String>,
}

/// A single-use ticket for opening the delivery WebSocket, valid for a minute.
#[utoipa::path(post, path = pli_proto::api::paths::WEBSOCKET_TICKET, tag = "delivery",
    security(("device" = [])),
    responses((status = 200, body = TicketResponse, description = "A fresh ticket")))]
#[tracing::instrument(skip_all)]
pub async fn ticket<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<TicketResponse>, ApiError> {
    let ticket = hex::encode(rand::rng().random::<[u8; 32]>());
    state
        .store
        .create_ws_ticket(
            device.device_id,
            accounts::hash_secret(&ticket),
            state.clock.now_ms() + TICKET_TTL_MS,
        )
        .await?;
    Ok(Json(TicketResponse {
        ticket,
        expires_in_secs: TICKET_TTL_MS / 1000,
    }))
}

/// Opens the delivery WebSocket (binary frames, see `pli_proto::frame`). A plain HTTP
/// request without the upgrade headers is refused with `bad_request` before any ticket is
/// spent: the description lists them (RFC 6455 §4.1) as the upgrade checks them.
#[utoipa::path(get, path = pli_proto::api::paths::WEBSOCKET, tag = "delivery",
    params(
        TicketQuery,
        ("Connection" = String, Header, description = "Holds the token `Upgrade` (any case)",
            pattern = "^(.*,)?[ \\t]*[Uu][Pp][Gg][Rr][Aa][Dd][Ee][ \\t]*(,.*)?$"),
        ("Upgrade" = String, Header, description = "`websocket` (any case)",
            pattern = "^[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]$"),
        ("Sec-WebSocket-Version" = String, Header, description = "`13`", pattern = "^13$"),
        ("Sec-WebSocket-Key" = String, Header,
            description = "16 random bytes in base64, answered in `Sec-WebSocket-Accept`",
            pattern = "^[A-Za-z0-9+/]{21}[AQgw]==$"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = pli_proto::error::ErrorBody,
            description = "`unauthorized`: the ticket is unknown, used or expired; without one, \
            the `Authorization` header is missing or invalid"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn upgrade<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    ApiQuery(query): ApiQuery<TicketQuery>,
    headers: HeaderMap,
    permit: Option<axum::Extension<crate::listener::ConnectionPermit>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade =
        upgrade.map_err(|_| ApiError::bad_request("expected a WebSocket upgrade request"))?;
    // The socket keeps its connection's slot under the cap for as long as it lives.
    let slot = permit.and_then(|p| p.take());
    let device = match query.ticket {
        Some(ticket) => state
            .store
            .redeem_ws_ticket(accounts::hash_secret(&ticket), state.clock.now_ms())
            .await?
            .ok_or(accounts::AccountError::Unauthorized)?,
        None => extract::authenticate(&state, &headers).await?.device_id,
    };
    crate::retention::record_connection(&state, device, client).await?;
    let limits = state.config.limits;
    Ok(upgrade
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        // Small buffers for idle sockets (docs/ARCHITECTURE.md, "Facts the design rests on"), a hard cap for slow ones. An idle
        // device sends only pongs and acks up this socket, so a 1 KiB read buffer (the
        // chunk read at once; the buffer grows for a larger message) keeps an idle socket
        // at ~7.5 KiB of server memory, against ~11 KiB with 4 KiB (BENCHMARKS.md).
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(limits.ws_max_write_buffer)
        .on_upgrade(move |socket| async move {
            session::run(
                state,
                device,
                client,
                socket,
                crate::http::error::refusal_code,
            )
            .await;
            drop(slot);
        }))
}
