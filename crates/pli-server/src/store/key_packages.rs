//! Key package records: what an upload stores, the moment lifetimes are judged at, and
//! what a claim hands out. Times are seconds since the Unix epoch, as in the key package's
//! own RFC 9420 lifetime.

use super::error::StoreError;
use pli_proto::limits::KEY_PACKAGE_RENEWAL_SECS;
use pli_proto::{DeviceId, Username};
use std::future::Future;

/// A validated key package to store: its wire bytes and the end of its lifetime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKeyPackage {
    pub data: Vec<u8>,
    pub not_after: u64,
}

/// The moment a key package's lifetime is judged at. A package is expired when
/// `not_after <= now`, and expiring when `not_after <= renew_before`. A package stored
/// before the server recorded lifetimes (no `not_after`) is valid but expiring, so its
/// device replaces it at its next top-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPackageTime {
    pub now: u64,
    pub renew_before: u64,
}

impl KeyPackageTime {
    /// Counts every stored package as valid: what the data inventory reports is what is
    /// held, expired or not.
    pub const ANY: Self = Self {
        now: 0,
        renew_before: 0,
    };

    /// `now_s`, with pli's renewal window.
    pub fn at(now_s: u64) -> Self {
        Self {
            now: now_s,
            renew_before: now_s.saturating_add(KEY_PACKAGE_RENEWAL_SECS),
        }
    }

    /// The bounds as SQL integers.
    pub(crate) fn sql(self) -> (i64, i64) {
        (clamp(self.now), clamp(self.renew_before))
    }
}

/// A time or lifetime bound as an SQL integer (seconds fit; larger values saturate).
pub(crate) fn clamp(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// One upload: one-time packages to add (refused whole if the device would hold more than
/// `max_one_time` valid ones), an optional last-resort package replacing the current one,
/// and when it happens. The device's expired one-time packages are deleted first (no claim
/// can use them, and they would hold slots); with `replace_expiring`, so are those expiring
/// by `at.renew_before` (these packages replace them).
#[derive(Clone, Debug)]
pub struct KeyPackageUpload {
    pub one_time: Vec<NewKeyPackage>,
    pub last_resort: Option<NewKeyPackage>,
    pub max_one_time: usize,
    pub at: KeyPackageTime,
    pub replace_expiring: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageStatus {
    /// One-time packages not expired.
    pub available: u64,
    /// A last-resort package that has not expired.
    pub has_last_resort: bool,
    /// How many of the `available` ones are expiring.
    pub expiring: u64,
    /// The last-resort package is expiring (false when there is none).
    pub last_resort_expiring: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedPackage {
    pub device_id: DeviceId,
    pub key_package: Vec<u8>,
    pub last_resort: bool,
}

/// What a claim found: one package per device that had a valid one, and the devices whose
/// packages had all expired (left out, like devices with none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claim {
    pub packages: Vec<ClaimedPackage>,
    pub expired_devices: Vec<DeviceId>,
}

/// Key packages, as domain operations.
pub trait KeyPackageStore: Send + Sync {
    /// Stores an upload in one transaction (see [`KeyPackageUpload`]): expired one-time
    /// packages deleted, one-time packages added (refused whole with
    /// [`StoreError::TooManyKeyPackages`] if the device would exceed `max_one_time`), the
    /// last-resort package replaced. Returns the new status.
    fn add_key_packages(
        &self,
        device: DeviceId,
        upload: KeyPackageUpload,
    ) -> impl Future<Output = Result<KeyPackageStatus, StoreError>> + Send;

    /// The device's valid and expiring packages at `at`.
    fn key_package_status(
        &self,
        device: DeviceId,
        at: KeyPackageTime,
    ) -> impl Future<Output = Result<KeyPackageStatus, StoreError>> + Send;

    /// Claims one key package per device of the user, passing over packages expired at
    /// `now_s`: a one-time package (deleted, so it is handed out once) or, when none is
    /// left, the last-resort package (kept). Devices with neither are left out, and counted
    /// if they had expired ones. `None` if the user does not exist. With `only`, just that
    /// device of the user is claimed for (adding one new device to existing groups spends
    /// none of the others' packages).
    fn claim_key_packages(
        &self,
        username: &Username,
        now_s: u64,
        only: Option<DeviceId>,
    ) -> impl Future<Output = Result<Option<Claim>, StoreError>> + Send;
}
