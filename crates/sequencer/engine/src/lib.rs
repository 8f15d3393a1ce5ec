//! Engine API server for the aegis execution engine.
//!
//! Serves what an OP rollup node (kona-node, op-node) calls on the authenticated engine port:
//! `engine_exchangeCapabilities`, `engine_forkchoiceUpdatedV2/V3` with OP payload attributes,
//! `engine_getPayloadV2/V3/V4`, `engine_newPayloadV2/V3/V4`, the `eth_*` reads it needs
//! (`eth_chainId`, `eth_blockNumber`, `eth_getBlockByNumber/Hash`, `eth_getProof`) and
//! `miner_setMaxDASize`. Requests need an HS256 JWT ([`auth`]). Payload building runs in
//! [`jobs`]; JSON shapes come from alloy/op-alloy so go-ethereum- and alloy-based clients decode
//! them. A cluster worker's engine is fenced by its conductor's etcd state
//! (`EngineApi::with_fence`).

pub mod auth;
pub mod dev;
pub mod jobs;
mod rpc;

pub use dev::{DevSealer, MIN_DEV_PERIOD, dev_attributes};
pub use jobs::{EmptyPool, ListPool, PayloadJobs, TxPool, payload_id};
pub use rpc::{ENGINE_CAPABILITIES, EngineApi};

use std::{net::SocketAddr, path::PathBuf};

/// Errors of the engine server.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The JWT secret file cannot be read or created.
    #[error("JWT secret {path}: {reason}")]
    JwtSecret {
        /// The secret file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The server could not bind or start.
    #[error("engine server on {addr}: {reason}")]
    Server {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// Building or committing a block failed.
    #[error(transparent)]
    Executor(#[from] aegis_executor::ExecutorError),
    /// The chain store has no head block.
    #[error("the chain has no head block")]
    NoHead,
    /// A payload job ended before its block was taken.
    #[error("the payload job ended before its block was taken")]
    PayloadLost,
    /// Dev sealing writes the post-Ecotone L1-info deposit only.
    #[error("dev mode needs Ecotone active from genesis")]
    DevNeedsEcotone,
}

/// Engine API JSON-RPC error codes.
pub mod codes {
    /// Payload id unknown.
    pub const UNKNOWN_PAYLOAD: i32 = -38001;
    /// Forkchoice state invalid (unknown or inconsistent safe/finalized).
    pub const INVALID_FORKCHOICE_STATE: i32 = -38002;
    /// Payload attributes invalid.
    pub const INVALID_PAYLOAD_ATTRIBUTES: i32 = -38003;
    pub use aegis_rpc_types::errors::{INTERNAL, INVALID_PARAMS};
    /// Unsupported fork for this method version.
    pub const UNSUPPORTED_FORK: i32 = -38005;
    /// A cluster worker asked to sequence while its conductor does not lead (geth's generic
    /// server error code, as op-conductor answers "node is not the leader").
    pub const FENCED: i32 = -32000;
}
