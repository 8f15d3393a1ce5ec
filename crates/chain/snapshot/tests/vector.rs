//! The format's test vector: `testdata/v1-vector.hex` is the export of a fixed two-account chain
//! (account 0 a contract with code and one slot, account 1 a plain account; genesis and one
//! block), byte for byte. A change to the format must change the version.
//!
//! `AEGIS_UPDATE_VECTORS=1 cargo test -p aegis-snapshot --test vector` rewrites it.

mod support;

use aegis_snapshot::{ChunkKind, SnapshotHeader, Trusted, export, import};
use std::path::Path;

fn vector_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v1-vector.hex")
}

#[test]
fn the_v1_test_vector_is_what_export_writes_and_import_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (store, hashes) = support::chain(&dir.path().join("source.redb"), 2, 1);
    let mut snapshot = Vec::new();
    export(&store, support::CHAIN_ID, &mut snapshot).unwrap();
    let hex = hex::encode(&snapshot)
        .as_bytes()
        .chunks(64)
        .map(|line| String::from_utf8(line.to_vec()).unwrap() + "\n")
        .collect::<String>();
    if std::env::var_os("AEGIS_UPDATE_VECTORS").is_some() {
        std::fs::write(vector_path(), &hex).unwrap();
    }
    let committed = std::fs::read_to_string(vector_path()).unwrap();
    assert_eq!(
        hex, committed,
        "the export no longer matches the v1 test vector"
    );

    let bytes = hex::decode(committed.replace('\n', "")).unwrap();
    let header = SnapshotHeader::decode(bytes[..SnapshotHeader::LEN].try_into().unwrap()).unwrap();
    assert_eq!((header.chain_id, header.block_number), (901, 1));
    assert_eq!(header.block_hash, hashes[1]);
    let kinds: Vec<u8> = support::chunks(&bytes).iter().map(|c| c.1).collect();
    assert_eq!(
        kinds,
        [
            ChunkKind::Blocks,
            ChunkKind::Accounts,
            ChunkKind::Storage,
            ChunkKind::Code,
            ChunkKind::TrieNodes,
            ChunkKind::End
        ]
        .map(|k| k as u8)
    );
    let summary = import(
        &bytes[..],
        &dir.path().join("chain.redb"),
        901,
        Trusted::block(hashes[1]),
    )
    .unwrap();
    assert_eq!(
        (
            summary.totals.blocks,
            summary.totals.accounts,
            summary.totals.slots,
            summary.totals.codes
        ),
        (2, 2, 1, 1)
    );
}
