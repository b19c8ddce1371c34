//! The client's local hot paths without a server: what `benches/hot_paths.rs` measures
//! against raw openmls. A [`LocalDevice`] runs exactly the code a [`crate::Client`] runs
//! to encrypt an outgoing message and to process a delivery (one SQLite transaction
//! holding the MLS state change and pli's bookkeeping), minus the network. Not an API for
//! front ends.

use crate::error::ClientError;
use crate::group_cache::GroupCache;
use crate::local::{self, Identity};
use crate::mls::{self, Provider};
use crate::{outbox, receive};
use openmls::prelude::OpenMlsProvider;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::RustCrypto;
use pli_proto::{DeviceId, GroupId, MessageId, Username};
use rusqlite::Connection;
use std::collections::BTreeSet;
use std::path::Path;

pub struct LocalDevice {
    conn: Connection,
    crypto: RustCrypto,
    username: Username,
    device_id: DeviceId,
    signature_public: Vec<u8>,
    needs_commit: BTreeSet<GroupId>,
    groups: GroupCache,
}

impl LocalDevice {
    /// A device home in `home`, as registration would leave it (without a server).
    pub fn create(
        home: &Path,
        username: &Username,
        device_id: DeviceId,
    ) -> Result<Self, ClientError> {
        let conn = local::open(home)?;
        let signer = mls::new_signer()?;
        let identity = Identity {
            server: "http://127.0.0.1:9".into(),
            username: username.clone(),
            device_id,
            secret: String::new(),
            signature_public: signer.public().to_vec(),
        };
        crate::client::save_device(&conn, &signer, &identity)?;
        Ok(Self {
            conn,
            crypto: RustCrypto::default(),
            username: username.clone(),
            device_id,
            signature_public: identity.signature_public,
            needs_commit: BTreeSet::new(),
            groups: GroupCache::default(),
        })
    }

    /// The device whose home is `home`, as registration (or a copy of it) left it.
    pub fn open(home: &Path) -> Result<Self, ClientError> {
        let conn = local::open(home)?;
        let identity = local::load_identity(&conn)?.ok_or(ClientError::NotRegistered)?;
        Ok(Self {
            conn,
            crypto: RustCrypto::default(),
            username: identity.username,
            device_id: identity.device_id,
            signature_public: identity.signature_public,
            needs_commit: BTreeSet::new(),
            groups: GroupCache::default(),
        })
    }

