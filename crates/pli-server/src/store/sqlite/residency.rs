//! The SQL behind the residency operations: the global username → region index, and the
//! two halves of a submission whose recipients live in other stores (the epoch rule here,
//! the queues there).

use super::queries::enqueue;
use super::rows::backend;
use crate::store::StoreError;
use pli_proto::{DeviceId, MessageId, Region, Username};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn claim_username(
    conn: &Connection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO home_regions (username, region) VALUES (?1, ?2)
             ON CONFLICT (username) DO NOTHING",
        )
        .and_then(|mut st| st.execute(params![username.as_str(), region.as_str()]))
        .map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::UsernameTaken);
    }
    Ok(())
}

pub(super) fn set_home_region(
    conn: &Connection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO home_regions (username, region) VALUES (?1, ?2)
         ON CONFLICT (username) DO UPDATE SET region = excluded.region",
    )
    .and_then(|mut st| st.execute(params![username.as_str(), region.as_str()]))
    .map_err(backend)?;
    Ok(())
}

pub(super) fn home_region(
    conn: &Connection,
    username: &Username,
) -> Result<Option<Region>, StoreError> {
    let raw: Option<String> = conn
        .prepare_cached("SELECT region FROM home_regions WHERE username = ?1")
        .and_then(|mut st| st.query_row([username.as_str()], |r| r.get(0)).optional())
        .map_err(backend)?;
    raw.map(|r| Region::parse(&r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .transpose()
}

pub(super) fn regions_in_use(conn: &Connection) -> Result<Vec<Region>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT DISTINCT region FROM home_regions ORDER BY region")
        .map_err(backend)?;
    let names = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    names
        .iter()
        .map(|r| Region::parse(r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .collect()
}

pub(super) fn release_username(conn: &Connection, username: &Username) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM home_regions WHERE username = ?1")
        .and_then(|mut st| st.execute([username.as_str()]))
        .map_err(backend)?;
    Ok(())
}

pub(super) fn queue_lengths(
    conn: &Connection,
    devices: &[DeviceId],
) -> Result<Vec<(DeviceId, u64)>, StoreError> {
    let mut lookup = conn
        .prepare_cached("SELECT len FROM queue_lens WHERE device_id = ?1")
        .map_err(backend)?;
    let mut found = Vec::new();
    for device in devices {
        let len: Option<i64> = lookup
            .query_row([device.get() as i64], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        if let Some(len) = len {
            found.push((*device, len as u64));
        }
    }
    Ok(found)
}

pub(super) fn deliver(
    conn: &Connection,
    kind: u8,
    payload: &[u8],
    devices: &[DeviceId],
    now_ms: u64,
) -> Result<Option<MessageId>, StoreError> {
    let mut present: Vec<DeviceId> = queue_lengths(conn, devices)?
        .into_iter()
        .map(|(device, _)| device)
        .collect();
    present.sort_unstable();
    present.dedup();
    if present.is_empty() {
        return Ok(None);
    }
    enqueue(conn, kind, payload, &present, now_ms, i64::MAX as u64).map(Some)
}
