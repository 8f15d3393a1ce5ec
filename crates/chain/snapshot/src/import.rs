//! Streaming, verified, crash-safe import into a new store file.

use crate::{
    SnapshotError, Trusted,
    format::{
        ChunkKind, END_LEN, FRAME_LEN, Frame, MAX_CHUNK_PAYLOAD, Records, SnapshotHeader, Totals,
    },
};
use aegis_storage::{Store, StoredBlock};
use alloy_primitives::{Address, B256};
use std::{
    io::{ErrorKind, Read},
    path::{Path, PathBuf},
};

/// The import's page cache: it writes each record once and verifies in one pass, so a small
/// cache costs little time and keeps its memory bounded whatever the state size.
const IMPORT_CACHE_BYTES: usize = 128 << 20;

/// What an import wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    /// The snapshot's header.
    pub header: SnapshotHeader,
    /// Records by kind.
    pub totals: Totals,
    /// Bytes read.
    pub bytes: u64,
}

/// The file a snapshot is written to or imported into before it is renamed to `path`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

pub(crate) fn sync_parent(path: &Path) -> Result<(), SnapshotError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SnapshotError::io(dir, e))
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on end of input before the first byte.
fn read_full(input: &mut impl Read, buf: &mut [u8], bytes: &mut u64) -> std::io::Result<bool> {
    let mut read = 0;
    while read < buf.len() {
        match input.read(&mut buf[read..]) {
            Ok(0) if read == 0 => return Ok(false),
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => read += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    *bytes += buf.len() as u64;
    Ok(true)
}

/// Imports the snapshot read from `input` as the chain store `store_path` of chain `chain_id`,
/// trusting only block `trusted`. The store is built in [`temporary_path`]`(store_path)` (any
/// leftover of an interrupted import there is discarded first), proven against the trusted block,
/// synced, and renamed into place: `store_path` is never half-written.
pub fn import(
    input: impl Read,
    store_path: &Path,
    chain_id: u64,
    trusted: Trusted,
) -> Result<ImportSummary, SnapshotError> {
    if store_path.exists() {
        return Err(SnapshotError::StoreExists(store_path.to_path_buf()));
    }
    let partial = temporary_path(store_path);
    if partial.exists() {
        tracing::info!(target: "aegis::snapshot", path = %partial.display(), "discarding an interrupted import");
        std::fs::remove_file(&partial).map_err(|e| SnapshotError::io(&partial, e))?;
    }
    let summary = {
        let store = Store::open_with_cache(&partial, IMPORT_CACHE_BYTES)?;
        let outcome = load(input, &store, chain_id, trusted);
        drop(store);
        match outcome {
            Ok(summary) => summary,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        }
    };
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| SnapshotError::io(&partial, e))?;
    std::fs::rename(&partial, store_path).map_err(|e| SnapshotError::io(store_path, e))?;
    sync_parent(store_path)?;
    Ok(summary)
}

/// [`import`] from a file.
pub fn import_file(
    snapshot: &Path,
    store_path: &Path,
    chain_id: u64,
    trusted: Trusted,
) -> Result<ImportSummary, SnapshotError> {
    let file = std::fs::File::open(snapshot).map_err(|e| SnapshotError::io(snapshot, e))?;
    import(
        std::io::BufReader::with_capacity(1 << 20, file),
        store_path,
        chain_id,
        trusted,
    )
    .map_err(|e| match e {
        SnapshotError::Io { path, reason } if path.as_os_str() == "<input>" => {
            SnapshotError::io(snapshot, reason)
        }
        e => e,
    })
}

fn input_error(e: std::io::Error) -> SnapshotError {
    SnapshotError::io(Path::new("<input>"), e)
}

/// Reads, checks and writes every chunk, then proves the state.
fn load(
    mut input: impl Read,
    store: &Store,
    chain_id: u64,
    trusted: Trusted,
) -> Result<ImportSummary, SnapshotError> {
    let mut bytes = 0u64;
    let mut head = [0u8; SnapshotHeader::LEN];
    match read_full(&mut input, &mut head, &mut bytes) {
        Ok(true) => {}
        Ok(false) => return Err(SnapshotError::Truncated("before its header".into())),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
            return Err(SnapshotError::Truncated("in its header".into()));
        }
        Err(e) => return Err(input_error(e)),
    }
    let header = SnapshotHeader::decode(&head)?;
    if header.chain_id != chain_id {
        return Err(SnapshotError::WrongChain {
            expected: chain_id,
            found: header.chain_id,
        });
    }
    if header.block_hash != trusted.block_hash {
        return Err(SnapshotError::Untrusted {
            found: header.block_hash,
            number: header.block_number,
            trusted: trusted.block_hash,
        });
    }
    if let Some(root) = trusted.state_root.filter(|root| *root != header.state_root) {
        return Err(SnapshotError::StateMismatch {
            block: header.block_hash,
            reason: format!(
                "the snapshot claims state root {}, the checkpoint signed {root}",
                header.state_root
            ),
        });
    }
    let id = header.id();
    let mut totals = Totals::default();
    let mut expected_index = 0u32;
    let mut last_kind: Option<ChunkKind> = None;
    let mut payload = Vec::new();
    let mut cursor = Cursor::default();
    loop {
        let mut frame = [0u8; FRAME_LEN];
        let after = match expected_index {
            0 => "before its first chunk".to_string(),
            n => format!("after chunk {}", n - 1),
        };
        match read_full(&mut input, &mut frame, &mut bytes) {
            Ok(true) => {}
            Ok(false) => return Err(SnapshotError::Truncated(format!("{after}: no end chunk"))),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(SnapshotError::Truncated(format!(
                    "in the framing of chunk {expected_index}"
                )));
            }
            Err(e) => return Err(input_error(e)),
        }
        let frame = Frame::decode(&frame);
        if frame.index != expected_index {
            return Err(SnapshotError::OutOfOrder {
                found: frame.index,
                expected: expected_index,
            });
        }
        let index = frame.index;
        let kind = ChunkKind::from_byte(frame.kind).ok_or_else(|| SnapshotError::BadKind {
            index,
            reason: format!("unknown kind {}", frame.kind),
        })?;
        if let Some(last) = last_kind.filter(|last| *last > kind) {
            return Err(SnapshotError::BadKind {
                index,
                reason: format!("{kind} after {last}: chunks reordered"),
            });
        }
        if frame.length > MAX_CHUNK_PAYLOAD {
            return Err(SnapshotError::Oversized {
                index,
                length: frame.length,
            });
        }
        payload.resize(frame.length as usize + 32, 0);
        match read_full(&mut input, &mut payload, &mut bytes) {
            Ok(true) => {}
            Ok(false) => {
                return Err(SnapshotError::Truncated(format!(
                    "in chunk {index} ({kind})"
                )));
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(SnapshotError::Truncated(format!(
                    "in chunk {index} ({kind})"
                )));
            }
            Err(e) => return Err(input_error(e)),
        }
        let (body, checksum) = payload.split_at(frame.length as usize);
        if frame.checksum(&id, body) != B256::from_slice(checksum) {
            return Err(SnapshotError::Checksum { index, kind });
        }
        let bad = |reason: String| SnapshotError::BadRecord {
            index,
            kind,
            reason,
        };
        if kind == ChunkKind::End {
            if frame.records != 0 || body.len() != END_LEN {
                return Err(bad(format!(
                    "an end chunk holds {END_LEN} bytes and no records"
                )));
            }
            let declared = Totals::decode(body).expect("length checked");
            if declared != totals {
                return Err(SnapshotError::BadEnd(format!(
                    "it declares {declared:?}, the chunks held {totals:?}"
                )));
            }
            let mut extra = [0u8; 1];
            if input.read(&mut extra).map_err(input_error)? != 0 {
                return Err(SnapshotError::BadEnd("data follows the end chunk".into()));
            }
            break;
        }
        cursor
            .write_chunk(store, kind, frame.records, body)
            .map_err(bad)?;
        totals.add(kind, u64::from(frame.records));
        last_kind = Some(kind);
        expected_index += 1;
    }
    if cursor.last_block != Some(header.block_hash) {
        return Err(SnapshotError::StateMismatch {
            block: header.block_hash,
            reason: "the last block record is not the snapshot's block".into(),
        });
    }
    if cursor.last_state_root != Some(header.state_root) {
        return Err(SnapshotError::StateMismatch {
            block: header.block_hash,
            reason: "the snapshot header's state root is not its block's".into(),
        });
    }
    store.finish_import(&header.block_hash)?;
    let state =
        store
            .verify_import(&header.block_hash)
            .map_err(|e| SnapshotError::StateMismatch {
                block: header.block_hash,
                reason: e.to_string(),
            })?;
    if state.accounts != totals.accounts || state.slots != totals.slots {
        return Err(SnapshotError::StateMismatch {
            block: header.block_hash,
            reason: format!(
                "{} accounts and {} slots proven, {} and {} imported",
                state.accounts, state.slots, totals.accounts, totals.slots
            ),
        });
    }
    Ok(ImportSummary {
        header,
        totals,
        bytes,
    })
}

