//! Local devnet genesis generation with the OP predeploys.

use crate::{
    ChainSpec, ChainSpecError, Eip1559Params, OpFork, OpForkSchedule,
    predeploys::{self, PredeployArtifacts},
};
use alloy_genesis::{ChainConfig, Genesis, GenesisAccount};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::{MnemonicBuilder, coins_bip39::English};
use serde_json::json;
use std::collections::BTreeMap;

/// The mnemonic of anvil's (and hardhat's) default dev accounts.
pub const DEFAULT_DEV_MNEMONIC: &str =
    "test test test test test test test test test test test junk";

/// One ether in wei.
const ETHER: u128 = 1_000_000_000_000_000_000;

/// Fee-vault withdrawal network `L2` (the enum `FeeVault.WithdrawalNetwork { L1, L2 }`).
const WITHDRAWAL_NETWORK_L2: u64 = 1;

/// Options for [`devnet_genesis`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevnetGenesisOptions {
    /// L2 chain id (default 901).
    pub chain_id: u64,
    /// L1 chain id, baked into `OptimismMintableERC721Factory` (default 900).
    pub l1_chain_id: u64,
    /// Genesis timestamp (default: the current time, rounded down to a second).
    pub timestamp: u64,
    /// Genesis gas limit (default 60,000,000).
    pub gas_limit: u64,
    /// Genesis base fee in wei (default 1 gwei).
    pub base_fee: u64,
    /// BIP-39 mnemonic of the dev accounts (default anvil's
    /// `test test … junk`, [`DEFAULT_DEV_MNEMONIC`]).
    pub dev_mnemonic: String,
    /// Number of dev accounts to fund, indices `0..dev_accounts` (default 10).
    pub dev_accounts: u32,
    /// Balance of every dev account (default 10,000 ETH).
    pub dev_balance: U256,
    /// Owner of `ProxyAdmin` and recipient of the fee vaults (default: dev account 0).
    pub admin: Option<Address>,
    /// Minimum withdrawal amount of the fee vaults (default 10 ETH).
    pub fee_vault_min_withdrawal: U256,
    /// EIP-1559 parameters (default 6 / 50 / 250).
    pub eip1559: Eip1559Params,
    /// Isthmus activation, seconds after genesis; `None` = not scheduled
    /// (default `Some(2 * block_time)` = 4). The bundled predeploys are pre-Isthmus, so Isthmus
    /// must come after genesis: the rollup node (or `--dev`'s sealer) then upgrades them with
    /// the network-upgrade transactions of the activation block ([`crate::upgrades`]).
    pub isthmus_offset: Option<u64>,
    /// Jovian activation, seconds after genesis; `None` = not scheduled (the default: the
    /// rollup node this devnet pairs with, kona-node 1.0.0-rc.1, cannot derive Jovian blocks).
    /// Requires Isthmus at or before it.
    pub jovian_offset: Option<u64>,
    /// L2 block time in seconds (default 2); only used to validate the offsets.
    pub block_time: u64,
}

impl Default for DevnetGenesisOptions {
    fn default() -> Self {
        let block_time = 2;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            chain_id: 901,
            l1_chain_id: 900,
            timestamp: now,
            gas_limit: 60_000_000,
            base_fee: 1_000_000_000,
            dev_mnemonic: DEFAULT_DEV_MNEMONIC.to_owned(),
            dev_accounts: 10,
            dev_balance: U256::from(10_000 * ETHER),
            admin: None,
            fee_vault_min_withdrawal: U256::from(10 * ETHER),
            eip1559: Eip1559Params::OPTIMISM,
            isthmus_offset: Some(2 * block_time),
            // kona-node 1.0.0-rc.1 derives no Jovian attributes (no minBaseFee, no Jovian
            // L1-info format), so Jovian is opt-in.
            jovian_offset: None,
            block_time,
        }
    }
}

impl DevnetGenesisOptions {
    /// The fork schedule these options produce: Regolith through Holocene at genesis (time 0),
    /// Isthmus and Jovian at `timestamp + offset`.
    pub fn fork_schedule(&self) -> OpForkSchedule {
        OpForkSchedule {
            regolith: Some(0),
            canyon: Some(0),
            ecotone: Some(0),
            fjord: Some(0),
            granite: Some(0),
            holocene: Some(0),
            isthmus: self
                .isthmus_offset
                .map(|o| self.timestamp.saturating_add(o)),
            jovian: self.jovian_offset.map(|o| self.timestamp.saturating_add(o)),
        }
    }

