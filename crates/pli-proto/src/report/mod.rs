//! Transparency reports, computed from the audit log and nothing else.
//!
//! [`compute`] turns the log's entries in a period into figures, each with the sequence
//! numbers of the entries it counts, so every figure can be traced. The server publishes a
//! signed [`Report`]; `pli audit report` recomputes it from the verified log with this same
//! function and confirms or refutes the published one.

mod figures;
mod period;

pub use figures::{
    BAND_BELOW, Figure, Figures, Published, RegionFigures, Tally, UNRECORDED_REGION, compute,
    published,
};
pub use period::Period;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// A published transparency report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    /// The audit log's origin, naming the deployment.
    pub origin: String,
    /// The period reported on.
    pub period: Period,
    /// The log size and root the figures were computed from.
    pub log_size: u64,
    /// That root, hex: a reader verifies the log up to `log_size` against it and recomputes.
    pub log_root: String,
    /// The whole deployment's figures; absent when any region's are banded (see
    /// [`Published::figures`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
    /// Each region's figures ([`Published::regions`]).
    #[serde(default)]
    pub regions: Vec<RegionFigures>,
    /// When the report was made, in milliseconds since the Unix epoch.
    pub generated_ms: u64,
    /// Ed25519 over the report's JSON with this field empty, base64.
    #[serde(default)]
    pub signature: String,
}

impl Report {
    fn signed_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature = String::new();
        serde_json::to_vec(&unsigned).expect("a report always serialises")
    }

    /// Sets [`Report::signature`] to `key`'s signature over the rest of the report.
    pub fn sign(&mut self, key: &SigningKey) {
        use base64::Engine;
        let signature = key.sign(&self.signed_bytes());
        self.signature = base64::engine::general_purpose::STANDARD.encode(signature.to_bytes());
    }

    /// Whether the report is signed by `key` exactly as it stands. A valid signature says
    /// only who published it; whether its figures are true is checked by recomputing them
    /// from the verified log with [`published`] and comparing.
    ///
    /// ```
    /// use ed25519_dalek::SigningKey;
    /// use pli_proto::audit::AuditEntry;
    /// use pli_proto::report::{Period, Report, published};
    ///
    /// let period = Period::parse("2026-Q4").expect("a period");
    /// let create = |seq, basis: &str| AuditEntry {
    ///     seq,
    ///     time_ms: period.start_ms + 1_000,
    ///     staff_id: 2,
    ///     role: "legal".into(),
    ///     action: "request.create".into(),
    ///     outcome: "ok".into(),
    ///     details: serde_json::json!({"region": "eu", "country": "FR", "basis": basis, "targets": ["t"]}),
    /// };
    /// let entries = [create(0, "subpoena"), create(1, "court-order"), create(2, "emergency")];
    /// let served = [("eu".to_owned(), false)];
    /// let figures = published(&entries, &period, &served);
    ///
    /// let key = SigningKey::from_bytes(&[11; 32]);
    /// let mut report = Report {
    ///     origin: "pli.test/audit".into(),
    ///     period: period.clone(),
    ///     log_size: 3,
    ///     log_root: "…".into(),
    ///     figures: figures.figures.clone(),
    ///     regions: figures.regions.clone(),
    ///     generated_ms: period.end_ms,
    ///     signature: String::new(),
    /// };
    /// report.sign(&key);
    /// assert!(report.verify_signature(&key.verifying_key()));
    /// assert!(!report.verify_signature(&SigningKey::from_bytes(&[12; 32]).verifying_key()));
    ///
    /// // The recomputation confirms the figures...
    /// let recomputed = published(&entries, &period, &served);
    /// assert_eq!(report.figures, recomputed.figures);
    /// assert_eq!(report.regions, recomputed.regions);
    /// // ...and a report doctored after signing fails both checks.
    /// report.figures.as_mut().expect("a total").emergency.count = 0;
    /// assert!(!report.verify_signature(&key.verifying_key()));
    /// assert_ne!(report.figures, recomputed.figures);
    /// ```
    pub fn verify_signature(&self, key: &VerifyingKey) -> bool {
        use base64::Engine;
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.verify(&self.signed_bytes(), &signature).is_ok()
    }
}

#[cfg(test)]
mod tests;
