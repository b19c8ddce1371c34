//! Binary WebSocket frames of the data plane.
//!
//! Every frame starts with a one-byte tag; integers are big-endian. Deliveries are batched
//! (many messages per WebSocket message) because one socket write per small frame caps
//! throughput far below what batching reaches (docs/ARCHITECTURE.md, "Facts the design rests on").
//!
//! ```text
//! server → client
//!   0x01 Deliver  count:u16 { id:u64 kind:u8 len:u32 bytes[len] } × count
//!                 kind 0: an MLS message; kind 1: a notice from the service (JSON);
//!                 kind 2: directory keys and kind 3: a history archive part, both for a
//!                 newly linked device from the one that approved it
//!   0x02 Drained                      the queue as of connection time has been sent
//!   0x03 Error    code:utf8…          then the server closes
//!   0x04 Accepted ref:u32 id:u64 epoch:u64       a Submit is committed for every recipient
//!   0x05 Refused  ref:u32 code:utf8…             a Submit was refused (stable error code);
//!                                                the socket stays open
//!   0x06 Ephemeral glen:u8 group[glen] len:u32 message[len]
//!                 an MLS message never stored (a typing indicator): not acked, not
//!                 queued, sent only to a device connected when it came
//! client → server
//!   0x10 Ack      count:u16 { id:u64 } × count
//!   0x11 Submit   ref:u32 glen:u8 group[glen] count:u16 { device:u64 } × count
//!                 len:u32 message[len]
//! ```
//!
//! `Submit` is `POST /v1/messages` without a Welcome, over the socket a device already
//! holds: no HTTP request, JSON or base64 per message, and many submissions in flight on
//! one connection (at most [`crate::limits::MAX_WS_SUBMITS_IN_FLIGHT`]; past that the server stops
//! reading until some are answered). `ref` is the client's own number for matching
//! answers, which come in the order submissions commit, not the order they were sent.
//!
//! Decoding never panics and never allocates more than the input's own size.

use crate::ids::{DeviceId, GroupId, MessageId};
use crate::limits::{MAX_ACK_IDS, MAX_EPHEMERAL_BYTES, MAX_MLS_MESSAGE_BYTES, MAX_RECIPIENTS};

const TAG_DELIVER: u8 = 0x01;
const TAG_DRAINED: u8 = 0x02;
const TAG_ERROR: u8 = 0x03;
const TAG_ACCEPTED: u8 = 0x04;
const TAG_REFUSED: u8 = 0x05;
const TAG_EPHEMERAL: u8 = 0x06;
const TAG_ACK: u8 = 0x10;
const TAG_SUBMIT: u8 = 0x11;

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No bytes at all: not even a tag.
    #[error("empty frame")]
    Empty,
    /// A tag this build does not know.
    #[error("unknown frame tag")]
    UnknownTag,
    /// The frame ends before a field it announces.
    #[error("frame ends early")]
    Truncated,
    /// Bytes are left after the last field.
    #[error("frame has bytes past its end")]
    TrailingBytes,
    /// A count or length over its limit in [`crate::limits`].
    #[error("frame field exceeds its limit")]
    TooLarge,
    /// An error code or refusal that is not UTF-8.
    #[error("frame text is not UTF-8")]
    NotUtf8,
    /// A group or device id that its type refuses.
    #[error("frame holds an invalid group or device id")]
    InvalidId,
}

/// What a delivered payload is ([`Delivery::kind`]): an MLS message (`MLSMessage` bytes).
pub const KIND_MLS: u8 = 0;
/// A notice written by the service itself (say, that data was disclosed under a lawful
/// request), as JSON `ServerNotice`.
pub const KIND_NOTICE: u8 = 1;
/// The key directory's keys as the device that approved this one holds them, relayed by
/// the server for a newly linked device, as JSON [`crate::kt::LinkedDirectoryKeys`].
pub const KIND_LINK_KEYS: u8 = 2;
/// One part of a history archive that the device which approved this one sealed for it
/// under the link secret (the server cannot open it), relayed with a short lifetime
/// ([`crate::limits::HISTORY_TTL_SECS`]).
pub const KIND_HISTORY: u8 = 3;

/// One queued message pushed to a device.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The queue entry's id, which the device acks.
    pub id: MessageId,
    /// What the payload is: [`KIND_MLS`], [`KIND_NOTICE`], [`KIND_LINK_KEYS`] or
    /// [`KIND_HISTORY`].
    pub kind: u8,
    /// The bytes, as the sender submitted them.
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Delivery({}, <{} bytes>)", self.id, self.payload.len())
    }
}

