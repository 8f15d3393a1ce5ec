//! High availability for the sequencer, after op-conductor but on etcd instead of an embedded
//! raft: every worker runs a conductor beside its `aegis` and rollup node.
//!
//! - [`ClusterStore`] keeps, under one key prefix per chain, the **leader key** (the worker's id,
//!   bound to its etcd lease: it disappears when the worker stops renewing) and the **committed
//!   unsafe head** with the last payloads. [`ClusterStore::commit`] is one etcd transaction that
//!   succeeds only while the caller's lease still holds the leader key and the payload extends the
//!   stored head (number + 1, parent hash equal): a deposed leader can never commit.
//! - [`decide`] is the control loop over leader × healthy × active (plus the local head against
//!   the committed one), as op-conductor runs it, with catch-up from any number of blocks behind.
//! - [`Conductor`] is one worker's state (lease, operator switches, health) and
//!   [`conductor_module`] serves op-conductor's `conductor_*` JSON-RPC API over it.
//! - [`Fence`] is what a worker's execution engine checks before it sequences or makes a block
//!   its head, closing the gap kona-node leaves (it inserts before it commits).
//! - [`watch_leadership`] gates the single writers (batcher, anchor) on the leadership.
//! - [`LeaderRoute`] tells a worker's wallet RPC where the leader is, to forward
//!   transactions to.
//! - [`Supervisor`] runs the control loop against the local rollup node's admin API.

mod conductor;
mod control;
mod error;
mod fence;
mod leading;
mod route;
mod rpc;
mod store;
mod supervisor;

pub use conductor::Conductor;
pub use control::{Observation, Step, decide};
pub use error::ConductorError;
pub use fence::Fence;
pub use leading::watch_leadership;
pub use route::{Destination, LeaderRoute};
pub use rpc::{ClusterStatus, MemberStatus, cluster_status, conductor_module};
pub use store::{
    ClusterKeyRecord, ClusterMembership, ClusterStore, CommittedHead, Leadership, PAYLOADS_KEPT,
    ServerInfo, Suffrage,
};
pub use supervisor::{CATCH_UP_PER_TICK, HealthConfig, RollupNode, Supervisor, UnsafeHead, join};
