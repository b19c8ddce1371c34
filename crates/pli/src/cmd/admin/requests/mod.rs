//! `pli admin request …`: lawful requests (enter, edit, review, disclose, close), and
//! `pli admin alerts`: the emergencies whose second review is overdue.

mod form;
mod view;

use crate::cmd::admin::credentials::{client, write_private};
use crate::context::Context;
use crate::output;
use pli_proto::governance::{RejectRequest, RequestView, StaffAlert};
use std::path::{Path, PathBuf};
use view::show_request;

#[derive(clap::Subcommand)]
pub(super) enum RequestCommand {
    /// Enter a request; prints its id.
    New(form::RequestFields),
    /// Replace a request's content (voids its approvals).
    Edit {
        id: String,
        #[command(flatten)]
        fields: form::RequestFields,
    },
    Show {
        id: String,
    },
    List,
    Approve {
        id: String,
    },
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Produce the signed disclosure package and write it to FILE.
    Disclose {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    Close {
        id: String,
    },
}

pub(super) async fn run(
    context: &Context,
    cred: Option<&Path>,
    command: RequestCommand,
) -> anyhow::Result<()> {
    // Check what was typed before touching the credential or the network.
    let body = match &command {
        RequestCommand::New(fields) | RequestCommand::Edit { fields, .. } => {
            Some(fields.clone().into_request()?)
        }
        _ => None,
    };
    let client = client(context, cred)?;
    let json = context.json;
    match command {
        RequestCommand::New(_) => {
            let view: RequestView = client.post("/admin/v1/requests", &body).await?;
            if json {
                show_request(&view, true)?
            } else {
                println!("{}", view.id)
            }
        }
        RequestCommand::Edit { id, .. } => {
            let view: RequestView = client
                .post(&format!("/admin/v1/requests/{id}/edit"), &body)
                .await?;
            show_request(&view, json)?;
        }
        RequestCommand::Show { id } => show_request(
            &client.get(&format!("/admin/v1/requests/{id}")).await?,
            json,
        )?,
        RequestCommand::List => {
            let views: Vec<RequestView> = client.get("/admin/v1/requests").await?;
            for view in views {
                show_request(&view, json)?;
            }
        }
        RequestCommand::Approve { id } => {
            let view: RequestView = client
                .post(
                    &format!("/admin/v1/requests/{id}/approve"),
                    &serde_json::json!({}),
                )
                .await?;
            show_request(&view, json)?;
        }
        RequestCommand::Reject { id, reason } => {
            let view: RequestView = client
                .post(
                    &format!("/admin/v1/requests/{id}/reject"),
                    &RejectRequest { reason },
                )
                .await?;
            show_request(&view, json)?;
        }
        RequestCommand::Disclose { id, out } => {
            let package: serde_json::Value = client
                .post(
                    &format!("/admin/v1/requests/{id}/disclose"),
                    &serde_json::json!({}),
                )
                .await?;
            write_private(&out, &serde_json::to_vec_pretty(&package)?)?;
            println!("{}", out.display());
        }
        RequestCommand::Close { id } => {
            let view: RequestView = client
                .post(
                    &format!("/admin/v1/requests/{id}/close"),
                    &serde_json::json!({}),
                )
                .await?;
            show_request(&view, json)?;
        }
    }
    Ok(())
}

/// `pli admin alerts`: the caller's alerts (legal reviewers).
pub(super) async fn alerts(context: &Context, cred: Option<&Path>) -> anyhow::Result<()> {
    let alerts: Vec<StaffAlert> = client(context, cred)?.get("/admin/v1/alerts").await?;
    for alert in alerts {
        if context.json {
            println!("{}", serde_json::to_string(&alert)?);
        } else {
            println!(
                "{}  {}  request {}{}",
                output::timestamp(alert.time_ms),
                alert.kind,
                alert.request_id,
                if alert.open { "" } else { " (done)" }
            );
        }
    }
    Ok(())
}
