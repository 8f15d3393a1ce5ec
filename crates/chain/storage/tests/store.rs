//! Store behaviour: block commits, reorgs across siblings, proofs at old blocks, reopening,
//! refusing corrupt files, and surviving SIGKILL in the middle of commits.

use aegis_storage::{AccountDiff, AccountInfo, StateDiff, StorageError, Store, trie::EMPTY_ROOT};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{Nibbles, proof::verify_proof};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{collections::BTreeMap, path::Path, process::Command, time::Duration};

fn addr(i: u64) -> Address {
    Address::from_word(keccak256(i.to_be_bytes()))
}

/// A random diff over a small address space so blocks overwrite each other's keys.
fn random_diff(rng: &mut StdRng, accounts: u64) -> StateDiff {
    let mut diff = StateDiff::default();
    for _ in 0..rng.random_range(1..20) {
        let a = addr(rng.random_range(0..accounts));
        let info = (!rng.random_bool(0.1)).then(|| AccountInfo {
            nonce: rng.random_range(0..100),
            balance: U256::from(rng.random_range(0..1_000_000u64)),
            code_hash: aegis_storage::EMPTY_CODE_HASH,
        });
        let mut storage = BTreeMap::new();
        if info.is_some() {
            for _ in 0..rng.random_range(0..6) {
                let v = if rng.random_bool(0.3) {
                    0
                } else {
                    rng.random_range(1..1000u64)
                };
                storage.insert(U256::from(rng.random_range(0..8u64)), U256::from(v));
            }
        }
        let storage_wiped = info.is_some() && rng.random_bool(0.05);
        diff.accounts.insert(
            a,
            AccountDiff {
                info,
                storage_wiped,
                storage,
            },
        );
    }
    diff
}

fn genesis_header(store: &Store, alloc: &StateDiff) -> Header {
    let update = store.prepare_update(&B256::ZERO, alloc).unwrap();
    Header {
        state_root: update.state_root,
        gas_limit: 30_000_000,
        ..Default::default()
    }
}

/// Commits a child of `parent` with `diff`; returns its hash.
fn commit_child(store: &Store, parent: B256, diff: &StateDiff, salt: u64, head: bool) -> B256 {
    let parent_header = store.header(&parent).unwrap().unwrap();
    let update = store.prepare_update(&parent, diff).unwrap();
    let header = Header {
        parent_hash: parent,
        number: parent_header.number + 1,
        timestamp: parent_header.timestamp + 2,
        state_root: update.state_root,
        nonce: salt.into(),
        ..Default::default()
    };
    store
        .commit_block(&header, b"body", b"receipts", &[], &update, head)
        .unwrap()
}

fn init(store: &Store, rng: &mut StdRng) -> B256 {
    let alloc = random_diff(rng, 40);
    let header = genesis_header(store, &alloc);
    store.init_genesis(&header, &alloc).unwrap()
}

/// Every account of the model reads the same through the flat view and the trie view.
fn assert_views_agree(store: &Store, block: B256) {
    let flat = store.state_at(&block).unwrap();
    let header = store.header(&block).unwrap().unwrap();
    assert_eq!(
        store.recompute_flat_state_root().unwrap(),
        header.state_root
    );
    for i in 0..40 {
        let a = addr(i);
        let proof = store.proof(&block, &a, &[B256::with_last_byte(1)]).unwrap();
        assert_eq!(flat.account(&a).unwrap(), proof.account, "account {a}");
        let leaf = proof.account.map(|acc| acc.trie_rlp());
        verify_proof(
            header.state_root,
            Nibbles::unpack(keccak256(a)),
            leaf,
            &proof.account_proof,
        )
        .unwrap();
        let storage_root = proof.account.map_or(EMPTY_ROOT, |acc| acc.storage_root);
        let slot = &proof.storage[0];
        assert_eq!(flat.storage(&a, &U256::from(1)).unwrap(), slot.value);
        let leaf = (!slot.value.is_zero()).then(|| alloy_rlp::encode(slot.value));
        verify_proof(
            storage_root,
            Nibbles::unpack(keccak256(slot.key)),
            leaf,
            &slot.proof,
        )
        .unwrap();
    }
}

