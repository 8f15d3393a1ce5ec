//! Bulk access for state snapshots: reading a store's whole head state under one read
//! transaction, and building a fresh store from such a state, then proving it complete.
//!
//! An imported store starts at its *base* block: it holds the base's state (flat and trie), the
//! headers, bodies and receipts of the blocks before it that came with the snapshot, and no
//! changesets below the base, so a reorg can never go below it ([`Store::set_head`] refuses).

use crate::{
    Account, Changeset, EMPTY_CODE_HASH, StorageError,
    store::{
        ACCOUNTS, BODIES, BlockLabel, CANONICAL, CHANGESETS, CODE, HEADERS, META, META_BASE,
        META_HEAD, NODES, RECEIPTS, Store, Tables, decode_header, read_head, read_header,
        storage_key,
    },
    trie::{self, EMPTY_ROOT, NodeSource},
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Encodable;
use alloy_trie::{HashBuilder, Nibbles};
use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable};
use std::{
    collections::{BTreeSet, HashSet},
    sync::Arc,
};

/// A block as a snapshot carries it: header, and the body and receipts as the engine stored them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// The header.
    pub header: Header,
    /// The encoded body (opaque to the store).
    pub body: Vec<u8>,
    /// The encoded receipts (opaque to the store).
    pub receipts: Vec<u8>,
}

/// The head state of a store, frozen in one read transaction: what a snapshot exports.
pub struct HeadReader {
    head: B256,
    header: Header,
    txn: ReadTransaction,
    nodes: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
}

impl std::fmt::Debug for HeadReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadReader")
            .field("head", &self.head)
            .field("number", &self.header.number)
            .finish_non_exhaustive()
    }
}

impl NodeSource for HeadReader {
    fn node(&self, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError> {
        Ok(self.nodes.get(&hash.0)?.map(|v| v.value().into()))
    }
}

impl HeadReader {
    /// The head block's hash.
    pub fn head_hash(&self) -> B256 {
        self.head
    }

    /// The head block's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Calls `f` with the up to `count` canonical blocks ending at the head, oldest first (fewer
    /// when the chain, or an imported store's history, is shorter).
    pub fn for_each_recent_block(
        &self,
        count: u64,
        f: &mut impl FnMut(StoredBlock) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let canonical = self.txn.open_table(CANONICAL)?;
        let first = (self.header.number + 1).saturating_sub(count);
        for number in first..=self.header.number {
            let Some(hash) = canonical.get(number)?.map(|v| B256::from(*v.value())) else {
                continue;
            };
            let header =
                read_header(&self.txn, &hash)?.ok_or_else(|| StorageError::UnknownBlock(hash))?;
            let body = self.txn.get_bytes(BODIES, &hash.0)?;
            let receipts = self.txn.get_bytes(RECEIPTS, &hash.0)?;
            let (Some(body), Some(receipts)) = (body, receipts) else {
                // Pruned history: the snapshot starts after it.
                continue;
            };
            f(StoredBlock {
                header,
                body,
                receipts,
            })?;
        }
        Ok(())
    }

    /// Calls `f` for every account of the head state, by address.
    pub fn for_each_account(
        &self,
        f: &mut impl FnMut(Address, Account) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        for entry in self.txn.open_table(ACCOUNTS)?.iter()? {
            let (address, value) = entry?;
            f(
                Address::from(*address.value()),
                Account::decode_flat(value.value())?,
            )?;
        }
        Ok(())
    }

    /// Calls `f(address, hashed slot, value)` for every non-zero slot of the head state, by
    /// address then hashed slot.
    pub fn for_each_slot(
        &self,
        f: &mut impl FnMut(Address, B256, U256) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        for entry in self.txn.open_table(crate::store::STORAGE)?.iter()? {
            let (key, value) = entry?;
            let key = key.value();
            f(
                Address::from_slice(&key[..20]),
                B256::from_slice(&key[20..]),
                U256::from_be_bytes(*value.value()),
            )?;
        }
        Ok(())
    }

