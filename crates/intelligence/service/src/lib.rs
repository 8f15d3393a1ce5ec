//! The intelligence layer of the sequencer: the quantum resistance monitor and its feeds, what a
//! risk level change does (plan or perform a key rotation, report to the oracle, turn asset
//! protection on), the ordering strategy, the asset registry and migration checkpoints, and their
//! JSON-RPC methods ([`Intelligence::public_module`] for the public port,
//! [`Intelligence::admin_module`] for the engine port).

use aegis_attest::Identity;
use aegis_bindings::{qrms_oracle::QRMSOracle, sequencer_attestation::SequencerAttestation};
use aegis_executor::Executor;
use aegis_mempool::Pool;
use aegis_migration::{Checkpoint, CheckpointStore, SignedCheckpoint};
use aegis_ordering::{HybridWeights, Orderer, OrderingContext, Strategy};
use aegis_qrm::{
    FeedConfig, FeedSource, LevelChange, Monitor, QrmConfig, RiskLevel, RiskSignal, ThreatReport,
};
use aegis_registry::{
    AssetRegistration, AssetRemoval, ChainView, EIP1271_MAGIC, ProtectedAddresses, Registry,
    RegistryError,
};
use aegis_rpc_types::errors::{INTERNAL, INVALID_PARAMS, LIMIT_EXCEEDED, SERVER_ERROR, rpc_error};
use aegis_snapshot::{ExportSummary, SnapshotDir};
use alloy_primitives::{Address, B256, Signature};
use alloy_sol_types::SolCall;
use jsonrpsee::{RpcModule, types::ErrorObjectOwned};
use serde::Serialize;
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::watch;
use tracing::{info, warn};

