//! What a server holds about one account: its data inventory, filled in. Staff see it
//! (`pli admin inventory`), a disclosure package is made from it and nothing else, and the
//! account's own devices read it (`GET /v1/me/inventory`, `pli inventory`), so a user
//! sees exactly what a lawful request could hand over.

use crate::{DeviceId, Username};
use serde::{Deserialize, Serialize};

/// [`Inventory::suspended_until`] of a banned account: a suspension with no end.
pub const BANNED: &str = "banned";

/// A connection IP address, kept only where the home region's policy says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IpSeen {
    /// The day it was seen (`YYYY-MM-DD`, UTC).
    pub day: String,
    /// The address as the server saw it.
    pub address: String,
}

/// One of the account's devices as the server holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceKey {
    /// The device's id.
    pub device_id: DeviceId,
    /// Its MLS signature public key, base64.
    pub signature_key: String,
    /// Unclaimed one-time key packages it has on the server.
    pub key_packages_available: u64,
    /// Whether it has a last-resort key package on the server.
    pub has_last_resort_key_package: bool,
}

/// The full printout for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inventory {
    /// The account's name.
    pub username: Username,
    /// The region its data lives in.
    pub home_region: String,
    /// The day it was registered (`YYYY-MM-DD`, UTC: the server keeps days, not times).
    pub created_day: String,
    /// The day one of its devices last connected.
    pub last_connection_day: Option<String>,
    /// Its devices, with their keys and key-package counts.
    pub devices: Vec<DeviceKey>,
    /// Ciphertexts queued for its devices (the server cannot read them).
    pub queued_ciphertexts: u64,
    /// The day a preservation order on the account ends, if one runs.
    pub preserved_until: Option<String>,
    /// The day the user deleted the account; its remaining facts are erased after the
    /// region's retention period.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deleted_day: Option<String>,
    /// Connection IP addresses, where the home region's policy keeps them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ip_addresses: Vec<IpSeen>,
    /// Encrypted attachments the server holds that the account uploaded or that wait for
    /// its devices (the server cannot open them).
    #[serde(default)]
    pub attachments: u64,
    /// Their size in bytes, as ciphertext.
    #[serde(default)]
    pub attachment_bytes: u64,
    /// The size of the account's encrypted profile (display name and avatar) in bytes, 0
    /// if it stored none: only the people it shared its profile key with can open it.
    #[serde(default)]
    pub encrypted_profile_bytes: u64,
    /// Abuse reports about the account that the server holds (each with the text of the
    /// messages reported, kept for trust & safety until the region's report retention).
    #[serde(default)]
    pub reports_received: u64,
    /// Abuse reports the account filed that the server holds.
    #[serde(default)]
    pub reports_filed: u64,
    /// Trust & safety actions on the account that the server holds (warnings, suspensions,
    /// bans, reinstatements, dismissed reports), each with its appeal if it made one.
    #[serde(default)]
    pub moderation_actions: u64,
    /// While the account is suspended, the day (`YYYY-MM-DD`, UTC) the suspension ends, or
    /// [`BANNED`] for a ban.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<String>,
    /// Items of the data inventory this server does not hold, stated so the printout is
    /// complete.
    pub not_held: Vec<String>,
    /// Items it does hold about the account that the lines above do not itemise, stated so
    /// the printout is complete (every stored column is either shown here or declared not
    /// personal, `store::columns`).
    #[serde(default)]
    pub also_held: Vec<String>,
}