#[test]
fn reorg_to_sibling_and_back_restores_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chain.redb")).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let genesis = init(&store, &mut rng);

    // Chain A: 5 blocks; chain B forks after A1 with 6 blocks.
    let mut a = vec![genesis];
    for i in 0..5 {
        let diff = random_diff(&mut rng, 40);
        a.push(commit_child(&store, *a.last().unwrap(), &diff, i, true));
    }
    let mut b = vec![a[1]];
    for i in 0..6 {
        let diff = random_diff(&mut rng, 40);
        b.push(commit_child(
            &store,
            *b.last().unwrap(),
            &diff,
            100 + i,
            false,
        ));
    }
    assert_eq!(store.head_hash().unwrap(), Some(a[5]));

    // Read the B tip through its trie before it is canonical.
    let b_tip = *b.last().unwrap();
    let trie_view = store.state_at(&b_tip).unwrap();
    let before: Vec<_> = (0..40)
        .map(|i| trie_view.account(&addr(i)).unwrap())
        .collect();

    store.set_head(b_tip).unwrap();
    assert_eq!(store.canonical_hash(2).unwrap(), Some(b[1]));
    assert_eq!(store.canonical_hash(7).unwrap(), Some(b_tip));
    let flat_view = store.state_at(&b_tip).unwrap();
    let after: Vec<_> = (0..40)
        .map(|i| flat_view.account(&addr(i)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_views_agree(&store, b_tip);

    // Back to an older block of A, then to genesis, then to A's tip.
    for target in [a[3], genesis, a[5]] {
        store.set_head(target).unwrap();
        assert_views_agree(&store, target);
    }
    assert_eq!(store.canonical_hash(6).unwrap(), None);
    assert_eq!(store.canonical_hash(5).unwrap(), Some(a[5]));
}

/// An archive store keeps new branch versions as patches on the versions they replace; a store
/// that counts nodes for pruning keeps every node whole. Fed the same blocks (a chain with side
/// blocks and reorgs), both prove every retained state with the same nodes, every preimage the
/// archive store lists hashes to its key, and the archive store takes fewer trie-node bytes.
#[test]
fn patched_branch_versions_prove_every_old_state_as_whole_nodes_do() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Store::open(dir.path().join("archive.redb")).unwrap();
    let counted = Store::open(dir.path().join("counted.redb")).unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let alloc = random_diff(&mut rng, 300);
    let genesis = archive
        .init_genesis(&genesis_header(&archive, &alloc), &alloc)
        .unwrap();
    counted
        .init_genesis(&genesis_header(&counted, &alloc), &alloc)
        .unwrap();
    // Counting starts with the first prune; nothing is old enough to go.
    counted.prune_history(1_000).unwrap();

    let mut blocks = vec![genesis];
    for n in 0..240u64 {
        // Mostly the head's child; now and then a child of an older block (a side block).
        let parent = if n % 17 == 5 {
            blocks[rng.random_range(blocks.len().saturating_sub(20)..blocks.len())]
        } else {
            *blocks.last().unwrap()
        };
        let diff = random_diff(&mut rng, 300);
        let head = n % 17 != 5;
        let a = commit_child(&archive, parent, &diff, n, head);
        let c = commit_child(&counted, parent, &diff, n, head);
        assert_eq!(a, c, "block {n}");
        blocks.push(a);
        if n % 29 == 7 {
            // A reorg back and forth.
            let target = blocks[blocks.len() - 3];
            let head = archive.head_hash().unwrap().unwrap();
            for store in [&archive, &counted] {
                store.set_head(target).unwrap();
                store.set_head(head).unwrap();
            }
        }
    }

    let slots = [B256::with_last_byte(1), B256::with_last_byte(5)];
    for block in &blocks {
        let header = archive.header(block).unwrap().unwrap();
        for i in (0..300).step_by(7) {
            let a = addr(i);
            let proof = archive.proof(block, &a, &slots).unwrap();
            assert_eq!(
                proof,
                counted.proof(block, &a, &slots).unwrap(),
                "{a} at {block}"
            );
            verify_proof(
                header.state_root,
                Nibbles::unpack(keccak256(a)),
                proof.account.map(|acc| acc.trie_rlp()),
                &proof.account_proof,
            )
            .unwrap();
        }
    }
    let mut preimages = 0;
    archive
        .for_each_preimage(&mut |hash, bytes| {
            assert_eq!(keccak256(bytes), hash);
            preimages += 1;
        })
        .unwrap();
    assert!(preimages > 1_000, "{preimages} preimages");

    let nodes = |store: &Store| {
        store
            .table_sizes()
            .unwrap()
            .into_iter()
            .find(|t| t.name == "trie_nodes")
            .unwrap()
            .stored_bytes
    };
    let (patched, whole) = (nodes(&archive), nodes(&counted));
    eprintln!("trie nodes stored: archive {patched} bytes, counted {whole} bytes");
    assert!(
        patched * 10 < whole * 8,
        "trie nodes: archive {patched} bytes, counted {whole} bytes"
    );
}