    fn validate(&self) -> Result<(), ChainSpecError> {
        let fail = |msg: String| Err(ChainSpecError::InvalidOptions(msg));
        if self.chain_id == 0 {
            return fail("chain_id must not be 0".to_owned());
        }
        if self.block_time == 0 {
            return fail("block_time must not be 0".to_owned());
        }
        if self.gas_limit == 0 {
            return fail("gas_limit must not be 0".to_owned());
        }
        let Eip1559Params {
            elasticity,
            denominator,
            denominator_canyon,
        } = self.eip1559;
        if elasticity == 0 || denominator == 0 || denominator_canyon == 0 {
            return fail(format!(
                "EIP-1559 parameters must be non-zero: {:?}",
                self.eip1559
            ));
        }
        if u32::try_from(elasticity).is_err() || u32::try_from(denominator_canyon).is_err() {
            return fail(
                "EIP-1559 elasticity and Canyon denominator must fit in 32 bits".to_owned(),
            );
        }
        match (self.isthmus_offset, self.jovian_offset) {
            (None, Some(_)) => fail("jovian_offset requires isthmus_offset".to_owned()),
            (Some(i), Some(j)) if j < i => fail(format!(
                "jovian_offset ({j}) is before isthmus_offset ({i})"
            )),
            _ => Ok(()),
        }
    }
}

/// Derives the first `count` addresses of `mnemonic` on the path `m/44'/60'/0'/0/i`.
pub fn derive_dev_accounts(mnemonic: &str, count: u32) -> Result<Vec<Address>, ChainSpecError> {
    (0..count)
        .map(|index| {
            MnemonicBuilder::<English>::default()
                .phrase(mnemonic)
                .index(index)
                .and_then(|builder| builder.build())
                .map(|signer| signer.address())
                .map_err(|source| ChainSpecError::DevAccount { index, source })
        })
        .collect()
}

/// Generates an op-geth `genesis.json` for a local devnet with the bundled OP predeploys.
///
/// The layout follows OP's `L2Genesis` script:
///
/// - every address of the predeploy range `0x4200…0000`–`0x4200…07ff` (except the unproxied WETH9
///   and GovernanceToken) holds the `Proxy` bytecode with the EIP-1967 admin slot set to the
///   `ProxyAdmin` predeploy; supported predeploys also have the implementation slot set to their
///   code-namespace address `0xc0D3…c0d3XXXX`, which holds the implementation bytecode;
/// - `ProxyAdmin` itself is behind a proxy it administers; its `owner` (slot 0) is the configured
///   admin, written both in the proxy and in the implementation;
/// - implementations with immutables get them patched into the bytecode: the fee vaults
///   (recipient = admin, minimum withdrawal = [`DevnetGenesisOptions::fee_vault_min_withdrawal`],
///   withdrawal network = L2) and `OptimismMintableERC721Factory` (bridge = `L2ERC721Bridge`,
///   remote chain id = the L1 chain id);
/// - the `GasPriceOracle` proxy has its `isEcotone` / `isFjord` (and, when those forks are active
///   at genesis, `isIsthmus` / `isJovian`) flags set, as the Ecotone/Fjord activation would;
/// - precompiles `0x00…00`–`0x00…ff` hold 1 wei; the preinstalls EIP-4788 beacon roots, EIP-2935
///   history storage, `Create2Deployer` and Arachnid's deterministic deployment proxy are present
///   with nonce 1, and the EIP-4788 / EIP-2935 keyless senders have nonce 1, so the Ecotone and
///   Isthmus upgrade transactions deploy to a fresh address instead of colliding;
/// - the dev accounts derived from the mnemonic (`m/44'/60'/0'/0/i`) are funded.
///
/// Not set up (a local devnet without L1 bridge contracts does not need them): the `initialize`
/// state of `L2CrossDomainMessenger`, `L2StandardBridge`, `L2ERC721Bridge` and
/// `OptimismMintableERC20Factory`, the `EAS` implementation (its EIP-712 immutables cannot be
/// derived from deployed bytecode; its proxy exists without implementation) and the governance
/// token.
pub fn devnet_genesis(opts: &DevnetGenesisOptions) -> Result<Genesis, ChainSpecError> {
    devnet_genesis_with_artifacts(opts, &PredeployArtifacts::bundled()?)
}

