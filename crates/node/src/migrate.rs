//! `aegis migration verify`: checks a checkpoint file against a node and the contract.

use aegis_contracts::sequencer_attestation::SequencerAttestation;
use aegis_migration::{AssetSnapshot, Checkpoint, CheckpointStore};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolCall;
use anyhow::{Context, bail, ensure};
use clap::Subcommand;
use serde_json::{Value, json};
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

struct Rpc {
    client: reqwest::Client,
    url: String,
}

impl Rpc {
    async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let response: Value = self
            .client
            .post(&self.url)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .with_context(|| format!("{method} at {}", self.url))?
            .json()
            .await
            .with_context(|| format!("{method}: response is not JSON"))?;
        if let Some(error) = response.get("error") {
            bail!("{method}: {error}");
        }
        Ok(response["result"].clone())
    }

    async fn eth_call(&self, to: Address, input: Vec<u8>) -> anyhow::Result<Vec<u8>> {
        let out = self
            .call(
                "eth_call",
                json!([{"to": to, "input": alloy_primitives::Bytes::from(input)}, "latest"]),
            )
            .await?;
        let out: alloy_primitives::Bytes = serde_json::from_value(out)?;
        Ok(out.to_vec())
    }
}

pub(crate) async fn migration_command(command: MigrationCommand) -> anyhow::Result<()> {
    let MigrationCommand::Verify {
        checkpoint,
        rpc,
        attestation,
    } = command;
    let file = checkpoint;
    let checkpoint = CheckpointStore::load_file(&file)?;
    let rpc = Rpc {
        client: reqwest::Client::new(),
        url: rpc,
    };
    verify(&checkpoint, &rpc, attestation).await?;
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

async fn verify(c: &Checkpoint, rpc: &Rpc, attestation: Option<Address>) -> anyhow::Result<()> {
    c.verify_self()?;
    let chain_id: alloy_primitives::U64 =
        serde_json::from_value(rpc.call("eth_chainId", json!([])).await?)?;
    ensure!(
        chain_id.to::<u64>() == c.chain_id,
        "checkpoint {} is for chain {}, the node serves {chain_id}",
        c.id,
        c.chain_id
    );
    let number = format!("{:#x}", c.block_number);
    let block = rpc
        .call("eth_getBlockByNumber", json!([number, false]))
        .await?;
    ensure!(!block.is_null(), "the node has no block {}", c.block_number);
    let hash: B256 = serde_json::from_value(block["hash"].clone())?;
    let state_root: B256 = serde_json::from_value(block["stateRoot"].clone())?;
    if hash != c.block_hash {
        return Err(c
            .mismatch(format!(
                "block hash {} on the node, {} in the file",
                hash, c.block_hash
            ))
            .into());
    }
    if state_root != c.state_root {
        return Err(c
            .mismatch(format!(
                "state root {state_root} on the node, {} in the file",
                c.state_root
            ))
            .into());
    }
    for snapshot in &c.assets {
        let proof = rpc
            .call("eth_getProof", json!([snapshot.address, [], number]))
            .await?;
        let nonce: alloy_primitives::U64 = serde_json::from_value(proof["nonce"].clone())?;
        let on_node = AssetSnapshot {
            asset: snapshot.asset,
            address: snapshot.address,
            balance: serde_json::from_value::<U256>(proof["balance"].clone())?,
            nonce: nonce.to(),
            code_hash: serde_json::from_value(proof["codeHash"].clone())?,
            storage_root: serde_json::from_value(proof["storageHash"].clone())?,
        };
        // An absent account snapshots as all zero; the node reports the empty code and root.
        let absent = on_node.balance.is_zero()
            && on_node.nonce == 0
            && on_node.code_hash == alloy_primitives::KECCAK256_EMPTY;
        let matches = on_node == *snapshot
            || (absent
                && snapshot.code_hash.is_zero()
                && snapshot.balance.is_zero()
                && snapshot.nonce == 0);
        if !matches {
            return Err(c
                .mismatch(format!(
                    "asset {} at {}: node has {on_node:?}, file has {snapshot:?}",
                    snapshot.asset, snapshot.address
                ))
                .into());
        }
    }
    if let Some(attestation) = attestation {
        let out = rpc
            .eth_call(
                attestation,
                SequencerAttestation::checkpointCall { checkpointId: c.id }.abi_encode(),
            )
            .await?;
        let record =
            SequencerAttestation::checkpointCall::abi_decode_returns(&out).map_err(|_| {
                anyhow::anyhow!(
                    "checkpoint({}) at {attestation} does not decode (no contract?)",
                    c.id
                )
            })?;
        ensure!(
            record.sequencer != Address::ZERO,
            "checkpoint {} is not recorded at {attestation}",
            c.id
        );
        let expected = (
            c.block_number,
            c.state_root,
            c.asset_snapshot_root,
            c.mldsa_sig_hash(),
        );
        let got = (
            record.blockNumber,
            record.stateRoot,
            record.assetSnapshotRoot,
            record.mldsaSigHash,
        );
        if got != expected {
            return Err(c
                .mismatch(format!(
                    "the contract records {got:?}, the file gives {expected:?}"
                ))
                .into());
        }
        let out = rpc
            .eth_call(
                attestation,
                SequencerAttestation::sequencerCall {
                    account: record.sequencer,
                }
                .abi_encode(),
            )
            .await?;
        let sequencer = SequencerAttestation::sequencerCall::abi_decode_returns(&out)
            .map_err(|_| anyhow::anyhow!("sequencer() does not decode"))?;
        if sequencer.mldsaKeyHash != keccak256(&c.mldsa_public_key) {
            return Err(c
                .mismatch(format!(
                    "signed by ML-DSA-87 key {} (epoch {}), the sequencer registered {}",
                    keccak256(&c.mldsa_public_key),
                    c.key_epoch,
                    sequencer.mldsaKeyHash
                ))
                .into());
        }
    }
    Ok(())
}
