//! akd's storage interface on pli's [`Store`]: the directory persists in the same database
//! as everything else, across restarts, on SQLite and PostgreSQL alike.
//!
//! Records are encoded here in a fixed binary layout (akd's own types, field by field), so
//! the backends store opaque bytes and never depend on akd.

use crate::store::{KtRecord, KtState, Store};
use akd::errors::StorageError;
use akd::storage::types::{DbRecord, KeyData, StorageType, ValueState, ValueStateRetrievalFlag};
use akd::storage::{Database, DbSetState, Storable};
use akd::tree_node::TreeNode;
use akd::{AkdLabel, AkdValue, NodeLabel};
use std::collections::HashMap;

/// A [`Store`] seen through akd's `Database` trait.
#[derive(Clone)]
pub struct KtDatabase<S> {
    store: S,
}

impl<S: Store> KtDatabase<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }
}

fn failed(err: crate::store::StoreError) -> StorageError {
    // The engine's text never names a user: it is safe to hand to akd's error.
    StorageError::Connection(err.to_string())
}

fn corrupt() -> StorageError {
    StorageError::Other("a stored directory record is malformed".into())
}

fn put_label(out: &mut Vec<u8>, label: &NodeLabel) {
    out.extend_from_slice(&label.label_val);
    out.extend_from_slice(&label.label_len.to_be_bytes());
}

fn put_node(out: &mut Vec<u8>, node: &TreeNode) {
    put_label(out, &node.label);
    out.extend_from_slice(&node.last_epoch.to_be_bytes());
    out.extend_from_slice(&node.min_descendant_epoch.to_be_bytes());
    put_label(out, &node.parent);
    out.push(node.node_type as u8);
    for child in [&node.left_child, &node.right_child] {
        match child {
            None => out.push(0),
            Some(label) => {
                out.push(1);
                put_label(out, label);
            }
        }
    }
    out.extend_from_slice(&node.hash.0);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], StorageError> {
        if self.0.len() < N {
            return Err(corrupt());
        }
        let (head, tail) = self.0.split_at(N);
        self.0 = tail;
        head.try_into().map_err(|_| corrupt())
    }

    fn u64(&mut self) -> Result<u64, StorageError> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    fn byte(&mut self) -> Result<u8, StorageError> {
        Ok(self.take::<1>()?[0])
    }

    fn label(&mut self) -> Result<NodeLabel, StorageError> {
        let val = self.take::<32>()?;
        let len = u32::from_be_bytes(self.take()?);
        Ok(NodeLabel::new(val, len))
    }

    fn child(&mut self) -> Result<Option<NodeLabel>, StorageError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(self.label()?)),
            _ => Err(corrupt()),
        }
    }
}

/// The parts of a stored tree node, in [`put_node`]'s order.
struct NodeParts {
    last_epoch: u64,
    min_descendant_epoch: u64,
    parent: NodeLabel,
    node_type: u8,
    left: Option<NodeLabel>,
    right: Option<NodeLabel>,
    hash: [u8; 32],
}

fn read_node(input: &mut Reader<'_>) -> Result<(NodeLabel, NodeParts), StorageError> {
    let label = input.label()?;
    Ok((
        label,
        NodeParts {
            last_epoch: input.u64()?,
            min_descendant_epoch: input.u64()?,
            parent: input.label()?,
            node_type: input.byte()?,
            left: input.child()?,
            right: input.child()?,
            hash: input.take()?,
        },
    ))
}

/// Encodes a record for the store.
pub fn encode(record: &DbRecord) -> KtRecord {
    match record {
        DbRecord::Azks(azks) => {
            let mut data = vec![StorageType::Azks as u8];
            data.extend_from_slice(&azks.latest_epoch.to_be_bytes());
            data.extend_from_slice(&azks.num_nodes.to_be_bytes());
            KtRecord::Node {
                id: record.get_full_binary_id(),
                data,
            }
        }
        DbRecord::TreeNode(node) => {
            let mut data = vec![StorageType::TreeNode as u8];
            put_node(&mut data, &node.latest_node);
            match &node.previous_node {
                None => data.push(0),
                Some(previous) => {
                    data.push(1);
                    put_node(&mut data, previous);
                }
            }
            KtRecord::Node {
                id: record.get_full_binary_id(),
                data,
            }
        }
        DbRecord::ValueState(state) => {
            let mut data = Vec::with_capacity(36 + state.value.0.len());
            put_label(&mut data, &state.label);
            data.extend_from_slice(&state.value.0);
            KtRecord::State(KtState {
                label: state.username.0.clone(),
                epoch: state.epoch,
                version: state.version,
                data,
            })
        }
    }
}

fn decode_node(data: &[u8]) -> Result<DbRecord, StorageError> {
    let mut input = Reader(data);
    match input.byte()? {
        t if t == StorageType::Azks as u8 => Ok(DbRecord::Azks(DbRecord::build_azks(
            input.u64()?,
            input.u64()?,
        ))),
        t if t == StorageType::TreeNode as u8 => {
            let (label, latest) = read_node(&mut input)?;
            let previous = match input.byte()? {
                0 => None,
                1 => Some(read_node(&mut input)?.1),
                _ => return Err(corrupt()),
            };
            let p = previous.as_ref();
            Ok(DbRecord::TreeNode(
                DbRecord::build_tree_node_with_previous_value(
                    label.label_val,
                    label.label_len,
                    latest.last_epoch,
                    latest.min_descendant_epoch,
                    latest.parent.label_val,
                    latest.parent.label_len,
                    latest.node_type,
                    latest.left,
                    latest.right,
                    latest.hash,
                    p.map(|p| p.last_epoch),
                    p.map(|p| p.min_descendant_epoch),
                    p.map(|p| p.parent.label_val),
                    p.map(|p| p.parent.label_len),
                    p.map(|p| p.node_type),
                    p.and_then(|p| p.left),
                    p.and_then(|p| p.right),
                    p.map(|p| p.hash),
                ),
            ))
        }
        _ => Err(corrupt()),
    }
}

