//! Key transparency: every user's device keys in an auditable key directory (`akd`).
//!
//! One directory serves every region (one tree, one root per epoch), kept in the global
//! store through [`storage::KtDatabase`]. A user's entry is the set of their devices'
//! signature keys ([`pli_proto::kt`]): registering, adding or removing a device, or
//! deleting the account notes the user as changed, and the next epoch publishes the new set.
//! Epochs are published in batches on an interval and on demand ([`publish`]); each epoch's
//! root is signed as a checkpoint in the audit log's signed-note format.
//!
//! The VRF key (which hides usernames in the tree) and the checkpoint signing key are server
//! secrets created at first start, in the data directory (or the database, with several
//! nodes): every node signs the same root the same way.

pub mod publish;
pub mod storage;

use crate::store::{KtRoot, Store, StoreError};
use akd::directory::Directory;
use akd::ecvrf::{VRFKeyStorage, VrfError};
use akd::storage::StorageManager;
use akd::{AkdLabel, AzksParallelismConfig, HistoryParams};
use ed25519_dalek::SigningKey;
use pli_proto::Username;
use pli_proto::b64::Bytes64;
use pli_proto::checkpoint::Checkpoint;
use pli_proto::kt::{
    self, AuditProofResponse, DirectoryKeysResponse, HistoryResponse, KtConfig, LookupResponse,
};
use protobuf::Message as _;
use std::sync::Arc;
use storage::KtDatabase;

/// The VRF private key's server secret.
pub const VRF_KEY_FILE: &str = "kt-vrf.key";
/// The Ed25519 seed that signs directory checkpoints.
pub const SIGNING_KEY_FILE: &str = "kt-sign.key";

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// akd refused or failed. Only the kind of failure is kept: akd's own messages can
    /// quote a username, and this error is logged.
    #[error("the key directory failed ({0})")]
    Akd(&'static str),
    #[error("the user is not in the directory")]
    NotInDirectory,
    #[error("the epoch range is not within the published epochs")]
    InvalidEpochRange,
    /// Another node holds the publishing lease and has not published yet.
    #[error("the key directory is being published by another node; retry shortly")]
    NotYetPublished,
}

fn akd_failed(err: akd::errors::AkdError) -> DirectoryError {
    use akd::errors::AkdError as E;
    DirectoryError::Akd(match err {
        E::TreeNode(_) | E::AzksErr(_) => "tree",
        E::Directory(_) => "directory",
        E::Vrf(_) => "vrf",
        E::Storage(_) => "storage",
        E::AuditErr(_) => "audit",
        E::Parallelism(_) => "parallelism",
        E::TestErr(_) => "test",
    })
}

fn encoding_failed(_: protobuf::Error) -> DirectoryError {
    DirectoryError::Akd("encoding")
}

/// The VRF key, held in memory for the life of the process (akd's advice).
#[derive(Clone)]
struct VrfKey([u8; 32]);

#[async_trait::async_trait]
impl VRFKeyStorage for VrfKey {
    async fn retrieve(&self) -> Result<Vec<u8>, VrfError> {
        Ok(self.0.to_vec())
    }
}

type Akd<S> = Directory<KtConfig, KtDatabase<S>, VrfKey>;

/// The directory, its keys and its publication state; shared by the HTTP handlers and the
/// publisher.
pub struct KeyDirectory<S: Store> {
    akd: Akd<S>,
    store: S,
    signer: SigningKey,
    vrf_public: Vec<u8>,
    /// The checkpoints' origin, also the signing key's name.
    origin: String,
    /// One publication at a time in this process (the lease makes it one in the cluster).
    publishing: tokio::sync::Mutex<()>,
    /// Proofs take the read side, a publication the write side. akd's own lock lets proofs
    /// run while it publishes (its `publish` takes the read side too), so a proof could read
    /// one epoch's root and another's nodes, and fail to verify. Within this process only:
    /// another node's publication is not covered (RELIABILITY.md, "Known problems").
    proofs: tokio::sync::RwLock<()>,
    /// This process's lease holder id.
    holder: u64,
}

impl<S: Store> KeyDirectory<S> {
    /// Opens the directory in `store` (creating its first, empty epoch if there is none).
    pub async fn open(store: S, log_origin: &str) -> Result<Arc<Self>, DirectoryError> {
        let vrf = VrfKey(store.server_secret(VRF_KEY_FILE).await?);
        let signer = SigningKey::from_bytes(&store.server_secret(SIGNING_KEY_FILE).await?);
        let vrf_public = vrf
            .get_vrf_public_key()
            .await
            .map_err(|_| DirectoryError::Akd("vrf"))?
            .to_bytes()
            .to_vec();
        let manager = StorageManager::new_no_cache(KtDatabase::new(store.clone()));
        let akd = Directory::new(manager, vrf, AzksParallelismConfig::default())
            .await
            .map_err(akd_failed)?;
        let directory = Self {
            akd,
            store,
            signer,
            vrf_public,
            origin: kt::origin(log_origin),
            publishing: tokio::sync::Mutex::new(()),
            proofs: tokio::sync::RwLock::new(()),
            holder: rand::random(),
        };
        directory.record_current_root().await?;
        Ok(Arc::new(directory))
    }

