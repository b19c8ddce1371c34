use crate::context::Context;

pub fn run(context: &Context) -> anyhow::Result<()> {
    let client = context.open()?;
    for conversation in client.conversations()? {
        let members = client.members(&conversation.id).unwrap_or_default();
        if context.json {
            println!(
                "{}",
                serde_json::json!({
                    "conversation": conversation.id,
                    "title": conversation.title(),
                    "name": conversation.name,
                    "direct": conversation.direct,
                    "active": conversation.active,
                    "members": members,
                })
            );
        } else {
            let names: Vec<String> = members.iter().map(|m| format!("@{m}")).collect();
            let state = if conversation.active { "" } else { " (left)" };
            println!(
                "{}  {}{}  {}",
                conversation.id,
                conversation.title(),
                state,
                names.join(" ")
            );
        }
    }
    Ok(())
}
