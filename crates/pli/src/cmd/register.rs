use crate::context::Context;
use anyhow::Context as _;
use pli_client::Client;

#[derive(clap::Args)]
pub struct Args {
    /// The username: 3–32 of a-z 0-9 _ . (case-insensitive), starting with a letter.
    name: String,
    /// The home region, where all of the account's data will live (`pli policy` lists
    /// them) [default: the server's].
    #[arg(long)]
    region: Option<pli_proto::Region>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let username = crate::context::username(&args.name)?;
    let server = context
        .options
        .server
        .as_deref()
        .context("register needs --server URL")?;
    let (client, region) = Client::register_in(
        &context.home,
        server,
        &username,
        args.region.as_ref(),
        &context.options,
    )
    .await
    .context("registration failed")?;
    if context.json {
        println!(
            "{}",
            serde_json::json!({ "username": client.username(), "device_id": client.device_id(), "server": client.server(), "region": region })
        );
    } else {
        println!(
            "registered @{} (device {}) on {}, home region {}",
            client.username(),
            client.device_id(),
            client.server(),
            region
        );
    }
    Ok(())
}
