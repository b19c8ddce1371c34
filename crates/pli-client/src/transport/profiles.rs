//! The profile endpoints: store, remove and fetch an encrypted profile.

use super::{Transport, read_response};
use crate::error::ClientError;
use pli_proto::ErrorCode;
use pli_proto::api::paths;

impl Transport {
    /// Stores this account's sealed profile (`204`).
    pub async fn put_profile(&self, sealed: Vec<u8>) -> Result<(), ClientError> {
        let url = format!("{}{}", self.base, paths::MY_PROFILE);
        let request = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(sealed);
        self.no_content(request).await
    }

    /// Removes this account's profile (`204`).
    pub async fn delete_profile(&self) -> Result<(), ClientError> {
        let url = format!("{}{}", self.base, paths::MY_PROFILE);
        self.no_content(self.http.delete(url)).await
    }

    /// `username`'s sealed profile, or `None` if the server holds none.
    pub async fn profile(&self, username: &str) -> Result<Option<Vec<u8>>, ClientError> {
        let url = format!("{}{}", self.base, paths::user_profile(username));
        let response = self.authorised(self.http.get(url)).send().await?;
        if response.status().is_success() {
            return Ok(Some(response.bytes().await?.to_vec()));
        }
        match read_response::<serde_json::Value>(response).await {
            Err(err) if err.code() == Some(ErrorCode::NoProfile) => Ok(None),
            Err(err) => Err(err),
            Ok(_) => Ok(None),
        }
    }

    pub(super) async fn no_content(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(), ClientError> {
        let response = self.authorised(request).send().await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(());
        }
        read_response::<serde_json::Value>(response).await.map(drop)
    }
}
