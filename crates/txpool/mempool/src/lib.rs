//! The aegis transaction pool.
//!
//! Validates transactions the way geth does (same error texts: `nonce too low`,
//! `insufficient funds for gas * price + value`, `replacement transaction underpriced`, …),
//! keeps them per sender in nonce order, split into *pending* (executable now: consecutive
//! nonces from the account's state nonce) and *queued* (behind a nonce gap), replaces a
//! transaction only for a 10 % fee bump, bounds its size with per-sender limits and evicts the
//! lowest-paying transactions when full, and revalidates everything after each new head.
//! [`Pool::best`] hands the builder pending transactions through the executor's
//! [`PoolTxSource`] ordering interface, which keeps per-sender nonce order, with the
//! `miner_setMaxDASize` limits for the builder to enforce.
//!
//! Like geth, a sender's pending and queued transactions must be affordable together (their
//! cumulative cost), and queued transactions of a sender not heard from for
//! [`PoolConfig::lifetime`] expire. Queued transactions have bounds of their own, per sender
//! and for the whole pool ([`PoolConfig::account_queue`], [`PoolConfig::global_queue`], geth's
//! `--txpool.accountqueue` / `--txpool.globalqueue`), and never take an executable one's place:
//! a full pool makes room for an executable transaction by evicting a queued one first, so a
//! burst that arrives out of nonce order (gaps cut by refused transactions) cannot clog it.
//!
//! Every transaction reaches a sequencer through its RPC, so all are local in geth's sense:
//! with a [`Journal`] attached ([`Pool::open_journal`]) each accepted transaction is journaled
//! and replayed after a restart. Transactions that arrived encrypted ([`Pool::add_private`])
//! are the exception: until included they are never journaled and never shown (`public_*`
//! views) — the flag lives under the same lock as the transaction, so no journal rewrite can
//! see one without it.

mod journal;

pub use journal::{Journal, decode_records};

use aegis_executor::{
    DaLimits, Executor, ExecutorError, FeeOrderedTxs, L1Fees, PoolTx, PoolTxSource, TxOrdering,
    TxPool,
};
use aegis_storage::StateView;
use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, U256};
use op_alloy_consensus::OpTxEnvelope;
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::Path,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

/// Why a transaction was refused; `Display` is geth's text where geth has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Nonce below the account's.
    #[error("nonce too low")]
    NonceTooLow,
    /// Nonce too far ahead of the account's (beyond the per-sender queue).
    #[error("nonce too high")]
    NonceTooHigh,
    /// Balance does not cover `gas * price + value + L1 fee`.
    #[error("insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// Same sender and nonce, fees not bumped enough.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// Fee below the pool's floor.
    #[error("transaction underpriced")]
    Underpriced,
    /// Encoded size above the limit.
    #[error("oversized data")]
    OversizedData,
    /// Signature does not recover.
    #[error("invalid sender")]
    InvalidSender,
    /// No room and the transaction does not pay more than what is there.
    #[error("txpool is full")]
    PoolFull,
    /// Gas limit above the block gas limit.
    #[error("exceeds block gas limit")]
    ExceedsBlockGasLimit,
    /// Wrong or missing (pre-EIP-155 legacy) chain id.
    #[error("invalid chain id")]
    InvalidChainId,
    /// Deposits and blob transactions never come from the pool.
    #[error("transaction type not supported")]
    TxTypeNotSupported,
    /// Gas limit below the intrinsic gas.
    #[error("intrinsic gas too low")]
    IntrinsicGasTooLow,
    /// Already in the pool.
    #[error("already known")]
    AlreadyKnown,
    /// The sender already has [`PoolConfig::account_queue`] transactions behind a nonce gap.
    #[error("account limit exceeded")]
    AccountLimitExceeded,
}