/// [`devnet_genesis`] with explicitly given predeploy artifacts.
pub fn devnet_genesis_with_artifacts(
    opts: &DevnetGenesisOptions,
    artifacts: &PredeployArtifacts,
) -> Result<Genesis, ChainSpecError> {
    opts.validate()?;
    let forks = opts.fork_schedule();
    let at_genesis = |fork| forks.is_active(fork, opts.timestamp);

    let dev_accounts = derive_dev_accounts(&opts.dev_mnemonic, opts.dev_accounts)?;
    let admin = match (opts.admin, dev_accounts.first()) {
        (Some(admin), _) => admin,
        (None, Some(first)) => *first,
        (None, None) => {
            return Err(ChainSpecError::InvalidOptions(
                "no admin given and no dev account to default to".to_owned(),
            ));
        }
    };

    check_artifacts_support_genesis_forks(artifacts, &forks, opts.timestamp)?;

    let mut alloc = BTreeMap::<Address, GenesisAccount>::new();

    // Precompiles hold 1 wei, as in OP's genesis.
    for i in 0..=255u8 {
        alloc.insert(Address::with_last_byte(i), account(U256::from(1), None, 0));
    }

    // Proxies over the whole predeploy range.
    let proxy_code = artifacts.require("Proxy")?.deployed_bytecode.clone();
    let implementations = implementations(artifacts, opts, admin)?;
    for index in 0..predeploys::PREDEPLOY_COUNT {
        let addr = predeploys::predeploy_address(index);
        if addr == predeploys::WETH9 || addr == predeploys::GOVERNANCE_TOKEN {
            continue;
        }
        let mut storage = BTreeMap::new();
        storage.insert(
            predeploys::EIP1967_ADMIN_SLOT,
            address_word(predeploys::PROXY_ADMIN),
        );
        if implementations.contains_key(&addr) {
            storage.insert(
                predeploys::EIP1967_IMPLEMENTATION_SLOT,
                address_word(predeploys::code_namespace_address(addr)),
            );
        }
        let mut proxy = account(U256::ZERO, Some(proxy_code.clone()), 0);
        proxy.storage = Some(storage);
        alloc.insert(addr, proxy);
    }

    // Implementations in the code namespace.
    for (predeploy, code) in &implementations {
        alloc.insert(
            predeploys::code_namespace_address(*predeploy),
            account(U256::ZERO, Some(code.clone()), 0),
        );
    }

    // WETH9 is not proxied.
    let weth = artifacts
        .get("WETH9")
        .or_else(|| artifacts.get("WETH"))
        .ok_or_else(|| ChainSpecError::Artifacts("contract WETH9/WETH is missing".to_owned()))?;
    alloc.insert(
        predeploys::WETH9,
        account(U256::ZERO, Some(weth.deployed_bytecode.clone()), 0),
    );

    // ProxyAdmin owner (slot 0 of Ownable), in the proxy and in the implementation.
    let owner = address_word(admin);
    storage_mut(&mut alloc, predeploys::PROXY_ADMIN).insert(B256::ZERO, owner);
    let proxy_admin_impl = predeploys::code_namespace_address(predeploys::PROXY_ADMIN);
    storage_mut(&mut alloc, proxy_admin_impl).insert(B256::ZERO, owner);

    // GasPriceOracle fork flags, in the proxy's storage.
    let gpo = artifacts.require("GasPriceOracle")?;
    let mut flags = vec!["isEcotone", "isFjord"];
    if at_genesis(OpFork::Isthmus) {
        flags.push("isIsthmus");
    }
    if at_genesis(OpFork::Jovian) {
        flags.push("isJovian");
    }
    for label in flags {
        let var = gpo.storage_variable(label).ok_or_else(|| {
            ChainSpecError::Artifacts(format!("GasPriceOracle has no storage variable {label}"))
        })?;
        let slot = B256::from(var.slot);
        let storage = storage_mut(&mut alloc, predeploys::GAS_PRICE_ORACLE);
        let mut word = storage.get(&slot).copied().unwrap_or_default();
        word.0[31 - var.offset] = 1;
        storage.insert(slot, word);
    }

    // Preinstalls (nonce 1, as a regular deployment would leave them) and the keyless senders
    // of the upgrade-transaction deployments (nonce 1, so those deployments do not collide).
    for (addr, code) in [
        (
            predeploys::BEACON_ROOTS_ADDRESS,
            predeploys::BEACON_ROOTS_CODE,
        ),
        (
            predeploys::HISTORY_STORAGE_ADDRESS,
            predeploys::HISTORY_STORAGE_CODE,
        ),
        (
            predeploys::CREATE2_DEPLOYER,
            predeploys::CREATE2_DEPLOYER_CODE,
        ),
        (
            predeploys::DETERMINISTIC_DEPLOYMENT_PROXY,
            predeploys::DETERMINISTIC_DEPLOYMENT_PROXY_CODE,
        ),
    ] {
        alloc.insert(addr, account(U256::ZERO, Some(Bytes::from_static(code)), 1));
    }
    for sender in [
        predeploys::BEACON_ROOTS_SENDER,
        predeploys::HISTORY_STORAGE_SENDER,
    ] {
        alloc.insert(sender, account(U256::ZERO, None, 1));
    }

    // Dev accounts.
    for addr in dev_accounts {
        alloc.entry(addr).or_default().balance = opts.dev_balance;
    }

    let genesis = Genesis {
        config: chain_config(opts.chain_id, &forks, &opts.eip1559),
        nonce: 0,
        timestamp: opts.timestamp,
        extra_data: eip1559_extra_data(&opts.eip1559, at_genesis(OpFork::Jovian)),
        gas_limit: opts.gas_limit,
        difficulty: U256::ZERO,
        mix_hash: B256::ZERO,
        coinbase: predeploys::SEQUENCER_FEE_VAULT,
        alloc,
        base_fee_per_gas: Some(u128::from(opts.base_fee)),
        excess_blob_gas: Some(0),
        blob_gas_used: Some(0),
        number: Some(0),
        parent_hash: Some(B256::ZERO),
    };
    // The result must load like any other genesis.
    ChainSpec::from_genesis(genesis.clone())?;
    Ok(genesis)
}

