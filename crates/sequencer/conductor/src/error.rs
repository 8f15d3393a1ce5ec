//! The conductor's errors.

use alloy_primitives::B256;

/// Why a conductor operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConductorError {
    /// etcd could not be reached or refused the request.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// This worker does not hold the leader key (with its lease) any more, or never did.
    #[error("not the leader")]
    NotLeader,
    /// No worker holds the leadership right now (a failover is under way).
    #[error("the cluster has no leader right now")]
    NoLeader,
    /// The payload does not extend the committed head.
    #[error(
        "payload {number} ({hash}) does not extend the committed head {head_number} ({head_hash})"
    )]
    DoesNotExtend {
        /// The payload's block number.
        number: u64,
        /// Its block hash.
        hash: B256,
        /// The committed head's number.
        head_number: u64,
        /// The committed head's hash.
        head_hash: B256,
    },
    /// The engine was asked to build on a block other than the committed head.
    #[error("parent {parent} is not the committed head {head_number} ({head_hash})")]
    StaleParent {
        /// The parent asked for.
        parent: B256,
        /// The committed head's number.
        head_number: u64,
        /// The committed head's hash.
        head_hash: B256,
    },
    /// A block the cluster did not commit was to become the canonical head.
    #[error("block {number} ({hash}) was not committed by the cluster")]
    NotCommitted {
        /// Its number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// A value stored in etcd does not decode (written by something else under the prefix).
    #[error("corrupt {key} in etcd: {reason}")]
    Corrupt {
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A membership change named a version the membership has moved past.
    #[error("membership version {given} is stale (current {current})")]
    StaleMembership {
        /// The version given.
        given: u64,
        /// The current version.
        current: u64,
    },
    /// The local rollup node did not answer, or answered nonsense.
    #[error("rollup node: {0}")]
    RollupNode(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
}
