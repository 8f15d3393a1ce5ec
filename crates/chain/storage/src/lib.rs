//! Crash-safe embedded chain store for the aegis execution engine.
//!
//! One [redb] file holds everything the engine needs to build, import and serve blocks:
//!
//! - **flat state** (accounts, hashed-slot storage, code) at the canonical head, for fast reads
//!   during execution;
//! - **trie nodes** addressed by hash ([`trie`]), so state roots are computed incrementally and
//!   every retained block's state can be read and proven (`eth_getProof`); an archive store
//!   keeps a new version of a branch node as a patch on the one it replaced;
//! - **blocks**: headers, bodies and receipts (bodies and receipts are opaque bytes to this crate),
//!   the canonical number → hash index and the head/safe/finalized labels;
//! - a **changeset** per block (old and new values of everything it changed), which moves the flat
//!   state between blocks on a reorg.
//!
//! Every block commit, and every change of head, is one redb write transaction: after a crash the
//! store is at the last committed head, whole. [`Store::open`] checks the head's invariants and
//! refuses a store that does not meet them, naming the path and the reason.

mod bulk;
mod changeset;
mod node_records;
mod node_refs;
mod prune;
mod store;
pub mod trie;

pub use bulk::{HeadReader, ImportedState, StoredBlock};
pub use changeset::{AccountChange, Changeset, StorageChange};
pub use prune::{HEADERS_BELOW_FLOOR, MIN_HISTORY_BLOCKS, PruneReport};
pub use store::{
    AccountProof, BlockLabel, DEFAULT_CACHE_BYTES, StateUpdate, StateView, StorageProof, Store,
    TableSize,
};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use std::{collections::BTreeMap, path::PathBuf};

/// Errors of the chain store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database file could not be opened or created.
    #[error("cannot open database {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why it could not be opened.
        reason: String,
    },
    /// The database opened but its contents break an invariant.
    #[error("database {path} is inconsistent: {reason}")]
    Inconsistent {
        /// The database file.
        path: PathBuf,
        /// The broken invariant.
        reason: String,
    },
    /// An error from the underlying database.
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// A trie node referenced by hash is not in the store (state pruned or never written).
    #[error("missing trie node {0}")]
    MissingTrieNode(B256),
    /// A stored trie node does not decode.
    #[error("corrupt trie node: {0}")]
    CorruptTrieNode(&'static str),
    /// A stored record does not decode.
    #[error("corrupt {table} record: {reason}")]
    CorruptRecord {
        /// The table holding the record.
        table: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A block that an operation needs is not in the store.
    #[error("unknown block {0}")]
    UnknownBlock(B256),
    /// A head change would revert the block an imported store starts from: no state below it.
    #[error(
        "block {target} is not on the chain above {base}, the block this store was imported at"
    )]
    BelowBase {
        /// The imported base block.
        base: B256,
        /// The requested head.
        target: B256,
    },
    /// A head change needs the changeset of a block whose history was pruned, or a read needs
    /// its state ([`Store::prune_history`]): the block is too old to reorg to, across, or read.
    #[error(
        "the history of block {number} ({block}) was pruned: this store keeps block bodies, \
         receipts, changesets and state from block {below} on"
    )]
    Pruned {
        /// The block whose changeset is gone.
        block: B256,
        /// Its number.
        number: u64,
        /// The lowest block number whose history is kept.
        below: u64,
    },
    /// A read of a block whose body and receipts (or, further down, header and canonical index
    /// entry) were pruned ([`Store::prune_history`]): geth's "pruned history unavailable".
    #[error(
        "pruned history unavailable: block {number} is below this store's history floor \
         {below}"
    )]
    HistoryPruned {
        /// The block number asked for.
        number: u64,
        /// The lowest block number whose history is kept.
        below: u64,
    },
    /// [`Store::prune_history`] was asked to keep fewer blocks than reorgs need.
    #[error(
        "cannot keep only {keep} blocks of history: at least {min} are needed so that reorgs \
         that deep still work"
    )]
    HistoryTooShort {
        /// The number of blocks asked for.
        keep: u64,
        /// [`MIN_HISTORY_BLOCKS`].
        min: u64,
    },
    /// The store already holds a genesis different from the one given.
    #[error("database holds genesis {stored}, but the chain config's genesis is {expected}")]
    GenesisMismatch {
        /// Genesis hash in the store.
        stored: B256,
        /// Genesis hash of the chain configuration.
        expected: B256,
    },
    /// The state root computed from the genesis alloc differs from the genesis header's.
    #[error("genesis state root {computed} does not match header state root {header}")]
    GenesisStateRoot {
        /// Root computed from the alloc.
        computed: B256,
        /// Root in the genesis header.
        header: B256,
    },
}