/// Pool limits and policy.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most transactions held (pending + queued).
    pub capacity: usize,
    /// Most transactions one sender may hold.
    pub per_sender: usize,
    /// Largest encoded transaction.
    pub max_tx_bytes: usize,
    /// Fee bump a replacement needs, in percent.
    pub price_bump_percent: u128,
    /// Lowest max fee per gas accepted.
    pub min_fee_per_gas: u128,
    /// How long a sender's queued (non-executable) transactions stay without news from it
    /// (geth's `--txpool.lifetime`).
    pub lifetime: std::time::Duration,
    /// Most queued (non-executable) transactions one sender may hold (geth's
    /// `--txpool.accountqueue`).
    pub account_queue: usize,
    /// Most queued transactions the pool holds (geth's `--txpool.globalqueue`).
    pub global_queue: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            per_sender: 1_024,
            max_tx_bytes: 128 * 1024,
            price_bump_percent: 10,
            min_fee_per_gas: 1,
            lifetime: std::time::Duration::from_secs(3 * 60 * 60),
            account_queue: 64,
            global_queue: 1_024,
        }
    }
}

/// The chain state a transaction is validated against.
pub trait ChainState {
    /// Nonce and balance of `address` at the head.
    fn account(&self, address: &Address) -> (u64, U256);
    /// The chain id.
    fn chain_id(&self) -> u64;
    /// The head's gas limit.
    fn block_gas_limit(&self) -> u64;
    /// The L1 data fee `tx` (EIP-2718 bytes) would pay.
    fn l1_fee(&self, encoded: &[u8]) -> U256;
    /// Whether the next block accepts EIP-7702 transactions (Isthmus, OP's Prague).
    fn accepts_eip7702(&self) -> bool {
        true
    }
}

/// Counts for `txpool_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Executable now.
    pub pending: usize,
    /// Waiting behind a nonce gap.
    pub queued: usize,
}

/// Pool transactions by sender and nonce.
pub type BySender = BTreeMap<Address, BTreeMap<u64, PoolTx>>;

/// The pool's content for `txpool_content`.
#[derive(Debug, Default)]
pub struct PoolContent {
    /// Executable now.
    pub pending: BySender,
    /// Behind a nonce gap.
    pub queued: BySender,
}

#[derive(Debug, Default)]
struct Inner {
    by_sender: HashMap<Address, BTreeMap<u64, PoolTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
    /// The state nonce of each sender, as of the last validation.
    state_nonce: HashMap<Address, u64>,
    /// When each sender last had a transaction accepted (geth's heartbeat, for expiry).
    beats: HashMap<Address, Instant>,
    /// Hashes of held transactions that arrived encrypted.
    private: HashSet<B256>,
    /// Queued transactions per sender (absent: none), kept by [`Inner::recount`].
    queued: HashMap<Address, usize>,
    /// Their sum.
    queued_total: usize,
    /// Each held transaction's cost as of its admission (gas × max fee + value + L1 fee), as
    /// op-geth's pool keeps it: the L1 fee's compression estimate is too dear to redo for a
    /// sender's every transaction on each insert.
    costs: HashMap<B256, U256>,
}

