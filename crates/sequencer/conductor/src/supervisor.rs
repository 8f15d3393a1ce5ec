//! The control loop: every tick it observes the local rollup node (and `aegis`), asks
//! [`decide`] what to do, and does it through the rollup node's admin API.

use crate::{CommittedHead, Conductor, ConductorError, Observation, ServerInfo, Step, decide};
use alloy_primitives::B256;
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;
use std::{sync::Arc, time::Duration};
use tracing::{debug, info, warn};

/// Payloads posted to a lagging rollup node per tick.
pub const CATCH_UP_PER_TICK: usize = 64;

/// The local rollup node (kona-node or op-node) through its RPC with the admin namespace.
#[derive(Clone, Debug)]
pub struct RollupNode {
    client: HttpClient,
}

/// What `optimism_syncStatus` says about the unsafe head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsafeHead {
    /// Number and hash.
    pub head: CommittedHead,
    /// Its timestamp (unix seconds).
    pub timestamp: u64,
}

impl RollupNode {
    /// A client of the rollup node RPC at `url`; each call gives up after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, ConductorError> {
        let client = HttpClientBuilder::default()
            .request_timeout(timeout)
            .build(url)
            .map_err(|e| ConductorError::Config(format!("rollup node RPC {url}: {e}")))?;
        Ok(Self { client })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> Result<T, ConductorError> {
        self.client
            .request(method, params)
            .await
            .map_err(|e| ConductorError::RollupNode(format!("{method}: {e}")))
    }

    /// The unsafe head from `optimism_syncStatus`.
    pub async fn unsafe_head(&self) -> Result<UnsafeHead, ConductorError> {
        let status: serde_json::Value = self.call("optimism_syncStatus", rpc_params![]).await?;
        let head = &status["unsafe_l2"];
        let parsed = (|| {
            Some(UnsafeHead {
                head: CommittedHead {
                    number: head["number"].as_u64()?,
                    hash: serde_json::from_value::<B256>(head["hash"].clone()).ok()?,
                },
                timestamp: head["timestamp"].as_u64()?,
            })
        })();
        let head = parsed.ok_or_else(|| {
            ConductorError::RollupNode(format!("optimism_syncStatus: no unsafe_l2 in {status}"))
        })?;
        // An unsafe head below the finalized one is a view still being set up: catching it up
        // from there would insert blocks below what its engine finalized, which it refuses
        // fatally. (A rollup node whose engine starts from a snapshot reports a zero head until
        // it has read the engine's: start its conductor after that, as devnet/join does.)
        let finalized = status["finalized_l2"]["number"].as_u64().unwrap_or(0);
        if head.head.number < finalized {
            return Err(ConductorError::RollupNode(format!(
                "optimism_syncStatus: still starting (unsafe head {} {}, finalized {finalized})",
                head.head.number, head.head.hash
            )));
        }
        Ok(head)
    }

    /// `optimism_rollupConfig`.
    pub async fn rollup_config(&self) -> Result<serde_json::Value, ConductorError> {
        self.call("optimism_rollupConfig", rpc_params![]).await
    }

    /// `admin_sequencerActive`.
    pub async fn sequencer_active(&self) -> Result<bool, ConductorError> {
        self.call("admin_sequencerActive", rpc_params![]).await
    }

    /// `admin_startSequencer`.
    pub async fn start_sequencer(&self) -> Result<(), ConductorError> {
        self.call::<serde_json::Value>("admin_startSequencer", rpc_params![])
            .await
            .map(drop)
    }

    /// `admin_stopSequencer`; the head hash it stopped at.
    pub async fn stop_sequencer(&self) -> Result<B256, ConductorError> {
        self.call("admin_stopSequencer", rpc_params![]).await
    }

    /// `admin_postUnsafePayload`: inserts a committed payload.
    pub async fn post_unsafe_payload(
        &self,
        envelope: &OpExecutionPayloadEnvelope,
    ) -> Result<(), ConductorError> {
        self.call::<serde_json::Value>("admin_postUnsafePayload", rpc_params![envelope])
            .await
            .map(drop)
    }
}

