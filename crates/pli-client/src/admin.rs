//! Staff tools' client: the admin API with a staff credential, and the public audit log.
//! `pli admin` and `pli audit` are thin wrappers around this.

use crate::error::ClientError;
use base64::Engine;
use pli_proto::api::paths;
use pli_proto::audit::{LogError, VerifiedLog, verify_log};
use pli_proto::checkpoint::LogKey;
use pli_proto::governance::{
    AuditCheckpoints, AuditEntries, AuditKey, STAFF_AUTH_SCHEME, StaffCredential,
};
use pli_proto::merkle;
use pli_proto::report::{Figures, RegionFigures, Report, published};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};

/// An HTTP client for the admin API or the public audit endpoints.
pub struct AdminClient {
    base: String,
    http: reqwest::Client,
    credential: Option<StaffCredential>,
}

impl AdminClient {
    pub fn new(
        server: &str,
        credential: Option<StaffCredential>,
        extra_ca_pem: Option<&[u8]>,
    ) -> Result<Self, ClientError> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ClientError::Invalid(
                "the server URL must start with https:// or http://".into(),
            ));
        }
        let tls = crate::transport::tls_config(extra_ca_pem)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        Ok(Self {
            base,
            http,
            credential,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let request = match &self.credential {
            Some(c) => request.header(
                reqwest::header::AUTHORIZATION,
                format!("{STAFF_AUTH_SCHEME} {}.{}", c.staff_id, c.secret),
            ),
            None => request,
        };
        crate::transport::read_response(request.send().await?).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Downloads the whole public audit log: its key, entries and checkpoints.
    pub async fn export_log(&self) -> Result<LogExport, ClientError> {
        let key: AuditKey = self.get(paths::AUDIT_KEY).await?;
        let mut entries = Vec::new();
        loop {
            let page: AuditEntries = self
                .get(&format!("{}?from={}", paths::AUDIT_ENTRIES, entries.len()))
                .await?;
            if page.entries.is_empty() {
                break;
            }
            entries.extend(page.entries);
        }
        let mut checkpoints = Vec::new();
        loop {
            let page: AuditCheckpoints = self
                .get(&format!(
                    "{}?from={}",
                    paths::AUDIT_CHECKPOINTS,
                    checkpoints.len() + 1
                ))
                .await?;
            if page.checkpoints.is_empty() {
                break;
            }
            checkpoints.extend(page.checkpoints);
        }
        Ok(LogExport {
            key,
            entries,
            checkpoints,
        })
    }
}

/// An audit log as exported: enough to verify it offline.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LogExport {
    pub key: AuditKey,
    pub entries: Vec<String>,
    pub checkpoints: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the log's key is not a valid Ed25519 public key")]
    BadKey,
    #[error("the log is signed by another key than the one expected")]
    UnexpectedKey,
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("the report's signature does not verify with the log's key")]
    ReportSignature,
    #[error("the report covers {0} entries but the log holds fewer")]
    ReportBeyondLog(u64),
    #[error("the report's log root does not match the log at its size")]
    ReportRoot,
    #[error("refuted: {0}")]
    Refuted(String),
}

impl LogExport {
    pub fn log_key(&self, expected: Option<&str>) -> Result<LogKey, AuditError> {
        if expected.is_some_and(|e| e != self.key.public_key) {
            return Err(AuditError::UnexpectedKey);
        }
        let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(&self.key.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AuditError::BadKey)?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| AuditError::BadKey)?;
        Ok(LogKey {
            name: self.key.name.clone(),
            key,
        })
    }

    /// Verifies every entry against the signed checkpoints.
    pub fn verify(&self, expected_key: Option<&str>) -> Result<VerifiedLog, AuditError> {
        let key = self.log_key(expected_key)?;
        let entries: Vec<Vec<u8>> = self
            .entries
            .iter()
            .map(|e| e.clone().into_bytes())
            .collect();
        Ok(verify_log(&entries, &self.checkpoints, &key)?)
    }

    /// Confirms a published report against the verified log, or says which figure is wrong.
    pub fn check_report(
        &self,
        report: &Report,
        expected_key: Option<&str>,
    ) -> Result<(), AuditError> {
        let key = self.log_key(expected_key)?;
        let log = self.verify(expected_key)?;
        if !report.verify_signature(&key.key) {
            return Err(AuditError::ReportSignature);
        }
        if report.log_size > log.entries.len() as u64 {
            return Err(AuditError::ReportBeyondLog(report.log_size));
        }
        let size = report.log_size as usize;
        let leaves: Vec<_> = self.entries[..size]
            .iter()
            .map(|e| merkle::leaf_hash(e.as_bytes()))
            .collect();
        if hex::encode(merkle::root(&leaves)) != report.log_root {
            return Err(AuditError::ReportRoot);
        }
        // The served regions and their bands as the report states them; a combined or
        // unlisted region's bands follow from these, so are recomputed, not taken.
        let served: Vec<(String, bool)> = report
            .regions
            .iter()
            .filter(|r| pli_proto::Region::parse(&r.region).is_ok())
            .map(|r| (r.region.clone(), r.bands))
            .collect();
        let recomputed = published(&log.entries[..size], &report.period, &served);
        let mut differing = Vec::new();
        if recomputed.figures != report.figures {
            differing.push(format!(
                "totals ({})",
                differing_figures(report.figures.as_ref(), recomputed.figures.as_ref())
            ));
        }
        let regions = |list: &[RegionFigures]| -> BTreeMap<String, RegionFigures> {
            list.iter().map(|r| (r.region.clone(), r.clone())).collect()
        };
        let (claimed, found) = (regions(&report.regions), regions(&recomputed.regions));
        for name in claimed.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
            let (claimed, found) = (claimed.get(name), found.get(name));
            if claimed != found {
                let figures = |r: Option<&RegionFigures>| r.map(|r| r.figures.clone());
                differing.push(format!(
                    "region {name} ({})",
                    match (claimed, found) {
                        (Some(c), Some(f)) if c.bands != f.bands => "bands".to_owned(),
                        _ => differing_figures(figures(claimed).as_ref(), figures(found).as_ref()),
                    }
                ));
            }
        }
        if !differing.is_empty() {
            return Err(AuditError::Refuted(format!(
                "the log does not support the published {}",
                differing.join("; ")
            )));
        }
        Ok(())
    }
}

/// The names of the figures that differ between a published and a recomputed set (all of
/// them when one side has none).
fn differing_figures(published: Option<&Figures>, recomputed: Option<&Figures>) -> String {
    let (Some(published), Some(recomputed)) = (published, recomputed) else {
        return "present on one side only".into();
    };
    let published = serde_json::to_value(published).unwrap_or_default();
    let recomputed = serde_json::to_value(recomputed).unwrap_or_default();
    published
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(name, value)| recomputed.get(name.as_str()) != Some(*value))
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
