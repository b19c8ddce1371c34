//! Each region's published policy (`GET /v1/policy`, `pli policy`): what the service does
//! with the data of accounts homed there, as figures a script can read and as plain
//! sentences a person can.

use crate::governance::LegalBasis;
use crate::ids::Region;
use serde::{Deserialize, Serialize};

/// One region's policy as published to users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionPolicy {
    /// The region this policy governs.
    pub region: Region,
    /// Messages not delivered within this many days are deleted unread.
    pub queue_ttl_days: u32,
    /// After an account is deleted, its inventory facts are kept this many days (0: none).
    pub deleted_account_retention_days: u32,
    /// Connection IP addresses: `null` means never kept; otherwise kept this many days.
    pub ip_retention_days: Option<u32>,
    /// The legal bases on which staff may act on a request about an account homed here.
    pub recognised_legal_bases: Vec<LegalBasis>,
    /// The operator's own notes to users (law that applies, contact), shown as written.
    pub notes: String,
    /// Transparency reports publish this region's small counts as a band ("0–9") only.
    #[serde(default)]
    pub report_bands: bool,
    /// Abuse reports about accounts homed here (with the reported messages' text) are
    /// deleted this many days after they were filed. Defaulted, so a policy published by an
    /// older server still reads.
    #[serde(default = "default_report_retention_days")]
    pub report_retention_days: u32,
}

/// How long abuse reports are kept where a policy does not say.
pub const DEFAULT_REPORT_RETENTION_DAYS: u32 = 365;

fn default_report_retention_days() -> u32 {
    DEFAULT_REPORT_RETENTION_DAYS
}

impl RegionPolicy {
    /// The policy in plain sentences, one per line, as `pli policy` prints it.
    pub fn plain_words(&self) -> Vec<String> {
        let days = |n: u32| {
            if n == 1 {
                "1 day".to_owned()
            } else {
                format!("{n} days")
            }
        };
        let mut lines = vec![
            format!(
                "Your account's data is stored in region {} and nowhere else.",
                self.region
            ),
            format!(
                "Messages not delivered to a device within {} are deleted unread.",
                days(self.queue_ttl_days)
            ),
        ];
        lines.push(match self.deleted_account_retention_days {
            0 => "When an account is deleted, nothing about it is kept.".to_owned(),
            n => format!(
                "When an account is deleted, its basic facts (name, dates, device keys) are kept for {}, then erased.",
                days(n)
            ),
        });
        lines.push(match self.ip_retention_days {
            None => "IP addresses are never stored.".to_owned(),
            Some(n) => format!("IP addresses of connections are kept for {}.", days(n)),
        });
        lines.push(format!(
            "Abuse reports about an account, with the text of the messages reported, are kept for {} after they are filed, then deleted.",
            days(self.report_retention_days)
        ));
        let bases: Vec<&str> = self
            .recognised_legal_bases
            .iter()
            .map(|b| b.as_str())
            .collect();
        lines.push(if bases.is_empty() {
            "No legal request is recognised: staff can disclose nothing.".to_owned()
        } else {
            format!(
                "Staff act only on these legal bases, after review: {}. Message content can never be disclosed: the service cannot read it.",
                bases.join(", ")
            )
        });
        if self.report_bands {
            lines.push(format!(
                "Transparency reports show this region's counts below {} as the range 0\u{2013}{}.",
                crate::report::BAND_BELOW,
                crate::report::BAND_BELOW - 1
            ));
        }
        if !self.notes.trim().is_empty() {
            lines.push(self.notes.trim().to_owned());
        }
        lines
    }
}

/// Every region of the server, and the one new accounts get when they name none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyResponse {
    /// The region of an account registered without naming one.
    pub default_region: Region,
    /// Every region the server serves.
    pub regions: Vec<RegionPolicy>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_without_a_report_retention_reads_with_the_default() {
        let json = r#"{"region":"eu","queue_ttl_days":30,"deleted_account_retention_days":0,
            "ip_retention_days":null,"recognised_legal_bases":[],"notes":""}"#;
        let policy: RegionPolicy = serde_json::from_str(json).expect("an older policy");
        assert_eq!(policy.report_retention_days, DEFAULT_REPORT_RETENTION_DAYS);
    }

    #[test]
    fn plain_words_state_each_figure() {
        let mut policy = RegionPolicy {
            region: Region::parse("eu").expect("region"),
            queue_ttl_days: 30,
            deleted_account_retention_days: 0,
            ip_retention_days: None,
            recognised_legal_bases: vec![LegalBasis::CourtOrder],
            notes: String::new(),
            report_bands: false,
            report_retention_days: 365,
        };
        let text = policy.plain_words().join("\n");
        assert!(text.contains("region eu"), "{text}");
        assert!(text.contains("within 30 days"), "{text}");
        assert!(text.contains("never stored"), "{text}");
        assert!(text.contains("nothing about it is kept"), "{text}");
        assert!(text.contains("court-order"), "{text}");
        assert!(!text.contains("range 0"), "{text}");
        assert!(text.contains("reports about an account"), "{text}");
        assert!(
            text.contains("kept for 365 days after they are filed"),
            "{text}"
        );
        policy.ip_retention_days = Some(1);
        policy.deleted_account_retention_days = 180;
        policy.notes = "Operated under GDPR.".into();
        policy.report_bands = true;
        let text = policy.plain_words().join("\n");
        assert!(text.contains("below 10 as the range 0\u{2013}9"), "{text}");
        assert!(text.contains("kept for 1 day."), "{text}");
        assert!(text.contains("kept for 180 days"), "{text}");
        assert!(text.ends_with("Operated under GDPR."), "{text}");
    }
}
