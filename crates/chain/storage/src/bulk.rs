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
use redb::{
    ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
};
use std::{
    cmp::Ordering,
    collections::{BinaryHeap, HashSet},
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
        crate::node_records::read(&self.nodes, hash)
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
    ///
    /// This and the other `for_each_*` calls stop at the first error, the store's or `f`'s: `f`
    /// fails with the caller's own error type, into which the store's errors convert.
    pub fn for_each_recent_block<E: From<StorageError>>(
        &self,
        count: u64,
        f: &mut impl FnMut(StoredBlock) -> Result<(), E>,
    ) -> Result<(), E> {
        let canonical = self.txn.open_table(CANONICAL).map_err(StorageError::from)?;
        let first = (self.header.number + 1).saturating_sub(count);
        for number in first..=self.header.number {
            let Some(hash) = canonical
                .get(number)
                .map_err(StorageError::from)?
                .map(|v| B256::from(*v.value()))
            else {
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
    pub fn for_each_account<E: From<StorageError>>(
        &self,
        f: &mut impl FnMut(Address, Account) -> Result<(), E>,
    ) -> Result<(), E> {
        let accounts = self.txn.open_table(ACCOUNTS).map_err(StorageError::from)?;
        for entry in accounts.iter().map_err(StorageError::from)? {
            let (address, value) = entry.map_err(StorageError::from)?;
            f(
                Address::from(*address.value()),
                Account::decode_flat(value.value())?,
            )?;
        }
        Ok(())
    }

    /// Calls `f(address, hashed slot, value)` for every non-zero slot of the head state, by
    /// address then hashed slot.
    pub fn for_each_slot<E: From<StorageError>>(
        &self,
        f: &mut impl FnMut(Address, B256, U256) -> Result<(), E>,
    ) -> Result<(), E> {
        let storage = self
            .txn
            .open_table(crate::store::STORAGE)
            .map_err(StorageError::from)?;
        for entry in storage.iter().map_err(StorageError::from)? {
            let (key, value) = entry.map_err(StorageError::from)?;
            let key = key.value();
            f(
                Address::from_slice(&key[..20]),
                B256::from_slice(&key[20..]),
                U256::from_be_bytes(*value.value()),
            )?;
        }
        Ok(())
    }

    /// Calls `f(hash, code)` for each of `hashes`, in their order: the code hashes the caller
    /// collected from the head state's accounts (in its [`HeadReader::for_each_account`] pass).
    /// A code the store does not hold is an error.
    pub fn for_each_code<E: From<StorageError>>(
        &self,
        hashes: impl IntoIterator<Item = B256>,
        f: &mut impl FnMut(B256, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let code = self.txn.open_table(CODE).map_err(StorageError::from)?;
        for hash in hashes {
            let bytes = code.get(&hash.0).map_err(StorageError::from)?.ok_or(
                StorageError::CorruptRecord {
                    table: "code",
                    reason: "an account's code is missing",
                },
            )?;
            f(hash, bytes.value())?;
        }
        Ok(())
    }

    /// Calls `f(hash, rlp)` for every trie node of the head state: the account trie and each
    /// distinct storage trie, each node once per trie it appears in.
    pub fn for_each_trie_node<E: From<StorageError>>(
        &self,
        f: &mut impl FnMut(&B256, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        // The trie walk's callbacks fail with storage errors: `f`'s own error waits here while
        // a placeholder stops the walk, and is what this returns.
        let mut stopped_by = None;
        let walked = walk_state(self, self.header.state_root, &mut |hash, rlp| {
            f(hash, rlp).map_err(|e| {
                stopped_by = Some(e);
                StorageError::CorruptRecord {
                    table: "trie nodes",
                    reason: "the walk was stopped by its caller",
                }
            })
        });
        match stopped_by {
            Some(e) => Err(e),
            None => walked.map(|_| ()).map_err(E::from),
        }
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

    /// A write transaction of an import, committed without waiting for the disk: nothing an
    /// unfinished import wrote is worth keeping (its file is discarded on the next try), and
    /// [`Store::finish_import`]'s durable commit makes all of it durable at once.
    fn import_txn(&self) -> Result<redb::WriteTransaction, StorageError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(redb::Durability::None)?;
        Ok(txn)
    }

    /// Writes accounts of an import (one transaction). Only into a store without a head.
    pub fn import_accounts(&self, accounts: &[(Address, Account)]) -> Result<(), StorageError> {
        self.refuse_if_headed()?;
        let txn = self.import_txn()?;
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
        let txn = self.import_txn()?;
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
        let txn = self.import_txn()?;
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
        let txn = self.import_txn()?;
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
    /// under its state root (and every storage root) is present, the flat accounts hash to that
    /// state root (so they are exactly the trie's accounts, with the same values), each account's
    /// flat storage hashes to its storage root, and every code is present.
    ///
    /// No account is looked up in the trie: the flat accounts, which come by address, are fed to a
    /// hash builder by `keccak(address)`, sorted in batches of about a million (128 MiB): one
    /// pass over them for a state of up to a batch, one more per further batch. Memory stays
    /// bounded by the trie's depth and one batch. Only a refused import looks accounts up in the
    /// trie, to name one that differs.
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
        let mut hashed = HashedAccounts::new(accounts.len()?, SORT_BATCH);
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
            if account.code_hash != EMPTY_CODE_HASH && code.get(&account.code_hash.0)?.is_none() {
                return Err(mismatch("its code is missing"));
            }
            hashed.offer(keccak256(address), account);
            found.accounts += 1;
        }
        if let Some((key, _)) = slot {
            return Err(self.inconsistent(format!(
                "storage of {} without an account",
                Address::from_slice(&key[..20])
            )));
        }
        // Further passes only when the state has more accounts than one batch holds.
        while hashed.feed() && hashed.fed < found.accounts {
            for entry in accounts.iter()? {
                let (address, value) = entry?;
                hashed.offer(
                    keccak256(Address::from(*address.value())),
                    Account::decode_flat(value.value())?,
                );
            }
        }
        let flat_root = hashed.root();
        if flat_root == root && hashed.fed == found.accounts && found.accounts == trie_accounts {
            return Ok(found);
        }
        // Refused: name an account the trie holds otherwise, if there is one.
        for entry in accounts.iter()? {
            let (address, value) = entry?;
            let address = Address::from(*address.value());
            let account = Account::decode_flat(value.value())?;
            let in_trie = trie::get(&src, root, &keccak256(address), None)?;
            if in_trie.as_deref() != Some(account.trie_rlp().as_slice()) {
                return Err(self.inconsistent(format!(
                    "account {address}: the state trie holds other values (state root {root})"
                )));
            }
        }
        Err(self.inconsistent(if found.accounts != trie_accounts {
            format!(
                "the flat state has {} accounts, the state trie {trie_accounts}",
                found.accounts
            )
        } else {
            format!("the flat accounts hash to {flat_root}, not to the state root {root}")
        }))
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

/// Flat accounts a pass over [`Store::verify_import`] keeps at most, as `(keccak(address),
/// account)` (136 bytes each): 128 MiB.
const SORT_BATCH: usize = (128 << 20) / std::mem::size_of::<HashedAccount>();

/// An account keyed by `keccak(address)`, its key in the state trie; ordered by that key alone.
struct HashedAccount(B256, Account);

impl PartialEq for HashedAccount {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for HashedAccount {}

impl PartialOrd for HashedAccount {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HashedAccount {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// The state root of accounts offered in any order, in bounded memory: each pass over them keeps
/// the `limit` ([`SORT_BATCH`]) smallest keys above those already fed to the hash builder, then
/// feeds them in key order; passes repeat until every account is fed. Whatever the keys'
/// distribution (an adversary may grind addresses into one corner of the key space), a pass
/// holds one batch at most.
struct HashedAccounts {
    hb: HashBuilder,
    /// The smallest keys of this pass not yet fed, as a max-heap.
    batch: BinaryHeap<HashedAccount>,
    /// The most a pass keeps.
    limit: usize,
    /// Accounts still to feed, as far as known (sizes the batch).
    remaining: u64,
    /// The largest key fed so far.
    fed_up_to: Option<B256>,
    /// Accounts fed so far.
    fed: u64,
}

impl HashedAccounts {
    /// For about `accounts` accounts, `limit` a pass.
    fn new(accounts: u64, limit: usize) -> Self {
        Self {
            hb: HashBuilder::default(),
            batch: BinaryHeap::new(),
            limit: limit.max(1),
            remaining: accounts,
            fed_up_to: None,
            fed: 0,
        }
    }

    /// Keeps `account` for this pass if its key is one of the batch's smallest not yet fed.
    fn offer(&mut self, key: B256, account: Account) {
        if self.fed_up_to.is_some_and(|fed| key <= fed) {
            return;
        }
        if self.batch.len() < self.limit {
            if self.batch.capacity() == 0 {
                // Sized once per pass: no reallocation holds two copies of a batch.
                let expected = usize::try_from(self.remaining).unwrap_or(usize::MAX);
                self.batch.reserve_exact(expected.clamp(1, self.limit));
            }
            self.batch.push(HashedAccount(key, account));
        } else if let Some(mut largest) = self.batch.peek_mut()
            && key < largest.0
        {
            *largest = HashedAccount(key, account);
        }
    }

    /// Ends a pass: feeds its batch in key order. `false` when it had nothing to feed.
    fn feed(&mut self) -> bool {
        let mut batch = std::mem::take(&mut self.batch).into_vec();
        batch.sort_unstable();
        for HashedAccount(key, account) in &batch {
            self.hb.add_leaf(Nibbles::unpack(key), &account.trie_rlp());
            self.fed_up_to = Some(*key);
            self.fed += 1;
        }
        self.remaining = self.remaining.saturating_sub(batch.len() as u64);
        !batch.is_empty()
    }

    fn root(&mut self) -> B256 {
        self.hb.root()
    }
}

struct ImportSource {
    nodes: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
}

impl NodeSource for ImportSource {
    fn node(&self, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError> {
        crate::node_records::read(&self.nodes, hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(i: u64) -> Account {
        Account {
            nonce: i,
            balance: U256::from(i * 7),
            ..Account::default()
        }
    }

    /// The root of `keys` by a plain in-memory sort.
    fn sorted_root(keys: &[B256]) -> B256 {
        let mut leaves: Vec<_> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        leaves.sort_unstable();
        let mut hb = HashBuilder::default();
        for (key, i) in leaves {
            hb.add_leaf(Nibbles::unpack(key), &account(i as u64).trie_rlp());
        }
        hb.root()
    }

    /// Passes as `verify_import` runs them: the root, the passes and the accounts fed.
    fn passes_root(keys: &[B256], limit: usize) -> (B256, usize, u64) {
        let mut hashed = HashedAccounts::new(keys.len() as u64, limit);
        let mut passes = 0;
        loop {
            for (i, key) in keys.iter().enumerate() {
                hashed.offer(*key, account(i as u64));
            }
            passes += 1;
            if !hashed.feed() || hashed.fed >= keys.len() as u64 {
                break;
            }
        }
        (hashed.root(), passes, hashed.fed)
    }

    #[test]
    fn batches_of_any_size_hash_like_one_sort_in_the_passes_they_need() {
        let random: Vec<B256> = (0..500u64).map(|i| keccak256(i.to_be_bytes())).collect();
        // Keys bunched at the low end of the key space (ground by an adversary) batch the same.
        let bunched: Vec<B256> = (0..500u64)
            .map(|i| B256::left_padding_from(&(1_000 - i).to_be_bytes()))
            .collect();
        for keys in [&random, &bunched] {
            let expected = sorted_root(keys);
            for (limit, passes) in [(1, 500), (7, 72), (499, 2), (500, 1), (10_000, 1)] {
                assert_eq!(
                    passes_root(keys, limit),
                    (expected, passes, 500),
                    "limit {limit}"
                );
            }
        }
        assert_eq!(passes_root(&[], 7), (EMPTY_ROOT, 1, 0));
    }
}
