//! Bounded history: `Store::prune_history` deletes bodies, receipts, changesets, transaction
//! index entries and the trie nodes only pruned states used, and canonical headers further down;
//! keeps the `BLOCKHASH` window of headers, the genesis header and every kept state whole;
//! answers reads of pruned blocks as pruned; refuses head moves that need pruned history without
//! touching the state; and stops the file from growing.

use aegis_storage::trie;
use aegis_storage::{
    AccountDiff, AccountInfo, BlockLabel, EMPTY_CODE_HASH, HEADERS_BELOW_FLOOR, MIN_HISTORY_BLOCKS,
    PruneReport, StateDiff, StorageError, Store, StoredBlock,
};
use alloy_consensus::Header;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::TrieAccount;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

fn addr(i: u64) -> Address {
    Address::from_word(keccak256(i.to_be_bytes()))
}

/// A small deterministic diff over 16 accounts, with storage writes and deletes.
fn diff(seed: u64) -> StateDiff {
    let mut diff = StateDiff::default();
    for k in 0..3 {
        let n = seed.wrapping_mul(3).wrapping_add(k);
        let mut storage = BTreeMap::new();
        storage.insert(U256::from(n % 4), U256::from(n % 5)); // zero deletes the slot
        storage.insert(U256::from(4 + n % 3), U256::from(n + 1));
        diff.accounts.insert(
            addr(n % 16),
            AccountDiff {
                info: Some(AccountInfo {
                    nonce: n,
                    balance: U256::from(n) * U256::from(1_000_000_007u64),
                    code_hash: EMPTY_CODE_HASH,
                }),
                storage_wiped: false,
                storage,
            },
        );
    }
    diff
}

