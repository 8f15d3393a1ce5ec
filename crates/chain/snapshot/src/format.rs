//! The byte format: header, chunk framing and record codecs (see the crate docs).

use crate::SnapshotError;
use aegis_storage::{Account, StoredBlock};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::{Decodable, Encodable};

/// The first bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"AEGISSNP";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// The largest chunk payload, in bytes.
pub const MAX_CHUNK_PAYLOAD: u32 = 16 << 20;
/// Blocks before (and including) the snapshot's block that it carries: what `BLOCKHASH` reaches.
pub const HISTORY: u64 = 256;
/// The payload size at which the exporter closes a chunk.
pub(crate) const TARGET_CHUNK_PAYLOAD: usize = 1 << 20;
/// Bytes of a chunk's framing before the payload.
pub(crate) const FRAME_LEN: usize = 13;
/// Bytes of the end chunk's payload.
pub(crate) const END_LEN: usize = 40;
/// The largest trie node (a branch with 16 hashes is 532 bytes).
const MAX_NODE: usize = 1024;

const ACCOUNT_LEN: usize = 20 + 8 + 32 + 32 + 32;
const SLOT_LEN: usize = 20 + 32 + 32;

/// What a chunk holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ChunkKind {
    /// Headers, bodies and receipts.
    Blocks = 1,
    /// Flat accounts.
    Accounts = 2,
    /// Non-zero storage slots.
    Storage = 3,
    /// Contract code.
    Code = 4,
    /// Trie nodes.
    TrieNodes = 5,
    /// Totals; the last chunk.
    End = 255,
}

impl ChunkKind {
    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            1 => Self::Blocks,
            2 => Self::Accounts,
            3 => Self::Storage,
            4 => Self::Code,
            5 => Self::TrieNodes,
            255 => Self::End,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ChunkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Blocks => "blocks",
            Self::Accounts => "accounts",
            Self::Storage => "storage",
            Self::Code => "code",
            Self::TrieNodes => "trie nodes",
            Self::End => "end",
        })
    }
}

/// The snapshot's first 90 bytes: what it is a snapshot of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The L2 chain id.
    pub chain_id: u64,
    /// The block number.
    pub block_number: u64,
    /// The block hash.
    pub block_hash: B256,
    /// The block's state root.
    pub state_root: B256,
}

impl SnapshotHeader {
    /// Encoded length.
    pub const LEN: usize = 8 + 2 + 8 + 8 + 32 + 32;

    /// The header's bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(&MAGIC);
        out[8..10].copy_from_slice(&VERSION.to_be_bytes());
        out[10..18].copy_from_slice(&self.chain_id.to_be_bytes());
        out[18..26].copy_from_slice(&self.block_number.to_be_bytes());
        out[26..58].copy_from_slice(self.block_hash.as_slice());
        out[58..].copy_from_slice(self.state_root.as_slice());
        out
    }

    /// Parses a header, refusing another magic or version.
    pub fn decode(bytes: &[u8; Self::LEN]) -> Result<Self, SnapshotError> {
        if bytes[..8] != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(SnapshotError::UnsupportedVersion(version));
        }
        Ok(Self {
            chain_id: u64::from_be_bytes(bytes[10..18].try_into().expect("8 bytes")),
            block_number: u64::from_be_bytes(bytes[18..26].try_into().expect("8 bytes")),
            block_hash: B256::from_slice(&bytes[26..58]),
            state_root: B256::from_slice(&bytes[58..]),
        })
    }

    /// keccak256 of the encoded header: what every chunk checksum starts from.
    pub fn id(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The framing of a chunk before its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) kind: u8,
    pub(crate) index: u32,
    pub(crate) records: u32,
    pub(crate) length: u32,
}

impl Frame {
    pub(crate) fn encode(&self) -> [u8; FRAME_LEN] {
        let mut out = [0u8; FRAME_LEN];
        out[0] = self.kind;
        out[1..5].copy_from_slice(&self.index.to_be_bytes());
        out[5..9].copy_from_slice(&self.records.to_be_bytes());
        out[9..].copy_from_slice(&self.length.to_be_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8; FRAME_LEN]) -> Self {
        let u32_at = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        Self {
            kind: bytes[0],
            index: u32_at(1),
            records: u32_at(5),
            length: u32_at(9),
        }
    }

    pub(crate) fn checksum(&self, snapshot_id: &B256, payload: &[u8]) -> B256 {
        let mut hasher = alloy_primitives::Keccak256::new();
        hasher.update(snapshot_id);
        hasher.update(self.encode());
        hasher.update(payload);
        hasher.finalize()
    }
}

/// Totals carried by the end chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Block records.
    pub blocks: u64,
    /// Account records.
    pub accounts: u64,
    /// Storage records.
    pub slots: u64,
    /// Code records.
    pub codes: u64,
    /// Trie node records.
    pub trie_nodes: u64,
}

