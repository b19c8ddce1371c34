//! The residency operations on PostgreSQL: the global username → region index, and the
//! two halves of a submission whose recipients live in other databases (the epoch rule in
//! `pli_apply_epoch_rule`, the queues in `pli_deliver`; migration 0003).

use super::rows::backend;
use crate::store::StoreError;
use pli_proto::{Region, Username};
use sqlx::postgres::PgConnection;

pub(super) async fn claim_username(
    conn: &mut PgConnection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO home_regions (username, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(username.as_str())
    .bind(region.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::UsernameTaken);
    }
    Ok(())
}

pub(super) async fn set_home_region(
    conn: &mut PgConnection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO home_regions (username, region) VALUES ($1, $2)
         ON CONFLICT (username) DO UPDATE SET region = excluded.region",
    )
    .bind(username.as_str())
    .bind(region.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn home_region(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<Option<Region>, StoreError> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT region FROM home_regions WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    raw.map(|r| Region::parse(&r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .transpose()
}

pub(super) async fn regions_in_use(conn: &mut PgConnection) -> Result<Vec<Region>, StoreError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT region FROM home_regions ORDER BY region")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    names
        .iter()
        .map(|r| Region::parse(r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .collect()
}

pub(super) async fn release_username(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM home_regions WHERE username = $1")
        .bind(username.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}
