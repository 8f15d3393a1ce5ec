//! Checking a checkpoint file against a node of its chain and, optionally, the contract's record
//! (what `aegis migration verify` runs, and anyone can run without trusting the sequencer).

use crate::{AssetSnapshot, Checkpoint, MigrationError};
use aegis_bindings::sequencer_attestation::SequencerAttestation;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U64, U256, keccak256};
use alloy_sol_types::SolCall;
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::json;

/// A node of the checkpoint's chain, over JSON-RPC.
#[derive(Debug)]
pub struct ChainNode {
    client: HttpClient,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockHead {
    hash: B256,
    state_root: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountProof {
    balance: U256,
    nonce: U64,
    code_hash: B256,
    storage_hash: B256,
}

fn rpc_error(method: &'static str, reason: impl std::fmt::Display) -> MigrationError {
    MigrationError::Rpc {
        method,
        reason: reason.to_string(),
    }
}

impl ChainNode {
    /// A client for the node at `url`.
    pub fn new(url: &str) -> Result<Self, MigrationError> {
        let client = HttpClientBuilder::default()
            .build(url)
            .map_err(|e| rpc_error("connect", e))?;
        Ok(Self { client })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: ArrayParams,
    ) -> Result<T, MigrationError> {
        self.client
            .request(method, params)
            .await
            .map_err(|e| rpc_error(method, e))
    }

    async fn eth_call(&self, to: Address, input: Vec<u8>) -> Result<Bytes, MigrationError> {
        let call = json!({"to": to, "input": Bytes::from(input)});
        self.call("eth_call", rpc_params![call, "latest"]).await
    }
}

/// Verifies `c`: its own signature and snapshot root, its block and every asset's account on
/// `node` (`eth_getProof`), and with `attestation` the contract's record of it and that its
/// ML-DSA-87 key is the sequencer's registered one.
pub async fn verify_on_chain(
    c: &Checkpoint,
    node: &ChainNode,
    attestation: Option<Address>,
) -> Result<(), MigrationError> {
    verify_self_on(c, node).await?;
    let number = format!("{:#x}", c.block_number);
    let block: Option<BlockHead> = node
        .call("eth_getBlockByNumber", rpc_params![number.clone(), false])
        .await?;
    let block =
        block.ok_or_else(|| c.mismatch(format!("the node has no block {}", c.block_number)))?;
    if block.hash != c.block_hash {
        return Err(c.mismatch(format!(
            "block hash {} on the node, {} in the file",
            block.hash, c.block_hash
        )));
    }
    if block.state_root != c.state_root {
        return Err(c.mismatch(format!(
            "state root {} on the node, {} in the file",
            block.state_root, c.state_root
        )));
    }
    for snapshot in &c.assets {
        let no_slots: [B256; 0] = [];
        let proof: AccountProof = node
            .call(
                "eth_getProof",
                rpc_params![snapshot.address, no_slots, number.clone()],
            )
            .await?;
        let on_node = AssetSnapshot {
            asset: snapshot.asset,
            address: snapshot.address,
            balance: proof.balance,
            nonce: proof.nonce.to(),
            code_hash: proof.code_hash,
            storage_root: proof.storage_hash,
        };
        // An absent account snapshots as all zero; the node reports the empty code and root.
        let absent =
            on_node.balance.is_zero() && on_node.nonce == 0 && on_node.code_hash == KECCAK256_EMPTY;
        let matches = on_node == *snapshot
            || (absent
                && snapshot.code_hash.is_zero()
                && snapshot.balance.is_zero()
                && snapshot.nonce == 0);
        if !matches {
            return Err(c.mismatch(format!(
                "asset {} at {}: node has {on_node:?}, file has {snapshot:?}",
                snapshot.asset, snapshot.address
            )));
        }
    }
    if let Some(attestation) = attestation {
        verify_record(c, node, attestation).await?;
    }
    Ok(())
}

/// Verifies that `c` is signed (ML-DSA-87) by the registered key of `signer`, an active
/// sequencer of the `SequencerAttestation` at `attestation` on `node`, for `node`'s chain. Unlike
/// [`verify_on_chain`] it needs no on-chain record of `c` and no state of `c`'s block on `node`:
/// what a worker joining from a snapshot can check before it has any state.
pub async fn verify_signer(
    c: &Checkpoint,
    node: &ChainNode,
    attestation: Address,
    signer: Address,
) -> Result<(), MigrationError> {
    verify_self_on(c, node).await?;
    let call = |input: Vec<u8>| node.eth_call(attestation, input);
    let out =
        call(SequencerAttestation::isActiveSequencerCall { account: signer }.abi_encode()).await?;
    let active =
        SequencerAttestation::isActiveSequencerCall::abi_decode_returns(&out).map_err(|_| {
            c.mismatch(format!(
                "isActiveSequencer() at {attestation} does not decode"
            ))
        })?;
    if !active {
        return Err(c.mismatch(format!(
            "{signer} is not an active sequencer at {attestation}"
        )));
    }
    check_registered_key(c, node, attestation, signer).await
}

async fn verify_record(
    c: &Checkpoint,
    node: &ChainNode,
    attestation: Address,
) -> Result<(), MigrationError> {
    let out = node
        .eth_call(
            attestation,
            SequencerAttestation::checkpointCall { checkpointId: c.id }.abi_encode(),
        )
        .await?;
    let record = SequencerAttestation::checkpointCall::abi_decode_returns(&out).map_err(|_| {
        c.mismatch(format!(
            "checkpoint({}) at {attestation} does not decode (no contract?)",
            c.id
        ))
    })?;
    if record.sequencer == Address::ZERO {
        return Err(c.mismatch(format!("not recorded at {attestation}")));
    }
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
        return Err(c.mismatch(format!(
            "the contract records {got:?}, the file gives {expected:?}"
        )));
    }
    check_registered_key(c, node, attestation, record.sequencer).await
}

/// `c`'s own signature and snapshot root, and that `node` serves `c`'s chain.
async fn verify_self_on(c: &Checkpoint, node: &ChainNode) -> Result<(), MigrationError> {
    c.verify_self()?;
    let chain_id: U64 = node.call("eth_chainId", rpc_params![]).await?;
    if chain_id.to::<u64>() != c.chain_id {
        return Err(c.mismatch(format!(
            "the checkpoint is for chain {}, the node serves {chain_id}",
            c.chain_id
        )));
    }
    Ok(())
}

/// `c` is signed by the ML-DSA-87 key `account` has registered at `attestation`.
async fn check_registered_key(
    c: &Checkpoint,
    node: &ChainNode,
    attestation: Address,
    account: Address,
) -> Result<(), MigrationError> {
    let out = node
        .eth_call(
            attestation,
            SequencerAttestation::sequencerCall { account }.abi_encode(),
        )
        .await?;
    let sequencer = SequencerAttestation::sequencerCall::abi_decode_returns(&out)
        .map_err(|_| c.mismatch("sequencer() does not decode"))?;
    if sequencer.mldsaKeyHash != keccak256(&c.mldsa_public_key) {
        return Err(c.mismatch(format!(
            "signed by ML-DSA-87 key {} (epoch {}), {account} registered {}",
            keccak256(&c.mldsa_public_key),
            c.key_epoch,
            sequencer.mldsaKeyHash
        )));
    }
    Ok(())
}
