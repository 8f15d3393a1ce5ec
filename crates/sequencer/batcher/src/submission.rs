//! Posting batches and following them on L1 until they are final.
//!
//! The batcher keeps every frame transaction it sent until it has `confirmations` confirmations
//! on the canonical L1 chain *and* the rollup node's safe head has passed its blocks. Each round
//! it re-reads what L1 says about them:
//!
//! - a receipt is trusted only when its block is the canonical block at that height;
//! - a receipt that went away (an L1 reorg) or a transaction the node no longer knows (dropped
//!   from the mempool) is sent again byte for byte: same nonce, same frame, same batch identity,
//!   in nonce order, which also closes the nonce gap the reorg opened;
//! - a transaction pending longer than `resubmission_timeout` is replaced with fees bumped by
//!   [`FEE_BUMP_PERCENT`] (L1 nodes want at least 10 %), at most `max_fee_bumps` times and never
//!   above `max_fee_per_gas`;
//! - a nonce another transaction took, a nonce gap below the oldest tracked transaction, frames
//!   confirmed that the rollup node has not derived within `safe_timeout`, or a safe head that
//!   fell back behind everything tracked (a reorg deeper than the confirmation depth) requeue the
//!   blocks from the first one the rollup node has not derived, as a new batch: a new channel, a
//!   new attested batch id whose range extends the last committed one.
//!
//! Only one batch is on its way into L1 at a time; the next one is built when the last one is
//! included, so frames of different channels never interleave and batches reach L1 in order.

use crate::{
    BatchId, BatcherError, MAX_BLOCKS_PER_CHANNEL, MAX_FRAME_DATA, encode_batch,
    l1::{BlockTag, Inclusion, L1Block, L1Client, SendOutcome},
};
use aegis_executor::Executor;
use aegis_pqc::EcdsaSigner;
use aegis_storage::BlockLabel;
use alloy_consensus::{TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};
use tokio::time::Instant;

/// A batch as built, before it is posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltBatch {
    /// First L2 block.
    pub first_block: u64,
    /// Last L2 block.
    pub last_block: u64,
    /// Hashes of the blocks, first to last.
    pub block_hashes: Vec<B256>,
    /// keccak256 of the batch's frames.
    pub frames_hash: B256,
}

/// What a [`BatchSink`] returns.
pub type SinkFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// Where built batches go before their frames are sent (signing and attestation subscribe
/// here). A sink's error is logged and counted; the batch is posted anyway.
pub trait BatchSink: Send + Sync {
    /// Takes `batch`.
    fn batch_built(&self, batch: BuiltBatch) -> SinkFuture<'_>;
}

/// Fee increase of a replacement transaction, in percent (geth and anvil want ≥ 10).
pub const FEE_BUMP_PERCENT: u128 = 15;
/// Lowest priority fee offered, whatever the node suggests (1 gwei).
const MIN_TIP: u128 = 1_000_000_000;
/// Longest wait between attempts while the L1 is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Where, as whom and how patiently batches are posted.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// The L1 node.
    pub l1_rpc: String,
    /// The L1 chain id (the rollup config's); a node serving another chain is never posted to.
    pub l1_chain_id: u64,
    /// The rollup config's batch inbox.
    pub inbox: Address,
    /// How often to look at L1 and for new L2 blocks.
    pub poll_interval: Duration,
    /// L1 confirmations after which a derived frame transaction is forgotten.
    pub confirmations: u64,
    /// A transaction pending this long is re-sent with bumped fees; a nonce gap this old is
    /// refilled.
    pub resubmission_timeout: Duration,
    /// Confirmed frames the rollup node has not derived after this long are posted again.
    pub safe_timeout: Duration,
    /// Fee bumps per transaction at most.
    pub max_fee_bumps: u32,
    /// Highest max fee per gas ever offered (wei).
    pub max_fee_per_gas: u128,
}

