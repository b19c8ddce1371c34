//! Attachments: `POST /v1/attachments` starts an upload, `GET /v1/attachments/{id}` says
//! how far it got, `PUT`/`GET /v1/attachments/{id}/chunks/{index}` upload and download one
//! chunk, `POST /v1/attachments/{id}/fetched` says a recipient has it all.

use crate::attachments;
use crate::delivery::accept::Submitter;
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, AuthDevice};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use pli_proto::attachment::{AttachmentId, AttachmentStatus, CreateAttachmentRequest};
use pli_proto::error::ErrorBody;

/// A chunk's bytes in the API description: binary, not JSON. (Only described: handlers
/// take and give [`Bytes`].)
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ChunkBytes(#[allow(dead_code)] Vec<u8>);

/// An attachment's path.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentPath {
    /// The attachment's id: 32 hex digits.
    #[param(pattern = "^[0-9a-f]{32}$")]
    id: String,
}

/// One chunk's path.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ChunkPath {
    /// The attachment's id: 32 hex digits.
    #[param(pattern = "^[0-9a-f]{32}$")]
    id: String,
    /// The chunk, from 0.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    index: u32,
}

fn parse_id(raw: &str) -> Result<AttachmentId, ApiError> {
    AttachmentId::parse(raw).ok_or_else(|| ApiError::bad_request("not an attachment id"))
}

/// Starts an upload: the ciphertext's size and the devices that may download it.
#[utoipa::path(post, path = pli_proto::api::paths::ATTACHMENTS, tag = "attachments",
    operation_id = "create_attachment",
    security(("device" = [])),
    request_body = CreateAttachmentRequest,
    responses(
        (status = 201, body = AttachmentStatus, description = "Created; upload chunk 0 next"),
        (status = 400, body = ErrorBody, description = "`too_many_recipients`: none, or too many; `bad_request`: a lifetime out of range"),
        (status = 403, body = ErrorBody, description = "`account_suspended`"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`, `quota_exceeded`"),
        (status = 422, body = ErrorBody, description = "`unknown_recipient`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    ClientAddr(client): ClientAddr,
    AuthDevice(device): AuthDevice,
    ApiJson(request): ApiJson<CreateAttachmentRequest>,
) -> Result<(StatusCode, Json<AttachmentStatus>), ApiError> {
    let submitter = Submitter::read(&state, device.device_id, &device.username, client).await?;
    let created = attachments::create(&state, &submitter, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// How far an upload got, for its uploader (to resume) and its recipients.
#[utoipa::path(get, path = pli_proto::api::paths::ATTACHMENT, tag = "attachments",
    operation_id = "attachment_status",
    security(("device" = [])),
    params(AttachmentPath),
    responses(
        (status = 200, body = AttachmentStatus, description = "Its size and chunks uploaded"),
        (status = 404, body = ErrorBody, description = "`unknown_attachment`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn status<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    ApiPath(path): ApiPath<AttachmentPath>,
) -> Result<Json<AttachmentStatus>, ApiError> {
    let id = parse_id(&path.id)?;
    Ok(Json(
        attachments::status(&state, id, device.device_id).await?,
    ))
}

/// Uploads chunk `index` (the next one, or an earlier one again, which changes nothing).
#[utoipa::path(put, path = pli_proto::api::paths::ATTACHMENT_CHUNK, tag = "attachments",
    operation_id = "put_attachment_chunk",
    security(("device" = [])),
    params(ChunkPath),
    request_body(content = ChunkBytes, content_type = "application/octet-stream",
        description = "The chunk's ciphertext: 1 MiB, or what is left of the blob for the last"),
    responses(
        (status = 200, body = AttachmentStatus, description = "Stored"),
        (status = 400, body = ErrorBody, description = "`invalid_chunk`: not the length its place gives"),
        (status = 404, body = ErrorBody, description = "`unknown_attachment`"),
        (status = 409, body = ErrorBody, description = "`chunk_out_of_order`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn put_chunk<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    ApiPath(path): ApiPath<ChunkPath>,
    body: Bytes,
) -> Result<Json<AttachmentStatus>, ApiError> {
    let (id, index) = (parse_id(&path.id)?, path.index);
    let stored = state
        .store
        .put_attachment_chunk(id, Some(device.device_id), index, body)
        .await?;
    Ok(Json(AttachmentStatus {
        id,
        size: stored.size,
        chunks: pli_proto::attachment::chunk_count(stored.size),
        received: stored.received,
    }))
}

/// Downloads chunk `index`, for the uploader or a recipient.
#[utoipa::path(get, path = pli_proto::api::paths::ATTACHMENT_CHUNK, tag = "attachments",
    operation_id = "get_attachment_chunk",
    security(("device" = [])),
    params(ChunkPath),
    responses(
        (status = 200, content_type = "application/octet-stream", body = ChunkBytes, description = "The chunk's ciphertext"),
        (status = 404, body = ErrorBody, description = "`unknown_attachment`"),
        (status = 409, body = ErrorBody, description = "`attachment_incomplete`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get_chunk<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    ApiPath(path): ApiPath<ChunkPath>,
) -> Result<impl IntoResponse, ApiError> {
    let (id, index) = (parse_id(&path.id)?, path.index);
    let bytes = state
        .store
        .attachment_chunk(id, device.device_id, index)
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

/// The calling recipient has the whole attachment, verified; the last one's call deletes it.
#[utoipa::path(post, path = pli_proto::api::paths::ATTACHMENT_FETCHED, tag = "attachments",
    operation_id = "attachment_fetched",
    security(("device" = [])),
    params(AttachmentPath),
    responses(
        (status = 204, description = "Noted"),
        (status = 404, body = ErrorBody, description = "`unknown_attachment`"),
        (status = 409, body = ErrorBody, description = "`attachment_incomplete`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn fetched<S: Store>(
    State(state): State<AppState<S>>,
    AuthDevice(device): AuthDevice,
    ApiPath(path): ApiPath<AttachmentPath>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&path.id)?;
    state.store.attachment_fetched(id, device.device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