/// A frame from the server to a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrame {
    /// Queued messages, many per frame; each stays queued until the device acks it.
    Deliver(Vec<Delivery>),
    /// Everything queued when the connection opened has been sent; what follows is new.
    Drained,
    /// A fatal error with its stable code ([`crate::ErrorCode`]); the server then closes.
    Error(String),
    /// The submission numbered `reference` is committed for every recipient.
    Accepted {
        /// The client's number for the submission.
        reference: u32,
        /// The id the server gave the message.
        id: MessageId,
        /// The group's epoch after the message.
        epoch: u64,
    },
    /// The submission numbered `reference` was refused with this error code.
    Refused {
        /// The client's number for the submission.
        reference: u32,
        /// The stable error code, as its HTTP answer would carry it.
        code: String,
    },
    /// An ephemeral MLS message for `group` (`POST /v1/ephemeral`): not acked, never
    /// stored.
    Ephemeral {
        /// The group it is for.
        group: GroupId,
        /// The `MLSMessage` bytes.
        message: Vec<u8>,
    },
}

/// A frame from a device to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// These deliveries are processed: the server may drop them from the queue.
    Ack(Vec<MessageId>),
    /// A message to queue for a group's devices.
    Submit(Submit),
}

/// One MLS message for a group, as `POST /v1/messages` takes it but without a Welcome.
#[derive(Clone, PartialEq, Eq)]
pub struct Submit {
    /// The client's own number, echoed in the `Accepted` or `Refused` answer.
    pub reference: u32,
    /// The group the message is for.
    pub group: GroupId,
    /// The devices to queue it for.
    pub recipients: Vec<DeviceId>,
    /// The `MLSMessage` bytes (a `PrivateMessage`).
    pub message: Vec<u8>,
}

impl std::fmt::Debug for Submit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Submit({}, {} recipients, <{} bytes>)",
            self.reference,
            self.recipients.len(),
            self.message.len()
        )
    }
}

/// A cursor over untrusted bytes whose reads fail instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if self.rest.len() < n {
            return Err(FrameError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, FrameError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(buf))
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(buf))
    }

    /// The rest of the frame, as UTF-8.
    fn text(&mut self) -> Result<String, FrameError> {
        let bytes = self.take(self.rest.len())?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| FrameError::NotUtf8)
    }

    fn finish(self) -> Result<(), FrameError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(FrameError::TrailingBytes)
        }
    }
}

impl ServerFrame {
    /// The frame's bytes, as one WebSocket binary message.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerFrame::Deliver(items) => {
                let size: usize = items.iter().map(|d| 13 + d.payload.len()).sum();
                let mut out = Vec::with_capacity(3 + size);
                out.push(TAG_DELIVER);
                out.extend_from_slice(&(items.len() as u16).to_be_bytes());
                for item in items {
                    out.extend_from_slice(&item.id.0.to_be_bytes());
                    out.push(item.kind);
                    out.extend_from_slice(&(item.payload.len() as u32).to_be_bytes());
                    out.extend_from_slice(&item.payload);
                }
                out
            }
            ServerFrame::Drained => vec![TAG_DRAINED],
            ServerFrame::Error(code) => {
                let mut out = vec![TAG_ERROR];
                out.extend_from_slice(code.as_bytes());
                out
            }
            ServerFrame::Accepted {
                reference,
                id,
                epoch,
            } => {
                let mut out = Vec::with_capacity(21);
                out.push(TAG_ACCEPTED);
                out.extend_from_slice(&reference.to_be_bytes());
                out.extend_from_slice(&id.0.to_be_bytes());
                out.extend_from_slice(&epoch.to_be_bytes());
                out
            }
            ServerFrame::Refused { reference, code } => {
                let mut out = Vec::with_capacity(5 + code.len());
                out.push(TAG_REFUSED);
                out.extend_from_slice(&reference.to_be_bytes());
                out.extend_from_slice(code.as_bytes());
                out
            }
            ServerFrame::Ephemeral { group, message } => {
                let mut out = Vec::with_capacity(6 + group.as_bytes().len() + message.len());
                out.push(TAG_EPHEMERAL);
                out.push(group.as_bytes().len() as u8);
                out.extend_from_slice(group.as_bytes());
                out.extend_from_slice(&(message.len() as u32).to_be_bytes());
                out.extend_from_slice(message);
                out
            }
        }
    }

    /// Reads one frame from untrusted bytes; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let (&tag, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        let mut reader = Reader { rest: body };
        let frame = match tag {
            TAG_DELIVER => {
                let count = reader.u16()? as usize;
                // Each item takes at least 13 bytes, so a lying count cannot make us reserve
                // more than the input justifies.
                let mut items = Vec::with_capacity(count.min(reader.rest.len() / 13));
                for _ in 0..count {
                    let id = MessageId(reader.u64()?);
                    let kind = reader.take(1)?[0];
                    let len = reader.u32()? as usize;
                    if len > MAX_MLS_MESSAGE_BYTES {
                        return Err(FrameError::TooLarge);
                    }
                    let payload = reader.take(len)?.to_vec();
                    items.push(Delivery { id, kind, payload });
                }
                ServerFrame::Deliver(items)
            }
            TAG_DRAINED => ServerFrame::Drained,
            TAG_ERROR => ServerFrame::Error(reader.text()?),
            TAG_ACCEPTED => ServerFrame::Accepted {
                reference: reader.u32()?,
                id: MessageId(reader.u64()?),
                epoch: reader.u64()?,
            },
            TAG_REFUSED => ServerFrame::Refused {
                reference: reader.u32()?,
                code: reader.text()?,
            },
            TAG_EPHEMERAL => {
                let glen = reader.take(1)?[0] as usize;
                let group =
                    GroupId::from_bytes(reader.take(glen)?).map_err(|_| FrameError::InvalidId)?;
                let len = reader.u32()? as usize;
                if len > MAX_EPHEMERAL_BYTES {
                    return Err(FrameError::TooLarge);
                }
                ServerFrame::Ephemeral {
                    group,
                    message: reader.take(len)?.to_vec(),
                }
            }
            _ => return Err(FrameError::UnknownTag),
        };
        reader.finish()?;
        Ok(frame)
    }
}

