//! `--cluster.key-*`: the cluster's one mempool key. A worker takes it at start from a member
//! (`aegis_keyshare`, mutual TDX attestation), and every cluster worker with keys serves it to
//! attested joiners on its operations port.

use aegis_attest::Identity;
use aegis_keyshare::{JoinPolicy, KeyShareService, TrustRoots, WorkerId, join_cluster_key};
use alloy_primitives::{B256, hex};
use anyhow::{Context, bail};
use clap::Args;
use std::{path::PathBuf, sync::Arc, time::Duration};
use tracing::{info, warn};

/// How long a joiner retries a member that is not up yet.
const JOIN_PATIENCE: Duration = Duration::from_secs(60);

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
                .map(|value| {
                    let mut root = [0u8; 64];
                    hex::decode_to_slice(value.trim().trim_start_matches("0x"), &mut root)
                        .map_err(|_| {
                            anyhow::anyhow!("--cluster.tee-roots {value:?} is not 64 bytes of hex")
                        })?;
                    Ok(root)
                })
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
            match join_cluster_key(identity, worker.clone(), from, &trust, &policy).await {
                Ok(hash) => {
                    info!(target: "aegis::node", member = %from, key_hash = %hash, "took the cluster mempool key");
                    std::fs::write(&record, hash.to_string())
                        .with_context(|| record.display().to_string())?;
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
}
