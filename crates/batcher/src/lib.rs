//! L1 batch submission for the aegis sequencer.
//!
//! [`encode_batch`] turns a range of L2 blocks into the OP derivation format: one singular
//! batch per block (`0x00 ‖ rlp([parentHash, epochNum, epochHash, timestamp, txs])`, deposits
//! left out), a channel of those batches compressed with brotli (Fjord's `0x01` channel
//! version), cut into frames (`channelId ‖ frameNumber ‖ length ‖ data ‖ isLast`), each carried
//! by one batcher transaction (`0x00 ‖ frame`). Every batch gets a [`BatchId`] (channel id, L2
//! block range, hash of its frames): the handle later stages sign and attest.
//!
//! [`Batcher`] posts them to the batch inbox from the rollup config's batcher key, starting
//! after the rollup node's safe head, so that a node deriving from L1 alone reproduces the chain.

use aegis_executor::Executor;
use aegis_storage::BlockLabel;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use op_alloy_consensus::{OpBlock, OpTxEnvelope};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};

/// Errors of batch encoding and submission.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// A block does not start with a recognised L1-attributes deposit.
    #[error("block {0} has no L1-attributes deposit to take its epoch from")]
    NoL1Info(u64),
    /// Brotli failed.
    #[error("compression failed: {0}")]
    Compression(String),
    /// The L1 node refused or failed a request.
    #[error("L1 RPC {method}: {reason}")]
    L1 {
        /// The JSON-RPC method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// A batcher transaction was included but reverted, or never included.
    #[error("batch transaction {0} failed")]
    TxFailed(B256),
    /// The store or executor failed.
    #[error("reading L2 blocks: {0}")]
    L2(String),
}

/// Largest frame payload per L1 transaction (calldata stays under the 128 KiB tx limit).
pub const MAX_FRAME_DATA: usize = 100_000;
/// Blocks per channel at most.
pub const MAX_BLOCKS_PER_CHANNEL: u64 = 300;

/// The identity of one posted batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchId {
    /// The channel id.
    pub channel_id: [u8; 16],
    /// First L2 block number in the batch.
    pub first_block: u64,
    /// Last L2 block number in the batch.
    pub last_block: u64,
    /// keccak256 of the concatenated batcher-transaction calldata.
    pub frames_hash: B256,
}

/// A batch ready to post: its identity and one calldata blob per L1 transaction.
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    /// The batch identity.
    pub id: BatchId,
    /// Batcher-transaction calldata, in frame order.
    pub calldata: Vec<Bytes>,
}

/// The L1 origin (epoch) recorded in a block's L1-attributes deposit.
fn epoch_of(block: &OpBlock) -> Result<(u64, B256), BatcherError> {
    let number = block.header.number;
    let Some(OpTxEnvelope::Deposit(deposit)) = block.body.transactions.first() else {
        return Err(BatcherError::NoL1Info(number));
    };
    let input = &deposit.input;
    // Ecotone, Isthmus and Jovian share the layout of these fields.
    let known = [
        [0x44, 0x0a, 0x5e, 0x20],
        [0x09, 0x89, 0x99, 0xbe],
        [0x3d, 0xb6, 0xbe, 0x2b],
    ];
    if input.len() < 164 || !known.iter().any(|s| input[..4] == s[..]) {
        return Err(BatcherError::NoL1Info(number));
    }
    let epoch_num = u64::from_be_bytes(input[28..36].try_into().expect("8 bytes"));
    Ok((epoch_num, B256::from_slice(&input[100..132])))
}

/// The singular batch of `block`, version byte included.
fn singular_batch(block: &OpBlock) -> Result<Vec<u8>, BatcherError> {
    use alloy_rlp::Encodable;
    let (epoch_num, epoch_hash) = epoch_of(block)?;
    let txs: Vec<Bytes> = block
        .body
        .transactions
        .iter()
        .filter(|tx| !tx.is_deposit())
        .map(|tx| tx.encoded_2718().into())
        .collect();
    let header = &block.header;
    let payload_length = header.parent_hash.length()
        + epoch_num.length()
        + epoch_hash.length()
        + header.timestamp.length()
        + txs.length();
    let mut out = vec![0x00];
    alloy_rlp::Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    header.parent_hash.encode(&mut out);
    epoch_num.encode(&mut out);
    epoch_hash.encode(&mut out);
    header.timestamp.encode(&mut out);
    txs.encode(&mut out);
    Ok(out)
}

