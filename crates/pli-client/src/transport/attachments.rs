//! The attachment endpoints: create, status, one chunk up or down, fetched.

use super::{Transport, read_response};
use crate::error::ClientError;
use pli_proto::api::paths;
use pli_proto::attachment::{AttachmentId, AttachmentStatus, CreateAttachmentRequest};

impl Transport {
    pub async fn create_attachment(
        &self,
        request: &CreateAttachmentRequest,
    ) -> Result<AttachmentStatus, ClientError> {
        self.post(paths::ATTACHMENTS, request).await
    }

    pub async fn attachment_status(
        &self,
        id: &AttachmentId,
    ) -> Result<AttachmentStatus, ClientError> {
        self.get(&paths::attachment(id)).await
    }

    pub async fn put_attachment_chunk(
        &self,
        id: &AttachmentId,
        index: u32,
        bytes: Vec<u8>,
    ) -> Result<AttachmentStatus, ClientError> {
        let url = format!("{}{}", self.base, paths::attachment_chunk(id, index));
        let request = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.call(request).await
    }

    /// Chunk `index`'s ciphertext.
    pub async fn attachment_chunk(
        &self,
        id: &AttachmentId,
        index: u32,
    ) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{}", self.base, paths::attachment_chunk(id, index));
        let response = self.authorised(self.http.get(url)).send().await?;
        if response.status().is_success() {
            return Ok(response.bytes().await?.to_vec());
        }
        read_response::<serde_json::Value>(response)
            .await
            .map(|_| Vec::new())
    }

    /// Tells the server this device has the whole attachment (`204`).
    pub async fn attachment_fetched(&self, id: &AttachmentId) -> Result<(), ClientError> {
        let url = format!("{}{}", self.base, paths::attachment_fetched(id));
        let response = self.authorised(self.http.post(url)).send().await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(());
        }
        read_response::<serde_json::Value>(response).await.map(drop)
    }
}