impl BatcherConfig {
    /// op-batcher's defaults: 10 confirmations, 48 s resubmission timeout.
    pub fn new(l1_rpc: impl Into<String>, l1_chain_id: u64, inbox: Address) -> Self {
        Self {
            l1_rpc: l1_rpc.into(),
            l1_chain_id,
            inbox,
            poll_interval: Duration::from_secs(6),
            confirmations: 10,
            resubmission_timeout: Duration::from_secs(48),
            safe_timeout: Duration::from_secs(600),
            max_fee_bumps: 10,
            max_fee_per_gas: 1_000_000_000_000,
        }
    }
}

/// The fees of a replacement for a transaction paying `old` (max fee, tip), at least
/// [`FEE_BUMP_PERCENT`] more of each and enough for `base_fee`, capped at `cap`. `None` when the
/// cap leaves no room for a replacement L1 nodes would accept.
pub fn bumped_fees(old: (u128, u128), base_fee: u128, cap: u128) -> Option<(u128, u128)> {
    let bump = |fee: u128| fee.saturating_mul(100 + FEE_BUMP_PERCENT).div_ceil(100);
    let tip = bump(old.1).max(MIN_TIP);
    let max_fee = bump(old.0)
        .max(base_fee.saturating_mul(2).saturating_add(tip))
        .min(cap);
    // Replacement rule: both fees at least 10 % up.
    let enough = |new: u128, old: u128| new.saturating_mul(10) >= old.saturating_mul(11);
    (enough(max_fee, old.0) && enough(tip, old.1) && tip <= max_fee).then_some((max_fee, tip))
}

/// One signed version of a frame transaction.
#[derive(Clone, Debug)]
struct Attempt {
    hash: B256,
    raw: Bytes,
    max_fee: u128,
    tip: u128,
}

/// A frame transaction on its way into L1.
#[derive(Clone, Debug)]
struct FrameTx {
    nonce: u64,
    calldata: Bytes,
    gas_limit: u64,
    /// Every version sent for this nonce, oldest first; any of them may be the one included.
    attempts: Vec<Attempt>,
    sent_at: Instant,
    included: Option<Inclusion>,
    bumps: u32,
    /// The last round found its nonce used with no receipt of ours; a second such round in a
    /// row means it is lost (one alone may be a node whose receipts lag its state).
    nonce_lost: bool,
}

impl FrameTx {
    fn fees(&self) -> (u128, u128) {
        self.attempts.last().map_or((0, 0), |a| (a.max_fee, a.tip))
    }
}

/// A batch whose frames are on their way into L1.
#[derive(Debug)]
struct Posted {
    id: BatchId,
    txs: Vec<FrameTx>,
    /// Its blocks had been posted before.
    repost: bool,
    /// When all its frames first had enough confirmations.
    confirmed_at: Option<Instant>,
}

/// Whether the L1 answered last time, for logging once per change.
#[derive(Debug)]
enum L1State {
    Up,
    Down { since: Instant, failures: u32 },
}

/// Posts new L2 blocks from the store to L1 and follows them until they are final.
pub struct Batcher {
    executor: Arc<Executor>,
    l1: L1Client,
    signer: EcdsaSigner,
    config: BatcherConfig,
    /// Hears of each batch before it is posted (signing and attestation).
    sink: Option<Arc<dyn BatchSink>>,
    in_flight: VecDeque<Posted>,
    /// Next block to post (0: the one after the safe head).
    next_block: u64,
    /// Highest block ever posted (re-posts below it count as such).
    posted_up_to: u64,
    /// Next nonce to use (`None`: ask L1).
    next_nonce: Option<u64>,
    /// Fees of abandoned transactions still in the L1 mempool, by nonce: a new transaction at
    /// that nonce has to outbid them.
    abandoned: BTreeMap<u64, (u128, u128)>,
    chain_checked: bool,
    last_head: Option<L1Block>,
    /// Since when the safe head has been behind everything tracked.
    gap_since: Option<Instant>,
    l1_state: L1State,
    /// In a cluster: whether this worker leads (only the leader posts).
    leadership: Option<tokio::sync::watch::Receiver<bool>>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Batcher")
            .field("batcher", &self.signer.address())
            .field("l1", &self.l1.url())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

const TARGET: &str = "aegis::batcher";

impl Batcher {
    /// A batcher posting with `signer` per `config`.
    pub fn new(
        executor: Arc<Executor>,
        signer: EcdsaSigner,
        config: BatcherConfig,
    ) -> Result<Self, BatcherError> {
        Ok(Self {
            executor,
            l1: L1Client::new(&config.l1_rpc)?,
            signer,
            config,
            sink: None,
            in_flight: VecDeque::new(),
            next_block: 0,
            posted_up_to: 0,
            next_nonce: None,
            abandoned: BTreeMap::new(),
            chain_checked: false,
            last_head: None,
            gap_since: None,
            l1_state: L1State::Up,
            leadership: None,
        })
    }

