//! Export → import round trips, and every way a snapshot can be wrong.

mod support;

use aegis_snapshot::{SnapshotError, Trusted, export, import, temporary_path};
use aegis_storage::{AccountDiff, AccountInfo, StateDiff, StorageError, Store};
use alloy_consensus::Header;
use alloy_primitives::{B256, U256};
use support::{CHAIN_ID, address, chain, chunks};

fn snapshot_of(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    export(store, CHAIN_ID, &mut out).unwrap();
    out
}

fn import_bytes(
    bytes: &[u8],
    dir: &std::path::Path,
    trusted: B256,
) -> Result<Store, SnapshotError> {
    let path = dir.join("chain.redb");
    import(bytes, &path, CHAIN_ID, Trusted::block(trusted))?;
    Ok(Store::open(&path).unwrap())
}

#[test]
fn a_hundred_thousand_accounts_round_trip_with_identical_roots_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 100_000, 300);
    let head = *hashes.last().unwrap();
    let snapshot = snapshot_of(&source);

    let target = tempfile::tempdir().unwrap();
    let imported = import_bytes(&snapshot, target.path(), head).unwrap();
    assert_eq!(imported.head_hash().unwrap(), Some(head));
    assert_eq!(imported.base().unwrap(), Some(head));
    assert_eq!(
        imported.recompute_flat_state_root().unwrap(),
        source.head().unwrap().unwrap().state_root
    );
    // eth_getProof answers, for accounts with and without storage, and absent ones.
    for i in (0..100_000u64)
        .step_by(4_999)
        .chain([0, 50, 100, 150, 1_000_000])
    {
        let plain = [B256::from(U256::from(0)), B256::from(U256::from(3))];
        assert_eq!(
            imported.proof(&head, &address(i), &plain).unwrap(),
            source.proof(&head, &address(i), &plain).unwrap(),
            "account {i}"
        );
    }
    // The history BLOCKHASH needs: the last 256 blocks, canonical.
    for n in [300 - 255, 150, 299] {
        let hash = hashes[n as usize];
        assert_eq!(imported.canonical_hash(n).unwrap(), Some(hash));
        assert_eq!(imported.body(&hash).unwrap(), source.body(&hash).unwrap());
    }
    assert_eq!(imported.canonical_hash(300 - 256).unwrap(), None);
}

#[test]
fn the_imported_store_builds_the_same_next_block_and_never_reorgs_below_its_base() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 2_000, 20);
    let head = *hashes.last().unwrap();
    let imported = import_bytes(&snapshot_of(&source), dir.path(), head).unwrap();

    let mut diff = StateDiff::default();
    diff.accounts.insert(
        address(50),
        AccountDiff {
            info: Some(AccountInfo {
                nonce: 9,
                balance: U256::from(7),
                code_hash: aegis_storage::EMPTY_CODE_HASH,
            }),
            storage_wiped: true,
            storage: [(U256::from(1), U256::from(2))].into(),
        },
    );
    let mut roots = Vec::new();
    for store in [&source, &imported] {
        let update = store.prepare_update(&head, &diff).unwrap();
        let header = Header {
            parent_hash: head,
            number: 21,
            state_root: update.state_root,
            ..Default::default()
        };
        let hash = store
            .commit_block(&header, &[], &[], &[], &update, true)
            .unwrap();
        roots.push((hash, update.state_root));
    }
    assert_eq!(roots[0], roots[1]);
    assert_eq!(imported.recompute_flat_state_root().unwrap(), roots[1].1);
    // Back to the base is fine; below it there is no state.
    imported.set_head(head).unwrap();
    // Block 19 came with the snapshot (its header is known): the refusal is the base's.
    assert!(matches!(
        imported.set_head(hashes[19]),
        Err(StorageError::BelowBase { base, target }) if base == head && target == hashes[19]
    ));
    assert_eq!(imported.head_hash().unwrap(), Some(head));
}

