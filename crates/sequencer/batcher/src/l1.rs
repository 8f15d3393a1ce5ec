//! The batcher's view of L1: a typed JSON-RPC client that checks what it is told.
//!
//! Every answer is decoded into the fields the batcher uses and checked against what it asked
//! (a receipt must be for the transaction asked about, a block for the number asked about); an
//! answer that fails is an error the caller retries, never a value it acts on.

use crate::BatcherError;
use alloy_primitives::{Address, B256, Bytes, U64, U128};
use jsonrpsee::{
    core::{ClientError, client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use std::time::Duration;

/// How long one L1 request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An L1 block as the batcher needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L1Block {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// Its base fee (0 before London).
    pub base_fee: u128,
}

/// Where a transaction was included, per its receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inclusion {
    /// The transaction.
    pub tx_hash: B256,
    /// The including block's number.
    pub block_number: u64,
    /// The including block's hash.
    pub block_hash: B256,
    /// Whether it succeeded.
    pub success: bool,
    /// Gas it used.
    pub gas_used: u64,
    /// Wei per gas it paid.
    pub effective_gas_price: u128,
}

/// What `eth_sendRawTransaction` said, in the terms the batcher acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted (or already in the pool).
    Accepted,
    /// The sender's nonce is past this transaction's: another transaction took the nonce.
    NonceTooLow,
    /// A transaction with this nonce is pending and pays as much or more.
    Underpriced,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RpcBlock {
    number: U64,
    hash: B256,
    base_fee_per_gas: Option<U128>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RpcReceipt {
    transaction_hash: B256,
    block_hash: B256,
    block_number: U64,
    status: Option<U64>,
    gas_used: U64,
    effective_gas_price: Option<U128>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RpcTransaction {
    hash: B256,
}

/// A JSON-RPC client for the L1 node.
#[derive(Clone, Debug)]
pub struct L1Client {
    url: String,
    client: HttpClient,
}

fn l1_error(method: &'static str, error: impl std::fmt::Display) -> BatcherError {
    BatcherError::L1 {
        method,
        reason: error.to_string(),
    }
}

impl L1Client {
    /// A client for the node at `url`.
    pub fn new(url: &str) -> Result<Self, BatcherError> {
        let client = HttpClientBuilder::default()
            .request_timeout(REQUEST_TIMEOUT)
            .build(url)
            .map_err(|e| l1_error("connect", e))?;
        Ok(Self {
            url: url.to_owned(),
            client,
        })
    }

    /// The URL it talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: ArrayParams,
    ) -> Result<T, BatcherError> {
        self.client
            .request(method, params)
            .await
            .map_err(|e| l1_error(method, e))
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, BatcherError> {
        let id: U64 = self.request("eth_chainId", rpc_params![]).await?;
        Ok(id.to())
    }

    /// The block at `tag` ("latest", or a number), `None` when the node has none there.
    pub async fn block(&self, tag: BlockTag) -> Result<Option<L1Block>, BatcherError> {
        let answer: Value = self
            .request("eth_getBlockByNumber", rpc_params![tag.param(), false])
            .await?;
        parse_block(tag, answer)
    }

    /// The head block.
    pub async fn head(&self) -> Result<L1Block, BatcherError> {
        self.block(BlockTag::Latest)
            .await?
            .ok_or_else(|| l1_error("eth_getBlockByNumber", "no latest block"))
    }

    /// The receipt of `hash`, `None` while it has none. A receipt for another transaction is
    /// an error.
    pub async fn receipt(&self, hash: B256) -> Result<Option<Inclusion>, BatcherError> {
        let answer: Value = self
            .request("eth_getTransactionReceipt", rpc_params![hash])
            .await?;
        parse_receipt(hash, answer)
    }

    /// Whether the node knows `hash` at all (pending or included).
    pub async fn knows(&self, hash: B256) -> Result<bool, BatcherError> {
        let tx: Option<RpcTransaction> = self
            .request("eth_getTransactionByHash", rpc_params![hash])
            .await?;
        match tx {
            Some(tx) if tx.hash != hash => Err(l1_error(
                "eth_getTransactionByHash",
                format!("asked for {hash}, got {}", tx.hash),
            )),
            known => Ok(known.is_some()),
        }
    }

    /// The account's nonce at `tag` ("latest" or "pending").
    pub async fn nonce(&self, account: Address, tag: &'static str) -> Result<u64, BatcherError> {
        let nonce: U64 = self
            .request("eth_getTransactionCount", rpc_params![account, tag])
            .await?;
        Ok(nonce.to())
    }

    /// The priority fee the node suggests.
    pub async fn priority_fee(&self) -> Result<u128, BatcherError> {
        let fee: U128 = self
            .request("eth_maxPriorityFeePerGas", rpc_params![])
            .await?;
        Ok(fee.to())
    }

    /// Gas for a call from `from` to `to` with `input`.
    pub async fn estimate_gas(
        &self,
        from: Address,
        to: Address,
        input: &Bytes,
    ) -> Result<u64, BatcherError> {
        let call = serde_json::json!({"from": from, "to": to, "input": input});
        let gas: U64 = self.request("eth_estimateGas", rpc_params![call]).await?;
        Ok(gas.to())
    }

    /// Broadcasts a signed transaction. The node's refusals the batcher can act on are
    /// outcomes; anything else is an error.
    pub async fn send_raw(&self, raw: &Bytes, hash: B256) -> Result<SendOutcome, BatcherError> {
        match self
            .client
            .request::<B256, _>("eth_sendRawTransaction", rpc_params![raw])
            .await
        {
            Ok(returned) if returned == hash => Ok(SendOutcome::Accepted),
            Ok(returned) => Err(l1_error(
                "eth_sendRawTransaction",
                format!("sent {hash}, the node answered {returned}"),
            )),
            Err(ClientError::Call(error)) => {
                let message = error.message().to_ascii_lowercase();
                if message.contains("already known") || message.contains("already imported") {
                    Ok(SendOutcome::Accepted)
                } else if message.contains("nonce too low") {
                    Ok(SendOutcome::NonceTooLow)
                } else if message.contains("underpriced") {
                    Ok(SendOutcome::Underpriced)
                } else {
                    Err(l1_error("eth_sendRawTransaction", error.message()))
                }
            }
            Err(error) => Err(l1_error("eth_sendRawTransaction", error)),
        }
    }
}

fn decode<T: DeserializeOwned>(method: &'static str, answer: Value) -> Result<T, BatcherError> {
    serde_json::from_value(answer).map_err(|e| l1_error(method, format!("malformed answer: {e}")))
}

/// Checks and reads an `eth_getBlockByNumber` answer for `tag`.
pub fn parse_block(tag: BlockTag, answer: Value) -> Result<Option<L1Block>, BatcherError> {
    let block: Option<RpcBlock> = decode("eth_getBlockByNumber", answer)?;
    let Some(block) = block else { return Ok(None) };
    let number = block.number.to::<u64>();
    if let BlockTag::Number(asked) = tag
        && asked != number
    {
        return Err(l1_error(
            "eth_getBlockByNumber",
            format!("asked for block {asked}, got block {number}"),
        ));
    }
    Ok(Some(L1Block {
        number,
        hash: block.hash,
        base_fee: block.base_fee_per_gas.map_or(0, |f| f.to()),
    }))
}

/// Checks and reads an `eth_getTransactionReceipt` answer for `hash`.
pub fn parse_receipt(hash: B256, answer: Value) -> Result<Option<Inclusion>, BatcherError> {
    let receipt: Option<RpcReceipt> = decode("eth_getTransactionReceipt", answer)?;
    let Some(receipt) = receipt else {
        return Ok(None);
    };
    if receipt.transaction_hash != hash {
        return Err(l1_error(
            "eth_getTransactionReceipt",
            format!(
                "asked for {hash}, got a receipt for {}",
                receipt.transaction_hash
            ),
        ));
    }
    Ok(Some(Inclusion {
        tx_hash: hash,
        block_number: receipt.block_number.to(),
        block_hash: receipt.block_hash,
        success: receipt.status.is_some_and(|s| s == U64::from(1)),
        gas_used: receipt.gas_used.to(),
        effective_gas_price: receipt.effective_gas_price.map_or(0, |p| p.to()),
    }))
}

/// A block selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockTag {
    /// The head.
    Latest,
    /// A number.
    Number(u64),
}

impl BlockTag {
    fn param(self) -> String {
        match self {
            Self::Latest => "latest".into(),
            Self::Number(n) => format!("{n:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn receipt(hash: B256) -> Value {
        json!({"transactionHash": hash, "blockHash": B256::repeat_byte(2), "blockNumber": "0x7",
               "status": "0x1", "gasUsed": "0x5208", "effectiveGasPrice": "0x3b9aca00"})
    }

    #[test]
    fn a_receipt_is_read_when_it_is_for_the_transaction_asked_about() {
        let hash = B256::repeat_byte(1);
        let inclusion = parse_receipt(hash, receipt(hash)).unwrap().unwrap();
        assert_eq!((inclusion.block_number, inclusion.gas_used), (7, 21_000));
        assert!(inclusion.success);
        assert_eq!(parse_receipt(hash, Value::Null).unwrap(), None);
        let error = parse_receipt(B256::repeat_byte(9), receipt(hash)).unwrap_err();
        assert!(error.to_string().contains("got a receipt for"), "{error}");
    }

    #[test]
    fn a_block_other_than_the_one_asked_for_is_refused() {
        let block = json!({"number": "0x5", "hash": B256::repeat_byte(3), "baseFeePerGas": "0x7"});
        assert_eq!(
            parse_block(BlockTag::Number(5), block.clone())
                .unwrap()
                .unwrap()
                .base_fee,
            7
        );
        assert!(parse_block(BlockTag::Number(6), block).is_err());
        assert!(parse_block(BlockTag::Latest, json!("banana")).is_err());
        assert!(parse_block(BlockTag::Latest, json!({"number": "0x5"})).is_err());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<u64>().prop_map(|n| Value::from(format!("{n:#x}"))),
            "[0-9a-fx]{0,70}".prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 8, |inner| {
            let keys = prop_oneof![
                Just("number".to_owned()),
                Just("hash".to_owned()),
                Just("transactionHash".to_owned()),
                Just("blockHash".to_owned()),
                Just("blockNumber".to_owned()),
                Just("gasUsed".to_owned()),
                Just("status".to_owned()),
                "[a-z]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(keys, inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever an L1 node answers, reading it is an answer or an error, never a panic.
        #[test]
        fn any_answer_is_read_or_refused(answer in json_value(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_receipt(B256::ZERO, answer.clone());
            let _ = parse_block(BlockTag::Number(1), answer);
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                let _ = parse_receipt(B256::ZERO, value.clone());
                let _ = parse_block(BlockTag::Latest, value);
            }
        }
    }
}
