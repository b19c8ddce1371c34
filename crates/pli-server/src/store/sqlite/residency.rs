//! The SQL behind the residency operations: the global username → region index, and the
//! two halves of a submission whose recipients live in other stores (the epoch rule here,
//! the queues there).

use super::rows::backend;
use crate::store::StoreError;
use pli_proto::{Region, Username};
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
