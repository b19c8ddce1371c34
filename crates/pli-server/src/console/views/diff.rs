//! A request's versions as lines of text, and the line diff between two of them (the
//! `similar` crate's Myers diff), so a reviewer sees exactly what an edit changed before
//! approving the version that stands.

use maud::{Markup, html};
use pli_proto::governance::NewRequest;
use similar::{ChangeTag, TextDiff};

/// One field a line, in a fixed order; list fields one item a line, so adding or removing
/// a target or a category is a line of its own.
pub fn lines(request: &NewRequest) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    };
    line("authority", &request.authority);
    line("country", &request.country);
    line("basis", request.basis.as_str());
    line("document reference", &request.doc_ref);
    line("document SHA-256", &request.doc_sha256);
    for target in &request.targets {
        line("target", target.as_str());
    }
    for category in &request.categories {
        line("category", category.as_str());
    }
    line(
        "non-disclosure until",
        request.nondisclosure_until.as_deref().unwrap_or("none"),
    );
    line("due", request.due.as_deref().unwrap_or("none"));
    line(
        "attestation",
        request.attestation.as_deref().unwrap_or("none").trim(),
    );
    out
}

/// The diff from `old` to `new`, one row per line, each marked as kept, removed or added.
pub fn diff(old: &NewRequest, new: &NewRequest) -> Markup {
    let (old, new) = (lines(old), lines(new));
    let diff = TextDiff::from_lines(&old, &new);
    html! {
        table class="diff" {
            caption class="visually-hidden" { "Lines removed (−) and added (+) by the edit" }
            thead { tr { th scope="col" { "Change" } th scope="col" { "Line" } } }
            tbody {
                @for change in diff.iter_all_changes() {
                    @let (class, mark, label) = match change.tag() {
                        ChangeTag::Delete => ("del", "−", "removed"),
                        ChangeTag::Insert => ("ins", "+", "added"),
                        ChangeTag::Equal => ("same", " ", "unchanged"),
                    };
                    tr class=(class) {
                        td class="mark" { span aria-hidden="true" { (mark) } span class="visually-hidden" { (label) } }
                        td { code { (change.value().trim_end_matches('\n')) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pli_proto::Username;
    use pli_proto::governance::{DataCategory, LegalBasis};

    #[test]
    fn an_edit_shows_as_removed_and_added_lines() {
        let old = NewRequest {
            authority: "Tribunal".into(),
            country: "FR".into(),
            basis: LegalBasis::CourtOrder,
            doc_ref: "RG 1".into(),
            doc_sha256: "ab".repeat(32),
            targets: vec![Username::parse("alice").expect("name")],
            categories: vec![DataCategory::Subscriber, DataCategory::Devices],
            nondisclosure_until: None,
            attestation: None,
            due: None,
        };
        let mut new = old.clone();
        new.categories = vec![DataCategory::Subscriber];
        let page = diff(&old, &new).into_string();
        assert!(page.contains(r#"<tr class="del"><td class="mark"><span aria-hidden="true">−</span><span class="visually-hidden">removed</span></td><td><code>category: devices</code>"#), "{page}");
        assert!(!page.contains(r#"class="ins""#), "nothing was added");
        assert_eq!(
            page.matches(r#"class="same""#).count(),
            lines(&new).lines().count()
        );
    }
}