/// The transaction hashes of a block.
fn txs(salt: u64, count: u64) -> Vec<B256> {
    (0..count)
        .map(|i| keccak256([salt.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

fn genesis(store: &Store) -> B256 {
    let alloc = diff(1 << 40);
    let update = store.prepare_update(&B256::ZERO, &alloc).unwrap();
    let header = Header {
        state_root: update.state_root,
        gas_limit: 30_000_000,
        ..Default::default()
    };
    store.init_genesis(&header, &alloc).unwrap()
}

/// Commits a child of `parent` (state diff and transactions from `salt`, body of `body_len`
/// bytes); returns its hash, or the commit's error.
fn try_child(
    store: &Store,
    parent: B256,
    salt: u64,
    body_len: usize,
    head: bool,
) -> Result<B256, StorageError> {
    let parent_header = store.header(&parent)?.expect("parent header");
    let update = store.prepare_update(&parent, &diff(salt))?;
    let header = Header {
        parent_hash: parent,
        number: parent_header.number + 1,
        timestamp: parent_header.timestamp + 2,
        state_root: update.state_root,
        nonce: salt.into(),
        ..Default::default()
    };
    let body: Vec<u8> = salt
        .to_be_bytes()
        .iter()
        .copied()
        .cycle()
        .take(body_len)
        .collect();
    store.commit_block(
        &header,
        &body,
        &salt.to_be_bytes(),
        &txs(salt, 3),
        &update,
        head,
    )
}

fn child(store: &Store, parent: B256, salt: u64, head: bool) -> B256 {
    try_child(store, parent, salt, 100, head).unwrap()
}

/// A canonical chain: genesis and `len` blocks (salts 1..=len); returns hashes by number.
fn chain(store: &Store, len: u64) -> Vec<B256> {
    let mut hashes = vec![genesis(store)];
    for salt in 1..=len {
        hashes.push(child(store, *hashes.last().unwrap(), salt, true));
    }
    hashes
}

fn blocks_below(report: PruneReport) -> (u64, u64) {
    (report.blocks, report.below)
}

/// The trie nodes under the states of `blocks` (state trie and storage tries), read through the
/// head's view so that a block below the floor is walked too. Fails on a missing node.
fn reachable_nodes(
    store: &Store,
    blocks: impl IntoIterator<Item = B256>,
) -> Result<HashSet<B256>, StorageError> {
    let view = store.state_at(&store.head_hash()?.expect("head"))?;
    let mut nodes = HashSet::new();
    let mut on_node = |h: &B256, _: &[u8]| {
        nodes.insert(*h);
        Ok(())
    };
    for hash in blocks {
        let root = store.header(&hash)?.expect("header").state_root;
        let mut storage_roots = Vec::new();
        trie::walk_nodes(&view, root, &mut on_node, &mut |leaf| {
            let account = TrieAccount::decode(&mut &leaf[..]).expect("account leaf");
            storage_roots.push(account.storage_root);
            Ok(())
        })?;
        for root in storage_roots {
            trie::walk_nodes(&view, root, &mut on_node, &mut |_| Ok(()))?;
        }
    }
    Ok(nodes)
}

/// Trie nodes in the store: every preimage that is neither a header nor code (these tests
/// deploy no code).
fn stored_nodes(store: &Store, headers: &HashSet<B256>) -> HashSet<B256> {
    let mut nodes = HashSet::new();
    store
        .for_each_preimage(&mut |hash, _| {
            if !headers.contains(&hash) {
                nodes.insert(hash);
            }
        })
        .unwrap();
    nodes
}

fn head_root(store: &Store) -> B256 {
    store.head().unwrap().unwrap().state_root
}

/// Where a block stands in a pruned store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    Canonical,
    Side,
}

/// Asserts what a pruned store holds: for each block `(hash, number, salt)`, history iff its
/// number is at or above `floor`; a canonical block's header and index entry iff it is less than
/// `HEADERS_BELOW_FLOOR` below that (or genesis), a side block's header with its history; reads
/// of a pruned block say so; flat state is the head's.
fn assert_pruned(store: &Store, blocks: &[(B256, u64, u64)], floor: u64, chain: Chain) {
    for &(hash, number, salt) in blocks {
        let kept = number >= floor;
        let header_kept = match chain {
            Chain::Canonical => number == 0 || number + HEADERS_BELOW_FLOOR >= floor,
            Chain::Side => kept,
        };
        let what = format!("block {number} ({hash}), floor {floor}");
        assert_eq!(
            store.header(&hash).unwrap().is_some(),
            header_kept,
            "header of {what}"
        );
        assert_eq!(store.body(&hash).unwrap().is_some(), kept, "body of {what}");
        assert_eq!(
            store.receipts(&hash).unwrap().is_some(),
            kept,
            "receipts of {what}"
        );
        assert_eq!(
            store.changeset(&hash).unwrap().is_some(),
            kept,
            "changeset of {what}"
        );
        match store.block(&hash) {
            Ok(Some(block)) => assert!(kept, "block of {what}: {}", block.header.number),
            Ok(None) => assert!(!header_kept, "block of {what} unknown"),
            Err(StorageError::HistoryPruned { number: n, below }) => {
                assert!(!kept && header_kept, "block of {what}: pruned");
                assert_eq!((n, below), (number, floor), "block of {what}");
            }
            Err(e) => panic!("block of {what}: {e}"),
        }
        if chain == Chain::Canonical {
            let by_number = store.hash_for(BlockNumberOrTag::Number(number));
            match by_number {
                Ok(found) if header_kept => assert_eq!(found, Some(hash), "number of {what}"),
                Err(StorageError::HistoryPruned { below, .. }) if !header_kept => {
                    assert_eq!(below, floor, "number of {what}")
                }
                other => panic!("number of {what}: {other:?}"),
            }
        }
        let canonical = chain == Chain::Canonical;
        for (i, tx) in txs(salt, 3).iter().enumerate() {
            let expected = (kept && canonical).then_some((hash, number, i as u32));
            assert_eq!(
                store.transaction_location(tx).unwrap(),
                expected,
                "tx {i} of {what}"
            );
        }
    }
    assert_eq!(store.recompute_flat_state_root().unwrap(), head_root(store));
}

#[test]
fn pruning_deletes_history_and_state_below_the_floor_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let store = Store::open(&path).unwrap();
    let hashes = chain(&store, 300);
    let head = hashes[300];
    let root = head_root(&store);
    let old = hashes[100];
    let slots: Vec<B256> = (0..8u64).map(|s| B256::from(U256::from(s))).collect();
    store.proof(&old, &addr(0), &slots).unwrap();
    assert_eq!(store.history_floor().unwrap(), None);

    let report = store.prune_history(64).unwrap();
    // Blocks 0..=300; keeping 64 keeps 237..=300.
    assert_eq!(blocks_below(report), (237, 237));
    assert_eq!(store.history_floor().unwrap(), Some(237));
    let blocks: Vec<_> = hashes
        .iter()
        .enumerate()
        .map(|(n, h)| (*h, n as u64, n as u64))
        .collect();
    assert_pruned(&store, &blocks[1..], 237, Chain::Canonical);
    for (n, hash) in hashes.iter().enumerate() {
        assert_eq!(store.canonical_hash(n as u64).unwrap(), Some(*hash));
    }
    assert_eq!(store.head_hash().unwrap(), Some(head));
    assert_eq!(head_root(&store), root);

    // The state of a pruned block is gone with its trie nodes: reads say so.
    let err = store.proof(&old, &addr(0), &slots).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Pruned {
                number: 100,
                below: 237,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        store.state_at(&old).unwrap_err(),
        StorageError::Pruned { number: 100, .. }
    ));
    // The oldest kept block's state and proofs still answer, and every kept state is whole.
    let kept = hashes[237];
    for i in 0..16 {
        store.proof(&kept, &addr(i), &slots).unwrap();
    }
    reachable_nodes(&store, hashes[237..].iter().copied()).unwrap();
    // The floor survives reopening, and the pruned store opens.
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.history_floor().unwrap(), Some(237));
    assert_eq!(store.head_hash().unwrap(), Some(head));
    assert_eq!(store.recompute_flat_state_root().unwrap(), root);
}

