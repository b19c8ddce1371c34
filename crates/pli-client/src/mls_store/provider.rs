//! The `StorageProvider` methods, each one statement on [`MlsStore`]'s helpers.

use super::{
    ENCRYPTION_KEYS, EPOCH_KEYS, KEY_PACKAGES, LEAF_NODES_ADD, LEAF_NODES_DELETE, LEAF_NODES_GET,
    MlsStore, PROPOSAL_DELETE, PROPOSAL_REFS_GET, PROPOSALS_ADD, PROPOSALS_DELETE, PROPOSALS_GET,
    PSKS, SIGNATURE_KEYS, VERSION, key, kind, pack, unpack,
};
use openmls_traits::storage::{StorageProvider, traits};
use rusqlite::params;

type Result<T> = std::result::Result<T, rusqlite::Error>;

impl StorageProvider<VERSION> for MlsStore<'_> {
    type Error = rusqlite::Error;

    fn write_mls_join_config<
        GroupId: traits::GroupId<VERSION>,
        MlsGroupJoinConfig: traits::MlsGroupJoinConfig<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        config: &MlsGroupJoinConfig,
    ) -> Result<()> {
        self.group_put(group_id, kind::JOIN_CONFIG, config)
    }

    fn append_own_leaf_node<
        GroupId: traits::GroupId<VERSION>,
        LeafNode: traits::LeafNode<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        leaf_node: &LeafNode,
    ) -> Result<()> {
        self.run(
            LEAF_NODES_ADD,
            params![key(group_id)?, pack(leaf_node)?, VERSION],
        )
    }

    fn queue_proposal<
        GroupId: traits::GroupId<VERSION>,
        ProposalRef: traits::ProposalRef<VERSION>,
        QueuedProposal: traits::QueuedProposal<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
        proposal: &QueuedProposal,
    ) -> Result<()> {
        self.run(
            PROPOSALS_ADD,
            params![key(group_id)?, key(proposal_ref)?, pack(proposal)?, VERSION],
        )
    }

    fn write_tree<GroupId: traits::GroupId<VERSION>, TreeSync: traits::TreeSync<VERSION>>(
        &self,
        group_id: &GroupId,
        tree: &TreeSync,
    ) -> Result<()> {
        self.group_put(group_id, kind::TREE, tree)
    }

    fn write_interim_transcript_hash<
        GroupId: traits::GroupId<VERSION>,
        InterimTranscriptHash: traits::InterimTranscriptHash<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        interim_transcript_hash: &InterimTranscriptHash,
    ) -> Result<()> {
        self.group_put(
            group_id,
            kind::INTERIM_TRANSCRIPT_HASH,
            interim_transcript_hash,
        )
    }

    fn write_context<
        GroupId: traits::GroupId<VERSION>,
        GroupContext: traits::GroupContext<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        group_context: &GroupContext,
    ) -> Result<()> {
        self.group_put(group_id, kind::CONTEXT, group_context)
    }

    fn write_confirmation_tag<
        GroupId: traits::GroupId<VERSION>,
        ConfirmationTag: traits::ConfirmationTag<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        confirmation_tag: &ConfirmationTag,
    ) -> Result<()> {
        self.group_put(group_id, kind::CONFIRMATION_TAG, confirmation_tag)
    }

    fn write_group_state<
        GroupState: traits::GroupState<VERSION>,
        GroupId: traits::GroupId<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        group_state: &GroupState,
    ) -> Result<()> {
        self.group_put(group_id, kind::GROUP_STATE, group_state)
    }

    fn write_message_secrets<
        GroupId: traits::GroupId<VERSION>,
        MessageSecrets: traits::MessageSecrets<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        message_secrets: &MessageSecrets,
    ) -> Result<()> {
        self.group_put(group_id, kind::MESSAGE_SECRETS, message_secrets)
    }

    fn write_resumption_psk_store<
        GroupId: traits::GroupId<VERSION>,
        ResumptionPskStore: traits::ResumptionPskStore<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        resumption_psk_store: &ResumptionPskStore,
    ) -> Result<()> {
        self.group_put(group_id, kind::RESUMPTION_PSK_STORE, resumption_psk_store)
    }

    fn write_own_leaf_index<
        GroupId: traits::GroupId<VERSION>,
        LeafNodeIndex: traits::LeafNodeIndex<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        own_leaf_index: &LeafNodeIndex,
    ) -> Result<()> {
        self.group_put(group_id, kind::OWN_LEAF_INDEX, own_leaf_index)
    }

    fn write_group_epoch_secrets<
        GroupId: traits::GroupId<VERSION>,
        GroupEpochSecrets: traits::GroupEpochSecrets<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        group_epoch_secrets: &GroupEpochSecrets,
    ) -> Result<()> {
        self.group_put(group_id, kind::GROUP_EPOCH_SECRETS, group_epoch_secrets)
    }

    fn write_signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<VERSION>,
        SignatureKeyPair: traits::SignatureKeyPair<VERSION>,
    >(
        &self,
        public_key: &SignaturePublicKey,
        signature_key_pair: &SignatureKeyPair,
    ) -> Result<()> {
        self.keyed_put(&SIGNATURE_KEYS, public_key, signature_key_pair)
    }

    fn write_encryption_key_pair<
        EncryptionKey: traits::EncryptionKey<VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<VERSION>,
    >(
        &self,
        public_key: &EncryptionKey,
        key_pair: &HpkeKeyPair,
    ) -> Result<()> {
        self.keyed_put(&ENCRYPTION_KEYS, public_key, key_pair)
    }

    fn write_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<VERSION>,
        EpochKey: traits::EpochKey<VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
        key_pairs: &[HpkeKeyPair],
    ) -> Result<()> {
        self.run(
            EPOCH_KEYS.put,
            params![
                key(group_id)?,
                key(epoch)?,
                leaf_index,
                pack(key_pairs)?,
                VERSION
            ],
        )
    }

    fn write_key_package<
        HashReference: traits::HashReference<VERSION>,
        KeyPackage: traits::KeyPackage<VERSION>,
    >(
        &self,
        hash_ref: &HashReference,
        key_package: &KeyPackage,
    ) -> Result<()> {
        self.keyed_put(&KEY_PACKAGES, hash_ref, key_package)
    }

    fn write_psk<PskId: traits::PskId<VERSION>, PskBundle: traits::PskBundle<VERSION>>(
        &self,
        psk_id: &PskId,
        psk: &PskBundle,
    ) -> Result<()> {
        self.keyed_put(&PSKS, psk_id, psk)
    }

    fn mls_group_join_config<
        GroupId: traits::GroupId<VERSION>,
        MlsGroupJoinConfig: traits::MlsGroupJoinConfig<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<MlsGroupJoinConfig>> {
        self.group_get(group_id, kind::JOIN_CONFIG)
    }

    fn own_leaf_nodes<GroupId: traits::GroupId<VERSION>, LeafNode: traits::LeafNode<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<LeafNode>> {
        self.all(LEAF_NODES_GET, params![key(group_id)?, VERSION])
    }

    fn queued_proposal_refs<
        GroupId: traits::GroupId<VERSION>,
        ProposalRef: traits::ProposalRef<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<ProposalRef>> {
        self.all(PROPOSAL_REFS_GET, params![key(group_id)?, VERSION])
    }

    fn queued_proposals<
        GroupId: traits::GroupId<VERSION>,
        ProposalRef: traits::ProposalRef<VERSION>,
        QueuedProposal: traits::QueuedProposal<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<(ProposalRef, QueuedProposal)>> {
        self.conn
            .prepare_cached(PROPOSALS_GET)?
            .query_map(params![key(group_id)?, VERSION], |r| {
                Ok((
                    unpack(r.get_ref(0)?.as_blob()?)?,
                    unpack(r.get_ref(1)?.as_blob()?)?,
                ))
            })?
            .collect()
    }

    fn tree<GroupId: traits::GroupId<VERSION>, TreeSync: traits::TreeSync<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<TreeSync>> {
        self.group_get(group_id, kind::TREE)
    }

    fn group_context<
        GroupId: traits::GroupId<VERSION>,
        GroupContext: traits::GroupContext<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupContext>> {
        self.group_get(group_id, kind::CONTEXT)
    }

    fn interim_transcript_hash<
        GroupId: traits::GroupId<VERSION>,
        InterimTranscriptHash: traits::InterimTranscriptHash<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<InterimTranscriptHash>> {
        self.group_get(group_id, kind::INTERIM_TRANSCRIPT_HASH)
    }

    fn confirmation_tag<
        GroupId: traits::GroupId<VERSION>,
        ConfirmationTag: traits::ConfirmationTag<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ConfirmationTag>> {
        self.group_get(group_id, kind::CONFIRMATION_TAG)
    }

    fn group_state<GroupState: traits::GroupState<VERSION>, GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupState>> {
        self.group_get(group_id, kind::GROUP_STATE)
    }

    fn message_secrets<
        GroupId: traits::GroupId<VERSION>,
        MessageSecrets: traits::MessageSecrets<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<MessageSecrets>> {
        self.group_get(group_id, kind::MESSAGE_SECRETS)
    }

    fn resumption_psk_store<
        GroupId: traits::GroupId<VERSION>,
        ResumptionPskStore: traits::ResumptionPskStore<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ResumptionPskStore>> {
        self.group_get(group_id, kind::RESUMPTION_PSK_STORE)
    }

    fn own_leaf_index<
        GroupId: traits::GroupId<VERSION>,
        LeafNodeIndex: traits::LeafNodeIndex<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<LeafNodeIndex>> {
        self.group_get(group_id, kind::OWN_LEAF_INDEX)
    }

    fn group_epoch_secrets<
        GroupId: traits::GroupId<VERSION>,
        GroupEpochSecrets: traits::GroupEpochSecrets<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupEpochSecrets>> {
        self.group_get(group_id, kind::GROUP_EPOCH_SECRETS)
    }

    fn signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<VERSION>,
        SignatureKeyPair: traits::SignatureKeyPair<VERSION>,
    >(
        &self,
        public_key: &SignaturePublicKey,
    ) -> Result<Option<SignatureKeyPair>> {
        self.keyed_get(&SIGNATURE_KEYS, public_key)
    }

    fn encryption_key_pair<
        HpkeKeyPair: traits::HpkeKeyPair<VERSION>,
        EncryptionKey: traits::EncryptionKey<VERSION>,
    >(
        &self,
        public_key: &EncryptionKey,
    ) -> Result<Option<HpkeKeyPair>> {
        self.keyed_get(&ENCRYPTION_KEYS, public_key)
    }

    fn encryption_epoch_key_pairs<
        GroupId: traits::GroupId<VERSION>,
        EpochKey: traits::EpochKey<VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<Vec<HpkeKeyPair>> {
        let found: Option<Vec<HpkeKeyPair>> = self.one(
            EPOCH_KEYS.get,
            params![key(group_id)?, key(epoch)?, leaf_index, VERSION],
        )?;
        Ok(found.unwrap_or_default())
    }

    fn key_package<
        KeyPackageRef: traits::HashReference<VERSION>,
        KeyPackage: traits::KeyPackage<VERSION>,
    >(
        &self,
        hash_ref: &KeyPackageRef,
    ) -> Result<Option<KeyPackage>> {
        self.keyed_get(&KEY_PACKAGES, hash_ref)
    }

    fn psk<PskBundle: traits::PskBundle<VERSION>, PskId: traits::PskId<VERSION>>(
        &self,
        psk_id: &PskId,
    ) -> Result<Option<PskBundle>> {
        self.keyed_get(&PSKS, psk_id)
    }

    fn remove_proposal<
        GroupId: traits::GroupId<VERSION>,
        ProposalRef: traits::ProposalRef<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
    ) -> Result<()> {
        self.run(
            PROPOSAL_DELETE,
            params![key(group_id)?, key(proposal_ref)?, VERSION],
        )
    }

    fn delete_own_leaf_nodes<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.run(LEAF_NODES_DELETE, params![key(group_id)?, VERSION])
    }

    fn delete_group_config<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::JOIN_CONFIG)
    }

    fn delete_tree<GroupId: traits::GroupId<VERSION>>(&self, group_id: &GroupId) -> Result<()> {
        self.group_delete(group_id, kind::TREE)
    }

    fn delete_confirmation_tag<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::CONFIRMATION_TAG)
    }

    fn delete_group_state<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::GROUP_STATE)
    }

    fn delete_context<GroupId: traits::GroupId<VERSION>>(&self, group_id: &GroupId) -> Result<()> {
        self.group_delete(group_id, kind::CONTEXT)
    }

    fn delete_interim_transcript_hash<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::INTERIM_TRANSCRIPT_HASH)
    }

    fn delete_message_secrets<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::MESSAGE_SECRETS)
    }

    fn delete_all_resumption_psk_secrets<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::RESUMPTION_PSK_STORE)
    }

    fn delete_own_leaf_index<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::OWN_LEAF_INDEX)
    }

    fn delete_group_epoch_secrets<GroupId: traits::GroupId<VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.group_delete(group_id, kind::GROUP_EPOCH_SECRETS)
    }

    fn clear_proposal_queue<
        GroupId: traits::GroupId<VERSION>,
        ProposalRef: traits::ProposalRef<VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<()> {
        self.run(PROPOSALS_DELETE, params![key(group_id)?, VERSION])
    }

    fn delete_signature_key_pair<SignaturePublicKey: traits::SignaturePublicKey<VERSION>>(
        &self,
        public_key: &SignaturePublicKey,
    ) -> Result<()> {
        self.keyed_delete(&SIGNATURE_KEYS, public_key)
    }

    fn delete_encryption_key_pair<EncryptionKey: traits::EncryptionKey<VERSION>>(
        &self,
        public_key: &EncryptionKey,
    ) -> Result<()> {
        self.keyed_delete(&ENCRYPTION_KEYS, public_key)
    }

    fn delete_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<VERSION>,
        EpochKey: traits::EpochKey<VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<()> {
        self.run(
            EPOCH_KEYS.delete,
            params![key(group_id)?, key(epoch)?, leaf_index, VERSION],
        )
    }

    fn delete_key_package<KeyPackageRef: traits::HashReference<VERSION>>(
        &self,
        hash_ref: &KeyPackageRef,
    ) -> Result<()> {
        self.keyed_delete(&KEY_PACKAGES, hash_ref)
    }

    fn delete_psk<PskKey: traits::PskId<VERSION>>(&self, psk_id: &PskKey) -> Result<()> {
        self.keyed_delete(&PSKS, psk_id)
    }
}
