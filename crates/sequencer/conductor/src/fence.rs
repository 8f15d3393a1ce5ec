//! The execution engine's side of the cluster: what a worker's `aegis` checks before it builds
//! from its pool, hands out a payload, or makes a block its canonical head.
//!
//! kona-node inserts the block it sequenced (newPayload, forkchoiceUpdated) *before* it commits
//! it to its conductor, and gossips it even when that commit fails. So the engine commits the
//! block itself when it becomes head on the leader, and refuses it as head when neither that
//! commit nor the committed chain covers it: a block the cluster did not commit never becomes
//! the chain wallets read, on the leader or on any follower.

use crate::{ClusterStore, ConductorError};
use alloy_primitives::B256;
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;

/// The cluster checks of one worker's execution engine.
#[derive(Clone, Debug)]
pub struct Fence {
    store: ClusterStore,
}

impl Fence {
    /// Checks against `store` (connected as this worker's id).
    pub fn new(store: ClusterStore) -> Self {
        Self { store }
    }

    /// This worker's id.
    pub fn id(&self) -> &str {
        self.store.id()
    }

    /// Whether this worker may sequence (build from its pool) on `parent`: its conductor holds
    /// the leadership and `parent` is the committed head (anything, before the first commit).
    pub async fn may_sequence(&self, parent: B256) -> Result<(), ConductorError> {
        if self.store.leader().await?.as_deref() != Some(self.id()) {
            return Err(ConductorError::NotLeader);
        }
        match self.store.head().await? {
            Some(head) if head.hash != parent => Err(ConductorError::StaleParent {
                parent,
                head_number: head.number,
                head_hash: head.hash,
            }),
            _ => Ok(()),
        }
    }

    /// Admits `envelope`'s block as the canonical head: it is the committed block of its
    /// number, or it extends the committed head and this worker leads (then it is committed
    /// here, before it becomes head), or it lies below the committed head where etcd no
    /// longer keeps (or never had) the payload.
    pub async fn admit(&self, envelope: &OpExecutionPayloadEnvelope) -> Result<(), ConductorError> {
        let number = envelope.execution_payload.block_number();
        let hash = envelope.execution_payload.block_hash();
        let not_committed = || ConductorError::NotCommitted { number, hash };
        let head = self.store.head().await?;
        match head {
            Some(head) if number == head.number => {
                if head.hash == hash {
                    Ok(())
                } else {
                    Err(not_committed())
                }
            }
            Some(head) if number < head.number => {
                // Commits are contiguous from the first, so a payload missing at or below
                // the head was pruned or predates the cluster's first commit.
                match self.store.committed_hash(number).await? {
                    Some(committed) if committed != hash => Err(not_committed()),
                    _ => Ok(()),
                }
            }
            _ => self
                .store
                .commit_as_member(envelope)
                .await
                .map_err(|error| match error {
                    ConductorError::NotLeader => not_committed(),
                    other => other,
                }),
        }
    }
}