impl Inner {
    /// The first nonce of `sender` from `state_nonce` on that it holds no transaction for
    /// (only those `counts` accepts count): a transaction with this nonce or a lower one (a
    /// replacement) is executable, a higher one is queued.
    fn next_nonce(
        &self,
        sender: &Address,
        state_nonce: u64,
        counts: impl Fn(&PoolTx) -> bool,
    ) -> u64 {
        let mut next = state_nonce;
        if let Some(txs) = self.by_sender.get(sender) {
            while let Some(tx) = txs.get(&next) {
                if !counts(tx) {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Recounts `sender`'s queued transactions after its transactions or state nonce changed.
    fn recount(&mut self, sender: &Address) {
        let state_nonce = self.state_nonce.get(sender).copied().unwrap_or_default();
        let next = self.next_nonce(sender, state_nonce, |_| true);
        let queued = self
            .by_sender
            .get(sender)
            .map_or(0, |txs| txs.range(next..).count());
        let before = if queued == 0 {
            self.queued.remove(sender)
        } else {
            self.queued.insert(*sender, queued)
        };
        self.queued_total = self.queued_total + queued - before.unwrap_or(0);
    }

    /// The queued transaction to evict first: the last of a sender with queued ones, lowest
    /// tip first.
    fn cheapest_queued(&self) -> Option<(Address, u64)> {
        self.queued
            .keys()
            .filter_map(|sender| {
                let (nonce, tx) = self.by_sender.get(sender)?.iter().next_back()?;
                Some((tip(tx), *sender, *nonce))
            })
            .min()
            .map(|(_, sender, nonce)| (sender, nonce))
    }

    /// What `sender`'s held transactions other than nonce `except` may cost together.
    fn committed_cost(&self, sender: &Address, except: u64, state: &dyn ChainState) -> U256 {
        self.by_sender.get(sender).map_or(U256::ZERO, |txs| {
            txs.iter()
                .filter(|(nonce, _)| **nonce != except)
                .fold(U256::ZERO, |sum, (_, tx)| {
                    sum.saturating_add(self.cost_of(tx, state))
                })
        })
    }

    /// A held transaction's admission cost.
    fn cost_of(&self, tx: &PoolTx, state: &dyn ChainState) -> U256 {
        self.costs
            .get(&tx.hash())
            .copied()
            .unwrap_or_else(|| cost(tx, state))
    }
}

/// The transaction pool.
#[derive(Debug, Default)]
pub struct Pool {
    config: PoolConfig,
    inner: RwLock<Inner>,
    /// Bumped on every change, so payload jobs know when a rebuild can improve.
    version: AtomicU64,
    /// Where accepted transactions are journaled, if anywhere.
    journal: Mutex<Option<Journal>>,
    /// The block ordering strategy; fee priority when unset.
    ordering: RwLock<Option<Arc<dyn TxOrdering>>>,
    /// `miner_setMaxDASize` limits handed to the builder.
    da_limits: RwLock<DaLimits>,
}

/// The canonical head as the pool validates against it.
#[derive(Debug)]
pub struct HeadState {
    view: StateView,
    chain_id: u64,
    gas_limit: u64,
    fees: L1Fees,
    isthmus: bool,
}

impl HeadState {
    /// The state after the executor's canonical head.
    pub fn at_head(executor: &Executor) -> Result<Self, ExecutorError> {
        let store = executor.store();
        let head = store
            .head()?
            .ok_or(ExecutorError::Execution("no head".into()))?;
        let hash = head.hash_slow();
        Ok(Self {
            view: store.state_at(&hash)?,
            chain_id: executor.spec().chain_id,
            gas_limit: head.gas_limit,
            fees: executor.l1_fees(&hash)?,
            isthmus: executor
                .spec()
                .forks
                .is_active(aegis_chainspec::OpFork::Isthmus, head.timestamp + 1),
        })
    }
}

impl ChainState for HeadState {
    fn account(&self, address: &Address) -> (u64, U256) {
        match self.view.account(address) {
            Ok(Some(account)) => (account.nonce, account.balance),
            Ok(None) => (0, U256::ZERO),
            Err(error) => {
                tracing::warn!(target: "aegis::pool", %error, "state read failed");
                (0, U256::ZERO)
            }
        }
    }
    fn chain_id(&self) -> u64 {
        self.chain_id
    }
    fn block_gas_limit(&self) -> u64 {
        self.gas_limit
    }
    fn l1_fee(&self, encoded: &[u8]) -> U256 {
        self.fees.l1_fee(encoded)
    }
    fn accepts_eip7702(&self) -> bool {
        self.isthmus
    }
}

impl TxPool for Pool {
    fn best_transactions(&self, base_fee: u64) -> Box<dyn PoolTxSource + Send> {
        let ordering = self.ordering.read().expect("ordering lock").clone();
        match ordering {
            Some(ordering) => {
                let pending = Self::split(&self.inner.read().expect("pool lock")).pending;
                let txs = pending
                    .into_values()
                    .flat_map(BTreeMap::into_values)
                    .collect();
                ordering.order(txs, base_fee, *self.da_limits.read().expect("limits lock"))
            }
            None => Box::new(self.best(base_fee)),
        }
    }
    fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
    fn pending_gas(&self) -> u64 {
        Pool::pending_gas(self)
    }
    fn on_new_head(&self, executor: &Executor) {
        match HeadState::at_head(executor) {
            Ok(state) => self.revalidate(&state),
            Err(error) => tracing::warn!(target: "aegis::pool", %error, "revalidation skipped"),
        }
    }
    fn set_da_limits(&self, limits: DaLimits) {
        Pool::set_da_limits(self, limits);
    }
}

/// Gas every transaction pays before executing (EIP-2028, EIP-2930, EIP-3860, EIP-7702) and the
/// EIP-7623 calldata floor; a gas limit must cover the larger.
pub fn intrinsic_gas(tx: &OpTxEnvelope) -> u64 {
    let input = tx.input();
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = input.len() as u64 - zeros;
    let mut gas = 21_000 + zeros * 4 + non_zeros * 16;
    if tx.kind().is_create() {
        gas += 32_000 + 2 * input.len().div_ceil(32) as u64;
    }
    if let Some(list) = tx.access_list() {
        gas += list
            .iter()
            .map(|item| 2_400 + 1_900 * item.storage_keys.len() as u64)
            .sum::<u64>();
    }
    if let Some(auths) = tx.authorization_list() {
        gas += 25_000 * auths.len() as u64;
    }
    let floor = 21_000 + 10 * (zeros + 4 * non_zeros);
    gas.max(floor)
}

/// Most a transaction can cost its sender: `gas * maxFee + value + L1 fee`.
fn cost(tx: &PoolTx, state: &dyn ChainState) -> U256 {
    let envelope = tx.envelope();
    U256::from(envelope.gas_limit())
        .saturating_mul(U256::from(max_fee(tx)))
        .saturating_add(envelope.value())
        .saturating_add(state.l1_fee(tx.encoded()))
}

fn max_fee(tx: &PoolTx) -> u128 {
    tx.envelope().max_fee_per_gas()
}

fn tip(tx: &PoolTx) -> u128 {
    tx.envelope()
        .max_priority_fee_per_gas()
        .unwrap_or_else(|| tx.envelope().max_fee_per_gas())
}

impl Pool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            inner: RwLock::default(),
            version: AtomicU64::new(0),
            journal: Mutex::default(),
            da_limits: RwLock::default(),
            ordering: RwLock::default(),
        }
    }

    /// Attaches the journal at `path`: replays what it holds into the pool (transactions that
    /// are no longer valid are dropped), rewrites it with what was kept, and journals every
    /// transaction accepted from now on. Returns how many were restored.
    pub fn open_journal(
        &self,
        path: impl AsRef<Path>,
        state: &dyn ChainState,
    ) -> std::io::Result<usize> {
        let (mut journal, records) = Journal::open(path)?;
        let before = self.len();
        for raw in records {
            // Stale, replaced or now-invalid records simply do not come back.
            if let Ok(tx) = PoolTx::decode(raw) {
                let _ = self.add(tx, state);
            }
        }
        let restored = self.len().saturating_sub(before);
        journal.rewrite(&self.raw_transactions())?;
        *self.journal.lock().expect("journal lock") = Some(journal);
        Ok(restored)
    }

    /// Encoded transactions in (sender, nonce) order, for the journal: every held one except
    /// those that arrived encrypted, read under one lock with their flags.
    fn raw_transactions(&self) -> Vec<alloy_primitives::Bytes> {
        let inner = self.inner.read().expect("pool lock");
        let mut senders: Vec<_> = inner.by_sender.iter().collect();
        senders.sort_by_key(|(sender, _)| **sender);
        senders
            .into_iter()
            .flat_map(|(_, txs)| txs.values())
            .filter(|tx| !inner.private.contains(&tx.hash()))
            .map(|tx| tx.encoded().clone())
            .collect()
    }

    /// Validates and adds `tx` like [`Pool::add`], keeping it out of the journal and out of
    /// every public view until it is included: it arrived encrypted.
    pub fn add_private(&self, tx: PoolTx, state: &dyn ChainState) -> Result<B256, PoolError> {
        self.insert(tx, state, true)
    }

    /// Validates and adds `tx` like [`Pool::add`], then journals it.
    pub fn add_local(&self, tx: PoolTx, state: &dyn ChainState) -> Result<B256, PoolError> {
        let raw = tx.encoded().clone();
        let hash = self.add(tx, state)?;
        if let Some(journal) = self.journal.lock().expect("journal lock").as_mut()
            && let Err(error) = journal.append(&raw)
        {
            tracing::warn!(target: "aegis::pool", %error, "journal append failed");
        }
        Ok(hash)
    }

    /// Orders blocks with `ordering` from now on (and counts as a change, so payload jobs
    /// rebuild).
    pub fn set_ordering(&self, ordering: Arc<dyn TxOrdering>) {
        *self.ordering.write().expect("ordering lock") = Some(ordering);
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts as a change without one (the ordering's inputs, e.g. the risk level, moved).
    pub fn touch(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Sets the `miner_setMaxDASize` limits (0: unlimited).
    pub fn set_da_limits(&self, limits: DaLimits) {
        *self.da_limits.write().expect("limits lock") = limits;
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Rewrites the journal with the live public transactions now (a restart does the same).
    pub fn compact_journal(&self) -> std::io::Result<()> {
        self.rewrite_journal(|_| true)
    }

    fn rewrite_journal_if_stale(&self) {
        let live = self.len();
        if let Err(error) = self.rewrite_journal(|journal| journal.needs_rewrite(live)) {
            tracing::warn!(target: "aegis::pool", %error, "journal rewrite failed");
        }
    }

    /// Rewrites the journal when `wanted`. The snapshot is taken while the journal is locked,
    /// so a transaction journaled meanwhile cannot be lost by the rewrite.
    fn rewrite_journal(&self, wanted: impl FnOnce(&Journal) -> bool) -> std::io::Result<()> {
        let mut guard = self.journal.lock().expect("journal lock");
        match guard.as_mut() {
            Some(journal) if wanted(journal) => journal.rewrite(&self.raw_transactions()),
            _ => Ok(()),
        }
    }

    /// Validates `tx` against `state` and adds it; returns its hash.
    pub fn add(&self, tx: PoolTx, state: &dyn ChainState) -> Result<B256, PoolError> {
        self.insert(tx, state, false)
    }

    fn insert(&self, tx: PoolTx, state: &dyn ChainState, private: bool) -> Result<B256, PoolError> {
        let envelope = tx.envelope();
        let hash = tx.hash();
        if tx.is_deposit()
            || (matches!(envelope, OpTxEnvelope::Eip7702(_)) && !state.accepts_eip7702())
        {
            return Err(PoolError::TxTypeNotSupported);
        }
        if tx.encoded().len() > self.config.max_tx_bytes {
            return Err(PoolError::OversizedData);
        }
        match envelope.chain_id() {
            Some(id) if id == state.chain_id() => {}
            _ => return Err(PoolError::InvalidChainId),
        }
        if envelope.gas_limit() > state.block_gas_limit() {
            return Err(PoolError::ExceedsBlockGasLimit);
        }
        if envelope.gas_limit() < intrinsic_gas(envelope) {
            return Err(PoolError::IntrinsicGasTooLow);
        }
        if max_fee(&tx) < self.config.min_fee_per_gas {
            return Err(PoolError::Underpriced);
        }
        let sender = tx.sender();
        let (state_nonce, balance) = state.account(&sender);
        let nonce = tx.nonce();
        if nonce < state_nonce {
            return Err(PoolError::NonceTooLow);
        }
        if nonce >= state_nonce + self.config.per_sender as u64 {
            return Err(PoolError::NonceTooHigh);
        }
        let tx_cost = cost(&tx, state);
        if tx_cost > balance {
            return Err(PoolError::InsufficientFunds);
        }

        let mut inner = self.inner.write().expect("pool lock");
        if inner.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        // Everything the sender has queued must stay affordable together with this one.
        if inner
            .committed_cost(&sender, nonce, state)
            .saturating_add(tx_cost)
            > balance
        {
            return Err(PoolError::InsufficientFunds);
        }
        if inner.state_nonce.insert(sender, state_nonce) != Some(state_nonce) {
            inner.recount(&sender);
        }
        let replaced = inner
            .by_sender
            .get(&sender)
            .and_then(|txs| txs.get(&nonce))
            .cloned();
        let executable = nonce <= inner.next_nonce(&sender, state_nonce, |_| true);
        if let Some(old) = &replaced {
            let bump = |old: u128| old + old * self.config.price_bump_percent / 100;
            if max_fee(&tx) < bump(max_fee(old)) || tip(&tx) < bump(tip(old)) {
                return Err(PoolError::ReplacementUnderpriced);
            }
        } else if !executable {
            // Behind a gap: within the queue bounds, and never in place of anything.
            if inner.queued.get(&sender).copied().unwrap_or(0) >= self.config.account_queue {
                return Err(PoolError::AccountLimitExceeded);
            }
            if inner.queued_total >= self.config.global_queue
                || inner.by_hash.len() >= self.config.capacity
            {
                return Err(PoolError::PoolFull);
            }
        } else if inner.by_hash.len() >= self.config.capacity {
            // Full: an executable transaction takes a queued one's place first, then that of
            // an executable one paying less.
            let evict = match inner.cheapest_queued() {
                Some(queued) => Some(queued),
                None => inner
                    .by_sender
                    .iter()
                    .filter_map(|(s, txs)| txs.iter().next_back().map(|(n, t)| (tip(t), *s, *n)))
                    .min()
                    .filter(|(cheapest_tip, s, _)| *cheapest_tip < tip(&tx) && *s != sender)
                    .map(|(_, s, n)| (s, n)),
            };
            let Some((s, n)) = evict else {
                return Err(PoolError::PoolFull);
            };
            Self::remove_entry(&mut inner, &s, n);
            inner.recount(&s);
        }
        if let Some(old) = replaced {
            inner.by_hash.remove(&old.hash());
            inner.private.remove(&old.hash());
            inner.costs.remove(&old.hash());
        }
        inner.by_hash.insert(hash, (sender, nonce));
        inner.costs.insert(hash, tx_cost);
        if private {
            inner.private.insert(hash);
        }
        inner.beats.insert(sender, Instant::now());
        inner.by_sender.entry(sender).or_default().insert(nonce, tx);
        inner.recount(&sender);
        debug_assert_eq!(
            inner.costs.len(),
            inner.by_hash.len(),
            "a cost per held transaction"
        );
        self.version.fetch_add(1, Ordering::AcqRel);
        Ok(hash)
    }

    /// Removes one transaction; the caller recounts the sender's queue.
    fn remove_entry(inner: &mut Inner, sender: &Address, nonce: u64) {
        if let Some(txs) = inner.by_sender.get_mut(sender) {
            if let Some(tx) = txs.remove(&nonce) {
                inner.by_hash.remove(&tx.hash());
                inner.private.remove(&tx.hash());
                inner.costs.remove(&tx.hash());
            }
            if txs.is_empty() {
                inner.by_sender.remove(sender);
                inner.state_nonce.remove(sender);
                inner.beats.remove(sender);
            }
        }
    }

    /// After a new head: drops included (nonce below the state's) and over-limit
    /// transactions, then, in nonce order, every transaction from the first the balance no
    /// longer covers together with the ones before it; expires queued transactions of senders
    /// silent for longer than the lifetime. What remains is re-split into pending and queued.
    pub fn revalidate(&self, state: &dyn ChainState) {
        self.revalidate_at(state, Instant::now());
    }

    /// [`Pool::revalidate`] with the clock at `now`.
    pub fn revalidate_at(&self, state: &dyn ChainState, now: Instant) {
        self.version.fetch_add(1, Ordering::AcqRel);
        let mut inner = self.inner.write().expect("pool lock");
        let senders: Vec<Address> = inner.by_sender.keys().copied().collect();
        for sender in senders {
            let (state_nonce, balance) = state.account(&sender);
            inner.state_nonce.insert(sender, state_nonce);
            let txs = inner.by_sender.get(&sender).cloned().unwrap_or_default();
            let mut spent = U256::ZERO;
            let mut broke = false;
            for (nonce, tx) in txs {
                if nonce < state_nonce {
                    Self::remove_entry(&mut inner, &sender, nonce);
                    continue;
                }
                spent = spent.saturating_add(inner.cost_of(&tx, state));
                broke |= spent > balance;
                if broke || tx.gas_limit() > state.block_gas_limit() {
                    Self::remove_entry(&mut inner, &sender, nonce);
                }
            }
            inner.recount(&sender);
        }
        self.expire_queued(&mut inner, now);
        debug_assert_eq!(
            inner.costs.len(),
            inner.by_hash.len(),
            "a cost per held transaction"
        );
        drop(inner);
        self.rewrite_journal_if_stale();
        // Once per block: what dashboards show as the pool's size.
        let status = self.status();
        metrics::gauge!("aegis_txpool_pending").set(status.pending as f64);
        metrics::gauge!("aegis_txpool_queued").set(status.queued as f64);
    }

    /// Drops the queued transactions of senders with no accepted transaction for longer than
    /// the lifetime (pending ones stay: they go into the next block).
    fn expire_queued(&self, inner: &mut Inner, now: Instant) {
        let lifetime = self.config.lifetime;
        let silent: Vec<Address> = inner
            .beats
            .iter()
            .filter(|(_, beat)| now.saturating_duration_since(**beat) > lifetime)
            .map(|(sender, _)| *sender)
            .collect();
        for sender in silent {
            let mut next = inner.state_nonce.get(&sender).copied().unwrap_or_default();
            let queued: Vec<u64> = inner
                .by_sender
                .get(&sender)
                .into_iter()
                .flat_map(|txs| txs.keys().copied())
                .filter(|nonce| {
                    let pending = *nonce == next;
                    next = if pending { next + 1 } else { u64::MAX };
                    !pending
                })
                .collect();
            if !queued.is_empty() {
                tracing::debug!(target: "aegis::pool", expired = queued.len(), "queued transactions expired");
            }
            for nonce in queued {
                Self::remove_entry(inner, &sender, nonce);
            }
            inner.recount(&sender);
        }
    }

    /// Splits the pool into pending (consecutive nonces from the state nonce) and queued.
    fn split(inner: &Inner) -> PoolContent {
        let mut content = PoolContent::default();
        for (sender, txs) in &inner.by_sender {
            let mut next = inner.state_nonce.get(sender).copied().unwrap_or_default();
            for (nonce, tx) in txs {
                let bucket = if *nonce == next {
                    next += 1;
                    &mut content.pending
                } else {
                    // A gap: this and every later nonce waits.
                    next = u64::MAX;
                    &mut content.queued
                };
                bucket
                    .entry(*sender)
                    .or_default()
                    .insert(*nonce, tx.clone());
            }
        }
        content
    }

    /// Pending transactions ordered for a block with `base_fee` (fee priority, nonce order per
    /// sender).
    pub fn best(&self, base_fee: u64) -> FeeOrderedTxs {
        let pending = Self::split(&self.inner.read().expect("pool lock")).pending;
        FeeOrderedTxs::new(
            pending.into_values().flat_map(BTreeMap::into_values),
            base_fee,
        )
        .with_da_limits(*self.da_limits.read().expect("limits lock"))
    }

    /// Every transaction, split into pending and queued, by sender and nonce.
    pub fn content(&self) -> PoolContent {
        Self::split(&self.inner.read().expect("pool lock"))
    }

    /// What `txpool_content` shows: at most `limit` transactions, none that arrived encrypted.
    pub fn public_content(&self, limit: usize) -> PoolContent {
        let inner = self.inner.read().expect("pool lock");
        let mut content = PoolContent::default();
        let mut listed = 0;
        Self::visit(&inner, |pending, tx| {
            if listed >= limit || inner.private.contains(&tx.hash()) {
                return;
            }
            listed += 1;
            let bucket = if pending {
                &mut content.pending
            } else {
                &mut content.queued
            };
            bucket
                .entry(tx.sender())
                .or_default()
                .insert(tx.nonce(), tx.clone());
        });
        content
    }

    /// Visits every transaction with whether it is pending, without copying any.
    fn visit(inner: &Inner, mut f: impl FnMut(bool, &PoolTx)) {
        for (sender, txs) in &inner.by_sender {
            let mut next = inner.state_nonce.get(sender).copied().unwrap_or_default();
            for (nonce, tx) in txs {
                let pending = *nonce == next;
                next = if pending { next + 1 } else { u64::MAX };
                f(pending, tx);
            }
        }
    }

    /// Pending and queued counts.
    pub fn status(&self) -> PoolStatus {
        let mut status = PoolStatus::default();
        Self::visit(&self.inner.read().expect("pool lock"), |pending, _| {
            if pending {
                status.pending += 1;
            } else {
                status.queued += 1;
            }
        });
        status
    }

    /// Total gas limit of the pending transactions: whether a full block is waiting.
    pub fn pending_gas(&self) -> u64 {
        let mut gas = 0u64;
        Self::visit(&self.inner.read().expect("pool lock"), |pending, tx| {
            if pending {
                gas = gas.saturating_add(tx.gas_limit());
            }
        });
        gas
    }

    /// A transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<PoolTx> {
        let inner = self.inner.read().expect("pool lock");
        let (sender, nonce) = inner.by_hash.get(hash)?;
        inner.by_sender.get(sender)?.get(nonce).cloned()
    }

    /// A transaction by hash unless it arrived encrypted (`eth_getTransactionByHash`).
    pub fn get_public(&self, hash: &B256) -> Option<PoolTx> {
        let inner = self.inner.read().expect("pool lock");
        if inner.private.contains(hash) {
            return None;
        }
        let (sender, nonce) = inner.by_hash.get(hash)?;
        inner.by_sender.get(sender)?.get(nonce).cloned()
    }

    /// Whether the held transaction `hash` arrived encrypted.
    pub fn is_private(&self, hash: &B256) -> bool {
        self.inner.read().expect("pool lock").private.contains(hash)
    }

    /// [`Pool::pending_nonce`] as the public sees it: it stops before the first transaction
    /// that arrived encrypted, so the count tells nothing about one.
    pub fn public_pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        self.next_nonce(sender, state_nonce, true)
    }

    /// The nonce after the sender's last pending transaction (`eth_getTransactionCount`
    /// with `pending`), given its state nonce.
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        self.next_nonce(sender, state_nonce, false)
    }

    /// The first nonce from `state_nonce` on that the sender holds no transaction for
    /// (`public`: none it may show).
    fn next_nonce(&self, sender: &Address, state_nonce: u64, public: bool) -> u64 {
        let inner = self.inner.read().expect("pool lock");
        inner.next_nonce(sender, state_nonce, |tx| {
            !public || !inner.private.contains(&tx.hash())
        })
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.inner.read().expect("pool lock").by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
