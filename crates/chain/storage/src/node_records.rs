//! How trie nodes are stored: as their RLP, or — in an archive store — a new version of a branch
//! node as a *patch* on the version it replaced.
//!
//! An archive store keeps every state, so each block leaves behind a new version of every branch
//! node on the paths it changed. A branch node is sixteen 33-byte child references, and a new
//! version usually differs from the one it replaced in one or two of them: stored whole, branch
//! versions are most of an archive store's growth per block. A patch holds only the children that
//! changed and names the version it applies to, so a version costs tens of bytes instead of
//! hundreds.
//!
//! Reading a patched node follows the chain of patches down to a whole node and applies them
//! oldest first. The chain is at most [`MAX_CHAIN`] patches: the next version after that is
//! stored whole, so a read takes a bounded number of lookups. The store never overwrites a node
//! record (a node's hash fixes its content), so every chain ends at an older record: chains
//! cannot loop.
//!
//! Only stores that never delete nodes write patches: once trie nodes are counted for pruning
//! ([`crate::node_refs`]) every node is stored whole, and the patches written before are bases
//! nobody deletes (nodes stored before counting started are kept for good).
//!
//! A patch record is `0x00 ‖ chain length (1) ‖ base hash (32) ‖ changed-children mask (4, big
//! endian, bit i = item i of 17) ‖ the changed items' RLP in order`. A node's RLP always starts
//! with a list prefix (≥ 0xc0), so the first byte tells the two apart.

use crate::StorageError;
use alloy_primitives::B256;
use alloy_rlp::Header as RlpHeader;
use redb::ReadableTable;
use std::sync::Arc;

/// Patches at most between a read and a whole node.
pub(crate) const MAX_CHAIN: u8 = 8;

/// First byte of a patch record.
const PATCH: u8 = 0x00;
/// Bytes before a patch's items.
const PATCH_HEADER: usize = 1 + 1 + 32 + 4;
/// Items of a branch node: 16 children and the (always empty) value.
const BRANCH_ITEMS: usize = 17;

type NodeTable = &'static [u8; 32];

fn corrupt(reason: &'static str) -> StorageError {
    StorageError::CorruptTrieNode(reason)
}

/// A node's RLP, whichever way it is stored; `None` if the store lacks it.
pub(crate) fn read<T>(table: &T, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError>
where
    T: ReadableTable<NodeTable, &'static [u8]>,
{
    let Some(record) = table.get(&hash.0)? else {
        return Ok(None);
    };
    let record = record.value();
    if record.first() != Some(&PATCH) {
        return Ok(Some(record.into()));
    }
    resolve(table, record.to_vec()).map(|rlp| Some(rlp.into()))
}

/// `true` if `record` (a stored value of the node table) is a patch.
pub(crate) fn is_patch(record: &[u8]) -> bool {
    record.first() == Some(&PATCH)
}

/// The RLP of the node stored as `record`.
pub(crate) fn decode<T>(table: &T, record: &[u8]) -> Result<Arc<[u8]>, StorageError>
where
    T: ReadableTable<NodeTable, &'static [u8]>,
{
    if is_patch(record) {
        resolve(table, record.to_vec()).map(Into::into)
    } else {
        Ok(record.into())
    }
}

/// Follows the patch chain from `patch` down to a whole node and applies it.
fn resolve<T>(table: &T, patch: Vec<u8>) -> Result<Vec<u8>, StorageError>
where
    T: ReadableTable<NodeTable, &'static [u8]>,
{
    let mut patches = vec![patch];
    let whole = loop {
        let base = Patch::parse(patches.last().expect("one patch at least"))?.base;
        let record = table
            .get(&base.0)?
            .ok_or(StorageError::MissingTrieNode(base))?
            .value()
            .to_vec();
        if !is_patch(&record) {
            break record;
        }
        if patches.len() >= MAX_CHAIN as usize {
            return Err(corrupt("patch chain longer than its bound"));
        }
        patches.push(record);
    };
    let mut items = branch_items(&whole)?;
    for patch in patches.iter().rev() {
        Patch::parse(patch)?.apply(&mut items)?;
    }
    Ok(encode_list(&items))
}

/// The record to store for a new branch version `rlp` replacing the stored node `prior`: a
/// patch when that is shorter and the chain stays within [`MAX_CHAIN`]; `None` to store `rlp`
/// whole.
pub(crate) fn patch_on<T>(
    table: &T,
    prior: &B256,
    rlp: &[u8],
) -> Result<Option<Vec<u8>>, StorageError>
where
    T: ReadableTable<NodeTable, &'static [u8]>,
{
    let Ok(new) = branch_items(rlp) else {
        return Ok(None);
    };
    let Some(record) = table.get(&prior.0)?.map(|r| r.value().to_vec()) else {
        return Ok(None);
    };
    let chain = if is_patch(&record) {
        Patch::parse(&record)?.chain
    } else {
        0
    };
    if chain >= MAX_CHAIN {
        return Ok(None);
    }
    let prior_rlp = decode(table, &record)?;
    let Ok(old) = branch_items(&prior_rlp) else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(PATCH_HEADER + 2 * 33);
    out.push(PATCH);
    out.push(chain + 1);
    out.extend_from_slice(prior.as_slice());
    let mut mask = 0u32;
    let mut changed = Vec::new();
    for (i, (old, new)) in old.iter().zip(&new).enumerate() {
        if old != new {
            mask |= 1 << i;
            changed.extend_from_slice(new);
        }
    }
    out.extend_from_slice(&mask.to_be_bytes());
    out.extend_from_slice(&changed);
    Ok((out.len() < rlp.len()).then_some(out))
}

/// A parsed patch record.
struct Patch<'a> {
    chain: u8,
    base: B256,
    mask: u32,
    items: &'a [u8],
}

