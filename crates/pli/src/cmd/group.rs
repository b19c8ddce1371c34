use crate::context::Context;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a group with the given members; prints its conversation id.
    Create {
        name: String,
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Add @user (all of their devices) to a conversation.
    Add { conversation: String, user: String },
    /// Remove @user (all of their devices) from a conversation.
    Remove { conversation: String, user: String },
    /// Leave a conversation.
    Leave { conversation: String },
}

pub async fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let (conversation, done) = match command {
        Command::Create { name, members } => {
            let members = members
                .iter()
                .map(|m| crate::context::username(m))
                .collect::<anyhow::Result<Vec<_>>>()?;
            (client.create_group(&name, &members).await?, "created")
        }
        Command::Add { conversation, user } => {
            let id = client.find_conversation(&conversation)?.id;
            client
                .add_member(&id, &crate::context::username(&user)?)
                .await?;
            (id, "added")
        }
        Command::Remove { conversation, user } => {
            let id = client.find_conversation(&conversation)?.id;
            client
                .remove_member(&id, &crate::context::username(&user)?)
                .await?;
            (id, "removed")
        }
        Command::Leave { conversation } => {
            let id = client.find_conversation(&conversation)?.id;
            client.leave(&id).await?;
            (id, "left")
        }
    };
    if context.json {
        println!(
            "{}",
            serde_json::json!({ "conversation": conversation, "status": done })
        );
    } else if done == "created" {
        println!("{conversation}");
    } else {
        println!("{done}");
    }
    Ok(())
}
