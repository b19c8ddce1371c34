//! `pli attachment`: the files shared in conversations, as `pli sync` lists them.

use crate::context::Context;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Download a shared file (once per device), check it against the message that shared
    /// it, decrypt it and write it to PATH. A file the server or the sender altered is
    /// refused, and nothing is written.
    Save {
        /// The attachment's id, as `pli sync` prints it (`[attachment 1a2b3c4d: …]`).
        id: String,
        /// Where to write the file.
        path: std::path::PathBuf,
    },
}

pub async fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Save { id, path } => {
            let mut client = context.open()?;
            let attachment = client.find_attachment(&id)?;
            client.save_attachment(&attachment, &path).await?;
            if context.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": attachment.short_id(),
                        "name": attachment.name,
                        "size": attachment.size,
                        "path": path,
                    })
                );
            } else {
                println!(
                    "saved {} ({}) to {}",
                    attachment.name,
                    crate::output::size(attachment.size),
                    path.display()
                );
            }
            Ok(())
        }
    }
}
