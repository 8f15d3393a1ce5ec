//! `aegis`: the QuantumAegis OP Stack execution engine and sequencer.

mod cluster_key;
mod conductor;
mod config;
mod keys;
mod migrate;
mod observe;
mod snapshot;

use aegis_chainspec::{
    ChainSpec, DevnetGenesisOptions, L1GenesisRef, RollupConfig, RollupOptions, devnet_genesis,
    rollup_config,
};
use aegis_engine::EngineApi;
use aegis_executor::Executor;
use aegis_storage::Store;
use alloy_primitives::{Address, B256, U256};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::info;

// Trie updates allocate many small short-lived nodes next to a large long-lived node cache;
// mimalloc keeps that fast where glibc's allocator fragments (state-root time on a 1M-account
// state halves).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "aegis",
    version,
    about = "QuantumAegis OP Stack execution engine and sequencer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format.
    #[arg(
        long = "log.format",
        global = true,
        env = "AEGIS_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the execution engine.
    Node(Box<NodeArgs>),
    /// Write a devnet L2 genesis.json (OP predeploys, funded dev accounts) and its rollup.json.
    Genesis(GenesisArgs),
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// The sequencer's sealed key store.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// TDX quotes: verify, simulate.
    Attest {
        #[command(subcommand)]
        command: keys::AttestCommand,
    },
    /// Client tools: encrypted transactions.
    Tx {
        #[command(subcommand)]
        command: keys::TxCommand,
    },
    /// The configuration file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Migration checkpoints.
    Migration {
        #[command(subcommand)]
        command: migrate::MigrationCommand,
    },
    /// One worker's conductor in a high-availability cluster (op-conductor's API, on etcd).
    Conductor(Box<conductor::ConductorArgs>),
    /// State snapshots: export a stopped node's head state, import one into an empty datadir.
    Snapshot {
        #[command(subcommand)]
        command: snapshot::SnapshotCommand,
    },
    /// The high-availability cluster.
    Cluster {
        #[command(subcommand)]
        command: conductor::ClusterCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Parse and validate a phala.toml; exit status 0 when valid, errors name the key.
    Check {
        /// The file.
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Recompute the head state root from the flat state and compare it with the header.
    Verify(DatadirArgs),
}

#[derive(Args, Debug)]
struct DatadirArgs {
    /// Data directory (database, generated genesis).
    #[arg(long, env = "AEGIS_DATADIR", default_value = ".aegis")]
    datadir: PathBuf,
}

#[derive(Args, Debug)]
struct NodeArgs {
    #[command(flatten)]
    datadir: DatadirArgs,
    /// Configuration file (phala.toml); flags and environment variables override it.
    #[arg(long, env = "AEGIS_CONFIG")]
    config: Option<PathBuf>,
    /// op-geth style genesis.json; without it a devnet genesis is generated in the datadir.
    #[arg(long, env = "AEGIS_GENESIS")]
    genesis: Option<PathBuf>,
    /// The rollup node's rollup.json: checked against the genesis (chain id, genesis hash).
    #[arg(long = "rollup.config", env = "AEGIS_ROLLUP_CONFIG")]
    rollup_config: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    batcher: BatcherArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Serve Prometheus metrics (/metrics) and health (/healthz, /readyz) on this address.
    #[arg(long = "metrics", env = "AEGIS_METRICS")]
    metrics: Option<std::net::SocketAddr>,
    #[command(flatten)]
    dev: DevArgs,
    #[command(flatten)]
    keys: keys::KeysArgs,
    #[command(flatten)]
    anchor: AnchorArgs,
    #[command(flatten)]
    intelligence: IntelligenceArgs,
    #[command(flatten)]
    cluster: conductor::MemberArgs,
    #[command(flatten)]
    cluster_key: cluster_key::ClusterKeyArgs,
    #[command(flatten)]
    sync: snapshot::SyncArgs,
    #[command(flatten)]
    checkpoint: snapshot::CheckpointArgs,
    /// Keep block bodies, receipts, reorg changesets and state of only the last N blocks (at
    /// least 64; never below the safe and finalized blocks), and headers 256 blocks further
    /// down; trie nodes only older states used are deleted. Default: keep everything.
    #[arg(long = "history.blocks", env = "AEGIS_HISTORY_BLOCKS", value_parser = parse_history_blocks)]
    history_blocks: Option<u64>,
    /// `[quantum]` of the config file.
    #[arg(skip)]
    quantum_file: aegis_qrm::QrmConfig,
    /// `[intelligence]` of the config file.
    #[arg(skip)]
    intelligence_file: config::IntelligenceSection,
}

/// Risk monitoring and ordering (the rest is in the config file's `[quantum]` and
/// `[intelligence]`).
#[derive(Args, Debug)]
#[command(next_help_heading = "Intelligence")]
struct IntelligenceArgs {
    /// Ordering strategy: fee, risk-aware, asset-protection, migration-aware or hybrid
    /// [default: the config file's, else fee].
    #[arg(long = "intelligence.strategy", env = "AEGIS_INTELLIGENCE_STRATEGY")]
    strategy: Option<String>,
    /// A threat report file to watch as a feed (repeatable; besides `[[quantum.feeds]]`).
    #[arg(long = "qrm.feed-file", env = "AEGIS_QRM_FEED_FILE")]
    feed_files: Vec<PathBuf>,
}

/// The public (wallet) JSON-RPC port: HTTP and WebSocket, no JWT.
#[derive(Args, Debug)]
#[command(next_help_heading = "JSON-RPC")]
struct RpcArgs {
    /// Serve the wallet JSON-RPC (eth_*, txpool_*).
    #[arg(long = "http", env = "AEGIS_HTTP")]
    http: bool,
    /// Listen address of the JSON-RPC.
    #[arg(
        long = "http.addr",
        env = "AEGIS_HTTP_ADDR",
        default_value = "127.0.0.1"
    )]
    http_addr: std::net::IpAddr,
    /// Port of the JSON-RPC.
    #[arg(long = "http.port", env = "AEGIS_HTTP_PORT", default_value_t = 8545)]
    http_port: u16,
    /// Origins allowed to call the JSON-RPC from a browser (comma-separated, `*` for any).
    #[arg(
        long = "http.corsdomain",
        env = "AEGIS_HTTP_CORSDOMAIN",
        value_delimiter = ','
    )]
    cors: Vec<String>,
    /// Largest JSON-RPC request body, in bytes.
    #[arg(
        long = "rpc.max-request-size",
        env = "AEGIS_RPC_MAX_REQUEST_SIZE",
        default_value_t = 5 * 1024 * 1024
    )]
    max_request_bytes: u32,
    /// Most calls in one JSON-RPC batch.
    #[arg(
        long = "rpc.batch-request-limit",
        env = "AEGIS_RPC_BATCH_REQUEST_LIMIT",
        default_value_t = 100
    )]
    max_batch: u32,
    /// Most blocks one eth_getLogs may scan.
    #[arg(
        long = "rpc.max-blocks-per-filter",
        env = "AEGIS_RPC_MAX_BLOCKS_PER_FILTER",
        default_value_t = 10_000
    )]
    max_log_range: u64,
    /// Most logs one eth_getLogs may return.
    #[arg(
        long = "rpc.max-logs-per-response",
        env = "AEGIS_RPC_MAX_LOGS_PER_RESPONSE",
        default_value_t = 20_000
    )]
    max_logs: usize,
    /// Most transactions the pool holds.
    #[arg(
        long = "txpool.capacity",
        env = "AEGIS_TXPOOL_CAPACITY",
        default_value_t = 10_000
    )]
    pool_capacity: usize,
    /// Most transactions one sender may hold in the pool.
    #[arg(
        long = "txpool.accountslots",
        env = "AEGIS_TXPOOL_ACCOUNTSLOTS",
        default_value_t = 1_024
    )]
    pool_per_sender: usize,
    /// Most queued (non-executable, behind a nonce gap) transactions one sender may hold.
    #[arg(
        long = "txpool.accountqueue",
        env = "AEGIS_TXPOOL_ACCOUNTQUEUE",
        default_value_t = 64
    )]
    pool_account_queue: usize,
    /// Most queued transactions the pool holds; they never take an executable one's place.
    #[arg(
        long = "txpool.globalqueue",
        env = "AEGIS_TXPOOL_GLOBALQUEUE",
        default_value_t = 1_024
    )]
    pool_global_queue: usize,
    /// Do not journal pool transactions to <datadir>/transactions.journal.
    #[arg(long = "txpool.nojournal", env = "AEGIS_TXPOOL_NOJOURNAL")]
    no_journal: bool,
    /// How long a sender's queued (non-executable) transactions stay without news from it
    /// (e.g. `3h`, `90m`).
    #[arg(
        long = "txpool.lifetime",
        env = "AEGIS_TXPOOL_LIFETIME",
        default_value = "3h",
        value_parser = parse_duration
    )]
    pool_lifetime: Duration,
    /// Namespaces served on the JSON-RPC port, comma-separated (`eth,net,web3,txpool,aegis`;
    /// `miner` only when named). Applies to HTTP and WebSocket alike.
    #[arg(
        long = "http.api",
        visible_alias = "ws.api",
        env = "AEGIS_HTTP_API",
        default_value = "eth,net,web3,txpool,aegis",
        value_parser = parse_apis
    )]
    apis: Apis,
    /// Most gas one eth_call or eth_estimateGas may use, whatever the request and its
    /// overrides say (0: the block's gas limit).
    #[arg(
        long = "rpc.gascap",
        env = "AEGIS_RPC_GASCAP",
        default_value_t = aegis_executor::RPC_GAS_CAP
    )]
    gas_cap: u64,
    /// Longest one eth_call or eth_estimateGas may execute (e.g. `5s`, `500ms`; 0: no limit).
    #[arg(
        long = "rpc.evmtimeout",
        env = "AEGIS_RPC_EVMTIMEOUT",
        default_value = "5s",
        value_parser = parse_duration
    )]
    evm_timeout: Duration,
    /// Threads that run the expensive RPC methods (calls, logs, receipts, proofs), at a lower
    /// priority than block building.
    #[arg(
        long = "rpc.workers",
        env = "AEGIS_RPC_WORKERS",
        default_value_t = 2,
        value_parser = clap::value_parser!(u64).range(1..=256)
    )]
    workers: u64,
    /// Expensive requests that may wait for a worker; more are refused at once (-32005).
    #[arg(long = "rpc.queue", env = "AEGIS_RPC_QUEUE", default_value_t = 64)]
    worker_queue: usize,
}