/// Errors of the intelligence layer.
#[derive(Debug, thiserror::Error)]
pub enum IntelligenceError {
    /// The configuration does not hold together.
    #[error("{0}")]
    Config(&'static str),
    /// The monitor's configuration or a report.
    #[error(transparent)]
    Qrm(#[from] aegis_qrm::QrmError),
    /// The ordering configuration.
    #[error(transparent)]
    Ordering(#[from] aegis_ordering::OrderingError),
    /// The sealed registry could not be opened.
    #[error("asset registry {path}: {source}")]
    RegistryFile {
        /// Its file.
        path: PathBuf,
        /// Why.
        #[source]
        source: RegistryError,
    },
    /// The chain store.
    #[error(transparent)]
    Storage(#[from] aegis_storage::StorageError),
    /// A call at the head.
    #[error(transparent)]
    Executor(#[from] aegis_executor::ExecutorError),
    /// Checkpoints.
    #[error(transparent)]
    Migration(#[from] aegis_migration::MigrationError),
    /// A state snapshot.
    #[error(transparent)]
    Snapshot(#[from] aegis_snapshot::SnapshotError),
    /// Something this node was not set up with (keys, an oracle) or has not got yet (a head).
    #[error("{0}")]
    Unavailable(&'static str),
    /// The oracle's answer.
    #[error("{0}")]
    Oracle(String),
    /// A threat feed could not be read.
    #[error("{origin}: {reason}")]
    Feed {
        /// The file or URL.
        origin: String,
        /// Why.
        reason: String,
    },
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How often the monitor recomputes and due rotations are checked.
const TICK: Duration = Duration::from_secs(1);

/// A signature as wallets give it (`personal_sign`: 65 bytes `r ‖ s ‖ v` in hex; for a
/// contract owner whatever its EIP-1271 `isValidSignature` takes) or as alloy serializes an
/// ECDSA signature (`{r, s, yParity}`).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SignatureParam {
    Raw(alloy_primitives::Bytes),
    Object(Signature),
}

impl SignatureParam {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Raw(bytes) => bytes.to_vec(),
            Self::Object(signature) => signature.as_bytes().to_vec(),
        }
    }
}

/// The JSON-RPC error for a registry error: -32602 for what the request got wrong (malformed,
/// not signed by the owner, not in control, registered by someone else, protected, replayed),
/// -32005 for limits, -32603 for the node's own failures.
fn registry_error(e: RegistryError) -> ErrorObjectOwned {
    let code = match e {
        RegistryError::RateLimited(_) | RegistryError::Quota { .. } => LIMIT_EXCEEDED,
        RegistryError::Storage { .. } | RegistryError::Chain(_) => INTERNAL,
        _ => INVALID_PARAMS,
    };
    rpc_error(code, e.to_string())
}

/// Addresses the registry never registers nor protects: the OP predeploys and their
/// implementations, every account with code in the genesis (preinstalls, system contracts),
/// the system senders, the sequencer's key and its anchor contracts.
fn protected_addresses(
    spec: &aegis_chainspec::ChainSpec,
    sequencer: Option<Address>,
    anchors: impl IntoIterator<Item = Address>,
) -> ProtectedAddresses {
    use aegis_chainspec::predeploys;
    let last = |base: Address| {
        let mut last = base;
        let [hi, lo] = (predeploys::PREDEPLOY_COUNT - 1).to_be_bytes();
        last.0[18] = hi;
        last.0[19] = lo;
        last
    };
    let mut protected = ProtectedAddresses::new();
    protected
        .insert_range(predeploys::PREDEPLOY_BASE, last(predeploys::PREDEPLOY_BASE))
        .insert_range(
            predeploys::CODE_NAMESPACE_BASE,
            last(predeploys::CODE_NAMESPACE_BASE),
        );
    for address in [
        aegis_chainspec::l1_info::L1_INFO_DEPOSITOR,
        predeploys::BEACON_ROOTS_ADDRESS,
        predeploys::BEACON_ROOTS_SENDER,
        predeploys::HISTORY_STORAGE_ADDRESS,
        predeploys::HISTORY_STORAGE_SENDER,
    ]
    .into_iter()
    .chain(sequencer)
    .chain(anchors)
    {
        protected.insert(address);
    }
    for (address, account) in &spec.genesis.alloc {
        if account.code.as_ref().is_some_and(|code| !code.is_empty()) {
            protected.insert(*address);
        }
    }
    protected
}

/// The chain at the head as the registry reads it: `owner()` and `isValidSignature` through
/// `eth_call`.
struct HeadView<'a>(&'a Executor);

impl HeadView<'_> {
    /// `Ok(None)` when the call reverts or returns nothing.
    fn call(&self, to: Address, input: Vec<u8>) -> Result<Option<Vec<u8>>, String> {
        let head = self
            .0
            .store()
            .head()
            .map_err(|e| e.to_string())?
            .ok_or("no head")?
            .hash_slow();
        let request = alloy_rpc_types_eth::TransactionRequest::default()
            .to(to)
            .input(alloy_rpc_types_eth::TransactionInput::new(input.into()));
        Ok(self
            .0
            .call(head, request, None, None)
            .ok()
            .filter(|out| !out.is_empty())
            .map(|out| out.to_vec()))
    }
}

impl ChainView for HeadView<'_> {
    fn owner(&self, contract: Address) -> Result<Option<Address>, String> {
        // EIP-173 `owner()`: 0x8da5cb5b.
        let out = self.call(contract, vec![0x8d, 0xa5, 0xcb, 0x5b])?;
        Ok(out.and_then(|word| {
            let word = word.get(..32)?;
            word[..12]
                .iter()
                .all(|b| *b == 0)
                .then(|| Address::from_slice(&word[12..]))
                .filter(|owner| *owner != Address::ZERO)
        }))
    }

    fn is_valid_signature(
        &self,
        account: Address,
        hash: B256,
        signature: &[u8],
    ) -> Result<bool, String> {
        // `isValidSignature(bytes32,bytes)`: selector, hash, offset 0x40, length, padded bytes.
        let mut input = EIP1271_MAGIC.to_vec();
        input.extend_from_slice(hash.as_slice());
        input.extend_from_slice(&B256::with_last_byte(0x40).0);
        input.extend_from_slice(&alloy_primitives::U256::from(signature.len()).to_be_bytes::<32>());
        input.extend_from_slice(signature);
        input.resize(4 + 96 + signature.len().div_ceil(32) * 32, 0);
        let out = self.call(account, input)?;
        // Exactly `bytes4(0x1626ba7e)` ABI-encoded: a contract that echoes its calldata (which
        // starts with the same selector) does not approve.
        Ok(out.is_some_and(|word| {
            word.len() == 32 && word[..4] == EIP1271_MAGIC && word[4..].iter().all(|b| *b == 0)
        }))
    }
}

/// Key rotations the risk monitor planned and performed.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rotation {
    /// When the planned rotation is due (unix seconds).
    scheduled_at: Option<u64>,
    /// When the last risk-driven rotation ran.
    last_rotated_at: Option<u64>,
    /// The key epoch it started.
    last_epoch: Option<u32>,
    /// The level it answered.
    last_level: Option<RiskLevel>,
}

/// What the node was started with.
#[derive(Debug)]
pub struct IntelligenceSetup {
    /// The monitor: indicators, thresholds, feeds.
    pub quantum: QrmConfig,
    /// The ordering strategy at start.
    pub strategy: Strategy,
    /// The hybrid strategy's weights.
    pub weights: HybridWeights,
    /// `QRMSOracle`, read by an oracle feed and reported to.
    pub oracle: Option<Address>,
    /// `SequencerAttestation`, where checkpoints are recorded.
    pub attestation: Option<Address>,
}

/// The node's intelligence state.
pub struct Intelligence {
    executor: Arc<Executor>,
    pool: Arc<Pool>,
    identity: Option<Arc<Identity>>,
    monitor: Mutex<Monitor>,
    orderer: Arc<Orderer>,
    registry: Option<Mutex<Registry>>,
    checkpoints: Option<CheckpointStore>,
    risk: watch::Sender<Option<RiskSignal>>,
    rotation: Mutex<Rotation>,
    /// Targets of the migrations started, by checkpoint id.
    migrations: Mutex<BTreeMap<u64, Vec<Address>>>,
    oracle: Option<Address>,
    attestation: Option<Address>,
}

impl Intelligence {
    /// Sets up the monitor, the ordering (installed in `pool`) and, with sequencer keys, the
    /// sealed registry and the checkpoint store in `datadir`.
    pub fn new(
        setup: IntelligenceSetup,
        datadir: &Path,
        executor: Arc<Executor>,
        pool: Arc<Pool>,
        identity: Option<Arc<Identity>>,
    ) -> Result<Arc<Self>, IntelligenceError> {
        if setup
            .quantum
            .feeds
            .iter()
            .any(|f| f.source == FeedSource::Oracle)
            && setup.oracle.is_none()
        {
            return Err(IntelligenceError::Config(
                "quantum.feeds: an oracle feed needs --anchor.oracle",
            ));
        }
        let monitor = Monitor::new(setup.quantum)?;
        let orderer = Arc::new(Orderer::new(setup.strategy, setup.weights)?);
        pool.set_ordering(orderer.clone());
        let (registry, checkpoints) = match &identity {
            Some(identity) => {
                let key = Registry::key_from_secret(&identity.ecdsa().secret());
                let path = datadir.join("registry.sealed");
                let protected = protected_addresses(
                    executor.spec(),
                    Some(identity.address()),
                    setup.attestation.into_iter().chain(setup.oracle),
                );
                let registry =
                    Registry::open(&path, key, executor.spec().chain_id, Default::default())
                        .map_err(|source| IntelligenceError::RegistryFile {
                            path: path.clone(),
                            source,
                        })?
                        .with_protected(protected);
                (
                    Some(Mutex::new(registry)),
                    Some(CheckpointStore::new(datadir.join("checkpoints"))),
                )
            }
            None => (None, None),
        };
        let this = Arc::new(Self {
            executor,
            pool,
            identity,
            monitor: Mutex::new(monitor),
            orderer,
            registry,
            checkpoints,
            risk: watch::channel(None).0,
            rotation: Mutex::default(),
            migrations: Mutex::default(),
            oracle: setup.oracle,
            attestation: setup.attestation,
        });
        this.refresh_context();
        info!(target: "aegis::intelligence", strategy = %setup.strategy, "ordering strategy");
        Ok(this)
    }

    /// The monitor's signal for the anchor.
    pub fn risk_signal(&self) -> watch::Receiver<Option<RiskSignal>> {
        self.risk.subscribe()
    }

    /// The checkpoint store, with sequencer keys.
    pub fn checkpoints(&self) -> Option<CheckpointStore> {
        self.checkpoints.clone()
    }

    /// Starts the feeds' pollers and the monitor's clock.
    pub fn start(self: &Arc<Self>) {
        let feeds = self.lock_monitor().config().feeds.clone();
        for feed in feeds {
            tokio::spawn(self.clone().poll_feed(feed));
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            loop {
                interval.tick().await;
                this.tick().await;
            }
        });
    }

    fn lock_monitor(&self) -> std::sync::MutexGuard<'_, Monitor> {
        self.monitor.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn poll_feed(self: Arc<Self>, feed: FeedConfig) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        let mut last_modified = None;
        let mut interval = tokio::time::interval(Duration::from_secs(feed.interval_secs));
        loop {
            interval.tick().await;
            let report = match &feed.source {
                FeedSource::File { path } => {
                    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                    if modified.is_some() && modified == last_modified {
                        continue;
                    }
                    last_modified = modified;
                    read_file_report(path)
                }
                FeedSource::Http { url } => fetch_http_report(&client, url).await,
                FeedSource::Oracle => self.oracle_report(),
            };
            let now = now();
            let mut monitor = self.lock_monitor();
            match report {
                Ok(report) => {
                    if let Err(error) = monitor.ingest(&feed.name, report, now) {
                        warn!(target: "aegis::intelligence", feed = %feed.name, %error, "threat report refused");
                    }
                }
                Err(error) => {
                    warn!(target: "aegis::intelligence", feed = %feed.name, %error, "threat feed unreadable");
                    monitor.record_error(&feed.name, error);
                }
            }
        }
    }

