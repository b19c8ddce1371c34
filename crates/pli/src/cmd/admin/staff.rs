//! `pli admin staff …` (operators only): add, list, rotate, re-role and revoke staff. A
//! member is named by name or id, looked up in the staff list. And `pli admin init`: the
//! first operator, on the server host.

use crate::cmd::admin::credentials::{client, parse_role, write_private};
use crate::context::Context;
use anyhow::Context as _;
use pli_client::admin::AdminClient;
use pli_proto::governance::{NewStaff, Role, StaffCredential, StaffInfo, StaffRoleChange};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub(super) enum StaffCommand {
    /// Add a staff member and write their credential file.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        out: PathBuf,
    },
    List,
    /// Give a member a new credential, printed once (the old one stops working at once).
    Rotate {
        /// The member's name or id.
        member: String,
        /// Write the credential file here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Change a member's role (the last operator cannot be demoted).
    Role {
        /// The member's name or id.
        member: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Revoke a member: their credential stops working at once (the last operator cannot
    /// be revoked).
    Revoke {
        /// The member's name or id.
        member: String,
    },
}

fn print_member(member: &StaffInfo, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(member)?);
    } else {
        println!("{}  {}  {}", member.staff_id, member.name, member.role);
    }
    Ok(())
}

/// The id of the one member whose name or id is `member`.
async fn resolve(client: &AdminClient, member: &str) -> anyhow::Result<u64> {
    let staff: Vec<StaffInfo> = client.get("/admin/v1/staff").await?;
    let matches: Vec<u64> = staff
        .iter()
        .filter(|s| s.name == member || s.staff_id.to_string() == member)
        .map(|s| s.staff_id)
        .collect();
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => anyhow::bail!("no staff member has that name or id (see `pli admin staff list`)"),
        _ => anyhow::bail!("that is one member's name and another's id: give the id"),
    }
}

/// `pli admin init`, on the server host: the first operator's credential file, written to
/// `out` (or DATA/staff-NAME.cred); prints its path.
pub(super) async fn init(
    data: &Path,
    database_url: Option<String>,
    name: &str,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut config = pli_server::Config::new(data);
    if let Some(url) = database_url {
        config.database =
            pli_server::Database::Postgres(pli_server::store::PostgresConfig::new(url));
    }
    let credential = pli_server::init_first_operator(&config, name).await?;
    let path = out.unwrap_or_else(|| data.join(format!("staff-{name}.cred")));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    write_private(&path, &serde_json::to_vec_pretty(&credential)?)?;
    println!("{}", path.display());
    Ok(())
}

pub(super) async fn run(
    context: &Context,
    cred: Option<&Path>,
    command: StaffCommand,
) -> anyhow::Result<()> {
    let client = client(context, cred)?;
    let json = context.json;
    match command {
        StaffCommand::Add { name, role, out } => {
            let credential: StaffCredential = client
                .post("/admin/v1/staff", &NewStaff { name, role })
                .await?;
            write_private(&out, &serde_json::to_vec_pretty(&credential)?)?;
            println!("{}", out.display());
        }
        StaffCommand::List => {
            let staff: Vec<StaffInfo> = client.get("/admin/v1/staff").await?;
            for member in staff {
                print_member(&member, json)?;
            }
        }
        StaffCommand::Rotate { member, out } => {
            let id = resolve(&client, &member).await?;
            let credential: StaffCredential = client
                .post(
                    &format!("/admin/v1/staff/{id}/rotate"),
                    &serde_json::json!({}),
                )
                .await?;
            let file = serde_json::to_vec_pretty(&credential)?;
            match out {
                Some(out) => {
                    write_private(&out, &file)?;
                    println!("{}", out.display());
                }
                // The server keeps only its hash: this is the one time it is shown.
                None => println!(
                    "{}",
                    String::from_utf8(file).context("a credential is JSON text")?
                ),
            }
        }
        StaffCommand::Role { member, role } => {
            let id = resolve(&client, &member).await?;
            let changed: StaffInfo = client
                .post(
                    &format!("/admin/v1/staff/{id}/role"),
                    &StaffRoleChange { role },
                )
                .await?;
            print_member(&changed, json)?;
        }
        StaffCommand::Revoke { member } => {
            let id = resolve(&client, &member).await?;
            let revoked: StaffInfo = client
                .post(
                    &format!("/admin/v1/staff/{id}/revoke"),
                    &serde_json::json!({}),
                )
                .await?;
            if json {
                print_member(&revoked, true)?;
            } else {
                println!("revoked {}  {}", revoked.staff_id, revoked.name);
            }
        }
    }
    Ok(())
}