/// The namespaces named by `--http.api`.
#[derive(Clone, Debug)]
struct Apis(Vec<String>);

fn parse_apis(value: &str) -> Result<Apis, String> {
    aegis_rpc::parse_apis(value).map(Apis)
}

/// A duration like geth's flags take it: `5s`, `500ms`, `90m`, `3h`, or `0`.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    if value == "0" {
        return Ok(Duration::ZERO);
    }
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{value:?} has no unit (use ms, s, m or h)"))?;
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration"))?;
    let millis = match unit {
        "ms" => Some(number),
        "s" => number.checked_mul(1_000),
        "m" => number.checked_mul(60_000),
        "h" => number.checked_mul(3_600_000),
        other => {
            return Err(format!(
                "{value:?}: unknown unit {other:?} (use ms, s, m or h)"
            ));
        }
    }
    .ok_or_else(|| format!("{value:?} is too long"))?;
    Ok(Duration::from_millis(millis))
}

/// Posting L2 blocks to the L1 batch inbox (sequencer only).
#[derive(Args, Debug)]
#[command(next_help_heading = "Batcher")]
struct BatcherArgs {
    /// L1 JSON-RPC URL; enables the batcher (needs --rollup.config for the inbox and L1 chain).
    #[arg(long = "batcher.l1-rpc", env = "AEGIS_BATCHER_L1_RPC")]
    l1_rpc: Option<String>,
    /// Hex private key of the rollup config's batcher address (never logged).
    #[arg(
        long = "batcher.key",
        env = "AEGIS_BATCHER_KEY",
        hide_env_values = true
    )]
    key: Option<String>,
    /// Seconds between looks for new L2 blocks.
    #[arg(
        long = "batcher.interval",
        env = "AEGIS_BATCHER_INTERVAL",
        default_value_t = 6
    )]
    interval: u64,
    /// L1 confirmations a frame transaction needs (and the rollup node must have derived it)
    /// before the batcher forgets it; shallower reorgs are repaired by sending it again.
    #[arg(
        long = "batcher.confirmations",
        env = "AEGIS_BATCHER_CONFIRMATIONS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=1000)
    )]
    confirmations: u64,
    /// How long a batch transaction may stay pending before it is re-sent with fees 15 %
    /// higher (also how long a nonce gap or a safe head behind what was posted is tolerated).
    #[arg(
        long = "batcher.resubmission-timeout",
        env = "AEGIS_BATCHER_RESUBMISSION_TIMEOUT",
        default_value = "48s",
        value_parser = parse_duration
    )]
    resubmission_timeout: Duration,
    /// How long confirmed frames may stay underived before their blocks are posted again
    /// (about the rollup config's channel timeout in L1 time).
    #[arg(
        long = "batcher.safe-timeout",
        env = "AEGIS_BATCHER_SAFE_TIMEOUT",
        default_value = "10m",
        value_parser = parse_duration
    )]
    safe_timeout: Duration,
    /// Fee bumps per batch transaction at most.
    #[arg(
        long = "batcher.max-fee-bumps",
        env = "AEGIS_BATCHER_MAX_FEE_BUMPS",
        default_value_t = 10
    )]
    max_fee_bumps: u32,
    /// Highest max fee per gas a batch transaction offers, in gwei.
    #[arg(
        long = "batcher.max-fee-gwei",
        env = "AEGIS_BATCHER_MAX_FEE_GWEI",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(1..=10_000_000)
    )]
    max_fee_gwei: u64,
}

