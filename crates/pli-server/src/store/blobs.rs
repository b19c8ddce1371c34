//! Where attachment bytes live: an object store (the `object_store` crate), the local
//! filesystem under the data directory by default and any S3-compatible store at scale
//! (`[blobs]` in the configuration). Each chunk is an object of its own,
//! `attachments/<id>/<index>`, so an upload resumes at a chunk boundary and a download is
//! never more than one chunk in memory.

use super::error::StoreError;
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use pli_proto::attachment::AttachmentId;
use std::sync::Arc;

/// A backend's blob store. Cloning shares it.
#[derive(Clone)]
pub struct Blobs {
    store: Option<Arc<dyn ObjectStore>>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("configured", &self.store.is_some())
            .finish()
    }
}

/// An S3-compatible store (`[blobs]`, or `[regions.NAME.blobs]`, in the configuration).
/// With regions and one `[blobs]` table, each region's objects go under its name.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    /// The store's region name (AWS's); `us-east-1` when unset.
    #[serde(default)]
    pub region: Option<String>,
    /// The endpoint, for stores other than AWS (`http://127.0.0.1:9000`).
    #[serde(default)]
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allows an `http://` endpoint (a store on the same host or network).
    #[serde(default)]
    pub allow_http: bool,
    /// A prefix for every object (`pli/`).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// The secret key stays out of logs.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_ref().map(|_| "<set>"))
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Why a blob store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum BlobsError {
    #[error("cannot create the blob directory: {0}")]
    Directory(std::io::Error),
    #[error("cannot open the blob store: {0}")]
    Open(object_store::Error),
}

impl Blobs {
    /// None yet: every operation fails until the server sets one (a PostgreSQL store
    /// has no directory of its own to default to).
    pub fn unset() -> Self {
        Self { store: None }
    }

    /// Any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store: Some(store) }
    }

    /// The local filesystem under `dir`, created if missing.
    pub fn local(dir: &std::path::Path) -> Result<Self, BlobsError> {
        std::fs::create_dir_all(dir).map_err(BlobsError::Directory)?;
        let store =
            object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(BlobsError::Open)?;
        Ok(Self::new(Arc::new(store)))
    }

    /// An S3-compatible store, its objects under `sub_prefix` (a region's name) after the
    /// configured prefix.
    pub fn s3(config: &S3Config, sub_prefix: Option<&str>) -> Result<Self, BlobsError> {
        // object_store's HTTP client (reqwest, built without a provider of its own) signs
        // and encrypts with the process's rustls provider: ring, as the server's TLS.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(config.region.as_deref().unwrap_or("us-east-1"))
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let s3 = builder.build().map_err(BlobsError::Open)?;
        let prefix: String = [config.prefix.as_deref(), sub_prefix]
            .into_iter()
            .flatten()
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        if prefix.is_empty() {
            return Ok(Self::new(Arc::new(s3)));
        }
        let prefixed = object_store::prefix::PrefixStore::new(s3, prefix);
        Ok(Self::new(Arc::new(prefixed)))
    }

    fn store(&self) -> Result<&Arc<dyn ObjectStore>, StoreError> {
        self.store
            .as_ref()
            .ok_or_else(|| StoreError::Backend("no blob store is configured".into()))
    }

    /// Writes chunk `index` of `id` (replacing one written before).
    pub async fn put(&self, id: AttachmentId, index: u32, bytes: Bytes) -> Result<(), StoreError> {
        self.store()?
            .put(&chunk_path(id, index), PutPayload::from_bytes(bytes))
            .await
            .map(|_| ())
            .map_err(blob_failure)
    }

    /// Reads chunk `index` of `id`.
    pub async fn get(&self, id: AttachmentId, index: u32) -> Result<Bytes, StoreError> {
        let found = match self.store()?.get(&chunk_path(id, index)).await {
            Ok(found) => found,
            // A copy kept for its uploader's quota alone holds no bytes.
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::UnknownAttachment);
            }
            Err(other) => return Err(blob_failure(other)),
        };
        found.bytes().await.map_err(blob_failure)
    }

    /// Deletes the first `chunks` chunks of `id`; one already gone is no failure.
    pub async fn delete(&self, id: AttachmentId, chunks: u32) -> Result<(), StoreError> {
        let store = self.store()?;
        for index in 0..chunks {
            match store.delete(&chunk_path(id, index)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(other) => return Err(blob_failure(other)),
            }
        }
        Ok(())
    }
}

fn chunk_path(id: AttachmentId, index: u32) -> ObjectPath {
    ObjectPath::from(format!("attachments/{}/{index}", id.to_hex()))
}

/// The object store's words name paths and endpoints: kept for tests, never shown.
fn blob_failure(err: object_store::Error) -> StoreError {
    StoreError::Backend(format!("blob store: {err}"))
}
