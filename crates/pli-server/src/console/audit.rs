//! The auditors' pages: the audit log, a page at a time; one entry with its inclusion
//! proof under the newest checkpoint; the newest checkpoints with their witnesses'
//! cosignatures; and transparency reports. The log is public (anyone reads it at
//! `/v1/audit/…`), so reading it here changes nothing; a report is made by the admin API's
//! own handler, which records it.

use super::api::admin;
use super::error::ConsoleError;
use super::guard::Posted;
use super::state::Staff;
use super::views::layout::{self, Section, when};
use crate::http::admin::{StaffActor, staff as api};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::store::Store;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use pli_proto::audit::AuditEntry;
use pli_proto::governance::ReportRequest;
use pli_proto::merkle;
use serde::Deserialize;

const PAGE: u64 = 50;

#[derive(Deserialize)]
pub struct Start {
    from: Option<u64>,
}

fn entry_row(entry: &AuditEntry) -> Markup {
    html! {
        tr class={ "outcome-" (entry.outcome) } {
            td { a href={ "/console/audit/" (entry.seq) } { (entry.seq) } }
            td { (when(entry.time_ms)) }
            td { @if entry.staff_id == 0 { "server" } @else { "#" (entry.staff_id) " " span class="dim" { (entry.role) } } }
            td { code { (entry.action) } }
            td { span class={ "badge outcome-" (entry.outcome) } { (entry.outcome) } }
            td class="details" { code { (entry.details.to_string()) } }
        }
    }
}

pub async fn log<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
    Query(page): Query<Start>,
) -> Result<Markup, ConsoleError> {
    let size = state.store.audit_leaves().await?.len() as u64;
    let from = page.from.unwrap_or(size.saturating_sub(PAGE)).min(size);
    let raw = state.store.audit_entries(from, PAGE).await?;
    let entries: Vec<AuditEntry> = raw.iter().filter_map(|e| AuditEntry::decode(e)).collect();
    let body = html! {
        p { "The log holds " (size) " entries. Every staff action, refused ones included, is one entry; targets appear only as salted commitments. Anyone can verify it with " code { "pli audit" } "." }
        p { a href="/console/audit/checkpoints" { "Checkpoints and witnesses" } }
        nav aria-label="Pages of the log" class="pager" {
            @if from > 0 { a href={ "/console/audit?from=" (from.saturating_sub(PAGE)) } { "← Older" } }
            span { "Entries " (from) "–" ((from + entries.len() as u64).saturating_sub(1)) }
            @if from + PAGE < size { a href={ "/console/audit?from=" (from + PAGE) } { "Newer →" } }
        }
        table class="list log" {
            caption class="visually-hidden" { "Audit log entries, oldest first" }
            thead { tr { th scope="col" { "#" } th scope="col" { "Time" } th scope="col" { "Staff" } th scope="col" { "Action" } th scope="col" { "Outcome" } th scope="col" { "Details" } } }
            tbody { @for entry in &entries { (entry_row(entry)) } }
        }
    };
    Ok(layout::page("Audit log", &staff, Section::Audit, body))
}

/// The newest checkpoint, with its cosignature lines, or `None` for an empty log.
async fn newest_checkpoint<S: Store>(
    state: &AppState<S>,
    size: u64,
) -> Result<Option<String>, ConsoleError> {
    if size == 0 {
        return Ok(None);
    }
    let mut note = state.store.audit_checkpoints(size, 1).await?.pop();
    if let Some(note) = note.as_mut() {
        for (_, line) in state.store.audit_cosignatures(size, size).await? {
            note.push_str(&line);
            note.push('\n');
        }
    }
    Ok(note)
}

