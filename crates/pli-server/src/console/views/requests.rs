//! The lawful requests, as legal reviewers and auditors see them: the list with every
//! deadline (the authority's, the emergency's second review, the non-disclosure order's
//! end), and one request with its versions, the diff between them, who entered, edited and
//! approved it, what is still needed, and the actions the rules allow the reader now.

use super::diff;
use super::layout::{when, who};
use maud::{Markup, html};
use pli_proto::ErrorCode;
use pli_proto::governance::{RequestState, RequestView, StaffAlert};
use std::collections::HashMap;

pub type Names = HashMap<u64, String>;

fn state_badge(state: RequestState) -> Markup {
    html! { span class={ "badge state-" (state.as_str()) } { (state.as_str()) } }
}

/// The list, newest first, with the reader's overdue-review alerts above it.
pub fn list(views: &[RequestView], alerts: &[StaffAlert], can_create: bool) -> Markup {
    let open: Vec<&StaffAlert> = alerts.iter().filter(|a| a.open).collect();
    html! {
        @if !open.is_empty() {
            section class="alerts" aria-label="Alerts" {
                @for alert in open {
                    div class="alert" role="alert" {
                        "The second review of emergency request "
                        a href={ "/console/requests/" (alert.request_id) } { code { (alert.request_id) } }
                        " is overdue"
                        @if let Some(due) = alert.due_ms { " (it was due " (when(due)) ")" }
                        ". Review it now."
                    }
                }
            }
        }
        @if can_create {
            p { a class="button primary" href="/console/requests/new" { "Enter a new request" } }
        }
        @if views.is_empty() {
            p class="empty" { "No lawful request has been entered." }
        } @else {
            table class="list" {
                caption class="visually-hidden" { "Lawful requests, newest first" }
                thead { tr {
                    th scope="col" { "Request" }
                    th scope="col" { "State" }
                    th scope="col" { "Basis" }
                    th scope="col" { "Authority" }
                    th scope="col" { "Approvals" }
                    th scope="col" { "Deadlines" }
                } }
                tbody {
                    @for view in views.iter().rev() {
                        tr {
                            td { a href={ "/console/requests/" (view.id) } { code { (view.id) } } br; span class="dim" { (when(view.created_ms)) } }
                            td { (state_badge(view.state)) }
                            td { (view.request.basis.as_str()) }
                            td { (view.request.authority) " (" (view.request.country) ")" }
                            td { (crate::governance::rules::valid_approvals(view).len()) " of " (crate::governance::rules::approvals_needed(view.request.basis)) }
                            td { (deadlines(view)) }
                        }
                    }
                }
            }
        }
    }
}

fn deadlines(view: &RequestView) -> Markup {
    html! {
        ul class="deadlines" {
            @if let Some(due) = view.second_review_due_ms {
                li class=[view.overdue.then_some("overdue")] {
                    "Second review " @if view.overdue { strong { "overdue" } ", was due " } @else { "due " } (when(due))
                }
            }
            @if let Some(day) = &view.request.due { li { "Authority's deadline " (day) } }
            @if let Some(day) = &view.request.nondisclosure_until { li { "Non-disclosure order until " (day) } }
        }
    }
}

/// An action on the detail page: allowed (a form button), or refused by a rule for the
/// reader, with that rule's reason and stable code.
pub enum Action {
    Allowed,
    Refused {
        code: ErrorCode,
        reason: String,
    },
    /// The reader's role has no such action: not shown at all.
    NotForRole,
}

/// What the detail page may offer the reader.
pub struct Actions {
    pub approve: Action,
    pub reject: Action,
    pub edit: Action,
    pub disclose: Action,
    pub close: Action,
}

