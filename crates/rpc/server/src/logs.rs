//! `eth_getLogs`: logs of canonical blocks matching an address/topic filter, over a bounded
//! block range, skipping blocks whose bloom rules them out.

use crate::{EthApi, PRUNED_HISTORY, RpcResult, SERVER_ERROR, block_read, error, internal};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::B256;
use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log};
use op_alloy_consensus::{OpBlock, OpReceiptEnvelope};

/// Every log of a stored block in RPC form, with block and transaction positions filled in.
pub(crate) fn block_logs(
    block_hash: B256,
    block: &OpBlock,
    receipts: &[OpReceiptEnvelope],
) -> Vec<Log> {
    let header = &block.header;
    let mut log_index = 0;
    let mut logs = Vec::new();
    for (index, (tx, receipt)) in block.body.transactions.iter().zip(receipts).enumerate() {
        let transaction_hash = tx.tx_hash();
        for inner in receipt.logs() {
            logs.push(Log {
                inner: inner.clone(),
                block_hash: Some(block_hash),
                block_number: Some(header.number),
                block_timestamp: Some(header.timestamp),
                transaction_hash: Some(transaction_hash),
                transaction_index: Some(index as u64),
                log_index: Some(log_index),
                removed: false,
            });
            log_index += 1;
        }
    }
    logs
}

impl EthApi {
    /// The logs of block `hash` that match `filter`, or `None` if the block is unknown.
    pub(crate) fn matching_logs(&self, hash: B256, filter: &Filter) -> RpcResult<Option<Vec<Log>>> {
        let Some(header) = self.executor.store().header(&hash).map_err(internal)? else {
            return Ok(None);
        };
        if !filter.matches_bloom(header.logs_bloom) {
            return Ok(Some(Vec::new()));
        }
        let (block, receipts) = self
            .executor
            .stored_block(&hash)
            .map_err(block_read)?
            .ok_or_else(|| internal("stored header without body"))?;
        let mut logs = block_logs(hash, &block, &receipts);
        logs.retain(|log| filter.matches(&log.inner));
        Ok(Some(logs))
    }

    /// `eth_getLogs`.
    pub(crate) fn get_logs(&self, filter: Filter) -> RpcResult<Vec<Log>> {
        let (from, to) = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                return self
                    .matching_logs(hash, &filter)?
                    .ok_or_else(|| error(SERVER_ERROR, "unknown block"));
            }
            FilterBlockOption::Range {
                from_block,
                to_block,
            } => (
                from_block.unwrap_or(BlockNumberOrTag::Latest),
                to_block.unwrap_or(BlockNumberOrTag::Latest),
            ),
        };
        let store = self.executor.store();
        let head = store.head().map_err(internal)?.map_or(0, |h| h.number);
        // Blocks below the floor have no receipts left (`--history.blocks`).
        let floor = store.history_floor().map_err(internal)?.unwrap_or(0);
        let number = |tag: BlockNumberOrTag| -> RpcResult<u64> {
            Ok(match tag {
                BlockNumberOrTag::Number(n) => n,
                BlockNumberOrTag::Earliest => floor,
                BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => head,
                other => {
                    let hash = self
                        .resolve(other)?
                        .ok_or_else(|| error(SERVER_ERROR, format!("{other} block not found")))?;
                    store
                        .header(&hash)
                        .map_err(internal)?
                        .map_or(0, |h| h.number)
                }
            })
        };
        let (from, to) = (number(from)?, number(to)?.min(head));
        if from > to {
            if from > head {
                return Ok(Vec::new());
            }
            return Err(error(SERVER_ERROR, "invalid block range params"));
        }
        if from < floor {
            return Err(error(PRUNED_HISTORY, "pruned history unavailable"));
        }
        let span = to - from + 1;
        if span > self.config.max_log_range {
            return Err(error(
                SERVER_ERROR,
                format!(
                    "query exceeds max block range {}",
                    self.config.max_log_range
                ),
            ));
        }
        let mut logs = Vec::new();
        for n in from..=to {
            let Some(hash) = store.canonical_hash(n).map_err(internal)? else {
                break;
            };
            logs.extend(self.matching_logs(hash, &filter)?.unwrap_or_default());
            if logs.len() > self.config.max_logs {
                return Err(error(
                    SERVER_ERROR,
                    format!("query exceeds max results {}", self.config.max_logs),
                ));
            }
        }
        Ok(logs)
    }
}