fn decode_state(state: KtState) -> Result<ValueState, StorageError> {
    let mut input = Reader(&state.data);
    let label = input.label()?;
    let value = input.0.to_vec();
    Ok(ValueState {
        value: AkdValue(value),
        version: state.version,
        label,
        epoch: state.epoch,
        username: AkdLabel(state.label),
    })
}

fn pick(states: Vec<ValueState>, flag: ValueStateRetrievalFlag) -> Option<ValueState> {
    use ValueStateRetrievalFlag as F;
    let mut states = states.into_iter();
    match flag {
        F::SpecificVersion(v) => states.find(|s| s.version == v),
        F::SpecificEpoch(e) => states.find(|s| s.epoch == e),
        F::LeqEpoch(e) => states.filter(|s| s.epoch <= e).max_by_key(|s| s.epoch),
        F::MaxEpoch => states.max_by_key(|s| s.epoch),
        F::MinEpoch => states.min_by_key(|s| s.epoch),
    }
}

impl<S: Store> KtDatabase<S> {
    async fn user_states(&self, label: &AkdLabel) -> Result<Vec<ValueState>, StorageError> {
        self.store
            .kt_states(label.0.clone())
            .await
            .map_err(failed)?
            .into_iter()
            .map(decode_state)
            .collect()
    }

    async fn value_states(
        &self,
        keys: Vec<akd::storage::types::ValueStateKey>,
    ) -> Result<Vec<DbRecord>, StorageError> {
        let mut found = Vec::new();
        for key in keys {
            let states = self.user_states(&AkdLabel(key.0)).await?;
            if let Some(state) = pick(states, ValueStateRetrievalFlag::SpecificEpoch(key.1)) {
                found.push(DbRecord::ValueState(state));
            }
        }
        Ok(found)
    }

    async fn records<St: Storable>(
        &self,
        ids: &[St::StorageKey],
    ) -> Result<Vec<DbRecord>, StorageError> {
        if St::data_type() == StorageType::ValueState {
            let keys = ids
                .iter()
                .map(|id| {
                    akd::storage::types::ValueState::key_from_full_binary(
                        &St::get_full_binary_key_id(id),
                    )
                    .map_err(|_| corrupt())
                })
                .collect::<Result<Vec<_>, _>>()?;
            return self.value_states(keys).await;
        }
        let binary = ids.iter().map(St::get_full_binary_key_id).collect();
        self.store
            .kt_nodes(binary)
            .await
            .map_err(failed)?
            .iter()
            .map(|(_, data)| decode_node(data))
            .collect()
    }
}

#[async_trait::async_trait]
impl<S: Store> Database for KtDatabase<S> {
    async fn set(&self, record: DbRecord) -> Result<(), StorageError> {
        self.store
            .kt_write(vec![encode(&record)])
            .await
            .map_err(failed)
    }

    async fn batch_set(
        &self,
        records: Vec<DbRecord>,
        _state: DbSetState,
    ) -> Result<(), StorageError> {
        // Last write wins for a repeated id, as one transaction of upserts would have it.
        let mut latest: HashMap<Vec<u8>, KtRecord> = HashMap::with_capacity(records.len());
        for record in &records {
            latest.insert(record.get_full_binary_id(), encode(record));
        }
        self.store
            .kt_write(latest.into_values().collect())
            .await
            .map_err(failed)
    }

    async fn get<St: Storable>(&self, id: &St::StorageKey) -> Result<DbRecord, StorageError> {
        self.records::<St>(std::slice::from_ref(id))
            .await?
            .pop()
            .ok_or_else(|| StorageError::NotFound("no such directory record".into()))
    }

    async fn batch_get<St: Storable>(
        &self,
        ids: &[St::StorageKey],
    ) -> Result<Vec<DbRecord>, StorageError> {
        self.records::<St>(ids).await
    }

    async fn get_user_data(&self, username: &AkdLabel) -> Result<KeyData, StorageError> {
        let states = self.user_states(username).await?;
        if states.is_empty() {
            return Err(StorageError::NotFound("no such directory label".into()));
        }
        Ok(KeyData { states })
    }

    async fn get_user_state(
        &self,
        username: &AkdLabel,
        flag: ValueStateRetrievalFlag,
    ) -> Result<ValueState, StorageError> {
        pick(self.user_states(username).await?, flag)
            .ok_or_else(|| StorageError::NotFound("no such directory state".into()))
    }

    async fn get_user_state_versions(
        &self,
        usernames: &[AkdLabel],
        flag: ValueStateRetrievalFlag,
    ) -> Result<HashMap<AkdLabel, (u64, AkdValue)>, StorageError> {
        let bound = match flag {
            ValueStateRetrievalFlag::LeqEpoch(epoch) => Some(epoch),
            ValueStateRetrievalFlag::MaxEpoch => Some(u64::MAX),
            _ => None,
        };
        let mut versions = HashMap::with_capacity(usernames.len());
        if let Some(bound) = bound {
            let labels = usernames.iter().map(|l| l.0.clone()).collect();
            for state in self
                .store
                .kt_latest_states(labels, bound)
                .await
                .map_err(failed)?
            {
                let state = decode_state(state)?;
                versions.insert(state.username.clone(), (state.version, state.value));
            }
            return Ok(versions);
        }
        for label in usernames {
            if let Some(state) = pick(self.user_states(label).await?, flag) {
                versions.insert(label.clone(), (state.version, state.value));
            }
        }
        Ok(versions)
    }
}
