//! Accounts and their devices: registration, what authentication reads, the devices an
//! account lists, WebSocket tickets, connection IP addresses, and deletion at the user's
//! request, and the account's encrypted profile. Every account lives in its home region's store (`crate::residency`).

use super::error::StoreError;
use pli_proto::{DeviceId, Region, Username};
use std::future::Future;

/// A new account with its first device.
#[derive(Clone)]
pub struct NewAccount {
    pub username: Username,
    /// The home region. Backends ignore it: the residency layer routes the account to the
    /// region's store.
    pub region: Region,
    pub device_id: DeviceId,
    pub secret_hash: [u8; 32],
    pub signature_key: Vec<u8>,
    /// Days since the Unix epoch; only the day is kept (data inventory).
    pub created_day: i64,
}

/// A device added to an existing account by one of its devices.
#[derive(Clone)]
pub struct NewDevice {
    pub device_id: DeviceId,
    pub secret_hash: [u8; 32],
    pub signature_key: Vec<u8>,
    pub endorsement: pli_proto::kt::Endorsement,
}

/// What authentication needs to know about a device.
#[derive(Clone)]
pub struct DeviceAuth {
    pub username: Username,
    pub secret_hash: [u8; 32],
    pub last_seen_day: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    pub device_id: DeviceId,
    pub signature_key: Vec<u8>,
    /// The signature of the device that added this one (`None` for the first device).
    pub endorsement: Option<pli_proto::kt::Endorsement>,
}

/// Accounts and devices, as domain operations.
pub trait AccountStore: Send + Sync {
    /// Creates the account and its first device in one transaction.
    /// Fails with [`StoreError::UsernameTaken`] if the name exists.
    fn create_account(
        &self,
        account: NewAccount,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The device's owner and secret hash, or `None` if no such device exists.
    fn device_auth(
        &self,
        device: DeviceId,
    ) -> impl Future<Output = Result<Option<DeviceAuth>, StoreError>> + Send;

    /// Records the day of the account's last connection (the day only, overwritten).
    fn touch_last_seen(
        &self,
        username: &Username,
        day: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds a device to a live account ([`StoreError::UnknownAccount`] otherwise;
    /// [`StoreError::DeviceIdTaken`] if the id is in use anywhere in this store).
    fn add_device(
        &self,
        username: &Username,
        device: NewDevice,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes one of the user's devices with its key packages, queue and tickets, in one
    /// transaction. False if the user has no such device.
    fn remove_device(
        &self,
        username: &Username,
        device: DeviceId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The user's devices, or `None` if the user does not exist.
    fn list_devices(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<Vec<DeviceRecord>>, StoreError>> + Send;

    /// Stores a WebSocket ticket (by its hash) for the device, valid until `expires_ms`.
    fn create_ws_ticket(
        &self,
        device: DeviceId,
        ticket_hash: [u8; 32],
        expires_ms: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Consumes a ticket: returns its device if it exists and has not expired, and deletes
    /// it either way (with every other expired ticket). A ticket works once.
    fn redeem_ws_ticket(
        &self,
        ticket_hash: [u8; 32],
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<DeviceId>, StoreError>> + Send;

    /// Records that the account connected from `ip` on `day` (only called for regions
    /// whose policy keeps IP addresses).
    fn record_ip(
        &self,
        username: &Username,
        ip: &str,
        day: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores the account's encrypted profile, replacing the last (`None` removes it).
    /// [`StoreError::UnknownAccount`] unless the account is live.
    fn set_profile(
        &self,
        username: &Username,
        profile: Option<Vec<u8>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live account's encrypted profile, or `None` (no such account, or none stored).
    fn profile(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Deletes a live account at the user's request: its devices, key packages, queues and
    /// tickets and its profile at once; its row (name and days) stays, marked deleted on `day`, until
    /// retention erases it after the region's period. False if there is no live account.
    fn delete_account(
        &self,
        username: &Username,
        day: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
