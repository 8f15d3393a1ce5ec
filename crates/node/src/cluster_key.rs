//! `--cluster.key-*`: the cluster's one mempool key. A worker takes it at start from a member
//! (`aegis_keyshare`, mutual TDX attestation), and every cluster worker with keys serves it to
//! attested joiners on its operations port.
//!
//! The leader's key is the cluster's: the leader publishes it in etcd, and a worker whose key
//! differs takes the published one from its holder. So a rotation on the leader (at EMERGENCY,
//! or scheduled) rotates the cluster's key on every member, and a member that rotated on its
//! own returns to the cluster's key: envelopes pooled anywhere open on whichever worker leads
//! next.

use aegis_attest::Identity;
use aegis_conductor::{ClusterKeyRecord, ClusterStore};
use aegis_keyshare::{JoinPolicy, KeyShareService, TrustRoots, WorkerId, join_cluster_key};
use alloy_primitives::B256;
use anyhow::{Context, bail};
use clap::Args;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// How long a joiner retries a member that is not up yet.
const JOIN_PATIENCE: Duration = Duration::from_secs(60);

/// How often a worker compares its mempool key with the cluster's.
const KEY_SYNC_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Cluster mempool key")]
pub(crate) struct ClusterKeyArgs {
    /// Take the cluster's mempool key at start from this member's operations endpoint (its
    /// --metrics address, `http://host:port`), each side proving itself with a TDX quote.
    #[arg(
        id = "cluster_key_from",
        long = "cluster.key-from",
        env = "AEGIS_CLUSTER_KEY_FROM"
    )]
    key_from: Option<String>,
    /// Development roots (x ‖ y hex, comma-separated) that peers' simulated quotes may chain
    /// to [default: this node's own].
    #[arg(
        id = "cluster_tee_roots",
        long = "cluster.tee-roots",
        value_delimiter = ','
    )]
    tee_roots: Vec<String>,
    /// DCAP collateral (JSON) for peers' real TDX quotes.
    #[arg(id = "cluster_collateral", long = "cluster.collateral")]
    collateral: Option<PathBuf>,
    /// Workload ids allowed to take or give the key (comma-separated) [default: this node's own].
    #[arg(
        id = "cluster_workloads",
        long = "cluster.workloads",
        value_delimiter = ','
    )]
    workloads: Vec<B256>,
    /// Where other workers reach this one's operations endpoint for the key share while it
    /// leads [default: http://<--metrics address>, when that is not a wildcard address].
    #[arg(id = "cluster_advertise_ops", long = "cluster.advertise-ops")]
    advertise_ops: Option<String>,
}

impl ClusterKeyArgs {
    fn trust(&self, identity: &Identity) -> anyhow::Result<TrustRoots> {
        if let Some(path) = &self.collateral {
            let collateral = std::fs::read(path)
                .with_context(|| format!("--cluster.collateral {}", path.display()))?;
            return Ok(TrustRoots::Dcap(collateral));
        }
        if !self.tee_roots.is_empty() {
            let roots = self
                .tee_roots
                .iter()
                .map(|value| crate::keys::parse_dev_root("--cluster.tee-roots", value))
                .collect::<anyhow::Result<_>>()?;
            return Ok(TrustRoots::Dev(roots));
        }
        match identity.provider().dev_root_public_key() {
            Some(root) => Ok(TrustRoots::Dev(vec![root])),
            None => bail!("a TDX cluster key needs --cluster.collateral (or --cluster.tee-roots)"),
        }
    }

    fn policy(&self, identity: &Identity) -> anyhow::Result<JoinPolicy> {
        if !self.workloads.is_empty() {
            return Ok(JoinPolicy::new(self.workloads.iter().copied()));
        }
        match identity.provider().simulated_workload_id() {
            Some(workload) => Ok(JoinPolicy::new([workload])),
            None => bail!("a TDX cluster key needs --cluster.workloads"),
        }
    }

    /// The service a member runs for joiners.
    pub(crate) fn service(&self, identity: Arc<Identity>) -> anyhow::Result<KeyShareService> {
        let (policy, trust) = (self.policy(&identity)?, self.trust(&identity)?);
        Ok(KeyShareService::new(identity, policy, trust))
    }

