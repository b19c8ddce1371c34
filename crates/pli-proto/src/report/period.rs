//! A report's period: a calendar quarter or half-year, in UTC.

use crate::governance::days_from_civil;
use serde::{Deserialize, Serialize};

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