/// Encodes `blocks` (consecutive, oldest first) as one channel in frames of at most
/// `max_frame_data` bytes.
pub fn encode_batch(
    blocks: &[OpBlock],
    channel_id: [u8; 16],
    max_frame_data: usize,
) -> Result<EncodedBatch, BatcherError> {
    let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
        return Err(BatcherError::L2("no blocks to batch".into()));
    };
    let mut stream = Vec::new();
    for block in blocks {
        alloy_rlp::Encodable::encode(&Bytes::from(singular_batch(block)?), &mut stream);
    }
    // Fjord channel format: version byte 0x01, then a brotli stream.
    let mut compressed = vec![0x01];
    let params = brotli::enc::BrotliEncoderParams {
        quality: 10,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut stream.as_slice(), &mut compressed, &params)
        .map_err(|e| BatcherError::Compression(e.to_string()))?;
    let chunks: Vec<&[u8]> = compressed.chunks(max_frame_data.max(1)).collect();
    let calldata: Vec<Bytes> = chunks
        .iter()
        .enumerate()
        .map(|(number, data)| {
            let mut tx = Vec::with_capacity(data.len() + 24);
            tx.push(0x00); // derivation version
            tx.extend_from_slice(&channel_id);
            tx.extend_from_slice(&(number as u16).to_be_bytes());
            tx.extend_from_slice(&(data.len() as u32).to_be_bytes());
            tx.extend_from_slice(data);
            tx.push((number + 1 == chunks.len()) as u8);
            tx.into()
        })
        .collect();
    let frames_hash = keccak256(calldata.concat());
    Ok(EncodedBatch {
        id: BatchId {
            channel_id,
            first_block: first.header.number,
            last_block: last.header.number,
            frames_hash,
        },
        calldata,
    })
}

/// A minimal L1 JSON-RPC client.
#[derive(Debug, Clone)]
pub struct L1Client {
    url: String,
    http: reqwest::Client,
}

impl L1Client {
    /// A client for the node at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: &'static str, params: Value) -> Result<Value, BatcherError> {
        let fail = |reason: String| BatcherError::L1 { method, reason };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .json()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if let Some(error) = response.get("error") {
            return Err(fail(error.to_string()));
        }
        Ok(response["result"].clone())
    }

    async fn quantity(&self, method: &'static str, params: Value) -> Result<u128, BatcherError> {
        let value = self.call(method, params).await?;
        value
            .as_str()
            .and_then(|s| u128::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .ok_or(BatcherError::L1 {
                method,
                reason: format!("not a quantity: {value}"),
            })
    }

    /// Signs and sends an EIP-1559 transaction to `to` with `input`; waits for its receipt.
    pub async fn send_and_confirm(
        &self,
        signer: &PrivateKeySigner,
        chain_id: u64,
        to: Address,
        input: Bytes,
    ) -> Result<B256, BatcherError> {
        let from = signer.address();
        let nonce = self
            .quantity("eth_getTransactionCount", json!([from, "pending"]))
            .await? as u64;
        let gas_price = self.quantity("eth_gasPrice", json!([])).await?;
        let tip = 1_000_000_000u128;
        let gas_limit = self
            .quantity(
                "eth_estimateGas",
                json!([{"from": from, "to": to, "input": input}]),
            )
            .await? as u64;
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: gas_limit + gas_limit / 5,
            max_fee_per_gas: gas_price * 2 + tip,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(to),
            value: U256::ZERO,
            input,
            access_list: Default::default(),
        };
        let signature =
            signer
                .sign_hash_sync(&tx.signature_hash())
                .map_err(|e| BatcherError::L1 {
                    method: "sign",
                    reason: e.to_string(),
                })?;
        let envelope = TxEnvelope::Eip1559(tx.into_signed(signature));
        let raw = Bytes::from(envelope.encoded_2718());
        let hash = *envelope.tx_hash();
        self.call("eth_sendRawTransaction", json!([raw])).await?;
        for _ in 0..120 {
            let receipt = self
                .call("eth_getTransactionReceipt", json!([hash]))
                .await?;
            if !receipt.is_null() {
                return if receipt["status"] == "0x1" {
                    Ok(hash)
                } else {
                    Err(BatcherError::TxFailed(hash))
                };
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(BatcherError::TxFailed(hash))
    }
}

/// Where and as whom batches are posted.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// The L1 node.
    pub l1_rpc: String,
    /// The L1 chain id.
    pub l1_chain_id: u64,
    /// The rollup config's batch inbox.
    pub inbox: Address,
    /// How often to look for new L2 blocks.
    pub poll_interval: Duration,
}

