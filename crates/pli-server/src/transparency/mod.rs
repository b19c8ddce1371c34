//! The public transparency page (`GET /transparency` on the public listener): every report
//! staff made, as a readable page with SVG charts, and how to check it yourself.
//!
//! It adds no power and stores nothing: each report is rebuilt from the public audit log
//! (`governance::report::Log`), exactly as staff got it when the regions' policy is
//! unchanged, and the checkpoint and witness cosignatures shown are the ones
//! `/v1/audit/checkpoints` serves. The pages are plain HTML, with no script, no inline
//! style and nothing from elsewhere, served under a CSP that allows only this stylesheet
//! ([`CSP`]). They are not part of the OpenAPI description, which describes the JSON API.
//!
//! - [`checkpoint`]: the log's newest checkpoint and what each listed witness co-signed.
//! - [`page`]: the index and report pages (maud, so every text is escaped).
//! - [`chart`]: the inline SVG bar charts.
//! - [`verify`]: the "Verify it yourself" section: commands, checkpoint, witnesses.
//! - [`paths`]: where the pages are, and their CSP; [`error`]: why one cannot be shown.

pub mod chart;
pub mod checkpoint;
pub mod error;
pub mod page;
pub mod paths;
pub mod verify;

pub use error::TransparencyError;
pub use paths::{CSP, PATH, STYLE, STYLE_PATH, report_json_path, report_path};
