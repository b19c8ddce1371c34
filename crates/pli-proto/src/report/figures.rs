//! The figures of a period, computed from the audit log by region, and banded where a
//! region's policy asks for it: what a published report carries, and what
//! `pli audit report` recomputes.

use super::period::Period;
use crate::audit::AuditEntry;
use crate::governance::LegalBasis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Counts below this are shown as a band when the policy asks for bands.
pub const BAND_BELOW: u64 = 10;

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
    /// Abuse reports received (`abuse.report`), by reason.
    #[serde(default)]
    pub abuse_reports_by_reason: BTreeMap<String, Figure>,
    /// Trust & safety actions on accounts (`abuse.action`), by kind: dismiss, warn,
    /// suspend, ban, reinstate.
    #[serde(default)]
    pub abuse_actions_by_kind: BTreeMap<String, Figure>,
    /// Appeals of those actions (`abuse.appeal`).
    #[serde(default)]
    pub appeals: Figure,
    /// Appeals decided (`abuse.appeal.decide`), by outcome: upheld or overturned.
    #[serde(default)]
    pub appeal_outcomes: BTreeMap<String, Figure>,
}

impl Figures {
    fn band(&mut self) {
        for figure in self.all_mut() {
            figure.band();
        }
        for breakdown in [
            &mut self.requests_by_country_basis,
            &mut self.abuse_reports_by_reason,
            &mut self.abuse_actions_by_kind,
            &mut self.appeal_outcomes,
        ] {
            breakdown.values_mut().for_each(Figure::band);
        }
    }

    fn all_mut(&mut self) -> [&mut Figure; 11] {
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
            &mut self.appeals,
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
const COUNTED: [&str; 10] = [
    "request.create",
    "request.reject",
    "request.overdue",
    "request.disclose",
    "notice.sent",
    "notice.delayed",
    "abuse.report",
    "abuse.action",
    "abuse.appeal",
    "abuse.appeal.decide",
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
        "abuse.report" => keyed(
            &mut figures.abuse_reports_by_reason,
            &details["reason"],
            entry.seq,
        ),
        "abuse.action" => keyed(
            &mut figures.abuse_actions_by_kind,
            &details["kind"],
            entry.seq,
        ),
        "abuse.appeal" => figures.appeals.add(1, entry.seq),
        "abuse.appeal.decide" => {
            keyed(&mut figures.appeal_outcomes, &details["outcome"], entry.seq)
        }
        "notice.sent" => figures.notices_sent.add(1, entry.seq),
        "notice.delayed" => figures.notices_delayed.add(1, entry.seq),
        _ => {}
    }
}

/// Counts entry `seq` under its `key` (a string detail; `?` if it has none).
fn keyed(breakdown: &mut BTreeMap<String, Figure>, key: &serde_json::Value, seq: u64) {
    let key = key.as_str().unwrap_or("?").to_owned();
    breakdown.entry(key).or_default().add(1, seq);
}
