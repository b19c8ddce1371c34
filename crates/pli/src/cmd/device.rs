//! `pli device …`: link a new device to an account, list the account's devices as the key
//! directory lists them, remove one.

use crate::context::Context;
use anyhow::Context as _;
use pli_client::Client;

#[derive(clap::Subcommand)]
pub enum Command {
    /// On the NEW device (its own --home): make its keys and print a link code to approve
    /// on a device already registered for @user. Needs --server.
    Link {
        /// The account to join.
        user: String,
    },
    /// On an EXISTING device: approve a link code, endorsing the new device's key. At its
    /// next sync this device adds the new one to every conversation; from then on it reads
    /// what is sent there. What came before it reads only if you copy it with --history.
    Approve {
        /// The code `pli device link` printed.
        code: String,
        /// Copy earlier messages to the new device: `none` (the default), `all`, or a
        /// number of days. The copy is sealed for the new device alone; the server relays
        /// it and keeps it two days at most. Attachments' files and disappearing messages
        /// are not copied. Without it, earlier messages stay only on the devices that have
        /// them.
        #[arg(long, default_value = "none", value_name = "none|all|DAYS")]
        history: pli_client::HistoryChoice,
    },
    /// The account's devices, as the key directory lists them (proof verified).
    List,
    /// Remove one of the account's devices (not the last one: `pli account delete`).
    Remove {
        /// The device id (`pli device list`).
        device: pli_proto::DeviceId,
    },
}

pub async fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Link { user } => {
            let username = crate::context::username(&user)?;
            let server = context
                .options
                .server
                .as_deref()
                .context("device link needs --server URL")?;
            let (client, code) =
                Client::prepare_link(&context.home, server, &username, &context.options)
                    .await
                    .context("cannot prepare the link")?;
            if context.json {
                println!(
                    "{}",
                    serde_json::json!({ "username": username, "device_id": client.device_id(), "code": code })
                );
            } else {
                println!(
                    "device {} is ready to join @{username}. On a device already on the account, run:\n  pli device approve {code}",
                    client.device_id()
                );
            }
        }
        Command::Approve { code, history } => {
            let client = context.open()?;
            let added = client
                .approve_link(&code, history)
                .await
                .context("approval failed")?;
            if context.json {
                println!(
                    "{}",
                    serde_json::json!({ "added": added, "history": history.to_string() })
                );
            } else {
                println!("added device {added} to @{}", client.username());
                let copy = match history {
                    pli_client::HistoryChoice::None => {
                        "earlier messages stay on the devices that have them".to_owned()
                    }
                    pli_client::HistoryChoice::All => {
                        "then copies it all earlier messages".to_owned()
                    }
                    pli_client::HistoryChoice::LastDays(days) => {
                        format!("then copies it the messages of the last {days} days")
                    }
                };
                println!("this device adds it to your conversations at its next sync; {copy}");
            }
        }
        Command::List => {
            let mut client = context.open()?;
            let listed = client.devices().await?;
            if context.json {
                let devices: Vec<_> = listed
                    .devices
                    .iter()
                    .map(|d| serde_json::json!({ "device_id": d.device_id, "added_by": d.endorsement.as_ref().map(|e| e.by), "this_device": d.device_id == client.device_id() }))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({ "epoch": listed.epoch, "devices": devices })
                );
            } else {
                println!("the key directory lists for @{}:", client.username());
                for d in &listed.devices {
                    let added = match &d.endorsement {
                        None => "the account's first device".to_owned(),
                        Some(e) => format!("added by device {}", e.by),
                    };
                    let this = if d.device_id == client.device_id() {
                        " (this device)"
                    } else {
                        ""
                    };
                    println!("  device {}{this}: {added}", d.device_id);
                }
            }
        }
        Command::Remove { device } => {
            let mut client = context.open()?;
            client
                .remove_device(device)
                .await
                .context("removal failed")?;
            if context.json {
                println!("{}", serde_json::json!({ "removed": device }));
            } else {
                println!("removed device {device} from @{}", client.username());
            }
        }
    }
    Ok(())
}