/// Joins the cluster (waiting up to `wait` for the rollup node to answer): refuses a rollup node
/// of another chain than `chain_id` or with another rollup configuration than the cluster's, then records `server` as a member (if it is not one
/// already, as a voter or as the operator made it).
pub async fn join(
    conductor: &Conductor,
    node: &RollupNode,
    chain_id: u64,
    server: &ServerInfo,
    wait: Duration,
) -> Result<(), ConductorError> {
    // A worker's processes start together: give the rollup node `wait` to come up.
    let deadline = tokio::time::Instant::now() + wait;
    let config = loop {
        match node.rollup_config().await {
            Ok(config) => break config,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => return Err(error),
        }
    };
    let node_chain = config["l2_chain_id"].as_u64();
    if node_chain != Some(chain_id) {
        return Err(ConductorError::Config(format!(
            "the rollup node's l2_chain_id is {node_chain:?}, the cluster's chain id is {chain_id}"
        )));
    }
    let hash = alloy_primitives::keccak256(
        serde_json::to_vec(&sorted_keys(config)).expect("serialisable"),
    );
    let store = conductor.store();
    store.bind_rollup_config(hash).await?;
    let members = store.membership().await?;
    if !members.servers.iter().any(|s| s.id == server.id) {
        store.put_member(server, None).await?;
    }
    Ok(())
}

/// `value` with every object's keys in order: the same configuration hashes the same whatever
/// order a rollup node writes it in.
fn sorted_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted_keys).collect())
        }
        other => other,
    }
}

/// How the control loop judges health.
#[derive(Clone, Debug)]
pub struct HealthConfig {
    /// A sequencing node whose unsafe head is older than this is unhealthy.
    pub unsafe_interval: Duration,
    /// `aegis`'s readiness endpoint (`/readyz`), if checked.
    pub execution_ready: Option<String>,
}