/// Ordering state across chunks: records must be strictly increasing within a kind.
#[derive(Default)]
struct Cursor {
    last_account: Option<Address>,
    last_slot: Option<(Address, B256)>,
    last_block: Option<B256>,
    last_number: Option<u64>,
    last_state_root: Option<B256>,
}

impl Cursor {
    fn write_chunk(
        &mut self,
        store: &Store,
        kind: ChunkKind,
        records: u32,
        payload: &[u8],
    ) -> Result<(), String> {
        let mut reader = Records::new(payload);
        let store_error = |e: aegis_storage::StorageError| e.to_string();
        let count = records as usize;
        // Never trust the declared count for an allocation: it is checked against the payload.
        let mut decoded = 0usize;
        let mut next = || -> Result<(), String> {
            decoded += 1;
            if decoded > count {
                return Err(format!("more records than the {count} declared"));
            }
            Ok(())
        };
        match kind {
            ChunkKind::Blocks => {
                let mut blocks = Vec::new();
                while !reader.is_empty() {
                    next()?;
                    let block: StoredBlock = reader.block()?;
                    let hash = block.header.hash_slow();
                    if let Some((last, number)) = self.last_block.zip(self.last_number)
                        && (block.header.parent_hash != last || block.header.number != number + 1)
                    {
                        return Err(format!(
                            "block {hash} (number {}) does not follow block {last} (number {number})",
                            block.header.number
                        ));
                    }
                    self.last_block = Some(hash);
                    self.last_number = Some(block.header.number);
                    self.last_state_root = Some(block.header.state_root);
                    blocks.push(block);
                }
                check_count(decoded, count)?;
                store.import_blocks(&blocks).map_err(store_error)
            }
            ChunkKind::Accounts => {
                let mut accounts = Vec::with_capacity(payload.len() / 124);
                while !reader.is_empty() {
                    next()?;
                    let (address, account) = reader.account()?;
                    if self.last_account.is_some_and(|last| last >= address) {
                        return Err(format!("account {address} out of order"));
                    }
                    self.last_account = Some(address);
                    accounts.push((address, account));
                }
                check_count(decoded, count)?;
                store.import_accounts(&accounts).map_err(store_error)
            }
            ChunkKind::Storage => {
                let mut slots = Vec::with_capacity(payload.len() / 84);
                while !reader.is_empty() {
                    next()?;
                    let (address, slot, value) = reader.slot()?;
                    if self.last_slot.is_some_and(|last| last >= (address, slot)) {
                        return Err(format!("slot {slot} of {address} out of order"));
                    }
                    self.last_slot = Some((address, slot));
                    slots.push((address, slot, value));
                }
                check_count(decoded, count)?;
                store.import_slots(&slots).map_err(store_error)
            }
            ChunkKind::Code | ChunkKind::TrieNodes => {
                let mut items = Vec::new();
                while !reader.is_empty() {
                    next()?;
                    items.push(if kind == ChunkKind::Code {
                        reader.code()?
                    } else {
                        reader.trie_node()?
                    });
                }
                check_count(decoded, count)?;
                if kind == ChunkKind::Code {
                    store.import_codes(items).map_err(store_error)
                } else {
                    store.import_trie_nodes(items).map_err(store_error)
                }
            }
            ChunkKind::End => Err("an end chunk among the data".into()),
        }
    }
}

fn check_count(decoded: usize, declared: usize) -> Result<(), String> {
    if decoded != declared {
        return Err(format!("{decoded} records, {declared} declared"));
    }
    Ok(())
}
