//! OP Stack predeploy and preinstall addresses, the spec-published bytecode of the preinstalls,
//! and the bundled predeploy artifacts.

use crate::ChainSpecError;
use alloy_primitives::{Address, B256, Bytes, U256, address, b256, hex};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Number of addresses in the predeploy range `0x4200…0000` – `0x4200…07ff`; every one holds a
/// proxy in an OP genesis (except the unproxied WETH9 and GovernanceToken).
pub const PREDEPLOY_COUNT: u16 = 2048;

/// First address of the predeploy range.
pub const PREDEPLOY_BASE: Address = address!("0x4200000000000000000000000000000000000000");

/// Base of the code namespace holding predeploy implementations:
/// `0xc0D3C0d3…c0d3XXXX` for predeploy `0x4200…XXXX`.
pub const CODE_NAMESPACE_BASE: Address = address!("0xc0D3C0d3C0d3C0D3c0d3C0d3c0D3C0d3c0d30000");

/// `LegacyMessagePasser` (proxied).
pub const LEGACY_MESSAGE_PASSER: Address = address!("0x4200000000000000000000000000000000000000");
/// `DeployerWhitelist` (proxied, legacy).
pub const DEPLOYER_WHITELIST: Address = address!("0x4200000000000000000000000000000000000002");
/// `WETH9` (not proxied).
pub const WETH9: Address = address!("0x4200000000000000000000000000000000000006");
/// `L2CrossDomainMessenger`.
pub const L2_CROSS_DOMAIN_MESSENGER: Address =
    address!("0x4200000000000000000000000000000000000007");
/// `GasPriceOracle`.
pub const GAS_PRICE_ORACLE: Address = address!("0x420000000000000000000000000000000000000F");
/// `L2StandardBridge`.
pub const L2_STANDARD_BRIDGE: Address = address!("0x4200000000000000000000000000000000000010");
/// `SequencerFeeVault` (priority fees; the genesis coinbase).
pub const SEQUENCER_FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000011");
/// `OptimismMintableERC20Factory`.
pub const OPTIMISM_MINTABLE_ERC20_FACTORY: Address =
    address!("0x4200000000000000000000000000000000000012");
/// `L1BlockNumber` (legacy).
pub const L1_BLOCK_NUMBER: Address = address!("0x4200000000000000000000000000000000000013");
/// `L2ERC721Bridge`.
pub const L2_ERC721_BRIDGE: Address = address!("0x4200000000000000000000000000000000000014");
/// `L1Block` (L1 attributes, written by the L1-info deposit).
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");
/// `OptimismMintableERC721Factory`.
pub const OPTIMISM_MINTABLE_ERC721_FACTORY: Address =
    address!("0x4200000000000000000000000000000000000017");
/// `ProxyAdmin` (admin of every predeploy proxy; itself behind a proxy it administers).
pub const PROXY_ADMIN: Address = address!("0x4200000000000000000000000000000000000018");
/// `BaseFeeVault` (base fees).
pub const BASE_FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000019");
/// `L1FeeVault` (L1 data fees).
pub const L1_FEE_VAULT: Address = address!("0x420000000000000000000000000000000000001A");
/// `OperatorFeeVault` (operator fees, Isthmus).
pub const OPERATOR_FEE_VAULT: Address = address!("0x420000000000000000000000000000000000001b");
/// `SchemaRegistry` (EAS).
pub const SCHEMA_REGISTRY: Address = address!("0x4200000000000000000000000000000000000020");
/// `EAS`.
pub const EAS: Address = address!("0x4200000000000000000000000000000000000021");
/// `GovernanceToken` (not proxied; only present when governance is enabled).
pub const GOVERNANCE_TOKEN: Address = address!("0x4200000000000000000000000000000000000042");

/// EIP-1967 admin slot: `bytes32(uint256(keccak256("eip1967.proxy.admin")) - 1)`.
pub const EIP1967_ADMIN_SLOT: B256 =
    b256!("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103");
/// EIP-1967 implementation slot:
/// `bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)`.
pub const EIP1967_IMPLEMENTATION_SLOT: B256 =
    b256!("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc");