    /// Hands every batch to `sink` before posting it.
    pub fn with_sink(mut self, sink: Arc<dyn BatchSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Frame transactions sent and not final yet.
    pub fn pending_frames(&self) -> usize {
        self.in_flight.iter().map(|p| p.txs.len()).sum()
    }

    fn number_of(&self, hash: Option<B256>) -> Result<u64, BatcherError> {
        let Some(hash) = hash else { return Ok(0) };
        let header = self
            .executor
            .store()
            .header(&hash)
            .map_err(|e| BatcherError::L2(e.to_string()))?;
        Ok(header.map_or(0, |h| h.number))
    }

    /// (safe, head) L2 block numbers.
    fn l2_heads(&self) -> Result<(u64, u64), BatcherError> {
        let store = self.executor.store();
        let l2 = |e: aegis_storage::StorageError| BatcherError::L2(e.to_string());
        let safe = self.number_of(store.label(BlockLabel::Safe).map_err(l2)?)?;
        let head = self.number_of(store.head_hash().map_err(l2)?)?;
        Ok((safe, head))
    }

    /// One round: check the L1, follow what is in flight, post what is new. Returns the batch
    /// posted, if any.
    pub async fn step(&mut self) -> Result<Option<BatchId>, BatcherError> {
        let head = self.l1.head().await?;
        if !self.chain_checked {
            let got = self.l1.chain_id().await?;
            if got != self.config.l1_chain_id {
                return Err(BatcherError::WrongChain {
                    expected: self.config.l1_chain_id,
                    got,
                });
            }
            self.chain_checked = true;
        }
        if let Some(last) = self.last_head
            && head.number < last.number
        {
            tracing::warn!(target: TARGET, from = last.number, to = head.number, "L1 head went back");
        }
        self.last_head = Some(head);
        let (safe, l2_head) = self.l2_heads()?;
        self.follow(&head, safe).await?;
        let posted = self.post(&head, safe, l2_head).await?;
        self.record_metrics(&head);
        Ok(posted)
    }

    /// Re-reads every tracked transaction, re-sends or requeues what needs it and retires what
    /// is final.
    async fn follow(&mut self, head: &L1Block, safe: u64) -> Result<(), BatcherError> {
        let latest_nonce = self.l1.nonce(self.signer.address(), "latest").await?;
        // Nonces L1 has used are nobody's to outbid any more.
        self.abandoned.retain(|nonce, _| *nonce >= latest_nonce);
        if let Some(reason) = self.refresh(head, latest_nonce).await? {
            self.requeue(safe, reason);
            return Ok(());
        }
        self.retire(head, safe);
        if let Some(reason) = self.stalled(safe) {
            self.requeue(safe, reason);
        }
        Ok(())
    }

    /// The canonical inclusion of any of `tx`'s versions.
    async fn canonical_inclusion(
        &self,
        tx: &FrameTx,
        head: &L1Block,
    ) -> Result<Option<Inclusion>, BatcherError> {
        for attempt in tx.attempts.iter().rev() {
            let Some(inclusion) = self.l1.receipt(attempt.hash).await? else {
                continue;
            };
            if inclusion.block_number > head.number {
                continue;
            }
            let canonical = self
                .l1
                .block(BlockTag::Number(inclusion.block_number))
                .await?
                .is_some_and(|b| b.hash == inclusion.block_hash);
            if canonical {
                return Ok(Some(inclusion));
            }
            tracing::debug!(target: TARGET, tx = %attempt.hash, block = inclusion.block_number, "receipt from a block off the canonical L1 chain; ignored");
        }
        Ok(None)
    }

    /// Updates what L1 says about each tracked transaction, oldest first, and re-sends what was
    /// dropped, reorged out or is stuck. Returns why to requeue, if so.
    async fn refresh(
        &mut self,
        head: &L1Block,
        latest_nonce: u64,
    ) -> Result<Option<&'static str>, BatcherError> {
        let mut in_flight = std::mem::take(&mut self.in_flight);
        let result = self.refresh_all(&mut in_flight, head, latest_nonce).await;
        self.in_flight = in_flight;
        result
    }

