//! The redb-backed store: tables, state views, block commits and head moves.

use crate::{
    Account, AccountChange, Changeset, EMPTY_CODE_HASH, StateDiff, StorageChange, StorageError,
    StoredBlock, hashed_slot, node_records, node_refs,
    trie::{self, EMPTY_ROOT, NewNodes, NodeSource, Trie},
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::{HashBuilder, Nibbles};
use redb::{
    Database, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition,
    WriteTransaction,
};
use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

type Key20 = &'static [u8; 20];
type Key32 = &'static [u8; 32];

pub(crate) const ACCOUNTS: TableDefinition<'_, Key20, &[u8]> = TableDefinition::new("accounts");
pub(crate) const STORAGE: TableDefinition<'_, &[u8; 52], Key32> = TableDefinition::new("storage");
pub(crate) const CODE: TableDefinition<'_, Key32, &[u8]> = TableDefinition::new("code");
pub(crate) const NODES: TableDefinition<'_, Key32, &[u8]> = TableDefinition::new("trie_nodes");
pub(crate) const HEADERS: TableDefinition<'_, Key32, &[u8]> = TableDefinition::new("headers");
pub(crate) const BODIES: TableDefinition<'_, Key32, &[u8]> = TableDefinition::new("bodies");
pub(crate) const RECEIPTS: TableDefinition<'_, Key32, &[u8]> = TableDefinition::new("receipts");
pub(crate) const CHANGESETS: TableDefinition<'_, Key32, &[u8]> = TableDefinition::new("changesets");
/// Transaction hash → block hash ‖ index (u32 BE); may point at a non-canonical block.
pub(crate) const TX_INDEX: TableDefinition<'_, Key32, &[u8; 36]> = TableDefinition::new("tx_index");
pub(crate) const CANONICAL: TableDefinition<'_, u64, Key32> = TableDefinition::new("canonical");
/// Blocks whose history (body, receipts, changeset, transaction index entries) is still stored,
/// keyed by number (u64 BE) ‖ hash, canonical or not; the value is the concatenated 32-byte
/// hashes of the transactions the block indexed. Written by [`Store::commit_block`], consumed by
/// [`Store::prune_history`]. Stores written before this table existed lack entries for their
/// older blocks.
pub(crate) const BLOCK_TXS: TableDefinition<'_, &[u8; 40], &[u8]> =
    TableDefinition::new("block_txs");
pub(crate) const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");

pub(crate) const META_HEAD: &str = "head";
/// The block an imported store starts from (see [`crate::bulk`]).
pub(crate) const META_BASE: &str = "base";
/// The block an imported store starts from.
pub(crate) fn read_base(txn: &impl Tables) -> Result<Option<B256>, StorageError> {
    txn.get_bytes(META, META_BASE)?
        .map(|b| as32(&b, "meta"))
        .transpose()
}

/// The lowest block number whose history is kept, u64 BE; absent if never pruned (see
/// [`crate::prune`]).
pub(crate) const META_PRUNED_BELOW: &str = "pruned_below";
/// The lowest block number whose header and canonical index entry are kept, u64 BE; absent if
/// no header was pruned (see [`crate::prune`]).
pub(crate) const META_HEADERS_PRUNED_BELOW: &str = "headers_pruned_below";
const META_SCHEMA: &str = "schema";
const SCHEMA_VERSION: &[u8] = b"aegis-store-v1";

/// Named blocks the rollup node moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockLabel {
    /// Derived from L1 data.
    Safe,
    /// Derived from finalized L1 data.
    Finalized,
}

impl BlockLabel {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Finalized => "finalized",
        }
    }
}

/// The persistent chain store. Cheap to share behind an `Arc`; redb serialises writers.
#[derive(Debug)]
pub struct Store {
    pub(crate) db: Database,
    path: PathBuf,
    interior_nodes: Arc<InteriorNodeCache>,
}

/// Interior (branch and extension) trie nodes kept in memory. Every state-root update walks
/// through them, and they are about a third of a trie's nodes, so with them cached an update
/// reads only the leaves it touches from the database and its cost follows the number of keys
/// changed, not the size of the state. Content-addressed, hence never stale; two generations
/// approximate LRU eviction.
#[derive(Debug, Default)]
struct InteriorNodeCache {
    generations: RwLock<[HashMap<B256, Arc<[u8]>>; 2]>,
}

impl InteriorNodeCache {
    /// Entries per generation (a branch node is at most 532 bytes).
    const GENERATION: usize = 1 << 20;

    fn get(&self, hash: &B256) -> Option<Arc<[u8]>> {
        let generations = self.generations.read().ok()?;
        generations[0]
            .get(hash)
            .or_else(|| generations[1].get(hash))
            .cloned()
    }

    fn insert(&self, hash: B256, rlp: &Arc<[u8]>) {
        let Ok(mut generations) = self.generations.write() else {
            return;
        };
        if generations[0].len() >= Self::GENERATION {
            // The older generation goes; what is still used gets re-inserted on its next load.
            generations[1] = std::mem::take(&mut generations[0]);
        }
        generations[0].insert(hash, rlp.clone());
    }
}

/// State changes of one block, ready to commit: the new root, the trie nodes it created and the
/// changeset. Produced by [`Store::prepare_update`].
#[derive(Debug)]
pub struct StateUpdate {
    /// The block whose post-state this update starts from.
    pub parent_hash: B256,
    /// The state root after the update.
    pub state_root: B256,
    changeset: Changeset,
    nodes: NewNodes,
    /// Stored nodes of the parent's state this update replaced (see [`crate::node_refs`]).
    superseded: Vec<B256>,
    /// New branch nodes paired with the stored versions they replace (see
    /// [`crate::node_records`]).
    versions: Vec<(B256, B256)>,
    codes: Vec<(B256, Bytes)>,
}