/// What the request still needs, in words, from its state and the two-person rule.
pub fn still_needed(view: &RequestView, names: &Names) -> Markup {
    use crate::governance::rules::{approvals_needed, awaits_second_review, valid_approvals};
    use pli_proto::governance::LegalBasis;
    let valid = valid_approvals(view);
    let mut authors: Vec<u64> = vec![view.entered_by];
    authors.extend(view.edited_by.iter().copied());
    let approvers: Vec<u64> = valid.iter().map(|a| a.staff_id).collect();
    let list = |ids: &[u64]| {
        html! {
            @for (i, id) in ids.iter().enumerate() {
                @if i > 0 { ", " }
                (who(*id, names))
            }
        }
    };
    let others = html! {
        "who neither wrote it (" (list(&authors)) ")"
        @if !approvers.is_empty() { " nor approved it already (" (list(&approvers)) ")" }
    };
    html! {
        @match view.state {
            RequestState::Received | RequestState::InReview => {
                @let missing = approvals_needed(view.request.basis).saturating_sub(valid.len());
                p { strong { "Still needed: " }
                    (missing) " more approval" @if missing != 1 { "s" }
                    " of this version, each by a legal reviewer " (others) "."
                    @if valid.len() == 1 && missing > 0 { " A second reviewer is required." }
                }
            }
            RequestState::Approved | RequestState::Narrowed => {
                @if view.request.basis == LegalBasis::Preservation {
                    p { strong { "Approved: " } "the accounts' data is held from expiry. A preservation discloses nothing; close it when the hold is no longer needed." }
                } @else {
                    p { strong { "Still needed: " } "the disclosure, by a legal reviewer. It produces the signed package once, and records its hash in the audit log." }
                }
            }
            RequestState::Disclosed | RequestState::Notified if awaits_second_review(view) => {
                p { strong { "Still needed: " } "the emergency's second review, by a legal reviewer " (others)
                    @if let Some(due) = view.second_review_due_ms { ", due " (when(due)) }
                    ". Approving confirms the disclosure; rejecting records it as unjustified." }
            }
            RequestState::Disclosed => {
                p { strong { "Disclosed. " } "The people named are told "
                    @if let Some(day) = &view.request.nondisclosure_until { "when the non-disclosure order ends (" (day) ")" } @else { "now" }
                    "." }
            }
            RequestState::Notified => { p { strong { "Disclosed, and the people named were told." } } }
            RequestState::Rejected => {
                p { strong { "Rejected: " } (view.rejection_reason.as_deref().unwrap_or("")) }
            }
            RequestState::Closed => { p { strong { "Closed." } } }
        }
    }
}

/// Who replaced a version, each once, in order: the one who entered it included (who
/// becomes no new author by editing, so `edited_by` leaves them out).
fn editors(view: &RequestView) -> Vec<u64> {
    let mut editors: Vec<u64> = Vec::new();
    for id in view
        .versions
        .iter()
        .map(|v| v.replaced_by)
        .chain(view.edited_by.iter().copied())
    {
        if !editors.contains(&id) {
            editors.push(id);
        }
    }
    editors
}

fn people(view: &RequestView, names: &Names) -> Markup {
    html! {
        dl class="people" {
            dt { "Entered by" } dd { (who(view.entered_by, names)) ", " (when(view.created_ms)) }
            dt { "Edited by" }
            dd {
                @let editors = editors(view);
                @if editors.is_empty() { "nobody" }
                @for (i, id) in editors.iter().enumerate() { @if i > 0 { ", " } (who(*id, names)) }
            }
            dt { "Approved by" }
            dd {
                @if view.approvals.is_empty() { "nobody yet" }
                @for (i, approval) in view.approvals.iter().enumerate() {
                    @if i > 0 { "; " }
                    (who(approval.staff_id, names)) ", " (when(approval.at_ms))
                    @if approval.request_hash != view.hash { " (of an earlier version: void)" }
                }
            }
        }
    }
}