    async fn refresh_all(
        &mut self,
        in_flight: &mut VecDeque<Posted>,
        head: &L1Block,
        latest_nonce: u64,
    ) -> Result<Option<&'static str>, BatcherError> {
        let lowest = in_flight
            .front()
            .and_then(|p| p.txs.first())
            .map(|t| t.nonce);
        for posted in in_flight.iter_mut() {
            for tx in posted.txs.iter_mut() {
                let inclusion = self.canonical_inclusion(tx, head).await?;
                match (inclusion, tx.included) {
                    (Some(inclusion), _) => {
                        if !inclusion.success {
                            tracing::warn!(target: TARGET, tx = %inclusion.tx_hash, "batch transaction reverted");
                            return Ok(Some("a batch transaction reverted"));
                        }
                        tx.included = Some(inclusion);
                        tx.nonce_lost = false;
                        continue;
                    }
                    (None, Some(was)) => {
                        tracing::warn!(target: TARGET, nonce = tx.nonce, block = was.block_number, first = posted.id.first_block, "batch transaction left the L1 chain (reorg); sending it again");
                        tx.included = None;
                        posted.confirmed_at = None;
                        self.resend(tx, head, "reorged").await?;
                        continue;
                    }
                    (None, None) => {}
                }
                if tx.nonce < latest_nonce {
                    if tx.nonce_lost {
                        return Ok(Some("another transaction took a batch transaction's nonce"));
                    }
                    tx.nonce_lost = true;
                    continue;
                }
                tx.nonce_lost = false;
                if Some(tx.nonce) == lowest
                    && tx.nonce > latest_nonce
                    && tx.sent_at.elapsed() > self.config.resubmission_timeout
                {
                    return Ok(Some("nonce gap below the oldest batch transaction"));
                }
                let latest = tx.attempts.last().map(|a| a.hash).unwrap_or_default();
                if !self.l1.knows(latest).await? {
                    tracing::warn!(target: TARGET, nonce = tx.nonce, tx = %latest, "batch transaction dropped from the L1 mempool; sending it again");
                    self.resend(tx, head, "dropped").await?;
                } else if tx.sent_at.elapsed() > self.config.resubmission_timeout {
                    self.bump(tx, head).await?;
                }
            }
        }
        Ok(None)
    }

    /// Sends the latest version of `tx` again (bumping it if the pool wants more).
    async fn resend(
        &self,
        tx: &mut FrameTx,
        head: &L1Block,
        reason: &'static str,
    ) -> Result<(), BatcherError> {
        metrics::counter!("aegis_batcher_resubmissions_total", "reason" => reason).increment(1);
        let Some(attempt) = tx.attempts.last().cloned() else {
            return Ok(());
        };
        match self.l1.send_raw(&attempt.raw, attempt.hash).await? {
            SendOutcome::Accepted => tx.sent_at = Instant::now(),
            SendOutcome::Underpriced => self.bump(tx, head).await?,
            // Another transaction took the nonce: the next round sees it and requeues.
            SendOutcome::NonceTooLow => {}
        }
        Ok(())
    }

