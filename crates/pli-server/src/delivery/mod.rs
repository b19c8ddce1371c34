//! The MLS delivery service: what is accepted, and who is woken.
//!
//! - [`parse_submission`] checks a submitted message at the boundary: a real RFC 9420
//!   `PrivateMessage` for the named group, whose clear header (epoch, content type) decides
//!   the epoch rule, so a client cannot lie about whether it sends a commit.
//! - [`Hub`] maps each connected device to its one live connection and wakes it when a
//!   message lands in its queue.
//! - [`accept`] takes one submission through rate limits, checks and the durable write.
//! - [`session`] is the WebSocket side: push the queue, mark it drained, take acks.
//! - [`ephemeral`] hands a typing indicator to the devices connected now, storing nothing.

pub mod accept;
pub mod ephemeral;
pub mod session;

use crate::store::{EpochRule, Submission};
use openmls::prelude::{ContentType, MlsMessageBodyIn, MlsMessageIn};
use pli_proto::DeviceId;
use pli_proto::api::SubmitRequest;
use pli_proto::limits::{MAX_DISAPPEAR_SECS, MAX_MLS_MESSAGE_BYTES, MAX_RECIPIENTS};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tls_codec::Deserialize as _;
use tokio::sync::{Notify, mpsc};

pub use crate::store::EphemeralFrame;

/// Ephemeral messages a connection may have waiting to be written; past that, new ones
/// are dropped (a typing indicator late is worth nothing).
const EPHEMERAL_BACKLOG: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    #[error("an MLS message exceeds {MAX_MLS_MESSAGE_BYTES} bytes")]
    TooLarge,
    #[error("a message may name at most {MAX_RECIPIENTS} recipient devices")]
    TooManyRecipients,
    #[error("a message needs at least one recipient device")]
    NoRecipients,
    #[error("the message is not an MLS PrivateMessage")]
    NotPrivateMessage,
    #[error("the message's group id differs from the request's")]
    GroupMismatch,
    #[error("the welcome is not an MLS Welcome message, or it accompanies a non-commit")]
    BadWelcome,
    #[error(
        "an ephemeral message exceeds {} bytes",
        pli_proto::limits::MAX_EPHEMERAL_BYTES
    )]
    EphemeralTooLarge,
    #[error(
        "an ephemeral message may name at most {} recipient devices",
        pli_proto::limits::MAX_EPHEMERAL_RECIPIENTS
    )]
    TooManyEphemeralRecipients,
    #[error("an ephemeral message must be an MLS application message")]
    NotApplication,
}