#[test]
fn every_tampered_chunk_is_refused_by_name_and_nothing_is_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 30_000, 10);
    let head = *hashes.last().unwrap();
    let snapshot = snapshot_of(&source);
    let layout = chunks(&snapshot);
    assert!(layout.len() >= 6, "{layout:?}");
    let target = tempfile::tempdir().unwrap();
    for (offset, _, index, len) in &layout {
        // A byte in the middle of the payload, and a byte of the checksum.
        for at in [offset + 13 + len / 2, offset + 13 + len + 5] {
            let mut bad = snapshot.clone();
            bad[at] ^= 0x01;
            match import_bytes(&bad, target.path(), head) {
                Err(SnapshotError::Checksum { index: named, .. }) => assert_eq!(named, *index),
                other => panic!("chunk {index} byte {at}: {other:?}"),
            }
            assert!(!target.path().join("chain.redb").exists());
            assert!(!temporary_path(&target.path().join("chain.redb")).exists());
        }
    }
}

#[test]
fn a_forged_chunk_with_a_recomputed_checksum_is_refused_by_the_state_proof() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 1_000, 3);
    let head = *hashes.last().unwrap();
    let mut snapshot = snapshot_of(&source);
    let header = aegis_snapshot::SnapshotHeader::decode(
        snapshot[..aegis_snapshot::SnapshotHeader::LEN]
            .try_into()
            .unwrap(),
    )
    .unwrap();
    let (offset, kind, _, len) = *chunks(&snapshot).iter().find(|c| c.1 == 2).unwrap();
    assert_eq!(kind, 2);
    // Raise the first account's balance (its last balance byte) and re-checksum the chunk.
    let record = offset + 13;
    snapshot[record + 20 + 8 + 31] ^= 0x80;
    let mut hasher = alloy_primitives::Keccak256::new();
    hasher.update(header.id());
    hasher.update(&snapshot[offset..offset + 13 + len]);
    let checksum = hasher.finalize();
    snapshot[offset + 13 + len..offset + 13 + len + 32].copy_from_slice(checksum.as_slice());
    let target = tempfile::tempdir().unwrap();
    let error = import_bytes(&snapshot, target.path(), head).unwrap_err();
    assert!(
        matches!(&error, SnapshotError::StateMismatch { reason, .. } if reason.contains("account 0x")),
        "{error}"
    );
    assert!(!target.path().join("chain.redb").exists());
}

#[test]
fn a_snapshot_of_another_block_or_chain_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 100, 5);
    let snapshot = snapshot_of(&source);
    let target = tempfile::tempdir().unwrap();
    let error = import_bytes(&snapshot, target.path(), hashes[4]).unwrap_err();
    assert!(
        matches!(error, SnapshotError::Untrusted { number: 5, trusted, .. } if trusted == hashes[4]),
        "{error}"
    );
    let path = target.path().join("chain.redb");
    let error = import(&snapshot[..], &path, 10, Trusted::block(hashes[5])).unwrap_err();
    assert!(
        matches!(
            error,
            SnapshotError::WrongChain {
                expected: 10,
                found: 901
            }
        ),
        "{error}"
    );
    // A checkpoint that signed another state root for the same block.
    let forged_root = Trusted {
        block_hash: hashes[5],
        state_root: Some(B256::repeat_byte(7)),
    };
    let error = import(&snapshot[..], &path, CHAIN_ID, forged_root).unwrap_err();
    assert!(
        matches!(error, SnapshotError::StateMismatch { .. }),
        "{error}"
    );
    assert!(!path.exists());
}

