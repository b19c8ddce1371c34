//! What operators publish on demand: a transparency report for a period (`pli admin
//! report`, JSON and HTML) and a key directory epoch (`pli admin directory publish`).

use crate::cmd::admin::credentials::client;
use crate::context::Context;
use pli_proto::governance::ReportRequest;
use std::path::Path;

#[derive(clap::Subcommand)]
pub(super) enum DirectoryCommand {
    /// Publish every pending device change now.
    Publish,
}

/// `pli admin report`: the report for `period`, written to `out` as JSON and HTML; prints
/// both paths.
pub(super) async fn report(
    context: &Context,
    cred: Option<&Path>,
    period: String,
    out: &Path,
) -> anyhow::Result<()> {
    let report: pli_proto::report::Report = client(context, cred)?
        .post("/admin/v1/reports", &ReportRequest { period })
        .await?;
    std::fs::create_dir_all(out)?;
    let json_path = out.join(format!("report-{}.json", report.period.label));
    let html_path = out.join(format!("report-{}.html", report.period.label));
    std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)?;
    std::fs::write(&html_path, pli_server::governance::report::html(&report))?;
    println!("{}\n{}", json_path.display(), html_path.display());
    Ok(())
}

pub(super) async fn directory(
    context: &Context,
    cred: Option<&Path>,
    command: DirectoryCommand,
) -> anyhow::Result<()> {
    let DirectoryCommand::Publish = command;
    let published: pli_proto::kt::PublishResponse = client(context, cred)?
        .post("/admin/v1/directory/publish", &serde_json::json!({}))
        .await?;
    if context.json {
        println!("{}", serde_json::to_string(&published)?);
    } else {
        println!(
            "key directory at epoch {}: {} user(s) changed in this publication",
            published.epoch, published.changes
        );
    }
    Ok(())
}