    /// `QRMSOracle.riskState()` at the head, as a report of the `oracle_score` indicator.
    fn oracle_report(&self) -> Result<ThreatReport, IntelligenceError> {
        let oracle = self
            .oracle
            .ok_or(IntelligenceError::Unavailable("no oracle configured"))?;
        let out = self.view(oracle, QRMSOracle::riskStateCall {}.abi_encode())?;
        let state = QRMSOracle::riskStateCall::abi_decode_returns(&out).map_err(|_| {
            IntelligenceError::Oracle("riskState() returned undecodable data".into())
        })?;
        if state.updatedAt == 0 {
            return Err(IntelligenceError::Oracle(
                "the oracle has no score yet".into(),
            ));
        }
        Ok(ThreatReport {
            observed_at: u64::from(state.updatedAt),
            indicators: [("oracle_score".to_string(), f64::from(state.score))].into(),
        })
    }

    /// An `eth_call` at the head.
    fn view(&self, to: Address, input: Vec<u8>) -> Result<Vec<u8>, IntelligenceError> {
        let head = self
            .executor
            .store()
            .head()?
            .ok_or(IntelligenceError::Unavailable("no head"))?
            .hash_slow();
        let request = alloy_rpc_types_eth::TransactionRequest::default()
            .to(to)
            .input(alloy_rpc_types_eth::TransactionInput::new(input.into()));
        let out = self.executor.call(head, request, None, None)?;
        if out.is_empty() {
            return Err(IntelligenceError::Oracle(format!("no contract at {to}")));
        }
        Ok(out.to_vec())
    }

