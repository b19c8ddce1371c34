//! HTTPS with rustls: loading the certificate chain and key into a server configuration.
//! The accept loop, shared with plain HTTP, is in `listener`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate chain: {0}")]
    Certificates(rustls::pki_types::pem::Error),
    #[error("cannot read the TLS private key: {0}")]
    PrivateKey(rustls::pki_types::pem::Error),
    #[error("the TLS certificate file holds no certificate")]
    NoCertificate,
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Loads a PEM certificate chain and private key into a server configuration.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(TlsError::Certificates)?
        .collect::<Result<_, _>>()
        .map_err(TlsError::Certificates)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(TlsError::PrivateKey)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