impl ClientFrame {
    /// The frame's bytes, as one WebSocket binary message.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ClientFrame::Ack(ids) => {
                let mut out = Vec::with_capacity(3 + 8 * ids.len());
                out.push(TAG_ACK);
                out.extend_from_slice(&(ids.len() as u16).to_be_bytes());
                for id in ids {
                    out.extend_from_slice(&id.0.to_be_bytes());
                }
                out
            }
            ClientFrame::Submit(submit) => {
                let mut out = Vec::with_capacity(
                    12 + submit.group.as_bytes().len()
                        + 8 * submit.recipients.len()
                        + submit.message.len(),
                );
                out.push(TAG_SUBMIT);
                out.extend_from_slice(&submit.reference.to_be_bytes());
                out.push(submit.group.as_bytes().len() as u8);
                out.extend_from_slice(submit.group.as_bytes());
                out.extend_from_slice(&(submit.recipients.len() as u16).to_be_bytes());
                for device in &submit.recipients {
                    out.extend_from_slice(&device.get().to_be_bytes());
                }
                out.extend_from_slice(&(submit.message.len() as u32).to_be_bytes());
                out.extend_from_slice(&submit.message);
                out
            }
        }
    }

    /// Reads one frame from untrusted bytes; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let (&tag, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        let mut reader = Reader { rest: body };
        let frame = match tag {
            TAG_SUBMIT => ClientFrame::Submit(decode_submit(&mut reader)?),
            TAG_ACK => {
                let count = reader.u16()? as usize;
                if count > MAX_ACK_IDS {
                    return Err(FrameError::TooLarge);
                }
                let mut ids = Vec::with_capacity(count.min(reader.rest.len() / 8));
                for _ in 0..count {
                    ids.push(MessageId(reader.u64()?));
                }
                ClientFrame::Ack(ids)
            }
            _ => return Err(FrameError::UnknownTag),
        };
        reader.finish()?;
        Ok(frame)
    }
}

