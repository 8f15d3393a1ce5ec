//! Snapshot wiring: `aegis snapshot export|import`, the node's `--sync.*` start from a snapshot
//! and its `--checkpoint.*` periodic snapshots.

use aegis_migration::{ChainNode, SignedCheckpoint, verify_signer};
use aegis_snapshot::{SnapshotDir, SnapshotSource, Trusted};
use aegis_storage::Store;
use alloy_primitives::{Address, B256};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use tracing::info;

/// Where the store of a datadir lives.
pub(crate) fn store_path(datadir: &Path) -> PathBuf {
    datadir.join("chain.redb")
}

/// The node's snapshot directory.
pub(crate) fn snapshot_dir(datadir: &Path) -> SnapshotDir {
    SnapshotDir::new(datadir.join("snapshots"))
}

/// How a node trusts a snapshot's block.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct TrustArgs {
    /// Trust this block hash (from a header the operator checked).
    #[arg(
        id = "sync_trusted_block",
        long = "sync.trusted-block",
        conflicts_with = "sync_attestation"
    )]
    pub(crate) trusted_block: Option<B256>,
    /// A state checkpoint file (`<number>.json` beside a snapshot) whose ML-DSA-87 signature and
    /// signer are checked (with --sync.attestation); fetched from the peer with a URL source.
    #[arg(id = "sync_checkpoint", long = "sync.checkpoint")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// `SequencerAttestation` address: the checkpoint's signer must be an active sequencer there
    /// and its key the registered ML-DSA-87 key.
    #[arg(
        id = "sync_attestation",
        long = "sync.attestation",
        requires = "sync_l2_rpc"
    )]
    pub(crate) attestation: Option<Address>,
    /// JSON-RPC URL of a node of the chain where `SequencerAttestation` is read.
    #[arg(
        id = "sync_l2_rpc",
        long = "sync.l2-rpc",
        requires = "sync_attestation"
    )]
    pub(crate) l2_rpc: Option<String>,
}

/// `aegis node --sync.*`.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct SyncArgs {
    /// Start an empty datadir from this snapshot: a file, or a peer's operations endpoint
    /// (`http://host:port`, its --metrics address) serving its newest one. Ignored when the
    /// datadir already holds a chain.
    #[arg(
        id = "sync_snapshot",
        long = "sync.snapshot",
        env = "AEGIS_SYNC_SNAPSHOT"
    )]
    pub(crate) source: Option<String>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

/// `aegis node --checkpoint.*`.
#[derive(Args, Debug, Clone)]
pub(crate) struct CheckpointArgs {
    /// With sequencer keys: every N blocks, a signed state checkpoint of the head and its
    /// snapshot in <datadir>/snapshots, served on the --metrics address (0: never).
    #[arg(
        id = "checkpoint_interval",
        long = "checkpoint.interval",
        default_value_t = 1_000
    )]
    pub(crate) interval: u64,
    /// Snapshots kept.
    #[arg(id = "checkpoint_keep", long = "checkpoint.keep", default_value_t = 2)]
    pub(crate) keep: usize,
}

