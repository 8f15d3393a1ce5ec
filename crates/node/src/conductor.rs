//! `aegis conductor`: one worker's conductor beside its `aegis` and rollup node, the wiring of
//! `aegis_conductor` (etcd, the `conductor_*` RPC the rollup node's `--conductor.rpc` points
//! at, the control loop).

use aegis_conductor::{
    ClusterStore, Conductor, HealthConfig, RollupNode, ServerInfo, Suffrage, Supervisor,
    conductor_module, join,
};
use anyhow::Context;
use clap::Args;
use std::{net::IpAddr, sync::Arc, time::Duration};
use tracing::info;

/// Where a cluster lives: its etcd and its chain.
#[derive(Args, Debug)]
pub(crate) struct EtcdArgs {
    /// etcd client URLs, comma-separated.
    #[arg(
        long = "conductor.etcd",
        env = "AEGIS_CONDUCTOR_ETCD",
        value_delimiter = ',',
        required = true
    )]
    etcd: Vec<String>,
    /// The L2 chain id; a worker's rollup node must serve this chain.
    #[arg(long = "conductor.chain-id", env = "AEGIS_CONDUCTOR_CHAIN_ID")]
    chain_id: u64,
}

/// `aegis node` as one worker of a cluster: its engine is fenced by the cluster's etcd state.
#[derive(Args, Debug)]
#[command(next_help_heading = "Cluster")]
pub(crate) struct MemberArgs {
    /// This worker's id in the cluster (its conductor's `--conductor.id`); with
    /// `--conductor.etcd`, the engine sequences only while that conductor leads and makes a
    /// block its head only once the cluster committed it.
    #[arg(long = "conductor.id", requires = "etcd")]
    id: Option<String>,
    /// etcd client URLs of the cluster, comma-separated.
    #[arg(long = "conductor.etcd", value_delimiter = ',', requires = "id")]
    etcd: Vec<String>,
    /// Timeout of each etcd request, in milliseconds.
    #[arg(long = "conductor.timeout-ms", default_value_t = 1_000)]
    timeout_ms: u64,
    /// The wallet RPC URL other workers forward transactions to while this one leads
    /// [default: http://<http.addr>:<http.port>].
    #[arg(long = "conductor.advertise-rpc")]
    advertise_rpc: Option<String>,
}

impl MemberArgs {
    /// This worker's id, when it is a cluster worker.
    pub(crate) fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// This worker's view of the cluster, when it is one's (etcd must answer at start).
    pub(crate) async fn connect(&self, chain_id: u64) -> anyhow::Result<Option<ClusterStore>> {
        let Some(id) = &self.id else {
            return Ok(None);
        };
        let timeout = Duration::from_millis(self.timeout_ms);
        let store = ClusterStore::connect(&self.etcd, chain_id, id, timeout)
            .await
            .with_context(|| format!("cluster etcd at {}", self.etcd.join(",")))?;
        info!(target: "aegis::node", worker = id, "cluster worker: the engine is fenced by etcd, transactions go to the leader");
        Ok(Some(store))
    }

    /// The wallet RPC URL to advertise for followers to forward to, given where it listens.
    pub(crate) fn advertised_rpc(&self, listen: std::net::SocketAddr) -> anyhow::Result<String> {
        match &self.advertise_rpc {
            Some(url) => Ok(url.clone()),
            None if listen.ip().is_unspecified() => anyhow::bail!(
                "--http.addr {} is not an address other workers can call: set --conductor.advertise-rpc",
                listen.ip()
            ),
            None => Ok(format!("http://{listen}")),
        }
    }
}

