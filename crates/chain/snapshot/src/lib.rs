//! State snapshots of the aegis chain store.
//!
//! A snapshot is the whole state at one block (accounts, storage, code and the trie nodes that
//! prove them) plus the last [`HISTORY`] blocks before it (headers for `BLOCKHASH` and the rollup
//! node's walk back, bodies and receipts for RPC). [`export`] streams it out of a store under one
//! read transaction; [`import`] streams it into a new store file beside the target, proves the
//! state against a block hash the caller trusts, and only then renames the file into place, so
//! a datadir is never left half-written and an interrupted import simply starts again. Memory
//! stays bounded by one chunk whatever the state size.
//!
//! # Format v1
//!
//! All integers big-endian.
//!
//! ```text
//! snapshot = header ‖ chunk* ‖ end-chunk
//! header   = "AEGISSNP" ‖ version u16 (= 1) ‖ chain id u64 ‖ block number u64
//!          ‖ block hash (32) ‖ state root (32)                                     (90 bytes)
//! chunk    = kind u8 ‖ index u32 ‖ records u32 ‖ length u32 ‖ payload ‖ checksum (32)
//! checksum = keccak256(keccak256(header) ‖ kind ‖ index ‖ records ‖ length ‖ payload)
//! ```
//!
//! Chunks are numbered from 0 without gaps, their kinds never decrease, and a payload is at most
//! [`MAX_CHUNK_PAYLOAD`] bytes. The checksum names the snapshot (through its header), so a chunk
//! cannot be moved between snapshots either. Record layouts by kind:
//!
//! | kind | name        | record                                                            |
//! |------|-------------|-------------------------------------------------------------------|
//! | 1    | blocks      | u32 len ‖ header RLP ‖ u32 len ‖ body ‖ u32 len ‖ receipts         |
//! | 2    | accounts    | address (20) ‖ nonce u64 ‖ balance (32) ‖ code hash ‖ storage root |
//! | 3    | storage     | address (20) ‖ keccak256(slot) (32) ‖ value (32, non-zero)        |
//! | 4    | code        | u32 len ‖ code                                                    |
//! | 5    | trie nodes  | u32 len ‖ node RLP                                                |
//! | 255  | end         | totals u64 × 5: blocks, accounts, slots, codes, trie nodes         |
//!
//! Blocks come oldest first and end with the snapshot's block; accounts by address, storage by
//! (address, hashed slot), both strictly increasing. Code and trie nodes are stored under the
//! keccak256 the importer computes, so no record can claim a hash it does not have.
//!
//! # Trust
//!
//! An import names the block hash it trusts (from a migration checkpoint whose ML-DSA-87
//! signature the caller checked, or from the operator). The header's block must be it, the last
//! block record must hash to it, and the imported state must be exactly the state under that
//! block's state root ([`aegis_storage::Store::verify_import`]): every trie node present, the flat
//! state equal to the trie. A tampered chunk is refused by its checksum, naming the chunk; a
//! forged chunk with a recomputed checksum is refused by the state proof, naming the account.
//!
//! `testdata/v1-vector.hex` is a complete snapshot of a two-account state (see
//! `tests/vector.rs`), byte for byte.

mod dir;
mod export;
mod format;
mod import;

pub use dir::{SnapshotDir, SnapshotSource};
pub use export::{ExportSummary, export, export_head, export_to_file};
pub use format::{ChunkKind, HISTORY, MAGIC, MAX_CHUNK_PAYLOAD, SnapshotHeader, Totals, VERSION};
pub use import::{ImportSummary, import, import_file, temporary_path};

use alloy_primitives::B256;
use std::path::PathBuf;

/// The block an import trusts: its hash, and the state root a checkpoint signed for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trusted {
    /// The block hash.
    pub block_hash: B256,
    /// The state root, when the trust comes with one (a migration checkpoint).
    pub state_root: Option<B256>,
}

impl Trusted {
    /// Trust in a block hash alone (an operator's, or a header from a node they trust).
    pub fn block(block_hash: B256) -> Self {
        Self {
            block_hash,
            state_root: None,
        }
    }
}

/// Errors of snapshot export and import. Every refusal of a snapshot names what is wrong and,
/// where it is in a chunk, the chunk.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing a file failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The input does not start with the snapshot magic.
    #[error("not an aegis snapshot (bad magic)")]
    BadMagic,
    /// The format version is not one this build reads.
    #[error("snapshot format version {0} is not supported (this build reads version {VERSION})")]
    UnsupportedVersion(u16),
    /// The snapshot is of another chain.
    #[error("snapshot of chain {found}, expected chain {expected}")]
    WrongChain {
        /// The chain the importer serves.
        expected: u64,
        /// The snapshot's chain.
        found: u64,
    },
    /// The snapshot's block is not the trusted one.
    #[error("snapshot of block {found} (number {number}), but the trusted block is {trusted}")]
    Untrusted {
        /// The snapshot's block hash.
        found: B256,
        /// Its number.
        number: u64,
        /// The trusted block hash.
        trusted: B256,
    },
    /// The input ended early.
    #[error("snapshot truncated {0}")]
    Truncated(String),
    /// A chunk is not where the sequence needs it.
    #[error("chunk {found} found where chunk {expected} belongs (chunks reordered or missing)")]
    OutOfOrder {
        /// The index the chunk carries.
        found: u32,
        /// The index expected next.
        expected: u32,
    },
    /// A chunk's kind is unknown or comes after a later kind.
    #[error("chunk {index}: {reason}")]
    BadKind {
        /// The chunk.
        index: u32,
        /// What is wrong.
        reason: String,
    },
    /// A chunk declares a payload over the limit.
    #[error("chunk {index} declares {length} bytes, over the {MAX_CHUNK_PAYLOAD}-byte limit")]
    Oversized {
        /// The chunk.
        index: u32,
        /// Its declared length.
        length: u32,
    },
    /// A chunk's checksum does not match its contents.
    #[error("chunk {index} ({kind}): checksum mismatch, the chunk is corrupt")]
    Checksum {
        /// The chunk.
        index: u32,
        /// Its kind.
        kind: ChunkKind,
    },
    /// A chunk's records do not decode or break the format's ordering rules.
    #[error("chunk {index} ({kind}): {reason}")]
    BadRecord {
        /// The chunk.
        index: u32,
        /// Its kind.
        kind: ChunkKind,
        /// What is wrong.
        reason: String,
    },
    /// The end chunk's totals disagree with the chunks read, or data follows it.
    #[error("snapshot end: {0}")]
    BadEnd(String),
    /// The state does not prove out against the trusted block.
    #[error("the snapshot's state does not match block {block}: {reason}")]
    StateMismatch {
        /// The trusted block.
        block: B256,
        /// What differs.
        reason: String,
    },
    /// The import target already holds a chain store.
    #[error("{0} already exists: import into an empty datadir (move the old store away first)")]
    StoreExists(PathBuf),
    /// Writing the snapshot out failed (export; [`export_to_file`] names the file instead).
    #[error("writing the snapshot: {0}")]
    Write(std::io::Error),
    /// A record is too large for one chunk (export).
    #[error("a {kind} record of {length} bytes does not fit a chunk")]
    RecordTooLarge {
        /// The record's kind.
        kind: ChunkKind,
        /// Its size.
        length: usize,
    },
    /// The chain store failed.
    #[error(transparent)]
    Storage(#[from] aegis_storage::StorageError),
}

impl SnapshotError {
    pub(crate) fn io(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}
