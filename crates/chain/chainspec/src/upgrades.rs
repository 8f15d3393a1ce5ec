//! Network-upgrade deposit transactions: what a rollup node puts in the first block of a
//! hardfork, after the L1-attributes deposit, to deploy that fork's predeploy implementations,
//! point the proxies at them and switch the `GasPriceOracle` over (OP Stack specs,
//! `protocol/<fork>/derivation.md`, "Network Upgrade Transactions").
//!
//! A sequencer that builds its own attributes (`aegis node --dev`) needs them, or the
//! L1-attributes deposit of the next block calls a function the old `L1Block` does not have and
//! reverts on every block from then on.
//!
//! A fork gets its deposits in its activation block only: the block whose timestamp activates it
//! while its parent's did not, so a fork active at genesis gets none. The deployment bytecode is
//! the spec's, byte for byte (`upgrades/*.hex`, see its README); every transaction is checked
//! against the hash the reference rollup nodes produce.

use crate::{
    ChainSpec, OpFork,
    l1_info::L1_INFO_DEPOSITOR,
    predeploys::{
        BEACON_ROOTS_SENDER, GAS_PRICE_ORACLE, HISTORY_STORAGE_SENDER, L1_BLOCK, OPERATOR_FEE_VAULT,
    },
};
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use op_alloy_consensus::{DepositSourceDomain, TxDeposit, UpgradeDepositSource};

/// What one upgrade deposit does.
#[derive(Clone, Copy, Debug)]
enum Action {
    /// Deploys the given init code (hex) from the sender's first nonce.
    Deploy(&'static str),
    /// `upgradeTo(address)` on a proxy, to what the given deployer's first nonce created.
    UpgradeTo(Address),
    /// A call without arguments, by selector.
    Call([u8; 4]),
}

/// One upgrade deposit as the spec lists it.
#[derive(Clone, Copy, Debug)]
struct Upgrade {
    /// The source-hash intent.
    intent: &'static str,
    from: Address,
    /// The proxy or contract called; `None` for a deployment.
    to: Option<Address>,
    gas_limit: u64,
    action: Action,
}

/// The zero address: the sender of proxy upgrades (the proxies let it act as their admin).
const PROXY_UPGRADER: Address = Address::ZERO;

/// `upgradeTo(address)`.
const UPGRADE_TO: [u8; 4] = [0x36, 0x59, 0xcf, 0xe6];

const fn deployer(index: u8) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0x42;
    bytes[1] = 0x10;
    bytes[19] = index;
    Address::new(bytes)
}

const fn deploy(
    intent: &'static str,
    from: Address,
    gas_limit: u64,
    code: &'static str,
) -> Upgrade {
    Upgrade {
        intent,
        from,
        to: None,
        gas_limit,
        action: Action::Deploy(code),
    }
}

const fn upgrade(
    intent: &'static str,
    proxy: Address,
    implementation_deployer: Address,
) -> Upgrade {
    Upgrade {
        intent,
        from: PROXY_UPGRADER,
        to: Some(proxy),
        gas_limit: 50_000,
        action: Action::UpgradeTo(implementation_deployer),
    }
}

const fn enable(intent: &'static str, gas_limit: u64, selector: [u8; 4]) -> Upgrade {
    Upgrade {
        intent,
        from: L1_INFO_DEPOSITOR,
        to: Some(GAS_PRICE_ORACLE),
        gas_limit,
        action: Action::Call(selector),
    }
}

const ECOTONE: [Upgrade; 6] = [
    deploy(
        "Ecotone: L1 Block Deployment",
        deployer(0),
        375_000,
        include_str!("../upgrades/ecotone_l1_block.hex"),
    ),
    deploy(
        "Ecotone: Gas Price Oracle Deployment",
        deployer(1),
        1_000_000,
        include_str!("../upgrades/ecotone_gas_price_oracle.hex"),
    ),
    upgrade("Ecotone: L1 Block Proxy Update", L1_BLOCK, deployer(0)),
    upgrade(
        "Ecotone: Gas Price Oracle Proxy Update",
        GAS_PRICE_ORACLE,
        deployer(1),
    ),
    // setEcotone()
    enable(
        "Ecotone: Gas Price Oracle Set Ecotone",
        80_000,
        [0x22, 0xb9, 0x0a, 0xb3],
    ),
    deploy(
        "Ecotone: beacon block roots contract deployment",
        BEACON_ROOTS_SENDER,
        250_000,
        include_str!("../upgrades/ecotone_eip4788.hex"),
    ),
];