impl Inventory {
    /// The printout in plain sentences, one per line, as `pli inventory` shows it.
    pub fn plain_words(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "Account @{}, its data in region {}.",
                self.username, self.home_region
            ),
            format!(
                "Registered on {}; last connected on {}.",
                self.created_day,
                self.last_connection_day.as_deref().unwrap_or("no day yet")
            ),
        ];
        if let Some(day) = &self.deleted_day {
            lines.push(format!(
                "Deleted on {day}: what is left is erased after the region's period."
            ));
        }
        for device in &self.devices {
            lines.push(format!(
                "Device {}: signature key {}, {} key package(s) on the server{}.",
                device.device_id,
                device.signature_key,
                device.key_packages_available,
                if device.has_last_resort_key_package {
                    " and a last-resort one"
                } else {
                    ""
                }
            ));
        }
        lines.push(format!(
            "{} encrypted message(s) waiting for its devices (the server cannot read them).",
            self.queued_ciphertexts
        ));
        if let Some(day) = &self.preserved_until {
            lines.push(format!("Preserved under a legal order until {day}."));
        }
        for seen in &self.ip_addresses {
            lines.push(format!("Connected from {} on {}.", seen.address, seen.day));
        }
        lines.push(format!(
            "{} encrypted attachment(s), {} bytes, uploaded by it or waiting for its devices (the server cannot open them).",
            self.attachments, self.attachment_bytes
        ));
        if self.encrypted_profile_bytes > 0 {
            lines.push(format!(
                "An encrypted profile of {} bytes (the server cannot open it).",
                self.encrypted_profile_bytes
            ));
        }
        lines.push(format!(
            "Abuse reports about this account: {}; filed by it: {}.",
            self.reports_received, self.reports_filed
        ));
        lines.push(format!(
            "Trust & safety actions on this account: {}{}.",
            self.moderation_actions,
            match self.suspended_until.as_deref() {
                None => String::new(),
                Some(BANNED) => " (banned)".to_owned(),
                Some(day) => format!(" (suspended until {day})"),
            }
        ));
        lines.extend(
            self.not_held
                .iter()
                .map(|item| format!("Not held: {item}.")),
        );
        lines.extend(
            self.also_held
                .iter()
                .map(|item| format!("Also held: {item}.")),
        );
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_name_every_item() {
        let mut inventory = Inventory {
            username: Username::parse("alice").expect("name"),
            home_region: "eu".into(),
            created_day: "2026-12-01".into(),
            last_connection_day: None,
            devices: vec![DeviceKey {
                device_id: DeviceId::new(7).expect("id"),
                signature_key: "S0VZ".into(),
                key_packages_available: 3,
                has_last_resort_key_package: true,
            }],
            queued_ciphertexts: 2,
            preserved_until: None,
            deleted_day: None,
            ip_addresses: Vec::new(),
            attachments: 4,
            attachment_bytes: 5_000,
            encrypted_profile_bytes: 321,
            reports_received: 2,
            reports_filed: 1,
            moderation_actions: 3,
            suspended_until: None,
            not_held: vec!["message content".into()],
            also_held: vec!["the key directory's history".into()],
        };
        let text = inventory.plain_words().join("\n");
        for part in [
            "@alice",
            "region eu",
            "2026-12-01",
            "no day yet",
            "S0VZ",
            "3 key package",
            "last-resort",
            "2 encrypted",
            "4 encrypted attachment(s), 5000 bytes",
            "An encrypted profile of 321 bytes",
            "Abuse reports about this account: 2; filed by it: 1.",
            "Trust & safety actions on this account: 3.",
            "Not held: message content.",
            "Also held: the key directory",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        assert!(!text.contains("Preserved") && !text.contains("Connected from"));
        inventory.preserved_until = Some("2027-03-01".into());
        inventory.ip_addresses.push(IpSeen {
            day: "2026-12-02".into(),
            address: "192.0.2.1".into(),
        });
        let text = inventory.plain_words().join("\n");
        assert!(
            text.contains("until 2027-03-01") && text.contains("192.0.2.1 on 2026-12-02"),
            "{text}"
        );
        inventory.suspended_until = Some("2027-01-09".into());
        let text = inventory.plain_words().join("\n");
        assert!(
            text.contains("actions on this account: 3 (suspended until 2027-01-09)."),
            "{text}"
        );
        inventory.suspended_until = Some(BANNED.into());
        let text = inventory.plain_words().join("\n");
        assert!(
            text.contains("actions on this account: 3 (banned)."),
            "{text}"
        );
    }
}
