//! Deletes messages that no queue holds any more but that racing acks left behind (see
//! `pli_ack` in the migrations). It runs on every node, but each pass takes a transaction
//! advisory lock first, so one node sweeps at a time and the others skip the pass.

use sqlx::postgres::PgPool;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often orphans are looked for: how long an acked ciphertext may outlive its last ack.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// The advisory lock key of a sweep pass ("pli swee").
const SWEEP_LOCK: i64 = 0x706c_6920_7377_6565;

/// Keeps the sweeper running; it stops when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Sweeper {
    _alive: mpsc::Sender<()>,
}

impl Sweeper {
    pub(super) fn start(pool: PgPool) -> Self {
        let (alive, mut stopped) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(SWEEP_EVERY);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {
                        if let Err(err) = sweep(&pool).await {
                            tracing::warn!(error = %err, "sweeping orphaned messages failed");
                        }
                    }
                    _ = stopped.recv() => return,
                }
            }
        });
        Self { _alive: alive }
    }
}

/// One pass; returns how many orphans it deleted (0 when another node holds the lock).
pub(super) async fn sweep(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(SWEEP_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !ours {
        return Ok(0);
    }
    // A message and its queue rows commit together, so a committed message without any
    // queue row is one every recipient acked.
    let deleted = sqlx::query(
        "DELETE FROM messages m WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id)",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(deleted)
}
