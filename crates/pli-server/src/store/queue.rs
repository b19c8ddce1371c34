//! The delivery queue: the epoch rule each message must pass, messages queued for devices,
//! fetched in order and acked, the per-device counters that bound a queue, and the wake-ups
//! other nodes send when queues grow.

use super::error::StoreError;
use pli_proto::{DeviceId, GroupId, MessageId};
use std::future::Future;
use std::sync::Arc;

/// What another node says about devices that may be connected to this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteWake {
    /// Their queues grew.
    Devices(Vec<DeviceId>),
    /// The channel was interrupted and wake-ups may have been missed: look at every queue.
    Everyone,
    /// They connected to another node at these wall-clock times (ms): a connection here
    /// made before then is stale and must close, so a device has one consumer of its queue
    /// across the cluster, as on one node. (A connection made after the other node's, say
    /// by a device that moved back quickly, stays.)
    Replaced(Vec<(DeviceId, u64)>),
    /// An ephemeral message for these devices, wherever they are connected.
    Ephemeral(Vec<DeviceId>, EphemeralFrame),
}

/// An ephemeral message (a typing indicator) on its way to connected devices: its group
/// and `MLSMessage` bytes. Never stored.
pub type EphemeralFrame = std::sync::Arc<(pli_proto::GroupId, Vec<u8>)>;

/// Where a store delivers [`RemoteWake`]s (the delivery hub).
pub type WakeSink = Arc<dyn Fn(RemoteWake) + Send + Sync>;

/// How a submitted message relates to its group's epoch. The delivery service's one
/// ordering rule: a commit is accepted only for the group's current epoch, and moves it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochRule {
    /// A commit made in `epoch`. For an unknown group, epoch 0 creates it.
    Commit { epoch: u64 },
    /// A proposal made in `epoch`: only valid in the current epoch.
    Proposal { epoch: u64 },
    /// An application message made in `epoch`: only valid in the current epoch. A sender
    /// that missed a commit (say, a removal) must catch up and re-encrypt, so nothing it
    /// writes is readable by a member who has already left.
    Application { epoch: u64 },
}

/// How finely the store keeps the time a message was accepted: the hour. Retention needs no
/// finer (queue lifetimes are whole days), and a finer time would say more about when
/// someone wrote. A message may so expire up to an hour before its region's queue lifetime
/// is over, never after.
pub const STORED_TIME_MS: u64 = 3_600_000;

/// `now_ms` as the store keeps it: rounded down to [`STORED_TIME_MS`].
pub fn stored_time(now_ms: u64) -> u64 {
    now_ms - now_ms % STORED_TIME_MS
}

/// When the store lets a message with a disappearing timer of `secs` go, accepted at
/// `now_ms`: no later than the timer, rounded down to a step of a quarter of it (at least a
/// second, at most [`STORED_TIME_MS`]), so the stored time says no more about when it was
/// written than the timer's own length does.
pub fn stored_expiry(now_ms: u64, secs: u32) -> u64 {
    let timer_ms = u64::from(secs) * 1000;
    let step = (timer_ms / 4).clamp(1000, STORED_TIME_MS);
    let expires = now_ms + timer_ms;
    expires - expires % step
}

/// One message for the delivery service, with everything needed to accept it atomically.
#[derive(Clone)]
pub struct Submission {
    pub group: GroupId,
    pub rule: EpochRule,
    pub payload: Vec<u8>,
    pub recipients: Vec<DeviceId>,
    /// A Welcome for the devices a commit adds; stored in the same transaction.
    pub welcome: Option<(Vec<u8>, Vec<DeviceId>)>,
    pub now_ms: u64,
    pub max_queue_depth: u64,
    /// When a message with a disappearing timer leaves every queue ([`stored_expiry`]),
    /// delivered or not. The welcome of a commit never expires.
    pub expires_ms: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub id: MessageId,
    pub epoch: u64,
}

/// A queued message as read back for a device.
#[derive(Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: MessageId,
    /// `pli_proto::frame::KIND_MLS` or `KIND_NOTICE`.
    pub kind: u8,
    pub payload: Vec<u8>,
    /// When it expires ([`Submission::expires_ms`]): never pushed from then on, even
    /// before the sweep ([`QueueStore::expire_timed`]) deletes it.
    pub expires_ms: Option<u64>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Queued({}, <{} bytes>)", self.id, self.payload.len())
    }
}

/// The upper bounds of the queue-depth distribution the metrics publish: fixed, so a figure
/// is a count of devices in a band, never one device's queue.
pub const QUEUE_DEPTH_BOUNDS: [u64; 6] = [0, 1, 10, 100, 1_000, 10_000];

/// How full the queues are, all devices together (`pli_queue_*` metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Deliveries waiting, summed over every device.
    pub queued: u64,
    /// Devices counted.
    pub devices: u64,
    /// For each bound of [`QUEUE_DEPTH_BOUNDS`], the devices whose queue holds at most that
    /// many (cumulative, as Prometheus' `le` buckets are).
    pub at_most: [u64; QUEUE_DEPTH_BOUNDS.len()],
}

impl QueueDepths {
    /// Adds one device's queue length.
    pub fn count(&mut self, len: u64) {
        self.queued += len;
        self.devices += 1;
        for (bound, at_most) in QUEUE_DEPTH_BOUNDS.iter().zip(&mut self.at_most) {
            if len <= *bound {
                *at_most += 1;
            }
        }
    }