/// `aegis snapshot ...`
#[derive(Subcommand, Debug)]
pub(crate) enum SnapshotCommand {
    /// Write the head state of a stopped node's datadir to a snapshot file.
    Export {
        /// Data directory.
        #[arg(long, env = "AEGIS_DATADIR", default_value = ".aegis")]
        datadir: PathBuf,
        /// The chain's genesis.json (default: <datadir>/genesis.json).
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// The snapshot file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Build an empty datadir's store from a snapshot, verified against a trusted block.
    Import {
        /// Data directory (must not hold a chain).
        #[arg(long, env = "AEGIS_DATADIR", default_value = ".aegis")]
        datadir: PathBuf,
        /// The chain's genesis.json (default: <datadir>/genesis.json).
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// A snapshot file, or a peer's operations endpoint (`http://host:port`).
        #[arg(long)]
        from: String,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

pub(crate) async fn snapshot_command(command: SnapshotCommand) -> anyhow::Result<()> {
    match command {
        SnapshotCommand::Export {
            datadir,
            genesis,
            out,
        } => {
            let spec = crate::load_existing_spec(genesis.as_deref(), &datadir)?;
            let path = store_path(&datadir);
            if !path.exists() {
                bail!("{} does not exist: nothing to export", path.display());
            }
            let store = Store::open(&path).with_context(|| {
                format!("{} (a running node holds it: stop it, or use its --checkpoint.interval snapshots)", path.display())
            })?;
            let started = std::time::Instant::now();
            let summary = tokio::task::spawn_blocking(move || {
                aegis_snapshot::export_to_file(&store.head_reader()?, spec.chain_id, &out)
            })
            .await??;
            println!(
                "block {} ({}) state root {}: {} accounts, {} slots, {} codes, {} trie nodes, {} blocks, {} bytes in {:.1}s",
                summary.header.block_number,
                summary.header.block_hash,
                summary.header.state_root,
                summary.totals.accounts,
                summary.totals.slots,
                summary.totals.codes,
                summary.totals.trie_nodes,
                summary.totals.blocks,
                summary.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        SnapshotCommand::Import {
            datadir,
            genesis,
            from,
            trust,
        } => {
            let spec = crate::load_existing_spec(genesis.as_deref(), &datadir)?;
            let started = std::time::Instant::now();
            let summary = sync_from_snapshot(&datadir, spec.chain_id, &from, &trust).await?;
            println!(
                "imported block {} ({}) state root {}: {} accounts, {} slots, {} blocks, {} bytes in {:.1}s",
                summary.header.block_number,
                summary.header.block_hash,
                summary.header.state_root,
                summary.totals.accounts,
                summary.totals.slots,
                summary.totals.blocks,
                summary.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// Reads a state checkpoint record and checks its signature and signer.
async fn trusted_from_record(
    record: &[u8],
    what: &str,
    chain_id: u64,
    trust: &TrustArgs,
) -> anyhow::Result<Trusted> {
    let signed: SignedCheckpoint = serde_json::from_slice(record)
        .with_context(|| format!("{what}: not a state checkpoint"))?;
    let checkpoint = &signed.checkpoint;
    if checkpoint.chain_id != chain_id {
        bail!(
            "{what}: checkpoint of chain {}, expected {chain_id}",
            checkpoint.chain_id
        );
    }
    let (Some(attestation), Some(rpc)) = (trust.attestation, trust.l2_rpc.as_deref()) else {
        bail!("{what}: a checkpoint is trusted only through --sync.attestation and --sync.l2-rpc");
    };
    let node = ChainNode::new(rpc)?;
    verify_signer(checkpoint, &node, attestation, signed.signer)
        .await
        .with_context(|| format!("{what}: checkpoint of block {}", checkpoint.block_number))?;
    info!(target: "aegis::snapshot", block = checkpoint.block_number, hash = %checkpoint.block_hash, signer = %signed.signer, "checkpoint signature and signer verified");
    Ok(Trusted {
        block_hash: checkpoint.block_hash,
        state_root: Some(checkpoint.state_root),
    })
}

/// Builds `datadir`'s store from `source` (a file or a peer's endpoint), unless it has one.
pub(crate) async fn sync_from_snapshot(
    datadir: &Path,
    chain_id: u64,
    source: &str,
    trust: &TrustArgs,
) -> anyhow::Result<aegis_snapshot::ImportSummary> {
    let target = store_path(datadir);
    if target.exists() {
        bail!(
            "{} already holds a chain: import into an empty datadir",
            datadir.display()
        );
    }
    std::fs::create_dir_all(datadir).with_context(|| format!("creating {}", datadir.display()))?;
    let started = std::time::Instant::now();
    let summary = if source.starts_with("http://") || source.starts_with("https://") {
        // The blocking HTTP client lives and dies on blocking threads only.
        let url = source.to_string();
        let record =
            tokio::task::spawn_blocking(move || SnapshotSource::new(&url)?.latest_record())
                .await??;
        let trusted = match trust.trusted_block {
            Some(hash) => Trusted::block(hash),
            None => trusted_from_record(&record, source, chain_id, trust).await?,
        };
        let signed: SignedCheckpoint = serde_json::from_slice(&record)
            .with_context(|| format!("{source}: not a state checkpoint"))?;
        let number = signed.checkpoint.block_number;
        info!(target: "aegis::snapshot", source, block = number, "downloading the snapshot");
        let url = source.to_string();
        tokio::task::spawn_blocking(move || {
            let peer = SnapshotSource::new(&url)?;
            aegis_snapshot::import(peer.snapshot(number)?, &target, chain_id, trusted)
        })
        .await??
    } else {
        let file = PathBuf::from(source);
        let trusted = match (trust.trusted_block, &trust.checkpoint) {
            (Some(hash), _) => Trusted::block(hash),
            (None, Some(path)) => {
                let record = std::fs::read(path).with_context(|| path.display().to_string())?;
                trusted_from_record(&record, &path.display().to_string(), chain_id, trust).await?
            }
            (None, None) => bail!(
                "a snapshot file needs --sync.trusted-block, or --sync.checkpoint with --sync.attestation and --sync.l2-rpc"
            ),
        };
        tokio::task::spawn_blocking(move || {
            aegis_snapshot::import_file(&file, &target, chain_id, trusted)
        })
        .await??
    };
    info!(
        target: "aegis::snapshot",
        block = summary.header.block_number,
        hash = %summary.header.block_hash,
        accounts = summary.totals.accounts,
        bytes = summary.bytes,
        took_ms = started.elapsed().as_millis() as u64,
        "state imported from the snapshot and verified"
    );
    Ok(summary)
}
