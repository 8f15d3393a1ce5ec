//! [`ChainSpec`]: an op-geth `genesis.json` loaded, checked, and turned into the genesis header.

use crate::{ChainSpecError, Eip1559Params, OpFork, OpForkSchedule};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_genesis::{Genesis, GenesisAccount};
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_op_hardforks::{OpHardfork, OpHardforks};
use alloy_primitives::{Address, B64, B256, Bloom, U256, address, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY, TrieAccount, root};
use serde_json::Value;
use std::{collections::BTreeMap, path::Path};

/// The `L2ToL1MessagePasser` predeploy; from Isthmus on its storage root is the header's
/// `withdrawalsRoot`.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("0x4200000000000000000000000000000000000016");

/// geth's `params.GenesisGasLimit`, used when the genesis gas limit is 0.
pub const GENESIS_GAS_LIMIT: u64 = 4_712_388;

/// geth's `params.InitialBaseFee` (1 gwei), the genesis base fee when the genesis has none.
pub const INITIAL_BASE_FEE: u64 = 1_000_000_000;

/// Maximum length of a header's `extraData`.
pub const MAXIMUM_EXTRA_DATA_SIZE: usize = 32;

/// `config` keys outside alloy's `ChainConfig` that this crate understands or deliberately
/// tolerates. `deltaTime` (span batches) and `pectraBlobScheduleTime` only change derivation in
/// the rollup node, not execution.
const TOLERATED_CONFIG_KEYS: [&str; 3] = ["optimism", "deltaTime", "pectraBlobScheduleTime"];

/// A loaded OP Stack chain configuration: chain id, genesis, fork schedule and EIP-1559
/// parameters, with the genesis header computed exactly as op-geth does.
///
/// The genesis header is computed once at construction. The fields are public for reading;
/// changing them afterwards does not update the cached header — build a new spec with
/// [`ChainSpec::from_genesis`] instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSpec {
    /// The L2 chain id (`config.chainId`).
    pub chain_id: u64,
    /// The genesis as loaded (op-geth format).
    pub genesis: Genesis,
    /// OP fork activation timestamps.
    pub forks: OpForkSchedule,
    /// EIP-1559 parameters (`config.optimism`).
    pub eip1559: Eip1559Params,
    genesis_header: Header,
    genesis_hash: B256,
}

impl ChainSpec {
    /// Loads an op-geth `genesis.json` document.
    ///
    /// Besides what [`ChainSpec::from_genesis`] checks, this honours the op-geth fields alloy's
    /// [`Genesis`] does not model (`gasUsed`, `stateHash`) and reports malformed values with their
    /// JSON path.
    pub fn from_genesis_json(json: &str) -> Result<Self, ChainSpecError> {
        let value: Value = serde_json::from_str(json).map_err(|source| ChainSpecError::Json {
            path: ".".to_owned(),
            source,
        })?;
        let genesis: Genesis =
            serde_path_to_error::deserialize(&value).map_err(ChainSpecError::json)?;
        let extras = OpGethExtras::from_value(&value)?;
        Self::build(genesis, extras)
    }

