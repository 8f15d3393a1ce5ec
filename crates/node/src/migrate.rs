//! `aegis migration verify`: the command line of `aegis_migration::verify_on_chain`.

use aegis_migration::{ChainNode, CheckpointStore, verify_on_chain};
use alloy_primitives::Address;
use clap::Subcommand;
use std::path::PathBuf;

/// `aegis migration ...`
#[derive(Subcommand, Debug)]
pub(crate) enum MigrationCommand {
    /// Verify a checkpoint file: its ML-DSA-87 signature and snapshot root, the block and
    /// every asset's account on a node (eth_getProof), and the contract's record. Exit status 0
    /// only if everything matches.
    Verify {
        /// The checkpoint file (`<datadir>/checkpoints/<id>.json`).
        #[arg(long)]
        checkpoint: PathBuf,
        /// JSON-RPC URL of a node of the chain.
        #[arg(long)]
        rpc: String,
        /// `SequencerAttestation` address: also check the on-chain record and that the signing
        /// key is the sequencer's registered ML-DSA-87 key.
        #[arg(long)]
        attestation: Option<Address>,
    },
}

pub(crate) async fn migration_command(command: MigrationCommand) -> anyhow::Result<()> {
    let MigrationCommand::Verify {
        checkpoint,
        rpc,
        attestation,
    } = command;
    let file = checkpoint;
    let checkpoint = CheckpointStore::load_file(&file)?;
    let node = ChainNode::new(&rpc)?;
    verify_on_chain(&checkpoint, &node, attestation).await?;
    println!(
        "checkpoint {} (block {}, {} assets): signature, state and {} verified",
        checkpoint.id,
        checkpoint.block_number,
        checkpoint.assets.len(),
        if attestation.is_some() {
            "on-chain record"
        } else {
            "node state"
        }
    );
    Ok(())
}