    /// Calls `f(hash, code)` once for each distinct code the head state's accounts use.
    pub fn for_each_code(
        &self,
        f: &mut impl FnMut(B256, &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let mut hashes = BTreeSet::new();
        self.for_each_account(&mut |_, account| {
            if account.code_hash != EMPTY_CODE_HASH {
                hashes.insert(account.code_hash);
            }
            Ok(())
        })?;
        let code = self.txn.open_table(CODE)?;
        for hash in hashes {
            let bytes = code.get(&hash.0)?.ok_or(StorageError::CorruptRecord {
                table: "code",
                reason: "an account's code is missing",
            })?;
            f(hash, bytes.value())?;
        }
        Ok(())
    }

    /// Calls `f(hash, rlp)` for every trie node of the head state: the account trie and each
    /// distinct storage trie, each node once per trie it appears in.
    pub fn for_each_trie_node(
        &self,
        f: &mut impl FnMut(&B256, &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        walk_state(self, self.header.state_root, f).map(|_| ())
    }
}

/// Walks the account trie under `root` and every distinct storage trie its accounts name;
/// returns the number of accounts.
fn walk_state(
    src: &impl NodeSource,
    root: B256,
    f: &mut impl FnMut(&B256, &[u8]) -> Result<(), StorageError>,
) -> Result<u64, StorageError> {
    // Distinct storage roots, walked after the account trie: 32 bytes per contract with storage.
    let mut storage_roots = Vec::new();
    let mut seen = HashSet::new();
    let accounts = trie::walk_nodes(src, root, f, &mut |leaf| {
        let account = Account::from_trie_rlp(leaf)?;
        if account.storage_root != EMPTY_ROOT && seen.insert(account.storage_root) {
            storage_roots.push(account.storage_root);
        }
        Ok(())
    })?;
    drop(seen);
    for root in storage_roots {
        trie::walk_nodes(src, root, f, &mut |_| Ok(()))?;
    }
    Ok(accounts)
}

/// What [`Store::verify_import`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportedState {
    /// Accounts.
    pub accounts: u64,
    /// Non-zero storage slots.
    pub slots: u64,
}

impl Store {
    /// Freezes the head state for export. Fails on a store without a head.
    pub fn head_reader(&self) -> Result<HeadReader, StorageError> {
        let txn = self.db.begin_read()?;
        let head = read_head(&txn)?.ok_or_else(|| self.inconsistent("no head block".into()))?;
        let header = read_header(&txn, &head)?.ok_or(StorageError::UnknownBlock(head))?;
        let nodes = txn.open_table(NODES)?;
        Ok(HeadReader {
            head,
            header,
            txn,
            nodes,
        })
    }

    fn refuse_if_headed(&self) -> Result<(), StorageError> {
        match self.head_hash()? {
            Some(head) => Err(self.inconsistent(format!(
                "an import needs an empty store, this one has head {head}"
            ))),
            None => Ok(()),
        }
    }