    /// Reads and loads an op-geth `genesis.json` file; errors name the file.
    pub fn from_genesis_file(path: &Path) -> Result<Self, ChainSpecError> {
        let json = std::fs::read_to_string(path).map_err(|source| ChainSpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_genesis_json(&json).map_err(|err| ChainSpecError::File {
            path: path.to_owned(),
            source: Box::new(err),
        })
    }

    /// Builds the spec from an already parsed genesis (`gasUsed` is taken as 0, the state root is
    /// computed from `alloc`).
    pub fn from_genesis(genesis: Genesis) -> Result<Self, ChainSpecError> {
        Self::build(genesis, OpGethExtras::default())
    }

    fn build(genesis: Genesis, extras: OpGethExtras) -> Result<Self, ChainSpecError> {
        let chain_id = genesis.config.chain_id;
        if chain_id == 0 {
            return Err(ChainSpecError::ZeroField {
                field: "config.chainId",
            });
        }
        let OpConfig { forks, eip1559 } = OpConfig::from_genesis(&genesis)?;
        check_extra_data(&genesis, &forks)?;

        let (state_root, message_passer_root) = match extras.state_hash {
            Some(state_hash) => {
                if !genesis.alloc.is_empty() {
                    return Err(ChainSpecError::InvalidField {
                        field: "stateHash".to_owned(),
                        reason: "a genesis cannot have both `stateHash` and `alloc`".to_owned(),
                    });
                }
                if forks.is_active(OpFork::Isthmus, genesis.timestamp) {
                    return Err(ChainSpecError::InvalidField {
                        field: "stateHash".to_owned(),
                        reason: "Isthmus at genesis needs the `alloc` to compute the \
                                 L2ToL1MessagePasser storage root"
                            .to_owned(),
                    });
                }
                (state_hash, EMPTY_ROOT_HASH)
            }
            None => alloc_roots(&genesis.alloc),
        };

        let genesis_header = genesis_header(
            &genesis,
            &forks,
            GenesisRoots {
                state_root,
                message_passer_root,
            },
            extras.gas_used,
        )?;
        let genesis_hash = genesis_header.hash_slow();
        Ok(Self {
            chain_id,
            genesis,
            forks,
            eip1559,
            genesis_header,
            genesis_hash,
        })
    }

    /// The genesis block header.
    pub const fn genesis_header(&self) -> &Header {
        &self.genesis_header
    }

    /// The genesis block hash.
    pub const fn genesis_hash(&self) -> B256 {
        self.genesis_hash
    }

    /// The genesis block number (0 for every chain that starts at Bedrock from scratch).
    pub const fn genesis_number(&self) -> u64 {
        self.genesis_header.number
    }

    /// The genesis timestamp.
    pub const fn genesis_timestamp(&self) -> u64 {
        self.genesis_header.timestamp
    }

    /// The newest fork active at `timestamp`.
    pub fn fork_at(&self, timestamp: u64) -> OpFork {
        self.forks.active_fork(timestamp)
    }

    /// Whether `fork` is active at `timestamp`.
    pub fn is_fork_active(&self, fork: OpFork, timestamp: u64) -> bool {
        self.forks.is_active(fork, timestamp)
    }
}

impl EthereumHardforks for ChainSpec {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        self.forks.ethereum_fork_activation(fork)
    }
}

impl OpHardforks for ChainSpec {
    fn op_fork_activation(&self, fork: OpHardfork) -> ForkCondition {
        self.forks.op_fork_activation(fork)
    }
}

/// op-geth genesis fields that alloy's [`Genesis`] does not carry.
#[derive(Debug, Default)]
struct OpGethExtras {
    /// `gasUsed` of the genesis header.
    gas_used: u64,
    /// `stateHash`: the state root of a genesis whose `alloc` is not included.
    state_hash: Option<B256>,
}

impl OpGethExtras {
    fn from_value(value: &Value) -> Result<Self, ChainSpecError> {
        let Some(object) = value.as_object() else {
            return Ok(Self::default());
        };
        match object.get("config") {
            None | Some(Value::Null) => {
                return Err(ChainSpecError::MissingField { field: "config" });
            }
            Some(config) if config.get("chainId").is_none_or(Value::is_null) => {
                return Err(ChainSpecError::MissingField {
                    field: "config.chainId",
                });
            }
            Some(_) => {}
        }
        let gas_used = match object.get("gasUsed") {
            None => 0,
            Some(v) => quantity("gasUsed", v)?.unwrap_or(0),
        };
        let state_hash = match object.get("stateHash") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value::<B256>(v.clone()).map_err(|source| {
                ChainSpecError::Json {
                    path: "stateHash".to_owned(),
                    source,
                }
            })?),
        };
        Ok(Self {
            gas_used,
            state_hash,
        })
    }
}

