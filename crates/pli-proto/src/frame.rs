//! Binary WebSocket frames of the data plane.
//!
//! Every frame starts with a one-byte tag; integers are big-endian. Deliveries are batched
//! (many messages per WebSocket message) because one socket write per small frame caps
//! throughput far below what batching reaches (DESIGN.md §7).
//!
//! ```text
//! server → client
//!   0x01 Deliver  count:u16 { id:u64 kind:u8 len:u32 bytes[len] } × count
//!                 kind 0: an MLS message; kind 1: a notice from the service (JSON)
//!   0x02 Drained                      the queue as of connection time has been sent
//!   0x03 Error    code:utf8…          then the server closes
//! client → server
//!   0x10 Ack      count:u16 { id:u64 } × count
//! ```
//!
//! Decoding never panics and never allocates more than the input's own size.

use crate::ids::MessageId;
use crate::limits::{MAX_ACK_IDS, MAX_MLS_MESSAGE_BYTES};

const TAG_DELIVER: u8 = 0x01;
const TAG_DRAINED: u8 = 0x02;
const TAG_ERROR: u8 = 0x03;
const TAG_ACK: u8 = 0x10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("empty frame")]
    Empty,
    #[error("unknown frame tag")]
    UnknownTag,
    #[error("frame ends early")]
    Truncated,
    #[error("frame has bytes past its end")]
    TrailingBytes,
    #[error("frame field exceeds its limit")]
    TooLarge,
    #[error("frame text is not UTF-8")]
    NotUtf8,
}

/// What a delivered payload is.
pub const KIND_MLS: u8 = 0;
/// A notice written by the service itself (say, that data was disclosed under a lawful
/// request), as JSON `ServerNotice`.
pub const KIND_NOTICE: u8 = 1;

/// One queued message pushed to a device.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: MessageId,
    pub kind: u8,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Delivery({}, <{} bytes>)", self.id, self.payload.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrame {
    Deliver(Vec<Delivery>),
    Drained,
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    Ack(Vec<MessageId>),
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

    fn finish(self) -> Result<(), FrameError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(FrameError::TrailingBytes)
        }
    }
}

impl ServerFrame {
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
        }
    }

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
            TAG_ERROR => {
                let text = std::str::from_utf8(reader.take(reader.rest.len())?)
                    .map_err(|_| FrameError::NotUtf8)?;
                ServerFrame::Error(text.to_owned())
            }
            _ => return Err(FrameError::UnknownTag),
        };
        reader.finish()?;
        Ok(frame)
    }
}

impl ClientFrame {
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
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let (&tag, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        let mut reader = Reader { rest: body };
        let frame = match tag {
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