/// Validates a submission and derives its epoch rule from the MLS header; also returns the
/// franking commitment an application message carries in its authenticated data (in
/// clear, and authenticated by MLS for the recipients).
pub fn parse_submission(
    request: SubmitRequest,
    now_ms: u64,
    max_queue_depth: u64,
) -> Result<(Submission, Option<[u8; 32]>), DeliveryError> {
    let message = request.message.into_inner();
    if message.len() > MAX_MLS_MESSAGE_BYTES {
        return Err(DeliveryError::TooLarge);
    }
    let welcome_recipients = request.welcome.as_ref().map_or(0, |w| w.recipients.len());
    if request.recipients.len() + welcome_recipients > MAX_RECIPIENTS {
        return Err(DeliveryError::TooManyRecipients);
    }
    let parsed = MlsMessageIn::tls_deserialize_exact(message.as_slice())
        .map_err(|_| DeliveryError::NotPrivateMessage)?;
    let MlsMessageBodyIn::PrivateMessage(private) = parsed.extract() else {
        return Err(DeliveryError::NotPrivateMessage);
    };
    if private.group_id().as_slice() != request.group_id.as_bytes() {
        return Err(DeliveryError::GroupMismatch);
    }
    let epoch = private.epoch().as_u64();
    let application = private.content_type() == ContentType::Application;
    let commitment = application
        .then(|| pli_proto::franking::commitment_in(private.aad()))
        .flatten();
    // A longer timer than the longest allowed is held to it: the queue entry may go
    // sooner than the sender asked, never later.
    let expires_ms = application
        .then(|| pli_proto::franking::expiry_in(private.aad()))
        .flatten()
        .map(|secs| secs.min(MAX_DISAPPEAR_SECS as u32))
        .map(|secs| crate::store::stored_expiry(now_ms, secs));
    let rule = match private.content_type() {
        ContentType::Commit => EpochRule::Commit { epoch },
        ContentType::Proposal => EpochRule::Proposal { epoch },
        ContentType::Application => EpochRule::Application { epoch },
    };
    let welcome = match request.welcome {
        None => None,
        Some(welcome) => {
            let bytes = welcome.message.into_inner();
            if bytes.len() > MAX_MLS_MESSAGE_BYTES {
                return Err(DeliveryError::TooLarge);
            }
            let is_welcome = MlsMessageIn::tls_deserialize_exact(bytes.as_slice())
                .map(|m| matches!(m.extract(), MlsMessageBodyIn::Welcome(_)))
                .unwrap_or(false);
            if !is_welcome
                || !matches!(rule, EpochRule::Commit { .. })
                || welcome.recipients.is_empty()
            {
                return Err(DeliveryError::BadWelcome);
            }
            Some((bytes, welcome.recipients))
        }
    };
    // A commit that only welcomes new members (a group's first) may have no other recipients.
    if request.recipients.is_empty() && welcome.is_none() {
        return Err(DeliveryError::NoRecipients);
    }
    let submission = Submission {
        group: request.group_id,
        rule,
        payload: message,
        recipients: request.recipients,
        welcome,
        now_ms: crate::store::stored_time(now_ms),
        max_queue_depth,
        expires_ms,
    };
    Ok((submission, commitment))
}

/// Milliseconds since the Unix epoch by this machine's clock: when connections were made,
/// compared across nodes (whose clocks NTP keeps within milliseconds).
pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The live connection of one device.
struct Slot {
    generation: u64,
    attached_ms: u64,
    wake: Arc<Notify>,
    replaced: Arc<Notify>,
    ephemeral: mpsc::Sender<EphemeralFrame>,
}

/// Connected devices. One active consumer per device: a new connection replaces the old
/// one, which is told to close, so two sockets never race on one queue.
#[derive(Default)]
pub struct Hub {
    slots: Mutex<HashMap<DeviceId, Slot>>,
    generations: AtomicU64,
}

/// What a connection holds while it is the device's active one.
pub struct Attachment {
    pub device: DeviceId,
    pub generation: u64,
    pub wake: Arc<Notify>,
    pub replaced: Arc<Notify>,
    /// Ephemeral messages for this connection, taken once by its session.
    ephemeral: Mutex<Option<mpsc::Receiver<EphemeralFrame>>>,
}

