//! The rules of lawful requests, as pure functions over a request and a policy, so the
//! software (not the staff) enforces them and a property test can drive them at random.
//!
//! - the basis must be recognised by the policy of the targets' home region;
//! - each data category needs a minimum basis; content is not a category at all;
//! - the policy is checked again at approval and at disclosure (a target may have moved to
//!   a stricter region, or the region's policy changed, since the request was entered);
//! - two approvals by two different legal reviewers, neither one who entered or edited the
//!   request (its authors), both bound to the request's current hash (an edit voids them);
//! - an emergency needs one approval with an attestation, and a second review by a
//!   deadline, by a reviewer who neither wrote nor approved it, which may reject it even
//!   after the disclosure (a lateness is recorded when it falls due: see `review`);
//! - a preservation request needs one approval and discloses nothing.

use pli_proto::governance::{
    Approval, DataCategory, LegalBasis, NewRequest, RequestState, RequestView,
};
use sha2::{Digest, Sha256};

pub use crate::policy::{Policies, Policy};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{0}")]
    Invalid(String),
    #[error("refused by policy: {0}")]
    Refused(String),
    #[error("not possible in state {0}")]
    State(RequestState),
}

/// How strong a basis is, for the category minimums.
fn strength(basis: LegalBasis) -> u8 {
    match basis {
        LegalBasis::Preservation => 0,
        LegalBasis::Subpoena => 1,
        LegalBasis::CourtOrder | LegalBasis::Mlat | LegalBasis::Emergency => 2,
        LegalBasis::SearchWarrant => 3,
    }
}

/// The weakest basis that reaches a category: subscriber facts need a subpoena; anything
/// finer (device keys, IP data) a court order.
pub fn minimum_basis(category: DataCategory) -> LegalBasis {
    match category {
        DataCategory::Subscriber => LegalBasis::Subpoena,
        DataCategory::Devices | DataCategory::Ip => LegalBasis::CourtOrder,
    }
}

/// Whether a request on `basis` may name `category` (a preservation request may name
/// any: it preserves, and discloses nothing). What [`check_request`] enforces, for pages
/// that explain it.
pub fn reaches(basis: LegalBasis, category: DataCategory) -> bool {
    basis == LegalBasis::Preservation || strength(basis) >= strength(minimum_basis(category))
}

/// The hash approvals are bound to.
pub fn request_hash(request: &NewRequest) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(request).expect("a request always serialises"),
    ))
}

