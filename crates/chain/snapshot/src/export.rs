//! Streaming export of a store's head state.

use crate::{
    SnapshotError,
    format::{
        self, ChunkKind, Frame, HISTORY, MAX_CHUNK_PAYLOAD, SnapshotHeader, TARGET_CHUNK_PAYLOAD,
        Totals,
    },
};
use aegis_storage::{EMPTY_CODE_HASH, HeadReader, Store};
use alloy_primitives::B256;
use std::{collections::BTreeSet, io::Write, path::Path};

/// What an export wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    /// The snapshot's header.
    pub header: SnapshotHeader,
    /// Records by kind.
    pub totals: Totals,
    /// Chunks, the end chunk included.
    pub chunks: u32,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes chunks: buffers one kind's records up to the target size, frames and checksums them.
struct ChunkWriter<W: Write> {
    out: W,
    id: B256,
    kind: ChunkKind,
    payload: Vec<u8>,
    records: u32,
    next_index: u32,
    totals: Totals,
    bytes: u64,
}

impl<W: Write> ChunkWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        self.out.write_all(bytes).map_err(SnapshotError::Write)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Appends one record of `kind` (encoded by `encode`), closing the chunk when full.
    fn record(
        &mut self,
        kind: ChunkKind,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), SnapshotError> {
        if kind != self.kind {
            self.flush()?;
            self.kind = kind;
        }
        let before = self.payload.len();
        encode(&mut self.payload);
        if self.payload.len() > MAX_CHUNK_PAYLOAD as usize {
            return Err(SnapshotError::RecordTooLarge {
                kind,
                length: self.payload.len() - before,
            });
        }
        self.records += 1;
        self.totals.add(kind, 1);
        if self.payload.len() >= TARGET_CHUNK_PAYLOAD {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SnapshotError> {
        if self.records == 0 && self.kind != ChunkKind::End {
            return Ok(());
        }
        let frame = Frame {
            kind: self.kind as u8,
            index: self.next_index,
            records: self.records,
            length: self.payload.len() as u32,
        };
        let checksum = frame.checksum(&self.id, &self.payload);
        let payload = std::mem::take(&mut self.payload);
        self.write(&frame.encode())?;
        self.write(&payload)?;
        self.write(checksum.as_slice())?;
        self.payload = payload;
        self.payload.clear();
        self.records = 0;
        self.next_index += 1;
        Ok(())
    }
}

/// Streams the head state of `store` (chain `chain_id`) to `out` in format v1. The store may be
/// in use: the export reads one consistent read transaction, whatever is committed meanwhile.
pub fn export(
    store: &Store,
    chain_id: u64,
    out: impl Write,
) -> Result<ExportSummary, SnapshotError> {
    export_head(&store.head_reader()?, chain_id, out)
}

/// [`export`] of a head already frozen (e.g. the block a checkpoint was just taken of).
pub fn export_head(
    reader: &HeadReader,
    chain_id: u64,
    out: impl Write,
) -> Result<ExportSummary, SnapshotError> {
    let header = SnapshotHeader {
        chain_id,
        block_number: reader.header().number,
        block_hash: reader.head_hash(),
        state_root: reader.header().state_root,
    };
    let mut writer = ChunkWriter {
        out,
        id: header.id(),
        kind: ChunkKind::Blocks,
        payload: Vec::with_capacity(TARGET_CHUNK_PAYLOAD + 4096),
        records: 0,
        next_index: 0,
        totals: Totals::default(),
        bytes: 0,
    };
    writer.write(&header.encode())?;
    reader.for_each_recent_block(HISTORY, &mut |block| {
        writer.record(ChunkKind::Blocks, |out| format::encode_block(&block, out))
    })?;
    // The codes the accounts use, gathered on the way: one hash per distinct contract code.
    let mut codes = BTreeSet::new();
    reader.for_each_account(&mut |address, account| {
        if account.code_hash != EMPTY_CODE_HASH {
            codes.insert(account.code_hash);
        }
        writer.record(ChunkKind::Accounts, |out| {
            format::encode_account(&address, &account, out)
        })
    })?;
    reader.for_each_slot(&mut |address, slot, value| {
        writer.record(ChunkKind::Storage, |out| {
            format::encode_slot(&address, &slot, &value, out)
        })
    })?;
    reader.for_each_code(codes, &mut |_, code| {
        writer.record(ChunkKind::Code, |out| format::encode_blob(code, out))
    })?;
    reader.for_each_trie_node(&mut |_, rlp| {
        writer.record(ChunkKind::TrieNodes, |out| format::encode_blob(rlp, out))
    })?;
    writer.flush()?;
    writer.kind = ChunkKind::End;
    writer.payload.extend_from_slice(&writer.totals.encode());
    writer.flush()?;
    writer.out.flush().map_err(SnapshotError::Write)?;
    Ok(ExportSummary {
        header,
        totals: writer.totals,
        chunks: writer.next_index,
        bytes: writer.bytes,
    })
}

/// Exports to `path` through a temporary file renamed into place once complete and synced, so
/// `path` is either absent or a whole snapshot.
pub fn export_to_file(
    reader: &HeadReader,
    chain_id: u64,
    path: &Path,
) -> Result<ExportSummary, SnapshotError> {
    let partial = crate::temporary_path(path);
    let file = std::fs::File::create(&partial).map_err(|e| SnapshotError::io(&partial, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let summary = export_head(reader, chain_id, &mut out).map_err(|e| match e {
        SnapshotError::Write(e) => SnapshotError::io(path, e),
        e => e,
    });
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let file = out
        .into_inner()
        .map_err(|e| SnapshotError::io(path, e.error()))?;
    file.sync_all().map_err(|e| SnapshotError::io(path, e))?;
    std::fs::rename(&partial, path).map_err(|e| SnapshotError::io(path, e))?;
    crate::import::sync_parent(path)?;
    Ok(summary)
}
