//! Dev sealing: blocks on a timer from a synthetic L1 origin, for running without a rollup node.
//!
//! [`DevSealer`] plays the rollup node's part against the same [`PayloadJobs`] the Engine API
//! drives: it starts a job with attributes for the next block, takes its best payload and makes
//! it the head. Blocks come every `period` (sub-second periods too), or at once when a full block
//! of pending transactions waits. Block timestamps are whole seconds and must grow, so blocks
//! sealed faster than one a second run ahead of the wall clock: the sealer lets them run at most
//! `max(period, 1 s)` ahead, then waits for the clock.

use crate::auth::now_secs;
use crate::{EngineError, PayloadJobs, TxPool};
use aegis_chainspec::{
    ChainSpec, OpFork,
    l1_info::{L1Info, L1InfoFormat},
    predeploys::SEQUENCER_FEE_VAULT,
    upgrades::upgrade_deposits,
};
use aegis_executor::{BuildAttributes, ExecutedBlock, Executor, ExecutorError};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B64, B256, U256, keccak256};
use op_alloy_consensus::OpTxEnvelope;
use std::{future::Future, sync::Arc, time::Duration};
use tracing::{info, warn};

/// The wall clock in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// How often the sealer looks at the pool between blocks, at most.
const POLL: Duration = Duration::from_millis(25);
/// The shortest period the sealer takes.
pub const MIN_DEV_PERIOD: Duration = Duration::from_millis(10);
/// The payload version the sealer's jobs are keyed by (V3, as a post-Ecotone rollup node asks).
const PAYLOAD_VERSION: u8 = 3;

/// Seals blocks without a rollup node.
pub struct DevSealer {
    executor: Arc<Executor>,
    pool: Arc<dyn TxPool>,
    jobs: PayloadJobs,
    period: Duration,
    limit: u64,
}

impl std::fmt::Debug for DevSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevSealer")
            .field("period", &self.period)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl DevSealer {
    /// A sealer building on `executor`'s head from `pool` every `period` (at least
    /// [`MIN_DEV_PERIOD`]).
    pub fn new(executor: Arc<Executor>, pool: Arc<dyn TxPool>, period: Duration) -> Self {
        Self {
            jobs: PayloadJobs::new(executor.clone(), pool.clone()),
            executor,
            pool,
            period: period.max(MIN_DEV_PERIOD),
            limit: 0,
        }
    }

    /// How far block timestamps may run ahead of the wall clock: the period, at least the one
    /// second a timestamp counts in, in whole seconds.
    fn lead_secs(&self) -> u64 {
        let lead = self.period.max(Duration::from_secs(1));
        lead.as_secs() + u64::from(lead.subsec_nanos() > 0)
    }

    /// Stops after `blocks` blocks (0: runs until shut down).
    pub fn with_limit(mut self, blocks: u64) -> Self {
        self.limit = blocks;
        self
    }

    /// Seals until the limit is reached or `shutdown` resolves; returns the blocks sealed.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<u64, EngineError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut sealed = 0u64;
        let poll = POLL.min(self.period / 2);
        let period_ms = self.period.as_millis() as u64;
        // The wall-clock time (ms) the sealer started its last block, and that block.
        let mut last: Option<(B256, u64)> = None;
        loop {
            let parent = self.head()?;
            let parent_hash = parent.hash_slow();
            // The period counts from when the parent was sealed here, or else from its
            // timestamp (a restart, or a block made elsewhere).
            let parent_ms = match last {
                Some((hash, at)) if hash == parent_hash => at,
                _ => parent.timestamp.saturating_mul(1_000),
            };
            let due = parent_ms.saturating_add(period_ms);
            let mut full = false;
            let mut last_version = u64::MAX;
            loop {
                let version = self.pool.version();
                if version != last_version {
                    last_version = version;
                    full = self.pool.pending_gas() >= parent.gas_limit;
                }
                let now = now_ms();
                // The next timestamp is at least the parent's plus one second.
                let in_lead = parent.timestamp < (now / 1_000).saturating_add(self.lead_secs());
                if in_lead && (full || now >= due) {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = &mut shutdown => {
                        info!(target: "aegis::engine::dev", sealed, "interrupted");
                        return Ok(sealed);
                    }
                }
            }
            // The period runs from the start of one seal to the start of the next, so a slow
            // build does not stretch the block time.
            let started = now_ms();
            let block = self.seal(&parent, sealed).await?;
            last = Some((block.hash, started));
            sealed += 1;
            if self.limit != 0 && sealed >= self.limit {
                return Ok(sealed);
            }
        }
    }

    fn head(&self) -> Result<alloy_consensus::Header, EngineError> {
        let head = self.executor.store().head().map_err(ExecutorError::from)?;
        head.ok_or(EngineError::NoHead)
    }

    /// Builds the `seq`th block on `parent` through a payload job and makes it the head.
    async fn seal(
        &self,
        parent: &alloy_consensus::Header,
        seq: u64,
    ) -> Result<Arc<ExecutedBlock>, EngineError> {
        let attrs = dev_attributes(self.executor.spec(), parent, seq, now_secs())?;
        let id = self
            .jobs
            .start(parent.hash_slow(), attrs, PAYLOAD_VERSION)
            .await?;
        let block = self.jobs.best(&id).await.ok_or(EngineError::PayloadLost)?;
        let executor = self.executor.clone();
        let pool = self.pool.clone();
        let committed = block.clone();
        tokio::task::spawn_blocking(move || {
            executor.commit(&committed, true)?;
            pool.on_new_head(&executor);
            Ok::<_, ExecutorError>(())
        })
        .await
        .map_err(|e| ExecutorError::Execution(e.to_string()))??;
        let header = &block.block.header;
        // As the engine API records them for a rollup node's blocks.
        metrics::gauge!("aegis_head_number").set(header.number as f64);
        metrics::histogram!("aegis_block_transactions")
            .record(block.block.body.transactions.len() as f64);
        info!(
            target: "aegis::engine::dev",
            number = header.number,
            hash = %block.hash,
            txs = block.block.body.transactions.len(),
            gas_used = header.gas_used,
            base_fee = header.base_fee_per_gas.unwrap_or_default(),
            state_root = %header.state_root,
            "sealed block"
        );
        if block.receipts.iter().any(|r| !r.status()) {
            warn!(target: "aegis::engine::dev", number = header.number, "a forced transaction reverted");
        }
        Ok(block)
    }
}