/// Registration, batch commitments and risk reports on the chain's contracts (sequencer only).
#[derive(Args, Debug)]
#[command(next_help_heading = "Contracts")]
struct AnchorArgs {
    /// `SequencerAttestation` address: register there with a TEE quote and commit every
    /// attested batch, in transactions the sequencer includes in its own blocks (its key must
    /// hold ETH for gas). Waits while no contract is deployed at the address.
    #[arg(
        id = "anchor.attestation",
        long = "anchor.attestation",
        env = "AEGIS_ANCHOR_ATTESTATION"
    )]
    attestation: Option<Address>,
    /// `QRMSOracle` address: submit the sequencer's risk score there (it must be a reporter).
    #[arg(
        id = "anchor.oracle",
        long = "anchor.oracle",
        env = "AEGIS_ANCHOR_ORACLE",
        requires = "anchor.attestation"
    )]
    oracle: Option<Address>,
    /// Seconds between looks at the contracts.
    #[arg(
        id = "anchor.interval",
        long = "anchor.interval",
        env = "AEGIS_ANCHOR_INTERVAL",
        default_value_t = 2,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    interval: u64,
    /// Seconds a batch commitment waits for its SLH-DSA signature before going without it.
    #[arg(
        id = "anchor.slh-wait",
        long = "anchor.slh-wait",
        env = "AEGIS_ANCHOR_SLH_WAIT",
        default_value_t = 120
    )]
    slh_wait: u64,
    /// Priority fee of the anchor's transactions (wei per gas).
    #[arg(
        id = "anchor.priority-fee",
        long = "anchor.priority-fee",
        env = "AEGIS_ANCHOR_PRIORITY_FEE",
        default_value_t = 1_000_000
    )]
    priority_fee: u128,
    /// When batches are committed with `commitBatchPq` (the sequencer's ML-DSA-87 signature,
    /// verified on chain): `scheduled` from risk level SCHEDULED on, `always` from the start
    /// (the ML-DSA key is expanded in the registry's verifier first).
    #[arg(
        id = "anchor.pq",
        long = "anchor.pq",
        env = "AEGIS_ANCHOR_PQ",
        value_enum,
        default_value_t = PqPathArg::Scheduled
    )]
    pq: PqPathArg,
}

/// `--anchor.pq` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum PqPathArg {
    Scheduled,
    Always,
}

impl AnchorArgs {
    fn config(&self) -> Option<aegis_anchor::AnchorConfig> {
        let mut config = aegis_anchor::AnchorConfig::new(self.attestation?, self.oracle);
        config.interval = Duration::from_secs(self.interval);
        config.slh_wait = Duration::from_secs(self.slh_wait);
        config.priority_fee = self.priority_fee;
        config.pq = match self.pq {
            PqPathArg::Scheduled => aegis_anchor::PqPath::FromScheduled,
            PqPathArg::Always => aegis_anchor::PqPath::Always,
        };
        Some(config)
    }
}

/// The authenticated engine port the rollup node drives.
#[derive(Args, Debug)]
#[command(next_help_heading = "Engine API")]
struct EngineArgs {
    /// Listen address of the engine API.
    #[arg(
        long = "engine.addr",
        visible_alias = "authrpc.addr",
        env = "AEGIS_ENGINE_ADDR",
        default_value = "127.0.0.1"
    )]
    addr: std::net::IpAddr,
    /// Port of the engine API.
    #[arg(
        long = "engine.port",
        visible_alias = "authrpc.port",
        env = "AEGIS_ENGINE_PORT",
        default_value_t = 8551
    )]
    port: u16,
    /// JWT secret file (hex); created with mode 0600 when missing [default: <datadir>/jwt.hex].
    #[arg(
        long = "engine.jwtsecret",
        visible_alias = "authrpc.jwtsecret",
        env = "AEGIS_ENGINE_JWTSECRET"
    )]
    jwt_secret: Option<PathBuf>,
}