    /// Signs `root` for `epoch` as a checkpoint (deterministic: any node signs it alike).
    fn sign(&self, epoch: u64, root: [u8; 32]) -> String {
        Checkpoint {
            origin: self.origin.clone(),
            size: epoch,
            root,
        }
        .sign(&self.origin, &self.signer)
    }

    /// Makes sure the current epoch's root is recorded (a publication interrupted between
    /// akd's commit and ours leaves it missing); returns the current epoch.
    async fn record_current_root(&self) -> Result<u64, DirectoryError> {
        let current = self.akd.get_epoch_hash().await.map_err(akd_failed)?;
        let (epoch, root) = (current.0, current.1);
        if self.store.kt_roots(epoch, 1).await?.is_empty() {
            let note = self.sign(epoch, root);
            self.store
                .kt_published(0, KtRoot { epoch, root, note })
                .await?;
        }
        Ok(epoch)
    }

    pub fn keys(&self) -> DirectoryKeysResponse {
        DirectoryKeysResponse {
            origin: self.origin.clone(),
            signing_key: self.signer.verifying_key().to_bytes().to_vec().into(),
            vrf_public_key: self.vrf_public.clone().into(),
        }
    }

    /// The user's current device set with its proof. A user whose change awaits
    /// publication is published first (or waited for, on a node without the lease).
    pub async fn lookup(
        self: &Arc<Self>,
        user: &Username,
        clock: &dyn crate::clock::Clock,
    ) -> Result<LookupResponse, DirectoryError> {
        self.settle(user, clock).await?;
        let _proving = self.proofs.read().await;
        let (proof, epoch) = match self.akd.lookup(kt::label(user)).await {
            Ok(found) => found,
            Err(akd::errors::AkdError::Storage(akd::errors::StorageError::NotFound(_))) => {
                return Err(DirectoryError::NotInDirectory);
            }
            Err(err) => return Err(akd_failed(err)),
        };
        let proto = akd_core::proto::specs::types::LookupProof::from(&proof);
        Ok(LookupResponse {
            root: self.sign(epoch.0, epoch.1),
            proof: proto.write_to_bytes().map_err(encoding_failed)?.into(),
        })
    }

    /// The user's complete key history with its proof.
    pub async fn history(
        self: &Arc<Self>,
        user: &Username,
        clock: &dyn crate::clock::Clock,
    ) -> Result<HistoryResponse, DirectoryError> {
        self.settle(user, clock).await?;
        let label: AkdLabel = kt::label(user);
        let _proving = self.proofs.read().await;
        let (proof, epoch) = match self.akd.key_history(&label, HistoryParams::Complete).await {
            Ok(found) => found,
            Err(akd::errors::AkdError::Storage(akd::errors::StorageError::NotFound(_))) => {
                return Err(DirectoryError::NotInDirectory);
            }
            Err(err) => return Err(akd_failed(err)),
        };
        let proto = akd_core::proto::specs::types::HistoryProof::from(&proof);
        Ok(HistoryResponse {
            root: self.sign(epoch.0, epoch.1),
            proof: proto.write_to_bytes().map_err(encoding_failed)?.into(),
        })
    }

    /// Append-only proofs for each epoch step from `from` to `to`.
    pub async fn audit(&self, from: u64, to: u64) -> Result<AuditProofResponse, DirectoryError> {
        if from >= to || to - from > kt::MAX_AUDIT_STEPS {
            return Err(DirectoryError::InvalidEpochRange);
        }
        let _proving = self.proofs.read().await;
        let current = self.akd.get_epoch_hash().await.map_err(akd_failed)?.0;
        if to > current {
            return Err(DirectoryError::InvalidEpochRange);
        }
        let proof = self.akd.audit(from, to).await.map_err(akd_failed)?;
        let proofs = proof
            .proofs
            .iter()
            .map(|step| {
                akd_core::proto::specs::types::SingleAppendOnlyProof::from(step)
                    .write_to_bytes()
                    .map(Bytes64::from)
                    .map_err(encoding_failed)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuditProofResponse { from, to, proofs })
    }

    /// Signed roots of epochs `from..from + limit`.
    pub async fn roots(&self, from: u64, limit: u64) -> Result<Vec<String>, DirectoryError> {
        let limit = limit.clamp(1, kt::MAX_ROOTS);
        Ok(self
            .store
            .kt_roots(from, limit)
            .await?
            .into_iter()
            .map(|root| root.note)
            .collect())
    }
}
