//! A user's devices: linking a new one, listing them as the key directory does, removing one.
//!
//! Linking takes two steps. The new device makes its keys, id and secret and shows a link
//! code (its username, id, public key, the secret's hash, and a one-time link secret that
//! only the code carries). An existing device of the user approves the code: it signs an
//! endorsement of the new key, asks the server to add the device, and hands it the key
//! directory's keys as it pinned them, under a MAC keyed by the link secret
//! (`link_keys`). From then on the new device authenticates with its own secret; the
//! endorsement is what lets the user's other devices tell it from a device the server
//! slipped in ([`pli_proto::kt::unexplained_devices`]).

use crate::client::{Client, ConnectOptions, save_device};
use crate::error::ClientError;
use crate::local::{self, Identity};
use crate::mls;
use crate::transport::{Credentials, Transport};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::signatures::Signer as _;
use pli_proto::api::AddDeviceRequest;
use pli_proto::b64::Bytes64;
use pli_proto::kt::{self, VerifiedLookup};
use pli_proto::{DeviceId, Username};
use rand::Rng as _;
use sha2::{Digest, Sha256};
use std::path::Path;

/// What a link code starts with (and its format version).
pub const LINK_PREFIX: &str = "pli-link-1:";

/// The content of a link code: nothing the server must not see but the link secret, which
/// goes from the new device to the approving one with the user, not through the server.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkRequest {
    pub username: Username,
    pub device_id: DeviceId,
    pub signature_key: Bytes64,
    pub secret_hash: Bytes64,
    /// Keys the MAC over the directory keys the approving device hands the new one. Never
    /// sent to the server. Absent from codes of an earlier pli.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_secret: Option<Bytes64>,
}

impl LinkRequest {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a link request always serialises");
        format!("{LINK_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    pub fn decode(code: &str) -> Result<Self, ClientError> {
        let bad = || ClientError::Invalid("not a pli link code".into());
        let body = code.trim().strip_prefix(LINK_PREFIX).ok_or_else(bad)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| bad())?;
        serde_json::from_slice(&json).map_err(|_| bad())
    }
}

impl Client {
    /// On a new device: makes its keys and credentials in `home` and returns the device with
    /// the link code to approve on an existing device of `username`. Until then the server
    /// does not know this device.
    pub async fn prepare_link(
        home: &Path,
        server: &str,
        username: &Username,
        options: &ConnectOptions,
    ) -> Result<(Self, String), ClientError> {
        let conn = local::open(home)?;
        if local::load_identity(&conn)?.is_some() {
            return Err(ClientError::AlreadyRegistered);
        }
        let transport = Transport::new(server, options.extra_ca_pem.as_deref())?;
        let signer = mls::new_signer()?;
        let (device_id, secret) = {
            let mut rng = rand::rng();
            let id = DeviceId::new(rng.random_range(1..=DeviceId::MAX))
                .expect("drawn inside the valid range");
            (id, hex::encode(rng.random::<[u8; 32]>()))
        };
        let me = Identity {
            server: transport.base().to_owned(),
            username: username.clone(),
            device_id,
            secret: secret.clone(),
            signature_public: signer.public().to_vec(),
        };
        save_device(&conn, &signer, &me)?;
        let link_secret: [u8; 32] = rand::rng().random();
        crate::link_keys::await_keys(&conn, &link_secret)?;
        let code = LinkRequest {
            username: username.clone(),
            device_id,
            signature_key: signer.public().to_vec().into(),
            secret_hash: Sha256::digest(secret.as_bytes()).to_vec().into(),
            link_secret: Some(link_secret.to_vec().into()),
        }
        .encode();
        let transport = transport.with_credentials(Credentials {
            device_id,
            secret: me.secret.clone(),
        });
        let client = Self {
            conn,
            crypto: RustCrypto::default(),
            transport,
            me,
            needs_commit: Default::default(),
            typing: Vec::new(),
            groups: Default::default(),
        };
        // No directory keys from the server: they come from the approving device.
        Ok((client, code))
    }

    /// On an existing device: approves a link code for this user, endorsing the new key.
    /// Once the new device is in every conversation, this one copies it the history
    /// `history` chooses, sealed under the code's link secret (`linked_history`).
    pub async fn approve_link(
        &self,
        code: &str,
        history: crate::HistoryChoice,
    ) -> Result<DeviceId, ClientError> {
        let request = LinkRequest::decode(code)?;
        if request.username != self.me.username {
            return Err(ClientError::Invalid(format!(
                "the code links a device of @{}, not of @{}",
                request.username, self.me.username
            )));
        }
        let message = kt::endorsement_message(
            &self.me.username,
            request.device_id,
            request.signature_key.as_slice(),
        );
        let signature = self
            .signer()?
            .sign(&message)
            .map_err(ClientError::mls_debug)?;
        let directory_keys = match &request.link_secret {
            Some(secret) => {
                let pinned = crate::kt::pinned(&self.conn)?.ok_or_else(|| {
                    ClientError::Invalid(
                        "this device has not met the key directory yet: sync it first".into(),
                    )
                })?;
                Some(crate::link_keys::for_new_device(
                    (&pinned.origin, &pinned.signing_key, &pinned.vrf_key),
                    secret.as_slice(),
                ))
            }
            None => None,
        };
        let added = self
            .transport
            .add_device(&AddDeviceRequest {
                device_id: request.device_id,
                signature_key: request.signature_key,
                secret_hash: request.secret_hash,
                endorsement: signature.into(),
                directory_keys,
            })
            .await?;
        crate::rotation::rotate_all_soon(&self.conn)?;
        let now = crate::local::now_ms();
        // An old code carries no link secret: nothing could be sealed for it.
        let history = request
            .link_secret
            .as_ref()
            .and_then(|secret| Some((secret.as_slice(), history.since_ms(now)?)));
        crate::linked_devices::remember(&self.conn, added.device_id, now, history)?;
        Ok(added.device_id)
    }

    /// True while this device, made by [`Client::prepare_link`], waits for the approving
    /// device (it has not received the key directory's keys from it yet).
    pub fn awaits_approval(&self) -> bool {
        crate::link_keys::waiting(&self.conn).unwrap_or(false)
    }

    /// This user's devices as the key directory lists them (proof verified).
    pub async fn devices(&mut self) -> Result<VerifiedLookup, ClientError> {
        let me = self.me.username.clone();
        self.directory_devices(&me).await
    }

    /// Removes one of this user's devices (not the last one: delete the account instead),
    /// then takes it out of every conversation this device shares with it, so it reads
    /// nothing more and the others can still send. Those commits are best effort: one that
    /// fails now (offline) is made by the first member whose send the server refuses
    /// (`departed`).
    pub async fn remove_device(&mut self, device: DeviceId) -> Result<(), ClientError> {
        self.transport.remove_device(device).await?;
        if device == self.me.device_id {
            return Ok(());
        }
        for conversation in self.conversations()? {
            if conversation.active {
                // Best effort, as above.
                let _ = self.remove_departed(&conversation.id, vec![device]).await;
            }
        }
        Ok(())
    }
}