#[test]
fn reorg_within_the_window_works_and_below_the_floor_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let hashes = chain(&store, 300);
    let head = hashes[300];
    assert_eq!(store.prune_history(64).unwrap().below, 237);

    // A fork of depth 10: 11 blocks on top of block 290.
    let mut fork = vec![hashes[290]];
    for salt in 0..11 {
        fork.push(child(&store, *fork.last().unwrap(), 10_000 + salt, false));
    }
    let fork_tip = *fork.last().unwrap();
    store.set_head(fork_tip).unwrap();
    assert_eq!(
        head_root(&store),
        store.header(&fork_tip).unwrap().unwrap().state_root
    );
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
    assert_eq!(store.canonical_hash(291).unwrap(), Some(fork[1]));
    store.set_head(head).unwrap();
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
    assert_eq!(store.canonical_hash(291).unwrap(), Some(hashes[291]));

    // The oldest kept block can become the head (and back); the one below cannot.
    store.set_head(hashes[237]).unwrap();
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
    store.set_head(head).unwrap();
    let root = store.recompute_flat_state_root().unwrap();
    assert_eq!(root, head_root(&store));

    let refused = |target: B256| {
        let err = store.set_head(target).unwrap_err();
        assert_eq!(store.head_hash().unwrap(), Some(head));
        assert_eq!(store.recompute_flat_state_root().unwrap(), root);
        assert_eq!(store.canonical_hash(300).unwrap(), Some(head));
        err
    };
    let err = refused(hashes[236]);
    assert!(
        matches!(err, StorageError::Pruned { block, number: 236, below: 237 } if block == hashes[236]),
        "{err}"
    );
    assert!(err.to_string().contains("block 236"), "{err}");
    assert!(err.to_string().contains("from block 237"), "{err}");
    let err = refused(hashes[10]);
    assert!(
        matches!(err, StorageError::Pruned { number: 10, .. }),
        "{err}"
    );

    // A fork below the floor: the parent's state is gone, so a child can be neither built nor
    // stored, as the head or not.
    for head_too in [false, true] {
        let err = try_child(&store, hashes[230], 30_000, 100, head_too).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::Pruned {
                    number: 230,
                    below: 237,
                    ..
                }
            ),
            "{err}"
        );
    }
    assert_eq!(store.head_hash().unwrap(), Some(head));
    assert_eq!(store.recompute_flat_state_root().unwrap(), root);
    for (i, tx) in txs(30_000, 3).iter().enumerate() {
        assert_eq!(store.transaction_location(tx).unwrap(), None, "tx {i}");
    }
}

