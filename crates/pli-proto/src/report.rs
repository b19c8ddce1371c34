//! Transparency reports, computed from the audit log and nothing else.
//!
//! [`compute`] turns the log's entries in a period into figures, each with the sequence
//! numbers of the entries it counts, so every figure can be traced. The server publishes a
//! signed [`Report`]; `pli audit report` recomputes it from the verified log with this same
//! function and confirms or refutes the published one.

use crate::audit::AuditEntry;
use crate::governance::{LegalBasis, days_from_civil};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Counts below this are shown as a band when the policy asks for bands.
pub const BAND_BELOW: u64 = 10;

/// The span of time a report covers: a calendar quarter or half-year, in UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    /// Its name, `2026-Q4` or `2026-H2`.
    pub label: String,
    /// Its first millisecond since the Unix epoch.
    pub start_ms: u64,
    /// The first millisecond after it.
    pub end_ms: u64,
}

impl Period {
    /// `2026-Q4` (a quarter) or `2026-H2` (a half-year), in UTC.
    pub fn parse(label: &str) -> Option<Self> {
        let (year, part) = label.split_once('-')?;
        let year: i64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
        let (first_month, months) = match part {
            "Q1" => (1, 3),
            "Q2" => (4, 3),
            "Q3" => (7, 3),
            "Q4" => (10, 3),
            "H1" => (1, 6),
            "H2" => (7, 6),
            _ => return None,
        };
        let start = days_from_civil(year, first_month, 1);
        let end_month = first_month + months;
        let end = if end_month > 12 {
            days_from_civil(year + 1, end_month - 12, 1)
        } else {
            days_from_civil(year, end_month, 1)
        };
        Some(Self {
            label: label.to_owned(),
            start_ms: start as u64 * 86_400_000,
            end_ms: end as u64 * 86_400_000,
        })
    }

    /// Whether `time_ms` falls in the period (`start_ms` included, `end_ms` not).
    pub fn contains(&self, time_ms: u64) -> bool {
        (self.start_ms..self.end_ms).contains(&time_ms)
    }
}

/// A figure's value and the entries it counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figure {
    /// The figure.
    pub count: u64,
    /// The `seq` of every audit entry it counts, so anyone can trace it.
    pub entries: Vec<u64>,
    /// Published as a band only: the count (then 0) and its entries are left out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub banded: bool,
}

impl Figure {
    fn add(&mut self, amount: u64, seq: u64) {
        self.count += amount;
        self.entries.push(seq);
    }

    /// Keeps only the band of a small count: no count and no entries, as a public output
    /// carries it.
    fn band(&mut self) {
        if self.count < BAND_BELOW {
            self.count = 0;
            self.entries.clear();
            self.banded = true;
        }
    }

    /// The count as published: exact, or a band such as `0–9` for small counts.
    pub fn shown(&self, bands: bool) -> String {
        if self.banded || (bands && self.count < BAND_BELOW) {
            format!("0\u{2013}{}", BAND_BELOW - 1)
        } else {
            self.count.to_string()
        }
    }
}

/// Every figure a report gives for one set of accounts (the deployment, or a region).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// Lawful requests received (`request.create`).
    pub requests: Figure,
    /// The same, by country and legal basis; keyed `CC/basis`.
    pub requests_by_country_basis: BTreeMap<String, Figure>,
    /// Accounts named by those requests, each request's targets counted.
    pub accounts_specified: Figure,
    /// Requests for which some data was disclosed, each request once.
    pub requests_with_data_produced: Figure,
    /// Requests rejected (`request.reject`).
    pub rejected: Figure,
    /// Requests received on the emergency basis.
    pub emergency: Figure,
    /// Emergency disclosures whose second review rejected them (after the data went out).
    #[serde(default)]
    pub emergency_rejected_after_disclosure: Figure,
    /// Emergency second reviews not done by their deadline (counted when they fell due).
    #[serde(default)]
    pub emergency_reviews_overdue: Figure,
    /// Requests received on the preservation basis.
    pub preservation: Figure,
    /// Notices sent to users about a disclosure.
    pub notices_sent: Figure,
    /// Notices held under a non-disclosure order.
    pub notices_delayed: Figure,
}