/// One worker's control loop.
#[derive(Debug)]
pub struct Supervisor {
    conductor: Arc<Conductor>,
    node: RollupNode,
    health: HealthConfig,
    http: reqwest::Client,
    /// When this worker's sequencer was last started: a new leader starts on the head the last
    /// one left, which may be old; it is not judged by that head's age before it had
    /// `unsafe_interval` to move it.
    started: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Supervisor {
    /// The loop of `conductor` over the rollup node `node`.
    pub fn new(conductor: Arc<Conductor>, node: RollupNode, health: HealthConfig) -> Self {
        Self {
            conductor,
            node,
            health,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("http client"),
            started: std::sync::Mutex::new(None),
        }
    }

    /// A tick that could not reach etcd: once the lease may have expired, another worker may
    /// lead, so a sequencing node is stopped (within the TTL of losing etcd); before that, or
    /// with leadership overridden, the error is only passed on.
    async fn cut_off(&self, error: ConductorError) -> Result<Vec<Step>, ConductorError> {
        if self.conductor.leader_overridden()
            || !self.conductor.lease_lapsed().await
            || !self.node.sequencer_active().await.unwrap_or(true)
        {
            return Err(error);
        }
        warn!(target: "aegis::conductor", %error, "cut off from etcd past the lease TTL: stopping the sequencer");
        self.apply(Step::StopSequencer).await?;
        Ok(vec![Step::StopSequencer])
    }

    /// One tick: campaign, observe, decide, act. Returns the steps taken.
    pub async fn tick(&self, now: u64) -> Result<Vec<Step>, ConductorError> {
        if !self.conductor.active() {
            return Ok(Vec::new());
        }
        let leader = match self.conductor.campaign().await {
            Ok(leader) => leader || self.conductor.leader_overridden(),
            Err(error) => return self.cut_off(error).await,
        };
        // The local head first, then the committed one: a commit in between only makes the
        // local head look behind (caught up next tick), never ahead.
        let local = self.node.unsafe_head().await;
        let active = self.node.sequencer_active().await;
        let committed = self.conductor.store().head().await?;
        let (local, active) = match (local, active) {
            (Ok(local), Ok(active)) => (local, active),
            (Err(error), _) | (_, Err(error)) => {
                // An unreachable rollup node: unhealthy; a leader hands over.
                self.conductor.set_sequencer_healthy(false);
                warn!(target: "aegis::conductor", %error, "rollup node unreachable");
                if leader && !self.conductor.leader_overridden() {
                    self.conductor.transfer_leadership().await?;
                    return Ok(vec![Step::TransferLeadership]);
                }
                return Ok(Vec::new());
            }
        };
        metrics::gauge!("aegis_conductor_leader").set(f64::from(u8::from(leader)));
        metrics::gauge!("aegis_conductor_sequencer_active").set(f64::from(u8::from(active)));
        if let Some(age) = self.conductor.lease_age().await {
            metrics::gauge!("aegis_conductor_lease_age_seconds").set(age.as_secs_f64());
        }
        if let Some(committed) = committed {
            metrics::gauge!("aegis_conductor_committed_head").set(committed.number as f64);
        }
        let healthy = self.healthy(&local, active, now).await;
        metrics::gauge!("aegis_conductor_healthy").set(f64::from(u8::from(healthy)));
        if healthy != self.conductor.sequencer_healthy() {
            info!(target: "aegis::conductor", healthy, leader, active, head = local.head.number, age = now.saturating_sub(local.timestamp), "health changed");
        }
        self.conductor.set_sequencer_healthy(healthy);
        let steps = decide(&Observation {
            leader,
            healthy,
            active,
            local: local.head,
            committed,
        });
        for step in &steps {
            self.apply(*step).await?;
        }
        Ok(steps)
    }

    async fn healthy(&self, local: &UnsafeHead, active: bool, now: u64) -> bool {
        // Only a sequencing node is held to a fresh head: an idle cluster has none to show, and
        // a freshly started one has had no time to move it.
        let settled = self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|at| at.elapsed() >= self.health.unsafe_interval);
        if active
            && settled
            && now.saturating_sub(local.timestamp) > self.health.unsafe_interval.as_secs()
        {
            debug!(target: "aegis::conductor", age = now - local.timestamp, "unsafe head stale");
            return false;
        }
        match &self.health.execution_ready {
            Some(url) => {
                let ready = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if !ready {
                    debug!(target: "aegis::conductor", %url, "execution engine not ready");
                }
                ready
            }
            None => true,
        }
    }

    async fn apply(&self, step: Step) -> Result<(), ConductorError> {
        match step {
            Step::StopSequencer => {
                let at = self.node.stop_sequencer().await?;
                info!(target: "aegis::conductor", head = %at, "sequencer stopped");
            }
            Step::StartSequencer => {
                self.node.start_sequencer().await?;
                *self.started.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(std::time::Instant::now());
                info!(target: "aegis::conductor", "sequencer started");
            }
            Step::CatchUp { from, to } => {
                let payloads = self
                    .conductor
                    .store()
                    .payloads(from, to, CATCH_UP_PER_TICK)
                    .await?;
                for payload in &payloads {
                    self.node.post_unsafe_payload(payload).await?;
                }
                debug!(target: "aegis::conductor", from, to, posted = payloads.len(), "caught up");
            }
            Step::TransferLeadership => {
                metrics::counter!("aegis_conductor_transfers_total").increment(1);
                self.conductor.transfer_leadership().await?;
                info!(target: "aegis::conductor", "leadership handed over");
            }
            Step::Diverged => {
                warn!(target: "aegis::conductor", "local unsafe head is off the committed chain");
            }
        }
        Ok(())
    }

    /// Ticks every `interval` until `shutdown` resolves; then hands leadership over, so another
    /// worker takes over at once instead of after the lease TTL.
    pub async fn run(self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = &mut shutdown => break,
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if let Err(error) = self.tick(now).await {
                warn!(target: "aegis::conductor", %error, "control loop tick failed");
            }
        }
        if let Err(error) = self.conductor.transfer_leadership().await {
            warn!(target: "aegis::conductor", %error, "could not hand leadership over");
        }
    }
}