impl Totals {
    pub(crate) fn encode(&self) -> [u8; END_LEN] {
        let mut out = [0u8; END_LEN];
        for (i, v) in [
            self.blocks,
            self.accounts,
            self.slots,
            self.codes,
            self.trie_nodes,
        ]
        .into_iter()
        .enumerate()
        {
            out[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != END_LEN {
            return None;
        }
        let at = |i: usize| u64::from_be_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8"));
        Some(Self {
            blocks: at(0),
            accounts: at(1),
            slots: at(2),
            codes: at(3),
            trie_nodes: at(4),
        })
    }

    pub(crate) fn add(&mut self, kind: ChunkKind, records: u64) {
        match kind {
            ChunkKind::Blocks => self.blocks += records,
            ChunkKind::Accounts => self.accounts += records,
            ChunkKind::Storage => self.slots += records,
            ChunkKind::Code => self.codes += records,
            ChunkKind::TrieNodes => self.trie_nodes += records,
            ChunkKind::End => {}
        }
    }
}

// --- records -----------------------------------------------------------------------------

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

pub(crate) fn encode_block(block: &StoredBlock, out: &mut Vec<u8>) {
    let mut rlp = Vec::with_capacity(600);
    block.header.encode(&mut rlp);
    put_bytes(out, &rlp);
    put_bytes(out, &block.body);
    put_bytes(out, &block.receipts);
}

pub(crate) fn encode_account(address: &Address, account: &Account, out: &mut Vec<u8>) {
    out.extend_from_slice(address.as_slice());
    out.extend_from_slice(&account.nonce.to_be_bytes());
    out.extend_from_slice(&account.balance.to_be_bytes::<32>());
    out.extend_from_slice(account.code_hash.as_slice());
    out.extend_from_slice(account.storage_root.as_slice());
}

pub(crate) fn encode_slot(address: &Address, slot: &B256, value: &U256, out: &mut Vec<u8>) {
    out.extend_from_slice(address.as_slice());
    out.extend_from_slice(slot.as_slice());
    out.extend_from_slice(&value.to_be_bytes::<32>());
}

pub(crate) fn encode_blob(bytes: &[u8], out: &mut Vec<u8>) {
    put_bytes(out, bytes);
}

/// Reads records off a chunk payload.
pub(crate) struct Records<'a> {
    buf: &'a [u8],
}

impl<'a> Records<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err(format!(
                "a record needs {n} bytes, {} remain",
                self.buf.len()
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn bytes(&mut self, limit: usize) -> Result<&'a [u8], String> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize;
        if len > limit {
            return Err(format!("a {len}-byte item, over the {limit}-byte limit"));
        }
        self.take(len)
    }

    pub(crate) fn block(&mut self) -> Result<StoredBlock, String> {
        let mut rlp = self.bytes(MAX_CHUNK_PAYLOAD as usize)?;
        let header = Header::decode(&mut rlp).map_err(|e| format!("a header: {e}"))?;
        if !rlp.is_empty() {
            return Err("bytes after a header".into());
        }
        Ok(StoredBlock {
            header,
            body: self.bytes(MAX_CHUNK_PAYLOAD as usize)?.to_vec(),
            receipts: self.bytes(MAX_CHUNK_PAYLOAD as usize)?.to_vec(),
        })
    }

    pub(crate) fn account(&mut self) -> Result<(Address, Account), String> {
        let b = self.take(ACCOUNT_LEN)?;
        Ok((
            Address::from_slice(&b[..20]),
            Account {
                nonce: u64::from_be_bytes(b[20..28].try_into().expect("8 bytes")),
                balance: U256::from_be_slice(&b[28..60]),
                code_hash: B256::from_slice(&b[60..92]),
                storage_root: B256::from_slice(&b[92..]),
            },
        ))
    }

    pub(crate) fn slot(&mut self) -> Result<(Address, B256, U256), String> {
        let b = self.take(SLOT_LEN)?;
        let value = U256::from_be_slice(&b[52..]);
        if value.is_zero() {
            return Err("a zero storage value".into());
        }
        Ok((
            Address::from_slice(&b[..20]),
            B256::from_slice(&b[20..52]),
            value,
        ))
    }

    pub(crate) fn code(&mut self) -> Result<&'a [u8], String> {
        self.bytes(MAX_CHUNK_PAYLOAD as usize)
    }

    pub(crate) fn trie_node(&mut self) -> Result<&'a [u8], String> {
        let node = self.bytes(MAX_NODE)?;
        if node.is_empty() {
            return Err("an empty trie node".into());
        }
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn header_round_trips(chain_id: u64, number: u64, hash: [u8; 32], root: [u8; 32]) {
            let header = SnapshotHeader {
                chain_id,
                block_number: number,
                block_hash: hash.into(),
                state_root: root.into(),
            };
            prop_assert_eq!(SnapshotHeader::decode(&header.encode()).unwrap(), header);
        }

        #[test]
        fn arbitrary_records_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for kind in 0..5 {
                let mut records = Records::new(&bytes);
                while !records.is_empty() {
                    let step = match kind {
                        0 => records.block().map(|_| ()),
                        1 => records.account().map(|_| ()),
                        2 => records.slot().map(|_| ()),
                        3 => records.code().map(|_| ()),
                        _ => records.trie_node().map(|_| ()),
                    };
                    if step.is_err() {
                        break;
                    }
                }
            }
            let _ = Totals::decode(&bytes);
            if let Ok(header) = <[u8; SnapshotHeader::LEN]>::try_from(&bytes[..bytes.len().min(SnapshotHeader::LEN)]) {
                let _ = SnapshotHeader::decode(&header);
            }
        }
    }

    #[test]
    fn another_magic_or_version_is_refused() {
        let header = SnapshotHeader {
            chain_id: 901,
            block_number: 1,
            block_hash: B256::ZERO,
            state_root: B256::ZERO,
        };
        let mut bytes = header.encode();
        bytes[9] = 2;
        assert!(matches!(
            SnapshotHeader::decode(&bytes),
            Err(SnapshotError::UnsupportedVersion(2))
        ));
        bytes[0] = b'X';
        assert!(matches!(
            SnapshotHeader::decode(&bytes),
            Err(SnapshotError::BadMagic)
        ));
    }
}