    /// With --cluster.key-from, takes and adopts the cluster key (retrying while the member
    /// starts); refusals by either side's checks are final.
    ///
    /// A worker that took the key before (its hash is recorded beside the key store, and the
    /// key store still holds that key) does not ask again: it restarts without its member.
    pub(crate) async fn join(
        &self,
        identity: &Identity,
        worker: &str,
        datadir: &std::path::Path,
    ) -> anyhow::Result<()> {
        let Some(from) = &self.key_from else {
            return Ok(());
        };
        let record = datadir.join("keys/cluster-key-hash");
        let current = identity.encryption_public_key().key_hash();
        if std::fs::read_to_string(&record).is_ok_and(|hash| hash.trim() == current.to_string()) {
            info!(target: "aegis::node", key_hash = %current, "holding the cluster mempool key taken before");
            return Ok(());
        }
        let (policy, trust) = (self.policy(identity)?, self.trust(identity)?);
        let worker = WorkerId::new(worker).with_context(|| format!("worker id {worker:?}"))?;
        let started = std::time::Instant::now();
        loop {
            match take_key(identity, &worker, from, &trust, &policy, datadir).await {
                Ok(hash) => {
                    info!(target: "aegis::node", member = %from, key_hash = %hash, "took the cluster mempool key");
                    return Ok(());
                }
                // Refusals (403) and malformed requests (400) are final; a member not up yet,
                // or without its keys yet (404), is asked again.
                Err(aegis_keyshare::KeyShareError::Http { reason, .. })
                    if started.elapsed() < JOIN_PATIENCE
                        && !reason.starts_with("HTTP 403")
                        && !reason.starts_with("HTTP 400") =>
                {
                    warn!(target: "aegis::node", member = %from, %reason, "cluster key member not reachable yet");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("taking the cluster key from {from}"));
                }
            }
        }
    }

    /// The URL of this worker's key share that the leader publishes, given where its operations
    /// endpoint listens.
    pub(crate) fn advertised_ops(&self, listen: Option<std::net::SocketAddr>) -> Option<String> {
        self.advertise_ops.clone().or_else(|| {
            listen
                .filter(|addr| !addr.ip().is_unspecified())
                .map(|addr| format!("http://{addr}"))
        })
    }

    /// Keeps this worker's mempool key the cluster's, every second until the process ends: as
    /// the leader, publishes its key (with `own_url`, where it serves the key share); as a
    /// follower, takes the published key from its holder when its own differs.
    pub(crate) async fn keep_cluster_key(
        self,
        identity: Arc<Identity>,
        cluster: ClusterStore,
        mut leading: watch::Receiver<bool>,
        own_url: Option<String>,
        datadir: PathBuf,
    ) -> anyhow::Result<()> {
        let (policy, trust) = (self.policy(&identity)?, self.trust(&identity)?);
        let worker = WorkerId::new(cluster.id()).context("worker id")?;
        let mut interval = tokio::time::interval(KEY_SYNC_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                changed = leading.changed() => if changed.is_err() { return Ok(()) },
            }
            let mine = identity.encryption_public_key();
            let published = match cluster.cluster_key().await {
                Ok(record) => record,
                Err(error) => {
                    debug!(target: "aegis::node", %error, "cluster key record not readable");
                    continue;
                }
            };
            let leads = *leading.borrow();
            if leads {
                let Some(url) = &own_url else { continue };
                let current = published
                    .as_ref()
                    .is_some_and(|r| r.key_hash == mine.key_hash() && r.holder == cluster.id());
                if current {
                    continue;
                }
                let record = ClusterKeyRecord {
                    key_hash: mine.key_hash(),
                    key_epoch: mine.epoch(),
                    holder: cluster.id().to_owned(),
                    key_share_url: url.clone(),
                };
                match cluster.publish_cluster_key(&record).await {
                    Ok(true) => {
                        info!(target: "aegis::node", key_hash = %record.key_hash, key_epoch = record.key_epoch, "published this leader's mempool key as the cluster's")
                    }
                    Ok(false) => {}
                    Err(error) => {
                        warn!(target: "aegis::node", %error, "publishing the cluster mempool key")
                    }
                }
                continue;
            }
            let Some(record) =
                published.filter(|r| r.key_hash != mine.key_hash() && r.holder != cluster.id())
            else {
                continue;
            };
            let from = &record.key_share_url;
            match take_key(&identity, &worker, from, &trust, &policy, &datadir).await {
                Ok(hash) => {
                    info!(target: "aegis::node", holder = %record.holder, key_hash = %hash, key_epoch = identity.encryption_public_key().epoch(), "took the cluster's current mempool key")
                }
                Err(error) => {
                    warn!(target: "aegis::node", holder = %record.holder, %error, "taking the cluster's current mempool key")
                }
            }
        }
    }
}

/// Takes and adopts the key of the member at `from`, and records its hash beside the key store
/// so that a restart keeps it.
async fn take_key(
    identity: &Identity,
    worker: &WorkerId,
    from: &str,
    trust: &TrustRoots,
    policy: &JoinPolicy,
    datadir: &Path,
) -> Result<B256, aegis_keyshare::KeyShareError> {
    let hash = join_cluster_key(identity, worker.clone(), from, trust, policy).await?;
    let record = datadir.join("keys/cluster-key-hash");
    if let Err(error) = std::fs::write(&record, hash.to_string()) {
        warn!(target: "aegis::node", path = %record.display(), %error, "recording the cluster key hash");
    }
    Ok(hash)
}