/// EIP-4788 beacon roots contract.
pub const BEACON_ROOTS_ADDRESS: Address = address!("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02");
/// The keyless sender of the EIP-4788 deployment transaction (also used by the Ecotone upgrade
/// transaction).
pub const BEACON_ROOTS_SENDER: Address = address!("0x0B799C86a49DEeb90402691F1041aa3AF2d3C875");
/// Runtime code of the EIP-4788 contract, as published in EIP-4788.
pub const BEACON_ROOTS_CODE: &[u8] = &hex!(
    "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"
);
/// Code hash of [`BEACON_ROOTS_CODE`].
pub const BEACON_ROOTS_CODE_HASH: B256 =
    b256!("0xf57acd40259872606d76197ef052f3d35588dadf919ee1f0e3cb9b62d3f4b02c");

/// EIP-2935 history storage contract.
pub const HISTORY_STORAGE_ADDRESS: Address = address!("0x0000F90827F1C53a10cb7A02335B175320002935");
/// The keyless sender of the EIP-2935 deployment transaction (also used by the Isthmus upgrade
/// transaction).
pub const HISTORY_STORAGE_SENDER: Address = address!("0x3462413Af4609098e1E27A490f554f260213D685");
/// Runtime code of the EIP-2935 contract (final version, as published in EIP-2935).
pub const HISTORY_STORAGE_CODE: &[u8] = &hex!(
    "3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"
);
/// Code hash of [`HISTORY_STORAGE_CODE`] (the hash the OP Isthmus spec requires).
pub const HISTORY_STORAGE_CODE_HASH: B256 =
    b256!("0x6e49e66782037c0555897870e29fa5e552daf4719552131a0abce779daec0a5d");

/// The `Create2Deployer` preinstall that OP Stack Canyon force-deploys.
pub const CREATE2_DEPLOYER: Address = address!("0x13b0D85CcB8bf860b6b79AF3029fCA081AE9beF2");
/// Runtime code of [`CREATE2_DEPLOYER`] (OP's `Preinstalls.sol`, pcaversaccio's
/// create2deployer); its hash is the Canyon-specified [`CREATE2_DEPLOYER_CODE_HASH`].
pub const CREATE2_DEPLOYER_CODE: &[u8] = &hex!(
    "6080604052600436106100435760003560e01c8063076c37b21461004f578063481286e61461007157806356299481146100ba57806366cfa057146100da57600080fd5b3661004a57005b600080fd5b34801561005b57600080fd5b5061006f61006a366004610327565b6100fa565b005b34801561007d57600080fd5b5061009161008c366004610327565b61014a565b60405173ffffffffffffffffffffffffffffffffffffffff909116815260200160405180910390f35b3480156100c657600080fd5b506100916100d5366004610349565b61015d565b3480156100e657600080fd5b5061006f6100f53660046103ca565b610172565b61014582826040518060200161010f9061031a565b7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe082820381018352601f90910116604052610183565b505050565b600061015683836102e7565b9392505050565b600061016a8484846102f0565b949350505050565b61017d838383610183565b50505050565b6000834710156101f4576040517f08c379a000000000000000000000000000000000000000000000000000000000815260206004820152601d60248201527f437265617465323a20696e73756666696369656e742062616c616e636500000060448201526064015b60405180910390fd5b815160000361025f576040517f08c379a000000000000000000000000000000000000000000000000000000000815260206004820181905260248201527f437265617465323a2062797465636f6465206c656e677468206973207a65726f60448201526064016101eb565b8282516020840186f5905073ffffffffffffffffffffffffffffffffffffffff8116610156576040517f08c379a000000000000000000000000000000000000000000000000000000000815260206004820152601960248201527f437265617465323a204661696c6564206f6e206465706c6f790000000000000060448201526064016101eb565b60006101568383305b6000604051836040820152846020820152828152600b8101905060ff815360559020949350505050565b61014e806104ad83390190565b6000806040838503121561033a57600080fd5b50508035926020909101359150565b60008060006060848603121561035e57600080fd5b8335925060208401359150604084013573ffffffffffffffffffffffffffffffffffffffff8116811461039057600080fd5b809150509250925092565b7f4e487b7100000000000000000000000000000000000000000000000000000000600052604160045260246000fd5b6000806000606084860312156103df57600080fd5b8335925060208401359150604084013567ffffffffffffffff8082111561040557600080fd5b818601915086601f83011261041957600080fd5b81358181111561042b5761042b61039b565b604051601f82017fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0908116603f011681019083821181831017156104715761047161039b565b8160405282815289602084870101111561048a57600080fd5b826020860160208301376000602084830101528095505050505050925092509256fe608060405234801561001057600080fd5b5061012e806100206000396000f3fe6080604052348015600f57600080fd5b506004361060285760003560e01c8063249cb3fa14602d575b600080fd5b603c603836600460b1565b604e565b60405190815260200160405180910390f35b60008281526020818152604080832073ffffffffffffffffffffffffffffffffffffffff8516845290915281205460ff16608857600060aa565b7fa2ef4600d742022d532d4747cb3547474667d6f13804902513b2ec01c848f4b45b9392505050565b6000806040838503121560c357600080fd5b82359150602083013573ffffffffffffffffffffffffffffffffffffffff8116811460ed57600080fd5b80915050925092905056fea26469706673582212205ffd4e6cede7d06a5daf93d48d0541fc68189eeb16608c1999a82063b666eb1164736f6c63430008130033a2646970667358221220fdc4a0fe96e3b21c108ca155438d37c9143fb01278a3c1d274948bad89c564ba64736f6c63430008130033"
);
/// Code hash the OP Canyon spec requires of [`CREATE2_DEPLOYER_CODE`].
pub const CREATE2_DEPLOYER_CODE_HASH: B256 =
    b256!("0xb0550b5b431e30d38000efb7107aaa0ade03d48a7198a140edda9d27134468b2");

