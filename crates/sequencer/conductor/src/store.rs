//! The cluster's shared state in etcd: who leads, and the committed unsafe chain.

use crate::ConductorError;
use alloy_primitives::B256;
use etcd_client::{Client, Compare, CompareOp, ConnectOptions, GetOptions, PutOptions, Txn, TxnOp};
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;
use serde::{Deserialize, Serialize};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// Committed payloads kept in etcd below the head, for followers and a new leader to catch up
/// from; older ones are deleted by the commit that makes them too old.
pub const PAYLOADS_KEPT: u64 = 1024;

/// The last committed unsafe block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommittedHead {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
}

impl CommittedHead {
    /// The head a payload makes.
    pub fn of(envelope: &OpExecutionPayloadEnvelope) -> Self {
        Self {
            number: envelope.execution_payload.block_number(),
            hash: envelope.execution_payload.block_hash(),
        }
    }
}

/// Whether a member takes part in elections (op-conductor's raft suffrage numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Suffrage {
    /// Campaigns for leadership.
    Voter = 0,
    /// Follows only.
    Nonvoter = 1,
}

impl From<Suffrage> for u8 {
    fn from(s: Suffrage) -> u8 {
        s as u8
    }
}

impl TryFrom<u8> for Suffrage {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        match v {
            0 => Ok(Self::Voter),
            1 => Ok(Self::Nonvoter),
            other => Err(format!(
                "suffrage {other} is neither 0 (voter) nor 1 (nonvoter)"
            )),
        }
    }
}

/// A cluster member as op-conductor's `ServerInfo` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The worker's id.
    pub id: String,
    /// Its conductor's address.
    pub addr: String,
    /// Whether it campaigns.
    pub suffrage: Suffrage,
}

/// The members and the version (etcd revision) of that list, as `clusterMembership` returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMembership {
    /// The members, by id.
    pub servers: Vec<ServerInfo>,
    /// Changes name the version they apply to; a stale one is refused.
    pub version: u64,
}

/// The cluster's one mempool key, as its leader publishes it: who holds it and where a member
/// that lost it (its own key rotated) takes it again through the attested key share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterKeyRecord {
    /// keccak256 of the key's public encoding.
    pub key_hash: B256,
    /// Its key epoch.
    pub key_epoch: u32,
    /// The worker that published it.
    pub holder: String,
    /// The holder's operations endpoint serving the key share (`http://host:port`).
    pub key_share_url: String,
}

/// An etcd lease this worker keeps alive in the background; leadership is bound to it, so it
/// ends by itself at most one TTL after the worker (or its link to etcd) dies.
#[derive(Debug)]
pub struct Leadership {
    lease: i64,
    ttl: Duration,
    /// When the last renewal that etcd confirmed was sent (the lease lives at least TTL past it).
    renewed: Arc<Mutex<Option<Instant>>>,
    keeper: JoinHandle<()>,
}

impl Leadership {
    /// The etcd lease id.
    pub fn lease(&self) -> i64 {
        self.lease
    }

    /// Time since the last renewal etcd confirmed was sent (`None` once the lease is gone).
    pub fn age(&self) -> Option<Duration> {
        let renewed = *self.renewed.lock().unwrap_or_else(|e| e.into_inner());
        renewed.map(|at| at.elapsed())
    }

