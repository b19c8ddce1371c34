//! The SQL behind the key directory's records (migration 8).

use super::SqliteStore;
use super::rows::{backend, username};
use crate::store::directory::DirectoryStore;
use crate::store::directory::{KtPending, KtRecord, KtRoot, KtState};
use crate::store::error::StoreError;
use pli_proto::Username;
use rusqlite::{Connection, OptionalExtension, params};

impl DirectoryStore for SqliteStore {
    async fn kt_write(&self, records: Vec<KtRecord>) -> Result<(), StoreError> {
        self.write(move |conn| write(conn, &records)).await
    }

    async fn kt_nodes(
        &self,
        ids: Vec<Vec<u8>>,
    ) -> Result<Vec<crate::store::directory::KtNodeRow>, StoreError> {
        self.read(move |conn| nodes(conn, &ids)).await
    }

    async fn kt_states(&self, label: Vec<u8>) -> Result<Vec<KtState>, StoreError> {
        self.read(move |conn| states(conn, &label)).await
    }

    async fn kt_latest_states(
        &self,
        labels: Vec<Vec<u8>>,
        max_epoch: u64,
    ) -> Result<Vec<KtState>, StoreError> {
        self.read(move |conn| latest_states(conn, &labels, max_epoch))
            .await
    }

    async fn kt_mark(&self, users: Vec<Username>) -> Result<(), StoreError> {
        self.write(move |conn| mark(conn, &users)).await
    }

    async fn kt_pending(&self) -> Result<KtPending, StoreError> {
        self.read(pending).await
    }

    async fn kt_is_pending(&self, user: &Username) -> Result<bool, StoreError> {
        let user = user.clone();
        self.read(move |conn| is_pending(conn, &user)).await
    }

    async fn kt_published(&self, through: u64, root: KtRoot) -> Result<(), StoreError> {
        self.write(move |conn| published(conn, through, &root))
            .await
    }

    async fn kt_roots(&self, from: u64, limit: u64) -> Result<Vec<KtRoot>, StoreError> {
        self.read(move |conn| roots(conn, from, limit)).await
    }
}

pub(super) fn write(conn: &Connection, records: &[KtRecord]) -> Result<(), StoreError> {
    let mut node = conn
        .prepare_cached("INSERT OR REPLACE INTO kt_nodes (id, data) VALUES (?1, ?2)")
        .map_err(backend)?;
    let mut state = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO kt_states (label, epoch, version, data)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?;
    for record in records {
        match record {
            KtRecord::Node { id, data } => node.execute(params![id, data]),
            KtRecord::State(s) => {
                state.execute(params![s.label, s.epoch as i64, s.version as i64, s.data])
            }
        }
        .map_err(backend)?;
    }
    Ok(())
}

pub(super) fn nodes(
    conn: &Connection,
    ids: &[Vec<u8>],
) -> Result<Vec<crate::store::directory::KtNodeRow>, StoreError> {
    let mut get = conn
        .prepare_cached("SELECT data FROM kt_nodes WHERE id = ?1")
        .map_err(backend)?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(data) = get
            .query_row([id], |row| row.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(backend)?
        {
            found.push((id.clone(), data));
        }
    }
    Ok(found)
}

fn state(row: &rusqlite::Row<'_>) -> rusqlite::Result<KtState> {
    Ok(KtState {
        label: row.get(0)?,
        epoch: row.get::<_, i64>(1)? as u64,
        version: row.get::<_, i64>(2)? as u64,
        data: row.get(3)?,
    })
}

pub(super) fn states(conn: &Connection, label: &[u8]) -> Result<Vec<KtState>, StoreError> {
    conn.prepare_cached(
        "SELECT label, epoch, version, data FROM kt_states WHERE label = ?1 ORDER BY epoch",
    )
    .and_then(|mut st| st.query_map([label], state)?.collect())
    .map_err(backend)
}

pub(super) fn latest_states(
    conn: &Connection,
    labels: &[Vec<u8>],
    max_epoch: u64,
) -> Result<Vec<KtState>, StoreError> {
    let mut get = conn
        .prepare_cached(
            "SELECT label, epoch, version, data FROM kt_states
             WHERE label = ?1 AND epoch <= ?2 ORDER BY epoch DESC LIMIT 1",
        )
        .map_err(backend)?;
    let mut found = Vec::with_capacity(labels.len());
    for label in labels {
        if let Some(s) = get
            .query_row(params![label, max_epoch.min(i64::MAX as u64) as i64], state)
            .optional()
            .map_err(backend)?
        {
            found.push(s);
        }
    }
    Ok(found)
}

pub(super) fn mark(conn: &Connection, users: &[Username]) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached("INSERT INTO kt_changes (username) VALUES (?1)")
        .map_err(backend)?;
    for user in users {
        insert.execute([user.as_str()]).map_err(backend)?;
    }
    Ok(())
}

pub(super) fn pending(conn: &Connection) -> Result<KtPending, StoreError> {
    let rows: Vec<(i64, String)> = conn
        .prepare_cached("SELECT seq, username FROM kt_changes ORDER BY seq")
        .and_then(|mut st| {
            st.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(backend)?;
    let through = rows.last().map_or(0, |(seq, _)| *seq as u64);
    let mut users = Vec::new();
    for (_, raw) in rows {
        let user = username(raw)?;
        if !users.contains(&user) {
            users.push(user);
        }
    }
    Ok(KtPending { through, users })
}

pub(super) fn is_pending(conn: &Connection, user: &Username) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM kt_changes WHERE username = ?1 LIMIT 1")
        .and_then(|mut st| st.exists([user.as_str()]))
        .map_err(backend)
}

pub(super) fn published(conn: &Connection, through: u64, root: &KtRoot) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM kt_changes WHERE seq <= ?1")
        .and_then(|mut st| st.execute([through as i64]))
        .map_err(backend)?;
    conn.prepare_cached("INSERT OR IGNORE INTO kt_roots (epoch, root, note) VALUES (?1, ?2, ?3)")
        .and_then(|mut st| st.execute(params![root.epoch as i64, &root.root[..], root.note]))
        .map_err(backend)?;
    Ok(())
}

pub(super) fn roots(conn: &Connection, from: u64, limit: u64) -> Result<Vec<KtRoot>, StoreError> {
    let rows: Vec<(i64, Vec<u8>, String)> = conn
        .prepare_cached(
            "SELECT epoch, root, note FROM kt_roots WHERE epoch >= ?1 ORDER BY epoch LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(
                params![
                    from.min(i64::MAX as u64) as i64,
                    limit.min(i64::MAX as u64) as i64
                ],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?
            .collect()
        })
        .map_err(backend)?;
    rows.into_iter()
        .map(|(epoch, root, note)| {
            Ok(KtRoot {
                epoch: epoch as u64,
                root: root
                    .try_into()
                    .map_err(|_| StoreError::Backend("invalid root row".into()))?,
                note,
            })
        })
        .collect()
}
