//! Publishing epochs: every change noted since the last epoch, as one batch, on the holder
//! of the `kt-publish` lease — on an interval, on an operator's demand, and when a lookup
//! asks for a user whose change is still pending (so a new device is reachable at once,
//! not an interval later).

use super::storage::KtDatabase;
use super::{DirectoryError, KeyDirectory, akd_failed};
use crate::clock::Clock;
use crate::store::{KtRoot, Store};
use akd::storage::StorageManager;
use akd::storage::types::ValueStateRetrievalFlag;
use akd::{AkdLabel, AkdValue};
use pli_proto::Username;
use pli_proto::kt::{self, DirectoryDevice, PublishResponse};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The background job's lease name.
const LEASE_JOB: &str = "kt-publish";
/// The lease outlives a few missed ticks, so a node that dies hands publishing on quickly.
const LEASE: Duration = Duration::from_secs(30);
/// How long a lookup waits for another node to publish a pending change.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a waiting lookup looks again.
const SETTLE_POLL: Duration = Duration::from_millis(50);

impl<S: Store> KeyDirectory<S> {
    /// Gives up the publishing lease (at shutdown, once the interval job has stopped), so
    /// another node, or this one restarted, publishes at once rather than when it runs out.
    pub async fn give_up_lease(&self) {
        let _one = self.publishing.lock().await;
        if let Err(err) = self.store.release_lease(LEASE_JOB, self.holder).await {
            tracing::warn!(
                error = err.kind(),
                "giving up the key directory's lease failed"
            );
        }
    }

    /// Publishes every pending change as one epoch. `None` if another node holds the lease.
    pub async fn publish_pending(
        &self,
        now_ms: u64,
    ) -> Result<Option<PublishResponse>, DirectoryError> {
        let _one = self.publishing.lock().await;
        let lease_ms = LEASE.as_millis() as u64;
        if !self
            .store
            .claim_lease(LEASE_JOB, self.holder, now_ms, lease_ms)
            .await?
        {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let pending = self.store.kt_pending().await?;
        if pending.users.is_empty() {
            let current = self.akd.get_epoch_hash().await.map_err(akd_failed)?;
            return Ok(Some(PublishResponse {
                epoch: current.0,
                changes: 0,
            }));
        }
        // An earlier publication that failed between akd's commit and ours left its root
        // unrecorded: record it before the next epoch, so the list of roots has no gap.
        self.record_current_root().await?;
        let mut updates = Vec::with_capacity(pending.users.len());
        for user in &pending.users {
            if let Some(value) = self.value_of(user).await? {
                updates.push((kt::label(user), AkdValue(value)));
            }
        }
        let changes = updates.len() as u64;
        let no_devices = kt::encode_devices(&[]);
        let ended: Vec<AkdLabel> = updates
            .iter()
            .filter(|(_, value)| value.0 == no_devices)
            .map(|(label, _)| label.clone())
            .collect();
        let (epoch, root) = if updates.is_empty() {
            let current = self.akd.get_epoch_hash().await.map_err(akd_failed)?;
            (current.0, current.1)
        } else {
            let _no_proofs = self.proofs.write().await;
            let published = self.akd.publish(updates).await.map_err(akd_failed)?;
            (published.0, published.1)
        };
        // Before the changes are marked done, so a crash in between forgets them next time.
        for label in &ended {
            self.forget_ended_account(label, &no_devices).await?;
        }
        let note = self.sign(epoch, root);
        self.store
            .kt_published(pending.through, KtRoot { epoch, root, note })
            .await?;
        tracing::info!(epoch, changes, "key directory epoch published");
        metrics::histogram!(crate::telemetry::KT_PUBLISH_SECONDS)
            .record(started.elapsed().as_secs_f64());
        metrics::gauge!(crate::telemetry::KT_EPOCH).set(epoch as f64);
        Ok(Some(PublishResponse { epoch, changes }))
    }

    /// Forgets the device keys of an ended account's earlier versions (akd's tombstones: the
    /// tree keeps their commitments, the values leave the store), so a removed device's key
    /// does not outlive its account and the next owner of the name does not see them.
    /// Clients accept forgotten versions only before a version with no devices
    /// ([`pli_proto::kt::KeyHistory`]), which stays.
    async fn forget_ended_account(
        &self,
        label: &AkdLabel,
        no_devices: &[u8],
    ) -> Result<(), DirectoryError> {
        let storage = StorageManager::new_no_cache(KtDatabase::new(self.store.clone()));
        let failed = |err| akd_failed(akd::errors::AkdError::Storage(err));
        let latest = storage
            .get_user_state(label, ValueStateRetrievalFlag::MaxEpoch)
            .await
            .map_err(failed)?;
        if latest.value.0 == no_devices && latest.epoch > 0 {
            storage
                .tombstone_value_states(label, latest.epoch - 1)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }

    /// The directory value for the user's devices now; `None` for a user who has no account
    /// and was never published (a registration that failed).
    async fn value_of(&self, user: &Username) -> Result<Option<Vec<u8>>, DirectoryError> {
        let devices = match self.store.list_devices(user).await? {
            Some(devices) => devices,
            None if self.store.kt_states(kt::label(user).0).await?.is_empty() => return Ok(None),
            // A deleted account (its facts may be kept a while, its devices are gone): published
            // as having no devices, which ends it in the directory.
            None => Vec::new(),
        };
        let listed: Vec<DirectoryDevice> = devices
            .into_iter()
            .map(|d| DirectoryDevice {
                device_id: d.device_id,
                signature_key: d.signature_key,
                endorsement: d.endorsement,
            })
            .collect();
        Ok(Some(kt::encode_devices(&listed)))
    }

    /// Returns once `user` has no change awaiting publication: publishes it here if this
    /// node holds the lease, else waits (bounded) for the node that does.
    pub(super) async fn settle(
        self: &Arc<Self>,
        user: &Username,
        clock: &dyn Clock,
    ) -> Result<(), DirectoryError> {
        let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
        while self.store.kt_is_pending(user).await? {
            // Bounded even here: a user whose devices keep changing must not hold a lookup.
            if tokio::time::Instant::now() >= deadline {
                return Err(DirectoryError::NotYetPublished);
            }
            if self.publish_pending(clock.now_ms()).await?.is_none() {
                tokio::time::sleep(SETTLE_POLL).await;
            }
        }
        Ok(())
    }
}

/// Runs `write`, a change to `user`'s devices, so that the directory cannot miss it: the
/// user is noted as changed before the write (so a crash after it still leaves the note;
/// the directory lives in the global store, the devices in the user's region, so the two
/// cannot share a transaction) and again after it (a publication that ran between the two
/// saw the devices as they were).
pub async fn changing_devices<S: Store, T, E: From<crate::store::StoreError>>(
    store: &S,
    user: &Username,
    write: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    store.kt_mark(vec![user.clone()]).await?;
    let outcome = write.await?;
    store.kt_mark(vec![user.clone()]).await?;
    Ok(outcome)
}