fn decode_submit(reader: &mut Reader<'_>) -> Result<Submit, FrameError> {
    let reference = reader.u32()?;
    let group_len = reader.take(1)?[0] as usize;
    let group = GroupId::from_bytes(reader.take(group_len)?).map_err(|_| FrameError::InvalidId)?;
    let count = reader.u16()? as usize;
    if count > MAX_RECIPIENTS {
        return Err(FrameError::TooLarge);
    }
    let mut recipients = Vec::with_capacity(count.min(reader.rest.len() / 8));
    for _ in 0..count {
        recipients.push(DeviceId::new(reader.u64()?).map_err(|_| FrameError::InvalidId)?);
    }
    let len = reader.u32()? as usize;
    if len > MAX_MLS_MESSAGE_BYTES {
        return Err(FrameError::TooLarge);
    }
    let message = reader.take(len)?.to_vec();
    Ok(Submit {
        reference,
        group,
        recipients,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deliver_round_trips() {
        let frame = ServerFrame::Deliver(vec![
            Delivery {
                id: MessageId(1),
                kind: KIND_MLS,
                payload: b"hello".to_vec(),
            },
            Delivery {
                id: MessageId(u64::MAX),
                kind: KIND_NOTICE,
                payload: vec![],
            },
        ]);
        assert_eq!(ServerFrame::decode(&frame.encode()), Ok(frame));
        assert_eq!(
            ServerFrame::decode(&[TAG_DRAINED]),
            Ok(ServerFrame::Drained)
        );
    }

    #[test]
    fn ack_round_trips_and_refuses_oversized_counts() {
        let frame = ClientFrame::Ack(vec![MessageId(3), MessageId(9)]);
        assert_eq!(ClientFrame::decode(&frame.encode()), Ok(frame));
        let too_many = ClientFrame::Ack(vec![MessageId(1); MAX_ACK_IDS + 1]).encode();
        assert_eq!(ClientFrame::decode(&too_many), Err(FrameError::TooLarge));
    }

    fn submit() -> Submit {
        Submit {
            reference: 7,
            group: GroupId::from_bytes(&[3; 16]).expect("valid"),
            recipients: vec![
                DeviceId::new(1).expect("valid"),
                DeviceId::new(DeviceId::MAX).expect("valid"),
            ],
            message: b"ciphertext".to_vec(),
        }
    }

    #[test]
    fn ephemeral_frames_round_trip_and_refuse_oversized_messages() {
        let group = GroupId::from_bytes(&[7; 16]).expect("id");
        let frame = ServerFrame::Ephemeral {
            group: group.clone(),
            message: vec![1; MAX_EPHEMERAL_BYTES],
        };
        assert_eq!(ServerFrame::decode(&frame.encode()), Ok(frame));
        let oversized = ServerFrame::Ephemeral {
            group,
            message: vec![1; MAX_EPHEMERAL_BYTES + 1],
        };
        assert_eq!(
            ServerFrame::decode(&oversized.encode()),
            Err(FrameError::TooLarge)
        );
        assert_eq!(
            ServerFrame::decode(&[TAG_EPHEMERAL, 3, 1, 2, 3, 0, 0, 0, 0]),
            Err(FrameError::InvalidId),
            "a group id of 3 bytes"
        );
    }

    #[test]
    fn submit_and_its_answers_round_trip() {
        let frame = ClientFrame::Submit(submit());
        assert_eq!(ClientFrame::decode(&frame.encode()), Ok(frame));
        for answer in [
            ServerFrame::Accepted {
                reference: u32::MAX,
                id: MessageId(9),
                epoch: 4,
            },
            ServerFrame::Refused {
                reference: 1,
                code: "stale_epoch".into(),
            },
        ] {
            assert_eq!(ServerFrame::decode(&answer.encode()), Ok(answer));
        }
    }

    #[test]
    fn submits_with_bad_ids_or_sizes_are_refused() {
        let mut short_group = ClientFrame::Submit(submit()).encode();
        short_group[5] = 15; // claims a 15-byte group id, under the minimum
        assert!(ClientFrame::decode(&short_group).is_err());
        let mut bad_device = submit();
        bad_device.recipients = vec![];
        let mut bytes = ClientFrame::Submit(bad_device).encode();
        // Splice in one recipient above DeviceId::MAX.
        let at = 1 + 4 + 1 + 16;
        bytes[at..at + 2].copy_from_slice(&1u16.to_be_bytes());
        bytes.splice(at + 2..at + 2, u64::MAX.to_be_bytes());
        assert_eq!(ClientFrame::decode(&bytes), Err(FrameError::InvalidId));
        let mut too_many = ClientFrame::Submit(submit()).encode();
        too_many[at..at + 2].copy_from_slice(&((MAX_RECIPIENTS + 1) as u16).to_be_bytes());
        assert_eq!(ClientFrame::decode(&too_many), Err(FrameError::TooLarge));
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert_eq!(ServerFrame::decode(&[]), Err(FrameError::Empty));
        assert_eq!(ServerFrame::decode(&[0x7f]), Err(FrameError::UnknownTag));
        assert_eq!(
            ServerFrame::decode(&[TAG_DELIVER, 0, 1, 0]),
            Err(FrameError::Truncated)
        );
        assert_eq!(
            ServerFrame::decode(&[TAG_DRAINED, 0]),
            Err(FrameError::TrailingBytes)
        );
        assert_eq!(
            ClientFrame::decode(&[TAG_ACK, 0, 1, 0, 0]),
            Err(FrameError::Truncated)
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = ServerFrame::decode(&bytes);
            let _ = ClientFrame::decode(&bytes);
        }

        #[test]
        fn ack_encoding_round_trips(ids in proptest::collection::vec(any::<u64>(), 0..64)) {
            let frame = ClientFrame::Ack(ids.into_iter().map(MessageId).collect());
            prop_assert_eq!(ClientFrame::decode(&frame.encode()), Ok(frame));
        }
    }
}
