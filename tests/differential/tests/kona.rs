//! Blocks built by aegis, re-executed by kona-executor from aegis' stored trie preimages.

use aegis_chainspec::ChainSpec;
use aegis_executor::ExecutedBlock;
use aegis_testing::{
    ETH, IWeth, TestNode, TxType, WETH, deploy_code, erc20_block, rich_block, signer, spec,
    transfer, user_deposit, user_tx, weth_runtime,
};
use alloy_consensus::{Header, Sealable};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B64, B256, Bytes, TxKind, U256};
use alloy_rlp::Decodable;
use alloy_sol_types::SolCall;
use kona_executor::{StatelessL2Builder, TrieDBProvider};
use kona_genesis::{BaseFeeConfig, HardForkConfig, RollupConfig};
use kona_mpt::{NoopTrieHinter, TrieNode, TrieProvider};
use op_alloy_rpc_types_engine_018::OpPayloadAttributes;
use proptest::prelude::*;
use std::collections::HashMap;

/// Every preimage aegis stored: trie nodes, code and headers by keccak.
#[derive(Clone, Debug)]
struct Preimages(HashMap<B256, Bytes>);

impl Preimages {
    fn of(node: &TestNode) -> Self {
        let mut map = HashMap::new();
        node.store
            .for_each_preimage(&mut |hash, bytes| {
                map.insert(hash, Bytes::copy_from_slice(bytes));
            })
            .unwrap();
        Self(map)
    }

    fn get(&self, hash: B256) -> Result<&Bytes, String> {
        self.0
            .get(&hash)
            .ok_or_else(|| format!("missing preimage {hash}"))
    }
}

impl TrieProvider for Preimages {
    type Error = String;
    fn trie_node_by_hash(&self, hash: B256) -> Result<TrieNode, String> {
        TrieNode::decode(&mut self.get(hash)?.as_ref()).map_err(|e| e.to_string())
    }
}

impl TrieDBProvider for Preimages {
    fn bytecode_by_hash(&self, hash: B256) -> Result<Bytes, String> {
        self.get(hash).cloned()
    }
    fn header_by_hash(&self, hash: B256) -> Result<Header, String> {
        Header::decode(&mut self.get(hash)?.as_ref()).map_err(|e| e.to_string())
    }
}

fn rollup_config(spec: &ChainSpec) -> RollupConfig {
    let f = &spec.forks;
    RollupConfig {
        l2_chain_id: spec.chain_id.into(),
        block_time: 2,
        hardforks: HardForkConfig {
            regolith_time: f.regolith,
            canyon_time: f.canyon,
            delta_time: f.canyon,
            ecotone_time: f.ecotone,
            fjord_time: f.fjord,
            granite_time: f.granite,
            holocene_time: f.holocene,
            isthmus_time: f.isthmus,
            ..Default::default()
        },
        chain_op_config: BaseFeeConfig {
            eip1559_elasticity: spec.eip1559.elasticity,
            eip1559_denominator: spec.eip1559.denominator,
            eip1559_denominator_canyon: spec.eip1559.denominator_canyon,
        },
        ..Default::default()
    }
}

/// Re-executes `block` with kona and asserts the same header.
fn kona_reexecutes(spec: &ChainSpec, node: &TestNode, block: &ExecutedBlock) {
    let header = &block.block.header;
    let parent = node.store.header(&header.parent_hash).unwrap().unwrap();
    let config = rollup_config(spec);
    let attrs = OpPayloadAttributes {
        payload_attributes: alloy_rpc_types_engine::PayloadAttributes {
            timestamp: header.timestamp,
            prev_randao: header.mix_hash,
            suggested_fee_recipient: header.beneficiary,
            withdrawals: Some(vec![]),
            parent_beacon_block_root: header.parent_beacon_block_root,
        },
        transactions: Some(
            block
                .block
                .body
                .transactions
                .iter()
                .map(|tx| tx.encoded_2718().into())
                .collect(),
        ),
        no_tx_pool: Some(true),
        gas_limit: Some(header.gas_limit),
        eip_1559_params: (header.extra_data.len() == 9)
            .then(|| B64::from_slice(&header.extra_data[1..9])),
    };
    let mut builder = StatelessL2Builder::new(
        &config,
        alloy_op_evm_014::OpEvmFactory::default(),
        Preimages::of(node),
        NoopTrieHinter,
        parent.seal_slow(),
    );
    let outcome = builder.build_block(attrs).expect("kona executes the block");
    let kona = outcome.header.inner();
    assert_eq!(kona.state_root, header.state_root, "state root");
    assert_eq!(kona.receipts_root, header.receipts_root, "receipts root");
    assert_eq!(kona.gas_used, header.gas_used, "gas used");
    assert_eq!(
        kona.withdrawals_root, header.withdrawals_root,
        "withdrawals root"
    );
    assert_eq!(outcome.header.hash(), block.hash, "block hash");
}

