//! Region policy: what lawful requests may ask of a region's accounts, and how long the
//! region keeps their data. Configuration builds the policies ([`crate::Config::policies`]);
//! governance, retention and the published `GET /v1/policy` read them. A module of its
//! own, so that configuration and governance both use it and neither imports the other.

use pli_proto::Region;
use pli_proto::governance::LegalBasis;
use pli_proto::policy::RegionPolicy;

/// The region every account is in when no regions are configured.
pub const IMPLICIT_REGION: &str = "default";

/// A region's policy: what lawful requests may ask of its accounts, and how long its data
/// is kept. A request about accounts of several regions is held to the strictest of them
/// ([`Policy::strictest`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The region's name (names joined by `+` for a combined policy).
    pub region: String,
    pub recognised_bases: Vec<LegalBasis>,
    /// How long the region keeps connection IP addresses: `None` (the default) is never.
    pub ip_retention_days: Option<u32>,
    /// Queued messages older than this are deleted undelivered.
    pub queue_ttl_days: u32,
    /// How long a deleted account's inventory facts are kept.
    pub deleted_retention_days: u32,
    /// The operator's notes to the region's users, published as written.
    pub notes: String,
    pub emergency_review_ms: u64,
    pub preservation_ms: u64,
    /// Transparency reports publish the region's small counts as a band ("0–9") only.
    pub report_bands: bool,
    /// Abuse reports about the region's accounts are deleted this many days after filing.
    pub report_retention_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            region: IMPLICIT_REGION.into(),
            recognised_bases: LegalBasis::ALL.to_vec(),
            ip_retention_days: None,
            queue_ttl_days: 30,
            deleted_retention_days: 0,
            notes: String::new(),
            emergency_review_ms: 48 * 3_600_000,
            preservation_ms: 90 * 86_400_000,
            report_bands: true,
            report_retention_days: pli_proto::policy::DEFAULT_REPORT_RETENTION_DAYS,
        }
    }
}

/// Every region's policy, by name, and which one is the default.
#[derive(Clone, Debug)]
pub struct Policies {
    pub default_region: Region,
    pub by_region: std::collections::BTreeMap<Region, Policy>,
}

impl Policies {
    /// The region's policy; the default region's for `None` or a region not served.
    pub fn of(&self, region: Option<&Region>) -> &Policy {
        region
            .and_then(|r| self.by_region.get(r))
            .or_else(|| self.by_region.get(&self.default_region))
            .expect("the default region is always served")
    }

    /// Each served region's name and whether its reports publish bands, as
    /// [`pli_proto::report::published`] takes them.
    pub fn report_bands(&self) -> Vec<(String, bool)> {
        self.by_region
            .iter()
            .map(|(region, policy)| (region.to_string(), policy.report_bands))
            .collect()
    }
}

impl Policy {
    /// The default policy, for the named region.
    pub fn for_region(region: &Region) -> Self {
        Self {
            region: region.to_string(),
            ..Self::default()
        }
    }

    /// Whether the region keeps connection IP addresses at all.
    pub fn keeps_ip(&self) -> bool {
        self.ip_retention_days.is_some_and(|days| days > 0)
    }

    /// What every one of `policies` allows: the bases all recognise, IP data only if all
    /// keep it, the shortest deadlines. `None` for no policies.
    pub fn strictest<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Option<Policy> {
        policies.into_iter().cloned().reduce(|mut all, next| {
            if !all.region.split('+').any(|r| r == next.region) {
                all.region = format!("{}+{}", all.region, next.region);
            }
            all.recognised_bases
                .retain(|basis| next.recognised_bases.contains(basis));
            all.ip_retention_days = match (all.ip_retention_days, next.ip_retention_days) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            };
            all.emergency_review_ms = all.emergency_review_ms.min(next.emergency_review_ms);
            all.preservation_ms = all.preservation_ms.min(next.preservation_ms);
            all.report_bands |= next.report_bands;
            all
        })
    }

    /// The policy as published to users (`GET /v1/policy`).
    pub fn published(&self, region: &Region) -> RegionPolicy {
        RegionPolicy {
            region: region.clone(),
            queue_ttl_days: self.queue_ttl_days,
            deleted_account_retention_days: self.deleted_retention_days,
            ip_retention_days: self.ip_retention_days.filter(|days| *days > 0),
            recognised_legal_bases: self.recognised_bases.clone(),
            notes: self.notes.clone(),
            report_bands: self.report_bands,
            report_retention_days: self.report_retention_days,
        }
    }
}