macro_rules! redb_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                Self::Db(e.into())
            }
        }
    )*};
}
redb_errors!(
    redb::SetDurabilityError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::DatabaseError
);

/// An account as the state trie holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Transaction count / creation nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak256 of the account's code.
    pub code_hash: B256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
}

impl Account {
    const ENCODED_LEN: usize = 8 + 32 + 32 + 32;

    /// The RLP of the account as a trie leaf value: `[nonce, balance, storageRoot, codeHash]`.
    pub fn trie_rlp(&self) -> Vec<u8> {
        use alloy_rlp::Encodable;
        let payload_length = self.nonce.length()
            + self.balance.length()
            + self.storage_root.length()
            + self.code_hash.length();
        let mut out = Vec::with_capacity(payload_length + 2);
        alloy_rlp::Header {
            list: true,
            payload_length,
        }
        .encode(&mut out);
        self.nonce.encode(&mut out);
        self.balance.encode(&mut out);
        self.storage_root.encode(&mut out);
        self.code_hash.encode(&mut out);
        out
    }

    fn from_trie_rlp(mut rlp: &[u8]) -> Result<Self, StorageError> {
        use alloy_rlp::Decodable;
        let bad = |_| StorageError::CorruptTrieNode("account leaf does not decode");
        let header = alloy_rlp::Header::decode(&mut rlp).map_err(bad)?;
        if !header.list {
            return Err(StorageError::CorruptTrieNode("account leaf is not a list"));
        }
        Ok(Self {
            nonce: u64::decode(&mut rlp).map_err(bad)?,
            balance: U256::decode(&mut rlp).map_err(bad)?,
            storage_root: B256::decode(&mut rlp).map_err(bad)?,
            code_hash: B256::decode(&mut rlp).map_err(bad)?,
        })
    }

    fn encode_flat(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[..8].copy_from_slice(&self.nonce.to_be_bytes());
        out[8..40].copy_from_slice(&self.balance.to_be_bytes::<32>());
        out[40..72].copy_from_slice(self.code_hash.as_slice());
        out[72..].copy_from_slice(self.storage_root.as_slice());
        out
    }

    fn decode_flat(bytes: &[u8]) -> Result<Self, StorageError> {
        if bytes.len() != Self::ENCODED_LEN {
            return Err(StorageError::CorruptRecord {
                table: "accounts",
                reason: "wrong record length",
            });
        }
        Ok(Self {
            nonce: u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")),
            balance: U256::from_be_slice(&bytes[8..40]),
            code_hash: B256::from_slice(&bytes[40..72]),
            storage_root: B256::from_slice(&bytes[72..]),
        })
    }
}

/// The post-block values of an account, without its storage root (which the store computes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak256 of the code.
    pub code_hash: B256,
}

/// What one account's execution changed in a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountDiff {
    /// The account after the block, `None` if it no longer exists.
    pub info: Option<AccountInfo>,
    /// All storage from before the block was cleared (the account was destroyed or re-created).
    pub storage_wiped: bool,
    /// Storage slots written, by plain slot key; a zero value deletes the slot.
    pub storage: BTreeMap<U256, U256>,
}

/// Everything a block changed in state, as produced by execution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateDiff {
    /// Changed accounts.
    pub accounts: BTreeMap<Address, AccountDiff>,
    /// New contract code by hash.
    pub codes: BTreeMap<B256, Bytes>,
}

/// keccak256 of the code of an account without code.
pub const EMPTY_CODE_HASH: B256 = alloy_primitives::KECCAK256_EMPTY;

/// The trie key of a storage slot: keccak256 of the slot as 32 big-endian bytes.
pub fn hashed_slot(slot: &U256) -> B256 {
    keccak256(slot.to_be_bytes::<32>())
}