    /// Whether the lease may have expired: no renewal confirmed within the last TTL, measured
    /// from when the renewal was sent (so never later than etcd's own expiry).
    pub fn lapsed(&self) -> bool {
        let renewed = *self.renewed.lock().unwrap_or_else(|e| e.into_inner());
        renewed.is_none_or(|at| at.elapsed() >= self.ttl)
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

/// The cluster's state under `/quantumaegis/<chain id>/conductor/` in etcd.
///
/// One client per member: a request that cannot reach one member goes to the next (etcd
/// serves linearizable reads and transactions through any member), so a dead member costs a
/// failed connection, not a failed tick. Every write is a compare-and-swap, so one retried
/// after an ambiguous failure cannot apply twice.
#[derive(Clone)]
pub struct ClusterStore {
    clients: Arc<Vec<Client>>,
    preferred: Arc<AtomicUsize>,
    prefix: String,
    id: String,
}

impl std::fmt::Debug for ClusterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterStore")
            .field("prefix", &self.prefix)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ClusterStore {
    /// Connects to `endpoints` as worker `id` of chain `chain_id`. Each request gives up after
    /// `timeout`, so an unreachable etcd is an error, never a hang.
    pub async fn connect(
        endpoints: &[String],
        chain_id: u64,
        id: &str,
        timeout: Duration,
    ) -> Result<Self, ConductorError> {
        if id.is_empty() || id.contains('/') {
            return Err(ConductorError::Config(format!(
                "server id {id:?} must be non-empty and without '/'"
            )));
        }
        if endpoints.is_empty() {
            return Err(ConductorError::Config("no etcd endpoint given".into()));
        }
        let options = ConnectOptions::new()
            .with_connect_timeout(timeout)
            .with_timeout(timeout);
        let mut clients = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            clients.push(Client::connect([endpoint], Some(options.clone())).await?);
        }
        let store = Self {
            clients: Arc::new(clients),
            preferred: Arc::new(AtomicUsize::new(0)),
            prefix: format!("/quantumaegis/{chain_id}/conductor/"),
            id: id.to_owned(),
        };
        // Fails at once when no member answers.
        store.get(store.key("leader"), None).await?;
        Ok(store)
    }

    /// Runs `op` on the preferred member's client, and on the next ones while members cannot
    /// be reached.
    async fn on_any<T, F, Fut>(&self, op: F) -> Result<T, ConductorError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, etcd_client::Error>>,
    {
        let n = self.clients.len();
        let first = self.preferred.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..n {
            let k = (first + i) % n;
            match op(self.clients[k].clone()).await {
                Ok(value) => {
                    self.preferred.store(k, Ordering::Relaxed);
                    return Ok(value);
                }
                Err(error) if unreachable(&error) => last = Some(error),
                Err(error) => return Err(error.into()),
            }
        }
        Err(last.expect("at least one client").into())
    }

    async fn get(
        &self,
        key: String,
        options: Option<GetOptions>,
    ) -> Result<etcd_client::GetResponse, ConductorError> {
        self.on_any(|mut c| {
            let (key, options) = (key.clone(), options.clone());
            async move { c.get(key, options).await }
        })
        .await
    }

    /// The value at `key` as text, if there is one.
    async fn get_string(&self, key: String) -> Result<Option<String>, ConductorError> {
        let response = self.get(key.clone(), None).await?;
        response
            .kvs()
            .first()
            .map(|kv| String::from_utf8(kv.value().to_vec()).map_err(|e| corrupt(&key, e)))
            .transpose()
    }

    async fn txn(&self, txn: Txn) -> Result<bool, ConductorError> {
        self.on_any(|mut c| {
            let txn = txn.clone();
            async move { c.txn(txn).await.map(|r| r.succeeded()) }
        })
        .await
    }

    async fn lease_grant(
        &self,
        seconds: i64,
    ) -> Result<etcd_client::LeaseGrantResponse, ConductorError> {
        self.on_any(|mut c| async move { c.lease_grant(seconds, None).await })
            .await
    }

    /// This worker's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn payload_key(&self, number: u64) -> String {
        self.key(&format!("payloads/{number:020}"))
    }

    /// Grants a lease of `ttl` (whole seconds, at least 1) and keeps it alive every third of it
    /// until the returned [`Leadership`] drops.
    pub async fn grant(&self, ttl: Duration) -> Result<Leadership, ConductorError> {
        let seconds = ttl.as_secs();
        if seconds == 0 {
            return Err(ConductorError::Config(
                "lease TTL must be at least 1 s".into(),
            ));
        }
        let sent = Instant::now();
        let granted = self.lease_grant(seconds as i64).await?;
        let lease = granted.id();
        let renewed = Arc::new(Mutex::new(Some(sent)));
        let keeper = tokio::spawn(keep_alive(
            self.clients.clone(),
            lease,
            ttl,
            renewed.clone(),
        ));
        Ok(Leadership {
            lease,
            ttl,
            renewed,
            keeper,
        })
    }

