//! Conversions between stored blocks and their JSON-RPC shapes.

use crate::errors::block_read;
use aegis_storage::AccountProof;
use alloy_consensus::transaction::SignerRecoverable;
use alloy_primitives::{B256, U256};
use alloy_rlp::Encodable;
use alloy_rpc_types_eth::{
    Block, BlockTransactions, EIP1186AccountProofResponse, EIP1186StorageProof, Header,
};
use op_alloy_consensus::{OpBlock, OpReceiptEnvelope, OpTxEnvelope};
use op_alloy_rpc_types::Transaction;

/// An OP block as `eth_getBlockBy*` returns it.
pub type RpcBlock = Block<Transaction, Header>;

/// The JSON-RPC block for a stored block; `full` includes transaction objects.
pub fn rpc_block(block: OpBlock, receipts: &[OpReceiptEnvelope], full: bool) -> RpcBlock {
    let size = U256::from(block.length());
    let hash = block.header.hash_slow();
    let number = block.header.number;
    let base_fee = block.header.base_fee_per_gas;
    let header = Header {
        hash,
        inner: block.header,
        total_difficulty: Some(U256::ZERO),
        size: Some(size),
    };
    let transactions = if full {
        let txs = block
            .body
            .transactions
            .into_iter()
            .enumerate()
            .map(|(index, tx)| {
                rpc_transaction(tx, receipts.get(index), hash, number, index, base_fee)
            })
            .collect();
        BlockTransactions::Full(txs)
    } else {
        BlockTransactions::Hashes(
            block
                .body
                .transactions
                .iter()
                .map(|tx| tx.tx_hash())
                .collect(),
        )
    };
    Block {
        header,
        uncles: Vec::new(),
        transactions,
        withdrawals: block.body.withdrawals,
    }
}

/// A transaction as `eth_getTransactionByHash` and full blocks return it.
pub fn rpc_transaction(
    tx: OpTxEnvelope,
    receipt: Option<&OpReceiptEnvelope>,
    block_hash: B256,
    block_number: u64,
    index: usize,
    base_fee: Option<u64>,
) -> Transaction {
    use alloy_consensus::Transaction as _;
    let signer = tx.recover_signer().unwrap_or_default();
    let effective_gas_price = if tx.is_deposit() {
        0
    } else {
        tx.effective_gas_price(base_fee)
    };
    let deposit = receipt.and_then(OpReceiptEnvelope::as_deposit_receipt);
    Transaction {
        inner: alloy_rpc_types_eth::Transaction {
            inner: alloy_consensus::transaction::Recovered::new_unchecked(tx, signer),
            block_hash: Some(block_hash),
            block_number: Some(block_number),
            transaction_index: Some(index as u64),
            effective_gas_price: Some(effective_gas_price),
        },
        deposit_nonce: deposit.and_then(|d| d.deposit_nonce),
        deposit_receipt_version: deposit.and_then(|d| d.deposit_receipt_version),
    }
}

/// `eth_getProof`'s response from a store proof.
pub fn proof_response(proof: AccountProof) -> EIP1186AccountProofResponse {
    let account = proof.account.unwrap_or_default();
    EIP1186AccountProofResponse {
        address: proof.address,
        balance: account.balance,
        code_hash: if proof.account.is_some() {
            account.code_hash
        } else {
            alloy_primitives::KECCAK256_EMPTY
        },
        nonce: account.nonce,
        storage_hash: if proof.account.is_some() {
            account.storage_root
        } else {
            alloy_trie::EMPTY_ROOT_HASH
        },
        account_proof: proof.account_proof,
        storage_proof: proof
            .storage
            .into_iter()
            .map(|slot| EIP1186StorageProof {
                key: alloy_serde::JsonStorageKey::Hash(slot.key),
                value: slot.value,
                proof: slot.proof,
            })
            .collect(),
    }
}

/// `eth_getBlockByNumber(tag, full)` against the executor's store, for both RPC ports.
pub fn block_by_number(
    executor: &aegis_executor::Executor,
    params: jsonrpsee::types::Params<'_>,
) -> Result<Option<RpcBlock>, jsonrpsee::types::ErrorObjectOwned> {
    let mut seq = params.sequence();
    let tag: alloy_eips::BlockNumberOrTag = seq.next()?;
    let full: bool = seq.optional_next()?.unwrap_or(false);
    match executor.store().hash_for(tag).map_err(block_read)? {
        Some(hash) => stored_rpc_block(executor, hash, full),
        None => Ok(None),
    }
}

/// `eth_getBlockByHash(hash, full)` against the executor's store, for both RPC ports.
pub fn block_by_hash(
    executor: &aegis_executor::Executor,
    params: jsonrpsee::types::Params<'_>,
) -> Result<Option<RpcBlock>, jsonrpsee::types::ErrorObjectOwned> {
    let mut seq = params.sequence();
    let hash: B256 = seq.next()?;
    let full: bool = seq.optional_next()?.unwrap_or(false);
    stored_rpc_block(executor, hash, full)
}

fn stored_rpc_block(
    executor: &aegis_executor::Executor,
    hash: B256,
    full: bool,
) -> Result<Option<RpcBlock>, jsonrpsee::types::ErrorObjectOwned> {
    let stored = executor.stored_block(&hash).map_err(block_read)?;
    Ok(stored.map(|(block, receipts)| rpc_block(block, &receipts, full)))
}
