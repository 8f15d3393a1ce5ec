//! Bounded history (`--history.blocks N`): deleting the bodies, receipts, changesets,
//! transaction index entries, trie nodes and, further down, headers of blocks far enough below
//! the head.
//!
//! Deleted below the *history floor*: body, receipts, changeset, the transaction index entries
//! that point at the block, and the trie nodes that only states below the floor used (see
//! [`crate::node_refs`]), so [`Store::state_at`] and [`Store::proof`] answer
//! [`StorageError::Pruned`] for such a block and [`Store::block`] answers
//! [`StorageError::HistoryPruned`]. Side-chain blocks below the floor are deleted the same way,
//! header included, found through the `block_txs` table that [`Store::commit_block`] writes for
//! every block.
//!
//! Canonical headers and their canonical index entries are kept for [`HEADERS_BELOW_FLOOR`]
//! blocks below the floor — `BLOCKHASH` in the oldest kept state reaches 256 blocks back, and a
//! snapshot of it carries those headers — and deleted below that, so that a pruned store's file
//! stops growing instead of growing by a header per block.
//!
//! The floor only rises. It is `head + 1 - keep`, lowered to the safe and finalized blocks'
//! numbers (a rollup node may reset its head to either, which reverts every block above it), and
//! is recorded in the store so that each call only visits blocks that became prunable since the
//! last one. The imported base block of a snapshot store (see [`crate::bulk`]) keeps its history
//! and header whatever the floor, as do the head, safe and finalized blocks. A head change that
//! would need a pruned changeset or header fails with [`StorageError::Pruned`] and changes
//! nothing.
//!
//! Deleted pages are reused by later writes: the file stops growing, it does not shrink.

use crate::{
    StorageError, node_refs,
    store::{
        BLOCK_TXS, BODIES, BlockLabel, CANONICAL, CHANGESETS, HEADERS, META, META_BASE,
        META_HEADERS_PRUNED_BELOW, META_PRUNED_BELOW, RECEIPTS, Store, TX_INDEX, Tables, as32,
        block_txs_key, read_head, read_header, read_meta_number, read_pruned_below,
    },
};
use alloy_primitives::B256;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

/// The fewest blocks of history [`Store::prune_history`] accepts: a reorg can revert at most
/// this many blocks below the head (more when the safe block is older).
pub const MIN_HISTORY_BLOCKS: u64 = 64;

/// Canonical headers kept below the history floor: the `BLOCKHASH` window of the oldest kept
/// state. (The genesis header is always kept.)
pub const HEADERS_BELOW_FLOOR: u64 = 256;

/// Block heights handled per write transaction, so block commits wait at most one batch.
const BATCH_HEIGHTS: u64 = 1_000;

/// What one [`Store::prune_history`] call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Blocks (canonical or not) whose history this call deleted.
    pub blocks: u64,
    /// The history floor after the call: blocks numbered below it have no body, receipts,
    /// changeset or state left (0 while nothing was pruned).
    pub below: u64,
    /// Trie nodes deleted because no retained state uses them any more.
    pub nodes: u64,
    /// Canonical headers deleted (with their canonical index entries), at least
    /// [`HEADERS_BELOW_FLOOR`] below the floor.
    pub headers: u64,
}