    /// Writes accounts of an import (one transaction). Only into a store without a head.
    pub fn import_accounts(&self, accounts: &[(Address, Account)]) -> Result<(), StorageError> {
        self.refuse_if_headed()?;
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(ACCOUNTS)?;
            for (address, account) in accounts {
                table.insert(&address.0.0, account.encode_flat().as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Writes storage slots `(address, hashed slot, value)` of an import; zero values are
    /// refused (the flat state holds none).
    pub fn import_slots(&self, slots: &[(Address, B256, U256)]) -> Result<(), StorageError> {
        self.refuse_if_headed()?;
        if slots.iter().any(|(_, _, value)| value.is_zero()) {
            return Err(StorageError::CorruptRecord {
                table: "storage",
                reason: "a zero slot value",
            });
        }
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(crate::store::STORAGE)?;
            for (address, slot, value) in slots {
                table.insert(&storage_key(address, slot), &value.to_be_bytes::<32>())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Writes contract codes of an import, keyed by their keccak256 (computed here).
    pub fn import_codes<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), StorageError> {
        self.import_by_hash(CODE, codes)
    }

    /// Writes trie nodes of an import, keyed by their keccak256 (computed here), so no node can
    /// stand for a hash it does not have.
    pub fn import_trie_nodes<'a>(
        &self,
        nodes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), StorageError> {
        self.import_by_hash(NODES, nodes)
    }

    fn import_by_hash<'a>(
        &self,
        def: redb::TableDefinition<'_, &'static [u8; 32], &[u8]>,
        values: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), StorageError> {
        self.refuse_if_headed()?;
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(def)?;
            for value in values {
                table.insert(&keccak256(value).0, value)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Writes blocks of an import (headers, bodies, receipts; not yet canonical).
    pub fn import_blocks(&self, blocks: &[StoredBlock]) -> Result<(), StorageError> {
        self.refuse_if_headed()?;
        let txn = self.db.begin_write()?;
        {
            let mut headers = txn.open_table(HEADERS)?;
            let mut bodies = txn.open_table(BODIES)?;
            let mut receipts = txn.open_table(RECEIPTS)?;
            let mut rlp = Vec::with_capacity(600);
            for block in blocks {
                rlp.clear();
                block.header.encode(&mut rlp);
                let hash = keccak256(&rlp);
                headers.insert(&hash.0, rlp.as_slice())?;
                bodies.insert(&hash.0, block.body.as_slice())?;
                receipts.insert(&hash.0, block.receipts.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Proves the imported state is the state of `base`'s header and whole: every trie node
    /// under its state root (and every storage root) is present, the flat state has exactly the
    /// trie's accounts with the same values, each account's flat storage hashes to its storage
    /// root, and every code is present. Memory stays bounded by the trie's depth.
    pub fn verify_import(&self, base: &B256) -> Result<ImportedState, StorageError> {
        let txn = self.db.begin_read()?;
        let header = read_header(&txn, base)?.ok_or(StorageError::UnknownBlock(*base))?;
        let nodes = txn.open_table(NODES)?;
        let src = ImportSource { nodes };
        let root = header.state_root;
        let trie_accounts = walk_state(&src, root, &mut |_, _| Ok(()))?;

        let accounts = txn.open_table(ACCOUNTS)?;
        let storage = txn.open_table(crate::store::STORAGE)?;
        let code = txn.open_table(CODE)?;
        let mut found = ImportedState::default();
        let mut slots = storage.iter()?;
        let mut next_slot = || -> Result<Option<([u8; 52], U256)>, StorageError> {
            Ok(slots
                .next()
                .transpose()?
                .map(|(k, v)| (*k.value(), U256::from_be_bytes(*v.value()))))
        };
        let mut slot = next_slot()?;
        for entry in accounts.iter()? {
            let (address, value) = entry?;
            let address = Address::from(*address.value());
            let account = Account::decode_flat(value.value())?;
            let mismatch = |what: &str| {
                self.inconsistent(format!("account {address}: {what} (state root {root})"))
            };
            // Slots come in key order, so this account's are next; any before it belong to no
            // account.
            let mut hb = HashBuilder::default();
            while let Some((key, value)) = slot.filter(|(key, _)| key[..20] <= address.0.0[..]) {
                if key[..20] < address.0.0[..] {
                    return Err(self.inconsistent(format!(
                        "storage of {} without an account",
                        Address::from_slice(&key[..20])
                    )));
                }
                hb.add_leaf(Nibbles::unpack(&key[20..]), &alloy_rlp::encode(value));
                found.slots += 1;
                slot = next_slot()?;
            }
            if hb.root() != account.storage_root {
                return Err(mismatch("its storage does not hash to its storage root"));
            }
            let in_trie = trie::get(&src, root, &keccak256(address), None)?;
            if in_trie.as_deref() != Some(account.trie_rlp().as_slice()) {
                return Err(mismatch("the state trie holds other values"));
            }
            if account.code_hash != EMPTY_CODE_HASH && code.get(&account.code_hash.0)?.is_none() {
                return Err(mismatch("its code is missing"));
            }
            found.accounts += 1;
        }
        if let Some((key, _)) = slot {
            return Err(self.inconsistent(format!(
                "storage of {} without an account",
                Address::from_slice(&key[..20])
            )));
        }
        if found.accounts != trie_accounts {
            return Err(self.inconsistent(format!(
                "the flat state has {} accounts, the state trie {trie_accounts}",
                found.accounts
            )));
        }
        Ok(found)
    }

    /// Ends an import at `base`: its header must be imported and its ancestors' headers, as far
    /// back as they were imported, must link up. Makes them canonical, `base` the head, the safe
    /// and the finalized block, and the floor no reorg may go below. One transaction; a store
    /// interrupted before it has no head.
    pub fn finish_import(&self, base: &B256) -> Result<(), StorageError> {
        self.refuse_if_headed()?;
        let txn = self.db.begin_write()?;
        let header = read_header(&txn, base)?.ok_or(StorageError::UnknownBlock(*base))?;
        if header.state_root != EMPTY_ROOT && txn.get_bytes(NODES, &header.state_root.0)?.is_none()
        {
            return Err(StorageError::MissingTrieNode(header.state_root));
        }
        {
            let mut canonical = txn.open_table(CANONICAL)?;
            let (mut hash, mut number, mut parent) = (*base, header.number, header.parent_hash);
            loop {
                canonical.insert(number, &hash.0)?;
                if number == 0 {
                    break;
                }
                match read_header(&txn, &parent)? {
                    Some(h) if h.number + 1 == number => {
                        (hash, number, parent) = (parent, h.number, h.parent_hash);
                    }
                    Some(_) => {
                        return Err(self.inconsistent(format!(
                            "block {parent} is not numbered {}",
                            number - 1
                        )));
                    }
                    None => break,
                }
            }
            // The base has no parent state here: its changeset is empty, and the base marker
            // stops any reorg that would revert it.
            txn.open_table(CHANGESETS)?
                .insert(&base.0, Changeset::default().encode().as_slice())?;
            let mut meta = txn.open_table(META)?;
            meta.insert(META_BASE, base.as_slice())?;
            meta.insert(META_HEAD, base.as_slice())?;
            for label in [BlockLabel::Safe, BlockLabel::Finalized] {
                meta.insert(label.key(), base.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// The block an imported store started from; `None` for a store built from genesis.
    pub fn base(&self) -> Result<Option<B256>, StorageError> {
        let txn = self.db.begin_read()?;
        txn.get_bytes(META, META_BASE)?
            .map(|b| crate::store::as32(&b, "meta"))
            .transpose()
    }

    /// Every header in the store decodes (a check for imported ones).
    pub fn check_headers(&self) -> Result<u64, StorageError> {
        let txn = self.db.begin_read()?;
        let mut count = 0;
        for entry in txn.open_table(HEADERS)?.iter()? {
            decode_header(entry?.1.value())?;
            count += 1;
        }
        Ok(count)
    }
}

struct ImportSource {
    nodes: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
}

impl NodeSource for ImportSource {
    fn node(&self, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError> {
        Ok(self.nodes.get(&hash.0)?.map(|v| v.value().into()))
    }
}
