//! Payload jobs: one per distinct set of attributes, building in the background so that
//! `engine_getPayload` answers at once with the best block so far.

use aegis_executor::{
    BuildAttributes, ExecutedBlock, Executor, ExecutorError, PoolTx, PoolTxSource,
};
use alloy_primitives::{B256, keccak256};
use alloy_rpc_types_engine::PayloadId;
use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::sync::{Notify, watch};

pub use aegis_executor::TxPool;

/// A pool with no transactions.
#[derive(Debug, Default)]
pub struct EmptyPool;

impl TxPool for EmptyPool {
    fn best_transactions(&self, base_fee: u64) -> Box<dyn PoolTxSource + Send> {
        Box::new(aegis_executor::FeeOrderedTxs::new(Vec::new(), base_fee))
    }
    fn version(&self) -> u64 {
        0
    }
    fn pending_gas(&self) -> u64 {
        0
    }
}

/// A pool over a list of transactions (fee-ordered), for tests, benches and dev use until the
/// production pool replaces it.
#[derive(Debug, Default)]
pub struct ListPool {
    txs: Mutex<Vec<PoolTx>>,
    version: AtomicU64,
    da_limits: Mutex<aegis_executor::DaLimits>,
}

impl ListPool {
    /// Adds transactions.
    pub fn extend(&self, txs: impl IntoIterator<Item = PoolTx>) {
        self.txs.lock().expect("pool lock").extend(txs);
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

impl TxPool for ListPool {
    fn best_transactions(&self, base_fee: u64) -> Box<dyn PoolTxSource + Send> {
        let txs = self.txs.lock().expect("pool lock").clone();
        let limits = *self.da_limits.lock().expect("limits lock");
        Box::new(aegis_executor::FeeOrderedTxs::new(txs, base_fee).with_da_limits(limits))
    }
    fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }
    fn pending_gas(&self) -> u64 {
        let txs = self.txs.lock().expect("pool lock");
        txs.iter()
            .fold(0u64, |gas, tx| gas.saturating_add(tx.gas_limit()))
    }
    fn set_da_limits(&self, limits: aegis_executor::DaLimits) {
        *self.da_limits.lock().expect("limits lock") = limits;
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

/// How often a job retries with a changed pool.
const REBUILD_INTERVAL: Duration = Duration::from_millis(200);
/// How long a job keeps improving its block.
const MAX_JOB_LIFETIME: Duration = Duration::from_secs(12);
/// How long getPayload waits for the first block with pool transactions.
const FIRST_FULL_BUILD_WAIT: Duration = Duration::from_secs(2);
/// Jobs kept for getPayload / newPayload lookups.
const MAX_JOBS: usize = 64;

struct Job {
    wants_pool: bool,
    best: Mutex<Arc<ExecutedBlock>>,
    /// Bumped after every build that considered the pool.
    full_builds: watch::Sender<u64>,
    stopped: AtomicBool,
    stop: Notify,
}

/// The payload jobs of one engine.
pub struct PayloadJobs {
    executor: Arc<Executor>,
    pool: Arc<dyn TxPool>,
    jobs: Mutex<VecDeque<(PayloadId, Arc<Job>)>>,
}

impl std::fmt::Debug for PayloadJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadJobs").finish_non_exhaustive()
    }
}

/// The deterministic payload id of `attrs` on `parent`: 8 bytes of a hash over every
/// attribute, with the method version in the first byte.
pub fn payload_id(parent: &B256, attrs: &BuildAttributes, version: u8) -> PayloadId {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(parent.as_slice());
    buf.extend_from_slice(&attrs.timestamp.to_be_bytes());
    buf.extend_from_slice(attrs.prev_randao.as_slice());
    buf.extend_from_slice(attrs.fee_recipient.as_slice());
    buf.extend_from_slice(
        attrs
            .parent_beacon_block_root
            .unwrap_or_default()
            .as_slice(),
    );
    buf.push(attrs.no_tx_pool as u8);
    buf.extend_from_slice(&(attrs.transactions.len() as u64).to_be_bytes());
    for tx in &attrs.transactions {
        buf.extend_from_slice(keccak256(tx).as_slice());
    }
    buf.extend_from_slice(&attrs.gas_limit.to_be_bytes());
    buf.extend_from_slice(attrs.eip1559_params.unwrap_or_default().as_slice());
    buf.extend_from_slice(&attrs.min_base_fee.map_or([0xff; 8], u64::to_be_bytes));
    let mut id = [0u8; 8];
    id.copy_from_slice(&keccak256(&buf)[..8]);
    id[0] = version;
    PayloadId::new(id)
}

impl PayloadJobs {
    /// Jobs building with `executor` from `pool`.
    pub fn new(executor: Arc<Executor>, pool: Arc<dyn TxPool>) -> Self {
        Self {
            executor,
            pool,
            jobs: Mutex::new(VecDeque::new()),
        }
    }

    fn find(&self, id: &PayloadId) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.iter()
            .find(|(job_id, _)| job_id == id)
            .map(|(_, job)| job.clone())
    }

    fn build(
        executor: &Executor,
        pool: &dyn TxPool,
        parent: B256,
        attrs: &BuildAttributes,
        with_pool: bool,
    ) -> Result<ExecutedBlock, ExecutorError> {
        let started = std::time::Instant::now();
        let built = Self::build_inner(executor, pool, parent, attrs, with_pool);
        metrics::histogram!("aegis_payload_build_seconds").record(started.elapsed().as_secs_f64());
        built
    }

