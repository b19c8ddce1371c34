//! Job leases on SQLite, and the server's secrets (files beside the database, `secrets.rs`).

use super::SqliteStore;
use super::rows::backend;
use super::secrets;
use crate::store::error::StoreError;
use crate::store::leases::LeaseStore;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

impl LeaseStore for SqliteStore {
    async fn claim_lease(
        &self,
        job: &str,
        holder: u64,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        let job = job.to_owned();
        self.write(move |c| claim_lease(c, &job, holder, now_ms, ttl_ms))
            .await
    }

    async fn release_lease(&self, job: &str, holder: u64) -> Result<(), StoreError> {
        let job = job.to_owned();
        self.write(move |c| release_lease(c, &job, holder)).await
    }

    async fn server_secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let dir = self
            .inner
            .path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .to_owned();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || secrets::load_or_create(&dir, &name))
            .await
            .map_err(|_| StoreError::Backend("key file task failed".into()))?
    }
}

pub(super) fn release_lease(conn: &Connection, job: &str, holder: u64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM job_leases WHERE job = ?1 AND holder = ?2")
        .and_then(|mut st| st.execute(params![job, holder as i64]))
        .map_err(backend)?;
    Ok(())
}

pub(super) fn claim_lease(
    conn: &Connection,
    job: &str,
    holder: u64,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "INSERT INTO job_leases (job, holder, until_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE job_leases.holder = excluded.holder OR job_leases.until_ms < ?4
         RETURNING holder",
    )
    .and_then(|mut st| {
        st.query_row(
            params![
                job,
                holder as i64,
                now_ms.saturating_add(ttl_ms) as i64,
                now_ms as i64
            ],
            |_| Ok(()),
        )
        .optional()
    })
    .map(|row| row.is_some())
    .map_err(backend)
}
