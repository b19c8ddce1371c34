//! `pli policy`: what the server does with each region's data, in plain words.

use crate::context::Context;
use anyhow::Context as _;
use pli_client::transport::Transport;

pub async fn run(context: &Context) -> anyhow::Result<()> {
    let server = match &context.options.server {
        Some(server) => server.clone(),
        None => context
            .open()
            .context("policy needs --server URL (or a registered home)")?
            .server()
            .to_owned(),
    };
    let transport = Transport::new(&server, context.options.extra_ca_pem.as_deref())
        .context("invalid server")?;
    let policy = transport
        .policy()
        .await
        .context("cannot fetch the policy")?;
    if context.json {
        println!("{}", serde_json::to_string(&policy)?);
        return Ok(());
    }
    for region in &policy.regions {
        let default = if region.region == policy.default_region {
            " (default for new accounts)"
        } else {
            ""
        };
        println!("Region {}{default}", region.region);
        for line in region.plain_words() {
            println!("  {line}");
        }
    }
    Ok(())
}
