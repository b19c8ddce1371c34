//! The rules' unit tests and the property test that drives them at random.

use super::*;
use pli_proto::Username;
use proptest::prelude::*;

fn new_request(basis: LegalBasis, categories: Vec<DataCategory>) -> NewRequest {
    NewRequest {
        authority: "Tribunal".into(),
        country: "FR".into(),
        basis,
        doc_ref: "RG 1".into(),
        doc_sha256: "ab".repeat(32),
        targets: vec![Username::parse("alice").expect("valid")],
        categories,
        nondisclosure_until: None,
        attestation: (basis == LegalBasis::Emergency).then(|| "threat".into()),
        due: None,
    }
}

fn view(request: NewRequest) -> RequestView {
    RequestView {
        id: "r".into(),
        state: RequestState::Received,
        hash: request_hash(&request),
        request,
        entered_by: 1,
        edited_by: vec![],
        created_ms: 0,
        approvals: vec![],
        second_review_due_ms: None,
        overdue: false,
        rejection_reason: None,
        package_sha256: None,
        narrowed_from: None,
        commitment_salt: String::new(),
        gag_salt: String::new(),
        versions: vec![],
    }
}

#[test]
fn categories_need_their_minimum_basis_and_policy_recognition() {
    let policy = Policy::default();
    assert!(
        check_request(
            &new_request(LegalBasis::Subpoena, vec![DataCategory::Subscriber]),
            &policy
        )
        .is_ok()
    );
    let err = check_request(
        &new_request(LegalBasis::Subpoena, vec![DataCategory::Devices]),
        &policy,
    )
    .expect_err("too weak");
    assert!(
        err.to_string()
            .contains("devices category needs at least a court-order"),
        "{err}"
    );
    let err = check_request(
        &new_request(LegalBasis::CourtOrder, vec![DataCategory::Ip]),
        &policy,
    )
    .expect_err("no ip");
    assert!(err.to_string().contains("keeps no IP"), "{err}");
    let strict = Policy {
        recognised_bases: vec![LegalBasis::CourtOrder],
        ..Policy::default()
    };
    let err = check_request(
        &new_request(LegalBasis::Subpoena, vec![DataCategory::Subscriber]),
        &strict,
    )
    .expect_err("unrecognised");
    assert!(
        err.to_string().contains("not recognised in region default"),
        "{err}"
    );
    let mut emergency = new_request(LegalBasis::Emergency, vec![DataCategory::Subscriber]);
    emergency.attestation = None;
    assert!(check_request(&emergency, &policy).is_err());
}

#[test]
fn an_edit_voids_approvals() {
    let policy = Policy::default();
    let mut v = view(new_request(
        LegalBasis::CourtOrder,
        vec![DataCategory::Subscriber, DataCategory::Devices],
    ));
    approve(&mut v, 2, 0, &policy).expect("first");
    approve(&mut v, 3, 0, &policy).expect("second");
    assert_eq!(v.state, RequestState::Approved);
    edit(
        &mut v,
        1,
        new_request(LegalBasis::CourtOrder, vec![DataCategory::Subscriber]),
        &policy,
    )
    .expect("narrow");
    assert!(
        check_disclose(&v, &policy).is_err(),
        "old approvals no longer count"
    );
    approve(&mut v, 2, 0, &policy).expect("again");
    approve(&mut v, 3, 0, &policy).expect("again");
    assert_eq!(v.state, RequestState::Narrowed);
    assert!(check_disclose(&v, &policy).is_ok());
}

#[test]
fn an_edit_back_to_an_approved_text_still_voids_its_approvals() {
    let policy = Policy::default();
    let wide = new_request(
        LegalBasis::CourtOrder,
        vec![DataCategory::Subscriber, DataCategory::Devices],
    );
    let narrow = new_request(LegalBasis::CourtOrder, vec![DataCategory::Subscriber]);
    let mut v = view(wide.clone());
    approve(&mut v, 2, 0, &policy).expect("first");
    edit(&mut v, 1, narrow, &policy).expect("narrow");
    edit(&mut v, 1, wide, &policy).expect("back");
    approve(&mut v, 3, 0, &policy).expect("one approval of this version");
    assert_eq!(v.state, RequestState::InReview, "{v:?}");
    assert!(check_disclose(&v, &policy).is_err());
}

#[test]
fn an_editor_cannot_approve_what_they_edited() {
    let policy = Policy::default();
    let mut v = view(new_request(
        LegalBasis::CourtOrder,
        vec![DataCategory::Subscriber],
    ));
    approve(&mut v, 2, 0, &policy).expect("a first reviewer");
    // Reviewer 3 rewrites the request into an emergency about more data...
    edit(
        &mut v,
        3,
        new_request(
            LegalBasis::Emergency,
            vec![DataCategory::Subscriber, DataCategory::Devices],
        ),
        &policy,
    )
    .expect("edit");
    // ...and may not be its single approver.
    let err = approve(&mut v, 3, 0, &policy).expect_err("an editor");
    assert!(matches!(err, RuleError::Refused(_)), "{err}");
    assert!(err.to_string().contains("entered or edited"), "{err}");
    // The one who entered it cannot either, nor does an approval smuggled into the record
    // by an author count.
    assert!(approve(&mut v, 1, 0, &policy).is_err());
    v.approvals.push(Approval {
        staff_id: 3,
        at_ms: 0,
        request_hash: v.hash.clone(),
    });
    assert!(valid_approvals(&v).is_empty());
    assert!(check_disclose(&v, &policy).is_err());
    // Someone who neither entered nor edited it can.
    approve(&mut v, 4, 0, &policy).expect("an independent reviewer");
    assert_eq!(valid_approvals(&v).len(), 1);
    assert!(check_disclose(&v, &policy).is_ok());
}