    /// Takes the leader key if nobody holds it; true if this worker (with `leadership`'s lease)
    /// holds it afterwards.
    pub async fn campaign(&self, leadership: &Leadership) -> Result<bool, ConductorError> {
        let key = self.key("leader");
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key.clone(),
                self.id.clone(),
                Some(PutOptions::new().with_lease(leadership.lease)),
            )]);
        if self.txn(txn).await? {
            return Ok(true);
        }
        self.holds_leadership(leadership).await
    }

    /// The id of the worker holding the leader key.
    pub async fn leader(&self) -> Result<Option<String>, ConductorError> {
        Ok(self.leader_entry().await?.map(|(id, _)| id))
    }

    async fn leader_entry(&self) -> Result<Option<(String, i64)>, ConductorError> {
        let key = self.key("leader");
        let response = self.get(key.clone(), None).await?;
        response
            .kvs()
            .first()
            .map(|kv| {
                let id = String::from_utf8(kv.value().to_vec()).map_err(|e| corrupt(&key, e))?;
                Ok((id, kv.lease()))
            })
            .transpose()
    }

    /// Whether this worker holds the leader key with `leadership`'s lease now.
    pub async fn holds_leadership(&self, leadership: &Leadership) -> Result<bool, ConductorError> {
        Ok(self.leader_entry().await? == Some((self.id.clone(), leadership.lease)))
    }

    /// Gives the leader key up if this worker holds it with `leadership`'s lease.
    pub async fn resign(&self, leadership: &Leadership) -> Result<bool, ConductorError> {
        let key = self.key("leader");
        let txn = Txn::new()
            .when(self.holds(&key, leadership))
            .and_then([TxnOp::delete(key, None)]);
        self.txn(txn).await
    }

    fn holds(&self, leader_key: &str, leadership: &Leadership) -> [Compare; 2] {
        [
            Compare::value(leader_key, CompareOp::Equal, self.id.clone()),
            Compare::lease(leader_key, CompareOp::Equal, leadership.lease),
        ]
    }

    /// The members and the list's version (the etcd revision of its last change).
    pub async fn membership(&self) -> Result<ClusterMembership, ConductorError> {
        // One read covers `members/<id>` and `members.version`.
        let response = self
            .get(self.key("members"), Some(GetOptions::new().with_prefix()))
            .await?;
        let version_key = self.key("members.version");
        let mut membership = ClusterMembership {
            servers: Vec::new(),
            version: 0,
        };
        for kv in response.kvs() {
            if kv.key() == version_key.as_bytes() {
                membership.version = kv.mod_revision() as u64;
            } else {
                membership.servers.push(
                    serde_json::from_slice(kv.value())
                        .map_err(|e| corrupt(&String::from_utf8_lossy(kv.key()), e))?,
                );
            }
        }
        Ok(membership)
    }

    /// Adds or updates `server` (its own registration at start-up when `leader` is `None`;
    /// otherwise a change by the leader holding `leader`'s lease, at membership `version`).
    pub async fn put_member(
        &self,
        server: &ServerInfo,
        change: Option<(&Leadership, u64)>,
    ) -> Result<(), ConductorError> {
        if server.id.is_empty() || server.id.contains('/') {
            return Err(ConductorError::Config(format!(
                "server id {:?} must be non-empty and without '/'",
                server.id
            )));
        }
        let key = self.key(&format!("members/{}", server.id));
        let value = serde_json::to_vec(server).expect("serialisable");
        self.change_members(change, TxnOp::put(key, value, None))
            .await
    }

    /// Removes member `id` (a change by the leader, at membership `version`).
    pub async fn remove_member(
        &self,
        id: &str,
        leadership: &Leadership,
        version: u64,
    ) -> Result<(), ConductorError> {
        let key = self.key(&format!("members/{id}"));
        self.change_members(Some((leadership, version)), TxnOp::delete(key, None))
            .await
    }

    async fn change_members(
        &self,
        change: Option<(&Leadership, u64)>,
        op: TxnOp,
    ) -> Result<(), ConductorError> {
        // Every change moves the version on.
        let ops = [op, TxnOp::put(self.key("members.version"), "", None)];
        let Some((leadership, version)) = change else {
            self.txn(Txn::new().and_then(ops)).await?;
            return Ok(());
        };
        let current = self.membership().await?.version;
        if version != current {
            return Err(ConductorError::StaleMembership {
                given: version,
                current,
            });
        }
        let leader_key = self.key("leader");
        let mut compares = self.holds(&leader_key, leadership).to_vec();
        compares.push(Compare::mod_revision(
            self.key("members.version"),
            CompareOp::Equal,
            version as i64,
        ));
        let txn = Txn::new().when(compares).and_then(ops);
        if self.txn(txn).await? {
            return Ok(());
        }
        if !self.holds_leadership(leadership).await? {
            return Err(ConductorError::NotLeader);
        }
        Err(ConductorError::StaleMembership {
            given: version,
            current: self.membership().await?.version,
        })
    }

    /// Names `id` the nominee of a leadership transfer for `ttl`, if this worker leads.
    pub async fn nominate(
        &self,
        leadership: &Leadership,
        id: &str,
        ttl: Duration,
    ) -> Result<(), ConductorError> {
        let seconds = ttl.as_secs().max(1) as i64;
        let lease = self.lease_grant(seconds).await?.id();
        let leader_key = self.key("leader");
        let txn = Txn::new()
            .when(self.holds(&leader_key, leadership))
            .and_then([TxnOp::put(
                self.key("nominee"),
                id,
                Some(PutOptions::new().with_lease(lease)),
            )]);
        if self.txn(txn).await? {
            Ok(())
        } else {
            Err(ConductorError::NotLeader)
        }
    }

    /// The nominee of a leadership transfer still standing.
    pub async fn nominee(&self) -> Result<Option<String>, ConductorError> {
        self.get_string(self.key("nominee")).await
    }

    /// Binds the cluster to one rollup configuration: the first worker records `hash`, every
    /// later one must present the same (a worker of another chain or fork schedule is refused).
    pub async fn bind_rollup_config(&self, hash: B256) -> Result<(), ConductorError> {
        let key = self.key("rollup-config");
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.clone(), hash.to_string(), None)])
            .or_else([TxnOp::get(key.clone(), None)]);
        if self.txn(txn).await? {
            return Ok(());
        }
        let response = self.get(key.clone(), None).await?;
        let stored = response
            .kvs()
            .first()
            .map(|kv| String::from_utf8_lossy(kv.value()).into_owned())
            .unwrap_or_default();
        if stored == hash.to_string() {
            Ok(())
        } else {
            Err(ConductorError::Config(format!(
                "the local rollup node's rollup config (keccak {hash}) differs from the cluster's ({stored})"
            )))
        }
    }

    /// The committed unsafe head, `None` before the first commit.
    pub async fn head(&self) -> Result<Option<CommittedHead>, ConductorError> {
        Ok(self.head_entry().await?.0)
    }

    /// The head and the etcd revision that last wrote it (0: never written).
    async fn head_entry(&self) -> Result<(Option<CommittedHead>, i64), ConductorError> {
        let key = self.key("head");
        let response = self.get(key.clone(), None).await?;
        match response.kvs().first() {
            None => Ok((None, 0)),
            Some(kv) => Ok((
                Some(serde_json::from_slice(kv.value()).map_err(|e| corrupt(&key, e))?),
                kv.mod_revision(),
            )),
        }
    }

    /// Commits `envelope` as the new unsafe head, in one etcd transaction that holds only while
    /// this worker has the leader key with `leadership`'s lease and the head is still the one it
    /// extends. Committing the current head again succeeds (a retried call).
    pub async fn commit(
        &self,
        leadership: &Leadership,
        envelope: &OpExecutionPayloadEnvelope,
    ) -> Result<(), ConductorError> {
        self.commit_fenced(Some(leadership), envelope).await
    }

    /// Like [`Self::commit`] for the execution engine, which holds no lease of its own: the
    /// transaction holds while the leader key names this worker (the key exists only while the
    /// lease its conductor bound it to is alive).
    pub async fn commit_as_member(
        &self,
        envelope: &OpExecutionPayloadEnvelope,
    ) -> Result<(), ConductorError> {
        self.commit_fenced(None, envelope).await
    }

    async fn commit_fenced(
        &self,
        leadership: Option<&Leadership>,
        envelope: &OpExecutionPayloadEnvelope,
    ) -> Result<(), ConductorError> {
        let new = CommittedHead::of(envelope);
        let parent = envelope.execution_payload.parent_hash();
        let (head, revision) = self.head_entry().await?;
        if let Some(head) = head {
            if head == new {
                return Ok(());
            }
            if new.number != head.number + 1 || parent != head.hash {
                return Err(ConductorError::DoesNotExtend {
                    number: new.number,
                    hash: new.hash,
                    head_number: head.number,
                    head_hash: head.hash,
                });
            }
        }
        let head_key = self.key("head");
        let leader_key = self.key("leader");
        let mut compares = match leadership {
            Some(leadership) => self.holds(&leader_key, leadership).to_vec(),
            // A value compare fails on a missing key, so an expired lease fails it too.
            None => vec![Compare::value(
                leader_key.as_str(),
                CompareOp::Equal,
                self.id.clone(),
            )],
        };
        compares.push(Compare::mod_revision(
            head_key.clone(),
            CompareOp::Equal,
            revision,
        ));
        let payload = serde_json::to_vec(envelope).expect("serialisable");
        let mut ops = vec![
            TxnOp::put(
                head_key,
                serde_json::to_vec(&new).expect("serialisable"),
                None,
            ),
            TxnOp::put(self.payload_key(new.number), payload, None),
        ];
        if let Some(old) = new.number.checked_sub(PAYLOADS_KEPT) {
            ops.push(TxnOp::delete(self.payload_key(old), None));
        }
        let txn = Txn::new().when(compares).and_then(ops);
        if self.txn(txn).await? {
            return Ok(());
        }
        // Either the leadership or the head changed under us (or an attempt that looked
        // failed went through); tell which.
        let leads = match leadership {
            Some(leadership) => self.holds_leadership(leadership).await?,
            None => self.leader().await?.as_deref() == Some(self.id.as_str()),
        };
        let head = self.head().await?;
        if head == Some(new) && leads {
            return Ok(());
        }
        if !leads {
            return Err(ConductorError::NotLeader);
        }
        let head = head.unwrap_or(CommittedHead {
            number: 0,
            hash: B256::ZERO,
        });
        Err(ConductorError::DoesNotExtend {
            number: new.number,
            hash: new.hash,
            head_number: head.number,
            head_hash: head.hash,
        })
    }

    /// Publishes `url` as this worker's wallet RPC, where followers forward transactions while
    /// it leads.
    pub async fn advertise_rpc(&self, url: &str) -> Result<(), ConductorError> {
        let key = self.key(&format!("rpc/{}", self.id));
        self.on_any(|mut c| {
            let (key, url) = (key.clone(), url.to_owned());
            async move { c.put(key, url, None).await.map(drop) }
        })
        .await
    }

    /// Publishes `record` as the cluster's mempool key, only while this worker holds the leader
    /// key (the leader's key is the cluster's); false when it does not.
    pub async fn publish_cluster_key(
        &self,
        record: &ClusterKeyRecord,
    ) -> Result<bool, ConductorError> {
        let leader = self.key("leader");
        let json = serde_json::to_string(record).expect("serialisable");
        let txn = Txn::new()
            .when([Compare::value(leader, CompareOp::Equal, self.id.clone())])
            .and_then([TxnOp::put(self.key("cluster_key"), json, None)]);
        self.txn(txn).await
    }

    /// The cluster's mempool key as a leader last published it.
    pub async fn cluster_key(&self) -> Result<Option<ClusterKeyRecord>, ConductorError> {
        let key = self.key("cluster_key");
        self.get_string(key.clone())
            .await?
            .map(|json| serde_json::from_str(&json).map_err(|e| corrupt(&key, e)))
            .transpose()
    }

    /// The wallet RPC worker `id` advertised, if any.
    pub async fn rpc_of(&self, id: &str) -> Result<Option<String>, ConductorError> {
        self.get_string(self.key(&format!("rpc/{id}"))).await
    }

    /// The hash of the committed block `number`, if its payload is still kept.
    pub async fn committed_hash(&self, number: u64) -> Result<Option<B256>, ConductorError> {
        Ok(self
            .payloads(number, number, 1)
            .await?
            .first()
            .map(|envelope| envelope.execution_payload.block_hash()))
    }

    /// The committed payloads with numbers in `from..=to`, in order, at most `limit` (fewer when
    /// older ones were pruned or `to` is past the head).
    pub async fn payloads(
        &self,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<OpExecutionPayloadEnvelope>, ConductorError> {
        if from > to {
            return Ok(Vec::new());
        }
        let options = GetOptions::new()
            .with_range(self.payload_key(to.saturating_add(1)))
            .with_limit(limit as i64);
        let response = self.get(self.payload_key(from), Some(options)).await?;
        response
            .kvs()
            .iter()
            .map(|kv| {
                serde_json::from_slice(kv.value())
                    .map_err(|e| corrupt(&String::from_utf8_lossy(kv.key()), e))
            })
            .collect()
    }
}

