//! Synthetic chain stores, built straight into the store without an EVM: many accounts,
//! contracts with code and storage, and blocks that touch a few of them. For snapshot, pruning
//! and sync tests and benches that need a large state quickly.

use aegis_storage::{AccountDiff, AccountInfo, StateDiff, Store};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use std::path::Path;

/// The address of synthetic account `i`.
pub fn address(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

/// Account `i` of the genesis: every 50th a contract with code and `i % 7 + 1` slots.
fn genesis_account(i: u64) -> AccountDiff {
    let contract = i.is_multiple_of(50);
    let code = Bytes::from(vec![0x60, (i % 4) as u8, 0x00]);
    AccountDiff {
        info: Some(AccountInfo {
            nonce: i % 3,
            balance: U256::from(1_000_000_000u64 + i),
            code_hash: if contract {
                keccak256(&code)
            } else {
                aegis_storage::EMPTY_CODE_HASH
            },
        }),
        storage_wiped: false,
        storage: if contract {
            (0..i % 7 + 1)
                .map(|s| (U256::from(s), U256::from(i * 100 + s + 1)))
                .collect()
        } else {
            Default::default()
        },
    }
}

/// A store at `path` with `accounts` genesis accounts and `blocks` blocks on top, each touching
/// a few accounts and slots. Returns the store and the canonical hashes from genesis.
pub fn synthetic_chain(path: &Path, accounts: u64, blocks: u64) -> (Store, Vec<B256>) {
    let store = Store::open(path).unwrap();
    let mut alloc = StateDiff::default();
    for i in 0..accounts {
        let diff = genesis_account(i);
        if i.is_multiple_of(50) {
            let code = Bytes::from(vec![0x60, (i % 4) as u8, 0x00]);
            alloc.codes.insert(keccak256(&code), code);
        }
        alloc.accounts.insert(address(i), diff);
    }
    let root = store
        .prepare_update(&B256::ZERO, &alloc)
        .unwrap()
        .state_root;
    let genesis = Header {
        number: 0,
        state_root: root,
        gas_limit: 30_000_000,
        ..Default::default()
    };
    let mut hashes = vec![store.init_genesis(&genesis, &alloc).unwrap()];
    let mut parent = genesis;
    for n in 1..=blocks {
        let mut diff = StateDiff::default();
        for k in 0..5u64 {
            let i = (n * 7919 + k * 104_729) % accounts.max(1);
            let mut account = genesis_account(i);
            if let Some(info) = account.info.as_mut() {
                info.balance += U256::from(n);
                info.nonce += n;
            }
            account.storage = account
                .storage
                .keys()
                .map(|slot| (*slot, U256::from(n * 1000 + k)))
                .collect();
            diff.accounts.insert(address(i), account);
        }
        let parent_hash = *hashes.last().unwrap();
        let update = store.prepare_update(&parent_hash, &diff).unwrap();
        let header = Header {
            parent_hash,
            number: n,
            state_root: update.state_root,
            gas_limit: 30_000_000,
            timestamp: parent.timestamp + 2,
            ..Default::default()
        };
        let body = format!("body {n}").into_bytes();
        let receipts = format!("receipts {n}").into_bytes();
        let hash = store
            .commit_block(&header, &body, &receipts, &[], &update, true)
            .unwrap();
        hashes.push(hash);
        parent = header;
    }
    (store, hashes)
}