/// Sealing without a rollup node.
#[derive(Args, Debug)]
#[command(next_help_heading = "Development")]
struct DevArgs {
    /// Seal blocks from a synthetic L1 origin instead of serving a rollup node.
    #[arg(long = "dev", env = "AEGIS_DEV")]
    enabled: bool,
    /// Time between dev blocks: seconds ("2"), or with a unit ("250ms", "1.5s"). A full block
    /// waiting is sealed at once; timestamps run at most max(period, 1 s) ahead of the clock.
    #[arg(long = "dev.period", env = "AEGIS_DEV_PERIOD", default_value = "2", value_parser = parse_period)]
    period: std::time::Duration,
    /// Stop after this many dev blocks (0: run until interrupted).
    #[arg(long = "dev.blocks", env = "AEGIS_DEV_BLOCKS", default_value_t = 0)]
    blocks: u64,
    /// Block gas limit of a devnet genesis generated in the datadir (as geth's --dev.gaslimit;
    /// an existing genesis keeps its own).
    #[arg(long = "dev.gaslimit", env = "AEGIS_DEV_GASLIMIT", value_parser = parse_gas_limit)]
    gas_limit: Option<u64>,
}

#[derive(Args, Debug)]
struct GenesisArgs {
    /// Output directory for genesis.json and rollup.json.
    #[arg(long)]
    out: PathBuf,
    /// L2 chain id.
    #[arg(long, default_value_t = 901)]
    chain_id: u64,
    /// Genesis timestamp (default: now).
    #[arg(long)]
    timestamp: Option<u64>,
    /// Isthmus activation, seconds after genesis ("none" to leave it unscheduled).
    #[arg(long, default_value = "4", value_parser = parse_offset)]
    isthmus_offset: ForkOffset,
    /// Jovian activation, seconds after genesis, or "none" (kona-node 1.0.0-rc.1 derives no
    /// Jovian blocks).
    #[arg(long, default_value = "none", value_parser = parse_offset)]
    jovian_offset: ForkOffset,
    /// L1 genesis block hash the rollup starts from.
    #[arg(long, default_value_t = B256::ZERO)]
    l1_hash: B256,
    /// L1 genesis block number.
    #[arg(long, default_value_t = 0)]
    l1_number: u64,
    /// L1 genesis block timestamp (default: the L2 genesis timestamp).
    #[arg(long)]
    l1_timestamp: Option<u64>,
    /// L1 chain id.
    #[arg(long, default_value_t = 900)]
    l1_chain_id: u64,
    /// Batcher address in the rollup system config.
    #[arg(long)]
    batcher: Option<Address>,
    /// BIP-39 mnemonic of the prefunded dev accounts (default: anvil's).
    #[arg(long = "dev.mnemonic", env = "AEGIS_DEV_MNEMONIC")]
    dev_mnemonic: Option<String>,
    /// Number of prefunded dev accounts (m/44'/60'/0'/0/0..N).
    #[arg(long = "dev.accounts", default_value_t = 10)]
    dev_accounts: u32,
    /// Balance of each dev account, in ether.
    #[arg(long = "dev.balance", default_value_t = 10_000)]
    dev_balance: u64,
}

/// A fork activation offset in seconds after genesis, or unscheduled.
#[derive(Clone, Copy, Debug)]
struct ForkOffset(Option<u64>);