/// Arachnid's deterministic deployment proxy (a CREATE2 factory present on most EVM chains).
pub const DETERMINISTIC_DEPLOYMENT_PROXY: Address =
    address!("0x4e59b44847b379578588920cA78FbF26c0B4956C");
/// Runtime code of [`DETERMINISTIC_DEPLOYMENT_PROXY`].
pub const DETERMINISTIC_DEPLOYMENT_PROXY_CODE: &[u8] = &hex!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);
/// Code hash of [`DETERMINISTIC_DEPLOYMENT_PROXY_CODE`].
pub const DETERMINISTIC_DEPLOYMENT_PROXY_CODE_HASH: B256 =
    b256!("0x2fa86add0aed31f33a762c9d88e807c475bd51d0f52bd0955754b2608f7e4989");

/// The predeploy at index `index` of the predeploy range (`0x4200…0000 + index`).
pub const fn predeploy_address(index: u16) -> Address {
    let mut bytes = PREDEPLOY_BASE.0.0;
    let [hi, lo] = index.to_be_bytes();
    bytes[18] = hi;
    bytes[19] = lo;
    Address::new(bytes)
}

/// The code-namespace address holding the implementation of `predeploy`.
pub const fn code_namespace_address(predeploy: Address) -> Address {
    let mut bytes = CODE_NAMESPACE_BASE.0.0;
    bytes[18] = predeploy.0.0[18];
    bytes[19] = predeploy.0.0[19];
    Address::new(bytes)
}

/// The OP predeploy bytecode bundled with this crate (`artifacts/predeploys.json`, generated
/// from the npm package `@eth-optimism/contracts-bedrock` forge artifacts).
pub const BUNDLED_ARTIFACTS_JSON: &str = include_str!("../artifacts/predeploys.json");

/// Deployed bytecode of the OP predeploy contracts with their immutable references and (some)
/// storage layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredeployArtifacts {
    source: String,
    contracts: BTreeMap<String, ContractArtifact>,
}

/// One contract of [`PredeployArtifacts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractArtifact {
    /// Deployed (runtime) bytecode with zeroed immutables.
    pub deployed_bytecode: Bytes,
    /// Immutable references: AST id → byte ranges in the deployed bytecode.
    pub immutable_references: BTreeMap<u64, Vec<ImmutableRange>>,
    /// Storage variables, if the artifact carries a layout.
    pub storage_layout: Vec<StorageVariable>,
}

/// A byte range of deployed bytecode that holds an immutable value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ImmutableRange {
    /// Offset in the deployed bytecode.
    pub start: usize,
    /// Length (32 for every value type).
    pub length: usize,
}

