//! Background jobs: every one runs until the server's one stop signal, and a job that one
//! node of several must run alone (the sweeps) runs only on the holder of its lease.
//!
//! Why one helper: each job used to carry its own copy of the loop (ticks, lease, stop),
//! and each copy drifted a little (one gave its lease up at stop, the others did not). A
//! later job (attachments' expiry, call clean-up) is then one call here, not another loop.

use crate::clock::Clock;
use crate::store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A leased job holds its lease this many intervals, so a node that dies hands the job to
/// another within a few ticks, and one slow tick does not lose it.
pub const LEASE_INTERVALS: u32 = 3;

/// Starts background jobs that all end on one stop signal.
pub struct Jobs<S: Store> {
    store: S,
    clock: Arc<dyn Clock>,
    stop: watch::Receiver<bool>,
}

/// When a periodic job first runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstRun {
    /// At start (a sweep: whatever fell due while the server was down goes at once).
    AtStart,
    /// One interval after start, like every later run.
    AfterInterval,
}

impl<S: Store> Jobs<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>, stop: watch::Receiver<bool>) -> Self {
        Self { store, clock, stop }
    }

    /// Resolves once the stop signal is given (or its sender is gone).
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.stop.clone();
        async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        }
    }

    /// Runs `job` until it ends or the stop signal comes, whichever is first.
    pub fn until_stopped(&self, job: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        let stop = self.stopped();
        tokio::spawn(async move {
            tokio::select! {
                () = job => {}
                () = stop => {}
            }
        })
    }

    /// Runs `tick` every `interval` on this node, until the stop signal. A tick that comes
    /// late is not made up for: the next follows an interval after it.
    pub fn every<F, Fut>(&self, interval: Duration, first: FirstRun, mut tick: F) -> JoinHandle<()>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let stop = self.stopped();
        tokio::spawn(async move {
            tokio::pin!(stop);
            let mut ticks = ticks(interval, first);
            loop {
                tokio::select! {
                    _ = ticks.tick() => tick().await,
                    () = &mut stop => return,
                }
            }
        })
    }

    /// Runs `tick` every `interval` (the first at start) on whichever node holds the lease
    /// `name`, for [`LEASE_INTERVALS`] intervals at a time, until the stop signal; then
    /// gives the lease up, so another node takes the job at its next tick rather than
    /// when the lease runs out.
    pub fn leased<F, Fut>(
        &self,
        name: &'static str,
        interval: Duration,
        mut tick: F,
    ) -> JoinHandle<()>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let holder: u64 = rand::random();
        let lease_ms = (interval * LEASE_INTERVALS).as_millis() as u64;
        let (store, clock, stop) = (self.store.clone(), self.clock.clone(), self.stopped());
        tokio::spawn(async move {
            tokio::pin!(stop);
            let mut ticks = ticks(interval, FirstRun::AtStart);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {
                        if holds_lease(&store, clock.now_ms(), name, holder, lease_ms).await {
                            tick().await;
                        }
                    }
                    () = &mut stop => break,
                }
            }
            if let Err(err) = store.release_lease(name, holder).await {
                tracing::warn!(
                    job = name,
                    error = err.kind(),
                    "giving up a job's lease failed"
                );
            }
        })
    }
}

/// An interval whose first tick is at start or one interval later, and whose late ticks
/// are not made up for.
fn ticks(interval: Duration, first: FirstRun) -> tokio::time::Interval {
    let start = match first {
        FirstRun::AtStart => tokio::time::Instant::now(),
        FirstRun::AfterInterval => tokio::time::Instant::now() + interval,
    };
    let mut ticks = tokio::time::interval_at(start, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks
}

/// Whether this node holds (or now takes) the lease `name`; a store error counts as not,
/// logged by kind.
async fn holds_lease<S: Store>(
    store: &S,
    now_ms: u64,
    name: &'static str,
    holder: u64,
    lease_ms: u64,
) -> bool {
    match store.claim_lease(name, holder, now_ms, lease_ms).await {
        Ok(held) => held,
        Err(err) => {
            tracing::warn!(job = name, error = err.kind(), "cannot take a job's lease");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::SqliteStore;
    use tokio::sync::mpsc;

    /// Two nodes run one leased job: only the lease holder ticks (the clock never moves,
    /// so the lease never runs out), and once it stops, it gives the lease up and the other
    /// node takes the job at its next tick.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_leased_job_runs_on_one_node_and_is_handed_on_at_stop() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("pli.db")).expect("open store");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_000_000));
        let (ran_tx, mut ran) = mpsc::unbounded_channel();
        let mut nodes = Vec::new();
        for node in ["a", "b"] {
            let (stop_tx, stop_rx) = watch::channel(false);
            let jobs = Jobs::new(store.clone(), clock.clone(), stop_rx);
            let ran_tx = ran_tx.clone();
            let handle = jobs.leased("test-job", Duration::from_millis(10), move || {
                let _ = ran_tx.send(node);
                async {}
            });
            nodes.push((stop_tx, handle));
        }
        let first = ran.recv().await.expect("a tick");
        for _ in 0..20 {
            assert_eq!(ran.recv().await, Some(first), "only the lease holder ticks");
        }
        let index = usize::from(first == "b");
        let (stop_tx, handle) = nodes.remove(index);
        stop_tx.send(true).expect("stop");
        handle.await.expect("the job ends at stop");
        let other = loop {
            let node = tokio::time::timeout(Duration::from_secs(30), ran.recv())
                .await
                .expect("the other node takes the job")
                .expect("a tick");
            if node != first {
                break node;
            }
        };
        assert_ne!(other, first);
    }

    /// `every` ticks on every node, and its first tick waits an interval when asked to.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_ticks_until_stopped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("pli.db")).expect("open store");
        let (stop_tx, stop_rx) = watch::channel(false);
        let jobs = Jobs::new(store, Arc::new(ManualClock::new(0)), stop_rx);
        let (ran_tx, mut ran) = mpsc::unbounded_channel();
        let started = tokio::time::Instant::now();
        let interval = Duration::from_millis(50);
        let handle = jobs.every(interval, FirstRun::AfterInterval, move || {
            let _ = ran_tx.send(tokio::time::Instant::now());
            async {}
        });
        let first = ran.recv().await.expect("a tick");
        assert!(
            first - started >= interval,
            "the first tick waited an interval"
        );
        ran.recv().await.expect("a second tick");
        stop_tx.send(true).expect("stop");
        handle.await.expect("ends at stop");
    }
}