impl Figures {
    fn band(&mut self) {
        for figure in self.all_mut() {
            figure.band();
        }
        self.requests_by_country_basis
            .values_mut()
            .for_each(Figure::band);
    }

    fn all_mut(&mut self) -> [&mut Figure; 10] {
        [
            &mut self.requests,
            &mut self.accounts_specified,
            &mut self.requests_with_data_produced,
            &mut self.rejected,
            &mut self.emergency,
            &mut self.emergency_rejected_after_disclosure,
            &mut self.emergency_reviews_overdue,
            &mut self.preservation,
            &mut self.notices_sent,
            &mut self.notices_delayed,
        ]
    }
}

/// The region of entries whose request named none (logged before requests recorded their
/// region). Not a valid region name, so it cannot be confused with one.
pub const UNRECORDED_REGION: &str = "?";

/// One region's figures in a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionFigures {
    /// The region a request was held to: its targets' home region, names joined by `+`
    /// for a request about accounts of several regions, [`UNRECORDED_REGION`] for entries
    /// logged before requests named their region.
    pub region: String,
    /// Whether its small counts are published as bands: its policy's `report_bands`; for
    /// several regions, or a region the report does not list, whether any listed one's is.
    pub bands: bool,
    /// The region's figures, banded as `bands` says.
    pub figures: Figures,
}

/// The figures a published report carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// The whole deployment's, only when no region's counts are banded: a total beside
    /// banded regions would give their exact counts away by subtraction.
    pub figures: Option<Figures>,
    /// Every served region's (even with nothing to count: a missing region would say
    /// "none"), then any other region the period's entries name.
    pub regions: Vec<RegionFigures>,
}

/// Whether `region` is banded, given each served region's setting: an unlisted region (the
/// unrecorded one) is banded if any listed one is.
fn bands_of(region: &str, served: &[(String, bool)]) -> bool {
    served.iter().find(|(name, _)| name == region).map_or_else(
        || served.iter().any(|(_, bands)| *bands),
        |(_, bands)| *bands,
    )
}

/// The figures of `period` as a published report carries them: computed from the log
/// ([`compute`]); each region whose policy asks for bands with every count below
/// [`BAND_BELOW`] replaced by its band alone, and no breakdown by country (a row would say
/// "at least one"). `served` lists the served regions and whether each one's policy asks
/// for bands. `pli audit report` recomputes exactly this.
///
/// ```
/// use pli_proto::report::{Period, published};
/// let period = Period::parse("2026-Q4").expect("a period");
/// let served = [("eu".to_owned(), true), ("us".to_owned(), false)];
/// let report = published(&[], &period, &served);
/// let eu = &report.regions[0];
/// assert!(eu.bands && eu.figures.requests.banded && eu.figures.requests.count == 0);
/// assert_eq!(eu.figures.requests.shown(eu.bands), "0\u{2013}9");
/// assert_eq!(report.regions[1].figures.requests.shown(false), "0");
/// assert!(report.figures.is_none(), "no total beside a banded region");
/// ```
pub fn published(entries: &[AuditEntry], period: &Period, served: &[(String, bool)]) -> Published {
    let Tally {
        total,
        mut by_region,
    } = compute(entries, period);
    let mut regions: Vec<RegionFigures> = served
        .iter()
        .map(|(name, _)| RegionFigures {
            region: name.clone(),
            bands: false,
            figures: by_region.remove(name).unwrap_or_default(),
        })
        .collect();
    regions.extend(
        by_region
            .into_iter()
            .map(|(region, figures)| RegionFigures {
                region,
                bands: false,
                figures,
            }),
    );
    let mut any_banded = false;
    for region in &mut regions {
        region.bands = bands_of(&region.region, served);
        if region.bands {
            region.figures.band();
            region.figures.requests_by_country_basis.clear();
            any_banded = true;
        }
    }
    Published {
        figures: (!any_banded).then_some(total),
        regions,
    }
}

/// The figures of a period: the deployment's, and each region's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// The whole deployment's figures, each request once.
    pub total: Figures,
    /// A request about accounts of several regions counts in each of them, as each one's
    /// policy governs it.
    pub by_region: BTreeMap<String, Figures>,
}

