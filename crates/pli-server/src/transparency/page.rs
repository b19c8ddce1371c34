//! The pages: the index of every report made, and one report, region by region, each set
//! of figures as a chart and as a table. maud escapes every text it writes.

use super::chart::{self, Bar, Value};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use pli_proto::abuse::{ActionKind, AppealOutcome, ReportReason};
use pli_proto::report::{BAND_BELOW, Figure, Figures, Report, UNRECORDED_REGION};

/// How a page gets its style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// In a `<style>` element: a file that must stand alone (`pli admin report`).
    Inline,
    /// From [`super::paths::STYLE_PATH`]: the server's pages, whose CSP allows no inline style.
    Linked,
}

/// A whole page around `body`.
fn shell(title: &str, styling: Style, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) }
                @match styling {
                    Style::Inline => style { (PreEscaped(super::paths::STYLE)) },
                    Style::Linked => link rel="stylesheet" href=(super::paths::STYLE_PATH);,
                }
            }
            body {
                main { (body) }
            }
        }
    }
}

/// A day, `2026-11-23`, from milliseconds since the Unix epoch (UTC).
fn day(ms: u64) -> String {
    let (year, month, day) = pli_proto::governance::civil_from_days((ms / 86_400_000) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// An instant to the minute, `2026-11-23 14:05 UTC`.
fn instant(ms: u64) -> String {
    let minutes = (ms % 86_400_000) / 60_000;
    format!("{} {:02}:{:02} UTC", day(ms), minutes / 60, minutes % 60)
}

/// The days a report's period covers, both included.
fn span(report: &Report) -> String {
    let last = report.period.end_ms.saturating_sub(86_400_000);
    format!("{} to {}", day(report.period.start_ms), day(last))
}

/// A figure as published: a band when it is banded or its region's policy bands it.
fn value(figure: &Figure, bands: bool) -> Value {
    if figure.banded || (bands && figure.count < BAND_BELOW) {
        Value::Band
    } else {
        Value::Exact(figure.count)
    }
}

/// Every figure of a set, with the words the page names it by.
fn rows(f: &Figures) -> [(&'static str, &Figure); 10] {
    [
        ("Requests received", &f.requests),
        ("Accounts specified", &f.accounts_specified),
        (
            "Requests where some data was produced",
            &f.requests_with_data_produced,
        ),
        ("Requests rejected", &f.rejected),
        ("Emergency requests", &f.emergency),
        (
            "Emergency disclosures rejected by their second review",
            &f.emergency_rejected_after_disclosure,
        ),
        (
            "Emergency second reviews overdue",
            &f.emergency_reviews_overdue,
        ),
        ("Preservation requests", &f.preservation),
        ("Notices sent to users", &f.notices_sent),
        (
            "Notices delayed by non-disclosure orders",
            &f.notices_delayed,
        ),
    ]
}

/// One table row: the figure, as published, and the log entries it counts (none for a
/// band: they would give its count away).
fn row(label: &str, figure: &Figure, bands: bool) -> Markup {
    let shown = value(figure, bands);
    let entries: Vec<String> = match shown {
        Value::Band => Vec::new(),
        Value::Exact(_) => figure.entries.iter().map(u64::to_string).collect(),
    };
    html! {
        tr {
            th scope="row" { (label) }
            td { (shown.text()) }
            td class="trace" { (entries.join(", ")) }
        }
    }
}

/// One set of figures: a chart, the same figures as a table, then requests by country and
/// legal basis.
fn figures(heading: &str, f: &Figures, bands: bool) -> Markup {
    let bars: Vec<Bar> = rows(f)
        .iter()
        .map(|(label, figure)| Bar {
            label: (*label).to_owned(),
            value: value(figure, bands),
        })
        .collect();
    let share = (f.requests.count > 0 && value(&f.requests, bands) != Value::Band)
        .then(|| 100 * f.requests_with_data_produced.count / f.requests.count);
    html! {
        (chart::bars(heading, &bars))
        table class="figures" {
            caption { (heading) ": every figure" }
            thead { tr { th scope="col" { "Figure" } th scope="col" { "Count" } th scope="col" { "Audit log entries" } } }
            tbody {
                @for (label, figure) in rows(f) { (row(label, figure, bands)) }
                @if let Some(share) = share {
                    tr {
                        th scope="row" { "Share of requests where some data was produced" }
                        td { (share) "%" }
                        td class="trace" {}
                    }
                }
            }
        }
        (abuse(heading, f, bands))
        @if !f.requests_by_country_basis.is_empty() {
            table class="figures" {
                caption { (heading) ": requests by country and legal basis" }
                thead { tr { th scope="col" { "Country / legal basis" } th scope="col" { "Count" } th scope="col" { "Audit log entries" } } }
                tbody {
                    @for (key, figure) in &f.requests_by_country_basis { (row(key, figure, bands)) }
                }
            }
        }
    }
}

/// Abuse reports received by reason, trust & safety actions by kind, appeals and their
/// outcomes: every reason, kind and outcome gets a row, counted or not.
fn abuse(heading: &str, f: &Figures, bands: bool) -> Markup {
    let none = Figure::default();
    let of = |breakdown: &std::collections::BTreeMap<String, Figure>, key: &str| {
        breakdown.get(key).cloned().unwrap_or_else(|| none.clone())
    };
    let mut rows: Vec<(String, Figure)> = Vec::new();
    for reason in ReportReason::ALL {
        let label = format!("Abuse reports received: {reason}");
        rows.push((label, of(&f.abuse_reports_by_reason, reason.as_str())));
    }
    for kind in ActionKind::ALL {
        let label = format!("Trust & safety actions: {kind}");
        rows.push((label, of(&f.abuse_actions_by_kind, kind.as_str())));
    }
    rows.push(("Appeals of those actions".to_owned(), f.appeals.clone()));
    for outcome in AppealOutcome::ALL {
        let label = format!("Appeals decided: {outcome}");
        rows.push((label, of(&f.appeal_outcomes, outcome.as_str())));
    }
    html! {
        table class="figures" {
            caption { (heading) ": abuse reports and trust & safety" }
            thead { tr { th scope="col" { "Figure" } th scope="col" { "Count" } th scope="col" { "Audit log entries" } } }
            tbody {
                @for (label, figure) in &rows { (row(label, figure, bands)) }
            }
        }
    }
}

/// How a region is named in a heading.
fn region_title(region: &str) -> String {
    if region == UNRECORDED_REGION {
        "Requests logged before requests named their region".to_owned()
    } else if region.contains('+') {
        format!("Requests about accounts of several regions ({region})")
    } else {
        format!("Region {region}")
    }
}

/// How a region is named in a chart row or a table cell.
fn region_short(region: &str) -> &str {
    if region == UNRECORDED_REGION {
        "unrecorded"
    } else {
        region
    }
}

/// One report: the deployment's figures when no region's are banded, then each region's;
/// then `verify` (the server's page) or the bare command (a file).
pub fn report(report: &Report, style: Style, verify: Option<Markup>) -> Markup {
    let title = format!("Transparency report {}", report.period.label);
    let body = html! {
        @if style == Style::Linked {
            p class="crumb" { a href=(super::paths::PATH) { "All transparency reports" } }
        }
        h1 { (title) }
        p class="lede" {
            (report.origin) ": lawful requests for users' data and what was done with them, and abuse reports and what trust & safety did about them, from "
            (span(report)) " (UTC)."
        }
        p {
            "Made " (instant(report.generated_ms)) ". Every figure is computed from the first "
            (report.log_size) " entries of the public audit log (root " code { (report.log_root) }
            "); the last column of each table lists the log entries a figure counts."
        }
        @match &report.figures {
            Some(total) => {
                section {
                    h2 { "All regions" }
                    (figures("All regions", total, false))
                }
            }
            None => {
                p class="note" {
                    "Some regions publish small counts as a band only, so no total across "
                    "regions is given: it would give their exact counts away."
                }
            }
        }
        @for region in &report.regions {
            section {
                @let heading = region_title(&region.region);
                h2 { (heading) }
                @if region.bands {
                    p class="note" {
                        "This region's policy publishes counts below " (BAND_BELOW)
                        " as the band " (Value::Band.text()) " only, and no breakdown by country."
                    }
                }
                (figures(&heading, &region.figures, region.bands))
            }
        }
        @match verify {
            Some(verify) => (verify),
            None => {
                p { "Check it: " code { "pli audit report --server URL --report report-" (report.period.label) ".json" } }
            }
        }
        p class="signature" {
            "This report's signature (Ed25519, by the log's key, base64): " code { (report.signature) }
        }
    };
    shell(&title, style, body)
}

/// A report as the index lists it.
pub struct Listed {
    /// The position of its `report.create` entry: its id.
    pub seq: u64,
    pub report: Report,
}

/// The regions a report gives figures for, as a list.
fn regions(report: &Report) -> String {
    let names: Vec<&str> = report
        .regions
        .iter()
        .map(|r| region_short(&r.region))
        .collect();
    names.join(", ")
}

/// The index: requests received period by period (each period's newest report), every
/// report made (newest first), then `verify`.
pub fn index(origin: &str, listed: &[Listed], verify: Markup) -> Markup {
    let mut newest: Vec<&Report> = Vec::new();
    for item in listed {
        if !newest.iter().any(|r| r.period == item.report.period) {
            newest.push(&item.report);
        }
    }
    newest.sort_by_key(|r| r.period.start_ms);
    let per_region: Vec<(&str, &str, Value, Value)> = newest
        .iter()
        .flat_map(|r| {
            r.regions.iter().map(|region| {
                (
                    r.period.label.as_str(),
                    region_short(&region.region),
                    value(&region.figures.requests, region.bands),
                    value(&region.figures.requests_with_data_produced, region.bands),
                )
            })
        })
        .collect();
    let bars: Vec<Bar> = per_region
        .iter()
        .map(|(period, region, requests, _)| Bar {
            label: format!("{period} \u{b7} region {region}"),
            value: *requests,
        })
        .collect();
    let body = html! {
        h1 { "Transparency reports" }
        p class="lede" {
            (origin) " publishes how many lawful requests for its users' data it received, "
            "and what it did with them. Every figure is computed from the public audit log of "
            "staff actions, so you can check each one yourself."
        }
        @if listed.is_empty() {
            p class="note" { "No report has been made yet." }
        } @else {
            section {
                h2 { "Requests received, period by period" }
                p { "Each period's newest report, region by region. Where a region's policy says "
                    "so, small counts are shown as the band " (Value::Band.text()) " only." }
                (chart::bars("Requests received, period by period, per region", &bars))
                table {
                    caption { "Requests received, period by period, per region" }
                    thead { tr {
                        th scope="col" { "Period" } th scope="col" { "Region" }
                        th scope="col" { "Requests received" }
                        th scope="col" { "Requests where some data was produced" }
                    } }
                    tbody {
                        @for (period, region, requests, produced) in &per_region {
                            tr {
                                th scope="row" { (period) } td { (region) }
                                td class="count" { (requests.text()) } td class="count" { (produced.text()) }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Every report" }
                table class="reports" {
                    caption { "Every report made, newest first" }
                    thead { tr {
                        th scope="col" { "Report" } th scope="col" { "Covers (UTC)" }
                        th scope="col" { "Made" } th scope="col" { "Log entries" }
                        th scope="col" { "Regions" }
                    } }
                    tbody {
                        @for item in listed {
                            tr {
                                th scope="row" {
                                    a href=(super::paths::report_path(item.seq)) { (item.report.period.label) }
                                }
                                td { (span(&item.report)) }
                                td { (instant(item.report.generated_ms)) }
                                td class="count" { (item.report.log_size) }
                                td { (regions(&item.report)) }
                            }
                        }
                    }
                }
            }
        }
        (verify)
    };
    shell("Transparency reports", Style::Linked, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_instants_are_utc() {
        // 2026-11-23 14:05 UTC.
        let ms = (pli_proto::governance::days_from_civil(2026, 11, 23) as u64) * 86_400_000
            + (14 * 60 + 5) * 60_000;
        assert_eq!(instant(ms), "2026-11-23 14:05 UTC");
    }

    #[test]
    fn a_banded_figure_shows_its_band_and_no_entries() {
        let figure = Figure {
            count: 3,
            entries: vec![4, 5, 6],
            banded: false,
        };
        let banded = row("x", &figure, true).into_string();
        assert!(banded.contains(">0\u{2013}9<"), "{banded}");
        assert!(banded.contains("<td class=\"trace\"></td>"), "{banded}");
        let exact = row("x", &figure, false).into_string();
        assert!(
            exact.contains(">3<") && exact.contains(">4, 5, 6<"),
            "{exact}"
        );
    }
}