    fn build_inner(
        executor: &Executor,
        pool: &dyn TxPool,
        parent: B256,
        attrs: &BuildAttributes,
        with_pool: bool,
    ) -> Result<ExecutedBlock, ExecutorError> {
        if !with_pool {
            return executor.build(parent, attrs, None);
        }
        let parent_header = executor
            .store()
            .header(&parent)?
            .ok_or(ExecutorError::UnknownParent(parent))?;
        let base_fee =
            aegis_executor::next_base_fee(executor.spec(), &parent_header, attrs.timestamp)?;
        let mut txs = pool.best_transactions(base_fee);
        executor.build(parent, attrs, Some(&mut *txs))
    }

    /// Starts (or finds) the job for `attrs` on `parent`. The block without pool transactions
    /// is built before this returns, so invalid attributes fail here; pool transactions are
    /// added in the background.
    pub async fn start(
        &self,
        parent: B256,
        attrs: BuildAttributes,
        version: u8,
    ) -> Result<PayloadId, ExecutorError> {
        let id = payload_id(&parent, &attrs, version);
        if self.find(&id).is_some() {
            return Ok(id);
        }
        let executor = self.executor.clone();
        let pool = self.pool.clone();
        let attrs = Arc::new(attrs);
        let first = {
            let (executor, attrs) = (executor.clone(), attrs.clone());
            tokio::task::spawn_blocking(move || {
                Self::build(&executor, &EmptyPool, parent, &attrs, false)
            })
            .await
            .map_err(|e| ExecutorError::Execution(e.to_string()))??
        };
        let wants_pool = !attrs.no_tx_pool;
        let job = Arc::new(Job {
            wants_pool,
            best: Mutex::new(Arc::new(first)),
            full_builds: watch::channel(0).0,
            stopped: AtomicBool::new(false),
            stop: Notify::new(),
        });
        {
            let mut jobs = self.jobs.lock().expect("jobs lock");
            if jobs.len() >= MAX_JOBS
                && let Some((_, old)) = jobs.pop_front()
            {
                old.finish();
            }
            jobs.push_back((id, job.clone()));
        }
        if wants_pool {
            tokio::spawn(improve(job, executor, pool, parent, attrs));
        }
        Ok(id)
    }

    /// The best block of job `id`, ending its improvement. Waits (briefly) only if pool
    /// transactions were wanted and no build with the pool has finished yet.
    pub async fn best(&self, id: &PayloadId) -> Option<Arc<ExecutedBlock>> {
        let job = self.find(id)?;
        if job.wants_pool && *job.full_builds.borrow() == 0 {
            let mut builds = job.full_builds.subscribe();
            let _ = tokio::time::timeout(FIRST_FULL_BUILD_WAIT, builds.wait_for(|n| *n > 0)).await;
        }
        job.finish();
        let best = job.best.lock().expect("job lock").clone();
        Some(best)
    }

    /// Whether job `id` builds from the pool (sequences), as opposed to reproducing given
    /// transactions only (`noTxPool`, as derivation does).
    pub fn sequences(&self, id: &PayloadId) -> Option<bool> {
        self.find(id).map(|job| job.wants_pool)
    }

    /// A block some job built, by hash (the sequencer's own payload coming back in newPayload).
    pub fn built_block(&self, hash: &B256) -> Option<Arc<ExecutedBlock>> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.iter().find_map(|(_, job)| {
            let best = job.best.lock().expect("job lock");
            (best.hash == *hash).then(|| best.clone())
        })
    }
}

impl Job {
    fn finish(&self) {
        self.stopped.store(true, Ordering::Release);
        self.stop.notify_waiters();
    }
}

/// Rebuilds with the pool until the job is read or expires, keeping the most valuable block.
async fn improve(
    job: Arc<Job>,
    executor: Arc<Executor>,
    pool: Arc<dyn TxPool>,
    parent: B256,
    attrs: Arc<BuildAttributes>,
) {
    let started = tokio::time::Instant::now();
    let mut last_version = None;
    while !job.stopped.load(Ordering::Acquire) && started.elapsed() < MAX_JOB_LIFETIME {
        let version = pool.version();
        if last_version != Some(version) {
            last_version = Some(version);
            let (executor, pool, attrs) = (executor.clone(), pool.clone(), attrs.clone());
            let built = tokio::task::spawn_blocking(move || {
                PayloadJobs::build(&executor, &*pool, parent, &attrs, true)
            })
            .await;
            match built {
                Ok(Ok(block)) => {
                    let mut best = job.best.lock().expect("job lock");
                    let improves = block.block.body.transactions.len()
                        > best.block.body.transactions.len()
                        || block.fees > best.fees;
                    if improves && !job.stopped.load(Ordering::Acquire) {
                        *best = Arc::new(block);
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(target: "aegis::engine", %error, "payload rebuild failed")
                }
                Err(error) => tracing::warn!(target: "aegis::engine", %error, "payload task died"),
            }
            job.full_builds.send_modify(|n| *n += 1);
        }
        tokio::select! {
            _ = tokio::time::sleep(REBUILD_INTERVAL) => {}
            _ = job.stop.notified() => {}
        }
    }
}
