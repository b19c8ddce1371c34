//! Transparency reports: computed from the audit log only, signed, and rendered as a
//! self-contained HTML page.

use super::{Governance, GovernanceError};
use crate::store::Store;
use pli_proto::audit::AuditEntry;
use pli_proto::merkle;
use pli_proto::report::{Figure, Figures, Period, Report, UNRECORDED_REGION, published};

/// Reads the whole audit log (in pages) as entries and leaf hashes.
pub async fn read_log<S: Store>(store: &S) -> Result<Vec<Vec<u8>>, GovernanceError> {
    const PAGE: u64 = 5_000;
    let mut entries = Vec::new();
    loop {
        let page = store.audit_entries(entries.len() as u64, PAGE).await?;
        let done = (page.len() as u64) < PAGE;
        entries.extend(page);
        if done {
            return Ok(entries);
        }
    }
}

/// Builds and signs the report for `period` from the log as it stands.
pub async fn build<S: Store>(
    governance: &Governance,
    store: &S,
    period: Period,
    now_ms: u64,
) -> Result<Report, GovernanceError> {
    let raw = read_log(store).await?;
    let leaves: Vec<_> = raw.iter().map(|e| merkle::leaf_hash(e)).collect();
    let entries: Vec<AuditEntry> = raw.iter().filter_map(|e| AuditEntry::decode(e)).collect();
    let figures = published(&entries, &period, &governance.policies.report_bands());
    let mut report = Report {
        origin: governance.origin().to_owned(),
        figures: figures.figures,
        regions: figures.regions,
        period,
        log_size: leaves.len() as u64,
        log_root: hex::encode(merkle::root(&leaves)),
        generated_ms: now_ms,
        signature: String::new(),
    };
    report.sign(governance.signing_key());
    Ok(report)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn row(label: &str, figure: &Figure, bands: bool) -> String {
    let entries: Vec<String> = figure.entries.iter().map(u64::to_string).collect();
    format!(
        "<tr><th>{}</th><td>{}</td><td class=\"trace\">{}</td></tr>\n",
        escape(label),
        escape(&figure.shown(bands)),
        escape(&entries.join(", "))
    )
}

/// One set of figures as a table, then its requests by country and basis.
fn tables(f: &Figures, b: bool) -> String {
    let mut rows = String::new();
    rows += &row("Requests received", &f.requests, b);
    rows += &row("Accounts specified", &f.accounts_specified, b);
    rows += &row(
        "Requests where some data was produced",
        &f.requests_with_data_produced,
        b,
    );
    if f.requests.count > 0 && !(b && f.requests.count < pli_proto::report::BAND_BELOW) {
        let share = 100 * f.requests_with_data_produced.count / f.requests.count;
        rows += &format!(
            "<tr><th>Share of requests where some data was produced</th><td>{share}%</td><td></td></tr>\n"
        );
    }
    rows += &row("Requests rejected", &f.rejected, b);
    rows += &row("Emergency requests", &f.emergency, b);
    rows += &row(
        "Emergency disclosures rejected by their second review",
        &f.emergency_rejected_after_disclosure,
        b,
    );
    rows += &row(
        "Emergency second reviews overdue",
        &f.emergency_reviews_overdue,
        b,
    );
    rows += &row("Preservation requests", &f.preservation, b);
    rows += &row("Notices sent to users", &f.notices_sent, b);
    rows += &row(
        "Notices delayed by non-disclosure orders",
        &f.notices_delayed,
        b,
    );
    let mut by_country = String::new();
    for (key, figure) in &f.requests_by_country_basis {
        by_country += &row(key, figure, b);
    }
    if !by_country.is_empty() {
        by_country = format!(
            "<table><tr><th>Requests by country / legal basis</th><th>Count</th><th>Audit log entries</th></tr>\n{by_country}</table>\n"
        );
    }
    format!(
        "<table><tr><th>Figure</th><th>Count</th><th>Audit log entries</th></tr>\n{rows}</table>\n{by_country}"
    )
}

/// How a region is named on the page.
fn region_title(region: &str) -> String {
    if region == UNRECORDED_REGION {
        "Requests logged before requests named their region".to_owned()
    } else if region.contains('+') {
        format!(
            "Requests about accounts of several regions ({})",
            escape(region)
        )
    } else {
        format!("Region {}", escape(region))
    }
}

/// A readable, self-contained page (no scripts, no external resources): the deployment's
/// figures when no region's are banded, then each region's.
pub fn html(report: &Report) -> String {
    let mut sections = String::new();
    match &report.figures {
        Some(total) => {
            sections += "<h2>All regions</h2>\n";
            sections += &tables(total, false);
        }
        None => {
            sections += "<p>Some regions publish small counts as a band only, so no total \
across regions is given: it would give their exact counts away.</p>\n";
        }
    }
    for region in &report.regions {
        sections += &format!("<h2>{}</h2>\n", region_title(&region.region));
        if region.bands {
            sections += &format!(
                "<p>This region's policy publishes counts below {} as the band 0\u{2013}{} only, \
and no breakdown by country.</p>\n",
                pli_proto::report::BAND_BELOW,
                pli_proto::report::BAND_BELOW - 1
            );
        }
        sections += &tables(&region.figures, region.bands);
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Transparency report {period}</title>\n\
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}}\
table{{border-collapse:collapse;width:100%;margin:1rem 0}}th,td{{border-bottom:1px solid #ccc;padding:.4rem;text-align:left}}\
.trace{{color:#666;font-size:.8rem}}code{{word-break:break-all}}</style></head><body>\n\
<h1>Transparency report {period}</h1>\n<p>{origin}. Every figure is computed from the public audit log of size \
{size} with root <code>{root}</code>; the last column lists the log entries it counts.</p>\n\
{sections}\
<p>Signature (Ed25519, base64): <code>{signature}</code></p>\n<p>Check it: <code>pli audit report --server URL --report report.json</code></p>\n</body></html>\n",
        period = escape(&report.period.label),
        origin = escape(&report.origin),
        size = report.log_size,
        root = escape(&report.log_root),
        signature = escape(&report.signature),
    )
}