#[test]
fn truncated_reordered_oversized_and_padded_snapshots_get_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 5_000, 5);
    let head = hashes[5];
    let snapshot = snapshot_of(&source);
    let layout = chunks(&snapshot);
    let target = tempfile::tempdir().unwrap();
    let try_import = |bytes: &[u8]| import_bytes(bytes, target.path(), head).map(|_| ());

    for cut in [
        0,
        10,
        89,
        90,
        95,
        layout[1].0,
        layout[1].0 + 20,
        snapshot.len() - 1,
    ] {
        let error = try_import(&snapshot[..cut]).unwrap_err();
        assert!(
            matches!(error, SnapshotError::Truncated(_)),
            "cut at {cut}: {error}"
        );
    }
    // Two chunks swapped.
    let (a, b) = (layout[1], layout[2]);
    let mut swapped = snapshot[..a.0].to_vec();
    swapped.extend_from_slice(&snapshot[b.0..b.0 + 45 + b.3]);
    swapped.extend_from_slice(&snapshot[a.0..a.0 + 45 + a.3]);
    swapped.extend_from_slice(&snapshot[b.0 + 45 + b.3..]);
    let error = try_import(&swapped).unwrap_err();
    assert!(
        matches!(
            error,
            SnapshotError::OutOfOrder {
                found: 2,
                expected: 1
            }
        ),
        "{error}"
    );
    // A chunk dropped.
    let mut dropped = snapshot[..a.0].to_vec();
    dropped.extend_from_slice(&snapshot[b.0..]);
    assert!(matches!(
        try_import(&dropped).unwrap_err(),
        SnapshotError::OutOfOrder {
            found: 2,
            expected: 1
        }
    ));
    // A declared length over the limit.
    let mut oversized = snapshot.clone();
    oversized[a.0 + 9..a.0 + 13].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        try_import(&oversized).unwrap_err(),
        SnapshotError::Oversized { index: 1, .. }
    ));
    // An unknown kind.
    let mut unknown = snapshot.clone();
    unknown[a.0] = 9;
    assert!(matches!(
        try_import(&unknown).unwrap_err(),
        SnapshotError::BadKind { index: 1, .. }
    ));
    // Another version; another magic.
    let mut version = snapshot.clone();
    version[9] = 2;
    assert!(matches!(
        try_import(&version).unwrap_err(),
        SnapshotError::UnsupportedVersion(2)
    ));
    let mut magic = snapshot.clone();
    magic[0] = b'X';
    assert!(matches!(
        try_import(&magic).unwrap_err(),
        SnapshotError::BadMagic
    ));
    // Bytes after the end chunk.
    let mut padded = snapshot.clone();
    padded.push(0);
    assert!(matches!(
        try_import(&padded).unwrap_err(),
        SnapshotError::BadEnd(_)
    ));
    assert!(!target.path().join("chain.redb").exists());
    // And the untouched snapshot still imports.
    try_import(&snapshot).unwrap();
}

#[test]
fn an_existing_store_is_never_overwritten_and_an_interrupted_import_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let (source, hashes) = chain(&dir.path().join("source.redb"), 100, 2);
    let snapshot = snapshot_of(&source);
    let target = tempfile::tempdir().unwrap();
    let path = target.path().join("chain.redb");
    // What a killed import leaves: a partial store file.
    std::fs::write(temporary_path(&path), b"half a store").unwrap();
    import(&snapshot[..], &path, CHAIN_ID, Trusted::block(hashes[2])).unwrap();
    assert!(!temporary_path(&path).exists());
    let before = std::fs::read(&path).unwrap();
    let error = import(&snapshot[..], &path, CHAIN_ID, Trusted::block(hashes[2])).unwrap_err();
    assert!(matches!(error, SnapshotError::StoreExists(_)), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn export_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = chain(&dir.path().join("source.redb"), 500, 3);
    assert_eq!(snapshot_of(&source), snapshot_of(&source));
}

/// Accepts `left` bytes, then fails every write.
struct FailingOutput {
    left: usize,
}

impl std::io::Write for FailingOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_export_whose_output_fails_stops_with_the_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = chain(&dir.path().join("source.redb"), 10_000, 3);
    let snapshot = snapshot_of(&source);
    let layout = chunks(&snapshot);
    let trie_chunks: Vec<_> = layout.iter().filter(|c| c.1 == 5).collect();
    // More than one trie-node chunk: the first is written from within the trie walk.
    assert!(trie_chunks.len() > 1, "{layout:?}");
    let accounts = layout.iter().find(|c| c.1 == 2).unwrap();
    // Failing in the header, in the accounts, in the first trie-node chunk, in the end chunk.
    for left in [
        10,
        accounts.0 + 20,
        trie_chunks[0].0 + 20,
        snapshot.len() - 10,
    ] {
        let error = export(&source, CHAIN_ID, FailingOutput { left }).unwrap_err();
        assert!(
            matches!(&error, SnapshotError::Write(e) if e.to_string() == "disk full"),
            "at byte {left}: {error:?}"
        );
        assert_eq!(error.to_string(), "writing the snapshot: disk full");
    }
}
