//! A user's devices as the key directory lists them: id, key fingerprint, who added it.

use maud::{Markup, html};
use pli_proto::kt::DirectoryDevice;

/// A key's first bytes, grouped, to compare by eye.
pub fn fingerprint(key: &[u8]) -> String {
    let hex = hex::encode(&key[..key.len().min(8)]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The devices of one user, as a list; `own` marks this device.
pub fn list(devices: &[DirectoryDevice], this_device: Option<pli_proto::DeviceId>) -> Markup {
    html! {
        ul class="devices" {
            @for d in devices {
                li data-device=(d.device_id) {
                    span class="device-id" { "Device " (d.device_id) }
                    @if this_device == Some(d.device_id) { " " span class="badge" { "this device" } }
                    " · key " code { (fingerprint(&d.signature_key)) }
                    " · "
                    @match &d.endorsement {
                        None => span { "the account's first device" },
                        Some(e) => span { "added by device " (e.by) },
                    }
                }
            }
        }
    }
}