#[test]
fn side_chain_blocks_below_the_floor_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let hashes = chain(&store, 100);
    // Side blocks at 51..=60 (forking at 50) and 91..=95 (forking at 90).
    let mut sides = Vec::new();
    for (base, len, salt) in [(50u64, 10u64, 1_000u64), (90, 5, 2_000)] {
        let mut parent = hashes[base as usize];
        for i in 0..len {
            parent = child(&store, parent, salt + i, false);
            sides.push((parent, base + 1 + i, salt + i));
        }
    }
    let report = store.prune_history(64).unwrap();
    assert_eq!(report.below, 37);
    assert_eq!(report.blocks, 37);
    let canonical: Vec<_> = hashes
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, h)| (*h, n as u64, n as u64))
        .collect();
    assert_pruned(&store, &canonical, 37, Chain::Canonical);
    assert_pruned(&store, &sides, 37, Chain::Side);

    for salt in 101..=150 {
        let parent = store.head_hash().unwrap().unwrap();
        child(&store, parent, salt, true);
    }
    // Head 150: floor 87; 50 canonical blocks (37..=86) and 10 side blocks (51..=60).
    let report = store.prune_history(64).unwrap();
    assert_eq!(blocks_below(report), (60, 87));
    assert_pruned(&store, &canonical, 87, Chain::Canonical);
    assert_pruned(&store, &sides, 87, Chain::Side);
}

#[test]
fn a_side_chain_reaching_below_the_floor_cannot_become_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let hashes = chain(&store, 300);
    // Side blocks 231..=245, forking at 230.
    let mut sides = Vec::new();
    let mut parent = hashes[230];
    for i in 0..15u64 {
        parent = child(&store, parent, 5_000 + i, false);
        sides.push((parent, 231 + i, 5_000 + i));
    }
    let report = store.prune_history(64).unwrap();
    assert_eq!(blocks_below(report), (237 + 6, 237));
    assert_pruned(&store, &sides, 237, Chain::Side);
    let root = head_root(&store);
    // The walk back to the common ancestor reaches the pruned side block 236.
    let err = store.set_head(parent).unwrap_err();
    assert!(
        matches!(err, StorageError::Pruned { block, number: 236, below: 237 } if block == sides[5].0),
        "{err}"
    );
    assert_eq!(store.head_hash().unwrap(), Some(hashes[300]));
    assert_eq!(store.recompute_flat_state_root().unwrap(), root);
}

#[test]
fn a_transaction_moved_to_a_kept_block_keeps_its_index_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let hashes = chain(&store, 100);
    // Block 101 carries block 10's transactions again (the index now points at 101).
    let parent = hashes[100];
    let update = store.prepare_update(&parent, &diff(101)).unwrap();
    let header = Header {
        parent_hash: parent,
        number: 101,
        state_root: update.state_root,
        nonce: 101u64.into(),
        ..Default::default()
    };
    let moved = store
        .commit_block(&header, b"body", b"receipts", &txs(10, 3), &update, true)
        .unwrap();
    store.prune_history(64).unwrap();
    assert_eq!(store.body(&hashes[10]).unwrap(), None);
    for (i, tx) in txs(10, 3).iter().enumerate() {
        assert_eq!(
            store.transaction_location(tx).unwrap(),
            Some((moved, 101, i as u32))
        );
    }
}

