//! `aegis`: the QuantumAegis OP Stack execution engine and sequencer.

use aegis_chainspec::{
    ChainSpec, DevnetGenesisOptions, L1GenesisRef, OpFork, RollupOptions, devnet_genesis,
    rollup_config,
};
use aegis_executor::{
    BuildAttributes, Executor,
    l1info::{L1Info, L1InfoFormat},
};
use aegis_storage::Store;
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B64, B256, U256, keccak256};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use op_alloy_consensus::OpTxEnvelope;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::{info, warn};

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
    Node(NodeArgs),
    /// Write a devnet L2 genesis.json (OP predeploys, funded dev accounts) and its rollup.json.
    Genesis(GenesisArgs),
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
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
    /// op-geth style genesis.json; without it a devnet genesis is generated in the datadir.
    #[arg(long, env = "AEGIS_GENESIS")]
    genesis: Option<PathBuf>,
    /// Dev mode: seal a block every N seconds without a rollup node (synthetic L1 origin).
    #[arg(long = "dev.period", env = "AEGIS_DEV_PERIOD", default_value_t = 2)]
    dev_period: u64,
    /// Stop after this many dev blocks (0: run until interrupted).
    #[arg(long = "dev.blocks", env = "AEGIS_DEV_BLOCKS", default_value_t = 0)]
    dev_blocks: u64,
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
    /// Jovian activation, seconds after genesis ("none" to leave it unscheduled).
    #[arg(long, default_value = "8", value_parser = parse_offset)]
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
fn load_spec(genesis: Option<&Path>, datadir: &Path) -> anyhow::Result<ChainSpec> {
    if let Some(path) = genesis {
        return Ok(ChainSpec::from_genesis_file(path)?);
    }
    let path = datadir.join("genesis.json");
    if path.exists() {
        return Ok(ChainSpec::from_genesis_file(&path)?);
    }
    let options = DevnetGenesisOptions {
        timestamp: now(),
        ..Default::default()
    };
    let genesis = devnet_genesis(&options)?;
    std::fs::create_dir_all(datadir).with_context(|| format!("creating {}", datadir.display()))?;
    write_json(&path, &genesis)?;
    info!(target: "aegis::node", path = %path.display(), "generated devnet genesis");
    Ok(ChainSpec::from_genesis(genesis)?)
}

fn open(datadir: &Path) -> anyhow::Result<Arc<Store>> {
    Ok(Arc::new(Store::open(datadir.join("chain.redb"))?))
}

/// Attributes for the next dev block: a synthetic L1 origin, no pool (no RPC yet).
fn dev_attributes(
    spec: &ChainSpec,
    parent: &alloy_consensus::Header,
    seq: u64,
    period: u64,
) -> anyhow::Result<BuildAttributes> {
    let timestamp = now().max(parent.timestamp + period);
    let Some(format) = L1InfoFormat::for_block(spec, parent.timestamp, timestamp) else {
        bail!("dev mode needs Ecotone active from genesis");
    };
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
    let deposit = OpTxEnvelope::Deposit(alloy_consensus::Sealed::new(info.deposit(format)));
    let forks = &spec.forks;
    Ok(BuildAttributes {
        timestamp,
        prev_randao: keccak256(timestamp.to_be_bytes()),
        fee_recipient: Address::ZERO,
        parent_beacon_block_root: forks
            .is_active(OpFork::Ecotone, timestamp)
            .then_some(B256::ZERO),
        gas_limit: parent.gas_limit,
        transactions: vec![deposit.encoded_2718().into()],
        no_tx_pool: true,
        eip1559_params: forks
            .is_active(OpFork::Holocene, timestamp)
            .then_some(B64::ZERO),
        min_base_fee: forks.is_active(OpFork::Jovian, timestamp).then_some(0),
    })
}

async fn node_command(args: NodeArgs) -> anyhow::Result<()> {
    let datadir = &args.datadir.datadir;
    let spec = Arc::new(load_spec(args.genesis.as_deref(), datadir)?);
    let store = open(datadir)?;
    let executor = Executor::new(spec.clone(), store.clone())?;
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
    let period = args.dev_period.max(1);
    let mut sealed = 0u64;
    loop {
        let parent = store.head()?.context("head vanished")?;
        let parent_hash = parent.hash_slow();
        let attrs = dev_attributes(&spec, &parent, sealed, period)?;
        let wait = attrs.timestamp.saturating_sub(now());
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
            _ = tokio::signal::ctrl_c() => { info!(target: "aegis::node", "interrupted"); return Ok(()); }
        }
        let block = executor.build(parent_hash, &attrs, None)?;
        executor.commit(&block, true)?;
        let header = &block.block.header;
        info!(
            target: "aegis::node",
            number = header.number,
            hash = %block.hash,
            txs = block.block.body.transactions.len(),
            gas_used = header.gas_used,
            base_fee = header.base_fee_per_gas.unwrap_or_default(),
            state_root = %header.state_root,
            "sealed block"
        );
        if block.receipts.iter().any(|r| !r.status()) {
            warn!(target: "aegis::node", number = header.number, "a forced transaction reverted");
        }
        sealed += 1;
        if args.dev_blocks != 0 && sealed >= args.dev_blocks {
            return Ok(());
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match cli.command {
        Command::Node(args) => node_command(args).await,
        Command::Genesis(args) => genesis_command(args),
        Command::Db {
            command: DbCommand::Verify(args),
        } => verify_command(args),
    }
}