fn parse_offset(value: &str) -> Result<ForkOffset, String> {
    if value == "none" {
        return Ok(ForkOffset(None));
    }
    value
        .parse()
        .map(|v| ForkOffset(Some(v)))
        .map_err(|_| format!("expected seconds or \"none\", got {value:?}"))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

fn genesis_command(args: GenesisArgs) -> anyhow::Result<()> {
    let timestamp = args.timestamp.unwrap_or_else(now);
    let defaults = DevnetGenesisOptions::default();
    let options = DevnetGenesisOptions {
        chain_id: args.chain_id,
        l1_chain_id: args.l1_chain_id,
        timestamp,
        isthmus_offset: args.isthmus_offset.0,
        jovian_offset: args.jovian_offset.0,
        dev_mnemonic: args
            .dev_mnemonic
            .unwrap_or_else(|| defaults.dev_mnemonic.clone()),
        dev_accounts: args.dev_accounts,
        dev_balance: U256::from(args.dev_balance) * U256::from(10u64).pow(U256::from(18)),
        ..defaults
    };
    let genesis = devnet_genesis(&options)?;
    let spec = ChainSpec::from_genesis(genesis.clone())?;
    let l1 = L1GenesisRef {
        hash: args.l1_hash,
        number: args.l1_number,
        timestamp: args.l1_timestamp.unwrap_or(timestamp),
    };
    let mut rollup_options = RollupOptions {
        l1_chain_id: args.l1_chain_id,
        ..Default::default()
    };
    if let Some(batcher) = args.batcher {
        rollup_options.batcher_address = batcher;
    }
    let rollup = rollup_config(&spec, &l1, &rollup_options);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write_json(&args.out.join("genesis.json"), &genesis)?;
    write_json(&args.out.join("rollup.json"), &rollup)?;
    println!("{}", spec.genesis_hash());
    Ok(())
}

/// Loads the chain config: the given file, or a devnet genesis kept in the datadir.
fn load_spec(
    genesis: Option<&Path>,
    datadir: &Path,
    gas_limit: Option<u64>,
) -> anyhow::Result<ChainSpec> {
    if let Some(path) = genesis {
        return Ok(ChainSpec::from_genesis_file(path)?);
    }
    let path = datadir.join("genesis.json");
    if path.exists() {
        return Ok(ChainSpec::from_genesis_file(&path)?);
    }
    let defaults = DevnetGenesisOptions::default();
    let options = DevnetGenesisOptions {
        timestamp: now(),
        gas_limit: gas_limit.unwrap_or(defaults.gas_limit),
        ..defaults
    };
    let genesis = devnet_genesis(&options)?;
    std::fs::create_dir_all(datadir).with_context(|| format!("creating {}", datadir.display()))?;
    write_json(&path, &genesis)?;
    info!(target: "aegis::node", path = %path.display(), "generated devnet genesis");
    Ok(ChainSpec::from_genesis(genesis)?)
}

fn open(datadir: &Path) -> anyhow::Result<Arc<Store>> {
    Ok(Arc::new(Store::open(snapshot::store_path(datadir))?))
}

/// The chain config of an existing chain: the given file or the datadir's genesis.json.
pub(crate) fn load_existing_spec(
    genesis: Option<&Path>,
    datadir: &Path,
) -> anyhow::Result<ChainSpec> {
    let path = genesis.map_or_else(|| datadir.join("genesis.json"), Path::to_path_buf);
    if !path.exists() {
        bail!(
            "{} does not exist: give the chain's --genesis",
            path.display()
        );
    }
    Ok(ChainSpec::from_genesis_file(&path)?)
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Reads the rollup config and refuses one of another chain.
fn check_rollup_config(path: &Path, spec: &ChainSpec) -> anyhow::Result<RollupConfig> {
    let config = RollupConfig::load(path)?;
    config.check(path, spec)?;
    Ok(config)
}

/// The batcher the flags ask for, if any.
fn batcher(
    args: &BatcherArgs,
    rollup: Option<&RollupConfig>,
    executor: &Arc<Executor>,
) -> anyhow::Result<Option<aegis_batcher::Batcher>> {
    let Some(l1_rpc) = args.l1_rpc.clone() else {
        return Ok(None);
    };
    let rollup =
        rollup.context("--batcher.l1-rpc needs --rollup.config (batch inbox, L1 chain id)")?;
    let key = args
        .key
        .as_deref()
        .context("--batcher.l1-rpc needs --batcher.key")?;
    let secret: [u8; 32] = alloy_primitives::hex::decode(key.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("--batcher.key is not a hex private key")?;
    let signer = aegis_pqc::EcdsaSigner::from_secret(&secret)
        .map_err(|_| anyhow::anyhow!("--batcher.key is not a secp256k1 private key"))?;
    let (inbox, l1_chain_id) = (rollup.batch_inbox_address, rollup.l1_chain_id);
    let expected = rollup.genesis.system_config.batcher;
    if expected != signer.address() {
        bail!(
            "--batcher.key is for {}, but the rollup config's batcher is {expected}",
            signer.address()
        );
    }
    let config = aegis_batcher::BatcherConfig {
        poll_interval: Duration::from_secs(args.interval.max(1)),
        confirmations: args.confirmations,
        resubmission_timeout: args.resubmission_timeout.max(Duration::from_secs(1)),
        safe_timeout: args.safe_timeout.max(Duration::from_secs(1)),
        max_fee_bumps: args.max_fee_bumps,
        max_fee_per_gas: u128::from(args.max_fee_gwei) * 1_000_000_000,
        ..aegis_batcher::BatcherConfig::new(l1_rpc, l1_chain_id, inbox)
    };
    info!(target: "aegis::node", batcher = %signer.address(), %inbox, confirmations = config.confirmations, "batcher enabled");
    let batcher = aegis_batcher::Batcher::new(executor.clone(), signer, config)
        .map_err(|e| anyhow::anyhow!("--batcher.l1-rpc: {e}"))?;
    Ok(Some(batcher))
}

/// How often a cluster worker checks whether it leads (for the batcher and the anchor).
const LEADERSHIP_POLL: Duration = Duration::from_millis(500);

/// Attestation subscribed to the batcher: every batch is signed and attested before it is posted.
struct AttestingSink {
    attestor: Arc<aegis_attest::BatchAttestor>,
    /// Where batch commitments land, to number batches after the last one committed.
    chain: Option<(Arc<Executor>, alloy_primitives::Address)>,
}

impl aegis_batcher::BatchSink for AttestingSink {
    fn batch_built(&self, batch: aegis_batcher::BuiltBatch) -> aegis_batcher::SinkFuture<'_> {
        Box::pin(async move {
            if let Some((executor, attestation)) = &self.chain
                && let Ok(Some(last)) = aegis_anchor::committed_batch(executor, *attestation)
            {
                self.attestor.raise_next_id(last + 1);
            }
            let input = aegis_attest::BatchInput {
                first_block: batch.first_block,
                last_block: batch.last_block,
                block_hashes: batch.block_hashes,
                frames_hash: batch.frames_hash,
            };
            self.attestor
                .attest(input)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

async fn node_command(args: NodeArgs) -> anyhow::Result<()> {
    // Configuration errors first, before anything is created on disk.
    let setup = intelligence_setup(&args)?;
    let datadir = &args.datadir.datadir;
    let spec = Arc::new(load_spec(
        args.genesis.as_deref(),
        datadir,
        args.dev.gas_limit,
    )?);
    let rollup = args
        .rollup_config
        .as_deref()
        .map(|path| check_rollup_config(path, &spec))
        .transpose()?;
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Filled once the keys are open: a cluster worker serves the mempool key to attested joiners.
    let key_share = observe::KeyShareSlot::default();
    let mut ops_listen = None;
    if let Some(addr) = args.metrics {
        let handle = observe::install_recorder()?;
        let local = observe::serve(
            addr,
            handle,
            ready.clone(),
            Some(snapshot::snapshot_dir(datadir)),
            key_share.clone(),
        )
        .await?;
        info!(target: "aegis::node", metrics = %local, "metrics and health endpoints listening");
        ops_listen = Some(local);
    }
    if let Some(source) = &args.sync.source
        && !snapshot::store_path(datadir).exists()
    {
        snapshot::sync_from_snapshot(datadir, spec.chain_id, source, &args.sync.trust).await?;
    }
    let store = open(datadir)?;
    let executor = Arc::new(Executor::new(spec.clone(), store.clone())?);
    if let Some(keep) = args.history_blocks {
        info!(target: "aegis::node", keep, "history beyond the last blocks is pruned");
        tokio::spawn(prune_periodically(store.clone(), keep));
    }
    let head = store.head()?.context("store has no head after genesis")?;
    info!(
        target: "aegis::node",
        chain_id = spec.chain_id,
        genesis = %spec.genesis_hash(),
        head = head.number,
        fork = ?spec.fork_at(head.timestamp),
        db = %store.path().display(),
        "aegis started"
    );
    let pool = Arc::new(aegis_mempool::Pool::new(aegis_mempool::PoolConfig {
        capacity: args.rpc.pool_capacity,
        per_sender: args.rpc.pool_per_sender.max(1),
        lifetime: args.rpc.pool_lifetime,
        account_queue: args.rpc.pool_account_queue,
        global_queue: args.rpc.pool_global_queue,
        ..Default::default()
    }));
    if !args.rpc.no_journal {
        let path = datadir.join("transactions.journal");
        let state = aegis_mempool::HeadState::at_head(&executor)?;
        let restored = pool
            .open_journal(&path, &state)
            .with_context(|| format!("transaction journal {}", path.display()))?;
        info!(target: "aegis::node", restored, journal = %path.display(), "transaction journal loaded");
    }
    // Sequencer keys: wanted by the batcher (batch signing), dev mode and --keys.
    let identity = if args.keys.load
        || args.dev.enabled
        || args.batcher.l1_rpc.is_some()
        || args.anchor.attestation.is_some()
    {
        let identity = Arc::new(args.keys.open(datadir, spec.chain_id, args.dev.enabled)?);
        // The cluster's key first: the anchor registers the mempool key this node holds.
        let worker = args.cluster.id().unwrap_or("aegis").to_string();
        args.cluster_key.join(&identity, &worker, datadir).await?;
        if args.cluster.id().is_some() {
            let service = args.cluster_key.service(identity.clone())?;
            let _ = key_share.set(Arc::new(service));
        }
        info!(target: "aegis::node", sequencer = %identity.address(), epoch = identity.epoch(), provider = identity.provider().kind(), "sequencer keys loaded");
        let path = datadir.join("attestations.redb");
        let store = Arc::new(aegis_attest::AttestationStore::open(&path)?);
        if args.keys.rotate_every > 0 {
            tokio::spawn(rotate_periodically(
                identity.clone(),
                args.keys.rotate_every,
            ));
        }
        Some((identity, store))
    } else {
        None
    };
    let intelligence = aegis_intelligence::Intelligence::new(
        setup,
        datadir,
        executor.clone(),
        pool.clone(),
        identity.as_ref().map(|(identity, _)| identity.clone()),
    )?;
    intelligence.start();
    if identity.is_some() && args.checkpoint.interval > 0 {
        intelligence.snapshot_periodically(
            snapshot::snapshot_dir(datadir),
            args.checkpoint.interval,
            args.checkpoint.keep,
        );
    }
    let cluster = args.cluster.connect(spec.chain_id).await?;
    // In a cluster only the leader posts batches and anchors them.
    let leadership = cluster
        .clone()
        .map(|store| aegis_conductor::watch_leadership(store, LEADERSHIP_POLL));
    if let (Some((identity, _)), Some(cluster), Some(leads)) = (&identity, &cluster, &leadership) {
        let sync = args.cluster_key.clone().keep_cluster_key(
            identity.clone(),
            cluster.clone(),
            leads.clone(),
            args.cluster_key.advertised_ops(ops_listen),
            datadir.to_path_buf(),
        );
        tokio::spawn(async move {
            if let Err(error) = sync.await {
                tracing::error!(target: "aegis::node", error = %format!("{error:#}"), "cluster key sync stopped");
            }
        });
    }
    let anchor = match (&identity, args.anchor.config()) {
        (Some((identity, store)), Some(config)) => {
            info!(target: "aegis::node", attestation = %config.attestation, oracle = ?config.oracle, "anchoring on the contracts");
            let mut anchor = aegis_anchor::Anchor::new(
                config,
                executor.clone(),
                pool.clone(),
                identity.clone(),
                store.clone(),
            )
            .with_risk(intelligence.risk_signal());
            if let Some(checkpoints) = intelligence.checkpoints() {
                anchor = anchor.with_checkpoints(checkpoints);
            }
            if let Some(leads) = &leadership {
                anchor = anchor.with_leadership(leads.clone());
            }
            Some(tokio::spawn(anchor.run(std::future::pending())))
        }
        _ => None,
    };
    // Dev mode is for wallets: it always serves the JSON-RPC.
    let public_rpc = if args.rpc.http || args.dev.enabled {
        let config = aegis_rpc::RpcConfig {
            max_request_bytes: args.rpc.max_request_bytes,
            max_batch: args.rpc.max_batch,
            max_log_range: args.rpc.max_log_range,
            max_logs: args.rpc.max_logs,
            cors_origins: args.rpc.cors.clone(),
            apis: args.rpc.apis.0.clone(),
            simulation: aegis_rpc::SimulationLimits {
                gas_cap: args.rpc.gas_cap,
                timeout: args.rpc.evm_timeout,
                cancel: None,
            },
            workers: args.rpc.workers as usize,
            worker_queue: args.rpc.worker_queue,
            ..Default::default()
        };
        let mut api = aegis_rpc::EthApi::new(executor.clone(), pool.clone(), config)
            .with_methods(intelligence.clone().public_module());
        if let Some((identity, store)) = &identity {
            api = api.with_aegis(aegis_rpc::AegisContext::new(
                identity.clone(),
                store.clone(),
            ));
        }
        let route = cluster.clone().map(aegis_conductor::LeaderRoute::new);
        if let Some(route) = route {
            api = api.with_leader_forward(aegis_rpc::LeaderForward::new(route));
        }
        let api = Arc::new(api);
        let addr = std::net::SocketAddr::new(args.rpc.http_addr, args.rpc.http_port);
        let (local, handle) = api
            .clone()
            .serve(addr)
            .await
            .with_context(|| format!("JSON-RPC on {addr}"))?;
        if let Some(cluster) = &cluster {
            let url = args.cluster.advertised_rpc(local)?;
            cluster
                .advertise_rpc(&url)
                .await
                .context("advertising the wallet RPC in etcd")?;
            info!(target: "aegis::node", %url, "wallet RPC advertised to the cluster");
            tokio::spawn(aegis_rpc::hand_pool_to_new_leaders(api.clone()));
        }
        info!(target: "aegis::node", rpc = %local, "JSON-RPC ready");
        Some((api, handle))
    } else {
        None
    };
    // Stops the public port and aborts its running simulations.
    let stop_rpc = |rpc: Option<(Arc<aegis_rpc::EthApi>, jsonrpsee::server::ServerHandle)>| {
        if let Some((api, handle)) = rpc {
            api.shutdown();
            let _ = handle.stop();
        }
    };
    if args.dev.enabled {
        let sealer = aegis_engine::DevSealer::new(executor, pool, args.dev.period)
            .with_limit(args.dev.blocks);
        let outcome = sealer.run(shutdown_signal()).await;
        stop_rpc(public_rpc);
        return Ok(outcome.map(drop)?);
    }
    let secret_path = args
        .engine
        .jwt_secret
        .clone()
        .unwrap_or_else(|| datadir.join("jwt.hex"));
    let secret = aegis_engine::auth::load_or_create_secret(&secret_path)?;
    let mut api = EngineApi::new(executor, pool);
    if let Some(cluster) = &cluster {
        api = api.with_fence(aegis_conductor::Fence::new(cluster.clone()));
    }
    let api = Arc::new(api);
    let addr = std::net::SocketAddr::new(args.engine.addr, args.engine.port);
    let mut batcher = batcher(&args.batcher, rollup.as_ref(), api.executor())?;
    let mut admin = jsonrpsee::Methods::new();
    admin.merge(intelligence.clone().admin_module())?;
    if let Some((identity, store)) = &identity {
        admin.merge(aegis_rpc::admin_module(identity.clone()))?;
        if let Some(b) = batcher.take() {
            let attestor = aegis_attest::BatchAttestor::new(
                identity.clone(),
                store.clone(),
                aegis_attest::SLH_QUEUE_CAPACITY,
            )?;
            let sink = AttestingSink {
                attestor: Arc::new(attestor),
                // Batch ids continue after the chain's last commitment, whoever made it.
                chain: args
                    .anchor
                    .attestation
                    .map(|attestation| (api.executor().clone(), attestation)),
            };
            batcher = Some(b.with_sink(Arc::new(sink)));
        }
    }
    if let Some(leads) = &leadership {
        batcher = batcher.map(|b| b.with_leadership(leads.clone()));
    }
    let (local, server) = api.serve_with(addr, secret, admin).await?;
    ready.store(true, std::sync::atomic::Ordering::Release);
    info!(target: "aegis::node", engine = %local, jwt = %secret_path.display(), "ready");
    match batcher {
        Some(batcher) => batcher.run(shutdown_signal()).await,
        None => shutdown_signal().await,
    }
    info!(target: "aegis::node", "shutting down");
    stop_rpc(public_rpc);
    if let Some(anchor) = anchor {
        anchor.abort();
    }
    let _ = server.stop();
    server.stopped().await;
    Ok(())
}

/// The intelligence layer's configuration: the file's sections, flags over them.
fn intelligence_setup(args: &NodeArgs) -> anyhow::Result<aegis_intelligence::IntelligenceSetup> {
    let mut quantum = args.quantum_file.clone();
    for (index, path) in args.intelligence.feed_files.iter().enumerate() {
        quantum.feeds.push(aegis_qrm::FeedConfig {
            name: format!("file{index}"),
            source: aegis_qrm::FeedSource::File { path: path.clone() },
            interval_secs: 1,
        });
    }
    quantum.validate()?;
    let strategy = match &args.intelligence.strategy {
        Some(name) => name
            .parse()
            .map_err(|e| anyhow::anyhow!("--intelligence.strategy: {e}"))?,
        None => args.intelligence_file.strategy()?,
    };
    Ok(aegis_intelligence::IntelligenceSetup {
        quantum,
        strategy,
        weights: args.intelligence_file.weights,
        oracle: args.anchor.oracle,
        attestation: args.anchor.attestation,
    })
}

/// A dev period: seconds, or a number with `ms` or `s`; at least
/// [`aegis_engine::MIN_DEV_PERIOD`].
fn parse_period(value: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{value:?} is not a period (seconds, or e.g. \"250ms\", \"1.5s\")");
    let (number, scale) = match value.strip_suffix("ms") {
        Some(ms) => (ms, 1e-3),
        None => (value.strip_suffix('s').unwrap_or(value), 1.0),
    };
    let secs = number.trim().parse::<f64>().map_err(|_| bad())? * scale;
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(bad());
    }
    let period = std::time::Duration::from_secs_f64(secs);
    if period < aegis_engine::MIN_DEV_PERIOD {
        return Err(format!(
            "dev period {value:?} is shorter than {} ms",
            aegis_engine::MIN_DEV_PERIOD.as_millis()
        ));
    }
    Ok(period)
}

/// A block gas limit: at least the 21,000 of one transfer, at most what a 64-bit gas counter
/// holds with room to spare.
fn parse_gas_limit(value: &str) -> Result<u64, String> {
    let limit: u64 = value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{value:?} is not a gas amount"))?;
    if !(21_000..=1 << 50).contains(&limit) {
        return Err(format!(
            "gas limit {limit} is outside 21000..={}",
            1u64 << 50
        ));
    }
    Ok(limit)
}

fn parse_history_blocks(value: &str) -> Result<u64, String> {
    let blocks: u64 = value
        .parse()
        .map_err(|_| format!("{value:?} is not a number of blocks"))?;
    if blocks < aegis_storage::MIN_HISTORY_BLOCKS {
        return Err(format!(
            "{blocks} blocks of history is too few: reorgs need at least {}",
            aegis_storage::MIN_HISTORY_BLOCKS
        ));
    }
    Ok(blocks)
}

/// Prunes history beyond the last `keep` blocks every few seconds (each pass deletes only what
/// became prunable since the last one).
async fn prune_periodically(store: Arc<Store>, keep: u64) {
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        interval.tick().await;
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.prune_history(keep)).await {
            Ok(Ok(report)) if report.blocks > 0 => {
                metrics::counter!("aegis_pruned_blocks_total").increment(report.blocks);
                tracing::debug!(
                    target: "aegis::node",
                    blocks = report.blocks,
                    headers = report.headers,
                    below = report.below,
                    "history pruned"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(target: "aegis::node", %error, "pruning failed"),
            Err(error) => tracing::warn!(target: "aegis::node", %error, "pruning task failed"),
        }
    }
}

/// Rotates the sequencer's post-quantum and mempool keys every `seconds`.
async fn rotate_periodically(identity: Arc<aegis_attest::Identity>, seconds: u64) {
    let mut interval = tokio::time::interval(Duration::from_secs(seconds));
    interval.tick().await;
    loop {
        interval.tick().await;
        let identity = identity.clone();
        match tokio::task::spawn_blocking(move || identity.rotate()).await {
            Ok(Ok(epoch)) => info!(target: "aegis::node", epoch, "scheduled key rotation"),
            Ok(Err(error)) => {
                tracing::error!(target: "aegis::node", %error, "scheduled key rotation failed")
            }
            Err(error) => {
                tracing::error!(target: "aegis::node", %error, "key rotation task failed")
            }
        }
    }
}

fn verify_command(args: DatadirArgs) -> anyhow::Result<()> {
    let store = open(&args.datadir)?;
    let head = store.head()?.context("database is empty")?;
    let computed = store.recompute_flat_state_root()?;
    if computed != head.state_root {
        bail!(
            "state root mismatch at block {}: header {}, recomputed {computed}",
            head.number,
            head.state_root
        );
    }
    println!("block {} state root {} verified", head.number, computed);
    Ok(())
}

/// Fills what neither a flag nor its environment variable set from the config file.
fn apply_config(args: &mut NodeArgs, file: config::ConfigFile, matches: &clap::ArgMatches) {
    use clap::parser::ValueSource;
    let explicit = |id: &str| {
        matches
            .value_source(id)
            .is_some_and(|s| s != ValueSource::DefaultValue)
    };
    if !explicit("datadir")
        && let Some(datadir) = file.node.datadir
    {
        args.datadir.datadir = datadir;
    }
    args.genesis = args.genesis.take().or(file.node.genesis);
    args.rollup_config = args.rollup_config.take().or(file.node.rollup_config);
    if !explicit("addr")
        && let Some(addr) = file.engine.addr
    {
        args.engine.addr = addr;
    }
    if !explicit("port")
        && let Some(port) = file.engine.port
    {
        args.engine.port = port;
    }
    args.engine.jwt_secret = args.engine.jwt_secret.take().or(file.engine.jwtsecret);
    args.batcher.l1_rpc = args.batcher.l1_rpc.take().or(file.batcher.l1_rpc);
    if !explicit("interval")
        && let Some(interval) = file.batcher.interval
    {
        args.batcher.interval = interval;
    }
    args.metrics = args.metrics.or(file.metrics.addr);
    args.quantum_file = file.quantum;
    args.intelligence_file = file.intelligence;
    for (section, table) in [("phala", &file.phala), ("worker", &file.worker)] {
        if !table.is_empty() {
            let keys: Vec<_> = table.keys().collect();
            info!(target: "aegis::node", section, ?keys, "subsystem settings loaded");
        }
    }
}

/// How long, after the node's work ends, threads still busy (an RPC handler, a build) may
/// delay the exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

fn main() -> std::process::ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("aegis")
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            let outcome = runtime.block_on(run());
            // Never wait on blocking work beyond the grace period: a node must stop on SIGTERM
            // within seconds whatever its RPC clients are doing.
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            outcome
        });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The reason on one line, never buried under a backtrace (RUST_BACKTRACE is often
            // set where nodes run under test harnesses).
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    init_tracing(cli.log_format);
    match cli.command {
        Command::Node(mut args) => {
            if let Some(path) = args.config.clone() {
                let file = config::ConfigFile::load(&path)?;
                let node_matches = matches.subcommand_matches("node").expect("node subcommand");
                apply_config(&mut args, file, node_matches);
            }
            node_command(*args).await
        }
        Command::Genesis(args) => genesis_command(args),
        Command::Db {
            command: DbCommand::Verify(args),
        } => verify_command(args),
        Command::Keys { command } => keys::keys_command(command),
        Command::Attest { command } => keys::attest_command(command),
        Command::Tx { command } => keys::tx_command(command).await,
        Command::Config {
            command: ConfigCommand::Check { config },
        } => {
            let file = config::ConfigFile::load(&config)?;
            file.validate()
                .with_context(|| format!("config file {}", config.display()))?;
            println!("{}: valid", config.display());
            Ok(())
        }
        Command::Migration { command } => migrate::migration_command(command).await,
        Command::Conductor(args) => conductor::conductor_command(*args).await,
        Command::Cluster { command } => conductor::cluster_command(command).await,
        Command::Snapshot { command } => snapshot::snapshot_command(command).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        // Catches duplicate argument ids across flattened groups, bad `requires`, and so on.
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn anchor_flags_parse_and_the_oracle_needs_the_attestation_contract() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["aegis", "node"], args].concat());
        let Command::Node(node) = parse(&[
            "--anchor.attestation",
            "0x00000000000000000000000000000000000000aa",
            "--anchor.oracle",
            "0x00000000000000000000000000000000000000bb",
            "--batcher.interval",
            "9",
            "--anchor.interval",
            "3",
        ])
        .unwrap()
        .command
        else {
            panic!("not the node command");
        };
        let config = node.anchor.config().unwrap();
        assert_eq!(config.attestation, Address::with_last_byte(0xaa));
        assert_eq!(config.oracle, Some(Address::with_last_byte(0xbb)));
        assert_eq!(config.interval, Duration::from_secs(3));
        assert_eq!(node.batcher.interval, 9);

        let error = parse(&[
            "--anchor.oracle",
            "0x00000000000000000000000000000000000000bb",
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("--anchor.attestation"), "{error}");
        let error = parse(&["--anchor.attestation", "0x12"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("0x12"), "{error}");
    }
}