/// Posts new L2 blocks from the store to L1.
pub struct Batcher {
    executor: Arc<Executor>,
    l1: L1Client,
    signer: PrivateKeySigner,
    config: BatcherConfig,
    /// Next block to post (0: start after the safe head).
    next: u64,
    /// When the last batch was posted.
    posted_at: Option<tokio::time::Instant>,
    /// Signs and attests each batch before it is posted.
    attestor: Option<Arc<aegis_attest::BatchAttestor>>,
}

/// A posted batch that has not made the safe head move by then is posted again.
const RESUBMIT_AFTER: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Batcher")
            .field("batcher", &self.signer.address())
            .finish_non_exhaustive()
    }
}

impl Batcher {
    /// A batcher posting with `signer` per `config`.
    pub fn new(executor: Arc<Executor>, signer: PrivateKeySigner, config: BatcherConfig) -> Self {
        Self {
            executor,
            l1: L1Client::new(config.l1_rpc.clone()),
            signer,
            config,
            next: 0,
            posted_at: None,
            attestor: None,
        }
    }

    /// Signs and attests every batch with `attestor` before posting it.
    pub fn with_attestor(mut self, attestor: Arc<aegis_attest::BatchAttestor>) -> Self {
        self.attestor = Some(attestor);
        self
    }

    fn number_of(&self, hash: Option<B256>) -> Result<u64, BatcherError> {
        let Some(hash) = hash else { return Ok(0) };
        let header = self
            .executor
            .store()
            .header(&hash)
            .map_err(|e| BatcherError::L2(e.to_string()))?;
        Ok(header.map_or(0, |h| h.number))
    }

    /// Posts the blocks after the safe head (and after what was already posted) that exist now.
    /// Returns the batch posted, if any.
    pub async fn post_pending(&mut self) -> Result<Option<BatchId>, BatcherError> {
        let store = self.executor.store();
        let l2 = |e: aegis_storage::StorageError| BatcherError::L2(e.to_string());
        let safe = self.number_of(store.label(BlockLabel::Safe).map_err(l2)?)?;
        let head = self.number_of(store.head_hash().map_err(l2)?)?;
        if safe + 1 < self.next && self.posted_at.is_some_and(|t| t.elapsed() > RESUBMIT_AFTER) {
            tracing::warn!(target: "aegis::batcher", safe, next = self.next, "safe head stalled; reposting");
            self.next = 0;
        }
        let from = self.next.max(safe + 1);
        if head < from {
            return Ok(None);
        }
        let to = head.min(from + MAX_BLOCKS_PER_CHANNEL - 1);
        let mut blocks = Vec::with_capacity((to - from + 1) as usize);
        let mut hashes = Vec::with_capacity(blocks.capacity());
        for number in from..=to {
            let hash = store
                .canonical_hash(number)
                .map_err(l2)?
                .ok_or_else(|| BatcherError::L2(format!("no canonical block {number}")))?;
            let (block, _) = self
                .executor
                .stored_block(&hash)
                .map_err(|e| BatcherError::L2(e.to_string()))?
                .ok_or_else(|| BatcherError::L2(format!("block {hash} missing")))?;
            blocks.push(block);
            hashes.push(hash);
        }
        let batch = encode_batch(&blocks, rand::random(), MAX_FRAME_DATA)?;
        if let Some(attestor) = &self.attestor {
            // An attestation failure must not stop the chain from reaching L1: it is logged
            // and counted, and the batch goes out unattested.
            let input = aegis_attest::BatchInput {
                first_block: from,
                last_block: to,
                block_hashes: hashes,
                frames_hash: batch.id.frames_hash,
            };
            if let Err(error) = attestor.attest(input).await {
                metrics::counter!("aegis_batch_attestation_failures_total").increment(1);
                tracing::error!(target: "aegis::batcher", %error, first = from, last = to, "batch attestation failed");
            }
        }
        for calldata in &batch.calldata {
            self.l1
                .send_and_confirm(
                    &self.signer,
                    self.config.l1_chain_id,
                    self.config.inbox,
                    calldata.clone(),
                )
                .await?;
        }
        tracing::info!(
            target: "aegis::batcher",
            first = batch.id.first_block,
            last = batch.id.last_block,
            frames = batch.calldata.len(),
            frames_hash = %batch.id.frames_hash,
            "posted batch"
        );
        self.next = to + 1;
        self.posted_at = Some(tokio::time::Instant::now());
        Ok(Some(batch.id))
    }

    /// Posts batches until `shutdown` resolves. A failed post is retried from the safe head.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(error) = self.post_pending().await {
                tracing::warn!(target: "aegis::batcher", %error, "batch submission failed; retrying from the safe head");
                self.next = 0;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = &mut shutdown => return,
            }
        }
    }
}