fn build(node: &TestNode, forced: Vec<Bytes>, txs: &[Bytes]) -> ExecutedBlock {
    node.build(forced, txs)
}

fn scenario(isthmus: Option<u64>) {
    let spec = spec(isthmus, None);
    let node = TestNode::new(spec.clone());
    let (forced, txs) = rich_block(&spec);
    let block = build(&node, forced, &txs);
    kona_reexecutes(&spec, &node, &block);
    let block = build(&node, vec![], &erc20_block(&spec));
    kona_reexecutes(&spec, &node, &block);
}

#[test]
fn holocene_blocks_match_kona() {
    scenario(None);
}

#[test]
fn isthmus_blocks_match_kona() {
    scenario(Some(2));
}

#[derive(Clone, Debug)]
enum Op {
    Transfer {
        from: u32,
        to: u8,
        value: u64,
        kind: u8,
    },
    Deploy {
        from: u32,
    },
    Deposit {
        to: u8,
        mint: u64,
        revert: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..4, any::<u8>(), 0u64..1_000_000, 0u8..3).prop_map(|(from, to, value, kind)| Op::Transfer { from, to, value, kind }),
        1 => (0u32..4).prop_map(|from| Op::Deploy { from }),
        2 => (any::<u8>(), 0u64..1_000_000_000, any::<bool>()).prop_map(|(to, mint, revert)| Op::Deposit { to, mint, revert }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random blocks of transfers, deployments and deposits: kona reproduces each one, and a
    /// fresh aegis node importing them ends at the same head.
    #[test]
    fn random_blocks_match_kona_and_import(blocks in prop::collection::vec(prop::collection::vec(op(), 0..12), 1..4)) {
        let spec = spec(Some(2), None);
        let node = TestNode::new(spec.clone());
        let replica = TestNode::new(spec.clone());
        let mut nonces = [0u64; 4];
        let mut seed = 100;
        for ops in blocks {
            let mut forced = Vec::new();
            let mut txs = Vec::new();
            for op in ops {
                match op {
                    Op::Transfer { from, to, value, kind } => {
                        let kind = [TxType::Legacy, TxType::Eip2930, TxType::Eip1559][kind as usize];
                        txs.push(transfer(kind, &signer(from), spec.chain_id, nonces[from as usize], Address::repeat_byte(to), value));
                        nonces[from as usize] += 1;
                    }
                    Op::Deploy { from } => {
                        txs.push(user_tx(TxType::Eip1559, &signer(from), spec.chain_id, nonces[from as usize], TxKind::Create, U256::ZERO, deploy_code(&weth_runtime(&spec)), 3_000_000));
                        nonces[from as usize] += 1;
                    }
                    Op::Deposit { to, mint, revert } => {
                        seed += 1;
                        let (target, data) = if revert {
                            (WETH, IWeth::withdrawCall { wad: U256::from(ETH) }.abi_encode().into())
                        } else {
                            (Address::repeat_byte(to), Bytes::new())
                        };
                        forced.push(user_deposit(Address::repeat_byte(to ^ 0x55), TxKind::Call(target), mint as u128, U256::ZERO, 200_000, data, seed));
                    }
                }
            }
            let block = build(&node, forced, &txs);
            kona_reexecutes(&spec, &node, &block);
            prop_assert_eq!(replica.executor.import(&block.block).unwrap(), aegis_executor::ImportOutcome::Valid(block.hash));
            replica.store.set_head(block.hash).unwrap();
        }
        prop_assert_eq!(replica.head().hash_slow(), node.head().hash_slow());
    }
}