impl Store {
    /// Deletes the bodies, receipts, changesets, transaction index entries and unused trie
    /// nodes of the blocks numbered below `head + 1 - keep` (a lower floor when the safe or
    /// finalized block is older; never the imported base block), and the canonical headers
    /// and index entries [`HEADERS_BELOW_FLOOR`] blocks below that. Works in transactions of at
    /// most 1,000 block heights, and only on blocks that became prunable since the last call.
    /// The first call starts counting trie node positions; nodes of blocks committed before it
    /// are kept.
    ///
    /// `keep` below [`MIN_HISTORY_BLOCKS`] is refused with [`StorageError::HistoryTooShort`]
    /// (there is no "never prune" value: not calling this is never pruning).
    pub fn prune_history(&self, keep: u64) -> Result<PruneReport, StorageError> {
        if keep < MIN_HISTORY_BLOCKS {
            return Err(StorageError::HistoryTooShort {
                keep,
                min: MIN_HISTORY_BLOCKS,
            });
        }
        if !node_refs::is_enabled(&self.db.begin_read()?)? {
            let txn = self.db.begin_write()?;
            node_refs::enable(&txn)?;
            txn.commit()?;
        }
        let mut report = PruneReport {
            blocks: 0,
            below: self.history_floor()?.unwrap_or(0),
            nodes: 0,
            headers: 0,
        };
        loop {
            let txn = self.db.begin_write()?;
            // On `None` or an error the transaction is dropped uncommitted, which aborts it.
            let Some(batch) = prune_batch(&txn, keep)? else {
                break;
            };
            txn.commit()?;
            report.blocks += batch.blocks;
            report.nodes += batch.nodes;
            report.headers += batch.headers;
            report.below = batch.below;
            if batch.done {
                break;
            }
        }
        if report.blocks > 0 {
            tracing::debug!(
                blocks = report.blocks,
                trie_nodes = report.nodes,
                headers = report.headers,
                below = report.below,
                "pruned block history"
            );
        }
        Ok(report)
    }

    /// The lowest block number whose body, receipts, changeset and state are kept; `None` if
    /// the store was never pruned.
    pub fn history_floor(&self) -> Result<Option<u64>, StorageError> {
        read_pruned_below(&self.db.begin_read()?)
    }
}

/// One committed step of pruning.
struct Batch {
    /// Blocks whose history was deleted.
    blocks: u64,
    /// Trie nodes deleted.
    nodes: u64,
    /// Canonical headers deleted.
    headers: u64,
    /// The history floor after the step.
    below: u64,
    /// Whether the floor and the header floor reached their targets.
    done: bool,
}

fn read_hash(txn: &WriteTransaction, key: &str) -> Result<Option<B256>, StorageError> {
    txn.get_bytes(META, key)?
        .map(|b| as32(&b, "meta"))
        .transpose()
}

