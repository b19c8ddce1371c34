//! What the server holds about one account (docs/ARCHITECTURE.md, "The data inventory"), printed for staff and the only
//! source of disclosure packages, so a package can never hold more than the printout.

use super::GovernanceError;
use super::rules::{Policies, Policy};
use crate::store::{FOREVER_MS, InventoryRecord, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use pli_proto::Username;
use pli_proto::governance::{DataCategory, RequestView, format_day};
use serde::{Deserialize, Serialize};

pub use pli_proto::inventory::{BANNED, DeviceKey, Inventory, IpSeen};

/// What [`Inventory::also_held`] says, the same for every account.
pub const ALSO_HELD: &[&str] = &[
    "the key directory's published history of this account's device keys and device changes: public by design (every client checks it), kept in the directory beside every region's, with the name hidden behind the directory's VRF in the published tree",
    "lawful requests that name this account, and notices held for it under a non-disclosure order: staff records, handled as GOVERNANCE.md says",
    "one-minute connection tickets of its devices (hashed) and the credential hash of each device",
];

/// The printout of `record`, under its home region's `policy`.
/// `reports` is (about the account, filed by it), from [`ReportStore::report_counts`];
/// `moderation` is (trust & safety actions on it, the end of its suspension now if it is
/// suspended), from [`ModerationStore`].
///
/// [`ReportStore::report_counts`]: crate::store::ReportStore::report_counts
/// [`ModerationStore`]: crate::store::ModerationStore
pub fn from_record(
    record: InventoryRecord,
    reports: (u64, u64),
    moderation: (u64, Option<u64>),
    policy: &Policy,
) -> Inventory {
    {
        let devices = record
            .devices
            .iter()
            .map(|d| {
                let status = record
                    .key_packages
                    .iter()
                    .find(|(id, _)| *id == d.device_id)
                    .map(|(_, s)| s.clone());
                DeviceKey {
                    device_id: d.device_id,
                    signature_key: STANDARD.encode(&d.signature_key),
                    key_packages_available: status.as_ref().map_or(0, |s| s.available),
                    has_last_resort_key_package: status.is_some_and(|s| s.has_last_resort),
                }
            })
            .collect();
        let mut not_held = vec![
            "message content: end-to-end encrypted; the server cannot read it (only the text of messages a recipient reported, in the reports counted above)".to_owned(),
            "contacts and group memberships: the server keeps no membership lists".to_owned(),
        ];
        if !policy.keeps_ip() {
            not_held.push(format!(
                "IP addresses: not kept (region {} policy)",
                policy.region
            ));
        }
        Inventory {
            username: record.username,
            home_region: policy.region.clone(),
            created_day: format_day(record.created_day),
            last_connection_day: record.last_seen_day.map(format_day),
            devices,
            queued_ciphertexts: record.queued_messages,
            preserved_until: record
                .preserved_until_ms
                .map(|ms| format_day((ms / 86_400_000) as i64)),
            deleted_day: record.deleted_day.map(format_day),
            ip_addresses: record
                .ips
                .into_iter()
                .map(|(day, address)| IpSeen {
                    day: format_day(day),
                    address,
                })
                .collect(),
            attachments: 0,
            attachment_bytes: 0,
            encrypted_profile_bytes: 0,
            reports_received: reports.0,
            reports_filed: reports.1,
            moderation_actions: moderation.0,
            suspended_until: moderation.1.map(|until| match until {
                FOREVER_MS => BANNED.to_owned(),
                ms => format_day((ms / 86_400_000) as i64),
            }),
            not_held,
            also_held: ALSO_HELD.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The account's inventory, under its home region's policy.
pub async fn load<S: Store>(
    store: &S,
    user: &Username,
    policies: &Policies,
) -> Result<Option<Inventory>, GovernanceError> {
    let Some(record) = store.inventory(user).await? else {
        return Ok(None);
    };
    let region = store.home_region(user).await?;
    let reports = store.report_counts(user).await?;
    // The standing as of now: a suspension that has ended is not shown as one.
    let now_ms = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
    let moderation = (
        store.actions_about(user).await?.len() as u64,
        store.suspended_until(user, now_ms).await?,
    );
    let attachments = store.attachment_usage(user).await?;
    let profile_bytes = store.profile(user).await?.map_or(0, |p| p.len() as u64);
    let mut inventory = from_record(record, reports, moderation, policies.of(region.as_ref()));
    inventory.attachments = attachments.count;
    inventory.attachment_bytes = attachments.bytes;
    inventory.encrypted_profile_bytes = profile_bytes;
    if profile_bytes == 0 {
        inventory
            .not_held
            .push("encrypted profile: none stored".to_owned());
    }
    Ok(Some(inventory))
}

/// One account's share of a disclosure: only the approved categories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisclosedAccount {
    pub username: Username,
    pub found: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subscriber: Option<SubscriberFacts>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub devices: Option<Vec<DeviceKey>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip_addresses: Option<Vec<IpSeen>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriberFacts {
    pub username: Username,
    pub home_region: String,
    pub created_day: String,
    pub last_connection_day: Option<String>,
}

/// A signed disclosure package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Package {
    pub origin: String,
    pub request_id: String,
    pub authority: String,
    pub country: String,
    pub basis: String,
    pub doc_ref: String,
    pub doc_sha256: String,
    pub categories: Vec<DataCategory>,
    pub generated_ms: u64,
    pub accounts: Vec<DisclosedAccount>,
    /// Ed25519 over the package's JSON with this field empty, base64.
    #[serde(default)]
    pub signature: String,
}

impl Package {
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature = String::new();
        serde_json::to_vec(&unsigned).expect("a package always serialises")
    }

    fn sign(&mut self, key: &SigningKey) {
        self.signature = STANDARD.encode(key.sign(&self.signed_bytes()).to_bytes());
    }

    /// Checks the package against the log key that signed it.
    pub fn verify_signature(&self, key: &ed25519_dalek::VerifyingKey) -> bool {
        let Ok(bytes) = STANDARD.decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(&bytes) else {
            return false;
        };
        ed25519_dalek::Verifier::verify(key, &self.signed_bytes(), &signature).is_ok()
    }

    pub fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(
            serde_json::to_vec(self).expect("a package always serialises"),
        ))
    }
}