/// The actions a report counts.
const COUNTED: [&str; 6] = [
    "request.create",
    "request.reject",
    "request.overdue",
    "request.disclose",
    "notice.sent",
    "notice.delayed",
];

/// Computes the figures of `period` from verified log entries. An entry counts for the
/// regions its details name (`eu`, or `eu+us` for several) or, failing that, the ones its
/// request last named; [`UNRECORDED_REGION`] if neither does.
///
/// Three entries of one request: it counts once, traced to its entries, and the entry
/// outside the period and the refused one do not count; a log from which an entry was
/// dropped computes other figures:
///
/// ```
/// use pli_proto::audit::AuditEntry;
/// use pli_proto::report::{Period, compute};
///
/// let period = Period::parse("2026-Q4").expect("a period");
/// let entry = |seq, time_ms, action: &str, outcome: &str| AuditEntry {
///     seq,
///     time_ms,
///     staff_id: 2,
///     role: "legal".into(),
///     action: action.into(),
///     outcome: outcome.into(),
///     details: serde_json::json!({
///         "request_id": "r1", "region": "eu", "country": "FR", "basis": "court-order",
///         "targets": ["t1", "t2"],
///     }),
/// };
/// let entries = [
///     entry(0, period.start_ms, "request.create", "ok"),
///     entry(1, period.start_ms + 1, "request.disclose", "ok"),
///     entry(2, period.start_ms + 2, "request.disclose", "denied"),
///     entry(3, period.end_ms, "request.reject", "ok"),
/// ];
/// let tally = compute(&entries, &period);
/// let eu = &tally.by_region["eu"];
/// assert_eq!(eu.requests.entries, [0]);
/// assert_eq!(eu.accounts_specified.count, 2);
/// assert_eq!(eu.requests_with_data_produced.entries, [1]);
/// assert_eq!(eu.rejected.count, 0, "entry 3 is in the next period");
/// assert_eq!(tally.total.requests_by_country_basis["FR/court-order"].count, 1);
///
/// let dropped = compute(&entries[1..], &period);
/// assert_ne!(dropped, tally);
/// assert_eq!(dropped.total.requests.count, 0);
/// ```
pub fn compute(entries: &[AuditEntry], period: &Period) -> Tally {
    let mut tally = Tally::default();
    let mut region_of: BTreeMap<String, String> = BTreeMap::new();
    // Requests already counted as produced or overdue, per figure set ("" is the total).
    let mut produced = BTreeSet::new();
    let mut overdue = BTreeSet::new();
    for entry in entries.iter().filter(|e| e.outcome == "ok") {
        let details = &entry.details;
        let request = details["request_id"].as_str();
        let named = details["region"].as_str();
        if let (Some(request), Some(region)) = (request, named) {
            region_of.insert(request.to_owned(), region.to_owned());
        }
        if !period.contains(entry.time_ms) || !COUNTED.contains(&entry.action.as_str()) {
            continue;
        }
        let regions = named
            .or_else(|| request.and_then(|r| region_of.get(r)).map(String::as_str))
            .unwrap_or(UNRECORDED_REGION);
        count(&mut tally.total, "", entry, &mut produced, &mut overdue);
        for region in regions.split('+').collect::<BTreeSet<_>>() {
            let figures = tally.by_region.entry(region.to_owned()).or_default();
            count(figures, region, entry, &mut produced, &mut overdue);
        }
    }
    tally
}