const FJORD: [Upgrade; 3] = [
    deploy(
        "Fjord: Gas Price Oracle Deployment",
        deployer(2),
        1_450_000,
        include_str!("../upgrades/fjord_gas_price_oracle.hex"),
    ),
    upgrade(
        "Fjord: Gas Price Oracle Proxy Update",
        GAS_PRICE_ORACLE,
        deployer(2),
    ),
    // setFjord()
    enable(
        "Fjord: Gas Price Oracle Set Fjord",
        90_000,
        [0x8e, 0x98, 0xb1, 0x06],
    ),
];

const ISTHMUS: [Upgrade; 8] = [
    deploy(
        "Isthmus: L1 Block Deployment",
        deployer(3),
        425_000,
        include_str!("../upgrades/isthmus_l1_block.hex"),
    ),
    deploy(
        "Isthmus: Gas Price Oracle Deployment",
        deployer(4),
        1_625_000,
        include_str!("../upgrades/isthmus_gas_price_oracle.hex"),
    ),
    deploy(
        "Isthmus: Operator Fee Vault Deployment",
        deployer(5),
        500_000,
        include_str!("../upgrades/isthmus_operator_fee_vault.hex"),
    ),
    upgrade("Isthmus: L1 Block Proxy Update", L1_BLOCK, deployer(3)),
    upgrade(
        "Isthmus: Gas Price Oracle Proxy Update",
        GAS_PRICE_ORACLE,
        deployer(4),
    ),
    upgrade(
        "Isthmus: Operator Fee Vault Proxy Update",
        OPERATOR_FEE_VAULT,
        deployer(5),
    ),
    // setIsthmus()
    enable(
        "Isthmus: Gas Price Oracle Set Isthmus",
        90_000,
        [0x29, 0x1b, 0x03, 0x83],
    ),
    deploy(
        "Isthmus: EIP-2935 Contract Deployment",
        HISTORY_STORAGE_SENDER,
        250_000,
        include_str!("../upgrades/isthmus_eip2935.hex"),
    ),
];

/// The intents are the reference rollup nodes' (op-node, kona), which derive the live chains;
/// the spec's text spells four of them differently ("L1Block", "GasPriceOracle").
const JOVIAN: [Upgrade; 5] = [
    deploy(
        "Jovian: L1 Block Deployment",
        deployer(6),
        447_315,
        include_str!("../upgrades/jovian_l1_block.hex"),
    ),
    upgrade("Jovian: L1 Block Proxy Update", L1_BLOCK, deployer(6)),
    deploy(
        "Jovian: Gas Price Oracle Deployment",
        deployer(7),
        1_750_714,
        include_str!("../upgrades/jovian_gas_price_oracle.hex"),
    ),
    upgrade(
        "Jovian: Gas Price Oracle Proxy Update",
        GAS_PRICE_ORACLE,
        deployer(7),
    ),
    // setJovian()
    enable(
        "Jovian: Gas Price Oracle Set Jovian",
        90_000,
        [0xb3, 0xd7, 0x20, 0x79],
    ),
];

/// The forks with upgrade deposits, in the order their deposits go into a block.
const FORKS: [(OpFork, &[Upgrade]); 4] = [
    (OpFork::Ecotone, &ECOTONE),
    (OpFork::Fjord, &FJORD),
    (OpFork::Isthmus, &ISTHMUS),
    (OpFork::Jovian, &JOVIAN),
];

