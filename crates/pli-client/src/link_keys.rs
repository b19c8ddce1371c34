//! A newly linked device takes the key directory's keys from the device that approves it,
//! not from the server.
//!
//! The directory's keys are what a device checks every key against, so whoever hands them
//! to a device decides what it trusts. A registering device can only meet them at the
//! server (trust on first use). A linked device has a better source: the user's own device
//! that approves it. The link code carries a one-time secret from the new device to the
//! approving one (the user types or scans it; the server never sees it), the approving
//! device sends its pinned keys with a MAC under that secret, the server only queues them
//! (kind [`KIND_LINK_KEYS`](pli_proto::frame::KIND_LINK_KEYS)), and the new device pins
//! them only if the MAC checks. Until they arrive it pins nothing and trusts nothing: it
//! fails closed.

use crate::error::ClientError;
use crate::local;
use hmac::{Hmac, Mac};
use pli_proto::kt::LinkedDirectoryKeys;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], origin: &str, signing_key: &[u8], vrf_key: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&LinkedDirectoryKeys::mac_input(
        origin,
        signing_key,
        vrf_key,
    ));
    mac
}

/// The approving device's pinned keys (`origin`, signing key, VRF key) for the new device,
/// authenticated under the link secret.
pub(crate) fn for_new_device(
    (origin, signing_key, vrf_key): (&str, &[u8], &[u8]),
    secret: &[u8],
) -> LinkedDirectoryKeys {
    let tag = mac(secret, origin, signing_key, vrf_key)
        .finalize()
        .into_bytes()
        .to_vec();
    LinkedDirectoryKeys {
        origin: origin.to_owned(),
        signing_key: signing_key.to_vec().into(),
        vrf_public_key: vrf_key.to_vec().into(),
        mac: tag.into(),
    }
}

/// Remembers the link secret of a device waiting for its approval.
pub(crate) fn await_keys(conn: &Connection, secret: &[u8]) -> Result<(), ClientError> {
    conn.execute(
        "INSERT OR REPLACE INTO link_pending (id, secret) VALUES (1, ?1)",
        [secret],
    )?;
    Ok(())
}

/// True while this device waits for the directory keys from the device approving it.
pub(crate) fn waiting(conn: &Connection) -> Result<bool, ClientError> {
    Ok(conn
        .query_row("SELECT 1 FROM link_pending WHERE id = 1", [], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Takes a relayed set of keys (a delivery of kind `KIND_LINK_KEYS`): pins them if this
/// device waits for them and the MAC checks; otherwise tells the user and pins nothing.
pub(crate) fn receive(tx: &Connection, payload: &[u8]) -> Result<(), ClientError> {
    let secret: Option<Vec<u8>> = tx
        .query_row("SELECT secret FROM link_pending WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(secret) = secret else {
        // Not waiting (pinned already, or registered): nothing to take.
        return Ok(());
    };
    let keys: Option<LinkedDirectoryKeys> = serde_json::from_slice(payload).ok();
    let verified = keys.filter(|k| {
        mac(
            &secret,
            &k.origin,
            k.signing_key.as_slice(),
            k.vrf_public_key.as_slice(),
        )
        .verify_slice(k.mac.as_slice())
        .is_ok()
            && k.signing_key.as_slice().len() == 32
    });
    let Some(keys) = verified else {
        local::notice(
            tx,
            None,
            true,
            "the key directory's keys your approving device sent did not arrive intact: the server may be trying to show this device a directory of its own; link it again",
            local::now_ms(),
        )?;
        return Ok(());
    };
    tx.execute(
        "INSERT OR IGNORE INTO kt_keys (id, origin, signing_key, vrf_key) VALUES (1, ?1, ?2, ?3)",
        params![
            keys.origin,
            keys.signing_key.as_slice(),
            keys.vrf_public_key.as_slice()
        ],
    )?;
    tx.execute("DELETE FROM link_pending WHERE id = 1", [])?;
    // The same secret opens the history archive, if the user chose one.
    crate::linked_history::keep_secret(tx, &secret, local::now_ms())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_keys_are_pinned_only_with_the_link_secret() {
        let home = tempfile::tempdir().expect("temp dir");
        let conn = local::open(home.path()).expect("open");
        let keys: (&str, &[u8], &[u8]) = ("pli.test/kt", &[4; 32], &[5; 32]);
        let pinned = || -> Option<(String, Vec<u8>, Vec<u8>)> {
            conn.query_row(
                "SELECT origin, signing_key, vrf_key FROM kt_keys WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .expect("read")
        };
        await_keys(&conn, &[9; 32]).expect("wait");
        // Keys MACed under another secret (a server guessing) are refused.
        let forged = for_new_device(keys, &[8; 32]);
        receive(&conn, &serde_json::to_vec(&forged).expect("json")).expect("receive");
        assert!(waiting(&conn).expect("waiting"));
        assert_eq!(pinned(), None);
        let relayed = for_new_device(keys, &[9; 32]);
        receive(&conn, &serde_json::to_vec(&relayed).expect("json")).expect("receive");
        assert!(!waiting(&conn).expect("waiting"));
        assert_eq!(
            pinned(),
            Some((keys.0.to_owned(), keys.1.to_vec(), keys.2.to_vec()))
        );
    }
}
