//! `pli inventory`: what the server holds about this account, in plain words: the same
//! record staff see with `pli admin inventory`, and the only source of a disclosure.

use crate::context::Context;
use anyhow::Context as _;

pub async fn run(context: &Context) -> anyhow::Result<()> {
    let client = context.open()?;
    let inventory = client
        .my_inventory()
        .await
        .context("cannot fetch the inventory")?;
    if context.json {
        println!("{}", serde_json::to_string(&inventory)?);
        return Ok(());
    }
    for line in inventory.plain_words() {
        println!("{line}");
    }
    Ok(())
}
