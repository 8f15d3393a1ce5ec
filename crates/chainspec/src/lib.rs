//! OP Stack chain configuration for the QuantumAegis execution engine.
//!
//! This crate loads an op-geth style `genesis.json` into a [`ChainSpec`] (chain id, OP hardfork
//! schedule, EIP-1559 parameters) and computes the genesis header exactly as op-geth does, so the
//! rollup node (op-node or kona-node) accepts the genesis hash. It also generates a local devnet
//! genesis with the OP predeploys ([`devnet_genesis`]) and the matching rollup-node
//! configuration ([`rollup_config`]).

mod error;
mod forks;
mod spec;

pub use error::ChainSpecError;
pub use forks::{Eip1559Params, OpFork, OpForkSchedule};
pub use spec::{
    ChainSpec, GENESIS_GAS_LIMIT, INITIAL_BASE_FEE, L2_TO_L1_MESSAGE_PASSER,
    MAXIMUM_EXTRA_DATA_SIZE,
};