#[test]
fn repeated_prunes_are_idempotent_and_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    for keep in [0, 1, MIN_HISTORY_BLOCKS - 1] {
        let err = store.prune_history(keep).unwrap_err();
        assert!(
            matches!(err, StorageError::HistoryTooShort { keep: k, min: MIN_HISTORY_BLOCKS } if k == keep),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!("only {keep} blocks")),
            "{err}"
        );
    }
    // Nothing to prune yet: a chain shorter than the window, and no store head at all.
    assert_eq!(store.prune_history(64).unwrap(), PruneReport::default());
    let hashes = chain(&store, 50);
    assert_eq!(store.prune_history(64).unwrap(), PruneReport::default());
    assert_eq!(store.history_floor().unwrap(), None);

    let mut head = *hashes.last().unwrap();
    for salt in 51..=200 {
        head = child(&store, head, salt, true);
    }
    let first = store.prune_history(64).unwrap();
    assert_eq!(blocks_below(first), (137, 137));
    assert_eq!(blocks_below(store.prune_history(64).unwrap()), (0, 137));
    // A larger window later does not bring history back, nor prune.
    assert_eq!(blocks_below(store.prune_history(1_000).unwrap()), (0, 137));
    for salt in 201..=210 {
        head = child(&store, head, salt, true);
    }
    assert_eq!(blocks_below(store.prune_history(64).unwrap()), (10, 147));
    // A head moved back does not lower the floor.
    let back = store.canonical_hash(180).unwrap().unwrap();
    store.set_head(back).unwrap();
    assert_eq!(blocks_below(store.prune_history(64).unwrap()), (0, 147));
    store.set_head(head).unwrap();
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
}

#[test]
fn a_long_history_is_pruned_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let hashes = chain(&store, 2_100);
    // Floor 2037: three write transactions (0..1000, 1000..2000, 2000..2037); headers from 1
    // to 1780, below 2037 - 256.
    let report = store.prune_history(64).unwrap();
    assert_eq!(blocks_below(report), (2_037, 2_037));
    assert_eq!(report.headers, 1_780);
    let blocks: Vec<_> = hashes
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, h)| (*h, n as u64, n as u64))
        .collect();
    assert_pruned(&store, &blocks, 2_037, Chain::Canonical);
    // `earliest` is the oldest block with history; genesis stays known, its body pruned.
    let earliest = store.hash_for(BlockNumberOrTag::Earliest).unwrap();
    assert_eq!(earliest, Some(hashes[2_037]));
    assert_eq!(
        store.hash_for(BlockNumberOrTag::Number(0)).unwrap(),
        Some(hashes[0])
    );
    assert!(matches!(
        store.block(&hashes[0]),
        Err(StorageError::HistoryPruned {
            number: 0,
            below: 2_037
        })
    ));
    // A restarted node checks its genesis against the kept header, and writes nothing.
    assert_eq!(genesis(&store), hashes[0]);
    assert_eq!(store.head_hash().unwrap(), Some(hashes[2_100]));
    // A block whose header was pruned is unknown; one whose history was pruned is refused.
    let err = store.set_head(hashes[1_000]).unwrap_err();
    assert!(matches!(err, StorageError::UnknownBlock(_)), "{err}");
    let err = store.set_head(hashes[1_790]).unwrap_err();
    assert!(
        matches!(err, StorageError::Pruned { number: 1_790, .. }),
        "{err}"
    );
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
}

#[test]
fn safe_and_finalized_blocks_hold_the_floor_down() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let hashes = chain(&store, 300);
    store.set_label(BlockLabel::Finalized, hashes[100]).unwrap();
    store.set_label(BlockLabel::Safe, hashes[150]).unwrap();
    assert_eq!(store.prune_history(64).unwrap().below, 100);
    assert!(store.body(&hashes[100]).unwrap().is_some());
    assert!(store.body(&hashes[99]).unwrap().is_none());
    store.set_label(BlockLabel::Finalized, hashes[200]).unwrap();
    assert_eq!(store.prune_history(64).unwrap().below, 150);
    // A reset to the safe block still works.
    store.set_head(hashes[150]).unwrap();
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
    store.set_head(hashes[300]).unwrap();
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
}