    /// One one-time key package, its private parts stored in the device's database.
    pub fn key_package(&self) -> Result<Vec<u8>, ClientError> {
        let signer = self.signer()?;
        let credential = mls::credential(&self.username, self.device_id, &signer);
        let tx = self.conn.unchecked_transaction()?;
        let made = mls::key_packages(
            &Provider::new(&self.crypto, &tx),
            &signer,
            &credential,
            1,
            false,
        )?;
        tx.commit()?;
        made.one_time
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::Invalid("no key package made".into()))
    }

    /// Processes one delivered MLS message (a Welcome, a commit, an application message)
    /// as [`crate::Client`] does on receipt.
    pub fn process(&mut self, id: u64, bytes: &[u8]) -> Result<(), ClientError> {
        receive::process_one(
            &self.conn,
            &self.crypto,
            &mut self.needs_commit,
            &mut self.groups,
            MessageId(id),
            0,
            bytes,
        )
    }

    /// Encrypts an envelope for `group` as [`crate::Client`] does before submitting it
    /// (loading its signer, as it does for each message). `None` if not a member.
    pub fn encrypt(
        &mut self,
        group: &GroupId,
        envelope: &[u8],
    ) -> Result<Option<Vec<u8>>, ClientError> {
        let signer = self.signer()?;
        let sealed = outbox::encrypt_for_group(
            &self.conn,
            &self.crypto,
            &mut self.groups,
            &signer,
            (&self.username, self.device_id),
            group,
            envelope,
        )?;
        match sealed {
            outbox::Sealed::Ready(request) => Ok(Some(request.message.into_inner())),
            outbox::Sealed::Nobody => Ok(None),
            outbox::Sealed::Unchecked(_) => Err(ClientError::UntrustedMember),
        }
    }

    /// Takes every member key of `group` as verified, as a directory lookup of each member
    /// would (benchmarks have no directory). The send path refuses to encrypt otherwise.
    pub fn trust_members(&self, group: &GroupId) -> Result<(), ClientError> {
        let provider = Provider::new(&self.crypto, &self.conn);
        let loaded = openmls::prelude::MlsGroup::load(provider.storage(), &mls::group_id(group))?
            .ok_or_else(|| ClientError::UnknownConversation(group.to_hex()))?;
        for member in loaded.members() {
            if let Some((user, device)) = mls::member_identity(&member.credential) {
                self.conn.execute(
                    "INSERT OR REPLACE INTO kt_verified_keys (username, device_id, signature_key)
                     VALUES (?1, ?2, ?3)",
                    rusqlite::params![user.as_str(), device.get() as i64, member.signature_key],
                )?;
            }
        }
        Ok(())
    }

    /// The group's epoch in this device's state, to check that processing did its work
    /// (a delivery that fails to process is dropped, not returned as an error).
    pub fn epoch(&self, group: &GroupId) -> Result<Option<u64>, ClientError> {
        let provider = Provider::new(&self.crypto, &self.conn);
        let loaded = openmls::prelude::MlsGroup::load(provider.storage(), &mls::group_id(group))?;
        Ok(loaded.map(|g| g.epoch().as_u64()))
    }

    /// Fills the history as years of use would (for the app's benchmarks): `conversations`
    /// 1:1 conversations with `peer0000`, `peer0001`…, each holding `per_conversation`
    /// messages, both ways, spread over past days, all read but the last of each. Rows only:
    /// no MLS group stands behind them, so they can be read and listed, not sent to.
    pub fn fill_history(
        &self,
        conversations: usize,
        per_conversation: usize,
    ) -> Result<(), ClientError> {
        let tx = self.conn.unchecked_transaction()?;
        let start = local::now_ms().saturating_sub(400 * 86_400_000);
        let total = (conversations * per_conversation).max(1) as u64;
        let step = 400 * 86_400_000 / total;
        {
            let mut conversation = tx.prepare(
                "INSERT INTO conversations (group_id, name, direct, peer, active, created_ms)
                 VALUES (?1, '', 1, ?2, 1, ?3)",
            )?;
            let mut message = tx.prepare(
                "INSERT INTO messages (group_id, server_id, sender, sender_device, seq, text,
                     sent_at, outgoing, received_ms, shown)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, 1)",
            )?;
            let mut n: u64 = 0;
            for c in 0..conversations {
                let id = GroupId::from_bytes(&sha256_id(c))
                    .map_err(|_| ClientError::corrupt("group id"))?;
                let peer = format!("peer{c:04}");
                conversation.execute(rusqlite::params![id.as_bytes(), peer, start as i64])?;
                for m in 0..per_conversation {
                    n += 1;
                    let outgoing = m % 3 == 0;
                    let (sender, device) = if outgoing {
                        (self.username.as_str().to_owned(), self.device_id.get())
                    } else {
                        (peer.clone(), 1)
                    };
                    let at = start + n * step;
                    message.execute(rusqlite::params![
                        id.as_bytes(),
                        n as i64,
                        sender,
                        device as i64,
                        m as i64,
                        format!("message {m} of conversation {c}: shall we meet on day {} at the usual place?", m % 28),
                        at as i64,
                        outgoing,
                    ])?;
                }
            }
        }
        tx.execute(
            "UPDATE conversations SET read_up_to = (
                 SELECT coalesce(max(local_id), 0) - 1 FROM messages m
                 WHERE m.group_id = conversations.group_id)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Text messages stored in this device's history.
    pub fn messages_stored(&self) -> Result<u64, ClientError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Groups served from the client's group cache, and groups decoded from the database.
    pub fn group_cache_stats(&self) -> (u64, u64) {
        self.groups.stats()
    }

    fn signer(&self) -> Result<SignatureKeyPair, ClientError> {
        mls::load_signer(&mls::Storage::new(&self.conn), &self.signature_public)
    }
}

/// A fixed 16-byte group id for fixture conversation `n`.
fn sha256_id(n: usize) -> [u8; 16] {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("pli fixture conversation {n}"));
    let mut id = [0; 16];
    id.copy_from_slice(&digest[..16]);
    id
}