/// Reads a JSON quantity the way geth writes them: a number, a `0x` hex string or a decimal
/// string. `null` is `None`.
fn quantity(field: &str, value: &Value) -> Result<Option<u64>, ChainSpecError> {
    let invalid = |reason: &str| ChainSpecError::InvalidField {
        field: field.to_owned(),
        reason: format!("{reason}, found {value}"),
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid("expected a u64")),
        Value::String(s) => {
            let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed
                .map(Some)
                .map_err(|_| invalid("expected a u64 quantity"))
        }
        _ => Err(invalid("expected a u64 quantity")),
    }
}

/// The OP part of `config`, validated.
struct OpConfig {
    forks: OpForkSchedule,
    eip1559: Eip1559Params,
}

impl OpConfig {
    fn from_genesis(genesis: &Genesis) -> Result<Self, ChainSpecError> {
        let config = &genesis.config;
        let extra = &config.extra_fields;

        // Keys alloy does not know: ours, tolerated ones, or unknown forks.
        for key in extra.keys() {
            let ours = OpFork::ALL.iter().any(|f| f.genesis_key() == key)
                || TOLERATED_CONFIG_KEYS.contains(&key.as_str());
            if !ours && (key.ends_with("Time") || key.ends_with("Block")) {
                return Err(ChainSpecError::UnsupportedHardfork { field: key.clone() });
            }
        }
        // L1 forks alloy knows but OP chains do not run (yet).
        for (field, time) in [
            ("osakaTime", config.osaka_time),
            ("bpo1Time", config.bpo1_time),
            ("bpo2Time", config.bpo2_time),
            ("bpo3Time", config.bpo3_time),
            ("bpo4Time", config.bpo4_time),
            ("bpo5Time", config.bpo5_time),
        ] {
            if time.is_some() {
                return Err(ChainSpecError::UnsupportedHardfork {
                    field: field.to_owned(),
                });
            }
        }

        let field_u64 = |key: &'static str| -> Result<Option<u64>, ChainSpecError> {
            extra
                .get(key)
                .map_or(Ok(None), |v| quantity(&format!("config.{key}"), v))
        };

        match field_u64("bedrockBlock")? {
            Some(0) => {}
            found => {
                return Err(ChainSpecError::BedrockNotAtGenesis {
                    found: found.map_or_else(|| "unset".to_owned(), |b| b.to_string()),
                });
            }
        }
        if config.london_block != Some(0) {
            return Err(ChainSpecError::InvalidField {
                field: "config.londonBlock".to_owned(),
                reason: format!(
                    "must be 0 on an OP Stack chain, found {}",
                    config
                        .london_block
                        .map_or_else(|| "unset".to_owned(), |b| b.to_string())
                ),
            });
        }

        let mut forks = OpForkSchedule::default();
        for fork in OpFork::TIMESTAMP_FORKS {
            forks.set_time(fork, field_u64(fork.genesis_key())?);
        }
        forks.validate()?;

        for (l1_field, l1_time, op_fork) in [
            ("shanghaiTime", config.shanghai_time, OpFork::Canyon),
            ("cancunTime", config.cancun_time, OpFork::Ecotone),
            ("pragueTime", config.prague_time, OpFork::Isthmus),
        ] {
            let op_time = forks.time(op_fork);
            if l1_time != op_time {
                return Err(ChainSpecError::L1ForkMismatch {
                    l1_field,
                    l1_time,
                    op_field: op_fork.genesis_key(),
                    op_time,
                });
            }
        }