#[test]
fn the_imported_base_keeps_its_history() {
    // A source chain, then a store imported from its head state with 10 recent blocks.
    let dir = tempfile::tempdir().unwrap();
    let source = Store::open(dir.path().join("source.redb")).unwrap();
    let hashes = chain(&source, 60);
    let base = hashes[60];
    let reader = source.head_reader().unwrap();
    let mut blocks = Vec::new();
    reader
        .for_each_recent_block::<StorageError>(10, &mut |b: StoredBlock| {
            blocks.push(b);
            Ok(())
        })
        .unwrap();
    let mut accounts = Vec::new();
    reader
        .for_each_account::<StorageError>(&mut |a, acc| {
            accounts.push((a, acc));
            Ok(())
        })
        .unwrap();
    let mut slots = Vec::new();
    reader
        .for_each_slot::<StorageError>(&mut |a, s, v| {
            slots.push((a, s, v));
            Ok(())
        })
        .unwrap();
    let mut nodes = Vec::new();
    reader
        .for_each_trie_node::<StorageError>(&mut |_, rlp| {
            nodes.push(rlp.to_vec());
            Ok(())
        })
        .unwrap();
    let store = Store::open(dir.path().join("imported.redb")).unwrap();
    store.import_accounts(&accounts).unwrap();
    store.import_slots(&slots).unwrap();
    store
        .import_trie_nodes(nodes.iter().map(Vec::as_slice))
        .unwrap();
    store.import_blocks(&blocks).unwrap();
    store.verify_import(&base).unwrap();
    store.finish_import(&base).unwrap();

    let mut head = base;
    for salt in 61..=200 {
        head = child(&store, head, salt, true);
    }
    // The labels stay at the base; they must not hold the floor down for this test.
    store.set_label(BlockLabel::Safe, head).unwrap();
    store.set_label(BlockLabel::Finalized, head).unwrap();
    let report = store.prune_history(64).unwrap();
    // Head 200: floor 137. Pruned: imported 51..=59, committed 61..=136; the base (60) stays.
    assert_eq!(blocks_below(report), (9 + 76, 137));
    assert!(store.body(&base).unwrap().is_some());
    assert!(store.changeset(&base).unwrap().is_some());
    assert!(store.body(&hashes[55]).unwrap().is_none());
    let err = store.set_head(base).unwrap_err();
    assert!(
        matches!(err, StorageError::Pruned { number: 136, .. }),
        "{err}"
    );
    // Still refused as below the base when reorging past it.
    assert!(matches!(
        store.set_head(hashes[55]).unwrap_err(),
        StorageError::BelowBase { .. }
    ));
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        head_root(&store)
    );
}

/// Sizes of a store: file length, and bytes in allocated pages (redb grows its file in steps,
/// the pages in use grow block by block).
#[derive(Clone, Copy, Debug)]
struct Size {
    file: u64,
    allocated: u64,
}

