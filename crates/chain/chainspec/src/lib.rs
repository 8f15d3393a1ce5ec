//! OP Stack chain configuration for the QuantumAegis execution engine.
//!
//! This crate loads an op-geth style `genesis.json` into a [`ChainSpec`] (chain id, OP hardfork
//! schedule, EIP-1559 parameters) and computes the genesis header exactly as op-geth does, so the
//! rollup node (op-node or kona-node) accepts the genesis hash. It also generates a local devnet
//! genesis with the OP predeploys ([`devnet_genesis`]) and the matching rollup-node
//! configuration ([`rollup_config`]).
//!
//! [`ChainSpec`] and [`OpForkSchedule`] implement alloy's [`OpHardforks`] /
//! [`EthereumHardforks`](alloy_hardforks::EthereumHardforks), so they can drive `alloy-op-evm`
//! directly.
//!
//! [`OpHardforks`]: alloy_op_hardforks::OpHardforks

mod devnet;
mod error;
mod forks;
pub mod l1_info;
pub mod predeploys;
mod rollup;
mod spec;
pub mod upgrades;

pub use devnet::{
    DEFAULT_DEV_MNEMONIC, DevnetGenesisOptions, derive_dev_accounts, devnet_genesis,
    devnet_genesis_with_artifacts,
};
pub use error::ChainSpecError;
pub use forks::{Eip1559Params, OpFork, OpForkSchedule};
pub use predeploys::PredeployArtifacts;
pub use rollup::{
    BlockNumHash, L1GenesisRef, RollupConfig, RollupGenesis, RollupOptions, RollupSystemConfig,
    default_batch_inbox, ecotone_scalar, rollup_config,
};
pub use spec::{
    ChainSpec, GENESIS_GAS_LIMIT, INITIAL_BASE_FEE, L2_TO_L1_MESSAGE_PASSER,
    MAXIMUM_EXTRA_DATA_SIZE,
};