/// `extraData` carrying the EIP-1559 parameters: Holocene `0x00 ‖ denominator ‖ elasticity`
/// (9 bytes) or, with Jovian, `0x01 ‖ denominator ‖ elasticity ‖ minBaseFee = 0` (17 bytes). The
/// denominator is the Canyon one.
fn eip1559_extra_data(params: &Eip1559Params, jovian: bool) -> Bytes {
    let mut out = vec![u8::from(jovian)];
    // Both fit in u32: checked by `DevnetGenesisOptions::validate`.
    out.extend_from_slice(&(params.denominator_canyon as u32).to_be_bytes());
    out.extend_from_slice(&(params.elasticity as u32).to_be_bytes());
    if jovian {
        out.extend_from_slice(&0u64.to_be_bytes());
    }
    out.into()
}

/// op-geth's `config` for an OP chain with the given schedule.
fn chain_config(chain_id: u64, forks: &OpForkSchedule, eip1559: &Eip1559Params) -> ChainConfig {
    let mut config = ChainConfig {
        chain_id,
        homestead_block: Some(0),
        eip150_block: Some(0),
        eip155_block: Some(0),
        eip158_block: Some(0),
        byzantium_block: Some(0),
        constantinople_block: Some(0),
        petersburg_block: Some(0),
        istanbul_block: Some(0),
        muir_glacier_block: Some(0),
        berlin_block: Some(0),
        london_block: Some(0),
        arrow_glacier_block: Some(0),
        gray_glacier_block: Some(0),
        merge_netsplit_block: Some(0),
        shanghai_time: forks.canyon,
        cancun_time: forks.ecotone,
        prague_time: forks.isthmus,
        terminal_total_difficulty: Some(U256::ZERO),
        terminal_total_difficulty_passed: true,
        ..Default::default()
    };
    let extra = &mut config.extra_fields;
    extra.insert(OpFork::Bedrock.genesis_key().to_owned(), json!(0));
    for (fork, time) in forks.iter() {
        if let Some(time) = time {
            extra.insert(fork.genesis_key().to_owned(), json!(time));
        }
    }
    extra.insert(
        "optimism".to_owned(),
        json!({
            "eip1559Elasticity": eip1559.elasticity,
            "eip1559Denominator": eip1559.denominator,
            "eip1559DenominatorCanyon": eip1559.denominator_canyon,
        }),
    );
    config
}