fn fields(view: &RequestView) -> Markup {
    let r = &view.request;
    html! {
        dl class="fields" {
            dt { "Authority" } dd { (r.authority) " (" (r.country) ")" }
            dt { "Basis" } dd { (r.basis.as_str()) }
            dt { "Document" } dd { (r.doc_ref) br; code class="mono" { (r.doc_sha256) } }
            dt { "Targets" } dd { (r.targets.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")) }
            dt { "Categories" } dd { (r.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")) }
            dt { "Non-disclosure order" } dd { (r.nondisclosure_until.as_deref().unwrap_or("none")) }
            dt { "Authority's deadline" } dd { (r.due.as_deref().unwrap_or("none")) }
            @if let Some(attestation) = &r.attestation { dt { "Attestation" } dd { (attestation) } }
            dt { "Version hash" } dd { code class="mono" { (view.hash) } }
            @if let Some(sha) = &view.package_sha256 { dt { "Package SHA-256" } dd { code class="mono" { (sha) } } }
        }
    }
}

fn versions(view: &RequestView, names: &Names) -> Markup {
    html! {
        @if !view.versions.is_empty() {
            section aria-labelledby="versions-title" {
                h2 id="versions-title" { "Versions" }
                p { "This request has " (view.versions.len() + 1) " versions. Each edit is shown as lines removed and added." }
                @for (i, old) in view.versions.iter().enumerate().rev() {
                    @let new = view.versions.get(i + 1).map_or(&view.request, |v| &v.request);
                    details open[i + 1 == view.versions.len()] {
                        summary { "Version " (i + 1) " → version " (i + 2) ", edited by " (who(old.replaced_by, names)) ", " (when(old.replaced_ms)) }
                        (diff::diff(&old.request, new))
                    }
                }
            }
        }
    }
}

fn action_form(
    id: &str,
    path: &str,
    label: &str,
    csrf: &Markup,
    action: &Action,
    extra: Markup,
    class: &str,
) -> Markup {
    html! {
        @match action {
            Action::Allowed => {
                form method="post" action={ "/console/requests/" (id) "/" (path) } class="action" {
                    (csrf) (extra)
                    button type="submit" class=(class) { (label) }
                }
            }
            Action::Refused { code, reason } => {
                p class="refused-action" data-code=(code.as_str()) {
                    strong { (label) ": " } "not open to you — " (reason) " " code { (code.as_str()) }
                }
            }
            Action::NotForRole => {}
        }
    }
}

/// One request in full.
pub fn detail(
    view: &RequestView,
    names: &Names,
    actions: &Actions,
    csrf: &Markup,
    done: Option<&str>,
) -> Markup {
    html! {
        @if let Some(done) = done { p class="done" role="status" { (done) } }
        div class="summary" {
            p { "State: " (state_badge(view.state)) }
            (deadlines(view))
            div class="needed" aria-live="polite" { (still_needed(view, names)) }
        }
        div class="columns" {
            section aria-labelledby="request-title" {
                h2 id="request-title" { "The request" }
                (fields(view))
            }
            section aria-labelledby="people-title" {
                h2 id="people-title" { "Two-person rule" }
                (people(view, names))
                h2 { "Actions" }
                (action_form(&view.id, "approve", "Approve this version", csrf, &actions.approve, html! {}, "primary"))
                (action_form(&view.id, "disclose", "Disclose and download the signed package", csrf, &actions.disclose, html! {}, "primary"))
                @if matches!(actions.edit, Action::Allowed) {
                    p { a class="button" href={ "/console/requests/" (view.id) "/edit" } { "Edit (voids approvals)" } }
                }
                (action_form(&view.id, "reject", "Reject", csrf, &actions.reject, html! {
                    label for="reason" { "Reason for rejecting" }
                    textarea id="reason" name="reason" rows="2" required maxlength="2000" {}
                }, "danger"))
                (action_form(&view.id, "close", "Close", csrf, &actions.close, html! {}, "quiet"))
            }
        }
        (versions(view, names))
    }
}