/// Attributes for the `seq`th dev block on `parent` at the wall-clock second `now`: a synthetic
/// L1 origin (the genesis time, fixed fee parameters) and the pool's transactions, or the
/// network-upgrade deposits in a fork's activation block.
pub fn dev_attributes(
    spec: &ChainSpec,
    parent: &alloy_consensus::Header,
    seq: u64,
    now: u64,
) -> Result<BuildAttributes, EngineError> {
    let timestamp = now.max(parent.timestamp + 1);
    let format = L1InfoFormat::for_block(spec, parent.timestamp, timestamp)
        .ok_or(EngineError::DevNeedsEcotone)?;
    let info = L1Info {
        number: 0,
        timestamp: spec.genesis.timestamp,
        base_fee: U256::from(1_000_000_000u64),
        blob_base_fee: U256::from(1),
        hash: keccak256("aegis-dev-l1-origin"),
        sequence_number: seq,
        batcher: Address::ZERO,
        base_fee_scalar: 1368,
        blob_base_fee_scalar: 810_949,
        operator_fee_scalar: 0,
        operator_fee_constant: 0,
        da_footprint_gas_scalar: 400,
    };
    // As a rollup node builds them: the L1-info deposit, then a fork activation's upgrade
    // deposits in a block of their own (no pool transactions).
    let upgrades = upgrade_deposits(spec, parent.timestamp, timestamp);
    let no_tx_pool = !upgrades.is_empty();
    let transactions = std::iter::once(info.deposit(format))
        .chain(upgrades)
        .map(|deposit| {
            OpTxEnvelope::Deposit(alloy_consensus::Sealed::new(deposit))
                .encoded_2718()
                .into()
        })
        .collect();
    let forks = &spec.forks;
    Ok(BuildAttributes {
        timestamp,
        prev_randao: keccak256(timestamp.to_be_bytes()),
        // Where op-node's sequencer sends priority fees.
        fee_recipient: SEQUENCER_FEE_VAULT,
        parent_beacon_block_root: forks
            .is_active(OpFork::Ecotone, timestamp)
            .then_some(B256::ZERO),
        gas_limit: parent.gas_limit,
        transactions,
        no_tx_pool,
        eip1559_params: forks
            .is_active(OpFork::Holocene, timestamp)
            .then_some(B64::ZERO),
        min_base_fee: forks.is_active(OpFork::Jovian, timestamp).then_some(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ListPool;
    use aegis_executor::PoolTx;
    use aegis_storage::Store;
    use aegis_testing::{TxType, signer, spec, transfer};
    use alloy_eips::Decodable2718;

    fn chain() -> (Arc<Executor>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
        (
            Arc::new(Executor::new(spec(None, None), store).unwrap()),
            dir,
        )
    }

    fn transfers(chain_id: u64, count: u64) -> Vec<PoolTx> {
        (0..count)
            .map(|nonce| {
                let tx = transfer(
                    TxType::Eip1559,
                    &signer(1),
                    chain_id,
                    nonce,
                    Address::ZERO,
                    1,
                );
                PoolTx::decode(tx).unwrap()
            })
            .collect()
    }

    #[test]
    fn attributes_carry_the_l1_info_deposit_and_never_go_back_in_time() {
        let (executor, _dir) = chain();
        let parent = executor.store().head().unwrap().unwrap();
        let late = dev_attributes(executor.spec(), &parent, 7, parent.timestamp + 100).unwrap();
        assert_eq!(late.timestamp, parent.timestamp + 100);
        // A clock behind the parent still gives a later block.
        let early = dev_attributes(executor.spec(), &parent, 7, 0).unwrap();
        assert_eq!(early.timestamp, parent.timestamp + 1);
        assert_eq!(early.gas_limit, parent.gas_limit);
        let [deposit] = &early.transactions[..] else {
            panic!("one forced transaction expected");
        };
        let OpTxEnvelope::Deposit(deposit) = OpTxEnvelope::decode_2718(&mut &deposit[..]).unwrap()
        else {
            panic!("the forced transaction is not a deposit");
        };
        let (info, _) = L1Info::decode(&deposit.input).unwrap();
        assert_eq!(info.sequence_number, 7);
        assert_eq!(info.timestamp, executor.spec().genesis.timestamp);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seals_pool_transactions_through_payload_jobs_up_to_the_limit() {
        let (executor, _dir) = chain();
        let pool = Arc::new(ListPool::default());
        pool.extend(transfers(executor.spec().chain_id, 3));
        let sealer =
            DevSealer::new(executor.clone(), pool.clone(), Duration::from_secs(1)).with_limit(2);
        let sealed = sealer.run(std::future::pending()).await.unwrap();
        assert_eq!(sealed, 2);
        let head = executor.store().head().unwrap().unwrap();
        assert_eq!(head.number, 2);
        let first = executor.store().canonical_hash(1).unwrap().unwrap();
        let (first, _) = executor.stored_block(&first).unwrap().unwrap();
        // The L1-info deposit, then the three transfers.
        assert_eq!(first.body.transactions.len(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_block_waiting_is_sealed_before_the_period_ends() {
        let (executor, _dir) = chain();
        let gas_limit = executor.store().head().unwrap().unwrap().gas_limit;
        let pool = Arc::new(ListPool::default());
        // An hour-long period: only the waiting full block can make the sealer act.
        let sealer =
            DevSealer::new(executor.clone(), pool.clone(), Duration::from_secs(3600)).with_limit(1);
        pool.extend(transfers(executor.spec().chain_id, gas_limit / 21_000 + 1));
        let sealed =
            tokio::time::timeout(Duration::from_secs(60), sealer.run(std::future::pending()))
                .await
                .expect("the sealer waited for the period despite a full block")
                .unwrap();
        assert_eq!(sealed, 1);
    }

    /// Blocks every 100 ms: timestamps grow one second per block, so the sealer lets them run
    /// one second ahead of the wall clock and no further.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sub_second_periods_keep_timestamps_within_a_second_of_the_clock() {
        let (executor, _dir) = chain();
        let pool = Arc::new(ListPool::default());
        pool.extend(transfers(executor.spec().chain_id, 3));
        let sealer =
            DevSealer::new(executor.clone(), pool, Duration::from_millis(100)).with_limit(6);
        assert_eq!(sealer.lead_secs(), 1);
        let watched = executor.clone();
        let watcher = tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < 6 {
                let head = watched.store().head().unwrap().unwrap();
                if head.number > seen.len() as u64 {
                    seen.push((head.number, head.timestamp, now_secs()));
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            seen
        });
        let sealed =
            tokio::time::timeout(Duration::from_secs(60), sealer.run(std::future::pending()))
                .await
                .expect("the sealer stalled")
                .unwrap();
        assert_eq!(sealed, 6);
        let seen = watcher.await.unwrap();
        for (number, timestamp, clock) in &seen {
            assert!(
                *timestamp <= clock + 1,
                "block {number} at {timestamp} with the clock at {clock}: {seen:?}"
            );
        }
        let stamps: Vec<_> = (1..=6)
            .map(|n| {
                let hash = executor.store().canonical_hash(n).unwrap().unwrap();
                executor.store().header(&hash).unwrap().unwrap().timestamp
            })
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
        assert_eq!(
            DevSealer::new(
                executor.clone(),
                Arc::new(crate::EmptyPool),
                Duration::from_millis(1500)
            )
            .lead_secs(),
            2
        );
    }

    /// `GasPriceOracle.<flag>()` at the head, as a wallet reads it (an oracle from before the
    /// flag existed reverts: not set).
    fn oracle_flag(executor: &Executor, selector: [u8; 4]) -> bool {
        let head = executor.store().head_hash().unwrap().unwrap();
        let request = alloy_rpc_types_eth::TransactionRequest::default()
            .to(aegis_chainspec::predeploys::GAS_PRICE_ORACLE)
            .input(alloy_primitives::Bytes::copy_from_slice(&selector).into());
        executor
            .call(head, request, None, None)
            .is_ok_and(|output| output.last() == Some(&1))
    }

    /// `L1Block.sequenceNumber()` at the head.
    fn l1_block_sequence_number(executor: &Executor) -> u64 {
        let head = executor.store().head_hash().unwrap().unwrap();
        let request = alloy_rpc_types_eth::TransactionRequest::default()
            .to(aegis_chainspec::predeploys::L1_BLOCK)
            // sequenceNumber()
            .input(alloy_primitives::Bytes::from_static(&[0x64, 0xca, 0x23, 0xef]).into());
        let output = executor.call(head, request, None, None).unwrap();
        U256::from_be_slice(&output).to::<u64>()
    }

    /// The dev chain crosses the Isthmus and Jovian activations as a rollup node would drive
    /// it: each activation block carries the fork's upgrade deposits and no pool transaction,
    /// no forced transaction ever reverts, and the L1-info deposit keeps moving `L1Block`.
    #[test]
    fn no_forced_transaction_reverts_across_fork_activations() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
        let executor = Executor::new(spec(Some(4), Some(8)), store).unwrap();
        let chain_id = executor.spec().chain_id;
        // isIsthmus(), isJovian()
        let (is_isthmus, is_jovian) = ([0xb5, 0x45, 0x01, 0xbc], [0x10, 0x5d, 0x0b, 0x81]);
        assert!(!oracle_flag(&executor, is_isthmus));
        let mut forced_counts = Vec::new();
        let mut nonce = 0;
        for seq in 0..6u64 {
            let parent = executor.store().head().unwrap().unwrap();
            let attrs =
                dev_attributes(executor.spec(), &parent, seq, parent.timestamp + 2).unwrap();
            forced_counts.push((attrs.transactions.len(), attrs.no_tx_pool));
            // A transfer waits in the pool: it goes in unless the block is an activation's.
            let raw = transfer(
                TxType::Eip1559,
                &signer(1),
                chain_id,
                nonce,
                Address::ZERO,
                1,
            );
            let base_fee =
                aegis_executor::next_base_fee(executor.spec(), &parent, attrs.timestamp).unwrap();
            let mut pool = aegis_testing::fee_ordered(&[raw], base_fee);
            let block = executor
                .build(parent.hash_slow(), &attrs, Some(&mut pool))
                .unwrap();
            executor.commit(&block, true).unwrap();
            for (i, receipt) in block.receipts.iter().enumerate() {
                assert!(
                    receipt.status(),
                    "block {} transaction {i} reverted",
                    seq + 1
                );
            }
            let included = block.block.body.transactions.len() > attrs.transactions.len();
            assert_eq!(included, !attrs.no_tx_pool, "block {}", seq + 1);
            nonce += u64::from(included);
            assert_eq!(l1_block_sequence_number(&executor), seq);
        }
        // Blocks at +2, +4 (Isthmus: 8 upgrade deposits), +6, +8 (Jovian: 5), +10, +12.
        assert_eq!(
            forced_counts,
            [
                (1, false),
                (9, true),
                (1, false),
                (6, true),
                (1, false),
                (1, false)
            ]
        );
        assert!(oracle_flag(&executor, is_isthmus));
        assert!(oracle_flag(&executor, is_jovian));
    }

    #[tokio::test]
    async fn shutdown_stops_the_sealer_while_it_waits_for_the_next_block() {
        let (executor, _dir) = chain();
        let sealer = DevSealer::new(
            executor.clone(),
            Arc::new(crate::EmptyPool),
            Duration::from_secs(3600),
        );
        // The genesis is old, so the first block is due at once; the second an hour later.
        let shutdown = tokio::time::sleep(Duration::from_secs(1));
        let sealed = tokio::time::timeout(Duration::from_secs(30), sealer.run(shutdown))
            .await
            .expect("the sealer ignored shutdown")
            .unwrap();
        assert_eq!(sealed, 1);
        assert_eq!(executor.store().head().unwrap().unwrap().number, 1);
    }
}