/// Adds one in-period entry to `figures`, the set named `set`. `produced` and `overdue`
/// hold the (set, request) pairs already counted (once per request, should two nodes both
/// have recorded one).
fn count(
    figures: &mut Figures,
    set: &str,
    entry: &AuditEntry,
    produced: &mut BTreeSet<(String, String)>,
    overdue: &mut BTreeSet<(String, String)>,
) {
    let details = &entry.details;
    match entry.action.as_str() {
        "request.create" => {
            let country = details["country"].as_str().unwrap_or("??");
            let basis = details["basis"].as_str().unwrap_or("?");
            figures.requests.add(1, entry.seq);
            figures
                .requests_by_country_basis
                .entry(format!("{country}/{basis}"))
                .or_default()
                .add(1, entry.seq);
            let targets = details["targets"].as_array().map_or(0, |t| t.len() as u64);
            figures.accounts_specified.add(targets, entry.seq);
            match LegalBasis::parse(basis) {
                Some(LegalBasis::Emergency) => figures.emergency.add(1, entry.seq),
                Some(LegalBasis::Preservation) => figures.preservation.add(1, entry.seq),
                _ => {}
            }
        }
        "request.reject" => {
            figures.rejected.add(1, entry.seq);
            if details["rejected_after_disclosure"] == true {
                figures
                    .emergency_rejected_after_disclosure
                    .add(1, entry.seq);
            }
        }
        "request.overdue" => {
            if let Some(id) = details["request_id"].as_str()
                && overdue.insert((set.to_owned(), id.to_owned()))
            {
                figures.emergency_reviews_overdue.add(1, entry.seq);
            }
        }
        "request.disclose" => {
            if let Some(id) = details["request_id"].as_str()
                && produced.insert((set.to_owned(), id.to_owned()))
            {
                figures.requests_with_data_produced.add(1, entry.seq);
            }
        }
        "notice.sent" => figures.notices_sent.add(1, entry.seq),
        "notice.delayed" => figures.notices_delayed.add(1, entry.seq),
        _ => {}
    }
}

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
mod tests {
    use super::*;

    fn entry(seq: u64, time_ms: u64, action: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry {
            seq,
            time_ms,
            staff_id: 1,
            role: "legal".into(),
            action: action.into(),
            outcome: "ok".into(),
            details,
        }
    }

    #[test]
    fn periods_cover_quarters_and_halves() {
        let q4 = Period::parse("2026-Q4").expect("valid");
        assert_eq!(
            q4.start_ms,
            days_from_civil(2026, 10, 1) as u64 * 86_400_000
        );
        assert_eq!(q4.end_ms, days_from_civil(2027, 1, 1) as u64 * 86_400_000);
        let h1 = Period::parse("2026-H1").expect("valid");
        assert_eq!(h1.end_ms, days_from_civil(2026, 7, 1) as u64 * 86_400_000);
        assert!(Period::parse("2026-Q5").is_none() && Period::parse("Q1").is_none());
    }

    #[test]
    fn figures_count_only_the_period_and_trace_their_entries() {
        let q = Period::parse("2026-Q4").expect("valid");
        let inside = q.start_ms + 1;
        let entries = vec![
            entry(
                0,
                inside,
                "request.create",
                serde_json::json!({"country": "FR", "basis": "subpoena", "targets": ["a", "b"]}),
            ),
            entry(
                1,
                inside,
                "request.create",
                serde_json::json!({"country": "FR", "basis": "emergency", "targets": ["c"]}),
            ),
            entry(
                2,
                inside,
                "request.disclose",
                serde_json::json!({"request_id": "r1"}),
            ),
            entry(
                3,
                inside,
                "request.disclose",
                serde_json::json!({"request_id": "r1"}),
            ),
            entry(
                4,
                q.end_ms,
                "request.create",
                serde_json::json!({"country": "US", "basis": "subpoena", "targets": ["d"]}),
            ),
            entry(5, inside, "notice.delayed", serde_json::json!({})),
            entry(
                6,
                inside,
                "request.reject",
                serde_json::json!({"request_id": "r2", "rejected_after_disclosure": true}),
            ),
            entry(
                7,
                inside,
                "request.reject",
                serde_json::json!({"request_id": "r3"}),
            ),
            entry(
                8,
                inside,
                "request.overdue",
                serde_json::json!({"request_id": "r2"}),
            ),
            entry(
                9,
                inside,
                "request.overdue",
                serde_json::json!({"request_id": "r2"}),
            ),
        ];
        let tally = compute(&entries, &q);
        assert_eq!(tally.total, tally.by_region[UNRECORDED_REGION]);
        let figures = &tally.total;
        assert_eq!(figures.requests.count, 2);
        assert_eq!(figures.requests.entries, vec![0, 1]);
        assert_eq!(figures.accounts_specified.count, 3);
        assert_eq!(figures.emergency.count, 1);
        assert_eq!(
            figures.requests_with_data_produced.count, 1,
            "one request, disclosed twice"
        );
        assert_eq!(figures.requests_by_country_basis["FR/subpoena"].count, 1);
        assert_eq!(figures.notices_delayed.count, 1);
        assert_eq!(figures.rejected.entries, vec![6, 7]);
        assert_eq!(figures.emergency_rejected_after_disclosure.entries, vec![6]);
        assert_eq!(figures.emergency_reviews_overdue.entries, vec![8]);
        assert_eq!(figures.requests.shown(true), "0\u{2013}9");
        assert_eq!(figures.requests.shown(false), "2");
    }

