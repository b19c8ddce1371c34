//! `pli verify @user`: the safety code to compare with the other person (in person, or over
//! another channel), and what the key directory lists for both of you. The lookups are
//! checked against a signed root this device verified, so the code is the directory's word,
//! not the server's.

use crate::context::Context;
use anyhow::Context as _;
use pli_proto::Username;
use pli_proto::kt::DirectoryDevice;

#[derive(clap::Args)]
pub struct Args {
    /// The user to verify (`@name` or `name`).
    user: String,
}

fn describe(devices: &[DirectoryDevice]) -> Vec<String> {
    devices
        .iter()
        .map(|d| {
            let added = match &d.endorsement {
                None => "the account's first device".to_owned(),
                Some(e) => format!("added by device {}", e.by),
            };
            format!(
                "device {}  key {}  ({added})",
                d.device_id,
                hex::encode(&d.signature_key[..d.signature_key.len().min(8)])
            )
        })
        .collect()
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let name = args.user.trim_start_matches('@');
    let peer = Username::parse(name).context("not a valid username")?;
    let mut client = context.open()?;
    let verified = client.verify_user(&peer).await?;
    if context.json {
        println!(
            "{}",
            serde_json::json!({
                "user": verified.peer,
                "epoch": verified.epoch,
                "safety_code": verified.code,
                "devices": verified.peer_devices.iter().map(|d| serde_json::json!({
                    "device_id": d.device_id,
                    "signature_key": hex::encode(&d.signature_key),
                    "added_by": d.endorsement.as_ref().map(|e| e.by),
                })).collect::<Vec<_>>(),
                "own_devices": verified.own_devices.len(),
            })
        );
        return Ok(());
    }
    println!(
        "Safety code with @{} (compare it with theirs):",
        verified.peer
    );
    let groups: Vec<&str> = verified.code.split(' ').collect();
    for row in groups.chunks(4) {
        println!("  {}", row.join(" "));
    }
    println!(
        "The key directory (epoch {}) lists for @{}:",
        verified.epoch, verified.peer
    );
    for line in describe(&verified.peer_devices) {
        println!("  {line}");
    }
    println!("and for you (@{}):", client.username());
    for line in describe(&verified.own_devices) {
        println!("  {line}");
    }
    Ok(())
}