#[test]
fn the_policy_is_checked_again_at_approval_and_disclosure() {
    let policy = Policy::default();
    let strict = Policy {
        recognised_bases: vec![LegalBasis::CourtOrder],
        ..Policy::default()
    };
    let mut v = view(new_request(
        LegalBasis::Subpoena,
        vec![DataCategory::Subscriber],
    ));
    approve(&mut v, 2, 0, &policy).expect("first, under the old policy");
    let err = approve(&mut v, 3, 0, &strict).expect_err("the policy now refuses");
    assert!(err.to_string().contains("not recognised"), "{err}");
    assert_eq!(
        valid_approvals(&v).len(),
        1,
        "the refused approval is not kept"
    );
    approve(&mut v, 3, 0, &policy).expect("second, under the old policy");
    assert!(check_disclose(&v, &policy).is_ok());
    let err = check_disclose(&v, &strict).expect_err("refused now");
    assert!(err.to_string().contains("not recognised"), "{err}");
}

#[test]
fn emergency_needs_one_approval_then_a_timely_second_review() {
    let policy = Policy::default();
    let mut v = view(new_request(
        LegalBasis::Emergency,
        vec![DataCategory::Subscriber],
    ));
    approve(&mut v, 2, 1_000, &policy).expect("one reviewer");
    assert!(check_disclose(&v, &policy).is_ok());
    let due = 1_000 + policy.emergency_review_ms;
    assert!(!falls_overdue(&v, due), "due, not yet late");
    assert!(falls_overdue(&v, due + 1));
    v.overdue = true;
    assert!(!falls_overdue(&v, due + 2), "recorded once");
    approve(&mut v, 3, 2_000, &policy).expect("second review");
    assert!(!v.overdue && v.second_review_due_ms.is_none());
    assert!(!falls_overdue(&v, u64::MAX));
}

#[derive(Clone, Debug)]
enum Action {
    Approve(u64),
    /// An edit by this staff member, to the narrow text or the wide one.
    Edit(u64, bool),
    Disclose,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1u64..6).prop_map(Action::Approve),
        (1u64..6, any::<bool>()).prop_map(|(staff, narrow)| Action::Edit(staff, narrow)),
        Just(Action::Disclose),
    ]
}

/// What the rules promise, kept apart from the implementation's record: who wrote the
/// request (its enterer and every editor), which version it is at (each accepted edit makes
/// a new one, whatever its text), and who approved which version.
#[derive(Debug, Default)]
struct Oracle {
    authors: std::collections::BTreeSet<u64>,
    version: u32,
    approvals: Vec<(u64, u32)>,
}

impl Oracle {
    /// Reviewers whose approval of the version as it stands counts.
    fn independent_approvers(&self) -> std::collections::BTreeSet<u64> {
        self.approvals
            .iter()
            .filter(|(staff, version)| *version == self.version && !self.authors.contains(staff))
            .map(|(staff, _)| *staff)
            .collect()
    }
}

proptest! {
    /// Whatever staff do, nothing is disclosed without enough approvals (two, or one for an
    /// emergency) of the version as it stands, by distinct reviewers none of whom entered or
    /// edited it; and an author's approval is always refused.
    #[test]
    fn no_disclosure_without_independent_approvals_of_the_current_version(
        emergency in any::<bool>(),
        actions in proptest::collection::vec(action(), 0..30),
    ) {
        let policy = Policy::default();
        let basis = if emergency { LegalBasis::Emergency } else { LegalBasis::CourtOrder };
        let needed = if emergency { 1 } else { 2 };
        let wide = new_request(basis, vec![DataCategory::Subscriber, DataCategory::Devices]);
        let narrow = new_request(basis, vec![DataCategory::Subscriber]);
        let mut v = view(wide.clone());
        let mut oracle = Oracle { authors: [v.entered_by].into(), ..Oracle::default() };
        for action in actions {
            match action {
                Action::Approve(staff) => {
                    let approved = approve(&mut v, staff, 0, &policy);
                    if oracle.authors.contains(&staff) {
                        prop_assert!(approved.is_err(), "author {staff} approved");
                    }
                    if approved.is_ok() {
                        oracle.approvals.push((staff, oracle.version));
                    }
                }
                Action::Edit(staff, to_narrow) => {
                    let text = if to_narrow { narrow.clone() } else { wide.clone() };
                    if edit(&mut v, staff, text, &policy).is_ok() {
                        oracle.version += 1;
                        oracle.authors.insert(staff);
                    }
                }
                Action::Disclose => {
                    if check_disclose(&v, &policy).is_ok() {
                        let approvers = oracle.independent_approvers();
                        prop_assert!(
                            approvers.len() >= needed,
                            "disclosed with {approvers:?}, authors {:?}", oracle.authors
                        );
                        v.state = RequestState::Disclosed;
                    }
                }
            }
        }
    }
}