/// Commits 2,000 blocks with 2 KB bodies; with `prune`, prunes to 64 blocks every 100. Returns
/// the sizes after 1,000 and after 2,000 blocks.
fn growth(path: &std::path::Path, prune: bool) -> [Size; 2] {
    let mut store = Store::open(path).unwrap();
    let mut head = genesis(&store);
    let mut sizes = Vec::new();
    for n in 1..=2_000u64 {
        // One account of four changes per block: its trie nodes are small next to its body.
        let mut diff = StateDiff::default();
        diff.accounts.insert(
            Address::with_last_byte((n % 4) as u8),
            AccountDiff {
                info: Some(AccountInfo {
                    nonce: n,
                    balance: U256::from(n),
                    code_hash: EMPTY_CODE_HASH,
                }),
                ..Default::default()
            },
        );
        let update = store.prepare_update(&head, &diff).unwrap();
        let header = Header {
            parent_hash: head,
            number: n,
            state_root: update.state_root,
            ..Default::default()
        };
        let body = vec![(n % 251) as u8; 2_048];
        head = store
            .commit_block(&header, &body, &[1; 64], &txs(n, 2), &update, true)
            .unwrap();
        if prune && n % 100 == 0 {
            store.prune_history(64).unwrap();
        }
        if n % 1_000 == 0 {
            // redb locks its file: close the store to read the page statistics, then reopen.
            drop(store);
            let file = std::fs::metadata(path).unwrap().len();
            let stats = {
                let db = redb::Database::open(path).unwrap();
                let txn = db.begin_write().unwrap();
                let stats = txn.stats().unwrap();
                txn.abort().unwrap();
                stats
            };
            sizes.push(Size {
                file,
                allocated: stats.allocated_pages() * stats.page_size() as u64,
            });
            store = Store::open(path).unwrap();
        }
    }
    [sizes[0], sizes[1]]
}

#[test]
fn pruning_stops_the_file_from_growing() {
    let dir = tempfile::tempdir().unwrap();
    let [pruned_1000, pruned_2000] = growth(&dir.path().join("pruned.redb"), true);
    let [full_1000, full_2000] = growth(&dir.path().join("full.redb"), false);
    eprintln!(
        "after 1000 / 2000 blocks: pruned {pruned_1000:?} / {pruned_2000:?}, \
         unpruned {full_1000:?} / {full_2000:?}"
    );
    let grown = |from: u64, to: u64| to as i64 - from as i64;
    let file = (
        grown(pruned_1000.file, pruned_2000.file),
        grown(full_1000.file, full_2000.file),
    );
    let allocated = (
        grown(pruned_1000.allocated, pruned_2000.allocated),
        grown(full_1000.allocated, full_2000.allocated),
    );
    // The unpruned store grows by every block's body, header and state.
    assert!(allocated.1 > 1_000 * 2_048, "unpruned store: {allocated:?}");
    assert!(file.1 > 1_000 * 2_048, "unpruned file: {file:?}");
    // The pruned one is flat: freed pages are reused for new blocks, headers included. Allow a
    // few pages of B-tree rebalancing (4 KiB each) either way.
    let flat = 16 * 4_096;
    assert!(
        allocated.0.abs() <= flat,
        "over the last 1000 blocks the pruned store allocated {} bytes more (unpruned: {})",
        allocated.0,
        allocated.1
    );
    assert!(
        file.0 <= flat,
        "over the last 1000 blocks the pruned file grew {} bytes (unpruned: {})",
        file.0,
        file.1
    );
}

/// Which blocks a random run commits: a canonical chain with occasional side blocks.
#[derive(Debug, Clone)]
struct Run {
    /// Canonical blocks before each prune call.
    segments: Vec<u64>,
    /// Heights (as a fraction of the chain so far, per mille) at which a side block is added.
    sides: Vec<u16>,
    keep: u64,
}

