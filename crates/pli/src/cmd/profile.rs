//! `pli profile`: this account's display name and picture, and the profiles of others.

use crate::context::Context;
use anyhow::Context as _;
use pli_client::profile_book::ShownProfile;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set your display name (and a picture), encrypted: the server stores only
    /// ciphertext, and the people you talk to get the key inside your conversations.
    /// Your username stays shown beside the name.
    Set {
        /// The name people see, one line, at most 128 bytes; may be empty.
        name: String,
        /// A PNG or JPEG picture, shrunk on this device to 128 pixels a side.
        #[arg(long, value_name = "FILE")]
        avatar: Option<std::path::PathBuf>,
    },
    /// Remove your profile: the server's copy goes, and people's devices drop theirs at
    /// their next sync.
    Clear,
    /// Show a profile as this device opened it (yours without USER).
    Show {
        /// Whose profile (`@user` or `user`).
        user: Option<String>,
    },
}

pub async fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    let mut client = context.open()?;
    match command {
        Command::Set { name, avatar } => {
            client.sync().await?;
            client.set_profile(&name, avatar.as_deref(), false).await?;
            println!("profile set; your conversations get its key at their next sync");
        }
        Command::Clear => {
            client.sync().await?;
            client.set_profile("", None, true).await?;
            println!("profile removed");
        }
        Command::Show { user } => {
            let shown = match user {
                None => client.my_profile()?,
                Some(user) => {
                    let user = pli_proto::Username::parse(user.trim_start_matches('@'))
                        .context("not a username")?;
                    client.sync().await?;
                    client.profile_of(&user)?
                }
            };
            print(context, shown.as_ref());
        }
    }
    Ok(())
}

fn print(context: &Context, shown: Option<&ShownProfile>) {
    if context.json {
        let line = shown.map(|p| {
            serde_json::json!({
                "username": p.username,
                "name": p.name,
                "avatar_bytes": p.avatar.as_ref().map(Vec::len),
            })
        });
        println!("{}", line.unwrap_or(serde_json::Value::Null));
        return;
    }
    match shown {
        None => println!("no profile"),
        Some(p) => {
            let picture = p
                .avatar
                .as_ref()
                .map(|a| format!(", picture {}", crate::output::size(a.len() as u64)))
                .unwrap_or_default();
            println!("{} (@{}){picture}", p.name, p.username);
        }
    }
}
