//! Franking on the device (`pli_proto::franking` says why): a fresh opening for each text
//! sent, the commitment put in the MLS message's authenticated data, and on receipt the
//! check that the commitment opens, with the opening and the server's stamp kept beside
//! the message so it can be reported later.

use crate::error::ClientError;
use pli_proto::franking::{self, STAMP_BYTES, Stamp};
use pli_proto::payload::{Body, Envelope, Opening};
use pli_proto::{DeviceId, GroupId, Username};
use rand::RngCore as _;
use rusqlite::{Connection, params};

/// A fresh opening for a new message (random id and franking key).
pub(crate) fn fresh_opening() -> Opening {
    Opening::random(|bytes| rand::rng().fill_bytes(bytes))
}

/// The MLS authenticated data for sending `envelope` (its encoded JSON) from `sender`'s
/// `device` in `group`: a text's commitment, and the envelope's disappearing timer, which
/// the server reads to expire its queue entry no later.
pub(crate) fn outgoing_aad(
    envelope: &[u8],
    sender: &Username,
    device: DeviceId,
    group: &GroupId,
) -> Vec<u8> {
    let Ok(envelope) = Envelope::decode(envelope) else {
        return Vec::new();
    };
    let commitment = match (&envelope.body, envelope.opening()) {
        (Body::Text { text, .. }, Some(opening)) => Some(franking::commitment(
            &opening.key,
            text,
            sender,
            device,
            group,
            &opening.message_id,
        )),
        _ => None,
    };
    let expires = envelope
        .expires
        .map(|secs| u32::try_from(secs).unwrap_or(u32::MAX));
    franking::aad(commitment.as_ref(), expires)
}

/// What a received text's franking left to keep: its opening and the server's stamp.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kept {
    pub opening: Opening,
    pub stamp: Stamp,
}

/// Checks a received text's franking: the commitment MLS authenticated opens with the
/// envelope's opening for this text, sender, device and conversation, and the server
/// stamped it. Anything else leaves the message unreportable (`None`), never unshown: a
/// sender who makes its own messages unreportable gains nothing the server would not see
/// (it stamps only what carries a commitment).
pub(crate) fn check_received(
    aad: &[u8],
    stamp: Option<Stamp>,
    envelope: &Envelope,
    text: &str,
    sender: &Username,
    device: DeviceId,
    group: &GroupId,
) -> Option<Kept> {
    let carried = franking::commitment_in(aad)?;
    let opening = envelope.opening()?;
    let opened = franking::commitment(
        &opening.key,
        text,
        sender,
        device,
        group,
        &opening.message_id,
    );
    if !franking::tags_match(&opened, &carried) {
        tracing::debug!("a received text's franking commitment does not open");
        return None;
    }
    Some(Kept {
        opening,
        stamp: stamp?,
    })
}

/// The stamp as the local history keeps it: key id, day, tag.
fn stamp_bytes(stamp: &Stamp) -> Vec<u8> {
    franking::stamp_payload(stamp, &[])[1..].to_vec()
}

/// The stamp kept by [`stamp_bytes`].
pub(crate) fn stamp_from(bytes: &[u8]) -> Option<Stamp> {
    if bytes.len() != STAMP_BYTES - 1 {
        return None;
    }
    let mut payload = vec![franking::STAMPED];
    payload.extend_from_slice(bytes);
    franking::split_payload(&payload).0
}

/// Keeps `kept` with the history's message `local_id`, which holds its message id
/// already (`changes::assign_id`).
pub(crate) fn keep(tx: &Connection, local_id: i64, kept: &Kept) -> Result<(), ClientError> {
    tx.prepare_cached("UPDATE messages SET frank_key = ?2, frank_stamp = ?3 WHERE local_id = ?1")?
        .execute(params![
            local_id,
            kept.opening.key.as_slice(),
            stamp_bytes(&kept.stamp)
        ])?;
    Ok(())
}