    /// Replaces `tx` with a version paying more, within the caps.
    async fn bump(&self, tx: &mut FrameTx, head: &L1Block) -> Result<(), BatcherError> {
        if tx.bumps >= self.config.max_fee_bumps {
            if tx.bumps == self.config.max_fee_bumps {
                tx.bumps += 1;
                tracing::warn!(target: TARGET, nonce = tx.nonce, bumps = self.config.max_fee_bumps, "batch transaction still pending after the last fee bump; waiting");
            }
            return Ok(());
        }
        let Some((max_fee, tip)) =
            bumped_fees(tx.fees(), head.base_fee, self.config.max_fee_per_gas)
        else {
            tx.bumps = self.config.max_fee_bumps;
            tracing::warn!(target: TARGET, nonce = tx.nonce, cap = self.config.max_fee_per_gas, "batch transaction stuck at the fee cap");
            return Ok(());
        };
        let attempt = self.sign(tx.nonce, &tx.calldata, tx.gas_limit, max_fee, tip)?;
        let outcome = self.l1.send_raw(&attempt.raw, attempt.hash).await?;
        tx.bumps += 1;
        if outcome == SendOutcome::NonceTooLow {
            return Ok(());
        }
        tracing::info!(target: TARGET, nonce = tx.nonce, max_fee, tip, tx = %attempt.hash, "batch transaction re-sent with bumped fees");
        metrics::counter!("aegis_batcher_resubmissions_total", "reason" => "fee_bump").increment(1);
        tx.attempts.push(attempt);
        tx.sent_at = Instant::now();
        Ok(())
    }

    /// Forgets the batches at the front that are final: every frame `confirmations` deep and
    /// the safe head past their blocks.
    fn retire(&mut self, head: &L1Block, safe: u64) {
        let depth = self.config.confirmations.max(1);
        let confirmed = |p: &Posted| {
            p.txs.iter().all(|t| {
                t.included
                    .is_some_and(|i| head.number + 1 >= i.block_number + depth)
            })
        };
        while let Some(front) = self.in_flight.front_mut() {
            if !confirmed(front) {
                break;
            }
            front.confirmed_at.get_or_insert_with(Instant::now);
            if safe < front.id.last_block {
                break;
            }
            let done = self.in_flight.pop_front().expect("front exists");
            let gas: u64 = done
                .txs
                .iter()
                .filter_map(|t| t.included.map(|i| i.gas_used))
                .sum();
            let kind = if done.repost { "repost" } else { "first" };
            metrics::counter!("aegis_batcher_l1_gas_used_total", "kind" => kind).increment(gas);
            tracing::debug!(target: TARGET, first = done.id.first_block, last = done.id.last_block, gas, "batch final");
        }
    }

