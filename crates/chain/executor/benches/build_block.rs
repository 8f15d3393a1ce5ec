//! Build a block of 1,000 ERC-20 (WETH9) transfers on a state of 100,000 funded accounts.
//!
//! `cargo bench -p aegis-executor --bench build_block` — prints Mgas/s besides criterion's time.

#![allow(missing_docs)] // criterion_group! generates undocumented items

// The allocator the `aegis` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aegis_chainspec::ChainSpec;
use aegis_executor::{FeeOrderedTxs, PoolTx};
use aegis_testing::{
    IWeth, TestNode, TxType, attributes, deploy_code, head_hash, signer, spec, user_tx,
    weth_runtime,
};
use alloy_genesis::GenesisAccount;
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use criterion::{Criterion, criterion_group, criterion_main};
use std::{sync::Arc, time::Instant};

const ACCOUNTS: u64 = 100_000;
const TRANSFERS: usize = 1_000;

fn build_block(c: &mut Criterion) {
    let base = spec(Some(2), None);
    let mut genesis = base.genesis.clone();
    let senders: Vec<PrivateKeySigner> = (0..TRANSFERS as u64)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).unwrap())
        .collect();
    let funded = GenesisAccount::default().with_balance(U256::from(10u128.pow(21)));
    for i in 0..ACCOUNTS {
        genesis.alloc.insert(
            Address::from_word(keccak256((i + 1_000_000).to_be_bytes())),
            funded.clone(),
        );
    }
    for s in &senders {
        genesis.alloc.insert(s.address(), funded.clone());
    }
    let spec = Arc::new(ChainSpec::from_genesis(genesis).unwrap());
    let node = TestNode::new(spec.clone());
    let chain = spec.chain_id;

    // Block 1: deploy the token; block 2: every sender wraps ETH into it.
    let deployer = signer(0);
    let deploy = user_tx(
        TxType::Eip1559,
        &deployer,
        chain,
        0,
        TxKind::Create,
        U256::ZERO,
        deploy_code(&weth_runtime(&spec)),
        3_000_000,
    );
    let token = deployer.address().create(0);
    node.build(vec![], &[deploy]);
    let wrap: Bytes = IWeth::depositCall {}.abi_encode().into();
    let deposits: Vec<Bytes> = senders
        .iter()
        .map(|s| {
            user_tx(
                TxType::Eip1559,
                s,
                chain,
                0,
                TxKind::Call(token),
                U256::from(10u128.pow(18)),
                wrap.clone(),
                100_000,
            )
        })
        .collect();
    let block = node.build(vec![], &deposits);
    assert_eq!(
        block.block.body.transactions.len(),
        TRANSFERS + 1,
        "every sender wrapped"
    );

    let transfers: Vec<PoolTx> = senders
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let to = senders[(i + 1) % TRANSFERS].address();
            let data = IWeth::transferCall {
                to,
                value: U256::from(1_000 + i),
            }
            .abi_encode();
            PoolTx::decode(user_tx(
                TxType::Eip1559,
                s,
                chain,
                1,
                TxKind::Call(token),
                U256::ZERO,
                data.into(),
                100_000,
            ))
            .unwrap()
        })
        .collect();
    let parent = node.head();
    let parent_hash = head_hash(&node);
    let attrs = attributes(&spec, &parent, vec![], false);
    let run = || {
        let mut pool = FeeOrderedTxs::new(transfers.iter().cloned(), 1);
        node.executor
            .build(parent_hash, &attrs, Some(&mut pool))
            .unwrap()
    };
    let started = Instant::now();
    let block = run();
    let elapsed = started.elapsed();
    assert_eq!(block.block.body.transactions.len(), TRANSFERS + 1);
    let gas = block.block.header.gas_used;
    eprintln!(
        "1,000 ERC-20 transfers on {ACCOUNTS} accounts: {gas} gas in {elapsed:?} = {:.1} Mgas/s (incl. state root)",
        gas as f64 / elapsed.as_secs_f64() / 1e6
    );
    let mut group = c.benchmark_group("build_block");
    group.sample_size(10);
    group.bench_function("1000_erc20_transfers_100k_accounts", |b| b.iter(run));
    group.finish();
}

criterion_group!(benches, build_block);
criterion_main!(benches);