    /// Recomputes the score, acts on a level change and runs a due rotation.
    async fn tick(&self) {
        let now = now();
        let (change, status) = {
            let mut monitor = self.lock_monitor();
            let change = monitor.recompute(now);
            (change, monitor.status().clone())
        };
        if status.updated_at != 0 {
            self.risk.send_if_modified(|current| {
                let next = Some(RiskSignal {
                    score: status.score,
                    level: status.level,
                });
                let changed = *current != next;
                *current = next;
                changed
            });
        }
        if let Some(change) = change {
            self.on_level_change(change, now).await;
        }
        let due = {
            let rotation = self.rotation.lock().unwrap_or_else(|e| e.into_inner());
            rotation.scheduled_at.is_some_and(|at| at <= now)
        };
        if due {
            self.rotate(RiskLevel::Scheduled, now).await;
        }
    }

    async fn on_level_change(&self, change: LevelChange, now: u64) {
        info!(
            target: "aegis::intelligence",
            from = ?change.from,
            to = ?change.to,
            score = change.score,
            "risk level changed"
        );
        match change.to {
            RiskLevel::Normal => {
                self.rotation
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .scheduled_at = None;
            }
            RiskLevel::Scheduled => {
                let delay = self.lock_monitor().config().rotation_delay_secs;
                let mut rotation = self.rotation.lock().unwrap_or_else(|e| e.into_inner());
                if rotation.scheduled_at.is_none() && change.from == RiskLevel::Normal {
                    rotation.scheduled_at = Some(now + delay);
                    info!(target: "aegis::intelligence", at = now + delay, "key rotation scheduled");
                }
            }
            RiskLevel::Emergency => self.rotate(RiskLevel::Emergency, now).await,
        }
        self.refresh_context();
    }

    /// Rotates the post-quantum and mempool keys now, answering `level`.
    async fn rotate(&self, level: RiskLevel, now: u64) {
        self.rotation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .scheduled_at = None;
        let Some(identity) = self.identity.clone() else {
            warn!(target: "aegis::intelligence", "no sequencer keys to rotate");
            return;
        };
        match tokio::task::spawn_blocking(move || identity.rotate()).await {
            Ok(Ok(epoch)) => {
                info!(target: "aegis::intelligence", epoch, ?level, "risk-driven key rotation");
                let mut rotation = self.rotation.lock().unwrap_or_else(|e| e.into_inner());
                rotation.last_rotated_at = Some(now);
                rotation.last_epoch = Some(epoch);
                rotation.last_level = Some(level);
            }
            Ok(Err(error)) => {
                tracing::error!(target: "aegis::intelligence", %error, "risk-driven key rotation failed")
            }
            Err(error) => {
                tracing::error!(target: "aegis::intelligence", %error, "key rotation task failed")
            }
        }
    }

    /// Gives the ordering the current registry content, level and migration targets.
    fn refresh_context(&self) {
        let protection = self
            .registry
            .as_ref()
            .map(|r| r.lock().unwrap_or_else(|e| e.into_inner()).protection_set())
            .unwrap_or_default();
        let targets: HashSet<Address> = self
            .migrations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flatten()
            .copied()
            .collect();
        self.orderer.set_context(OrderingContext {
            protection: Arc::new(protection),
            level: self.lock_monitor().status().level,
            migration_targets: Arc::new(targets),
        });
        self.pool.touch();
    }

    fn status_json(&self) -> Value {
        let (status, config) = {
            let monitor = self.lock_monitor();
            (monitor.status().clone(), monitor.config().clone())
        };
        let rotation = self
            .rotation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let context = self.orderer.context();
        let protecting = context
            .protection
            .assets
            .values()
            .any(|a| a.policy.at(status.level) != aegis_registry::Allowance::Any);
        json!({
            "score": status.score,
            "level": status.level,
            "levelSince": status.level_since,
            "updatedAt": status.updated_at,
            "freshFeeds": status.fresh_feeds,
            "feeds": status.feeds,
            "thresholds": {
                "scheduled": config.risk_scheduled,
                "emergency": config.risk_emergency,
                "hysteresis": config.hysteresis,
            },
            "rotation": rotation,
            "keyEpoch": self.identity.as_ref().map(|i| i.epoch()),
            "ecdsaOnlyRefused": status.level == RiskLevel::Emergency,
            "assetProtectionActive": protecting,
            "strategy": self.orderer.strategy().to_string(),
            // Held transactions that arrived encrypted stay secret here too.
            "quarantined": self
                .orderer
                .quarantined()
                .into_iter()
                .filter(|held| !self.pool.is_private(&held.hash))
                .collect::<Vec<_>>(),
        })
    }