impl StateUpdate {
    /// The account after the update if the update changed it (`Some(None)`: deleted).
    pub fn changed_account(&self, address: &Address) -> Option<Option<Account>> {
        self.changeset
            .accounts
            .iter()
            .find(|c| c.address == *address)
            .map(|c| c.new)
    }

    /// The old and new values of everything the update changes.
    pub fn changeset(&self) -> &Changeset {
        &self.changeset
    }
}

/// A Merkle proof of one storage slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageProof {
    /// The slot key as requested.
    pub key: B256,
    /// Its value (zero when absent).
    pub value: U256,
    /// Trie nodes from the storage root down.
    pub proof: Vec<Bytes>,
}

/// A Merkle proof of an account and some of its storage, as `eth_getProof` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountProof {
    /// The account.
    pub address: Address,
    /// Its state, `None` when absent (the proof then proves absence).
    pub account: Option<Account>,
    /// Trie nodes from the state root down.
    pub account_proof: Vec<Bytes>,
    /// Storage proofs in request order.
    pub storage: Vec<StorageProof>,
}

fn corrupt(table: &'static str, reason: &'static str) -> StorageError {
    StorageError::CorruptRecord { table, reason }
}

pub(crate) fn decode_header(bytes: &[u8]) -> Result<Header, StorageError> {
    Header::decode(&mut &bytes[..]).map_err(|_| corrupt("headers", "header RLP does not decode"))
}

pub(crate) fn as32(bytes: &[u8], table: &'static str) -> Result<B256, StorageError> {
    (bytes.len() == 32)
        .then(|| B256::from_slice(bytes))
        .ok_or(corrupt(table, "not 32 bytes"))
}

pub(crate) fn storage_key(address: &Address, hashed_slot: &B256) -> [u8; 52] {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(address.as_slice());
    key[20..].copy_from_slice(hashed_slot.as_slice());
    key
}

fn decode_storage_leaf(rlp: &[u8]) -> Result<U256, StorageError> {
    U256::decode(&mut &rlp[..]).map_err(|_| StorageError::CorruptTrieNode("storage leaf"))
}

/// Read access used by both state views and write transactions.
pub(crate) trait Tables {
    fn get_bytes<K: redb::Key + 'static>(
        &self,
        def: TableDefinition<'_, K, &[u8]>,
        key: K::SelfType<'_>,
    ) -> Result<Option<Vec<u8>>, StorageError>;
}

impl Tables for ReadTransaction {
    fn get_bytes<K: redb::Key + 'static>(
        &self,
        def: TableDefinition<'_, K, &[u8]>,
        key: K::SelfType<'_>,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let table = self.open_table(def)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }
}

impl Tables for WriteTransaction {
    fn get_bytes<K: redb::Key + 'static>(
        &self,
        def: TableDefinition<'_, K, &[u8]>,
        key: K::SelfType<'_>,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let table = self.open_table(def)?;
        let value = table.get(key)?.map(|v| v.value().to_vec());
        Ok(value)
    }
}

pub(crate) fn read_head(txn: &impl Tables) -> Result<Option<B256>, StorageError> {
    txn.get_bytes(META, META_HEAD)?
        .map(|b| as32(&b, "meta"))
        .transpose()
}

pub(crate) fn read_header(txn: &impl Tables, hash: &B256) -> Result<Option<Header>, StorageError> {
    txn.get_bytes(HEADERS, &hash.0)?
        .map(|b| decode_header(&b))
        .transpose()
}

/// The lowest block number whose history is kept, `None` if the store was never pruned.
pub(crate) fn read_pruned_below(txn: &impl Tables) -> Result<Option<u64>, StorageError> {
    read_meta_number(txn, META_PRUNED_BELOW)
}

/// A block number kept under `key` in [`META`].
pub(crate) fn read_meta_number(
    txn: &impl Tables,
    key: &'static str,
) -> Result<Option<u64>, StorageError> {
    txn.get_bytes(META, key)?
        .map(|b| {
            <[u8; 8]>::try_from(b.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("meta", "a block number is not 8 bytes"))
        })
        .transpose()
}

/// Fails with [`StorageError::Pruned`] for a block below the history floor: the trie nodes of
/// its state may be gone (see [`crate::node_refs`]). The imported base block's are kept.
fn check_state_kept(txn: &ReadTransaction, hash: &B256, number: u64) -> Result<(), StorageError> {
    match read_pruned_below(txn)? {
        Some(below) if number < below && read_base(txn)? != Some(*hash) => {
            Err(StorageError::Pruned {
                block: *hash,
                number,
                below,
            })
        }
        _ => Ok(()),
    }
}

/// The space one table of a [`Store`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSize {
    /// The table's name.
    pub name: &'static str,
    /// Bytes of its keys and values.
    pub stored_bytes: u64,
    /// Bytes of the B-tree pages holding them (keys, values, index, free space in pages).
    pub page_bytes: u64,
}

/// redb's page size.
const PAGE_BYTES: u64 = 4096;

fn table_size<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    name: &'static str,
    def: TableDefinition<'_, K, V>,
) -> Result<TableSize, StorageError> {
    use redb::ReadableTableMetadata;
    let (stored_bytes, pages) = match txn.open_table(def) {
        Ok(table) => {
            let stats = table.stats()?;
            (
                stats.stored_bytes(),
                stats.leaf_pages() + stats.branch_pages(),
            )
        }
        Err(redb::TableError::TableDoesNotExist(_)) => (0, 0),
        Err(e) => return Err(e.into()),
    };
    Ok(TableSize {
        name,
        stored_bytes,
        page_bytes: pages * PAGE_BYTES,
    })
}