impl Upgrade {
    fn deposit(&self) -> TxDeposit {
        let input: Bytes = match self.action {
            Action::Deploy(code) => hex::decode(code.trim())
                .expect("bundled upgrade bytecode is hex")
                .into(),
            Action::UpgradeTo(implementation_deployer) => {
                let mut input = Vec::with_capacity(36);
                input.extend_from_slice(&UPGRADE_TO);
                input.extend_from_slice(implementation_deployer.create(0).into_word().as_slice());
                input.into()
            }
            Action::Call(selector) => Bytes::copy_from_slice(&selector),
        };
        let source = UpgradeDepositSource::new(self.intent.to_owned());
        TxDeposit {
            source_hash: DepositSourceDomain::Upgrade(source).source_hash(),
            from: self.from,
            to: self.to.map_or(TxKind::Create, TxKind::Call),
            mint: 0,
            value: U256::ZERO,
            gas_limit: self.gas_limit,
            is_system_transaction: false,
            input,
        }
    }
}

/// The forks a block with `timestamp` activates (active for it, not for its parent), oldest
/// first.
pub fn activated_forks(spec: &ChainSpec, parent_timestamp: u64, timestamp: u64) -> Vec<OpFork> {
    FORKS
        .iter()
        .map(|(fork, _)| *fork)
        .filter(|fork| {
            spec.forks
                .is_activation_block(*fork, parent_timestamp, timestamp)
        })
        .collect()
}