        let optimism = match extra.get("optimism") {
            None | Some(Value::Null) => {
                return Err(ChainSpecError::MissingField {
                    field: "config.optimism",
                });
            }
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(ChainSpecError::InvalidField {
                    field: "config.optimism".to_owned(),
                    reason: format!("expected an object, found {other}"),
                });
            }
        };
        let param = |key: &'static str, field: &'static str| -> Result<u64, ChainSpecError> {
            let value = optimism.get(key).map_or(Ok(None), |v| quantity(field, v))?;
            match value {
                None => Err(ChainSpecError::MissingField { field }),
                Some(0) => Err(ChainSpecError::ZeroField { field }),
                Some(v) => Ok(v),
            }
        };
        let eip1559 = Eip1559Params {
            elasticity: param("eip1559Elasticity", "config.optimism.eip1559Elasticity")?,
            denominator: param("eip1559Denominator", "config.optimism.eip1559Denominator")?,
            denominator_canyon: param(
                "eip1559DenominatorCanyon",
                "config.optimism.eip1559DenominatorCanyon",
            )?,
        };
        Ok(Self { forks, eip1559 })
    }
}

/// Checks the genesis `extraData`: at most 32 bytes, and the EIP-1559 parameter encoding when
/// Holocene (version 0, 9 bytes) or Jovian (version 1, 17 bytes) is active at genesis — the
/// first block's base fee is computed from it.
fn check_extra_data(genesis: &Genesis, forks: &OpForkSchedule) -> Result<(), ChainSpecError> {
    let extra = &genesis.extra_data;
    if extra.len() > MAXIMUM_EXTRA_DATA_SIZE {
        return Err(ChainSpecError::ExtraDataTooLong { len: extra.len() });
    }
    let (fork, version, len) = match forks.active_fork(genesis.timestamp) {
        OpFork::Jovian => (OpFork::Jovian, 1u8, 17),
        OpFork::Holocene | OpFork::Isthmus => (OpFork::Holocene, 0u8, 9),
        _ => return Ok(()),
    };
    let invalid = |reason| ChainSpecError::InvalidExtraData {
        fork,
        extra_data: extra.clone(),
        reason,
    };
    if extra.len() != len {
        return Err(invalid(if fork == OpFork::Jovian {
            "expected 17 bytes: 0x01 ‖ denominator (u32) ‖ elasticity (u32) ‖ minBaseFee (u64)"
        } else {
            "expected 9 bytes: 0x00 ‖ denominator (u32) ‖ elasticity (u32)"
        }));
    }
    if extra[0] != version {
        return Err(invalid("wrong version byte"));
    }
    Ok(())
}

/// Roots a genesis header is built from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GenesisRoots {
    /// State root of the alloc.
    pub(crate) state_root: B256,
    /// Storage root of the `L2ToL1MessagePasser` (empty root if it has no storage).
    pub(crate) message_passer_root: B256,
}

/// Storage root of one account: keys hashed, zero values dropped (geth's `SetState(k, 0)` is a
/// deletion).
pub(crate) fn account_storage_root(storage: Option<&BTreeMap<B256, B256>>) -> B256 {
    match storage {
        None => EMPTY_ROOT_HASH,
        Some(storage) => root::storage_root_unhashed(
            storage
                .iter()
                .filter(|(_, value)| !value.is_zero())
                .map(|(slot, value)| (*slot, U256::from_be_bytes(value.0))),
        ),
    }
}

/// The trie leaf of a genesis account. Every alloc entry is in the state, even an empty one:
/// geth commits the genesis state without deleting empty objects.
pub(crate) fn trie_account(account: &GenesisAccount) -> TrieAccount {
    TrieAccount {
        nonce: account.nonce.unwrap_or_default(),
        balance: account.balance,
        storage_root: account_storage_root(account.storage.as_ref()),
        code_hash: account.code.as_ref().map_or(KECCAK_EMPTY, |code| {
            if code.is_empty() {
                KECCAK_EMPTY
            } else {
                keccak256(code)
            }
        }),
    }
}

/// State root of a set of accounts.
pub(crate) fn state_root(accounts: impl IntoIterator<Item = (Address, TrieAccount)>) -> B256 {
    root::state_root_unhashed(accounts)
}