impl<'a> Patch<'a> {
    fn parse(record: &'a [u8]) -> Result<Self, StorageError> {
        if record.len() < PATCH_HEADER || record[0] != PATCH {
            return Err(corrupt("truncated patch record"));
        }
        let chain = record[1];
        if chain == 0 || chain > MAX_CHAIN {
            return Err(corrupt("patch chain length out of range"));
        }
        let mask = u32::from_be_bytes(record[34..38].try_into().expect("4 bytes"));
        if mask == 0 || mask >> BRANCH_ITEMS != 0 {
            return Err(corrupt("patch mask out of range"));
        }
        Ok(Self {
            chain,
            base: B256::from_slice(&record[2..34]),
            mask,
            items: &record[PATCH_HEADER..],
        })
    }

    /// Replaces the masked items of `items` with the patch's.
    fn apply(&self, items: &mut [Vec<u8>; BRANCH_ITEMS]) -> Result<(), StorageError> {
        let mut rest = self.items;
        for (i, item) in items.iter_mut().enumerate() {
            if self.mask & (1 << i) != 0 {
                *item = split_item(&mut rest)?.to_vec();
            }
        }
        if !rest.is_empty() {
            return Err(corrupt("patch has bytes beyond its items"));
        }
        Ok(())
    }
}

/// Splits one whole RLP item off `buf`.
fn split_item<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], StorageError> {
    let start = *buf;
    let header = RlpHeader::decode(buf).map_err(|_| corrupt("bad RLP header in a node record"))?;
    if buf.len() < header.payload_length {
        return Err(corrupt("truncated RLP item in a node record"));
    }
    *buf = &buf[header.payload_length..];
    Ok(&start[..start.len() - buf.len()])
}

/// The 17 items of a branch node's RLP; an error for anything else.
fn branch_items(rlp: &[u8]) -> Result<[Vec<u8>; BRANCH_ITEMS], StorageError> {
    let mut buf = rlp;
    let header = RlpHeader::decode(&mut buf).map_err(|_| corrupt("bad node RLP header"))?;
    if !header.list || buf.len() != header.payload_length {
        return Err(corrupt("node is not a single RLP list"));
    }
    let mut items: [Vec<u8>; BRANCH_ITEMS] = Default::default();
    for item in items.iter_mut() {
        *item = split_item(&mut buf)?.to_vec();
    }
    if !buf.is_empty() {
        return Err(corrupt("node has more than 17 items"));
    }
    Ok(items)
}