impl Attachment {
    /// The ephemeral messages for this connection (once; `None` after).
    pub fn take_ephemeral(&self) -> Option<mpsc::Receiver<EphemeralFrame>> {
        self.ephemeral
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

impl Hub {
    pub fn attach(&self, device: DeviceId) -> Attachment {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let wake = Arc::new(Notify::new());
        let replaced = Arc::new(Notify::new());
        let (ephemeral, ephemeral_rx) = mpsc::channel(EPHEMERAL_BACKLOG);
        let slot = Slot {
            generation,
            attached_ms: wall_clock_ms(),
            wake: wake.clone(),
            replaced: replaced.clone(),
            ephemeral,
        };
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = slots.insert(device, slot) {
            old.replaced.notify_one();
        }
        Attachment {
            device,
            generation,
            wake,
            replaced,
            ephemeral: Mutex::new(Some(ephemeral_rx)),
        }
    }

    /// Removes the device's slot if it still belongs to this attachment.
    pub fn detach(&self, attachment: &Attachment) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots
            .get(&attachment.device)
            .is_some_and(|s| s.generation == attachment.generation)
        {
            slots.remove(&attachment.device);
        }
    }

    /// Wakes each listed device that is connected here. `Notify` keeps one permit, so a
    /// wake that arrives while the connection is busy sending is not lost.
    pub fn wake(&self, devices: impl IntoIterator<Item = DeviceId>) {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for device in devices {
            if let Some(slot) = slots.get(&device) {
                slot.wake.notify_one();
            }
        }
    }

    /// Hands `frame` to each listed device connected here, dropping it where the
    /// connection's backlog is full; returns how many took it.
    pub fn hand_ephemeral(
        &self,
        devices: impl IntoIterator<Item = DeviceId>,
        frame: &EphemeralFrame,
    ) -> usize {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        devices
            .into_iter()
            .filter_map(|device| slots.get(&device))
            .filter(|slot| slot.ephemeral.try_send(frame.clone()).is_ok())
            .count()
    }

    /// Tells the connections of these devices made before the given times that they were
    /// replaced (by a connection to another node); each closes.
    pub fn replace(&self, devices: impl IntoIterator<Item = (DeviceId, u64)>) {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for (device, connected_elsewhere_ms) in devices {
            if let Some(slot) = slots.get(&device)
                && slot.attached_ms < connected_elsewhere_ms
            {
                slot.replaced.notify_one();
            }
        }
    }

    /// Wakes every connection here (after wake-ups from other nodes may have been missed).
    pub fn wake_all(&self) {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for slot in slots.values() {
            slot.wake.notify_one();
        }
    }

    pub fn connected(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pli_proto::GroupId;

    fn request(message: Vec<u8>) -> SubmitRequest {
        SubmitRequest {
            group_id: GroupId::from_bytes(&[1; 16]).expect("valid"),
            message: message.into(),
            recipients: vec![DeviceId::new(1).expect("valid")],
            welcome: None,
        }
    }

    #[test]
    fn non_mls_and_oversized_messages_are_refused() {
        assert_eq!(
            parse_submission(request(vec![1, 2, 3]), 0, 10).err(),
            Some(DeliveryError::NotPrivateMessage)
        );
        assert_eq!(
            parse_submission(request(vec![0; MAX_MLS_MESSAGE_BYTES + 1]), 0, 10).err(),
            Some(DeliveryError::TooLarge)
        );
        let mut many = request(vec![]);
        many.recipients = vec![DeviceId::new(1).expect("valid"); MAX_RECIPIENTS + 1];
        assert_eq!(
            parse_submission(many, 0, 10).err(),
            Some(DeliveryError::TooManyRecipients)
        );
    }

    #[test]
    fn a_new_connection_replaces_the_old_one() {
        let hub = Hub::default();
        let device = DeviceId::new(5).expect("valid");
        let first = hub.attach(device);
        let second = hub.attach(device);
        // The first was told to go; its permit is waiting.
        assert!(futures_util::FutureExt::now_or_never(first.replaced.notified()).is_some());
        hub.detach(&first);
        assert_eq!(
            hub.connected(),
            1,
            "a stale detach leaves the new slot alone"
        );
        hub.wake([device]);
        assert!(futures_util::FutureExt::now_or_never(second.wake.notified()).is_some());
        hub.detach(&second);
        assert_eq!(hub.connected(), 0);
    }

    #[test]
    fn only_connections_older_than_one_elsewhere_are_replaced() {
        let hub = Hub::default();
        let device = DeviceId::new(5).expect("valid");
        let here = hub.attach(device);
        hub.replace([(device, 0)]);
        assert!(
            futures_util::FutureExt::now_or_never(here.replaced.notified()).is_none(),
            "a connection made after the one elsewhere stays"
        );
        hub.replace([(device, wall_clock_ms() + 1)]);
        assert!(futures_util::FutureExt::now_or_never(here.replaced.notified()).is_some());
    }
}