/// `aegis conductor ...`
#[derive(Args, Debug)]
pub(crate) struct ConductorArgs {
    /// This worker's id in the cluster (unique, without '/').
    #[arg(long = "conductor.id", env = "AEGIS_CONDUCTOR_ID")]
    id: String,
    #[command(flatten)]
    cluster: EtcdArgs,
    /// Listen address of the conductor RPC (the rollup node's `--conductor.rpc`).
    #[arg(long = "conductor.rpc.addr", default_value = "127.0.0.1")]
    rpc_addr: IpAddr,
    /// Port of the conductor RPC.
    #[arg(long = "conductor.rpc.port", default_value_t = 8547)]
    rpc_port: u16,
    /// The local rollup node's RPC, with its admin namespace enabled.
    #[arg(long = "conductor.node-rpc", env = "AEGIS_CONDUCTOR_NODE_RPC")]
    node_rpc: String,
    /// `aegis`'s readiness URL (`http://…/readyz` on its metrics port), checked for health.
    #[arg(long = "conductor.execution-ready")]
    execution_ready: Option<String>,
    /// Leadership lease TTL in seconds: a dead leader is replaced within it.
    #[arg(long = "conductor.lease-ttl", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    lease_ttl: u64,
    /// Control loop interval in milliseconds.
    #[arg(long = "conductor.interval-ms", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    interval_ms: u64,
    /// A sequencing node whose unsafe head is older than this many seconds is unhealthy.
    #[arg(long = "conductor.health.unsafe-interval", default_value_t = 10)]
    unsafe_interval: u64,
    /// Serve Prometheus metrics (/metrics) and health (/healthz, /readyz) on this address.
    #[arg(long = "conductor.metrics")]
    metrics: Option<std::net::SocketAddr>,
    /// How long to wait at start-up for the rollup node to answer, in seconds.
    #[arg(long = "conductor.node-wait", default_value_t = 60)]
    node_wait: u64,
    /// Timeout of each etcd and rollup node request, in milliseconds.
    #[arg(long = "conductor.timeout-ms", default_value_t = 2_000)]
    timeout_ms: u64,
}

pub(crate) async fn conductor_command(args: ConductorArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(args.timeout_ms);
    let EtcdArgs { etcd, chain_id } = &args.cluster;
    let store = ClusterStore::connect(etcd, *chain_id, &args.id, timeout)
        .await
        .with_context(|| format!("etcd at {}", etcd.join(",")))?;
    let conductor = Arc::new(Conductor::new(store, Duration::from_secs(args.lease_ttl)));
    let node = RollupNode::new(&args.node_rpc, timeout)?;
    let server = jsonrpsee::server::Server::builder()
        .build(std::net::SocketAddr::new(args.rpc_addr, args.rpc_port))
        .await
        .with_context(|| format!("conductor RPC on {}:{}", args.rpc_addr, args.rpc_port))?;
    let local = server.local_addr()?;
    let me = ServerInfo {
        id: args.id.clone(),
        addr: local.to_string(),
        suffrage: Suffrage::Voter,
    };
    join(
        &conductor,
        &node,
        *chain_id,
        &me,
        Duration::from_secs(args.node_wait),
    )
    .await
    .with_context(|| format!("joining the cluster as {}", args.id))?;
    let handle = server.start(conductor_module(conductor.clone()));
    if let Some(addr) = args.metrics {
        let ready = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let metrics = crate::observe::serve(
            addr,
            crate::observe::install_recorder()?,
            ready,
            None,
            Default::default(),
        )
        .await?;
        info!(target: "aegis::conductor", %metrics, "metrics and health endpoints listening");
    }
    info!(target: "aegis::conductor", id = %args.id, rpc = %local, "conductor ready");
    let supervisor = Supervisor::new(
        conductor,
        node,
        HealthConfig {
            unsafe_interval: Duration::from_secs(args.unsafe_interval),
            execution_ready: args.execution_ready,
        },
    );
    supervisor
        .run(
            Duration::from_millis(args.interval_ms),
            crate::shutdown_signal(),
        )
        .await;
    let _ = handle.stop();
    Ok(())
}

/// `aegis cluster ...`
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ClusterCommand {
    /// Print, as JSON, who leads, the committed unsafe head, and each member's conductor's
    /// answers (reachable, leader, healthy, active).
    Status {
        #[command(flatten)]
        cluster: EtcdArgs,
    },
}

pub(crate) async fn cluster_command(command: ClusterCommand) -> anyhow::Result<()> {
    let ClusterCommand::Status {
        cluster: EtcdArgs { etcd, chain_id },
    } = command;
    let timeout = Duration::from_secs(2);
    // A read-only observer: its id is never a member's.
    let store = ClusterStore::connect(&etcd, chain_id, "status", timeout)
        .await
        .with_context(|| format!("etcd at {}", etcd.join(",")))?;
    let status = aegis_conductor::cluster_status(&store, timeout).await?;
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(())
}