/// Refuses a fork at genesis that the artifacts' `L1Block` / `GasPriceOracle` cannot serve: the
/// L1-info deposit of block 1 would revert.
fn check_artifacts_support_genesis_forks(
    artifacts: &PredeployArtifacts,
    forks: &OpForkSchedule,
    timestamp: u64,
) -> Result<(), ChainSpecError> {
    let l1_block = artifacts.require("L1Block")?;
    for format in crate::l1_info::L1InfoFormat::ALL {
        let (fork, function) = (format.fork(), format.function());
        if forks.is_active(fork, timestamp) && !l1_block.has_selector(format.selector()) {
            return Err(ChainSpecError::InvalidOptions(format!(
                "{fork} at genesis needs an L1Block with {function}(), which the predeploy \
                 artifacts ({}) lack; schedule {fork} after genesis so the rollup node upgrades \
                 the predeploys",
                artifacts.source()
            )));
        }
    }
    if forks.is_active(OpFork::Isthmus, timestamp) && artifacts.get("OperatorFeeVault").is_none() {
        return Err(ChainSpecError::InvalidOptions(format!(
            "Isthmus at genesis needs the OperatorFeeVault predeploy, missing from {}",
            artifacts.source()
        )));
    }
    Ok(())
}

/// Implementation bytecode per supported predeploy, immutables patched.
fn implementations(
    artifacts: &PredeployArtifacts,
    opts: &DevnetGenesisOptions,
    admin: Address,
) -> Result<BTreeMap<Address, Bytes>, ChainSpecError> {
    let fee_vault = |recipient: Address, min_withdrawal: U256| {
        // Declaration order in FeeVault: MIN_WITHDRAWAL_AMOUNT, RECIPIENT, WITHDRAWAL_NETWORK
        // (checked by executing the getters in tests/devnet_evm.rs).
        vec![
            B256::from(min_withdrawal),
            address_word(recipient),
            B256::from(U256::from(WITHDRAWAL_NETWORK_L2)),
        ]
    };
    let vault = fee_vault(admin, opts.fee_vault_min_withdrawal);
    // (predeploy, artifact name, immutable values, required)
    let table: Vec<(Address, &str, Vec<B256>, bool)> = vec![
        (
            predeploys::LEGACY_MESSAGE_PASSER,
            "LegacyMessagePasser",
            vec![],
            true,
        ),
        (
            predeploys::DEPLOYER_WHITELIST,
            "DeployerWhitelist",
            vec![],
            true,
        ),
        (
            predeploys::L2_CROSS_DOMAIN_MESSENGER,
            "L2CrossDomainMessenger",
            vec![],
            true,
        ),
        (predeploys::GAS_PRICE_ORACLE, "GasPriceOracle", vec![], true),
        (
            predeploys::L2_STANDARD_BRIDGE,
            "L2StandardBridge",
            vec![],
            true,
        ),
        (
            predeploys::SEQUENCER_FEE_VAULT,
            "SequencerFeeVault",
            vault.clone(),
            true,
        ),
        (
            predeploys::OPTIMISM_MINTABLE_ERC20_FACTORY,
            "OptimismMintableERC20Factory",
            vec![],
            true,
        ),
        (predeploys::L1_BLOCK_NUMBER, "L1BlockNumber", vec![], true),
        (predeploys::L2_ERC721_BRIDGE, "L2ERC721Bridge", vec![], true),
        (predeploys::L1_BLOCK, "L1Block", vec![], true),
        (
            crate::L2_TO_L1_MESSAGE_PASSER,
            "L2ToL1MessagePasser",
            vec![],
            true,
        ),
        (
            predeploys::OPTIMISM_MINTABLE_ERC721_FACTORY,
            "OptimismMintableERC721Factory",
            // Declaration order: BRIDGE, REMOTE_CHAIN_ID.
            vec![
                address_word(predeploys::L2_ERC721_BRIDGE),
                B256::from(U256::from(opts.l1_chain_id)),
            ],
            true,
        ),
        (predeploys::PROXY_ADMIN, "ProxyAdmin", vec![], true),
        (
            predeploys::BASE_FEE_VAULT,
            "BaseFeeVault",
            vault.clone(),
            true,
        ),
        (predeploys::L1_FEE_VAULT, "L1FeeVault", vault, true),
        // Isthmus: operator fees go to the BaseFeeVault, no minimum, withdrawn on L2.
        (
            predeploys::OPERATOR_FEE_VAULT,
            "OperatorFeeVault",
            fee_vault(predeploys::BASE_FEE_VAULT, U256::ZERO),
            false,
        ),
        (predeploys::SCHEMA_REGISTRY, "SchemaRegistry", vec![], false),
    ];
    let mut out = BTreeMap::new();
    for (predeploy, name, immutables, required) in table {
        let artifact = match artifacts.get(name) {
            Some(artifact) => artifact,
            None if required => return Err(artifacts.require(name).unwrap_err()),
            None => continue,
        };
        let code = artifact
            .with_immutables(&immutables)
            .map_err(|e| ChainSpecError::Artifacts(format!("{name}: {e}")))?;
        out.insert(predeploy, code);
    }
    Ok(out)
}

