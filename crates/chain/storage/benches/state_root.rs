//! State root time for a block touching 1,000 accounts, on 100,000 vs 1,000,000 accounts.
//!
//! `cargo bench -p aegis-storage --bench state_root`

#![allow(missing_docs)] // criterion_group! generates undocumented items

// The allocator the `aegis` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aegis_storage::{AccountDiff, AccountInfo, EMPTY_CODE_HASH, StateDiff, Store};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256, keccak256};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::{collections::BTreeMap, hint::black_box, time::Instant};

fn addr(i: u64) -> Address {
    Address::from_word(keccak256(i.to_be_bytes()))
}

fn funded(count: u64, offset: u64) -> StateDiff {
    let mut diff = StateDiff::default();
    for i in 0..count {
        let mut storage = BTreeMap::new();
        if i % 10 == 0 {
            storage.insert(U256::from(i), U256::from(i + 1));
        }
        diff.accounts.insert(
            addr(i),
            AccountDiff {
                info: Some(AccountInfo {
                    nonce: offset,
                    balance: U256::from(1_000_000 + i + offset),
                    code_hash: EMPTY_CODE_HASH,
                }),
                storage_wiped: false,
                storage,
            },
        );
    }
    diff
}

fn state_root(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_root_1000_touched");
    group.sample_size(20);
    for accounts in [100_000u64, 1_000_000] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("bench.redb")).unwrap();
        let started = Instant::now();
        let alloc = funded(accounts, 0);
        let update = store.prepare_update(&B256::ZERO, &alloc).unwrap();
        let header = Header {
            state_root: update.state_root,
            ..Default::default()
        };
        store
            .commit_block(&header, &[], &[], &[], &update, true)
            .unwrap();
        drop((alloc, update));
        eprintln!(
            "built state of {accounts} accounts in {:?}",
            started.elapsed()
        );
        let genesis = store.head_hash().unwrap().unwrap();
        // 1,000 accounts spread over the whole key space, plus storage writes on 100 of them.
        let step = accounts / 1_000;
        let mut touched = StateDiff::default();
        for k in 0..1_000 {
            let i = k * step;
            let mut storage = BTreeMap::new();
            if k % 10 == 0 {
                storage.insert(U256::from(i), U256::from(7));
            }
            touched.accounts.insert(
                addr(i),
                AccountDiff {
                    info: Some(AccountInfo {
                        nonce: 1,
                        balance: U256::from(k),
                        code_hash: EMPTY_CODE_HASH,
                    }),
                    storage_wiped: false,
                    storage,
                },
            );
        }
        group.bench_with_input(
            BenchmarkId::from_parameter(accounts),
            &touched,
            |b, touched| {
                b.iter(|| black_box(store.prepare_update(&genesis, touched).unwrap().state_root))
            },
        );
    }
    group.finish();
}

criterion_group!(benches, state_root);
criterion_main!(benches);