fn run() -> impl Strategy<Value = Run> {
    (
        // Up to 800 blocks: long enough for headers to be pruned too.
        proptest::collection::vec(0u64..200, 1..5),
        proptest::collection::vec(0u16..1000, 0..6),
        MIN_HISTORY_BLOCKS..MIN_HISTORY_BLOCKS + 100,
    )
        .prop_map(|(segments, sides, keep)| Run {
            segments,
            sides,
            keep,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_random_chains_and_windows(run in run()) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("chain.redb")).unwrap();
        // Counting trie node positions starts with the first prune call: from genesis here.
        store.prune_history(run.keep).unwrap();
        let mut canonical = vec![(genesis(&store), 0u64, u64::MAX)];
        let mut sides = Vec::new();
        let mut salt = 0;
        let mut floor = 0;
        let mut pruned = std::collections::HashSet::new();
        for (segment, len) in run.segments.iter().enumerate() {
            for _ in 0..*len {
                salt += 1;
                let parent = canonical.last().unwrap().0;
                canonical.push((child(&store, parent, salt, true), canonical.len() as u64, salt));
            }
            if let Some(per_mille) = run.sides.get(segment) {
                let at = canonical.len() as u64 * u64::from(*per_mille) / 1000;
                salt += 1;
                let parent = canonical[at as usize].0;
                if at < floor {
                    // The parent's state is pruned: nothing can be built on it.
                    let refused = try_child(&store, parent, 1_000_000 + salt, 100, false);
                    prop_assert!(matches!(refused, Err(StorageError::Pruned { .. })), "{:?}", refused);
                } else {
                    let side = child(&store, parent, 1_000_000 + salt, false);
                    sides.push((side, at + 1, 1_000_000 + salt));
                }
            }
            let before = store.recompute_flat_state_root().unwrap();
            let report = store.prune_history(run.keep).unwrap();
            let head_number = canonical.len() as u64 - 1;
            let expected = (head_number + 1).saturating_sub(run.keep).max(floor);
            prop_assert_eq!(report.below, expected);
            prop_assert_eq!(store.history_floor().unwrap(), (expected > 0).then_some(expected));
            // Side blocks committed below an earlier floor are pruned now too.
            let mut pruned_now = 0;
            for (hash, number, _) in canonical.iter().chain(&sides) {
                if *number < expected && pruned.insert(*hash) {
                    pruned_now += 1;
                }
            }
            prop_assert_eq!(report.blocks, pruned_now);
            floor = expected;
            prop_assert_eq!(store.recompute_flat_state_root().unwrap(), before);
            prop_assert_eq!(before, head_root(&store));
            assert_pruned(&store, &canonical[1..], floor, Chain::Canonical);
            assert_pruned(&store, &sides, floor, Chain::Side);
            for (hash, number, _) in &canonical {
                let indexed = *number == 0 || number + HEADERS_BELOW_FLOOR >= floor;
                prop_assert_eq!(store.canonical_hash(*number).unwrap(), indexed.then_some(*hash));
            }
            // Exactly the trie nodes of the kept states are stored (the block below the floor
            // is the last whose superseded nodes wait for the next call): all readable, none
            // left over.
            // Canonical blocks from floor - 1 up (the state below the floor stays until the next
            // call settles the floor block's journal); side blocks only from the floor up (one
            // below it was pruned, and its state with it).
            let kept = canonical
                .iter()
                .filter(|(_, number, _)| *number + 1 >= floor)
                .chain(sides.iter().filter(|(_, number, _)| *number >= floor))
                .map(|(hash, _, _)| *hash);
            let reachable = reachable_nodes(&store, kept).unwrap();
            let headers = canonical.iter().chain(&sides).map(|(hash, _, _)| *hash).collect();
            prop_assert_eq!(stored_nodes(&store, &headers), reachable);
            // Idempotent.
            prop_assert_eq!(blocks_below(store.prune_history(run.keep).unwrap()), (0, floor));
            // The oldest kept block can become the head, the one below cannot.
            let head = canonical.last().unwrap().0;
            if floor > 0 {
                let err = store.set_head(canonical[floor as usize - 1].0).unwrap_err();
                prop_assert!(matches!(err, StorageError::Pruned { .. }), "{}", err);
                prop_assert_eq!(store.head_hash().unwrap(), Some(head));
                prop_assert_eq!(store.recompute_flat_state_root().unwrap(), before);
            }
            store.set_head(canonical[floor as usize].0).unwrap();
            prop_assert_eq!(store.recompute_flat_state_root().unwrap(), head_root(&store));
            store.set_head(head).unwrap();
            prop_assert_eq!(store.recompute_flat_state_root().unwrap(), before);
        }
    }
}