#[test]
fn reopening_keeps_head_and_genesis_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let mut rng = StdRng::seed_from_u64(1);
    let head = {
        let store = Store::open(&path).unwrap();
        let genesis = init(&store, &mut rng);
        commit_child(&store, genesis, &random_diff(&mut rng, 40), 0, true)
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(store.head_hash().unwrap(), Some(head));
    let other = Header {
        gas_limit: 1,
        state_root: EMPTY_ROOT,
        ..Default::default()
    };
    let err = store
        .init_genesis(&other, &StateDiff::default())
        .unwrap_err();
    assert!(matches!(err, StorageError::GenesisMismatch { .. }), "{err}");
}

#[test]
fn corrupt_file_is_refused_with_path_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.starts_with("cannot open database"), "{err}");
}

#[test]
fn commit_with_unknown_parent_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("c.redb")).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let genesis = init(&store, &mut rng);
    let update = store
        .prepare_update(&genesis, &random_diff(&mut rng, 40))
        .unwrap();
    let header = Header {
        parent_hash: B256::repeat_byte(0xee),
        number: 1,
        state_root: update.state_root,
        ..Default::default()
    };
    assert!(
        store
            .commit_block(&header, &[], &[], &[], &update, true)
            .is_err()
    );
    assert!(matches!(
        store.set_head(B256::repeat_byte(1)),
        Err(StorageError::UnknownBlock(_))
    ));
}

const CRASH_DB: &str = "AEGIS_CRASH_TEST_DB";

/// Child half of the crash test: commits blocks until killed.
#[test]
#[ignore = "run by crash_during_commits_recovers_consistent_state as a child process"]
fn crash_child_commits_forever() {
    let Ok(path) = std::env::var(CRASH_DB) else {
        return;
    };
    let store = Store::open(&path).unwrap();
    let mut rng = StdRng::seed_from_u64(std::process::id() as u64);
    let mut head = match store.head_hash().unwrap() {
        Some(h) => h,
        None => init(&store, &mut rng),
    };
    for i in 0.. {
        let diff = random_diff(&mut rng, 2_000);
        head = commit_child(&store, head, &diff, i, true);
        if i % 7 == 3 {
            // A reorg now and then: re-point the head one block back and forward again.
            let parent = store.header(&head).unwrap().unwrap().parent_hash;
            store.set_head(parent).unwrap();
            store.set_head(head).unwrap();
        }
    }
}

fn check_recovered(path: &Path) -> u64 {
    let store = Store::open(path).expect("store reopens after SIGKILL");
    let head = store.head().unwrap().expect("genesis was committed");
    assert_eq!(store.recompute_flat_state_root().unwrap(), head.state_root);
    head.number
}

#[test]
fn crash_during_commits_recovers_consistent_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let exe = std::env::current_exe().unwrap();
    let mut rng = StdRng::seed_from_u64(99);
    let mut last = 0;
    for round in 0..4 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_commits_forever",
                "--ignored",
                "--nocapture",
            ])
            .env(CRASH_DB, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(600..1500)));
        // SIGKILL: no destructors, no flush.
        child.kill().unwrap();
        child.wait().unwrap();
        let number = check_recovered(&path);
        assert!(
            number >= last,
            "round {round}: head went back from {last} to {number}"
        );
        last = number;
    }
    assert!(last > 0, "the child never committed a block");
}