    fn registry(&self) -> Result<std::sync::MutexGuard<'_, Registry>, ErrorObjectOwned> {
        self.registry
            .as_ref()
            .map(|r| r.lock().unwrap_or_else(|e| e.into_inner()))
            .ok_or_else(|| {
                rpc_error(
                    SERVER_ERROR,
                    "this node has no sequencer keys (no registry)",
                )
            })
    }

    /// Takes a state checkpoint of the head (id = its number, signed like a migration checkpoint
    /// but starting no migration and recorded nowhere) and writes the head's snapshot with it
    /// into `dir`, keeping the newest `keep`. Both see the same block: the head is frozen first.
    pub fn take_snapshot(
        &self,
        dir: &SnapshotDir,
        keep: usize,
    ) -> Result<(Checkpoint, ExportSummary), IntelligenceError> {
        let identity = self
            .identity
            .as_ref()
            .ok_or(IntelligenceError::Unavailable("no sequencer keys"))?;
        let chain = self.executor.store();
        let reader = chain.head_reader()?;
        let (hash, header) = (reader.head_hash(), reader.header().clone());
        let state = chain.state_at(&hash)?;
        let keys = identity.current_keys();
        let checkpoint = Checkpoint::create(
            header.number,
            self.executor.spec().chain_id,
            (header.number, hash, header.state_root),
            &state,
            &self.asset_list(),
            Vec::new(),
            &keys.mldsa,
            keys.epoch,
            now(),
        )?;
        drop(state);
        let record = SignedCheckpoint {
            checkpoint,
            signer: identity.address(),
        };
        let json = serde_json::to_vec_pretty(&record).expect("serialisable");
        let summary = dir.write(&reader, self.executor.spec().chain_id, &json, keep)?;
        Ok((record.checkpoint, summary))
    }

    /// Takes [`Intelligence::take_snapshot`] whenever the head is `interval` blocks past the
    /// newest snapshot in `dir` (at once if there is none).
    pub fn snapshot_periodically(self: &Arc<Self>, dir: SnapshotDir, interval: u64, keep: usize) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut last = dir.latest().ok().flatten();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let head = match this.executor.store().head() {
                    Ok(Some(head)) => head.number,
                    _ => continue,
                };
                if last.is_some_and(|last| head < last.saturating_add(interval)) {
                    continue;
                }
                let (worker, dir) = (this.clone(), dir.clone());
                let started = std::time::Instant::now();
                let taken =
                    tokio::task::spawn_blocking(move || worker.take_snapshot(&dir, keep)).await;
                match taken {
                    Ok(Ok((checkpoint, summary))) => {
                        last = Some(checkpoint.block_number);
                        metrics::counter!("aegis_snapshots_total").increment(1);
                        metrics::gauge!("aegis_snapshot_block").set(checkpoint.block_number as f64);
                        info!(target: "aegis::snapshot", block = checkpoint.block_number, accounts = summary.totals.accounts, bytes = summary.bytes, took_ms = started.elapsed().as_millis() as u64, "state snapshot and checkpoint taken");
                    }
                    Ok(Err(e)) => {
                        // Retried at the next interval, not every second.
                        last = Some(head);
                        warn!(target: "aegis::snapshot", error = %e, "state snapshot failed");
                    }
                    Err(e) => {
                        warn!(target: "aegis::snapshot", error = %e, "state snapshot task failed")
                    }
                }
            }
        });
    }

    fn asset_list(&self) -> Vec<(B256, Address)> {
        let Some(registry) = self.registry.as_ref() else {
            return Vec::new();
        };
        let registry = registry.lock().unwrap_or_else(|e| e.into_inner());
        registry
            .protection_set()
            .assets
            .iter()
            .map(|(address, asset)| (asset.id, *address))
            .collect()
    }

    /// Starts a migration: checkpoint of the head with every on-chain asset, signed, stored;
    /// `targets` (and every asset's vaults) are grouped by the migration-aware strategy from now
    /// on, which replaces plain fee ordering.
    fn start_migration(&self, targets: Vec<Address>) -> Result<Checkpoint, IntelligenceError> {
        let missing = IntelligenceError::Unavailable;
        let identity = self.identity.as_ref().ok_or(missing("no sequencer keys"))?;
        let store = self
            .checkpoints
            .as_ref()
            .ok_or(missing("no checkpoint store"))?;
        self.registry.as_ref().ok_or(missing("no registry"))?;
        let assets = self.asset_list();
        let chain = self.executor.store();
        let head = chain.head()?.ok_or(missing("no head"))?;
        let hash = head.hash_slow();
        let state = chain.state_at(&hash)?;
        let id = store.ids()?.last().copied().unwrap_or(0) + 1;
        let keys = identity.current_keys();
        let mut all_targets: Vec<Address> = targets;
        let vaults = self.orderer.context().protection.all_vaults.clone();
        all_targets.extend(vaults);
        all_targets.sort();
        all_targets.dedup();
        let checkpoint = Checkpoint::create(
            id,
            self.executor.spec().chain_id,
            (head.number, hash, head.state_root),
            &state,
            &assets,
            all_targets.clone(),
            &keys.mldsa,
            keys.epoch,
            now(),
        )?;
        store.save(&checkpoint)?;
        self.migrations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, all_targets);
        // The migration's transactions go as one group: plain fee ordering gives way to the
        // migration-aware strategy (the others already weigh or group migrations).
        if self.orderer.strategy() == Strategy::Fee {
            self.orderer.set_strategy(Strategy::MigrationAware);
            info!(target: "aegis::intelligence", "ordering switched to migration-aware for the migration");
        }
        self.refresh_context();
        info!(target: "aegis::intelligence", id, block = head.number, assets = assets.len(), "migration checkpoint created");
        Ok(checkpoint)
    }

    fn migration_json(&self, id: u64) -> Result<Value, ErrorObjectOwned> {
        let store = self
            .checkpoints
            .as_ref()
            .ok_or_else(|| rpc_error(SERVER_ERROR, "no checkpoint store"))?;
        let checkpoint = store
            .get(id)
            .map_err(|e| rpc_error(INTERNAL, e.to_string()))?
            .ok_or_else(|| rpc_error(INVALID_PARAMS, format!("no checkpoint {id}")))?;
        // `null` when there is no contract to ask; a failed read is an error, not "not recorded".
        let on_chain = match self.attestation {
            Some(attestation) => {
                let out = self
                    .view(
                        attestation,
                        SequencerAttestation::checkpointCall { checkpointId: id }.abi_encode(),
                    )
                    .map_err(|e| rpc_error(INTERNAL, format!("reading checkpoint {id}: {e:#}")))?;
                let record = SequencerAttestation::checkpointCall::abi_decode_returns(&out)
                    .map_err(|_| rpc_error(INTERNAL, "checkpoint() returned undecodable data"))?;
                Some(
                    record.sequencer != Address::ZERO
                        && record.mldsaSigHash == checkpoint.mldsa_sig_hash(),
                )
            }
            None => None,
        };
        let targets: HashSet<Address> = checkpoint.targets.iter().copied().collect();
        // Counted from what the public may see: encrypted arrivals stay secret.
        let pending = self
            .pool
            .public_content(usize::MAX)
            .pending
            .values()
            .flat_map(|txs| txs.values())
            .filter(|tx| {
                alloy_consensus::Transaction::to(tx.envelope())
                    .is_some_and(|to| targets.contains(&to))
            })
            .count();
        let status = match on_chain {
            Some(true) if pending == 0 => "completed",
            Some(true) => "anchored",
            _ => "created",
        };
        Ok(json!({
            "id": id,
            "status": status,
            "recordedOnChain": on_chain,
            "pendingMigrationTransactions": pending,
            "checkpoint": checkpoint,
        }))
    }

    /// `aegis_getRiskStatus`, `aegis_registerAsset`, `aegis_removeAsset`, `aegis_getAssets`,
    /// `aegis_getMigration` on the public port.
    pub fn public_module(self: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut module = RpcModule::new(self);
        module
            .register_method("aegis_getRiskStatus", |_, this, _| {
                Ok::<_, ErrorObjectOwned>(this.status_json())
            })
            .expect("unique");
        module
            .register_blocking_method("aegis_registerAsset", |params, this, _| {
                let mut seq = params.sequence();
                let registration: AssetRegistration = seq.next()?;
                let signature = seq.next::<SignatureParam>()?.into_bytes();
                let id = this
                    .registry()?
                    .register(registration, &signature, now(), &HeadView(&this.executor))
                    .map_err(registry_error)?;
                this.refresh_context();
                Ok::<_, ErrorObjectOwned>(id)
            })
            .expect("unique");
        module
            .register_blocking_method("aegis_removeAsset", |params, this, _| {
                let mut seq = params.sequence();
                let removal: AssetRemoval = seq.next()?;
                let signature = seq.next::<SignatureParam>()?.into_bytes();
                let asset = this
                    .registry()?
                    .remove(&removal, &signature, now(), &HeadView(&this.executor))
                    .map_err(registry_error)?;
                this.refresh_context();
                Ok::<_, ErrorObjectOwned>(asset.id)
            })
            .expect("unique");
        module
            .register_method("aegis_getAssets", |_, this, _| {
                let assets: Vec<_> = this.registry()?.assets().cloned().collect();
                Ok::<_, ErrorObjectOwned>(assets)
            })
            .expect("unique");
        module
            .register_blocking_method("aegis_getMigration", |params, this, _| {
                let id: alloy_primitives::U64 = params.one()?;
                this.migration_json(id.to())
            })
            .expect("unique");
        module
    }

    /// `aegis_submitThreatReport`, `aegis_setOrderingStrategy`, `aegis_startMigration`,
    /// `aegis_approveAsset` and `aegis_revokeAsset` (governance) on the JWT-authenticated
    /// engine port.
    pub fn admin_module(self: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut module = RpcModule::new(self);
        module
            .register_blocking_method("aegis_approveAsset", |params, this, _| {
                let registration: AssetRegistration = params.one()?;
                let id = this
                    .registry()?
                    .approve(registration, now())
                    .map_err(registry_error)?;
                this.refresh_context();
                info!(target: "aegis::intelligence", %id, "asset approved by governance");
                Ok::<_, ErrorObjectOwned>(id)
            })
            .expect("unique");
        module
            .register_blocking_method("aegis_revokeAsset", |params, this, _| {
                let id: B256 = params.one()?;
                let asset = this.registry()?.revoke(&id).map_err(registry_error)?;
                this.refresh_context();
                info!(target: "aegis::intelligence", %id, "asset revoked by governance");
                Ok::<_, ErrorObjectOwned>(asset.id)
            })
            .expect("unique");
        module
            .register_async_method("aegis_submitThreatReport", |params, this, _| async move {
                let report: ThreatReport = params.one()?;
                this.lock_monitor()
                    .ingest(aegis_qrm::ADMIN_FEED, report, now())
                    .map_err(|e| rpc_error(INVALID_PARAMS, e.to_string()))?;
                this.tick().await;
                Ok::<_, ErrorObjectOwned>(this.status_json())
            })
            .expect("unique");
        module
            .register_method("aegis_setOrderingStrategy", |params, this, _| {
                let name: String = params.one()?;
                let strategy: Strategy =
                    name.parse().map_err(|e: aegis_ordering::OrderingError| {
                        rpc_error(INVALID_PARAMS, e.to_string())
                    })?;
                this.orderer.set_strategy(strategy);
                this.pool.touch();
                info!(target: "aegis::intelligence", %strategy, "ordering strategy switched");
                Ok::<_, ErrorObjectOwned>(strategy.to_string())
            })
            .expect("unique");
        module
            .register_blocking_method("aegis_startMigration", |params, this, _| {
                #[derive(serde::Deserialize, Default)]
                #[serde(deny_unknown_fields)]
                struct Request {
                    #[serde(default)]
                    targets: Vec<Address>,
                }
                let request: Option<Request> = params.sequence().optional_next()?;
                let request = request.unwrap_or_default();
                let checkpoint = this
                    .start_migration(request.targets)
                    .map_err(|e| rpc_error(SERVER_ERROR, format!("{e:#}")))?;
                Ok::<_, ErrorObjectOwned>(json!({
                    "id": checkpoint.id,
                    "blockNumber": checkpoint.block_number,
                    "stateRoot": checkpoint.state_root,
                    "assetSnapshotRoot": checkpoint.asset_snapshot_root,
                    "assets": checkpoint.assets.len(),
                    "mldsaSigHash": checkpoint.mldsa_sig_hash(),
                }))
            })
            .expect("unique");
        module
    }
}