fn account(balance: U256, code: Option<Bytes>, nonce: u64) -> GenesisAccount {
    GenesisAccount {
        nonce: (nonce != 0).then_some(nonce),
        balance,
        code,
        storage: None,
        private_key: None,
    }
}

fn storage_mut(
    alloc: &mut BTreeMap<Address, GenesisAccount>,
    addr: Address,
) -> &mut BTreeMap<B256, B256> {
    alloc
        .entry(addr)
        .or_default()
        .storage
        .get_or_insert_with(BTreeMap::new)
}

fn address_word(addr: Address) -> B256 {
    addr.into_word()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predeploys::*;
    use alloy_primitives::address;

    fn opts() -> DevnetGenesisOptions {
        DevnetGenesisOptions {
            timestamp: 1_700_000_000,
            jovian_offset: Some(8),
            ..Default::default()
        }
    }

    #[test]
    fn derives_anvil_accounts() {
        let accounts = derive_dev_accounts(DEFAULT_DEV_MNEMONIC, 3).unwrap();
        assert_eq!(
            accounts,
            [
                address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
                address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
                address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
            ]
        );
        assert!(matches!(
            derive_dev_accounts("not a mnemonic", 1),
            Err(ChainSpecError::DevAccount { index: 0, .. })
        ));
    }

    #[test]
    fn default_options() {
        let o = DevnetGenesisOptions::default();
        assert_eq!(o.chain_id, 901);
        assert_eq!(o.gas_limit, 60_000_000);
        assert_eq!(o.base_fee, 1_000_000_000);
        assert_eq!(o.dev_accounts, 10);
        assert_eq!(o.dev_balance, U256::from(10_000u64) * U256::from(ETHER));
        assert_eq!(o.isthmus_offset, Some(4));
        assert_eq!(o.jovian_offset, None);
        assert!(o.timestamp > 1_700_000_000);
    }

    #[test]
    fn round_trips_through_json() {
        let genesis = devnet_genesis(&opts()).unwrap();
        let json = serde_json::to_string_pretty(&genesis).unwrap();
        let direct = ChainSpec::from_genesis(genesis).unwrap();
        let loaded = ChainSpec::from_genesis_json(&json).unwrap();
        assert_eq!(loaded.genesis_hash(), direct.genesis_hash());
        assert_eq!(loaded.genesis_header(), direct.genesis_header());
        assert_eq!(loaded.chain_id, 901);
        assert_eq!(loaded.eip1559, Eip1559Params::OPTIMISM);
        assert_eq!(loaded.forks, opts().fork_schedule());
        assert_eq!(loaded.forks.isthmus, Some(1_700_000_004));
        assert_eq!(loaded.forks.jovian, Some(1_700_000_008));
        assert_eq!(loaded.fork_at(1_700_000_000), OpFork::Holocene);
        assert_eq!(loaded.fork_at(1_700_000_004), OpFork::Isthmus);
        assert_eq!(loaded.fork_at(1_700_000_008), OpFork::Jovian);

        // op-geth style config keys.
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let config = &value["config"];
        assert_eq!(config["bedrockBlock"], 0);
        assert_eq!(config["canyonTime"], 0);
        assert_eq!(config["shanghaiTime"], 0);
        assert_eq!(config["pragueTime"], 1_700_000_004u64);
        assert_eq!(config["isthmusTime"], 1_700_000_004u64);
        assert_eq!(config["terminalTotalDifficultyPassed"], true);
        assert_eq!(config["optimism"]["eip1559DenominatorCanyon"], 250);
    }

    #[test]
    fn header_of_devnet_genesis() {
        let spec = ChainSpec::from_genesis(devnet_genesis(&opts()).unwrap()).unwrap();
        let h = spec.genesis_header();
        // Holocene at genesis: 0x00 ‖ 250 ‖ 6.
        assert_eq!(h.extra_data.as_ref(), &[0, 0, 0, 0, 250, 0, 0, 0, 6]);
        assert_eq!(h.base_fee_per_gas, Some(1_000_000_000));
        assert_eq!(h.gas_limit, 60_000_000);
        assert_eq!(h.beneficiary, SEQUENCER_FEE_VAULT);
        // Canyon/Ecotone at genesis, Isthmus later.
        assert_eq!(h.withdrawals_root, Some(alloy_trie::EMPTY_ROOT_HASH));
        assert_eq!(h.parent_beacon_block_root, Some(B256::ZERO));
        assert_eq!(h.requests_hash, None);
    }

    #[test]
    fn predeploy_layout() {
        let o = opts();
        let genesis = devnet_genesis(&o).unwrap();
        let artifacts = PredeployArtifacts::bundled().unwrap();
        let proxy = &artifacts.require("Proxy").unwrap().deployed_bytecode;
        let alloc = &genesis.alloc;
        let slot = |addr: Address, slot: B256| {
            alloc[&addr]
                .storage
                .as_ref()
                .and_then(|s| s.get(&slot))
                .copied()
        };

        // Every proxied address holds the proxy with ProxyAdmin as admin.
        let mut proxies = 0;
        for index in 0..PREDEPLOY_COUNT {
            let addr = predeploy_address(index);
            if addr == WETH9 || addr == GOVERNANCE_TOKEN {
                assert!(
                    alloc
                        .get(&addr)
                        .is_none_or(|a| a.code.as_ref() != Some(proxy))
                );
                continue;
            }
            proxies += 1;
            assert_eq!(alloc[&addr].code.as_ref(), Some(proxy), "{addr}");
            assert_eq!(
                slot(addr, EIP1967_ADMIN_SLOT),
                Some(PROXY_ADMIN.into_word())
            );
        }
        assert_eq!(proxies, 2046);

        let supported = [
            LEGACY_MESSAGE_PASSER,
            DEPLOYER_WHITELIST,
            L2_CROSS_DOMAIN_MESSENGER,
            GAS_PRICE_ORACLE,
            L2_STANDARD_BRIDGE,
            SEQUENCER_FEE_VAULT,
            OPTIMISM_MINTABLE_ERC20_FACTORY,
            L1_BLOCK_NUMBER,
            L2_ERC721_BRIDGE,
            L1_BLOCK,
            crate::L2_TO_L1_MESSAGE_PASSER,
            OPTIMISM_MINTABLE_ERC721_FACTORY,
            PROXY_ADMIN,
            BASE_FEE_VAULT,
            L1_FEE_VAULT,
            SCHEMA_REGISTRY,
        ];
        for addr in supported {
            let implementation = code_namespace_address(addr);
            assert_eq!(
                slot(addr, EIP1967_IMPLEMENTATION_SLOT),
                Some(implementation.into_word())
            );
            assert!(
                alloc[&implementation]
                    .code
                    .as_ref()
                    .is_some_and(|c| !c.is_empty())
            );
        }
        // Not set up: EAS, legacy slots, OperatorFeeVault (comes with the Isthmus upgrade).
        for addr in [EAS, predeploy_address(1), OPERATOR_FEE_VAULT] {
            assert_eq!(slot(addr, EIP1967_IMPLEMENTATION_SLOT), None, "{addr}");
        }
        // The L1Block implementation is the unmodified artifact.
        assert_eq!(
            alloc[&code_namespace_address(L1_BLOCK)].code.as_ref(),
            Some(&artifacts.require("L1Block").unwrap().deployed_bytecode)
        );

        // WETH9, not proxied.
        assert_eq!(
            alloc[&WETH9].code.as_ref(),
            Some(&artifacts.require("WETH").unwrap().deployed_bytecode)
        );

        // ProxyAdmin owner = admin = dev account 0.
        let admin = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(slot(PROXY_ADMIN, B256::ZERO), Some(admin.into_word()));
        assert_eq!(
            slot(code_namespace_address(PROXY_ADMIN), B256::ZERO),
            Some(admin.into_word())
        );

        // GasPriceOracle: isEcotone (byte 0) and isFjord (byte 1) of slot 0.
        let mut flags = B256::ZERO;
        flags.0[31] = 1;
        flags.0[30] = 1;
        assert_eq!(slot(GAS_PRICE_ORACLE, B256::ZERO), Some(flags));

        // Preinstalls and senders.
        for (addr, hash) in [
            (BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CODE_HASH),
            (HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE_HASH),
            (CREATE2_DEPLOYER, CREATE2_DEPLOYER_CODE_HASH),
            (
                DETERMINISTIC_DEPLOYMENT_PROXY,
                DETERMINISTIC_DEPLOYMENT_PROXY_CODE_HASH,
            ),
        ] {
            let account = &alloc[&addr];
            assert_eq!(
                alloy_primitives::keccak256(account.code.as_ref().unwrap()),
                hash
            );
            assert_eq!(account.nonce, Some(1));
        }
        assert_eq!(alloc[&BEACON_ROOTS_SENDER].nonce, Some(1));
        assert_eq!(alloc[&HISTORY_STORAGE_SENDER].nonce, Some(1));

        // Precompiles and dev accounts.
        assert_eq!(alloc[&Address::with_last_byte(1)].balance, U256::from(1));
        for addr in derive_dev_accounts(DEFAULT_DEV_MNEMONIC, 10).unwrap() {
            assert_eq!(alloc[&addr].balance, o.dev_balance);
        }
    }

    #[test]
    fn isthmus_at_genesis_needs_isthmus_predeploys() {
        let o = DevnetGenesisOptions {
            isthmus_offset: Some(0),
            ..opts()
        };
        let err = devnet_genesis(&o).unwrap_err().to_string();
        assert!(
            err.contains("Isthmus") && err.contains("setL1BlockValuesIsthmus"),
            "{err}"
        );
    }

    #[test]
    fn later_forks_optional() {
        let o = DevnetGenesisOptions {
            isthmus_offset: None,
            jovian_offset: None,
            ..opts()
        };
        let spec = ChainSpec::from_genesis(devnet_genesis(&o).unwrap()).unwrap();
        assert_eq!(spec.forks.isthmus, None);
        assert_eq!(spec.fork_at(u64::MAX), OpFork::Holocene);
        assert!(spec.genesis.config.prague_time.is_none());

        let o = DevnetGenesisOptions {
            isthmus_offset: None,
            ..opts()
        };
        assert!(matches!(
            devnet_genesis(&o),
            Err(ChainSpecError::InvalidOptions(_))
        ));
        let o = DevnetGenesisOptions {
            isthmus_offset: Some(10),
            jovian_offset: Some(4),
            ..opts()
        };
        assert!(matches!(
            devnet_genesis(&o),
            Err(ChainSpecError::InvalidOptions(_))
        ));
    }

    #[test]
    fn jovian_extra_data_encoding() {
        let params = Eip1559Params {
            elasticity: 6,
            denominator: 50,
            denominator_canyon: 250,
        };
        assert_eq!(
            eip1559_extra_data(&params, true).as_ref(),
            &[1, 0, 0, 0, 250, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn custom_admin_and_accounts() {
        let admin = address!("0x00000000000000000000000000000000000a11ce");
        let o = DevnetGenesisOptions {
            admin: Some(admin),
            dev_accounts: 0,
            ..opts()
        };
        let genesis = devnet_genesis(&o).unwrap();
        let owner = genesis.alloc[&PROXY_ADMIN].storage.as_ref().unwrap()[&B256::ZERO];
        assert_eq!(owner, admin.into_word());
        assert!(
            !genesis
                .alloc
                .contains_key(&address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"))
        );

        let o = DevnetGenesisOptions {
            dev_accounts: 0,
            ..opts()
        };
        assert!(matches!(
            devnet_genesis(&o),
            Err(ChainSpecError::InvalidOptions(_))
        ));
    }
}