/// Builds the package for an approved request from each target's inventory.
pub async fn package<S: Store>(
    store: &S,
    view: &RequestView,
    policies: &Policies,
    origin: &str,
    key: &SigningKey,
    now_ms: u64,
) -> Result<Package, GovernanceError> {
    let categories = &view.request.categories;
    let mut accounts = Vec::with_capacity(view.request.targets.len());
    for target in &view.request.targets {
        let inventory = load(store, target, policies).await?;
        accounts.push(match inventory {
            None => DisclosedAccount {
                username: target.clone(),
                found: false,
                subscriber: None,
                devices: None,
                ip_addresses: None,
            },
            Some(inv) => DisclosedAccount {
                username: target.clone(),
                found: true,
                subscriber: categories.contains(&DataCategory::Subscriber).then(|| {
                    SubscriberFacts {
                        username: inv.username.clone(),
                        home_region: inv.home_region.clone(),
                        created_day: inv.created_day.clone(),
                        last_connection_day: inv.last_connection_day.clone(),
                    }
                }),
                devices: categories
                    .contains(&DataCategory::Devices)
                    .then(|| inv.devices.clone()),
                ip_addresses: categories
                    .contains(&DataCategory::Ip)
                    .then(|| inv.ip_addresses.clone()),
            },
        });
    }
    let mut package = Package {
        origin: origin.to_owned(),
        request_id: view.id.clone(),
        authority: view.request.authority.clone(),
        country: view.request.country.clone(),
        basis: view.request.basis.to_string(),
        doc_ref: view.request.doc_ref.clone(),
        doc_sha256: view.request.doc_sha256.clone(),
        categories: categories.clone(),
        generated_ms: now_ms,
        accounts,
        signature: String::new(),
    };
    package.sign(key);
    Ok(package)
}