    /// Why the safe head is not following what was posted, if it has not for too long.
    fn stalled(&mut self, safe: u64) -> Option<&'static str> {
        if let Some(front) = self.in_flight.front()
            && front
                .confirmed_at
                .is_some_and(|t| t.elapsed() > self.config.safe_timeout)
        {
            return Some("confirmed frames not derived within the safe timeout");
        }
        let covered_from = self
            .in_flight
            .front()
            .map_or(self.next_block, |p| p.id.first_block);
        if self.next_block == 0 || safe + 1 >= covered_from {
            self.gap_since = None;
            return None;
        }
        let since = *self.gap_since.get_or_insert_with(Instant::now);
        (since.elapsed() > self.config.resubmission_timeout)
            .then_some("the safe head fell back behind what was posted")
    }

    /// Posts only while `leads` is true (a cluster worker while it leads). A worker that loses
    /// the lead forgets what it tracked; one that takes it starts after the safe head with the
    /// L1's pending nonce, after whatever the previous leader sent.
    pub fn with_leadership(mut self, leads: tokio::sync::watch::Receiver<bool>) -> Self {
        self.leadership = Some(leads);
        self
    }

    /// Forgets everything tracked: another worker posts now.
    fn stand_down(&mut self) {
        if !self.in_flight.is_empty() || self.next_block != 0 {
            tracing::info!(target: TARGET, in_flight = self.in_flight.len(), "not the leader: another worker posts");
        }
        self.in_flight.clear();
        self.abandoned.clear();
        self.next_block = 0;
        self.next_nonce = None;
        self.gap_since = None;
    }

    /// Drops everything tracked and starts again after the safe head.
    fn requeue(&mut self, safe: u64, reason: &'static str) {
        tracing::warn!(target: TARGET, reason, from = safe + 1, "posting again from the first block not derived");
        metrics::counter!("aegis_batcher_requeues_total", "reason" => reason).increment(1);
        for posted in self.in_flight.drain(..) {
            for tx in posted.txs.iter().filter(|t| t.included.is_none()) {
                self.abandoned.insert(tx.nonce, tx.fees());
            }
        }
        self.next_block = 0;
        self.next_nonce = None;
        self.gap_since = None;
    }

    fn sign(
        &self,
        nonce: u64,
        calldata: &Bytes,
        gas_limit: u64,
        max_fee: u128,
        tip: u128,
    ) -> Result<Attempt, BatcherError> {
        let tx = TxEip1559 {
            chain_id: self.config.l1_chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(self.config.inbox),
            value: U256::ZERO,
            input: calldata.clone(),
            access_list: Default::default(),
        };
        let signed = self
            .signer
            .sign_eip1559(tx)
            .map_err(|e| BatcherError::Sign(e.to_string()))?;
        let envelope = TxEnvelope::Eip1559(signed);
        Ok(Attempt {
            hash: *envelope.tx_hash(),
            raw: envelope.encoded_2718().into(),
            max_fee,
            tip,
        })
    }

    /// Sends a new frame transaction at `nonce`, outbidding an abandoned one there.
    async fn send_new(
        &mut self,
        nonce: u64,
        calldata: Bytes,
        head: &L1Block,
    ) -> Result<Option<FrameTx>, BatcherError> {
        let from = self.signer.address();
        let estimate = self
            .l1
            .estimate_gas(from, self.config.inbox, &calldata)
            .await?;
        let tip = self.l1.priority_fee().await?.max(MIN_TIP);
        let mut fees = (
            head.base_fee
                .saturating_mul(2)
                .saturating_add(tip)
                .min(self.config.max_fee_per_gas),
            tip,
        );
        if let Some(old) = self.abandoned.get(&nonce) {
            fees = bumped_fees(*old, head.base_fee, self.config.max_fee_per_gas).unwrap_or(fees);
        }
        let mut tx = FrameTx {
            nonce,
            gas_limit: estimate + estimate / 5,
            attempts: Vec::new(),
            sent_at: Instant::now(),
            included: None,
            bumps: 0,
            nonce_lost: false,
            calldata,
        };
        for _ in 0..=self.config.max_fee_bumps {
            let attempt = self.sign(nonce, &tx.calldata, tx.gas_limit, fees.0, fees.1)?;
            match self.l1.send_raw(&attempt.raw, attempt.hash).await? {
                SendOutcome::Accepted => {
                    tx.attempts.push(attempt);
                    self.abandoned.remove(&nonce);
                    return Ok(Some(tx));
                }
                SendOutcome::NonceTooLow => return Ok(None),
                SendOutcome::Underpriced => {
                    match bumped_fees(fees, head.base_fee, self.config.max_fee_per_gas) {
                        Some(more) => fees = more,
                        None => break,
                    }
                }
            }
        }
        tracing::warn!(target: TARGET, nonce, "a pending transaction at this nonce outbids the fee cap");
        Ok(None)
    }

    /// Builds and sends the next batch when nothing is on its way into L1.
    async fn post(
        &mut self,
        head: &L1Block,
        safe: u64,
        l2_head: u64,
    ) -> Result<Option<BatchId>, BatcherError> {
        if self
            .in_flight
            .iter()
            .any(|p| p.txs.iter().any(|t| t.included.is_none()))
        {
            return Ok(None);
        }
        let from = self.next_block.max(safe + 1);
        if l2_head < from {
            return Ok(None);
        }
        let to = l2_head.min(from + MAX_BLOCKS_PER_CHANNEL - 1);
        let store = self.executor.store();
        let l2 = |e: aegis_storage::StorageError| BatcherError::L2(e.to_string());
        let mut blocks = Vec::with_capacity((to - from + 1) as usize);
        let mut hashes = Vec::with_capacity(blocks.capacity());
        for number in from..=to {
            let hash = store
                .canonical_hash(number)
                .map_err(l2)?
                .ok_or_else(|| BatcherError::L2(format!("no canonical block {number}")))?;
            let (block, _) = self
                .executor
                .stored_block(&hash)
                .map_err(|e| BatcherError::L2(e.to_string()))?
                .ok_or_else(|| BatcherError::L2(format!("block {hash} missing")))?;
            blocks.push(block);
            hashes.push(hash);
        }
        let batch = encode_batch(&blocks, rand::random(), MAX_FRAME_DATA)?;
        if let Some(sink) = &self.sink {
            // A failing sink (attestation) must not stop the chain from reaching L1: it is
            // logged and counted, and the batch goes out anyway.
            let built = BuiltBatch {
                first_block: from,
                last_block: to,
                block_hashes: hashes,
                frames_hash: batch.id.frames_hash,
            };
            match sink.batch_built(built).await {
                Ok(()) => metrics::counter!("aegis_batches_attested_total").increment(1),
                Err(error) => {
                    metrics::counter!("aegis_batch_attestation_failures_total").increment(1);
                    tracing::error!(target: TARGET, %error, first = from, last = to, "batch sink failed");
                }
            }
        }
        metrics::counter!("aegis_batcher_batches_total").increment(1);
        let mut nonce = match self.next_nonce {
            Some(nonce) => nonce,
            // After a requeue the abandoned nonces are filled again; at start, whatever an
            // earlier run left pending goes first.
            None if !self.abandoned.is_empty() => {
                self.l1.nonce(self.signer.address(), "latest").await?
            }
            None => self.l1.nonce(self.signer.address(), "pending").await?,
        };
        let repost = from <= self.posted_up_to;
        let mut posted = Posted {
            id: batch.id.clone(),
            txs: Vec::with_capacity(batch.calldata.len()),
            repost,
            confirmed_at: None,
        };
        for calldata in batch.calldata {
            match self.send_new(nonce, calldata, head).await {
                Ok(Some(tx)) => posted.txs.push(tx),
                outcome => {
                    // A channel with a missing frame never derives: forget it and start over.
                    self.in_flight.push_back(posted);
                    self.requeue(safe, "a frame could not be sent");
                    return outcome.map(|_| None);
                }
            }
            nonce += 1;
        }
        self.next_nonce = Some(nonce);
        self.next_block = to + 1;
        self.posted_up_to = self.posted_up_to.max(to);
        tracing::info!(
            target: TARGET,
            first = batch.id.first_block,
            last = batch.id.last_block,
            frames = posted.txs.len(),
            repost,
            frames_hash = %batch.id.frames_hash,
            "posted batch"
        );
        if repost {
            metrics::counter!("aegis_batcher_reposted_blocks_total").increment(to - from + 1);
        }
        self.in_flight.push_back(posted);
        Ok(Some(batch.id))
    }

    fn record_metrics(&self, head: &L1Block) {
        metrics::gauge!("aegis_batcher_pending_frames").set(self.pending_frames() as f64);
        // The least-confirmed frame of the oldest batch (0 while one is not included).
        let oldest = self.in_flight.front().map_or(0, |p| {
            p.txs
                .iter()
                .map(|t| {
                    t.included
                        .map_or(0, |i| (head.number + 1).saturating_sub(i.block_number))
                })
                .min()
                .unwrap_or(0)
        });
        metrics::gauge!("aegis_batcher_oldest_frame_confirmations").set(oldest as f64);
        metrics::gauge!("aegis_batcher_l1_head").set(head.number as f64);
    }

    /// Notes a round's outcome; returns how long to wait before the next.
    fn settle(&mut self, result: Result<Option<BatchId>, BatcherError>) -> Duration {
        let poll = self.config.poll_interval;
        match result {
            Ok(_) => {
                if let L1State::Down { since, failures } = self.l1_state {
                    tracing::info!(target: TARGET, down_for = ?since.elapsed(), failures, "L1 reachable again");
                }
                self.l1_state = L1State::Up;
                metrics::gauge!("aegis_batcher_l1_connected").set(1.0);
                poll
            }
            Err(error) if error.is_l1() => {
                metrics::gauge!("aegis_batcher_l1_connected").set(0.0);
                metrics::counter!("aegis_batcher_l1_errors_total").increment(1);
                // Another node may answer after the outage: check its chain again.
                self.chain_checked = false;
                let failures = match &mut self.l1_state {
                    L1State::Up => {
                        tracing::warn!(target: TARGET, %error, "L1 unreachable or misbehaving; retrying with backoff");
                        self.l1_state = L1State::Down {
                            since: Instant::now(),
                            failures: 1,
                        };
                        1
                    }
                    L1State::Down { failures, .. } => {
                        *failures += 1;
                        tracing::debug!(target: TARGET, %error, failures = *failures, "L1 still failing");
                        *failures
                    }
                };
                // 2, 4, 8 s … up to MAX_BACKOFF.
                Duration::from_secs(1 << failures.min(5)).min(MAX_BACKOFF)
            }
            Err(error) => {
                tracing::warn!(target: TARGET, %error, "batch submission failed; retrying");
                poll
            }
        }
    }

    /// Posts and follows batches until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        metrics::gauge!("aegis_batcher_l1_connected").set(1.0);
        let mut leadership = self.leadership.take();
        loop {
            if let Some(leads) = &mut leadership
                && !*leads.borrow_and_update()
            {
                self.stand_down();
                metrics::gauge!("aegis_batcher_leading").set(0.0);
                tokio::select! {
                    changed = leads.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        continue;
                    }
                    _ = &mut shutdown => return,
                }
            }
            metrics::gauge!("aegis_batcher_leading").set(1.0);
            let result = tokio::select! {
                result = self.step() => result,
                _ = &mut shutdown => return,
            };
            let wait = self.settle(result);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut shutdown => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GWEI: u128 = 1_000_000_000;

    #[test]
    fn a_bump_raises_both_fees_by_at_least_ten_percent() {
        let (max_fee, tip) = bumped_fees((10 * GWEI, 2 * GWEI), GWEI, 1000 * GWEI).unwrap();
        assert!(max_fee * 10 >= 110 * GWEI && tip * 10 >= 22 * GWEI);
        assert!(tip <= max_fee);
    }

    #[test]
    fn a_bump_covers_a_risen_base_fee() {
        let (max_fee, tip) = bumped_fees((3 * GWEI, GWEI), 50 * GWEI, 1000 * GWEI).unwrap();
        assert!(max_fee >= 100 * GWEI + tip);
    }

    #[test]
    fn the_cap_stops_bumping() {
        assert_eq!(bumped_fees((100 * GWEI, GWEI), GWEI, 105 * GWEI), None);
    }

    proptest! {
        #[test]
        fn bumped_fees_replace_or_refuse(max_fee in 0u128..1u128 << 80, tip in 0u128..1u128 << 80,
                                         base in 0u128..1u128 << 70, cap in 0u128..1u128 << 82) {
            if let Some((new_max, new_tip)) = bumped_fees((max_fee, tip), base, cap) {
                prop_assert!(new_max * 10 >= max_fee * 11);
                prop_assert!(new_tip * 10 >= tip * 11);
                prop_assert!(new_max <= cap);
                prop_assert!(new_tip <= new_max);
            }
        }
    }
}
