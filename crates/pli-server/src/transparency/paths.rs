//! Where the pages are, and the policy they are served under.

/// The index of reports.
pub const PATH: &str = "/transparency";
/// The one stylesheet the pages load.
pub const STYLE_PATH: &str = "/transparency/style.css";
/// The stylesheet itself.
pub const STYLE: &str = include_str!("style.css");
/// Nothing but this origin's stylesheet: no script, no frame, no form, no other origin.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Where one report is read, by the position of its `report.create` entry.
pub fn report_path(seq: u64) -> String {
    format!("{PATH}/{seq}")
}

/// Where one report's signed JSON is, for `pli audit report --report`.
pub fn report_json_path(seq: u64) -> String {
    format!("{PATH}/{seq}/report.json")
}