/// A storage variable from a contract's storage layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageVariable {
    /// Variable name.
    pub label: String,
    /// Storage slot.
    pub slot: U256,
    /// Byte offset inside the slot, counted from the low-order end.
    pub offset: usize,
    /// Size in bytes.
    pub number_of_bytes: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArtifacts {
    #[serde(default)]
    source: String,
    contracts: BTreeMap<String, RawContract>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContract {
    deployed_bytecode: Bytes,
    #[serde(default)]
    immutable_references: Option<BTreeMap<String, Vec<ImmutableRange>>>,
    #[serde(default)]
    storage_layout: Option<serde_json::Value>,
}

impl PredeployArtifacts {
    /// The artifacts bundled with this crate.
    pub fn bundled() -> Result<Self, ChainSpecError> {
        Self::from_json(BUNDLED_ARTIFACTS_JSON)
    }

    /// Parses artifacts in the bundled format:
    /// `{source, contracts: {Name: {deployedBytecode, immutableReferences?, storageLayout?}}}`.
    /// `storageLayout` is either a list of `{label, slot, offset, numberOfBytes}` or forge's
    /// `{storage: [...]}` object.
    pub fn from_json(json: &str) -> Result<Self, ChainSpecError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let raw: RawArtifacts = serde_path_to_error::deserialize(de)
            .map_err(|e| ChainSpecError::Artifacts(format!("at `{}`: {}", e.path(), e.inner())))?;
        let mut contracts = BTreeMap::new();
        for (name, contract) in raw.contracts {
            let bad = |what: String| ChainSpecError::Artifacts(format!("{name}: {what}"));
            if contract.deployed_bytecode.is_empty() {
                return Err(bad("empty deployedBytecode".to_owned()));
            }
            let mut immutable_references = BTreeMap::new();
            for (id, ranges) in contract.immutable_references.unwrap_or_default() {
                let id: u64 = id
                    .parse()
                    .map_err(|_| bad(format!("bad immutable id {id:?}")))?;
                for range in &ranges {
                    if range.length != 32
                        || range.start + range.length > contract.deployed_bytecode.len()
                    {
                        return Err(bad(format!("bad immutable range {range:?}")));
                    }
                }
                immutable_references.insert(id, ranges);
            }
            let storage_layout = match contract.storage_layout {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(layout) => parse_storage_layout(&layout).map_err(bad)?,
            };
            contracts.insert(
                name,
                ContractArtifact {
                    deployed_bytecode: contract.deployed_bytecode,
                    immutable_references,
                    storage_layout,
                },
            );
        }
        Ok(Self {
            source: raw.source,
            contracts,
        })
    }

    /// Where the artifacts come from (e.g. `@eth-optimism/contracts-bedrock@0.17.3`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A contract by name.
    pub fn get(&self, name: &str) -> Option<&ContractArtifact> {
        self.contracts.get(name)
    }

    /// A contract by name, or an error naming it.
    pub fn require(&self, name: &str) -> Result<&ContractArtifact, ChainSpecError> {
        self.get(name).ok_or_else(|| {
            ChainSpecError::Artifacts(format!("contract {name} is missing from {}", self.source))
        })
    }

    /// Contract names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.contracts.keys().map(String::as_str)
    }
}

impl ContractArtifact {
    /// Whether the deployed bytecode contains a `PUSH4 <selector>`, i.e. dispatches to that
    /// function.
    pub fn has_selector(&self, selector: [u8; 4]) -> bool {
        let needle = [0x63, selector[0], selector[1], selector[2], selector[3]];
        self.deployed_bytecode.windows(5).any(|w| w == needle)
    }

    /// A storage variable by name.
    pub fn storage_variable(&self, label: &str) -> Option<&StorageVariable> {
        self.storage_layout.iter().find(|v| v.label == label)
    }

    /// The deployed bytecode with each immutable (taken in AST-id order, which is declaration
    /// order) replaced by the matching word of `values`. Fails unless the artifact has exactly
    /// `values.len()` immutables.
    pub fn with_immutables(&self, values: &[B256]) -> Result<Bytes, String> {
        if self.immutable_references.len() != values.len() {
            return Err(format!(
                "expected {} immutables, the artifact has {}",
                values.len(),
                self.immutable_references.len()
            ));
        }
        let mut code = self.deployed_bytecode.to_vec();
        for (ranges, value) in self.immutable_references.values().zip(values) {
            for range in ranges {
                code[range.start..range.start + range.length].copy_from_slice(value.as_slice());
            }
        }
        Ok(code.into())
    }
}

