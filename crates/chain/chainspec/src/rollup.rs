//! The rollup node's `rollup.json` for a chain (op-node / kona-node format).

use crate::{ChainSpec, ChainSpecError, OpFork};
use alloy_primitives::{Address, B64, B256, address};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::path::Path;

/// What aegis reads of a `rollup.json`, typed (the rest is the rollup node's business).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RollupConfig {
    /// The genesis anchors and system config.
    pub genesis: RollupGenesis,
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// L2 chain id.
    pub l2_chain_id: u64,
    /// L1 batch inbox.
    pub batch_inbox_address: Address,
    /// L2 block time, seconds.
    pub block_time: u64,
    /// Channel timeout in L1 blocks (before Granite).
    #[serde(default)]
    pub channel_timeout: u64,
    /// Sequencing window in L1 blocks.
    #[serde(default)]
    pub seq_window_size: u64,
}

/// `genesis` of a rollup config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RollupGenesis {
    /// The L1 block L2 genesis is anchored to.
    pub l1: BlockNumHash,
    /// The L2 genesis block.
    pub l2: BlockNumHash,
    /// The genesis system config.
    pub system_config: RollupSystemConfig,
}

/// A block's number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct BlockNumHash {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
}

/// The genesis system config, as far as aegis needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RollupSystemConfig {
    /// The batcher whose inbox transactions count.
    #[serde(rename = "batcherAddr")]
    pub batcher: Address,
}

impl RollupConfig {
    /// Reads `path`; errors name the file and the field.
    pub fn load(path: &Path) -> Result<Self, ChainSpecError> {
        let failed = |reason: String| ChainSpecError::RollupConfig {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| failed(format!("`{}`: {}", e.path(), e.inner())))
    }

    /// Refuses a config of another chain than `spec` (chain id, genesis hash).
    pub fn check(&self, path: &Path, spec: &ChainSpec) -> Result<(), ChainSpecError> {
        let failed = |reason: String| ChainSpecError::RollupConfig {
            path: path.to_owned(),
            reason,
        };
        if self.l2_chain_id != spec.chain_id {
            return Err(failed(format!(
                "l2_chain_id {} does not match the genesis chain id {}",
                self.l2_chain_id, spec.chain_id
            )));
        }
        if self.genesis.l2.hash != spec.genesis_hash() {
            return Err(failed(format!(
                "genesis.l2.hash {} does not match the genesis hash {}",
                self.genesis.l2.hash,
                spec.genesis_hash()
            )));
        }
        Ok(())
    }
}

/// The L1 block the L2 genesis is anchored to (the rollup's L1 origin of L2 block 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct L1GenesisRef {
    /// L1 block hash.
    pub hash: B256,
    /// L1 block number.
    pub number: u64,
    /// L1 block timestamp; the L2 genesis timestamp should not be earlier.
    pub timestamp: u64,
}

/// Rollup parameters that are not part of the L2 genesis. [`Default`] gives values for a local
/// devnet without L1 contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupOptions {
    /// L1 chain id (default 900).
    pub l1_chain_id: u64,
    /// Address whose L1 transactions to the batch inbox are accepted as batches (default anvil's
    /// dev account 1, `0x70997970C51812dc3A010C7d01b50e0d17dc79C8`).
    pub batcher_address: Address,
    /// L1 batch inbox; `None` derives `0xff00…00 ‖ l2 chain id (8 bytes, big-endian)`.
    pub batch_inbox_address: Option<Address>,
    /// L1 `OptimismPortal` (deposit contract) address (default zero: no deposits).
    pub deposit_contract_address: Address,
    /// L1 `SystemConfig` address (default zero: the genesis system config stays in force).
    pub l1_system_config_address: Address,
    /// L1 `ProtocolVersions` address (default zero).
    pub protocol_versions_address: Address,
    /// L2 block time in seconds (default 2).
    pub block_time: u64,
    /// Maximum sequencer drift before Fjord, seconds (default 600).
    pub max_sequencer_drift: u64,
    /// Sequencing window in L1 blocks (default 3600).
    pub seq_window_size: u64,
    /// Channel timeout in L1 blocks before Granite (default 300).
    pub channel_timeout: u64,
    /// Delta (span batches) activation; `None` = the Canyon time (Delta sits between Canyon and
    /// Ecotone and changes nothing in the execution engine).
    pub delta_time: Option<u64>,
    /// Ecotone `baseFeeScalar` of the genesis system config (default 1368).
    pub base_fee_scalar: u32,
    /// Ecotone `blobBaseFeeScalar` of the genesis system config (default 810949).
    pub blob_base_fee_scalar: u32,
    /// Gas limit of the genesis system config; `None` = the genesis block's gas limit.
    pub gas_limit: Option<u64>,
}

impl Default for RollupOptions {
    fn default() -> Self {
        Self {
            l1_chain_id: 900,
            batcher_address: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            batch_inbox_address: None,
            deposit_contract_address: Address::ZERO,
            l1_system_config_address: Address::ZERO,
            protocol_versions_address: Address::ZERO,
            block_time: 2,
            max_sequencer_drift: 600,
            seq_window_size: 3600,
            channel_timeout: 300,
            delta_time: None,
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            gas_limit: None,
        }
    }
}

