//! Deleting trie nodes no retained state uses, once history is bounded.
//!
//! Trie nodes are content-addressed and shared between blocks, so a node replaced by one block
//! may still be part of older states, of side blocks, or of another place in the same trie. The
//! store therefore counts, per node, the *positions* it holds: a block commit adds one for each
//! node its update emits ([`crate::trie::Trie::commit`]) and records, in a per-block journal, the
//! nodes it emitted and the stored nodes it superseded. Nothing is subtracted at commit: the
//! states of the blocks above the history floor must stay readable for reorgs and proofs. When
//! [`crate::Store::prune_history`] drops a block below the floor it settles the block's journal:
//!
//! - a canonical block's superseded nodes lose a position (the state before it is no longer
//!   kept);
//! - a side block's emitted nodes lose one (its state is no longer kept).
//!
//! A node whose count reaches zero is deleted. So the node table holds the states from the floor
//! up plus the side blocks above it, and does not grow with the chain.
//!
//! Counting starts when the store is first pruned ([`enable`]); an archive store pays nothing.
//! Nodes stored before that, and those of an imported snapshot, have no count: they are kept
//! for good, and emitting one again does not start counting it, since its earlier positions were
//! never counted. Such leftovers are bounded by the state size at that moment.

use crate::{
    StorageError, node_records,
    store::{META, NODES, Tables},
    trie::NewNodes,
};
use alloy_primitives::B256;
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use std::collections::HashMap;

/// Node hash → positions it holds in retained states; absent for a node that is not counted.
pub(crate) const NODE_REFS: TableDefinition<'_, &[u8; 32], u32> = TableDefinition::new("node_refs");
/// Block key (number BE ‖ hash, as `block_txs`) → count of emitted nodes (u32 BE) ‖ their
/// hashes ‖ the hashes of the nodes the block superseded.
pub(crate) const NODE_JOURNAL: TableDefinition<'_, &[u8; 40], &[u8]> =
    TableDefinition::new("node_journal");
/// Present once node counting started.
const META_NODE_REFS: &str = "node_refs";

/// Whether node positions are counted.
pub(crate) fn is_enabled(txn: &impl Tables) -> Result<bool, StorageError> {
    Ok(txn.get_bytes(META, META_NODE_REFS)?.is_some())
}

/// Starts counting node positions for blocks committed from now on.
pub(crate) fn enable(txn: &WriteTransaction) -> Result<(), StorageError> {
    let mut meta = txn.open_table(META)?;
    if meta.get(META_NODE_REFS)?.is_none() {
        meta.insert(META_NODE_REFS, [1u8].as_slice())?;
    }
    Ok(())
}

/// Writes a block's new trie nodes, counting positions and journaling them when counting is on.
pub(crate) fn write_nodes(
    txn: &WriteTransaction,
    block_key: &[u8; 40],
    nodes: &NewNodes,
    superseded: &[B256],
    versions: &[(B256, B256)],
) -> Result<(), StorageError> {
    let mut table = txn.open_table(NODES)?;
    if !is_enabled(txn)? {
        // Nothing is ever deleted: a new branch version can be a patch on the one it replaces.
        // A stored node is never rewritten, which keeps patch chains from looping.
        let priors: HashMap<B256, B256> = versions.iter().copied().collect();
        for (hash, rlp) in nodes {
            if table.get(&hash.0)?.is_some() {
                continue;
            }
            let patch = match priors.get(hash) {
                Some(prior) => node_records::patch_on(&table, prior, rlp)?,
                None => None,
            };
            table.insert(&hash.0, patch.as_deref().unwrap_or(rlp))?;
        }
        return Ok(());
    }
    let mut refs = txn.open_table(NODE_REFS)?;
    for (hash, rlp) in nodes {
        let count = refs.get(&hash.0)?.map(|c| c.value());
        match count {
            Some(count) => {
                refs.insert(&hash.0, count.saturating_add(1))?;
            }
            // Stored but not counted: kept for good (see the module docs).
            None if table.get(&hash.0)?.is_some() => {}
            None => {
                table.insert(&hash.0, rlp.as_slice())?;
                refs.insert(&hash.0, 1)?;
            }
        }
    }
    let mut journal = Vec::with_capacity(4 + 32 * (nodes.len() + superseded.len()));
    journal.extend_from_slice(&(nodes.len() as u32).to_be_bytes());
    for (hash, _) in nodes {
        journal.extend_from_slice(hash.as_slice());
    }
    for hash in superseded {
        journal.extend_from_slice(hash.as_slice());
    }
    txn.open_table(NODE_JOURNAL)?
        .insert(block_key, journal.as_slice())?;
    Ok(())
}

/// Settles the journal of a block leaving the retained history: a canonical block releases the
/// nodes it superseded, a side block the nodes it emitted. Returns the nodes deleted.
pub(crate) fn release(
    txn: &WriteTransaction,
    block_key: &[u8; 40],
    canonical: bool,
) -> Result<u64, StorageError> {
    let Some(journal) = txn
        .open_table(NODE_JOURNAL)?
        .remove(block_key)?
        .map(|j| j.value().to_vec())
    else {
        return Ok(0);
    };
    let corrupt = || StorageError::CorruptRecord {
        table: "node_journal",
        reason: "not a count followed by 32-byte hashes",
    };
    let (count, hashes) = journal.split_at_checked(4).ok_or_else(corrupt)?;
    let emitted = u32::from_be_bytes(count.try_into().expect("4 bytes")) as usize;
    if hashes.len() % 32 != 0 || hashes.len() / 32 < emitted {
        return Err(corrupt());
    }
    let (emitted, superseded) = hashes.split_at(emitted * 32);
    let released = if canonical { superseded } else { emitted };
    let mut refs = txn.open_table(NODE_REFS)?;
    let mut nodes = txn.open_table(NODES)?;
    let mut deleted = 0;
    for hash in released.chunks_exact(32) {
        let hash: &[u8; 32] = hash.try_into().expect("32-byte chunk");
        let Some(count) = refs.get(hash)?.map(|c| c.value()) else {
            continue;
        };
        if count > 1 {
            refs.insert(hash, count - 1)?;
        } else {
            refs.remove(hash)?;
            nodes.remove(hash)?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