fn check_text(name: &str, value: &str, max: usize) -> Result<(), RuleError> {
    // Characters, as the message and the API description say, not bytes.
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(RuleError::Invalid(format!(
            "{name} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

/// Checks a new or edited request against the policy.
pub fn check_request(request: &NewRequest, policy: &Policy) -> Result<(), RuleError> {
    check_text("authority", &request.authority, 200)?;
    check_text("doc_ref", &request.doc_ref, 200)?;
    if request.country.len() != 2 || !request.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(RuleError::Invalid(
            "country must be an ISO 3166-1 alpha-2 code such as FR".into(),
        ));
    }
    if request.doc_sha256.len() != 64
        || !request
            .doc_sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(RuleError::Invalid(
            "doc_sha256 must be 64 lowercase hex digits".into(),
        ));
    }
    if request.targets.is_empty() || request.targets.len() > 100 {
        return Err(RuleError::Invalid(
            "a request names 1 to 100 target accounts".into(),
        ));
    }
    let mut targets = request.targets.clone();
    targets.sort();
    targets.dedup();
    if targets.len() != request.targets.len() {
        return Err(RuleError::Invalid("a target is named twice".into()));
    }
    if request.categories.is_empty() {
        return Err(RuleError::Invalid(
            "a request names at least one data category".into(),
        ));
    }
    for day in [&request.nondisclosure_until, &request.due]
        .into_iter()
        .flatten()
    {
        if pli_proto::governance::parse_day(day).is_none() {
            return Err(RuleError::Invalid("dates are written YYYY-MM-DD".into()));
        }
    }
    if !policy.recognised_bases.contains(&request.basis) {
        return Err(RuleError::Refused(format!(
            "the basis {} is not recognised in region {}",
            request.basis, policy.region
        )));
    }
    if request.categories.contains(&DataCategory::Ip) && !policy.keeps_ip() {
        return Err(RuleError::Refused(format!(
            "region {} keeps no IP addresses, so there is no ip data to request",
            policy.region
        )));
    }
    if request.basis != LegalBasis::Preservation {
        for category in &request.categories {
            let needed = minimum_basis(*category);
            if strength(request.basis) < strength(needed) {
                return Err(RuleError::Refused(format!(
                    "the {category} category needs at least a {needed}, not a {}",
                    request.basis
                )));
            }
        }
    }
    if request.basis == LegalBasis::Emergency
        && request
            .attestation
            .as_deref()
            .is_none_or(|a| a.trim().is_empty())
    {
        return Err(RuleError::Refused(
            "an emergency request needs a written attestation of an imminent threat of death or serious injury".into(),
        ));
    }
    Ok(())
}

/// Approvals that still count: bound to the current hash, from distinct reviewers, none of
/// them an author (who entered or edited the request).
pub fn valid_approvals(view: &RequestView) -> Vec<&Approval> {
    let mut seen = Vec::new();
    view.approvals
        .iter()
        .filter(|a| a.request_hash == view.hash && !view.authored_by(a.staff_id))
        .filter(|a| {
            let fresh = !seen.contains(&a.staff_id);
            seen.push(a.staff_id);
            fresh
        })
        .collect()
}

/// Approvals needed before anything can be disclosed or preserved.
pub fn approvals_needed(basis: LegalBasis) -> usize {
    match basis {
        LegalBasis::Emergency | LegalBasis::Preservation => 1,
        _ => 2,
    }
}

/// Records an approval by legal reviewer `staff_id` and moves the state on.
pub fn approve(
    view: &mut RequestView,
    staff_id: u64,
    now_ms: u64,
    policy: &Policy,
) -> Result<(), RuleError> {
    if !matches!(
        view.state,
        RequestState::Received
            | RequestState::InReview
            | RequestState::Approved
            | RequestState::Narrowed
            | RequestState::Disclosed
            | RequestState::Notified
    ) {
        return Err(RuleError::State(view.state));
    }
    if view.authored_by(staff_id) {
        return Err(RuleError::Refused(
            "a reviewer who entered or edited a request cannot approve it".into(),
        ));
    }
    // The targets' regions may have changed, or their policy, since the request was entered.
    check_request(&view.request, policy)?;
    if valid_approvals(view).iter().any(|a| a.staff_id == staff_id) {
        return Err(RuleError::Refused(
            "this reviewer has already approved this version".into(),
        ));
    }
    let already_approved = matches!(
        view.state,
        RequestState::Approved
            | RequestState::Narrowed
            | RequestState::Disclosed
            | RequestState::Notified
    );
    if already_approved && view.request.basis != LegalBasis::Emergency {
        return Err(RuleError::State(view.state));
    }
    view.approvals.push(Approval {
        staff_id,
        at_ms: now_ms,
        request_hash: view.hash.clone(),
    });
    let count = valid_approvals(view).len();
    if view.request.basis == LegalBasis::Emergency && count >= 2 {
        // The second review after an emergency approval: the deadline is met.
        view.second_review_due_ms = None;
        view.overdue = false;
    }
    if !already_approved {
        if count >= approvals_needed(view.request.basis) {
            view.state = if view.state == RequestState::InReview && view.narrowed() {
                RequestState::Narrowed
            } else {
                RequestState::Approved
            };
            if view.request.basis == LegalBasis::Emergency && count == 1 {
                view.second_review_due_ms = Some(now_ms + policy.emergency_review_ms);
            }
        } else {
            view.state = RequestState::InReview;
        }
    }
    Ok(())
}

/// Replaces the request's content (a correction, or narrowing its categories or targets).
/// Every approval given so far is void; the request goes back to review, and `editor`
/// becomes one of its authors, who may not approve it.
pub fn edit(
    view: &mut RequestView,
    editor: u64,
    request: NewRequest,
    policy: &Policy,
) -> Result<(), RuleError> {
    if !matches!(
        view.state,
        RequestState::Received
            | RequestState::InReview
            | RequestState::Approved
            | RequestState::Narrowed
    ) {
        return Err(RuleError::State(view.state));
    }
    check_request(&request, policy)?;
    let narrowing = request
        .categories
        .iter()
        .all(|c| view.request.categories.contains(c))
        && request
            .targets
            .iter()
            .all(|t| view.request.targets.contains(t))
        && request.basis == view.request.basis;
    view.hash = request_hash(&request);
    view.request = request;
    // Void even if the text is one approved before (an edit and its undoing): every version
    // is reviewed afresh. The audit log keeps every approval given.
    view.approvals.clear();
    if !view.authored_by(editor) {
        view.edited_by.push(editor);
    }
    view.state = if narrowing {
        RequestState::InReview
    } else {
        RequestState::Received
    };
    view.second_review_due_ms = None;
    view.overdue = false;
    view.narrowed_from = if narrowing {
        Some(view.narrowed_from.clone().unwrap_or_default())
    } else {
        None
    };
    Ok(())
}

/// Whether the request is an emergency disclosed on one approval whose second review is
/// still to come.
pub fn awaits_second_review(view: &RequestView) -> bool {
    view.request.basis == LegalBasis::Emergency
        && view.second_review_due_ms.is_some()
        && matches!(view.state, RequestState::Disclosed | RequestState::Notified)
}

/// Rejects a request before anything is disclosed; or, as the second review of an
/// emergency disclosed on one approval, after. That review is `reviewer`'s, who may be
/// neither an author nor the approver.
pub fn reject(view: &mut RequestView, reviewer: u64, reason: &str) -> Result<(), RuleError> {
    check_text("reason", reason, 2000)?;
    if awaits_second_review(view) {
        if view.authored_by(reviewer)
            || valid_approvals(view).iter().any(|a| a.staff_id == reviewer)
        {
            return Err(RuleError::Refused(
                "the second review of an emergency is by a reviewer who neither wrote nor approved it".into(),
            ));
        }
        view.second_review_due_ms = None;
        view.overdue = false;
    } else if !matches!(
        view.state,
        RequestState::Received
            | RequestState::InReview
            | RequestState::Approved
            | RequestState::Narrowed
    ) {
        return Err(RuleError::State(view.state));
    }
    view.state = RequestState::Rejected;
    view.rejection_reason = Some(reason.to_owned());
    Ok(())
}

/// Whether the rejection came after data was disclosed (an emergency's second review).
pub fn rejected_after_disclosure(view: &RequestView) -> bool {
    view.state == RequestState::Rejected && view.package_sha256.is_some()
}

/// Whether the request may be disclosed now, under the targets' policy as it stands.
pub fn check_disclose(view: &RequestView, policy: &Policy) -> Result<(), RuleError> {
    if view.request.basis == LegalBasis::Preservation {
        return Err(RuleError::Refused(
            "a preservation request preserves; it discloses nothing".into(),
        ));
    }
    if !matches!(view.state, RequestState::Approved | RequestState::Narrowed) {
        return Err(RuleError::State(view.state));
    }
    if valid_approvals(view).len() < approvals_needed(view.request.basis) {
        return Err(RuleError::Refused("not enough valid approvals".into()));
    }
    check_request(&view.request, policy)
}

pub fn close(view: &mut RequestView) -> Result<(), RuleError> {
    if !matches!(
        view.state,
        RequestState::Rejected
            | RequestState::Disclosed
            | RequestState::Notified
            | RequestState::Approved
    ) {
        return Err(RuleError::State(view.state));
    }
    view.state = RequestState::Closed;
    Ok(())
}

/// Whether an emergency's second review has just fallen overdue: its deadline passed and
/// the lateness is not yet recorded.
pub fn falls_overdue(view: &RequestView, now_ms: u64) -> bool {
    !view.overdue && view.second_review_due_ms.is_some_and(|due| now_ms > due)
}

#[cfg(test)]
mod tests;