fn encode_list(items: &[Vec<u8>; BRANCH_ITEMS]) -> Vec<u8> {
    let payload_length = items.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(payload_length + 3);
    RlpHeader {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use proptest::prelude::*;
    use redb::{Database, ReadableDatabase, TableDefinition, backends::InMemoryBackend};

    const NODES: TableDefinition<'_, NodeTable, &[u8]> = TableDefinition::new("nodes");

    fn branch(children: &[Option<B256>; 16]) -> Vec<u8> {
        let mut items: [Vec<u8>; BRANCH_ITEMS] = Default::default();
        for (item, child) in items.iter_mut().zip(children) {
            *item = match child {
                Some(hash) => [&[0xa0][..], hash.as_slice()].concat(),
                None => vec![0x80],
            };
        }
        items[16] = vec![0x80];
        encode_list(&items)
    }

    fn db() -> Database {
        Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .unwrap()
    }

    /// Stores `versions` of one branch, each patched on the previous as a commit would.
    fn store_versions(db: &Database, versions: &[Vec<u8>]) -> Vec<(B256, usize)> {
        let txn = db.begin_write().unwrap();
        let mut stored = Vec::new();
        {
            let mut table = txn.open_table(NODES).unwrap();
            let mut prior: Option<B256> = None;
            for rlp in versions {
                let hash = keccak256(rlp);
                if table.get(&hash.0).unwrap().is_none() {
                    let record = match prior {
                        Some(prior) => patch_on(&table, &prior, rlp).unwrap(),
                        None => None,
                    };
                    let record = record.as_deref().unwrap_or(rlp);
                    table.insert(&hash.0, record).unwrap();
                }
                let len = table.get(&hash.0).unwrap().unwrap().value().len();
                stored.push((hash, len));
                prior = Some(hash);
            }
        }
        txn.commit().unwrap();
        stored
    }

    /// A branch changed in one child per version reads back exactly, costs a patch's bytes
    /// instead of a whole node's, and is stored whole again after `MAX_CHAIN` patches.
    #[test]
    fn versions_read_back_and_chains_are_bounded() {
        let mut children: [Option<B256>; 16] =
            std::array::from_fn(|i| Some(B256::repeat_byte(i as u8)));
        let mut versions = Vec::new();
        for n in 0..40u8 {
            children[(n % 16) as usize] = Some(keccak256([n]));
            versions.push(branch(&children));
        }
        let db = db();
        let stored = store_versions(&db, &versions);
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(NODES).unwrap();
        let mut whole = 0;
        for ((hash, len), rlp) in stored.iter().zip(&versions) {
            assert_eq!(&*read(&table, hash).unwrap().unwrap(), rlp.as_slice());
            let record = table.get(&hash.0).unwrap().unwrap().value().to_vec();
            if is_patch(&record) {
                assert!(*len < 80, "a one-child patch is {len} bytes");
                assert!(Patch::parse(&record).unwrap().chain <= MAX_CHAIN);
            } else {
                whole += 1;
            }
        }
        // The first version and every ninth after it.
        assert_eq!(whole, 40usize.div_ceil(MAX_CHAIN as usize + 1));
    }

    /// A version equal to an older one is not written again, so it keeps its older record and
    /// no chain can loop back on itself.
    #[test]
    fn a_recurring_version_keeps_its_record() {
        let a: [Option<B256>; 16] = std::array::from_fn(|i| Some(B256::repeat_byte(i as u8)));
        let mut b = a;
        b[3] = Some(B256::repeat_byte(0xee));
        let versions = [branch(&a), branch(&b), branch(&a), branch(&b)];
        let db = db();
        let stored = store_versions(&db, &versions);
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(NODES).unwrap();
        assert!(!is_patch(
            table.get(&stored[0].0.0).unwrap().unwrap().value()
        ));
        for ((hash, _), rlp) in stored.iter().zip(&versions) {
            assert_eq!(&*read(&table, hash).unwrap().unwrap(), rlp.as_slice());
        }
    }

    /// Leaves and extensions, and branches whose patch would not be shorter, are stored whole.
    #[test]
    fn only_shorter_branch_patches_are_written() {
        let db = db();
        let txn = db.begin_write().unwrap();
        let mut table = txn.open_table(NODES).unwrap();
        let a: [Option<B256>; 16] =
            std::array::from_fn(|i| (i < 2).then(|| B256::repeat_byte(i as u8)));
        let rlp_a = branch(&a);
        table
            .insert(&keccak256(&rlp_a).0, rlp_a.as_slice())
            .unwrap();
        // Both children changed: the patch (38 + 66 bytes) is not shorter than the node (70).
        let b: [Option<B256>; 16] =
            std::array::from_fn(|i| (i < 2).then(|| B256::repeat_byte(9 + i as u8)));
        assert_eq!(
            patch_on(&table, &keccak256(&rlp_a), &branch(&b)).unwrap(),
            None
        );
        let leaf = alloy_rlp::encode(vec![
            alloy_primitives::Bytes::from(vec![0x20; 33]),
            vec![1u8; 40].into(),
        ]);
        assert_eq!(patch_on(&table, &keccak256(&rlp_a), &leaf).unwrap(), None);
        // An unknown prior: nothing to patch on.
        assert_eq!(
            patch_on(&table, &B256::repeat_byte(1), &rlp_a).unwrap(),
            None
        );
    }

    proptest! {
        /// Any bytes stored as a patch read back as a typed error or a node, never a panic.
        #[test]
        fn arbitrary_patch_records_do_not_panic(
            tail in prop::collection::vec(any::<u8>(), 0..200),
            chain in 0u8..12,
            mask in any::<u32>(),
            base_is_stored in any::<bool>(),
        ) {
            let db = db();
            let whole = branch(&std::array::from_fn(|i| Some(B256::repeat_byte(i as u8))));
            let base = keccak256(&whole);
            let mut record = vec![PATCH, chain];
            record.extend_from_slice(if base_is_stored { base.as_slice() } else { &[7u8; 32] });
            record.extend_from_slice(&mask.to_be_bytes());
            record.extend_from_slice(&tail);
            let txn = db.begin_write().unwrap();
            {
                let mut table = txn.open_table(NODES).unwrap();
                table.insert(&base.0, whole.as_slice()).unwrap();
                table.insert(&[1u8; 32], record.as_slice()).unwrap();
                // A record patched on itself: a loop the bound must stop.
                let mut looped = vec![PATCH, 1];
                looped.extend_from_slice(&[2u8; 32]);
                looped.extend_from_slice(&1u32.to_be_bytes());
                looped.push(0x80);
                table.insert(&[2u8; 32], looped.as_slice()).unwrap();
                let _ = read(&table, &B256::repeat_byte(1));
                prop_assert!(read(&table, &B256::repeat_byte(2)).is_err());
            }
            txn.commit().unwrap();
        }

        /// Random version histories of a branch read back exactly, whatever changed between
        /// versions.
        #[test]
        fn random_histories_read_back(
            changes in prop::collection::vec(prop::collection::vec((0usize..16, prop::option::of(any::<[u8; 32]>())), 1..6), 1..30),
        ) {
            let mut children: [Option<B256>; 16] = std::array::from_fn(|i| Some(B256::repeat_byte(i as u8 + 1)));
            let mut versions = vec![branch(&children)];
            for step in changes {
                for (i, child) in step {
                    children[i] = child.map(B256::from);
                }
                versions.push(branch(&children));
            }
            let db = db();
            let stored = store_versions(&db, &versions);
            let txn = db.begin_read().unwrap();
            let table = txn.open_table(NODES).unwrap();
            for ((hash, _), rlp) in stored.iter().zip(&versions) {
                prop_assert_eq!(&*read(&table, hash).unwrap().unwrap(), rlp.as_slice());
            }
        }
    }
}
