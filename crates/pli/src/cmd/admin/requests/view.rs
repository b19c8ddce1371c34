//! A request as `pli admin request` prints it: a few lines, or its JSON.

use crate::output;
use pli_proto::governance::RequestView;

pub(super) fn show_request(view: &RequestView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(view)?);
    } else {
        let approvals: Vec<String> = view
            .approvals
            .iter()
            .filter(|a| a.request_hash == view.hash)
            .map(|a| a.staff_id.to_string())
            .collect();
        println!("request {} [{}]", view.id, view.state);
        let editors: Vec<String> = view.edited_by.iter().map(u64::to_string).collect();
        println!(
            "  entered by {}{}",
            view.entered_by,
            if editors.is_empty() {
                String::new()
            } else {
                format!(", edited by {}", editors.join(", "))
            }
        );
        println!(
            "  {} ({}), {} {}",
            view.request.authority, view.request.country, view.request.basis, view.request.doc_ref
        );
        let targets: Vec<String> = view
            .request
            .targets
            .iter()
            .map(|t| format!("@{t}"))
            .collect();
        let categories: Vec<&str> = view.request.categories.iter().map(|c| c.as_str()).collect();
        println!(
            "  targets: {}  data: {}",
            targets.join(" "),
            categories.join(",")
        );
        println!(
            "  approvals (current version): {}",
            if approvals.is_empty() {
                "none".into()
            } else {
                approvals.join(", ")
            }
        );
        if let Some(due) = view.second_review_due_ms {
            println!(
                "  second review due {}{}",
                output::timestamp(due),
                if view.overdue { " — OVERDUE" } else { "" }
            );
        }
        if let Some(reason) = &view.rejection_reason {
            println!("  rejected: {reason}");
        }
        if let Some(hash) = &view.package_sha256 {
            println!("  disclosed package sha256 {hash}");
        }
    }
    Ok(())
}