fn parse_storage_layout(layout: &serde_json::Value) -> Result<Vec<StorageVariable>, String> {
    let (entries, types) = match layout {
        serde_json::Value::Array(entries) => (entries, None),
        serde_json::Value::Object(map) => match map.get("storage") {
            Some(serde_json::Value::Array(entries)) => (entries, map.get("types")),
            _ => return Err("storageLayout object without a storage list".to_owned()),
        },
        _ => return Err("storageLayout is neither a list nor an object".to_owned()),
    };
    let number = |entry: &serde_json::Value, key: &str| -> Result<U256, String> {
        match entry.get(key) {
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .map(U256::from)
                .ok_or_else(|| format!("bad storageLayout {key}")),
            Some(serde_json::Value::String(s)) => s
                .parse::<U256>()
                .map_err(|_| format!("bad storageLayout {key} {s:?}")),
            _ => Err(format!("storageLayout entry without {key}")),
        }
    };
    entries
        .iter()
        .map(|entry| {
            let label = entry
                .get("label")
                .and_then(serde_json::Value::as_str)
                .ok_or("storageLayout entry without label")?
                .to_owned();
            let small = |key: &str| -> Result<usize, String> {
                usize::try_from(number(entry, key)?).map_err(|_| format!("bad storageLayout {key}"))
            };
            // Forge's layout keeps sizes in `types`; the flattened format inlines them.
            let type_info = entry
                .get("type")
                .and_then(serde_json::Value::as_str)
                .and_then(|ty| types?.get(ty));
            let number_of_bytes = match (entry.get("numberOfBytes"), type_info) {
                (Some(_), _) => small("numberOfBytes")?,
                (None, Some(info)) => usize::try_from(number(info, "numberOfBytes")?)
                    .map_err(|_| "bad storageLayout numberOfBytes".to_owned())?,
                (None, None) => 32,
            };
            let offset = small("offset")?;
            if offset + number_of_bytes > 32 {
                return Err(format!("storage variable {label} does not fit its slot"));
            }
            Ok(StorageVariable {
                slot: number(entry, "slot")?,
                offset,
                number_of_bytes,
                label,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn preinstall_code_hashes_match_the_specs() {
        assert_eq!(keccak256(BEACON_ROOTS_CODE), BEACON_ROOTS_CODE_HASH);
        assert_eq!(keccak256(HISTORY_STORAGE_CODE), HISTORY_STORAGE_CODE_HASH);
        assert_eq!(CREATE2_DEPLOYER_CODE.len(), 1584);
        assert_eq!(keccak256(CREATE2_DEPLOYER_CODE), CREATE2_DEPLOYER_CODE_HASH);
        assert_eq!(
            keccak256(DETERMINISTIC_DEPLOYMENT_PROXY_CODE),
            DETERMINISTIC_DEPLOYMENT_PROXY_CODE_HASH
        );
    }

    #[test]
    fn eip1967_slots() {
        let slot = |s: &str| B256::from(U256::from_be_bytes(keccak256(s).0) - U256::from(1));
        assert_eq!(slot("eip1967.proxy.admin"), EIP1967_ADMIN_SLOT);
        assert_eq!(
            slot("eip1967.proxy.implementation"),
            EIP1967_IMPLEMENTATION_SLOT
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(predeploy_address(0x16), crate::L2_TO_L1_MESSAGE_PASSER);
        assert_eq!(
            predeploy_address(0x07ff),
            address!("0x42000000000000000000000000000000000007ff")
        );
        assert_eq!(
            code_namespace_address(GAS_PRICE_ORACLE),
            address!("0xc0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3000f")
        );
    }

    #[test]
    fn bundled_artifacts_parse() {
        let artifacts = PredeployArtifacts::bundled().unwrap();
        assert!(
            artifacts.source().contains("contracts-bedrock"),
            "{}",
            artifacts.source()
        );
        let gpo = artifacts.require("GasPriceOracle").unwrap();
        let flag = gpo.storage_variable("isFjord").unwrap();
        assert_eq!(
            (flag.slot, flag.offset, flag.number_of_bytes),
            (U256::ZERO, 1, 1)
        );
        // Ecotone L1-info selector setL1BlockValuesEcotone().
        assert!(
            artifacts
                .require("L1Block")
                .unwrap()
                .has_selector([0x44, 0x0a, 0x5e, 0x20])
        );
        assert!(artifacts.require("Nope").is_err());
    }

    #[test]
    fn storage_layout_formats() {
        let list = serde_json::json!([{"label": "a", "slot": "3", "offset": 2, "numberOfBytes": 1, "type": "t_bool"}]);
        let forge = serde_json::json!({
            "storage": [{"label": "a", "slot": "3", "offset": 2, "type": "t_bool"}],
            "types": {"t_bool": {"encoding": "inplace", "label": "bool", "numberOfBytes": "1"}}
        });
        let a = parse_storage_layout(&list).unwrap();
        assert_eq!(a[0].slot, U256::from(3));
        assert_eq!(a[0].offset, 2);
        assert_eq!(parse_storage_layout(&forge).unwrap()[0].number_of_bytes, 1);
        let bad = serde_json::json!([{"label": "a", "slot": 0, "offset": 31, "numberOfBytes": 2}]);
        assert!(parse_storage_layout(&bad).is_err());
    }
}
