//! Governance: staff, the tamper-evident audit log, lawful requests, inventory,
//! disclosure packages, user notices and transparency reports.
//!
//! Every staff action goes through [`Governance::record`]: the entry is appended to the
//! audit log, with a freshly signed checkpoint, in the same transaction as the action's
//! effect. So no effect exists without its entry, and the log shows every attempt,
//! refused ones included.
//!
//! - [`rules`]: the lawful-request rules, as pure functions.
//! - [`roles`]: which role may call which admin route (the table the docs repeat).
//! - [`requests`]: the request lifecycle, disclosure packages, notices to users.
//! - [`review`]: emergencies' second reviews falling overdue, and staff alerts.
//! - [`inventory`]: what the server holds about one account, as printed and disclosed.
//! - [`report`]: transparency reports and their HTML page.

pub mod inventory;
pub mod report;
pub mod requests;
pub mod review;
pub mod roles;
pub mod rules;
pub mod staff;
pub mod sweep;

use crate::clock::Clock;
use crate::store::{AuditAppend, GovernanceEffect, Store, StoreError};
use ed25519_dalek::SigningKey;
use pli_proto::Username;
use pli_proto::audit::AuditEntry;
use pli_proto::checkpoint::{Checkpoint, LogKey};
use pli_proto::governance::Role;
use pli_proto::merkle::{self, Hash};
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Rule(#[from] rules::RuleError),
    #[error("this staff role may not do that")]
    Forbidden,
    #[error("no such request")]
    UnknownRequest,
    #[error("no such account")]
    UnknownUser,
    #[error("staff already exist: initialisation is done once")]
    AlreadyInitialised,
}

/// Who acts: a staff member, or the server itself (id 0) for scheduled work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: u64,
    pub role: Option<Role>,
}

impl Actor {
    pub const SERVER: Actor = Actor {
        staff_id: 0,
        role: None,
    };

    fn role_name(&self) -> &'static str {
        self.role.map_or("server", Role::as_str)
    }
}

/// Appends tried before giving up when other nodes keep appending first.
const AUDIT_ATTEMPTS: u32 = 5;

pub struct Governance {
    key: SigningKey,
    origin: String,
    /// The log's leaf hashes; guarded so appends are serial and each checkpoint is exact.
    leaves: Mutex<Vec<Hash>>,
    /// Serialises [`review::mark_overdue`], so a lateness is recorded once per node.
    review_lock: Mutex<()>,
    pub policies: rules::Policies,
}

impl Governance {
    pub async fn load<S: Store>(
        store: &S,
        key: SigningKey,
        origin: String,
        policies: rules::Policies,
    ) -> Result<Self, StoreError> {
        let leaves = store.audit_leaves().await?;
        Ok(Self {
            key,
            origin,
            leaves: Mutex::new(leaves),
            review_lock: Mutex::new(()),
            policies,
        })
    }

    /// Entries in the log as this node holds it (other nodes' newest appends appear here
    /// at this node's next append).
    pub async fn log_size(&self) -> u64 {
        self.leaves.lock().await.len() as u64
    }

    /// The policy a request about `targets` is held to: the strictest of their home
    /// regions' (the default region's for a name no account has).
    pub async fn policy_for<S: Store>(
        &self,
        store: &S,
        targets: &[Username],
    ) -> Result<rules::Policy, StoreError> {
        let mut policies = Vec::with_capacity(targets.len());
        for target in targets {
            let region = store.home_region(target).await?;
            policies.push(self.policies.of(region.as_ref()));
        }
        Ok(rules::Policy::strictest(policies).unwrap_or_else(|| self.policies.of(None).clone()))
    }

    /// The public key and name that verify this server's checkpoints, reports and packages.
    pub fn log_key(&self) -> LogKey {
        LogKey {
            name: self.origin.clone(),
            key: self.key.verifying_key(),
        }
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Appends an audit entry and applies `effect` with it, atomically. Returns the
    /// entry's position. If another node appended meanwhile, reloads the log and retries (a
    /// few times: nodes on one database append one at a time).
    // Each argument is one field of the entry or its context; bundling them would only
    // move the list into a struct built at every call site.
    #[allow(clippy::too_many_arguments)]
    pub async fn record<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        actor: Actor,
        action: &str,
        outcome: &str,
        details: serde_json::Value,
        effect: GovernanceEffect,
    ) -> Result<u64, GovernanceError> {
        let mut leaves = self.leaves.lock().await;
        let mut attempt = 1;
        loop {
            let seq = leaves.len() as u64;
            let entry = AuditEntry {
                seq,
                time_ms: clock.now_ms(),
                staff_id: actor.staff_id,
                role: actor.role_name().to_owned(),
                action: action.to_owned(),
                outcome: outcome.to_owned(),
                details: details.clone(),
            }
            .encode();
            let leaf_hash = merkle::leaf_hash(&entry);
            leaves.push(leaf_hash);
            let checkpoint = Checkpoint {
                origin: self.origin.clone(),
                size: seq + 1,
                root: merkle::root(&leaves),
            }
            .sign(&self.origin, &self.key);
            match store
                .governance_commit(
                    Some(AuditAppend {
                        seq,
                        entry,
                        leaf_hash,
                        checkpoint,
                    }),
                    effect.clone(),
                )
                .await
            {
                Ok(()) => {
                    metrics::gauge!(crate::telemetry::AUDIT_LOG_ENTRIES).set((seq + 1) as f64);
                    return Ok(seq);
                }
                Err(StoreError::AuditConflict) if attempt < AUDIT_ATTEMPTS => {
                    *leaves = store.audit_leaves().await?;
                    attempt += 1;
                }
                Err(err) => {
                    // The log did not take the entry: keep the tree as the store has it.
                    leaves.pop();
                    return Err(err.into());
                }
            }
        }
    }

    /// Records a refused or denied attempt (no effect), then returns `error`.
    pub async fn refuse<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        actor: Actor,
        action: &str,
        error: GovernanceError,
        details: serde_json::Value,
    ) -> GovernanceError {
        let outcome = if matches!(error, GovernanceError::Forbidden) {
            "denied"
        } else {
            "refused"
        };
        let mut details = details;
        if let Some(map) = details.as_object_mut() {
            map.insert(
                "reason".into(),
                serde_json::Value::String(error.to_string()),
            );
        }
        match self
            .record(
                store,
                clock,
                actor,
                action,
                outcome,
                details,
                GovernanceEffect::default(),
            )
            .await
        {
            Ok(_) => error,
            Err(log_failure) => log_failure,
        }
    }
}