/// The [`BLOCK_TXS`] key of a block: number (BE) ‖ hash, so entries sort by height.
pub(crate) fn block_txs_key(number: u64, hash: &B256) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..8].copy_from_slice(&number.to_be_bytes());
    key[8..].copy_from_slice(hash.as_slice());
    key
}

/// redb's page cache of a node's store: reads of a large state stay in memory.
pub const DEFAULT_CACHE_BYTES: usize = 1 << 30;

impl Store {
    /// Opens (or creates) the store at `path`, checking the head's invariants, with a page cache
    /// of [`DEFAULT_CACHE_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with a page cache of at most `cache_bytes`, which bounds the memory the
    /// store takes beyond what its callers hold (a bulk import needs little: it writes once).
    pub fn open_with_cache(
        path: impl AsRef<Path>,
        cache_bytes: usize,
    ) -> Result<Self, StorageError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |reason: String| StorageError::Open {
            path: path.clone(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(&path)
            .map_err(|e| open_err(e.to_string()))?;
        let init = |db: &Database| -> Result<(), StorageError> {
            let txn = db.begin_write()?;
            Self::init_tables(&txn, &path)?;
            txn.commit()?;
            Ok(())
        };
        init(&db).map_err(|e| open_err(e.to_string()))?;
        let store = Self {
            db,
            path,
            interior_nodes: Arc::default(),
        };
        store.check_head()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init_tables(txn: &WriteTransaction, path: &Path) -> Result<(), StorageError> {
        {
            txn.open_table(ACCOUNTS)?;
            txn.open_table(STORAGE)?;
            txn.open_table(CANONICAL)?;
            txn.open_table(TX_INDEX)?;
            txn.open_table(BLOCK_TXS)?;
            txn.open_table(node_refs::NODE_REFS)?;
            txn.open_table(node_refs::NODE_JOURNAL)?;
            for def in [CODE, NODES, HEADERS, BODIES, RECEIPTS, CHANGESETS] {
                txn.open_table(def)?;
            }
            let mut meta = txn.open_table(META)?;
            let schema = meta.get(META_SCHEMA)?.map(|v| v.value().to_vec());
            match schema {
                None => {
                    meta.insert(META_SCHEMA, SCHEMA_VERSION)?;
                }
                Some(v) if v == SCHEMA_VERSION => {}
                Some(v) => {
                    return Err(StorageError::Inconsistent {
                        path: path.to_path_buf(),
                        reason: format!("unknown schema {:?}", String::from_utf8_lossy(&v)),
                    });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn inconsistent(&self, reason: String) -> StorageError {
        StorageError::Inconsistent {
            path: self.path.clone(),
            reason,
        }
    }

    /// Checks that the head block, its canonical index entry, its state root node and its
    /// changeset are all present.
    fn check_head(&self) -> Result<(), StorageError> {
        let txn = self.db.begin_read()?;
        let Some(head) = read_head(&txn)? else {
            return Ok(());
        };
        let header = read_header(&txn, &head)?
            .ok_or_else(|| self.inconsistent(format!("head block {head} has no header")))?;
        let canonical = txn
            .open_table(CANONICAL)?
            .get(header.number)?
            .map(|v| B256::from(*v.value()));
        if canonical != Some(head) {
            return Err(self.inconsistent(format!(
                "canonical index at {} is {canonical:?}, head is {head}",
                header.number
            )));
        }
        if header.state_root != EMPTY_ROOT && txn.get_bytes(NODES, &header.state_root.0)?.is_none()
        {
            return Err(self.inconsistent(format!(
                "state root {} of head {head} is missing",
                header.state_root
            )));
        }
        if txn.get_bytes(CHANGESETS, &head.0)?.is_none() {
            return Err(self.inconsistent(format!("head {head} has no changeset")));
        }
        Ok(())
    }

    // --- reads ----------------------------------------------------------------------------

    /// Bytes in the pages the store has allocated: what its data occupies. The file can be
    /// larger by the pages freed for reuse; it grows only when these run out. Takes the write
    /// lock for a moment.
    pub fn allocated_bytes(&self) -> Result<u64, StorageError> {
        let txn = self.db.begin_write()?;
        let stats = txn.stats()?;
        txn.abort()?;
        Ok(stats.allocated_pages() * stats.page_size() as u64)
    }

    /// What each table of the store takes: where the file's pages go.
    pub fn table_sizes(&self) -> Result<Vec<TableSize>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(vec![
            table_size(&txn, "accounts", ACCOUNTS)?,
            table_size(&txn, "storage", STORAGE)?,
            table_size(&txn, "code", CODE)?,
            table_size(&txn, "trie_nodes", NODES)?,
            table_size(&txn, "headers", HEADERS)?,
            table_size(&txn, "bodies", BODIES)?,
            table_size(&txn, "receipts", RECEIPTS)?,
            table_size(&txn, "changesets", CHANGESETS)?,
            table_size(&txn, "tx_index", TX_INDEX)?,
            table_size(&txn, "canonical", CANONICAL)?,
            table_size(&txn, "block_txs", BLOCK_TXS)?,
            table_size(&txn, "node_refs", node_refs::NODE_REFS)?,
            table_size(&txn, "node_journal", node_refs::NODE_JOURNAL)?,
            table_size(&txn, "meta", META)?,
        ])
    }

    /// The canonical head block hash, `None` before genesis is written.
    pub fn head_hash(&self) -> Result<Option<B256>, StorageError> {
        read_head(&self.db.begin_read()?)
    }

    /// The canonical head header.
    pub fn head(&self) -> Result<Option<Header>, StorageError> {
        let txn = self.db.begin_read()?;
        match read_head(&txn)? {
            Some(hash) => read_header(&txn, &hash),
            None => Ok(None),
        }
    }

    /// A header by hash.
    pub fn header(&self, hash: &B256) -> Result<Option<Header>, StorageError> {
        read_header(&self.db.begin_read()?, hash)
    }

    /// The canonical block hash at `number`.
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CANONICAL)?;
        Ok(table.get(number)?.map(|v| B256::from(*v.value())))
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors. Walks parent links only
    /// until the canonical chain is reached, then answers from the canonical index.
    pub fn is_ancestor(&self, ancestor: &B256, descendant: &B256) -> Result<bool, StorageError> {
        let txn = self.db.begin_read()?;
        let canonical = txn.open_table(CANONICAL)?;
        let Some(target) = read_header(&txn, ancestor)? else {
            return Ok(false);
        };
        let mut hash = *descendant;
        loop {
            if hash == *ancestor {
                return Ok(true);
            }
            let Some(header) = read_header(&txn, &hash)? else {
                return Ok(false);
            };
            if header.number <= target.number {
                return Ok(false);
            }
            let on_canonical = canonical
                .get(header.number)?
                .map(|v| B256::from(*v.value()))
                == Some(hash);
            if on_canonical {
                let at = canonical
                    .get(target.number)?
                    .map(|v| B256::from(*v.value()));
                return Ok(at == Some(*ancestor));
            }
            hash = header.parent_hash;
        }
    }

    /// The block a JSON-RPC block tag or number names (`pending` is the head). In a pruned
    /// store `earliest` is the oldest block whose history is kept, and a number whose block was
    /// pruned from the canonical index is [`StorageError::HistoryPruned`].
    pub fn hash_for(
        &self,
        tag: alloy_eips::BlockNumberOrTag,
    ) -> Result<Option<B256>, StorageError> {
        use alloy_eips::BlockNumberOrTag as Tag;
        let txn = self.db.begin_read()?;
        let number = match tag {
            Tag::Latest | Tag::Pending => return read_head(&txn),
            Tag::Safe => return read_label(&txn, BlockLabel::Safe),
            Tag::Finalized => return read_label(&txn, BlockLabel::Finalized),
            Tag::Earliest => read_pruned_below(&txn)?.unwrap_or(0),
            Tag::Number(n) => n,
        };
        if let Some(hash) = txn.open_table(CANONICAL)?.get(number)? {
            return Ok(Some(B256::from(*hash.value())));
        }
        match read_pruned_below(&txn)? {
            Some(below) if number < below => Err(StorageError::HistoryPruned { number, below }),
            _ => Ok(None),
        }
    }

    /// A stored block, read in one transaction: `None` for an unknown hash,
    /// [`StorageError::HistoryPruned`] for a block whose body and receipts were pruned.
    pub fn block(&self, hash: &B256) -> Result<Option<StoredBlock>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some(header) = read_header(&txn, hash)? else {
            return Ok(None);
        };
        let body = txn.get_bytes(BODIES, &hash.0)?;
        let receipts = txn.get_bytes(RECEIPTS, &hash.0)?;
        match (body, receipts) {
            (Some(body), Some(receipts)) => Ok(Some(StoredBlock {
                header,
                body,
                receipts,
            })),
            _ => match read_pruned_below(&txn)? {
                Some(below) if header.number < below => Err(StorageError::HistoryPruned {
                    number: header.number,
                    below,
                }),
                _ => Err(corrupt("bodies", "missing body or receipts")),
            },
        }
    }

    /// The encoded body of a block, as given to [`Store::commit_block`].
    pub fn body(&self, hash: &B256) -> Result<Option<Vec<u8>>, StorageError> {
        self.db.begin_read()?.get_bytes(BODIES, &hash.0)
    }

    /// The encoded receipts of a block, as given to [`Store::commit_block`].
    pub fn receipts(&self, hash: &B256) -> Result<Option<Vec<u8>>, StorageError> {
        self.db.begin_read()?.get_bytes(RECEIPTS, &hash.0)
    }

    /// The block and position of a transaction, if its block is canonical.
    pub fn transaction_location(
        &self,
        tx: &B256,
    ) -> Result<Option<(B256, u64, u32)>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some(location) = txn.open_table(TX_INDEX)?.get(&tx.0)?.map(|v| *v.value()) else {
            return Ok(None);
        };
        let block = B256::from_slice(&location[..32]);
        let index = u32::from_be_bytes(location[32..].try_into().expect("4 bytes"));
        let Some(header) = read_header(&txn, &block)? else {
            return Ok(None);
        };
        let canonical = txn
            .open_table(CANONICAL)?
            .get(header.number)?
            .map(|v| B256::from(*v.value()));
        Ok((canonical == Some(block)).then_some((block, header.number, index)))
    }

    /// The changeset of a block.
    pub fn changeset(&self, hash: &B256) -> Result<Option<Changeset>, StorageError> {
        self.db
            .begin_read()?
            .get_bytes(CHANGESETS, &hash.0)?
            .map(|b| Changeset::decode(&b))
            .transpose()
    }

    /// The block a label points at.
    pub fn label(&self, label: BlockLabel) -> Result<Option<B256>, StorageError> {
        read_label(&self.db.begin_read()?, label)
    }

    /// Points a label at a stored block.
    pub fn set_label(&self, label: BlockLabel, hash: B256) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        if read_header(&txn, &hash)?.is_none() {
            return Err(StorageError::UnknownBlock(hash));
        }
        txn.open_table(META)?.insert(label.key(), hash.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// A consistent view of the state after block `hash`: the flat state when `hash` is the
    /// head, the block's state trie otherwise.
    pub fn state_at(&self, hash: &B256) -> Result<StateView, StorageError> {
        let txn = self.db.begin_read()?;
        let header = read_header(&txn, hash)?.ok_or(StorageError::UnknownBlock(*hash))?;
        let flat = read_head(&txn)? == Some(*hash);
        if !flat {
            check_state_kept(&txn, hash, header.number)?;
        }
        StateView::new(
            txn,
            self.interior_nodes.clone(),
            *hash,
            header.state_root,
            flat,
        )
    }

    /// Proves `address` and its `slots` against the state of block `hash`.
    pub fn proof(
        &self,
        hash: &B256,
        address: &Address,
        slots: &[B256],
    ) -> Result<AccountProof, StorageError> {
        let txn = self.db.begin_read()?;
        let header = read_header(&txn, hash)?.ok_or(StorageError::UnknownBlock(*hash))?;
        if read_head(&txn)? != Some(*hash) {
            check_state_kept(&txn, hash, header.number)?;
        }
        let view = StateView::new(
            txn,
            self.interior_nodes.clone(),
            *hash,
            header.state_root,
            false,
        )?;
        let mut account_proof = Vec::new();
        let account = trie::get(
            &view,
            header.state_root,
            &keccak256(address),
            Some(&mut account_proof),
        )?
        .map(|rlp| Account::from_trie_rlp(&rlp))
        .transpose()?;
        let storage_root = account.map_or(EMPTY_ROOT, |a| a.storage_root);
        let storage = slots
            .iter()
            .map(|key| {
                let mut proof = Vec::new();
                let value = trie::get(&view, storage_root, &keccak256(key), Some(&mut proof))?
                    .map(|rlp| decode_storage_leaf(&rlp))
                    .transpose()?
                    .unwrap_or_default();
                Ok(StorageProof {
                    key: *key,
                    value,
                    proof,
                })
            })
            .collect::<Result<_, StorageError>>()?;
        Ok(AccountProof {
            address: *address,
            account,
            account_proof,
            storage,
        })
    }

    // --- writes ---------------------------------------------------------------------------

    /// Computes the state root and changeset of applying `diff` on top of block `parent`
    /// (`B256::ZERO` with an empty state for genesis). Reads only the trie paths `diff` touches.
    pub fn prepare_update(
        &self,
        parent: &B256,
        diff: &StateDiff,
    ) -> Result<StateUpdate, StorageError> {
        let view = if parent.is_zero() {
            StateView::new(
                self.db.begin_read()?,
                self.interior_nodes.clone(),
                B256::ZERO,
                EMPTY_ROOT,
                false,
            )?
        } else {
            self.state_at(parent)?
        };
        let mut nodes = Vec::new();
        let mut superseded = Vec::new();
        let mut versions = Vec::new();
        let mut changeset = Changeset::default();
        let mut state = Trie::new(view.state_root);
        for (address, account_diff) in &diff.accounts {
            let old = view.account(address)?;
            let wiped = account_diff.storage_wiped || account_diff.info.is_none();
            let mut wiped_slots = BTreeMap::new();
            if wiped && let Some(old) = old.filter(|a| a.storage_root != EMPTY_ROOT) {
                trie::for_each_leaf(&view, old.storage_root, &mut |slot, rlp| {
                    wiped_slots.insert(slot, decode_storage_leaf(&rlp)?);
                    Ok(())
                })?;
            }
            let start = match old {
                Some(old) if !wiped => old.storage_root,
                _ => EMPTY_ROOT,
            };
            let mut storage = Trie::new(start);
            if let Some(old) = old.filter(|a| wiped && a.storage_root != EMPTY_ROOT) {
                storage.supersede_all(old.storage_root, &view)?;
            }
            let mut written = BTreeMap::new();
            for (slot, new) in &account_diff.storage {
                let hashed = hashed_slot(slot);
                let previous = if wiped {
                    wiped_slots.remove(&hashed).unwrap_or_default()
                } else {
                    view.storage_in(address, old.as_ref(), &hashed)?
                };
                if wiped {
                    if !new.is_zero() {
                        storage.insert(&hashed, alloy_rlp::encode(new), None, &view)?;
                    }
                } else if previous != *new {
                    if new.is_zero() {
                        storage.remove(&hashed, &view)?;
                    } else {
                        let old = (!previous.is_zero()).then(|| alloy_rlp::encode(previous));
                        storage.insert(&hashed, alloy_rlp::encode(new), old.as_deref(), &view)?;
                    }
                }
                if previous != *new {
                    written.insert(hashed, (previous, *new));
                }
            }
            for (hashed, previous) in wiped_slots {
                written.insert(hashed, (previous, U256::ZERO));
            }
            changeset
                .storage
                .extend(
                    written
                        .into_iter()
                        .map(|(hashed_slot, (old, new))| StorageChange {
                            address: *address,
                            hashed_slot,
                            old,
                            new,
                        }),
                );
            let storage_root = storage.commit(&mut nodes);
            superseded.extend(storage.take_superseded());
            versions.extend(storage.take_versions());
            let new = account_diff.info.map(|info| Account {
                nonce: info.nonce,
                balance: info.balance,
                code_hash: info.code_hash,
                storage_root,
            });
            if new != old {
                let key = keccak256(address);
                match &new {
                    Some(account) => {
                        let known = old.map(|a| a.trie_rlp());
                        state.insert(&key, account.trie_rlp(), known.as_deref(), &view)?
                    }
                    None => state.remove(&key, &view)?,
                }
                changeset.accounts.push(AccountChange {
                    address: *address,
                    old,
                    new,
                });
            }
        }
        let state_root = state.commit(&mut nodes);
        superseded.extend(state.take_superseded());
        versions.extend(state.take_versions());
        let codes = diff
            .codes
            .iter()
            .filter(|(hash, _)| **hash != EMPTY_CODE_HASH)
            .map(|(h, c)| (*h, c.clone()))
            .collect();
        Ok(StateUpdate {
            parent_hash: *parent,
            state_root,
            changeset,
            nodes,
            superseded,
            versions,
            codes,
        })
    }

    /// Writes a block (header, encoded body and receipts, the hashes of its transactions) with
    /// its state update, in one transaction; with `make_head` the block also becomes the
    /// canonical head.
    pub fn commit_block(
        &self,
        header: &Header,
        body: &[u8],
        receipts: &[u8],
        tx_hashes: &[B256],
        update: &StateUpdate,
        make_head: bool,
    ) -> Result<B256, StorageError> {
        let hash = header.hash_slow();
        if header.state_root != update.state_root {
            return Err(self.inconsistent(format!(
                "block {hash} has state root {} but its update yields {}",
                header.state_root, update.state_root
            )));
        }
        let expected_parent = if header.number == 0 {
            B256::ZERO
        } else {
            header.parent_hash
        };
        if update.parent_hash != expected_parent {
            return Err(self.inconsistent(format!(
                "block {hash} has parent {expected_parent} but its update starts from {}",
                update.parent_hash
            )));
        }
        let txn = self.db.begin_write()?;
        if header.number > 0 && read_header(&txn, &header.parent_hash)?.is_none() {
            return Err(StorageError::UnknownBlock(header.parent_hash));
        }
        // Committing a stored block again (a payload that comes back) must not count its
        // nodes twice.
        let known = read_header(&txn, &hash)?.is_some();
        {
            if !known {
                let key = block_txs_key(header.number, &hash);
                node_refs::write_nodes(
                    &txn,
                    &key,
                    &update.nodes,
                    &update.superseded,
                    &update.versions,
                )?;
            }
            let mut code = txn.open_table(CODE)?;
            for (h, c) in &update.codes {
                code.insert(&h.0, c.as_ref())?;
            }
            let mut rlp = Vec::with_capacity(600);
            header.encode(&mut rlp);
            txn.open_table(HEADERS)?.insert(&hash.0, rlp.as_slice())?;
            txn.open_table(BODIES)?.insert(&hash.0, body)?;
            txn.open_table(RECEIPTS)?.insert(&hash.0, receipts)?;
            txn.open_table(CHANGESETS)?
                .insert(&hash.0, update.changeset.encode().as_slice())?;
            let mut index = txn.open_table(TX_INDEX)?;
            let mut indexed = Vec::with_capacity(tx_hashes.len() * 32);
            for (i, tx) in tx_hashes.iter().enumerate() {
                let mut location = [0u8; 36];
                location[..32].copy_from_slice(hash.as_slice());
                location[32..].copy_from_slice(&(i as u32).to_be_bytes());
                index.insert(&tx.0, &location)?;
                indexed.extend_from_slice(tx.as_slice());
            }
            // What pruning this block's history will have to delete.
            txn.open_table(BLOCK_TXS)?
                .insert(&block_txs_key(header.number, &hash), indexed.as_slice())?;
        }
        if make_head {
            set_head_in(&txn, hash)?;
        }
        txn.commit()?;
        Ok(hash)
    }

    /// Makes a stored block the canonical head, reverting and applying changesets along the
    /// way so the flat state matches it. One transaction. Fails with [`StorageError::Pruned`],
    /// changing nothing, when a changeset the move needs (or the target's own) was pruned.
    pub fn set_head(&self, hash: B256) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        set_head_in(&txn, hash)?;
        txn.commit()?;
        Ok(())
    }

    /// Writes the genesis block and its alloc if the store is empty; otherwise checks that the
    /// stored genesis is `header`'s. Returns the genesis hash.
    pub fn init_genesis(&self, header: &Header, alloc: &StateDiff) -> Result<B256, StorageError> {
        let expected = header.hash_slow();
        if let Some(stored) = self.canonical_hash(0)? {
            return if stored == expected {
                Ok(stored)
            } else {
                Err(StorageError::GenesisMismatch { stored, expected })
            };
        }
        if self.base()?.is_some() {
            // Imported above genesis (the snapshot was checked against a trusted block of this
            // chain): there is no genesis to write or compare.
            return Ok(expected);
        }
        let update = self.prepare_update(&B256::ZERO, alloc)?;
        if update.state_root != header.state_root {
            return Err(StorageError::GenesisStateRoot {
                computed: update.state_root,
                header: header.state_root,
            });
        }
        self.commit_block(header, &[], &[], &[], &update, true)
    }

    /// Calls `f(keccak(bytes), bytes)` for every trie node, contract code and header in the
    /// store: the preimage set a stateless executor needs to re-execute any stored block.
    pub fn for_each_preimage(&self, f: &mut impl FnMut(B256, &[u8])) -> Result<(), StorageError> {
        let txn = self.db.begin_read()?;
        let nodes = txn.open_table(NODES)?;
        for entry in nodes.iter()? {
            let (key, record) = entry?;
            f(
                B256::from(*key.value()),
                &node_records::decode(&nodes, record.value())?,
            );
        }
        for def in [CODE, HEADERS] {
            for entry in txn.open_table(def)?.iter()? {
                let (key, value) = entry?;
                f(B256::from(*key.value()), value.value());
            }
        }
        Ok(())
    }

    /// Recomputes the state root of the flat state from scratch, with an independent
    /// hash builder, ignoring stored trie nodes and stored storage roots.
    pub fn recompute_flat_state_root(&self) -> Result<B256, StorageError> {
        let txn = self.db.begin_read()?;
        let accounts = txn.open_table(ACCOUNTS)?;
        let storage = txn.open_table(STORAGE)?;
        let mut leaves = Vec::new();
        for entry in accounts.iter()? {
            let (address, value) = entry?;
            let address = Address::from(*address.value());
            let mut account = Account::decode_flat(value.value())?;
            let mut start = [0u8; 52];
            start[..20].copy_from_slice(address.as_slice());
            let mut end = [0xffu8; 52];
            end[..20].copy_from_slice(address.as_slice());
            let mut hb = HashBuilder::default();
            for slot in storage.range::<&[u8; 52]>(&start..=&end)? {
                let (key, value) = slot?;
                let value = U256::from_be_bytes(*value.value());
                hb.add_leaf(
                    Nibbles::unpack(&key.value()[20..]),
                    &alloy_rlp::encode(value),
                );
            }
            account.storage_root = hb.root();
            leaves.push((keccak256(address), account.trie_rlp()));
        }
        leaves.sort_unstable_by_key(|(key, _)| *key);
        let mut hb = HashBuilder::default();
        for (key, rlp) in &leaves {
            hb.add_leaf(Nibbles::unpack(key), rlp);
        }
        Ok(hb.root())
    }
}

fn read_label(txn: &ReadTransaction, label: BlockLabel) -> Result<Option<B256>, StorageError> {
    txn.get_bytes(META, label.key())?
        .map(|b| as32(&b, "meta"))
        .transpose()
}

/// Applies one side of a changeset to the flat state.
fn apply_flat(txn: &WriteTransaction, cs: &Changeset, forward: bool) -> Result<(), StorageError> {
    let mut accounts = txn.open_table(ACCOUNTS)?;
    for change in &cs.accounts {
        match if forward { &change.new } else { &change.old } {
            Some(account) => {
                accounts.insert(&change.address.0.0, account.encode_flat().as_slice())?
            }
            None => accounts.remove(&change.address.0.0)?,
        };
    }
    let mut storage = txn.open_table(STORAGE)?;
    for change in &cs.storage {
        let key = storage_key(&change.address, &change.hashed_slot);
        let value = if forward { change.new } else { change.old };
        if value.is_zero() {
            storage.remove(&key)?;
        } else {
            storage.insert(&key, &value.to_be_bytes::<32>())?;
        }
    }
    Ok(())
}

fn set_head_in(txn: &WriteTransaction, target: B256) -> Result<(), StorageError> {
    let header_of = |hash: &B256| read_header(txn, hash)?.ok_or(StorageError::UnknownBlock(*hash));
    let pruned_below = read_pruned_below(txn)?;
    // A walk that reaches a pruned header went below the floor: the move needs pruned history.
    let parent_of = |child: &Header| -> Result<(B256, Header), StorageError> {
        let parent = child.parent_hash;
        match read_header(txn, &parent)? {
            Some(header) => Ok((parent, header)),
            None => Err(match pruned_below {
                Some(below) if child.number <= below => StorageError::Pruned {
                    block: parent,
                    number: child.number - 1,
                    below,
                },
                _ => StorageError::UnknownBlock(parent),
            }),
        }
    };
    let changeset_of = |hash: &B256| -> Result<Changeset, StorageError> {
        let bytes = txn
            .get_bytes(CHANGESETS, &hash.0)?
            .ok_or(corrupt("changesets", "missing changeset"))?;
        Changeset::decode(&bytes)
    };
    let current = read_head(txn)?;
    if current == Some(target) {
        return Ok(());
    }
    // An imported store has no state below its base: reverting the base is refused.
    let base = read_base(txn)?;
    // Walk both chains back to their common ancestor.
    let mut apply = Vec::new();
    let mut revert = Vec::new();
    let mut b = (target, header_of(&target)?);
    let target_number = b.1.number;
    let mut a = match current {
        Some(hash) => Some((hash, header_of(&hash)?)),
        None => None,
    };
    loop {
        match &a {
            Some((ah, ahdr)) if *ah == b.0 => break,
            Some((ah, ahdr)) if ahdr.number >= b.1.number => {
                if Some(*ah) == base {
                    return Err(StorageError::BelowBase { base: *ah, target });
                }
                revert.push((*ah, ahdr.number));
                a = (ahdr.number > 0).then(|| parent_of(ahdr)).transpose()?;
            }
            _ => {
                apply.push((b.0, b.1.number));
                if b.1.number == 0 {
                    if a.is_none() {
                        break;
                    }
                    // Different genesis: the target is not on this chain at all.
                    return Err(StorageError::UnknownBlock(target));
                }
                b = parent_of(&b.1)?;
            }
        }
    }
    // Every changeset the move needs must be there before any is applied. (A failure while
    // applying would still change nothing: the caller drops the uncommitted transaction, which
    // aborts it.) The target's own changeset too: a head always has one (`check_head`), and a
    // block whose history was pruned cannot become the head.
    {
        let changesets = txn.open_table(CHANGESETS)?;
        let needed = std::iter::once((target, target_number))
            .chain(revert.iter().copied())
            .chain(apply.iter().copied());
        for (hash, number) in needed {
            if changesets.get(&hash.0)?.is_some() {
                continue;
            }
            return Err(match pruned_below {
                Some(below) if number < below => StorageError::Pruned {
                    block: hash,
                    number,
                    below,
                },
                _ => corrupt("changesets", "missing changeset"),
            });
        }
    }
    let mut canonical = txn.open_table(CANONICAL)?;
    for (hash, number) in &revert {
        apply_flat(txn, &changeset_of(hash)?, false)?;
        canonical.remove(number)?;
    }
    for (hash, number) in apply.iter().rev() {
        apply_flat(txn, &changeset_of(hash)?, true)?;
        canonical.insert(number, &hash.0)?;
    }
    txn.open_table(META)?.insert(META_HEAD, target.as_slice())?;
    Ok(())
}

/// A consistent read-only view of the state after one block.
pub struct StateView {
    interior_nodes: Arc<InteriorNodeCache>,
    block: B256,
    state_root: B256,
    flat: bool,
    accounts: ReadOnlyTable<Key20, &'static [u8]>,
    storage: ReadOnlyTable<&'static [u8; 52], Key32>,
    code: ReadOnlyTable<Key32, &'static [u8]>,
    nodes: ReadOnlyTable<Key32, &'static [u8]>,
    headers: ReadOnlyTable<Key32, &'static [u8]>,
    canonical: ReadOnlyTable<u64, Key32>,
}

impl std::fmt::Debug for StateView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateView")
            .field("block", &self.block)
            .field("state_root", &self.state_root)
            .field("flat", &self.flat)
            .finish_non_exhaustive()
    }
}

