//! The rest of the standard surface wallets, explorers and client libraries probe: block
//! transaction counts and transactions by position, raw transactions, uncle queries (an OP
//! chain has none), `eth_syncing`, `eth_accounts`, `net_listening`, `net_peerCount`,
//! `web3_sha3` and `rpc_modules`, answered as geth answers them (`null` for an unknown block).

use crate::{EthApi, RpcResult, block_read, internal};
use aegis_rpc_types::convert::rpc_transaction;
use alloy_eips::{BlockId, BlockNumberOrTag, Encodable2718};
use alloy_primitives::{B256, Bytes, U64, keccak256};
use jsonrpsee::{RpcModule, types::Params};
use std::{collections::BTreeMap, sync::Arc};

impl EthApi {
    /// The hash of `block`, `None` when no such block is stored.
    fn find_block(&self, block: BlockId) -> RpcResult<Option<B256>> {
        let hash = match block {
            BlockId::Hash(hash) => hash.block_hash,
            BlockId::Number(tag) => match self.resolve(tag)? {
                Some(hash) => hash,
                None => return Ok(None),
            },
        };
        let known = self
            .executor
            .store()
            .header(&hash)
            .map_err(internal)?
            .is_some();
        Ok(known.then_some(hash))
    }

    fn transaction_count(&self, block: BlockId) -> RpcResult<Option<U64>> {
        let Some(hash) = self.find_block(block)? else {
            return Ok(None);
        };
        let stored = self.executor.stored_block(&hash).map_err(block_read)?;
        Ok(stored.map(|(block, _)| U64::from(block.body.transactions.len())))
    }

    fn transaction_at(
        &self,
        block: BlockId,
        index: U64,
    ) -> RpcResult<Option<op_alloy_rpc_types::Transaction>> {
        let Some(hash) = self.find_block(block)? else {
            return Ok(None);
        };
        let Some((block, receipts)) = self.executor.stored_block(&hash).map_err(block_read)? else {
            return Ok(None);
        };
        let index = usize::try_from(index.to::<u64>()).unwrap_or(usize::MAX);
        let Some(tx) = block.body.transactions.get(index) else {
            return Ok(None);
        };
        Ok(Some(rpc_transaction(
            tx.clone(),
            receipts.get(index),
            hash,
            block.header.number,
            index,
            block.header.base_fee_per_gas,
        )))
    }

    /// The EIP-2718 encoding of an included or publicly pooled transaction.
    fn raw_transaction(&self, hash: B256) -> RpcResult<Option<Bytes>> {
        let store = self.executor.store();
        if let Some((block_hash, _, index)) = store.transaction_location(&hash).map_err(internal)?
            && let Some((block, _)) = self
                .executor
                .stored_block(&block_hash)
                .map_err(block_read)?
            && let Some(tx) = block.body.transactions.get(index as usize)
        {
            return Ok(Some(tx.encoded_2718().into()));
        }
        Ok(self.pool.get_public(&hash).map(|tx| tx.encoded().clone()))
    }

    fn uncle_count(&self, block: BlockId) -> RpcResult<Option<U64>> {
        Ok(self.find_block(block)?.map(|_| U64::ZERO))
    }
}

/// Registers the methods of this module.
pub(crate) fn register(module: &mut RpcModule<Arc<EthApi>>) {
    fn add<T: serde::Serialize + Clone + 'static>(
        module: &mut RpcModule<Arc<EthApi>>,
        name: &'static str,
        f: impl Fn(&EthApi, Params<'_>) -> RpcResult<T> + Send + Sync + Clone + 'static,
    ) {
        module
            .register_method(name, move |params, api, _| f(api, params))
            .expect("method names are unique");
    }
    let by_number = |params: &Params<'_>| -> RpcResult<BlockId> {
        Ok(BlockId::Number(
            params.sequence().next::<BlockNumberOrTag>()?,
        ))
    };
    let by_hash = |params: &Params<'_>| -> RpcResult<BlockId> {
        Ok(BlockId::from(params.sequence().next::<B256>()?))
    };
    add(
        module,
        "eth_getBlockTransactionCountByNumber",
        move |api, p| api.transaction_count(by_number(&p)?),
    );
    add(
        module,
        "eth_getBlockTransactionCountByHash",
        move |api, p| api.transaction_count(by_hash(&p)?),
    );
    add(
        module,
        "eth_getTransactionByBlockNumberAndIndex",
        |api, p| {
            let mut seq = p.sequence();
            let (tag, index): (BlockNumberOrTag, U64) = (seq.next()?, seq.next()?);
            api.transaction_at(BlockId::Number(tag), index)
        },
    );
    add(module, "eth_getTransactionByBlockHashAndIndex", |api, p| {
        let mut seq = p.sequence();
        let (hash, index): (B256, U64) = (seq.next()?, seq.next()?);
        api.transaction_at(BlockId::from(hash), index)
    });
    add(module, "eth_getRawTransactionByHash", |api, p| {
        api.raw_transaction(p.one()?)
    });
    add(module, "eth_getUncleCountByBlockNumber", move |api, p| {
        api.uncle_count(by_number(&p)?)
    });
    add(module, "eth_getUncleCountByBlockHash", move |api, p| {
        api.uncle_count(by_hash(&p)?)
    });
    for name in [
        "eth_getUncleByBlockNumberAndIndex",
        "eth_getUncleByBlockHashAndIndex",
    ] {
        add(module, name, |_, _| RpcResult::Ok(None::<()>));
    }
    // A sequencer builds the chain: it is never syncing in the sense wallets mean.
    add(module, "eth_syncing", |_, _| RpcResult::Ok(false));
    add(module, "eth_accounts", |_, _| {
        RpcResult::Ok(Vec::<B256>::new())
    });
    add(module, "net_listening", |_, _| RpcResult::Ok(true));
    add(module, "net_peerCount", |_, _| RpcResult::Ok(U64::ZERO));
    add(module, "web3_sha3", |_, p| {
        let data: Bytes = p.one()?;
        RpcResult::Ok(keccak256(&data))
    });
    add(module, "rpc_modules", |api, _| {
        let modules: BTreeMap<String, &str> = api
            .config
            .apis
            .iter()
            .map(|api| (api.clone(), "1.0"))
            .chain([("rpc".to_owned(), "1.0")])
            .collect();
        RpcResult::Ok(modules)
    });
}
