use crate::context::Context;
use crate::output;

pub async fn sync(context: &Context) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let result = client.sync().await;
    // Print what was received even if sending the outbox failed afterwards.
    for event in client.take_new()? {
        println!("{}", output::event(&event, context.json));
    }
    result?;
    Ok(())
}

pub async fn listen(context: &Context) -> anyhow::Result<()> {
    let mut client = context.open()?;
    let json = context.json;
    let mut print = move |event: pli_client::Event| println!("{}", output::event(&event, json));
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    client.listen(&mut print, stop).await?;
    Ok(())
}