/// The Ecotone encoding of the system config `scalar`: version byte 1, then
/// `blobBaseFeeScalar` (u32, bytes 24..28) and `baseFeeScalar` (u32, bytes 28..32).
pub fn ecotone_scalar(base_fee_scalar: u32, blob_base_fee_scalar: u32) -> B256 {
    let mut scalar = B256::ZERO;
    scalar.0[0] = 1;
    scalar.0[24..28].copy_from_slice(&blob_base_fee_scalar.to_be_bytes());
    scalar.0[28..32].copy_from_slice(&base_fee_scalar.to_be_bytes());
    scalar
}

/// The default batch inbox of an L2 chain: `0xff00…00 ‖ chain id (u64 big-endian)`.
pub fn default_batch_inbox(l2_chain_id: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0xff;
    bytes[12..20].copy_from_slice(&l2_chain_id.to_be_bytes());
    Address::new(bytes)
}

/// Builds the rollup node configuration (`rollup.json`) for `spec`, in the format op-node and
/// kona-node read (field names as in kona-genesis' `RollupConfig`; only fields op-node also
/// knows are written, since it rejects unknown ones).
///
/// The genesis system config uses the Ecotone scalar, zero overhead, zero `eip1559Params`
/// (meaning "the Canyon defaults from `chain_op_config`") and zero operator fee parameters.
pub fn rollup_config(spec: &ChainSpec, l1: &L1GenesisRef, opts: &RollupOptions) -> Value {
    let header = spec.genesis_header();
    let mut config = Map::new();
    config.insert(
        "genesis".to_owned(),
        json!({
            "l1": { "hash": l1.hash, "number": l1.number },
            "l2": { "hash": spec.genesis_hash(), "number": header.number },
            "l2_time": header.timestamp,
            "system_config": {
                "batcherAddr": opts.batcher_address,
                "overhead": B256::ZERO,
                "scalar": ecotone_scalar(opts.base_fee_scalar, opts.blob_base_fee_scalar),
                "gasLimit": opts.gas_limit.unwrap_or(header.gas_limit),
                "eip1559Params": B64::ZERO,
                "operatorFeeParams": B256::ZERO,
            },
        }),
    );
    config.insert("block_time".to_owned(), json!(opts.block_time));
    config.insert(
        "max_sequencer_drift".to_owned(),
        json!(opts.max_sequencer_drift),
    );
    config.insert("seq_window_size".to_owned(), json!(opts.seq_window_size));
    config.insert("channel_timeout".to_owned(), json!(opts.channel_timeout));
    config.insert("l1_chain_id".to_owned(), json!(opts.l1_chain_id));
    config.insert("l2_chain_id".to_owned(), json!(spec.chain_id));

    let delta = opts.delta_time.or(spec.forks.activation(OpFork::Canyon));
    for fork in OpFork::TIMESTAMP_FORKS {
        if fork == OpFork::Ecotone
            && let Some(delta) = delta
        {
            config.insert("delta_time".to_owned(), json!(delta));
        }
        if let (Some(key), Some(time)) = (fork.rollup_key(), spec.forks.activation(fork)) {
            config.insert(key.to_owned(), json!(time));
        }
    }

    config.insert(
        "batch_inbox_address".to_owned(),
        json!(
            opts.batch_inbox_address
                .unwrap_or_else(|| default_batch_inbox(spec.chain_id))
        ),
    );
    config.insert(
        "deposit_contract_address".to_owned(),
        json!(opts.deposit_contract_address),
    );
    config.insert(
        "l1_system_config_address".to_owned(),
        json!(opts.l1_system_config_address),
    );
    config.insert(
        "protocol_versions_address".to_owned(),
        json!(opts.protocol_versions_address),
    );
    config.insert(
        "chain_op_config".to_owned(),
        json!({
            "eip1559Elasticity": spec.eip1559.elasticity,
            "eip1559Denominator": spec.eip1559.denominator,
            "eip1559DenominatorCanyon": spec.eip1559.denominator_canyon,
        }),
    );
    Value::Object(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DevnetGenesisOptions, devnet_genesis};
    use alloy_primitives::{b256, uint};

    fn devnet_spec() -> ChainSpec {
        let opts = DevnetGenesisOptions {
            timestamp: 1_700_000_000,
            jovian_offset: Some(8),
            ..Default::default()
        };
        ChainSpec::from_genesis(devnet_genesis(&opts).unwrap()).unwrap()
    }

    fn l1() -> L1GenesisRef {
        L1GenesisRef {
            hash: B256::repeat_byte(0xab),
            number: 7,
            timestamp: 1_699_999_990,
        }
    }

    #[test]
    fn scalar_encoding() {
        // Values as in op-deployer generated rollup.json files.
        assert_eq!(
            ecotone_scalar(1368, 810_949),
            b256!("0x010000000000000000000000000000000000000000000000000c5fc500000558")
        );
        assert_eq!(
            default_batch_inbox(901),
            address!("0xff00000000000000000000000000000000000385")
        );
    }

    #[test]
    fn json_shape() {
        let spec = devnet_spec();
        let json = rollup_config(&spec, &l1(), &RollupOptions::default());
        assert_eq!(json["genesis"]["l2"]["hash"], json!(spec.genesis_hash()));
        assert_eq!(json["genesis"]["l2_time"], 1_700_000_000u64);
        assert_eq!(json["genesis"]["l1"]["number"], 7);
        assert_eq!(json["genesis"]["system_config"]["gasLimit"], 60_000_000);
        assert_eq!(
            json["genesis"]["system_config"]["eip1559Params"],
            "0x0000000000000000"
        );
        assert_eq!(json["regolith_time"], 0);
        assert_eq!(json["delta_time"], 0);
        assert_eq!(json["holocene_time"], 0);
        assert_eq!(json["isthmus_time"], 1_700_000_004u64);
        assert_eq!(json["jovian_time"], 1_700_000_008u64);
        assert_eq!(json["l2_chain_id"], 901);
        assert_eq!(json["chain_op_config"]["eip1559DenominatorCanyon"], 250);
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert!(!keys.iter().any(|k| k == "interop_time"), "{keys:?}");
    }

    #[test]
    fn deserializes_into_kona_rollup_config() {
        let spec = devnet_spec();
        let opts = RollupOptions::default();
        let json = rollup_config(&spec, &l1(), &opts);
        let config: kona_genesis::RollupConfig =
            serde_json::from_value(json).expect("kona-genesis accepts the rollup config");

        assert_eq!(config.genesis.l1.hash, l1().hash);
        assert_eq!(config.genesis.l1.number, 7);
        assert_eq!(config.genesis.l2.hash, spec.genesis_hash());
        assert_eq!(config.genesis.l2.number, 0);
        assert_eq!(config.genesis.l2_time, 1_700_000_000);
        let system = config.genesis.system_config.unwrap();
        assert_eq!(system.batcher_address, opts.batcher_address);
        assert_eq!(system.gas_limit, 60_000_000);
        assert_eq!(
            system.scalar,
            uint!(0x010000000000000000000000000000000000000000000000000c5fc500000558_U256)
        );
        assert_eq!(system.eip1559_denominator, Some(0));
        assert_eq!(system.eip1559_elasticity, Some(0));
        assert_eq!(system.operator_fee_scalar, Some(0));
        assert_eq!(config.block_time, 2);
        assert_eq!(config.l1_chain_id, 900);
        assert_eq!(config.l2_chain_id.id(), 901);
        assert_eq!(config.batch_inbox_address, default_batch_inbox(901));

        let forks = &config.hardforks;
        assert_eq!(forks.regolith_time, Some(0));
        assert_eq!(forks.canyon_time, Some(0));
        assert_eq!(forks.delta_time, Some(0));
        assert_eq!(forks.ecotone_time, Some(0));
        assert_eq!(forks.fjord_time, Some(0));
        assert_eq!(forks.granite_time, Some(0));
        assert_eq!(forks.holocene_time, Some(0));
        assert_eq!(forks.isthmus_time, Some(1_700_000_004));
        assert_eq!(forks.jovian_time, Some(1_700_000_008));
        assert_eq!(forks.interop_time, None);
        assert!(config.is_isthmus_active(1_700_000_004));
        assert!(!config.is_isthmus_active(1_700_000_002));

        assert_eq!(config.chain_op_config.eip1559_elasticity, 6);
        assert_eq!(config.chain_op_config.eip1559_denominator, 50);
        assert_eq!(config.chain_op_config.eip1559_denominator_canyon, 250);
    }

    #[test]
    fn typed_config_reads_what_it_generates_and_refuses_other_chains() {
        let spec = devnet_spec();
        let json = rollup_config(&spec, &l1(), &RollupOptions::default());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollup.json");
        std::fs::write(&path, json.to_string()).unwrap();
        let config = RollupConfig::load(&path).unwrap();
        config.check(&path, &spec).unwrap();
        assert_eq!(config.l2_chain_id, spec.chain_id);
        assert_eq!(config.genesis.l1.hash, l1().hash);
        assert_eq!(
            config.genesis.system_config.batcher,
            RollupOptions::default().batcher_address
        );

        let mut other = config.clone();
        other.l2_chain_id += 1;
        let error = other.check(&path, &spec).unwrap_err().to_string();
        assert!(
            error.contains("l2_chain_id") && error.contains("rollup.json"),
            "{error}"
        );
        let mut other = config;
        other.genesis.l2.hash = B256::repeat_byte(1);
        let error = other.check(&path, &spec).unwrap_err().to_string();
        assert!(error.contains("genesis.l2.hash"), "{error}");

        let mut broken = json.clone();
        broken["batch_inbox_address"] = "0x12".into();
        std::fs::write(&path, broken.to_string()).unwrap();
        let error = RollupConfig::load(&path).unwrap_err().to_string();
        assert!(error.contains("batch_inbox_address"), "{error}");
    }
}
