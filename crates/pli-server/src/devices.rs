//! The rules for a user's devices: a new device is endorsed by one the account already
//! has (so the user's other devices can tell it from one the server slipped in), an account
//! holds at most the key directory's maximum, and the last device is never removed (deleting
//! the account does that). Every change is noted for the key directory around the write
//! (`directory::publish::changing_devices`). The HTTP routes only translate.

use crate::accounts::AuthedDevice;
use crate::directory::publish::changing_devices;
use crate::store::{NewDevice, Store, StoreError};
use pli_proto::DeviceId;
use pli_proto::api::AddDeviceRequest;
use pli_proto::kt::{DirectoryDevice, Endorsement, MAX_DIRECTORY_DEVICES};
use pli_proto::limits::{HISTORY_TTL_SECS, MAX_HISTORY_PART_BYTES};

/// Why a device change was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("the signature key must be 32 bytes")]
    BadSignatureKey,
    #[error("the secret hash must be 32 bytes")]
    BadSecretHash,
    #[error("the endorsement must be a 64-byte signature")]
    MalformedEndorsement,
    /// The calling device did not sign this key for this account.
    #[error("the endorsement does not verify with the calling device's key")]
    EndorsementMismatch,
    #[error("the directory keys are not an origin, two public keys and a 32-byte MAC")]
    BadDirectoryKeys,
    #[error("the account has its maximum of devices")]
    TooManyDevices,
    #[error("the account has no such device")]
    UnknownDevice,
    #[error("this is the account's last device: delete the account instead")]
    LastDevice,
    #[error("a history archive goes to another device of the account, not to its sender")]
    HistoryToSelf,
    #[error("a history part is 1 byte to MAX_HISTORY_PART_BYTES of ciphertext")]
    HistoryPartSize,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds the device `request` describes to the caller's account, endorsed by the caller;
/// the approving device's directory keys, if sent, are queued for the new device (read
/// once, then acked away).
pub async fn add<S: Store>(
    store: &S,
    caller: &AuthedDevice,
    request: &AddDeviceRequest,
    now_ms: u64,
) -> Result<(), DeviceError> {
    let user = &caller.username;
    if request.signature_key.as_slice().len() != crate::accounts::SIGNATURE_KEY_BYTES {
        return Err(DeviceError::BadSignatureKey);
    }
    let secret_hash: [u8; 32] = request
        .secret_hash
        .as_slice()
        .try_into()
        .map_err(|_| DeviceError::BadSecretHash)?;
    let signature: [u8; 64] = request
        .endorsement
        .as_slice()
        .try_into()
        .map_err(|_| DeviceError::MalformedEndorsement)?;
    let devices = store.list_devices(user).await?.unwrap_or_default();
    if devices.len() >= MAX_DIRECTORY_DEVICES {
        return Err(DeviceError::TooManyDevices);
    }
    let endorser = devices
        .iter()
        .find(|d| d.device_id == caller.device_id)
        .ok_or(StoreError::UnknownDevice)?;
    let endorsement = Endorsement {
        by: caller.device_id,
        signature,
    };
    let listed = DirectoryDevice {
        device_id: request.device_id,
        signature_key: request.signature_key.as_slice().to_vec(),
        endorsement: Some(endorsement.clone()),
    };
    // The server checks what every monitor will check, so it never publishes a device
    // that the user's own devices would report.
    if !endorsement.verifies(user, &listed, &endorser.signature_key) {
        return Err(DeviceError::EndorsementMismatch);
    }
    // The approving device's directory keys for the new one: public keys and a MAC, kept
    // only as a queued delivery to the new device.
    let link_keys = match &request.directory_keys {
        Some(keys)
            if keys.origin.len() > 256
                || keys.signing_key.as_slice().len() != 32
                || keys.vrf_public_key.as_slice().len() > 64
                || keys.mac.as_slice().len() != 32 =>
        {
            return Err(DeviceError::BadDirectoryKeys);
        }
        Some(keys) => Some(serde_json::to_vec(keys).expect("keys always serialise")),
        None => None,
    };
    let device = NewDevice {
        device_id: request.device_id,
        secret_hash,
        signature_key: listed.signature_key,
        endorsement,
    };
    changing_devices(store, user, store.add_device(user, device)).await?;
    if let Some(payload) = link_keys {
        store
            .deliver(
                pli_proto::frame::KIND_LINK_KEYS,
                payload,
                vec![request.device_id],
                crate::store::stored_time(now_ms),
                None,
            )
            .await?;
    }
    Ok(())
}

/// Removes one of the caller's devices, never the last. The caller closes its connections.
pub async fn remove<S: Store>(
    store: &S,
    caller: &AuthedDevice,
    device: DeviceId,
) -> Result<(), DeviceError> {
    let user = &caller.username;
    let devices = store.list_devices(user).await?.unwrap_or_default();
    if !devices.iter().any(|d| d.device_id == device) {
        return Err(DeviceError::UnknownDevice);
    }
    if devices.len() == 1 {
        return Err(DeviceError::LastDevice);
    }
    let removed = changing_devices(store, user, store.remove_device(user, device)).await?;
    if !removed {
        return Err(DeviceError::UnknownDevice);
    }
    Ok(())
}

/// Queues one sealed part of a history archive for `device`, another device of the
/// caller's account, with a short lifetime ([`HISTORY_TTL_SECS`]). The part is ciphertext
/// under the link secret, which only the two devices hold: the server relays it as it
/// relays the directory keys, and keeps nothing once it is acked or expired.
pub async fn relay_history<S: Store>(
    store: &S,
    caller: &AuthedDevice,
    device: DeviceId,
    sealed: Vec<u8>,
    now_ms: u64,
) -> Result<(), DeviceError> {
    if sealed.is_empty() || sealed.len() > MAX_HISTORY_PART_BYTES {
        return Err(DeviceError::HistoryPartSize);
    }
    if device == caller.device_id {
        return Err(DeviceError::HistoryToSelf);
    }
    let devices = store
        .list_devices(&caller.username)
        .await?
        .unwrap_or_default();
    if !devices.iter().any(|d| d.device_id == device) {
        return Err(DeviceError::UnknownDevice);
    }
    let now = crate::store::stored_time(now_ms);
    store
        .deliver(
            pli_proto::frame::KIND_HISTORY,
            sealed,
            vec![device],
            now,
            Some(now.saturating_add(HISTORY_TTL_SECS * 1000)),
        )
        .await?;
    Ok(())
}