/// State root of an alloc and the storage root of its `L2ToL1MessagePasser`.
pub(crate) fn alloc_roots(alloc: &BTreeMap<Address, GenesisAccount>) -> (B256, B256) {
    let state_root = state_root(
        alloc
            .iter()
            .map(|(address, account)| (*address, trie_account(account))),
    );
    let message_passer_root = alloc
        .get(&L2_TO_L1_MESSAGE_PASSER)
        .map_or(EMPTY_ROOT_HASH, |account| {
            account_storage_root(account.storage.as_ref())
        });
    (state_root, message_passer_root)
}

/// Builds the genesis header the way op-geth's `Genesis.toBlockWithRoot` does.
pub(crate) fn genesis_header(
    genesis: &Genesis,
    forks: &OpForkSchedule,
    roots: GenesisRoots,
    gas_used: u64,
) -> Result<Header, ChainSpecError> {
    let timestamp = genesis.timestamp;
    let base_fee_per_gas = match genesis.base_fee_per_gas {
        // London is active at block 0 on every chain `OpConfig` accepts.
        None => INITIAL_BASE_FEE,
        Some(fee) => u64::try_from(fee).map_err(|_| ChainSpecError::InvalidField {
            field: "baseFeePerGas".to_owned(),
            reason: format!("{fee} does not fit in 64 bits"),
        })?,
    };
    let canyon = forks.is_active(OpFork::Canyon, timestamp);
    let ecotone = forks.is_active(OpFork::Ecotone, timestamp);
    let isthmus = forks.is_active(OpFork::Isthmus, timestamp);

    let withdrawals_root = if isthmus {
        Some(roots.message_passer_root)
    } else if canyon {
        Some(EMPTY_ROOT_HASH)
    } else {
        None
    };

    Ok(Header {
        parent_hash: genesis.parent_hash.unwrap_or_default(),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: genesis.coinbase,
        state_root: roots.state_root,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        logs_bloom: Bloom::ZERO,
        difficulty: genesis.difficulty,
        number: genesis.number.unwrap_or_default(),
        gas_limit: if genesis.gas_limit == 0 {
            GENESIS_GAS_LIMIT
        } else {
            genesis.gas_limit
        },
        gas_used,
        timestamp,
        extra_data: genesis.extra_data.clone(),
        mix_hash: genesis.mix_hash,
        nonce: B64::from(genesis.nonce),
        base_fee_per_gas: Some(base_fee_per_gas),
        withdrawals_root,
        blob_gas_used: ecotone.then(|| genesis.blob_gas_used.unwrap_or_default()),
        excess_blob_gas: ecotone.then(|| genesis.excess_blob_gas.unwrap_or_default()),
        parent_beacon_block_root: ecotone.then_some(B256::ZERO),
        requests_hash: isthmus.then_some(EMPTY_REQUESTS_HASH),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloy_primitives::b256;

    /// A small hand-written op-geth genesis with every fork at genesis (no public hash for it:
    /// used for internal-consistency and error tests).
    pub(crate) fn sample_json() -> serde_json::Value {
        serde_json::json!({
            "config": {
                "chainId": 901,
                "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
                "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
                "istanbulBlock": 0, "muirGlacierBlock": 0, "berlinBlock": 0, "londonBlock": 0,
                "arrowGlacierBlock": 0, "grayGlacierBlock": 0, "mergeNetsplitBlock": 0,
                "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0,
                "bedrockBlock": 0, "regolithTime": 0, "canyonTime": 0, "ecotoneTime": 0,
                "fjordTime": 0, "graniteTime": 0, "holoceneTime": 0, "isthmusTime": 0,
                "jovianTime": 0,
                "terminalTotalDifficulty": 0,
                "optimism": {
                    "eip1559Elasticity": 6,
                    "eip1559Denominator": 50,
                    "eip1559DenominatorCanyon": 250
                }
            },
            "nonce": "0x0",
            "timestamp": "0x6553f100",
            "extraData": "0x01000000fa000000060000000000000000",
            "gasLimit": "0x1c9c380",
            "difficulty": "0x0",
            "mixHash": "0x0000000000000000000000000000000000000000000000000000000000000000",
            "coinbase": "0x4200000000000000000000000000000000000011",
            "alloc": {
                "4200000000000000000000000000000000000016": {
                    "balance": "0x0",
                    "code": "0x6001",
                    "storage": {
                        "0x0000000000000000000000000000000000000000000000000000000000000001":
                            "0x0000000000000000000000000000000000000000000000000000000000000005",
                        "0x0000000000000000000000000000000000000000000000000000000000000002":
                            "0x0000000000000000000000000000000000000000000000000000000000000000"
                    }
                },
                "f39fd6e51aad88f6f4ce6ab8827279cfffb92266": { "balance": "0x21e19e0c9bab2400000" },
                "0000000000000000000000000000000000000001": { "balance": "0x1", "nonce": "0x1" }
            },
            "number": "0x0",
            "gasUsed": "0x0",
            "parentHash": "0x0000000000000000000000000000000000000000000000000000000000000000",
            "baseFeePerGas": "0x3b9aca00"
        })
    }

    fn load(value: &serde_json::Value) -> Result<ChainSpec, ChainSpecError> {
        ChainSpec::from_genesis_json(&value.to_string())
    }

    fn with_config(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut json = sample_json();
        json["config"][key] = value;
        json
    }

    #[test]
    fn loads_all_forks_at_genesis() {
        let spec = load(&sample_json()).unwrap();
        assert_eq!(spec.chain_id, 901);
        assert_eq!(spec.forks, OpForkSchedule::all_at_genesis());
        assert_eq!(spec.eip1559, Eip1559Params::OPTIMISM);
        assert_eq!(spec.fork_at(0), OpFork::Jovian);

        let header = spec.genesis_header();
        assert_eq!(header.number, 0);
        assert_eq!(header.gas_limit, 30_000_000);
        assert_eq!(header.base_fee_per_gas, Some(1_000_000_000));
        assert_eq!(header.blob_gas_used, Some(0));
        assert_eq!(header.excess_blob_gas, Some(0));
        assert_eq!(header.parent_beacon_block_root, Some(B256::ZERO));
        assert_eq!(header.requests_hash, Some(EMPTY_REQUESTS_HASH));
        assert_eq!(
            EMPTY_REQUESTS_HASH,
            b256!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "sha256 of the empty string"
        );
        // Isthmus: withdrawalsRoot is the message passer's storage root (zero slot dropped).
        let expected = root::storage_root_unhashed([(B256::with_last_byte(1), U256::from(5))]);
        assert_eq!(header.withdrawals_root, Some(expected));
        assert_ne!(expected, EMPTY_ROOT_HASH);
        assert_eq!(spec.genesis_hash(), header.hash_slow());
    }

    #[test]
    fn state_root_matches_alloy_reference() {
        // alloy-genesis' own GenesisAccount → TrieAccount conversion is an independent path.
        let spec = load(&sample_json()).unwrap();
        let reference = root::state_root_unhashed(
            spec.genesis
                .alloc
                .iter()
                .map(|(a, acc)| (*a, TrieAccount::from(acc.clone()))),
        );
        assert_eq!(spec.genesis_header().state_root, reference);
    }

    #[test]
    fn header_fields_follow_forks_at_genesis() {
        // Pre-Canyon: no withdrawals root, no blob fields.
        let mut json = sample_json();
        for key in [
            "shanghaiTime",
            "cancunTime",
            "pragueTime",
            "canyonTime",
            "ecotoneTime",
            "fjordTime",
            "graniteTime",
            "holoceneTime",
            "isthmusTime",
            "jovianTime",
        ] {
            json["config"].as_object_mut().unwrap().remove(key);
        }
        json["extraData"] = "0x424544524f434b".into();
        json.as_object_mut().unwrap().remove("baseFeePerGas");
        let h = load(&json).unwrap().genesis_header().clone();
        assert_eq!(h.withdrawals_root, None);
        assert_eq!(h.blob_gas_used, None);
        assert_eq!(h.parent_beacon_block_root, None);
        assert_eq!(h.requests_hash, None);
        assert_eq!(h.base_fee_per_gas, Some(INITIAL_BASE_FEE));

        // Canyon and Ecotone at genesis, Isthmus later.
        let mut json = sample_json();
        json["config"]["pragueTime"] = 2_000_000_000u64.into();
        json["config"]["isthmusTime"] = 2_000_000_000u64.into();
        json["config"]["jovianTime"] = 2_000_000_002u64.into();
        json["extraData"] = "0x00000000fa00000006".into();
        let h = load(&json).unwrap().genesis_header().clone();
        assert_eq!(h.withdrawals_root, Some(EMPTY_ROOT_HASH));
        assert_eq!(h.blob_gas_used, Some(0));
        assert_eq!(h.parent_beacon_block_root, Some(B256::ZERO));
        assert_eq!(h.requests_hash, None);
    }

    #[test]
    fn gas_used_and_zero_gas_limit_follow_geth() {
        let mut json = sample_json();
        json["gasUsed"] = "0x5".into();
        json["gasLimit"] = "0x0".into();
        let spec = load(&json).unwrap();
        assert_eq!(spec.genesis_header().gas_used, 5);
        assert_eq!(spec.genesis_header().gas_limit, GENESIS_GAS_LIMIT);
    }

    #[test]
    fn state_hash_replaces_alloc_before_isthmus() {
        let mut json = sample_json();
        json["alloc"] = serde_json::json!({});
        json["stateHash"] = format!("{:?}", B256::repeat_byte(7)).into();
        // Isthmus at genesis needs the alloc.
        let err = load(&json).unwrap_err().to_string();
        assert!(err.contains("stateHash"), "{err}");

        json["config"]["pragueTime"] = 10u64.into();
        json["config"]["isthmusTime"] = 10u64.into();
        json["config"]["jovianTime"] = 10u64.into();
        json["extraData"] = "0x00000000fa00000006".into();
        json["timestamp"] = "0x0".into();
        let spec = load(&json).unwrap();
        assert_eq!(spec.genesis_header().state_root, B256::repeat_byte(7));
    }

    #[test]
    fn malformed_json_names_the_path() {
        let mut json = sample_json();
        json["alloc"]["f39fd6e51aad88f6f4ce6ab8827279cfffb92266"]["balance"] =
            serde_json::json!([]);
        let err = load(&json).unwrap_err();
        let ChainSpecError::Json { path, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            path,
            "alloc.f39fd6e51aad88f6f4ce6ab8827279cfffb92266.balance"
        );
        assert!(
            err.to_string()
                .contains("alloc.f39fd6e51aad88f6f4ce6ab8827279cfffb92266.balance")
        );

        let mut json = sample_json();
        json["gasLimit"] = serde_json::json!({"x": 1});
        let err = load(&json).unwrap_err().to_string();
        assert!(err.contains("`gasLimit`"), "{err}");

        let err = ChainSpec::from_genesis_json("{ not json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn missing_or_zero_eip1559_params_are_named() {
        let mut json = sample_json();
        json["config"]["optimism"]
            .as_object_mut()
            .unwrap()
            .remove("eip1559DenominatorCanyon");
        let err = load(&json).unwrap_err().to_string();
        assert!(
            err.contains("config.optimism.eip1559DenominatorCanyon"),
            "{err}"
        );

        let mut json = sample_json();
        json["config"]["optimism"]["eip1559Elasticity"] = 0.into();
        let err = load(&json).unwrap_err();
        assert!(matches!(
            err,
            ChainSpecError::ZeroField {
                field: "config.optimism.eip1559Elasticity"
            }
        ));

        let mut json = sample_json();
        json["config"].as_object_mut().unwrap().remove("optimism");
        let err = load(&json).unwrap_err().to_string();
        assert!(err.contains("config.optimism"), "{err}");

        let mut json = sample_json();
        json["config"].as_object_mut().unwrap().remove("chainId");
        let err = load(&json).unwrap_err().to_string();
        assert!(err.contains("config.chainId"), "{err}");
    }

    #[test]
    fn bedrock_must_be_at_genesis() {
        let err = load(&with_config("bedrockBlock", 5.into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bedrockBlock") && err.contains('5'), "{err}");
        let mut json = sample_json();
        json["config"]
            .as_object_mut()
            .unwrap()
            .remove("bedrockBlock");
        let err = load(&json).unwrap_err().to_string();
        assert!(
            err.contains("bedrockBlock") && err.contains("unset"),
            "{err}"
        );
    }

    #[test]
    fn l1_fork_mismatch_is_named() {
        let err = load(&with_config("shanghaiTime", 7.into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shanghaiTime") && err.contains("canyonTime"),
            "{err}"
        );
        let mut json = sample_json();
        json["config"].as_object_mut().unwrap().remove("cancunTime");
        let err = load(&json).unwrap_err().to_string();
        assert!(
            err.contains("cancunTime` (unset)") && err.contains("ecotoneTime` (0)"),
            "{err}"
        );
        let err = load(&with_config("pragueTime", 3.into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pragueTime") && err.contains("isthmusTime"),
            "{err}"
        );
    }

    #[test]
    fn out_of_order_forks_are_named() {
        let mut json = sample_json();
        json["config"]["graniteTime"] = 100.into();
        let err = load(&json).unwrap_err().to_string();
        assert!(
            err.contains("holoceneTime") && err.contains("graniteTime"),
            "{err}"
        );
    }

    #[test]
    fn unknown_forks_are_rejected() {
        for key in ["interopTime", "karstTime", "fooBlock"] {
            let err = load(&with_config(key, 0.into())).unwrap_err();
            assert!(
                matches!(&err, ChainSpecError::UnsupportedHardfork { field } if field == key),
                "{err:?}"
            );
            assert!(err.to_string().contains(key));
        }
        let err = load(&with_config("osakaTime", 0.into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("osakaTime"), "{err}");
        // Tolerated, derivation-only keys.
        load(&with_config("deltaTime", 0.into())).unwrap();
        load(&with_config("pectraBlobScheduleTime", 0.into())).unwrap();
    }

    #[test]
    fn extra_data_is_checked() {
        let mut json = sample_json();
        json["extraData"] = format!("0x{}", "11".repeat(33)).into();
        let err = load(&json).unwrap_err();
        assert!(
            matches!(err, ChainSpecError::ExtraDataTooLong { len: 33 }),
            "{err:?}"
        );

        let mut json = sample_json();
        json["extraData"] = "0x00000000fa00000006".into(); // Holocene form while Jovian is active
        let err = load(&json).unwrap_err().to_string();
        assert!(err.contains("Jovian") && err.contains("17 bytes"), "{err}");
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let err = ChainSpec::from_genesis_file(&missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.json"), "{err}");

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, with_config("interopTime", 0.into()).to_string()).unwrap();
        let err = ChainSpec::from_genesis_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("bad.json") && err.contains("interopTime"),
            "{err}"
        );

        let good = dir.path().join("genesis.json");
        std::fs::write(&good, sample_json().to_string()).unwrap();
        let spec = ChainSpec::from_genesis_file(&good).unwrap();
        assert_eq!(spec, load(&sample_json()).unwrap());
    }

    #[test]
    fn from_genesis_matches_json_path() {
        let spec = load(&sample_json()).unwrap();
        let again = ChainSpec::from_genesis(spec.genesis.clone()).unwrap();
        assert_eq!(again.genesis_hash(), spec.genesis_hash());
    }
}