    #[test]
    fn signed_reports_verify_and_doctored_ones_do_not() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let mut report = Report {
            origin: "test".into(),
            period: Period::parse("2026-Q4").expect("valid"),
            log_size: 3,
            log_root: "00".into(),
            figures: Some(Figures::default()),
            regions: Vec::new(),
            generated_ms: 1,
            signature: String::new(),
        };
        report.sign(&key);
        assert!(report.verify_signature(&key.verifying_key()));
        report.figures.as_mut().expect("figures").rejected.count = 7;
        assert!(!report.verify_signature(&key.verifying_key()));
    }

    /// Each entry counts for its request's regions; a banded region shows bands only, no
    /// breakdown by country, and keeps the deployment total out (it would give the banded
    /// counts away).
    #[test]
    fn regions_are_counted_apart_and_banded_by_their_own_policy() {
        let q = Period::parse("2026-Q4").expect("valid");
        let inside = q.start_ms + 1;
        let create = |seq, id: &str, region: &str| {
            entry(
                seq,
                inside,
                "request.create",
                serde_json::json!({"request_id": id, "region": region, "country": "FR", "basis": "subpoena", "targets": ["t"]}),
            )
        };
        let entries = vec![
            create(0, "r1", "eu"),
            create(1, "r2", "us"),
            create(2, "r3", "us"),
            create(3, "r4", "eu+us"),
            // Later entries name only their request: they count where it was created.
            entry(
                4,
                inside,
                "request.disclose",
                serde_json::json!({"request_id": "r2"}),
            ),
            entry(
                5,
                inside,
                "notice.sent",
                serde_json::json!({"request_id": "r1"}),
            ),
            // Not a counted action: makes no region appear.
            entry(6, inside, "staff.add", serde_json::json!({})),
        ];
        let exact = [("eu".to_owned(), false), ("us".to_owned(), false)];
        let report = published(&entries, &q, &exact);
        let total = report.figures.expect("a total when nothing is banded");
        assert_eq!(
            total.requests.entries,
            vec![0, 1, 2, 3],
            "each request once"
        );
        let names: Vec<&str> = report.regions.iter().map(|r| r.region.as_str()).collect();
        assert_eq!(names, ["eu", "us"]);
        let [eu, us] = &report.regions[..] else {
            unreachable!()
        };
        assert_eq!(eu.figures.requests.entries, vec![0, 3], "r4 is about both");
        assert_eq!(eu.figures.notices_sent.entries, vec![5]);
        assert_eq!(us.figures.requests.entries, vec![1, 2, 3]);
        assert_eq!(us.figures.requests_with_data_produced.entries, vec![4]);

        let eu_bands = [("eu".to_owned(), true), ("us".to_owned(), false)];
        let report = published(&entries, &q, &eu_bands);
        assert!(report.figures.is_none());
        let [eu, us] = &report.regions[..] else {
            panic!("two regions: {:?}", report.regions);
        };
        assert!(eu.bands && eu.figures.requests.banded && eu.figures.requests.entries.is_empty());
        assert!(
            eu.figures.requests_by_country_basis.is_empty(),
            "no row says 'at least one'"
        );
        assert!(!us.bands && us.figures.requests.count == 3);
        // Entries that name no region count apart, banded if any region is.
        let legacy = entry(
            0,
            inside,
            "request.create",
            serde_json::json!({"basis": "subpoena"}),
        );
        let report = published(&[legacy], &q, &eu_bands);
        assert!(report.regions[2].region == UNRECORDED_REGION && report.regions[2].bands);
    }
}