/// Whether `error` means the member could not be reached (try another), not a refusal.
fn unreachable(error: &etcd_client::Error) -> bool {
    match error {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(status) => matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        _ => false,
    }
}

fn corrupt(key: &str, reason: impl std::fmt::Display) -> ConductorError {
    ConductorError::Corrupt {
        key: key.to_owned(),
        reason: reason.to_string(),
    }
}

/// Renews `lease` every third of `ttl`, recording when each confirmed renewal was sent; stops
/// when etcd says the lease is gone (it can only be granted anew).
async fn keep_alive(
    clients: Arc<Vec<Client>>,
    lease: i64,
    ttl: Duration,
    renewed: Arc<Mutex<Option<Instant>>>,
) {
    let mut tick = tokio::time::interval(ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream = None;
    // The member renewals go through; the next one when it fails.
    let mut member = 0;
    loop {
        tick.tick().await;
        if stream.is_none() {
            member = (member + 1) % clients.len();
            match clients[member].lease_client().keep_alive(lease).await {
                Ok(pair) => stream = Some(pair),
                Err(error) => {
                    debug!(target: "aegis::conductor", %error, "lease keep-alive: no stream");
                    continue;
                }
            }
        }
        let (keeper, responses) = stream.as_mut().expect("set above");
        let sent = Instant::now();
        let answer = match keeper.keep_alive().await {
            Ok(()) => tokio::time::timeout(ttl, responses.message()).await,
            Err(error) => {
                debug!(target: "aegis::conductor", %error, "lease keep-alive failed");
                stream = None;
                continue;
            }
        };
        match answer {
            Ok(Ok(Some(response))) if response.ttl() > 0 => {
                *renewed.lock().unwrap_or_else(|e| e.into_inner()) = Some(sent);
            }
            Ok(Ok(Some(_))) => {
                warn!(target: "aegis::conductor", lease, "lease expired");
                *renewed.lock().unwrap_or_else(|e| e.into_inner()) = None;
                return;
            }
            _ => stream = None,
        }
    }
}