    /// The one query both backends answer it with, over `table`'s per-device `len`
    /// column: a single scan of a narrow table, summed in the database. The bounds are the
    /// constants above, never input.
    pub(crate) fn query(table: &str, len: &str) -> String {
        let bands: Vec<String> = QUEUE_DEPTH_BOUNDS
            .iter()
            .map(|bound| {
                format!(
                    "CAST(COALESCE(SUM(CASE WHEN {len} <= {bound} THEN 1 ELSE 0 END), 0) AS BIGINT)"
                )
            })
            .collect();
        format!(
            "SELECT CAST(COALESCE(SUM({len}), 0) AS BIGINT), COUNT(*), {} FROM {table}",
            bands.join(", ")
        )
    }

    /// Reads the query's one row: the sum, the count, then one figure per bound.
    pub(crate) fn from_row(figures: &[i64]) -> Self {
        let figure = |i: usize| figures.get(i).map_or(0, |&n| n.max(0) as u64);
        let mut depths = Self {
            queued: figure(0),
            devices: figure(1),
            ..Self::default()
        };
        for (i, at_most) in depths.at_most.iter_mut().enumerate() {
            *at_most = figure(i + 2);
        }
        depths
    }

    /// Both stores' figures together (regions).
    pub fn merge(&mut self, other: &QueueDepths) {
        self.queued += other.queued;
        self.devices += other.devices;
        for (mine, theirs) in self.at_most.iter_mut().zip(other.at_most) {
            *mine += theirs;
        }
    }
}

/// The delivery queue, as domain operations.
///
/// With regions, `advance_epoch` runs in the global store for groups whose members' queues
/// live in other stores, and `queue_lengths` and `deliver` run on those
/// (`crate::residency`).
pub trait QueueStore: Send + Sync {
    /// Applies the epoch rule alone, queueing nothing; returns the group's epoch after it.
    fn advance_epoch(
        &self,
        group: &GroupId,
        rule: EpochRule,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Which of `devices` live in this store, with the length of each one's queue.
    fn queue_lengths(
        &self,
        devices: &[DeviceId],
    ) -> impl Future<Output = Result<Vec<(DeviceId, u64)>, StoreError>> + Send;

    /// The distribution of queue lengths over the devices that live in this store.
    fn queue_depths(&self) -> impl Future<Output = Result<QueueDepths, StoreError>> + Send;

    /// Queues one payload of `kind` for those of `devices` that live in this store, with no
    /// depth limit (the caller checked it at admission), in one transaction. `None` if none
    /// of them is here any more.
    fn deliver(
        &self,
        kind: u8,
        payload: Vec<u8>,
        devices: Vec<DeviceId>,
        now_ms: u64,
        expires_ms: Option<u64>,
    ) -> impl Future<Output = Result<Option<MessageId>, StoreError>> + Send;

    /// Deletes every queue entry whose disappearing timer is over at `now_ms`, and the
    /// messages no queue holds any more. Returns how many queue entries went.
    fn expire_timed(&self, now_ms: u64) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Applies the epoch rule and queues the message (and any welcome) for every recipient,
    /// all in one transaction. When this returns `Ok`, the message is durable.
    fn submit(
        &self,
        submission: Submission,
    ) -> impl Future<Output = Result<Accepted, StoreError>> + Send;

    /// The group's current epoch, or `None` if the server has not seen the group.
    fn group_epoch(
        &self,
        group: &GroupId,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Up to `limit` queued messages for the device with ids above `after`, in id order.
    fn fetch_queue(
        &self,
        device: DeviceId,
        after: Option<MessageId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Queued>, StoreError>> + Send;

    /// Removes the listed messages from the device's queue; ids not in it are ignored.
    /// Returns how many were removed. A message leaves storage once no queue holds it.
    fn ack(
        &self,
        device: DeviceId,
        ids: Vec<MessageId>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Relays wake-ups for messages other processes accepted into `sink`, for as long as
    /// the future is polled. A backend only one process can use returns at once.
    fn relay_wakeups(&self, sink: WakeSink) -> impl Future<Output = ()> + Send;

    /// Tells other processes on this store that `device` is now connected here (they close
    /// any older connection of it: [`RemoteWake::Replaced`]).
    fn announce_connected(&self, device: DeviceId);

    /// Hands an ephemeral message to the other processes on this store, for those of
    /// `devices` connected there ([`RemoteWake::Ephemeral`]); stores nothing. A backend only
    /// one process can use does nothing.
    fn relay_ephemeral(&self, devices: Vec<DeviceId>, frame: EphemeralFrame);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_message_expires_no_later_than_its_timer_and_in_coarse_steps() {
        let now = 1_850_000_123_456;
        for secs in [1, 5, 30, 300, 3_600, 86_400, 28 * 86_400] {
            let end = stored_expiry(now, secs);
            let timer_ms = u64::from(secs) * 1000;
            assert!(end <= now + timer_ms, "never later ({secs} s)");
            assert!(
                end + (timer_ms / 4).clamp(1000, STORED_TIME_MS) > now + timer_ms,
                "at most one step sooner ({secs} s)"
            );
        }
        assert_eq!(
            stored_expiry(now, 86_400) % STORED_TIME_MS,
            0,
            "a day: whole hours"
        );
        assert_eq!(stored_expiry(now, 30) % 7_500, 0, "30 s: steps of 7.5 s");
    }
}