/// A report from a local file (at most [`aegis_qrm::MAX_REPORT_BYTES`]).
fn read_file_report(path: &Path) -> Result<ThreatReport, IntelligenceError> {
    use std::io::Read;
    let failed = |reason: String| IntelligenceError::Feed {
        origin: path.display().to_string(),
        reason,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(aegis_qrm::MAX_REPORT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| failed(e.to_string()))?;
    Ok(ThreatReport::parse(&bytes)?)
}

/// A report from an HTTP(S) endpoint (GET, at most [`aegis_qrm::MAX_REPORT_BYTES`]).
async fn fetch_http_report(
    client: &reqwest::Client,
    url: &str,
) -> Result<ThreatReport, IntelligenceError> {
    let failed = |reason: String| IntelligenceError::Feed {
        origin: url.to_owned(),
        reason,
    };
    let mut response = client
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| failed(e.to_string()))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > aegis_qrm::MAX_REPORT_BYTES {
            return Err(failed(format!(
                "response larger than {} bytes",
                aegis_qrm::MAX_REPORT_BYTES
            )));
        }
    }
    Ok(ThreatReport::parse(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn request(module: &RpcModule<Arc<Intelligence>>, method: &str, params: Value) -> Value {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (response, _) = module
            .raw_json_request(&request.to_string(), 1)
            .await
            .unwrap();
        serde_json::from_str(response.get()).unwrap()
    }

    /// Serves `body` to every HTTP request on a loopback port.
    async fn serve_once_per_request(body: String) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/threat.json", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn http_and_admin_feeds_move_the_score_and_strategies_switch_at_run_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(aegis_storage::Store::open(dir.path().join("chain.redb")).unwrap());
        let executor = Arc::new(Executor::new(aegis_testing::spec(None, None), store).unwrap());
        let pool = Arc::new(Pool::new(Default::default()));
        let now = now();
        let url = serve_once_per_request(
            json!({"observedAt": now, "indicators": {"cryptanalysis": 4000}}).to_string(),
        )
        .await;
        let mut quantum = QrmConfig::default();
        quantum.feeds.push(FeedConfig {
            name: "research".into(),
            source: FeedSource::Http { url },
            interval_secs: 1,
        });
        let setup = IntelligenceSetup {
            quantum,
            strategy: Strategy::Fee,
            weights: HybridWeights::default(),
            oracle: None,
            attestation: None,
        };
        let intelligence = Intelligence::new(setup, dir.path(), executor, pool, None).unwrap();
        intelligence.start();
        let public = intelligence.clone().public_module();
        let admin = intelligence.clone().admin_module();

        // The HTTP feed alone: 4000.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let status = request(&public, "aegis_getRiskStatus", json!([])).await;
            if status["result"]["score"] == 4000 {
                assert_eq!(status["result"]["level"], "normal");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // The admin feed joins: median of 4000 and 9800 is 6900 -> SCHEDULED.
        let status = request(
            &admin,
            "aegis_submitThreatReport",
            json!([{"observedAt": now, "indicators": {"cryptanalysis": 9800}}]),
        )
        .await;
        assert_eq!(status["result"]["score"], 6900, "{status}");
        assert_eq!(status["result"]["level"], "scheduled");
        assert!(status["result"]["rotation"]["scheduledAt"].is_u64());
        // Malformed and unknown indicators are refused; the score stays.
        for bad in [
            json!([{"observedAt": now, "indicators": {"warp": 1}}]),
            json!([{"indicators": {}}]),
            json!(["high"]),
        ] {
            let response = request(&admin, "aegis_submitThreatReport", bad).await;
            assert_eq!(response["error"]["code"], INVALID_PARAMS, "{response}");
        }
        let status = request(&public, "aegis_getRiskStatus", json!([])).await;
        assert_eq!(status["result"]["score"], 6900);

        // Strategies switch at run time; unknown ones are named.
        let response = request(&admin, "aegis_setOrderingStrategy", json!(["hybrid"])).await;
        assert_eq!(response["result"], "hybrid");
        let status = request(&public, "aegis_getRiskStatus", json!([])).await;
        assert_eq!(status["result"]["strategy"], "hybrid");
        let response = request(&admin, "aegis_setOrderingStrategy", json!(["fastest"])).await;
        assert_eq!(response["error"]["code"], INVALID_PARAMS);
        assert!(
            response["error"]["message"]
                .as_str()
                .unwrap()
                .contains("fastest")
        );

        // Without sequencer keys there is no registry.
        let response = request(&public, "aegis_getAssets", json!([])).await;
        assert_eq!(response["error"]["code"], SERVER_ERROR);
    }

    /// Governance approval and revocation are engine-port (admin) methods; the sequencer's own
    /// contracts and the predeploys are refused there too; bad input gets -32602.
    #[tokio::test]
    async fn governance_approves_and_revokes_on_the_admin_port_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(aegis_storage::Store::open(dir.path().join("chain.redb")).unwrap());
        let spec = aegis_testing::spec(None, None);
        let chain_id = spec.chain_id;
        let executor = Arc::new(Executor::new(spec, store).unwrap());
        let pool = Arc::new(Pool::new(Default::default()));
        let identity = aegis_attest::Identity::open(aegis_attest::IdentityConfig {
            chain_id,
            keystore: dir.path().join("keys/sequencer.keystore"),
            sealing: aegis_pqc::SealingKey::Secret(zeroize::Zeroizing::new([1; 32])),
            create_if_missing: true,
            slh_variant: aegis_pqc::SlhDsaVariant::Sha2,
            provider: aegis_tee::AttestationProvider::Simulator(
                aegis_tee::Simulator::new([2; 32]).unwrap(),
            ),
        })
        .unwrap();
        let attestation = Address::repeat_byte(0xa7);
        let setup = IntelligenceSetup {
            quantum: QrmConfig::default(),
            strategy: Strategy::Fee,
            weights: HybridWeights::default(),
            oracle: None,
            attestation: Some(attestation),
        };
        let intelligence =
            Intelligence::new(setup, dir.path(), executor, pool, Some(Arc::new(identity))).unwrap();
        let public = intelligence.clone().public_module();
        let admin = intelligence.clone().admin_module();
        let registration = |address: Address| {
            json!({
                "kind": "contract-data",
                "name": "app",
                "owner": Address::repeat_byte(9),
                "locator": {"type": "contract", "address": address},
                "vaults": [Address::repeat_byte(0x7a)],
                "deadline": 0,
            })
        };
        let response = request(
            &public,
            "aegis_approveAsset",
            json!([registration(Address::repeat_byte(1))]),
        )
        .await;
        assert_eq!(response["error"]["code"], -32601, "{response}");
        for protected in [
            attestation,
            aegis_chainspec::predeploys::L1_BLOCK,
            aegis_chainspec::l1_info::L1_INFO_DEPOSITOR,
        ] {
            let response = request(
                &admin,
                "aegis_approveAsset",
                json!([registration(protected)]),
            )
            .await;
            assert_eq!(response["error"]["code"], INVALID_PARAMS, "{response}");
            let message = response["error"]["message"].as_str().unwrap();
            assert!(message.contains("protected"), "{message}");
        }
        let response = request(
            &admin,
            "aegis_approveAsset",
            json!([registration(Address::repeat_byte(1))]),
        )
        .await;
        let id = response["result"].clone();
        assert!(id.is_string(), "{response}");
        let assets = request(&public, "aegis_getAssets", json!([])).await;
        assert_eq!(assets["result"][0]["approval"], "governance", "{assets}");
        // Only the registrant's signature removes it on the public port; governance revokes.
        let response = request(
            &public,
            "aegis_removeAsset",
            json!([{"id": id, "owner": Address::repeat_byte(9), "deadline": now() + 60}, "0x1234"]),
        )
        .await;
        assert_eq!(response["error"]["code"], INVALID_PARAMS, "{response}");
        let response = request(&admin, "aegis_revokeAsset", json!([id])).await;
        assert_eq!(response["result"], id, "{response}");
        let response = request(&admin, "aegis_revokeAsset", json!([id])).await;
        assert_eq!(response["error"]["code"], INVALID_PARAMS, "{response}");
        // Malformed input: a clear error, never a panic.
        for bad in [json!([]), json!([{"kind": "token"}]), json!(["0x12"])] {
            let response = request(&admin, "aegis_approveAsset", bad).await;
            assert_eq!(response["error"]["code"], INVALID_PARAMS, "{response}");
            let response = request(&public, "aegis_registerAsset", json!([{"kind": 1}, 5])).await;
            assert_eq!(response["error"]["code"], INVALID_PARAMS, "{response}");
        }
    }
}