pub async fn entry<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
    Path(seq): Path<u64>,
) -> Result<Markup, ConsoleError> {
    let leaves = state.store.audit_leaves().await?;
    let size = leaves.len() as u64;
    let raw = state
        .store
        .audit_entries(seq, 1)
        .await?
        .pop()
        .filter(|_| seq < size)
        .ok_or_else(|| {
            ConsoleError::Api(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                pli_proto::ErrorCode::NotFound,
                "no entry at that position",
            ))
        })?;
    let proof = merkle::inclusion_proof(&leaves, seq as usize);
    let checkpoint = newest_checkpoint(&state, size).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let body = html! {
        h2 { "The entry, as logged" }
        pre class="mono wrap" { (text) }
        dl class="fields" {
            dt { "Leaf hash" } dd { code class="mono" { (hex::encode(leaves[seq as usize])) } }
            dt { "Log size" } dd { (size) }
            dt { "Root" } dd { code class="mono" { (hex::encode(merkle::root(&leaves))) } }
        }
        h2 { "Inclusion proof (RFC 6962), under the newest checkpoint" }
        @if proof.is_empty() { p { "The log has one entry: its leaf is the root." } }
        ol class="proof" { @for hash in &proof { li { code class="mono" { (hex::encode(hash)) } } } }
        @if let Some(note) = checkpoint {
            h2 { "The checkpoint it is proved against" }
            pre class="mono wrap" { (note) }
        }
        p { "Check it yourself: " code { "pli audit" } " fetches the same proof from " code { "/v1/audit/inclusion?index=" (seq) "&size=" (size) } "." }
    };
    Ok(layout::page(
        &format!("Audit entry {seq}"),
        &staff,
        Section::Audit,
        body,
    ))
}

pub async fn checkpoints<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
) -> Result<Markup, ConsoleError> {
    let size = state.store.audit_leaves().await?.len() as u64;
    let first = size.saturating_sub(4).max(1);
    let mut notes = state
        .store
        .audit_checkpoints(first, size + 1 - first)
        .await?;
    let cosignatures = state.store.audit_cosignatures(first, size).await?;
    for (at, note) in notes.iter_mut().enumerate() {
        for (_, line) in cosignatures.iter().filter(|(s, _)| *s == first + at as u64) {
            note.push_str(line);
            note.push('\n');
        }
    }
    let key = state.governance.log_key();
    let body = html! {
        p { "Each log size has a checkpoint signed by the server; witnesses add their cosignature lines below the server's." }
        dl class="fields" {
            dt { "Log name" } dd { code { (key.name) } }
            dt { "Public key" } dd { code class="mono" { (hex::encode(key.key.to_bytes())) } }
        }
        @if notes.is_empty() { p class="empty" { "The log is empty." } }
        @for (at, note) in notes.iter().enumerate().rev() {
            h2 { "Size " (first + at as u64) }
            pre class="mono wrap" { (note) }
        }
    };
    Ok(layout::page(
        "Checkpoints and witnesses",
        &staff,
        Section::Audit,
        body,
    ))
}

pub async fn reports_page(staff: Staff) -> Markup {
    report_page(&staff, None)
}

fn report_page(staff: &Staff, report: Option<&str>) -> Markup {
    let body = html! {
        p { "A transparency report counts the requests of a quarter or a half-year from the audit log, signed with the log's key; anyone can recompute it from the log (" code { "pli audit" } ")." }
        form method="post" action="/console/reports" class="stacked inline-form" {
            (layout::csrf(staff))
            label for="period" { "Period (e.g. 2026-Q4 or 2026-H2)" }
            input id="period" name="period" required pattern="[0-9]{4}-(Q[1-4]|H[12])";
            div class="buttons" {
                button type="submit" name="format" value="page" class="primary" { "Make the report" }
                button type="submit" name="format" value="json" { "Make and download as JSON" }
            }
        }
        @if let Some(report) = report {
            h2 { "The signed report" }
            pre class="mono wrap" { (report) }
        }
    };
    layout::page("Transparency reports", staff, Section::Reports, body)
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    format: String,
}

pub async fn report<S: Store>(
    State(state): State<AppState<S>>,
    Posted(staff, form): Posted<ReportForm>,
) -> Result<Response, ConsoleError> {
    let body = ApiJson(ReportRequest {
        period: form.period.trim().to_owned(),
    });
    let call = api::report(State(state.clone()), StaffActor(staff.actor), body);
    let report = admin(&state, staff.actor, "report.create", call).await?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| ApiError::internal(&e))?;
    if form.format == "json" {
        let safe: String = form
            .period
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let name = format!("attachment; filename=\"pli-report-{safe}.json\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            json,
        )
            .into_response());
    }
    Ok(report_page(&staff, Some(&json)).into_response())
}
