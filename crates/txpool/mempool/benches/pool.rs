//! Pool insert rate and the time to produce the ordered best-transaction list from a full
//! 10,000-transaction pool (500 senders × 20 nonces, random fees).
//!
//! `cargo bench -p aegis-mempool --bench pool` — prints inserts/s besides criterion's times.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use aegis_executor::{PoolTx, PoolTxSource};
use aegis_mempool::{ChainState, Pool, PoolConfig};
use aegis_testing::{Fees, TxType, user_tx_with_fees};
use alloy_primitives::{Address, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::time::Instant;

const SENDERS: u64 = 500;
const PER_SENDER: u64 = 20;
const GWEI: u128 = 1_000_000_000;

struct Funded;

impl ChainState for Funded {
    fn account(&self, _: &Address) -> (u64, U256) {
        (0, U256::from(10u128.pow(21)))
    }
    fn chain_id(&self) -> u64 {
        901
    }
    fn block_gas_limit(&self) -> u64 {
        60_000_000
    }
    fn l1_fee(&self, encoded: &[u8]) -> U256 {
        U256::from(encoded.len() * 1_000)
    }
}

fn transactions() -> Vec<PoolTx> {
    let mut txs = Vec::new();
    for s in 0..SENDERS {
        let signer = PrivateKeySigner::from_bytes(&keccak256(s.to_be_bytes())).unwrap();
        for nonce in 0..PER_SENDER {
            // Fees vary per sender so the ordering has work to do.
            let tip =
                GWEI + (keccak256((s * PER_SENDER + nonce).to_be_bytes())[0] as u128) * 10_000_000;
            let raw = user_tx_with_fees(
                TxType::Eip1559,
                &signer,
                Some(901),
                nonce,
                TxKind::Call(Address::repeat_byte(1)),
                U256::from(1),
                Default::default(),
                21_000,
                Fees {
                    max_fee: 10 * GWEI,
                    tip,
                },
            );
            txs.push(PoolTx::decode(raw).unwrap());
        }
    }
    txs
}

fn full_pool(txs: &[PoolTx]) -> Pool {
    let pool = Pool::new(PoolConfig::default());
    for tx in txs {
        pool.add(tx.clone(), &Funded).unwrap();
    }
    pool
}

fn bench(c: &mut Criterion) {
    let txs = transactions();
    assert_eq!(txs.len(), 10_000);

    let started = Instant::now();
    let pool = full_pool(&txs);
    let elapsed = started.elapsed();
    println!(
        "insert: {} transactions in {:.1} ms = {:.0} inserts/s",
        txs.len(),
        elapsed.as_secs_f64() * 1e3,
        txs.len() as f64 / elapsed.as_secs_f64()
    );

    c.bench_function("insert 10,000 into an empty pool", |b| {
        b.iter_batched(
            || (Pool::new(PoolConfig::default()), txs.clone()),
            |(pool, txs)| {
                for tx in txs {
                    pool.add(tx, &Funded).unwrap();
                }
                pool
            },
            BatchSize::LargeInput,
        )
    });
    c.bench_function("best list from a full 10,000-tx pool (drained)", |b| {
        b.iter(|| {
            let mut best = pool.best(GWEI as u64);
            let mut n = 0;
            while best.next_tx().is_some() {
                n += 1;
            }
            assert_eq!(n, 10_000);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