/// The network-upgrade deposits of a block with `timestamp` on a parent with
/// `parent_timestamp`, in block order (they follow the L1-attributes deposit and the L1 user
/// deposits); empty for a block that activates no fork.
pub fn upgrade_deposits(spec: &ChainSpec, parent_timestamp: u64, timestamp: u64) -> Vec<TxDeposit> {
    FORKS
        .iter()
        .filter(|(fork, _)| {
            spec.forks
                .is_activation_block(*fork, parent_timestamp, timestamp)
        })
        .flat_map(|(_, upgrades)| upgrades.iter().map(Upgrade::deposit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_eips::Encodable2718;
    use alloy_primitives::{B256, b256, keccak256};

    /// The hashes of the upgrade deposits, as the reference rollup nodes derive them (op-node's
    /// and kona's test vectors; Jovian recomputed from op-node's fields).
    const EXPECTED: [(OpFork, &[B256]); 4] = [
        (
            OpFork::Ecotone,
            &[
                b256!("0x50549bed9a83ba7238893970780b458ed3d543f299d6f69f7a5d0b32d7cd71a7"),
                b256!("0xf8e8dd83c100c9eb137fa372cdda2cf854f79b6e8cfc604c5e54d970c05cb6dc"),
                b256!("0x9f2b2d34dfa2cb55cceb9860cade0cb03cfbd7ff1dd07d48b4708b29a46b4a24"),
                b256!("0xedbfdad1f44ea830b863eac45eca4408398351b30511826012882059625963d2"),
                b256!("0x91f762393442ac507c6852211b62445d82c9b58bae34726ecef2f10b4156f027"),
                b256!("0x5b7915f2a55ce67519e6d8f65248918f4e62f545706af2bf02549bb9782c03f3"),
            ],
        ),
        (
            OpFork::Fjord,
            &[
                b256!("0xaafd55b14e021a2c04628606e42dbe58cc9c86b6ed695a8b9ccf258e28963e5e"),
                b256!("0x2f63bbe08a66796dde569281a58a53e0b0f64b7aa067297e9c70455fb8e375bc"),
                b256!("0x7cedc4f1c428928cdfb9b340bda3060102c71ad23f982678471b222ba8a756e1"),
            ],
        ),
        (
            OpFork::Isthmus,
            &[
                b256!("0x4557f1142fedd52d571b070a290aa8683a03f7aac7929967858af7aab48cd4cc"),
                b256!("0x9412bd3fa72eb1dbec94fd2297d44a8b86cb1f55966324e6cc7d57decc92c1f6"),
                b256!("0xa9e6286eadd53ecf7bb2bff668c4fcb62305a8b3e4b584c30f7d4f90046ee75e"),
                b256!("0xe992e00998b34075506d2726a274db07a62af6cdd9d527bfda9128114603cfbd"),
                b256!("0xb6560306ccb0e772b132a8a6dd78244c0d7ac270c80baba40f95006184926c30"),
                b256!("0xf162acc8ebbaf9237755736b62331a4817fe27bbbe3712f473ecfa8fee499f7c"),
                b256!("0xbf2fef09f73279373fce8acd2968ca4fd1d10ba88bf10993b6a69c33d913f01b"),
                b256!("0xf3ddde30514a8d00b0b92f14b9ce6b3170ea30f5f45b1afdc0905801134ffefe"),
            ],
        ),
        (
            OpFork::Jovian,
            &[
                b256!("0x0bad46dcef609affe3d306a9ce6239a1f3ec59673943a4c533eb20459950f542"),
                b256!("0xcd60191626fa3124e7031235c52f0adf6be545ebbd7cf55641bd9dabcbedaf6a"),
                b256!("0x675febfc848d9b30f27dce1aabb6572d1de80c9eaa75773ac2106eeea7ff3aff"),
                b256!("0xc7c01d75d0b6950fcd30b448cba848e9841ab9ebb6b46eed9ecde4ba05ad0fd9"),
                b256!("0x159d785e90a42f3b9a4d3b9fd4ab69e7c0edec3122cb2e767f3a66aba8f3e664"),
            ],
        ),
    ];

    #[test]
    fn every_upgrade_deposit_is_the_one_rollup_nodes_derive() {
        for ((fork, upgrades), (expected_fork, hashes)) in FORKS.iter().zip(EXPECTED) {
            assert_eq!(*fork, expected_fork);
            assert_eq!(upgrades.len(), hashes.len(), "{fork:?}");
            for (i, (upgrade, hash)) in upgrades.iter().zip(hashes).enumerate() {
                let encoded = upgrade.deposit().encoded_2718();
                assert_eq!(
                    keccak256(&encoded),
                    *hash,
                    "{fork:?} deposit {i}: {}",
                    upgrade.intent
                );
            }
        }
    }

    /// Where the spec says the Isthmus `L1Block` implementation is deployed.
    const ISTHMUS_L1_BLOCK_IMPLEMENTATION: Address =
        alloy_primitives::address!("0xFf256497D61dcd71a9e9Ff43967C13fdE1F72D12");

    #[test]
    fn the_isthmus_l1_block_proxy_points_at_its_deployment() {
        let deposit = ISTHMUS[3].deposit();
        assert_eq!(deposit.to, TxKind::Call(L1_BLOCK));
        assert_eq!(
            &deposit.input[16..],
            ISTHMUS_L1_BLOCK_IMPLEMENTATION.as_slice()
        );
    }

    #[test]
    fn deposits_come_in_the_activation_block_only() {
        let genesis = 1_000;
        let mut spec = ChainSpec::from_genesis(
            crate::devnet_genesis(&crate::DevnetGenesisOptions {
                timestamp: genesis,
                isthmus_offset: Some(4),
                jovian_offset: Some(8),
                ..Default::default()
            })
            .unwrap(),
        )
        .unwrap();
        // Nothing for the forks active at genesis, nor before or after an activation.
        assert!(upgrade_deposits(&spec, genesis, genesis + 2).is_empty());
        assert_eq!(
            activated_forks(&spec, genesis + 2, genesis + 4),
            [OpFork::Isthmus]
        );
        assert_eq!(upgrade_deposits(&spec, genesis + 2, genesis + 4).len(), 8);
        assert!(upgrade_deposits(&spec, genesis + 4, genesis + 6).is_empty());
        assert_eq!(upgrade_deposits(&spec, genesis + 6, genesis + 8).len(), 5);
        // A block that skips past two activations carries both, in fork order.
        let both = upgrade_deposits(&spec, genesis + 2, genesis + 10);
        assert_eq!(both.len(), 13);
        assert_eq!(both[0].source_hash, ISTHMUS[0].deposit().source_hash);
        assert_eq!(both[8].source_hash, JOVIAN[0].deposit().source_hash);
        // Forks scheduled after genesis get theirs too (a chain config can schedule any).
        spec.forks = crate::OpForkSchedule {
            regolith: Some(0),
            canyon: Some(0),
            ecotone: Some(genesis + 20),
            fjord: Some(genesis + 20),
            granite: None,
            holocene: None,
            isthmus: None,
            jovian: None,
        };
        assert_eq!(
            activated_forks(&spec, genesis + 18, genesis + 20),
            [OpFork::Ecotone, OpFork::Fjord]
        );
        assert_eq!(upgrade_deposits(&spec, genesis + 18, genesis + 20).len(), 9);
    }
}