/// Prunes up to [`BATCH_HEIGHTS`] heights above the recorded floor in `txn`; `None` when there
/// is nothing to do (then nothing was written).
fn prune_batch(txn: &WriteTransaction, keep: u64) -> Result<Option<Batch>, StorageError> {
    // Everything is read inside the write transaction: a block committed meanwhile is seen.
    let Some(head) = read_head(txn)? else {
        return Ok(None);
    };
    let head_number = read_header(txn, &head)?
        .ok_or(StorageError::UnknownBlock(head))?
        .number;
    let mut floor = (head_number + 1).saturating_sub(keep);
    let mut protected = vec![head];
    for label in [BlockLabel::Safe, BlockLabel::Finalized] {
        if let Some(hash) = read_hash(txn, label.key())? {
            protected.push(hash);
            if let Some(header) = read_header(txn, &hash)? {
                floor = floor.min(header.number);
            }
        }
    }
    // The base of an imported store has no parent state: it stays a valid head whatever the
    // floor (its changeset is the empty one `finish_import` wrote).
    protected.extend(read_hash(txn, META_BASE)?);
    let from = read_pruned_below(txn)?.unwrap_or(0);
    let to = if floor > from {
        floor.min(from.saturating_add(BATCH_HEIGHTS))
    } else {
        from
    };

    // Headers follow the floor at a distance, from where they were last pruned to.
    let headers_target = to.saturating_sub(HEADERS_BELOW_FLOOR);
    let headers_from = read_meta_number(txn, META_HEADERS_PRUNED_BELOW)?.unwrap_or(0);
    let headers_to = if headers_target > headers_from {
        headers_target.min(headers_from.saturating_add(BATCH_HEIGHTS))
    } else {
        headers_from
    };

    let mut blocks = 0;
    let mut nodes = 0;
    let mut headers_removed = 0;
    {
        let mut block_txs = txn.open_table(BLOCK_TXS)?;
        let mut bodies = txn.open_table(BODIES)?;
        let mut receipts = txn.open_table(RECEIPTS)?;
        let mut changesets = txn.open_table(CHANGESETS)?;
        let mut tx_index = txn.open_table(TX_INDEX)?;
        let mut canonical = txn.open_table(CANONICAL)?;
        let mut headers = txn.open_table(HEADERS)?;
        let mut remove_history = |hash: &B256| -> Result<bool, StorageError> {
            let body = bodies.remove(&hash.0)?.is_some();
            let receipt = receipts.remove(&hash.0)?.is_some();
            let changeset = changesets.remove(&hash.0)?.is_some();
            Ok(body || receipt || changeset)
        };

        // Blocks recorded at commit, canonical or not, below the new floor. Pruned ones lose
        // their entry, so this range holds only blocks not pruned yet: the heights from..to,
        // and any block committed below the floor after it was set.
        let recorded = block_txs
            .range::<&[u8; 40]>(..&block_txs_key(to, &B256::ZERO))?
            .map(|entry| {
                let (key, value) = entry?;
                Ok((*key.value(), value.value().to_vec()))
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        for (key, txs) in recorded {
            let hash = B256::from_slice(&key[8..]);
            if protected.contains(&hash) {
                continue;
            }
            if txs.len() % 32 != 0 {
                return Err(StorageError::CorruptRecord {
                    table: "block_txs",
                    reason: "not a list of 32-byte hashes",
                });
            }
            for tx in txs.chunks_exact(32) {
                let tx: &[u8; 32] = tx.try_into().expect("32-byte chunk");
                // The same transaction in a later or competing block re-pointed the entry:
                // that one is not this block's to delete.
                let here = tx_index
                    .get(tx)?
                    .is_some_and(|location| location.value()[..32] == hash.0);
                if here {
                    tx_index.remove(tx)?;
                }
            }
            remove_history(&hash)?;
            block_txs.remove(&key)?;
            let number = u64::from_be_bytes(key[..8].try_into().expect("8 bytes"));
            let is_canonical = canonical.get(number)?.is_some_and(|h| *h.value() == hash.0);
            nodes += node_refs::release(txn, &key, is_canonical)?;
            // A side block below the floor can never be built on or become the head again.
            if !is_canonical {
                headers.remove(&hash.0)?;
            }
            blocks += 1;
        }
        // Canonical blocks without a `block_txs` entry: written before the table existed, or
        // imported. Their transaction index entries, if any, are left.
        for number in from..to {
            let Some(hash) = canonical.get(number)?.map(|v| B256::from(*v.value())) else {
                continue;
            };
            if !protected.contains(&hash) && remove_history(&hash)? {
                blocks += 1;
            }
        }
        // The genesis header stays: `Store::init_genesis` checks the chain config against it.
        for number in headers_from.max(1)..headers_to {
            let Some(hash) = canonical.get(number)?.map(|v| B256::from(*v.value())) else {
                continue;
            };
            if !protected.contains(&hash) {
                canonical.remove(number)?;
                headers.remove(&hash.0)?;
                headers_removed += 1;
            }
        }
    }
    let mut meta = txn.open_table(META)?;
    if to > from {
        meta.insert(META_PRUNED_BELOW, to.to_be_bytes().as_slice())?;
    }
    if headers_to > headers_from {
        meta.insert(
            META_HEADERS_PRUNED_BELOW,
            headers_to.to_be_bytes().as_slice(),
        )?;
    }
    if to == from && headers_to == headers_from && blocks == 0 {
        return Ok(None);
    }
    Ok(Some(Batch {
        blocks,
        nodes,
        headers: headers_removed,
        below: to,
        done: to >= floor && headers_to >= floor.saturating_sub(HEADERS_BELOW_FLOOR),
    }))
}

#[cfg(test)]
mod tests {
    use crate::{
        AccountDiff, AccountInfo, StateDiff, StorageError, Store,
        store::{BLOCK_TXS, CHANGESETS},
    };
    use alloy_consensus::Header;
    use alloy_primitives::{Address, B256, U256};
    use std::collections::BTreeMap;

    fn diff(n: u64) -> StateDiff {
        let mut diff = StateDiff::default();
        diff.accounts.insert(
            Address::with_last_byte((n % 8) as u8),
            AccountDiff {
                info: Some(AccountInfo {
                    nonce: n,
                    balance: U256::from(n * 1_000),
                    code_hash: crate::EMPTY_CODE_HASH,
                }),
                storage_wiped: false,
                storage: BTreeMap::from([(U256::from(n % 3), U256::from(n + 1))]),
            },
        );
        diff
    }

    fn child(store: &Store, parent: B256, n: u64, head: bool) -> Result<B256, StorageError> {
        let number = store.header(&parent)?.expect("parent").number + 1;
        let update = store.prepare_update(&parent, &diff(n))?;
        let header = Header {
            parent_hash: parent,
            number,
            state_root: update.state_root,
            nonce: n.into(),
            ..Default::default()
        };
        store.commit_block(&header, b"body", b"receipts", &[], &update, head)
    }

    /// A store written before `block_txs` existed: its canonical blocks are pruned through the
    /// canonical index; their transaction index entries stay.
    #[test]
    fn blocks_without_a_block_txs_entry_are_pruned_by_height() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("chain.redb")).unwrap();
        let genesis_diff = diff(0);
        let update = store.prepare_update(&B256::ZERO, &genesis_diff).unwrap();
        let genesis = Header {
            state_root: update.state_root,
            ..Default::default()
        };
        let mut chain = vec![store.init_genesis(&genesis, &genesis_diff).unwrap()];
        let tx = B256::repeat_byte(7);
        for n in 1..=100u64 {
            let parent = chain[n as usize - 1];
            let update = store.prepare_update(&parent, &diff(n)).unwrap();
            let header = Header {
                parent_hash: parent,
                number: n,
                state_root: update.state_root,
                ..Default::default()
            };
            let txs = if n == 10 { vec![tx] } else { vec![] };
            chain.push(
                store
                    .commit_block(&header, b"body", b"receipts", &txs, &update, true)
                    .unwrap(),
            );
        }
        let txn = store.db.begin_write().unwrap();
        txn.delete_table(BLOCK_TXS).unwrap();
        txn.open_table(BLOCK_TXS).unwrap();
        txn.commit().unwrap();

        let report = store.prune_history(64).unwrap();
        assert_eq!(report.blocks, 37);
        assert_eq!(report.below, 37);
        for (n, hash) in chain.iter().enumerate() {
            assert_eq!(store.body(hash).unwrap().is_some(), n >= 37, "block {n}");
            assert_eq!(
                store.changeset(hash).unwrap().is_some(),
                n >= 37,
                "block {n}"
            );
        }
        assert_eq!(
            store.transaction_location(&tx).unwrap(),
            Some((chain[10], 10, 0))
        );
    }

    /// A head move that fails after it started changing the flat state changes nothing: the
    /// uncommitted write transaction is aborted when dropped.
    #[test]
    fn failure_midway_through_a_head_move_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("chain.redb")).unwrap();
        let genesis_diff = diff(0);
        let update = store.prepare_update(&B256::ZERO, &genesis_diff).unwrap();
        let genesis = Header {
            state_root: update.state_root,
            ..Default::default()
        };
        let mut chain = vec![store.init_genesis(&genesis, &genesis_diff).unwrap()];
        for n in 1..=10 {
            chain.push(child(&store, chain[n as usize - 1], n, true).unwrap());
        }
        let head = chain[10];
        let root = store.recompute_flat_state_root().unwrap();
        // Block 5's changeset is present (the pre-check passes) but does not decode: reverting
        // to block 2 undoes blocks 10..=6 in the transaction, then fails on 5.
        let txn = store.db.begin_write().unwrap();
        txn.open_table(CHANGESETS)
            .unwrap()
            .insert(&chain[5].0, [0xffu8; 3].as_slice())
            .unwrap();
        txn.commit().unwrap();

        let err = store.set_head(chain[2]).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::CorruptRecord {
                    table: "changesets",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(store.head_hash().unwrap(), Some(head));
        assert_eq!(store.recompute_flat_state_root().unwrap(), root);
        assert_eq!(store.canonical_hash(10).unwrap(), Some(head));
        // And a block commit whose head move fails is not stored at all.
        let err = child(&store, chain[4], 99, true).unwrap_err();
        assert!(matches!(err, StorageError::CorruptRecord { .. }), "{err}");
        assert_eq!(store.head_hash().unwrap(), Some(head));
        assert_eq!(store.recompute_flat_state_root().unwrap(), root);
        // Blocks 6..=10 were reverted before the failure; the store still reads them as canonical.
        for n in 6..=10 {
            assert_eq!(store.canonical_hash(n).unwrap(), Some(chain[n as usize]));
        }
    }
}