impl NodeSource for StateView {
    fn node(&self, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError> {
        if let Some(rlp) = self.interior_nodes.get(hash) {
            return Ok(Some(rlp));
        }
        node_records::read(&self.nodes, hash)
    }

    fn loaded_interior(&self, hash: &B256, rlp: &Arc<[u8]>) {
        self.interior_nodes.insert(*hash, rlp);
    }

    fn is_cached(&self, hash: &B256) -> bool {
        self.interior_nodes.get(hash).is_some()
    }
}

impl StateView {
    fn new(
        txn: ReadTransaction,
        interior_nodes: Arc<InteriorNodeCache>,
        block: B256,
        state_root: B256,
        flat: bool,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            interior_nodes,
            block,
            state_root,
            flat,
            accounts: txn.open_table(ACCOUNTS)?,
            storage: txn.open_table(STORAGE)?,
            code: txn.open_table(CODE)?,
            nodes: txn.open_table(NODES)?,
            headers: txn.open_table(HEADERS)?,
            canonical: txn.open_table(CANONICAL)?,
        })
    }

    /// The block whose post-state this is.
    pub fn block_hash(&self) -> B256 {
        self.block
    }

    /// The state root of that block.
    pub fn state_root(&self) -> B256 {
        self.state_root
    }

    /// An account, `None` if absent.
    pub fn account(&self, address: &Address) -> Result<Option<Account>, StorageError> {
        if self.flat {
            return self
                .accounts
                .get(&address.0.0)?
                .map(|v| Account::decode_flat(v.value()))
                .transpose();
        }
        trie::get(self, self.state_root, &keccak256(address), None)?
            .map(|rlp| Account::from_trie_rlp(&rlp))
            .transpose()
    }

    /// A storage slot (zero when absent).
    pub fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StorageError> {
        let hashed = hashed_slot(slot);
        if self.flat {
            return self.storage_in(address, None, &hashed);
        }
        let account = self.account(address)?;
        match account {
            Some(account) => self.storage_in(address, Some(&account), &hashed),
            None => Ok(U256::ZERO),
        }
    }

    /// A storage slot by hashed key, given the account already read (trie mode needs its root).
    fn storage_in(
        &self,
        address: &Address,
        account: Option<&Account>,
        hashed: &B256,
    ) -> Result<U256, StorageError> {
        if self.flat {
            return Ok(self
                .storage
                .get(&storage_key(address, hashed))?
                .map(|v| U256::from_be_bytes(*v.value()))
                .unwrap_or_default());
        }
        let Some(account) = account else {
            return Ok(U256::ZERO);
        };
        trie::get(self, account.storage_root, hashed, None)?
            .map(|rlp| decode_storage_leaf(&rlp))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Contract code by hash.
    pub fn code(&self, hash: &B256) -> Result<Option<Bytes>, StorageError> {
        if *hash == EMPTY_CODE_HASH {
            return Ok(Some(Bytes::new()));
        }
        Ok(self
            .code
            .get(&hash.0)?
            .map(|v| Bytes::copy_from_slice(v.value())))
    }

    /// A header by hash.
    pub fn header(&self, hash: &B256) -> Result<Option<Header>, StorageError> {
        self.headers
            .get(&hash.0)?
            .map(|v| decode_header(v.value()))
            .transpose()
    }

    /// The hash of the ancestor at `number` on this view's chain (the view's block included).
    pub fn ancestor_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        if self.flat {
            return Ok(self.canonical.get(number)?.map(|v| B256::from(*v.value())));
        }
        let mut hash = self.block;
        while let Some(header) = self.header(&hash)? {
            if header.number == number {
                return Ok(Some(hash));
            }
            if header.number < number || header.number == 0 {
                return Ok(None);
            }
            hash = header.parent_hash;
        }
        Ok(None)
    }
}
