//! Wallet-facing JSON-RPC for aegis (HTTP and WebSocket on one port, no JWT).
//!
//! Account and block reads in go-ethereum's shapes, `eth_sendRawTransaction` into the
//! [`aegis_mempool::Pool`] with geth's rejection texts (JSON-RPC code -32000), and `txpool_*`.
//! Block JSON is shared with the engine port ([`aegis_rpc_types::convert`]).
//!
//! The port is public, so it is built for anonymous callers: only the namespaces the operator
//! names are served ([`RpcConfig::apis`], geth's `--http.api`), simulations are capped in gas and
//! time ([`SimulationLimits`]), and every expensive method runs on [`RpcWorkers`], a bounded pool
//! of low-priority threads that refuses work beyond its queue instead of taking cores from block
//! building. Transactions that arrived encrypted are not shown until included.

use aegis_executor::{Executor, ExecutorError, PoolTx};
use aegis_mempool::{HeadState, Pool};
use aegis_rpc_types::convert::rpc_transaction;
use alloy_consensus::{
    Transaction as _,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::Encodable2718;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::{BlockOverrides, Filter, TransactionRequest, state::StateOverride};
use alloy_rpc_types_trace::geth::GethDebugTracingOptions;
use jsonrpsee::{
    RpcModule, rpc_params,
    server::{Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
};
use op_alloy_consensus::{OpBlock, OpReceipt, OpReceiptEnvelope};
use std::{net::SocketAddr, sync::Arc};
use tokio::sync::broadcast;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

mod aegis;
mod filters;
mod forward;
mod logs;
mod namespaces;
mod standard;
mod subscribe;
mod workers;

pub use aegis::{AegisContext, admin_module};
pub use aegis_executor::SimulationLimits;
pub use forward::{LeaderForward, hand_pool_to_new_leaders};
pub use namespaces::{DEFAULT_APIS, KNOWN_APIS, parse_apis};
pub use workers::RpcWorkers;

pub(crate) use aegis_rpc_types::errors::{
    INVALID_PARAMS, PRUNED_HISTORY, SERVER_ERROR, block_read, internal, rpc_error as error,
};
/// Most storage keys one `eth_getProof` proves (geth has no limit; this bounds the work).
const MAX_PROOF_SLOTS: usize = 1024;
/// geth's code for a call that hit `REVERT` (the error's data is the revert output).
const EXECUTION_REVERTED: i32 = 3;

pub(crate) type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// The wallet API over an executor and its pool.
pub struct EthApi {
    executor: Arc<Executor>,
    pool: Arc<Pool>,
    config: RpcConfig,
    /// Canonical chain changes for subscriptions, fed by [`subscribe::follow_head`].
    events: broadcast::Sender<subscribe::ChainEvent>,
    /// Hashes of public transactions as this pool takes them (never encrypted ones).
    pooled: broadcast::Sender<B256>,
    /// Live polling filters.
    filters: filters::Filters,
    /// The head state transactions are validated against, rebuilt when the head moves (building
    /// it reads the L1 fee parameters, too costly per transaction).
    head_state: std::sync::Mutex<Option<(B256, Arc<HeadState>)>>,
    /// The `aegis_*` methods' identity and attestations, when this node has sequencer keys.
    aegis: Option<Arc<AegisContext>>,
    /// Further methods served on the same port (the node's intelligence RPC).
    extra: std::sync::Mutex<jsonrpsee::Methods>,
    /// Where the expensive methods run.
    workers: RpcWorkers,
    /// Set when the node stops: running simulations abort at once.
    cancel: Arc<std::sync::atomic::AtomicBool>,
    /// On a cluster worker: where transactions go while another worker leads.
    forward: Option<forward::LeaderForward>,
    /// The last few blocks [`EthApi::located`] decoded (blocks never change under a hash).
    recent_blocks: std::sync::Mutex<std::collections::VecDeque<(B256, Arc<StoredBlock>)>>,
}

impl std::fmt::Debug for EthApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthApi")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Limits and policy of the public port.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// Largest request body.
    pub max_request_bytes: u32,
    /// Most calls in one batch.
    pub max_batch: u32,
    /// Most blocks one `eth_getLogs` may scan.
    pub max_log_range: u64,
    /// Most logs one `eth_getLogs` may return.
    pub max_logs: usize,
    /// Origins allowed by CORS (`*` for any); empty disables CORS headers.
    pub cors_origins: Vec<String>,
    /// Namespaces served (geth's `--http.api`): [`DEFAULT_APIS`] unless the operator names
    /// others.
    pub apis: Vec<String>,
    /// Gas cap and time limit of `eth_call`/`eth_estimateGas` (`--rpc.gascap`,
    /// `--rpc.evmtimeout`).
    pub simulation: SimulationLimits,
    /// Threads for the expensive methods (`--rpc.workers`).
    pub workers: usize,
    /// Expensive requests that may wait for a worker before new ones are refused.
    pub worker_queue: usize,
    /// Most transactions `txpool_content` lists (the rest are counted in `txpool_status`).
    pub max_content_txs: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            max_request_bytes: 5 * 1024 * 1024,
            max_batch: 100,
            max_log_range: 10_000,
            max_logs: 20_000,
            cors_origins: Vec::new(),
            apis: DEFAULT_APIS.iter().map(|s| s.to_string()).collect(),
            simulation: SimulationLimits::default(),
            workers: 2,
            worker_queue: 64,
            max_content_txs: 5_000,
        }
    }
}

/// The CORS layer for `origins`: any origin for `*`, else exactly those listed.
fn cors_layer(origins: &[String]) -> Result<CorsLayer, std::io::Error> {
    let layer = CorsLayer::new()
        .allow_methods([http::Method::POST, http::Method::GET, http::Method::OPTIONS])
        .allow_headers([http::header::CONTENT_TYPE]);
    if origins.iter().any(|o| o == "*") {
        return Ok(layer.allow_origin(Any));
    }
    let origins = origins
        .iter()
        .map(|o| {
            o.parse::<http::HeaderValue>().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("invalid CORS origin {o:?}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(layer.allow_origin(AllowOrigin::list(origins)))
}

impl EthApi {
    /// The API over `executor`, submitting into `pool`.
    pub fn new(executor: Arc<Executor>, pool: Arc<Pool>, config: RpcConfig) -> Self {
        // Spawning a few threads fails only when the process is out of resources.
        let workers = RpcWorkers::new(config.workers, config.worker_queue)
            .expect("spawn the RPC worker threads");
        Self {
            executor,
            pool,
            config,
            events: broadcast::channel(1024).0,
            pooled: broadcast::channel(4096).0,
            filters: filters::Filters::default(),
            head_state: std::sync::Mutex::default(),
            aegis: None,
            extra: std::sync::Mutex::default(),
            workers,
            cancel: Arc::default(),
            forward: None,
            recent_blocks: std::sync::Mutex::default(),
        }
    }

    /// Makes this the wallet RPC of a cluster worker: while another worker leads, transactions
    /// (plain and encrypted) and `aegis_getEncryptionKey` go to the leader, and plain ones are
    /// kept in this pool as well.
    pub fn with_leader_forward(mut self, forward: forward::LeaderForward) -> Self {
        self.forward = Some(forward);
        self
    }

    /// The leader to forward to, `None` when this node sequences itself.
    pub(crate) async fn forward_target(
        &self,
    ) -> RpcResult<Option<(&forward::LeaderForward, String)>> {
        let Some(forward) = &self.forward else {
            return Ok(None);
        };
        Ok(forward.leader().await?.map(|url| (forward, url)))
    }

    /// Aborts running simulations and refuses new expensive requests: the node is stopping.
    pub fn shutdown(&self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Release);
        self.workers.close();
    }

    /// The simulation limits with this API's cancel flag.
    fn simulation_limits(&self) -> SimulationLimits {
        SimulationLimits {
            cancel: Some(self.cancel.clone()),
            ..self.config.simulation.clone()
        }
    }

    /// Serves `methods` next to the `eth_*` ones.
    pub fn with_methods(self, methods: impl Into<jsonrpsee::Methods>) -> Self {
        self.extra
            .lock()
            .expect("extra methods")
            .merge(methods)
            .expect("extra method names are unique");
        self
    }

    /// Serves HTTP and WebSocket on `addr`, and starts following the head for subscriptions.
    pub async fn serve(
        self: Arc<Self>,
        addr: SocketAddr,
    ) -> std::io::Result<(SocketAddr, ServerHandle)> {
        let config = ServerConfig::builder()
            .max_request_body_size(self.config.max_request_bytes)
            .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(
                self.config.max_batch,
            ))
            .set_id_provider(subscribe::HexIdProvider)
            .build();
        let cors = (!self.config.cors_origins.is_empty())
            .then(|| cors_layer(&self.config.cors_origins))
            .transpose()?;
        let middleware = tower::ServiceBuilder::new().option_layer(cors);
        let server = Server::builder()
            .set_config(config)
            .set_http_middleware(middleware)
            .build(addr)
            .await?;
        let local = server.local_addr()?;
        let mut module = self.clone().rpc_module();
        let extra = std::mem::take(&mut *self.extra.lock().expect("extra methods"));
        module
            .merge(extra)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let module = namespaces::restrict(module.into(), &self.config.apis)?;
        let handle = server.start(module);
        tokio::spawn(subscribe::follow_head(self));
        tracing::info!(target: "aegis::rpc", addr = %local, "JSON-RPC listening");
        Ok((local, handle))
    }

    /// The JSON-RPC module.
    pub fn rpc_module(self: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut module = RpcModule::new(self);
        Self::register_aegis(&mut module);
        macro_rules! method {
            ($name:literal, |$params:ident, $api:ident| $body:expr) => {
                module
                    .register_method($name, |$params: Params<'_>, ctx, _| {
                        let $api: &Arc<EthApi> = ctx;
                        $body
                    })
                    .expect("method names are unique");
            };
        }
        // Expensive methods: on the bounded worker pool, never on the async workers.
        macro_rules! heavy_method {
            ($name:literal, |$params:ident, $api:ident| $body:expr) => {
                register_heavy(&mut module, $name, |$api, $params| $body);
            };
        }
        heavy_method!("eth_call", |params, api| {
            let mut seq = params.sequence();
            let request: TransactionRequest = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            let state: Option<StateOverride> = seq.optional_next()?;
            let block_overrides: Option<BlockOverrides> = seq.optional_next()?;
            let hash = api.block_hash(block)?;
            api.executor
                .call_with(
                    hash,
                    request,
                    state,
                    block_overrides,
                    &api.simulation_limits(),
                )
                .map_err(simulation_error)
        });
        heavy_method!("eth_estimateGas", |params, api| {
            let mut seq = params.sequence();
            let request: TransactionRequest = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            let state: Option<StateOverride> = seq.optional_next()?;
            let hash = api.block_hash(block)?;
            api.executor
                .estimate_gas_with(hash, request, state, &api.simulation_limits())
                .map(U64::from)
                .map_err(simulation_error)
        });
        method!("miner_setMaxDASize", |params, api| {
            let mut seq = params.sequence();
            let max_tx: U64 = seq.next()?;
            let max_block: U64 = seq.next()?;
            api.pool.set_da_limits(aegis_executor::DaLimits {
                max_tx_size: max_tx.to(),
                max_block_size: max_block.to(),
            });
            tracing::info!(target: "aegis::rpc", max_tx = %max_tx, max_block = %max_block, "DA limits set");
            RpcResult::Ok(true)
        });
        heavy_method!("eth_getLogs", |params, api| {
            let filter: Filter = params.one()?;
            api.get_logs(filter)
        });
        heavy_method!("debug_traceTransaction", |params, api| {
            let mut seq = params.sequence();
            let hash: B256 = seq.next()?;
            let opts: Option<GethDebugTracingOptions> = seq.optional_next()?;
            api.executor
                .trace_transaction(hash, &opts.unwrap_or_default(), &api.simulation_limits())
                .map_err(simulation_error)?
                .ok_or_else(|| error(SERVER_ERROR, "transaction not found"))
        });
        heavy_method!("eth_createAccessList", |params, api| {
            let mut seq = params.sequence();
            let request: TransactionRequest = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            let state: Option<StateOverride> = seq.optional_next()?;
            let hash = api.block_hash(block)?;
            api.executor
                .create_access_list(hash, request, state, None, &api.simulation_limits())
                .map_err(simulation_error)
        });
        heavy_method!("debug_traceCall", |params, api| {
            let mut seq = params.sequence();
            let request: TransactionRequest = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            let opts: Option<alloy_rpc_types_trace::geth::GethDebugTracingCallOptions> =
                seq.optional_next()?;
            let hash = api.block_hash(block)?;
            api.executor
                .trace_call(
                    hash,
                    request,
                    opts.unwrap_or_default(),
                    &api.simulation_limits(),
                )
                .map_err(simulation_error)
        });
        heavy_method!("debug_traceBlockByNumber", |params, api| {
            let mut seq = params.sequence();
            let tag: BlockNumberOrTag = seq.next()?;
            let opts: Option<GethDebugTracingOptions> = seq.optional_next()?;
            let hash = api
                .resolve(tag)?
                .ok_or_else(|| error(SERVER_ERROR, format!("block {tag} not found")))?;
            api.trace_block(hash, opts)
        });
        heavy_method!("debug_traceBlockByHash", |params, api| {
            let mut seq = params.sequence();
            let hash: B256 = seq.next()?;
            let opts: Option<GethDebugTracingOptions> = seq.optional_next()?;
            api.trace_block(hash, opts)
        });
        method!("eth_newFilter", |params, api| {
            let filter: Filter = params.one()?;
            api.new_log_filter(filter)
        });
        method!("eth_newBlockFilter", |_params, api| api.new_block_filter());
        method!("eth_newPendingTransactionFilter", |_params, api| api
            .new_pending_transaction_filter());
        heavy_method!("eth_getFilterChanges", |params, api| {
            let id: String = params.one()?;
            api.filter_changes(&id)
        });
        heavy_method!("eth_getFilterLogs", |params, api| {
            let id: String = params.one()?;
            api.filter_logs(&id)
        });
        method!("eth_uninstallFilter", |params, api| {
            let id: String = params.one()?;
            RpcResult::Ok(api.filters.uninstall(&id))
        });
        subscribe::register(&mut module);
        standard::register(&mut module);
        method!("eth_chainId", |_p, api| RpcResult::Ok(U64::from(
            api.executor.spec().chain_id
        )));
        method!("net_version", |_p, api| RpcResult::Ok(
            api.executor.spec().chain_id.to_string()
        ));
        method!("web3_clientVersion", |_p, _api| {
            RpcResult::Ok(format!("aegis/v{}", env!("CARGO_PKG_VERSION")))
        });
        method!("eth_blockNumber", |_p, api| {
            let head = api.executor.store().head().map_err(internal)?;
            RpcResult::Ok(U64::from(head.map_or(0, |h| h.number)))
        });
        method!("eth_gasPrice", |_p, api| {
            let head = api.executor.store().head().map_err(internal)?;
            let base = head.and_then(|h| h.base_fee_per_gas).unwrap_or_default();
            RpcResult::Ok(U256::from(base as u128 + 1_000_000))
        });
        method!("eth_maxPriorityFeePerGas", |_p, _api| RpcResult::Ok(
            U256::from(1_000_000u64)
        ));
        method!("eth_getBalance", |params, api| {
            let (address, block) = address_and_block(params)?;
            let account = api.account(address, block)?;
            RpcResult::Ok(account.map_or(U256::ZERO, |a| a.balance))
        });
        method!("eth_getTransactionCount", |params, api| {
            let mut seq = params.sequence();
            let address: Address = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            let pending = matches!(block, BlockId::Number(BlockNumberOrTag::Pending));
            let block = if pending { BlockId::latest() } else { block };
            let nonce = api.account(address, block)?.map_or(0, |a| a.nonce);
            let nonce = if pending {
                api.pool.public_pending_nonce(&address, nonce)
            } else {
                nonce
            };
            RpcResult::Ok(U64::from(nonce))
        });
        method!("eth_getCode", |params, api| {
            let (address, block) = address_and_block(params)?;
            let hash = api.block_hash(block)?;
            let view = api.executor.store().state_at(&hash).map_err(internal)?;
            let code = match view.account(&address).map_err(internal)? {
                Some(account) => view
                    .code(&account.code_hash)
                    .map_err(internal)?
                    .unwrap_or_default(),
                None => Bytes::new(),
            };
            RpcResult::Ok(code)
        });
        method!("eth_getStorageAt", |params, api| {
            let mut seq = params.sequence();
            let address: Address = seq.next()?;
            let slot: alloy_serde::JsonStorageKey = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            let hash = api.block_hash(block)?;
            let view = api.executor.store().state_at(&hash).map_err(internal)?;
            let value = view
                .storage(&address, &slot.as_b256().into())
                .map_err(internal)?;
            RpcResult::Ok(B256::from(value))
        });
        heavy_method!("eth_getProof", |params, api| {
            let mut seq = params.sequence();
            let address: Address = seq.next()?;
            let slots: Vec<alloy_serde::JsonStorageKey> = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            if slots.len() > MAX_PROOF_SLOTS {
                return Err(error(
                    INVALID_PARAMS,
                    format!("too many storage keys: {} > {MAX_PROOF_SLOTS}", slots.len()),
                ));
            }
            let hash = api.block_hash(block)?;
            let keys: Vec<B256> = slots.iter().map(|s| s.as_b256()).collect();
            let proof = api
                .executor
                .store()
                .proof(&hash, &address, &keys)
                .map_err(aegis_rpc_types::errors::state_read)?;
            let account = proof.account.unwrap_or_default();
            let absent = proof.account.is_none();
            RpcResult::Ok(serde_json::json!({
                "address": address,
                "balance": account.balance,
                "nonce": alloy_primitives::U64::from(account.nonce),
                "codeHash": if absent { alloy_primitives::KECCAK256_EMPTY } else { account.code_hash },
                "storageHash": if absent { alloy_trie::EMPTY_ROOT_HASH } else { account.storage_root },
                "accountProof": proof.account_proof,
                "storageProof": proof.storage.iter().zip(&slots).map(|(s, key)| serde_json::json!({
                    "key": key,
                    "value": s.value,
                    "proof": s.proof,
                })).collect::<Vec<_>>(),
            }))
        });
        heavy_method!("eth_getBlockByNumber", |params, api| {
            aegis_rpc_types::convert::block_by_number(&api.executor, params)
        });
        heavy_method!("eth_getBlockByHash", |params, api| {
            aegis_rpc_types::convert::block_by_hash(&api.executor, params)
        });
        module
            .register_async_method("eth_sendRawTransaction", |params, api, _| async move {
                let raw: Bytes = params.one()?;
                api.send_raw(raw).await
            })
            .expect("method names are unique");
        method!("eth_getTransactionByHash", |params, api| {
            let hash: B256 = params.one()?;
            api.transaction(hash)
        });
        heavy_method!("eth_getTransactionReceipt", |params, api| {
            let hash: B256 = params.one()?;
            api.receipt(hash)
        });
        heavy_method!("eth_getBlockReceipts", |params, api| {
            let block: BlockId = params.one()?;
            api.block_receipts(block)
        });
        heavy_method!("eth_feeHistory", |params, api| {
            let mut seq = params.sequence();
            let count: U64 = seq.next()?;
            let newest: BlockNumberOrTag = seq.next()?;
            let percentiles: Option<Vec<f64>> = seq.optional_next()?;
            api.fee_history(count.to::<u64>(), newest, percentiles.unwrap_or_default())
        });
        heavy_method!("txpool_content", |_p, api| {
            let content = api.pool.public_content(api.config.max_content_txs);
            let shape = |txs: &aegis_mempool::BySender| -> serde_json::Value {
                txs.iter()
                    .map(|(sender, by_nonce)| {
                        let txs: serde_json::Map<String, serde_json::Value> = by_nonce
                            .iter()
                            .map(|(nonce, tx)| (nonce.to_string(), pooled_json(tx)))
                            .collect();
                        (sender.to_checksum(None), serde_json::Value::Object(txs))
                    })
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            };
            RpcResult::Ok(serde_json::json!({
                "pending": shape(&content.pending),
                "queued": shape(&content.queued),
            }))
        });
        method!("txpool_status", |_p, api| {
            let status = api.pool.status();
            RpcResult::Ok(serde_json::json!({
                "pending": U64::from(status.pending),
                "queued": U64::from(status.queued),
            }))
        });
        module
    }

    pub(crate) fn resolve(&self, tag: BlockNumberOrTag) -> RpcResult<Option<B256>> {
        self.executor.store().hash_for(tag).map_err(block_read)
    }

    fn block_hash(&self, block: BlockId) -> RpcResult<B256> {
        match block {
            BlockId::Hash(hash) => Ok(hash.block_hash),
            BlockId::Number(tag) => self
                .resolve(tag)?
                .ok_or_else(|| error(SERVER_ERROR, "header not found")),
        }
    }

    fn account(
        &self,
        address: Address,
        block: BlockId,
    ) -> RpcResult<Option<aegis_storage::Account>> {
        let hash = self.block_hash(block)?;
        let view = self
            .executor
            .store()
            .state_at(&hash)
            .map_err(aegis_rpc_types::errors::state_read)?;
        view.account(&address).map_err(internal)
    }

    fn located(&self, hash: B256) -> RpcResult<Option<Located>> {
        let store = self.executor.store();
        let Some((block_hash, _, index)) = store.transaction_location(&hash).map_err(internal)?
        else {
            return Ok(None);
        };
        let cached = self
            .recent_blocks
            .lock()
            .expect("recent blocks lock")
            .iter()
            .find(|(hash, _)| *hash == block_hash)
            .map(|(_, stored)| stored.clone());
        let stored = match cached {
            Some(stored) => stored,
            None => {
                let stored = Arc::new(
                    self.executor
                        .stored_block(&block_hash)
                        .map_err(block_read)?
                        .ok_or_else(|| internal("indexed block missing"))?,
                );
                let mut recent = self.recent_blocks.lock().expect("recent blocks lock");
                if recent.len() >= RECENT_BLOCKS {
                    recent.pop_front();
                }
                recent.push_back((block_hash, stored.clone()));
                stored
            }
        };
        Ok(Some((block_hash, index as usize, stored)))
    }

    fn transaction(&self, hash: B256) -> RpcResult<Option<op_alloy_rpc_types::Transaction>> {
        let Some((block_hash, index, stored)) = self.located(hash)? else {
            // Pooled transactions are known too, without a block.
            // Transactions that arrived encrypted stay unknown until included.
            return Ok(self
                .pool
                .get_public(&hash)
                .map(|tx| pooled_transaction(&tx)));
        };
        let (block, receipts) = &*stored;
        let header = &block.header;
        let (number, base_fee) = (header.number, header.base_fee_per_gas);
        let tx = block.body.transactions[index].clone();
        Ok(Some(rpc_transaction(
            tx,
            receipts.get(index),
            block_hash,
            number,
            index,
            base_fee,
        )))
    }

    fn receipt(&self, hash: B256) -> RpcResult<Option<op_alloy_rpc_types::OpTransactionReceipt>> {
        let Some((block_hash, index, stored)) = self.located(hash)? else {
            return Ok(None);
        };
        let (block, receipts) = &*stored;
        let fees = self.executor.l1_fees(&block_hash).map_err(internal)?;
        self.receipt_at(block_hash, index, block, receipts, &fees)
            .map(Some)
    }

    fn block_receipts(
        &self,
        block: BlockId,
    ) -> RpcResult<Option<Vec<op_alloy_rpc_types::OpTransactionReceipt>>> {
        let hash = match block {
            BlockId::Hash(hash) => hash.block_hash,
            BlockId::Number(tag) => match self.resolve(tag)? {
                Some(hash) => hash,
                None => return Ok(None),
            },
        };
        let Some((block, receipts)) = self.executor.stored_block(&hash).map_err(block_read)? else {
            return Ok(None);
        };
        let fees = self.executor.l1_fees(&hash).map_err(internal)?;
        (0..receipts.len())
            .map(|index| self.receipt_at(hash, index, &block, &receipts, &fees))
            .collect::<RpcResult<Vec<_>>>()
            .map(Some)
    }

    /// The receipt of transaction `index` of a stored block, with the block's L1 fee parameters.
    fn receipt_at(
        &self,
        block_hash: B256,
        index: usize,
        block: &OpBlock,
        receipts: &[OpReceiptEnvelope],
        fees: &aegis_executor::L1Fees,
    ) -> RpcResult<op_alloy_rpc_types::OpTransactionReceipt> {
        let header = &block.header;
        let tx = &block.body.transactions[index];
        let hash = tx.tx_hash();
        let envelope = &receipts[index];
        let previous = index
            .checked_sub(1)
            .map_or(0, |i| receipts[i].cumulative_gas_used());
        let first_log = receipts[..index]
            .iter()
            .map(|r| r.logs().len() as u64)
            .sum::<u64>();
        let from = tx
            .recover_signer()
            .map_err(|_| internal("stored transaction without sender"))?;
        let nonce = envelope.deposit_nonce().unwrap_or_else(|| tx.nonce());
        let contract_address = tx.kind().is_create().then(|| from.create(nonce));
        let logs_bloom = *envelope.logs_bloom();
        let mut log_index = first_log;
        let receipt = OpReceipt::from(envelope.clone()).map_logs(|log| {
            let log = alloy_rpc_types_eth::Log {
                inner: log,
                block_hash: Some(block_hash),
                block_number: Some(header.number),
                block_timestamp: Some(header.timestamp),
                transaction_hash: Some(hash),
                transaction_index: Some(index as u64),
                log_index: Some(log_index),
                removed: false,
            };
            log_index += 1;
            log
        });
        let l1_block_info = if tx.is_deposit() {
            op_alloy_rpc_types::L1BlockInfo::default()
        } else {
            let info = fees.info();
            let encoded = tx.encoded_2718();
            let to_u128 = |v: U256| v.try_into().unwrap_or(u128::MAX);
            op_alloy_rpc_types::L1BlockInfo {
                l1_gas_price: Some(to_u128(info.l1_base_fee)),
                l1_gas_used: Some(to_u128(fees.l1_gas_used(&encoded))),
                l1_fee: Some(to_u128(fees.l1_fee(&encoded))),
                l1_fee_scalar: None,
                l1_base_fee_scalar: Some(to_u128(info.l1_base_fee_scalar)),
                l1_blob_base_fee: info.l1_blob_base_fee.map(to_u128),
                l1_blob_base_fee_scalar: info.l1_blob_base_fee_scalar.map(to_u128),
                operator_fee_scalar: info.operator_fee_scalar.map(to_u128),
                operator_fee_constant: info.operator_fee_constant.map(to_u128),
                da_footprint_gas_scalar: None,
            }
        };
        let effective_gas_price = if tx.is_deposit() {
            0
        } else {
            tx.effective_gas_price(header.base_fee_per_gas)
        };
        Ok(op_alloy_rpc_types::OpTransactionReceipt {
            inner: alloy_rpc_types_eth::TransactionReceipt {
                inner: alloy_consensus::ReceiptWithBloom {
                    receipt,
                    logs_bloom,
                },
                transaction_hash: hash,
                transaction_index: Some(index as u64),
                block_hash: Some(block_hash),
                block_number: Some(header.number),
                gas_used: receipt_gas(&receipts[index], previous),
                effective_gas_price,
                blob_gas_used: None,
                blob_gas_price: None,
                from,
                to: tx.to(),
                contract_address,
            },
            l1_block_info,
        })
    }

    /// `eth_feeHistory`: base fees (plus the next block's), gas used ratios and, per block,
    /// the effective tips at the given gas-weighted percentiles.
    fn fee_history(
        &self,
        count: u64,
        newest: BlockNumberOrTag,
        percentiles: Vec<f64>,
    ) -> RpcResult<serde_json::Value> {
        const MAX_BLOCKS: u64 = 1024;
        if percentiles.len() > 100
            || percentiles.iter().any(|p| !(0.0..=100.0).contains(p))
            || percentiles.windows(2).any(|w| w[0] > w[1])
        {
            return Err(error(INVALID_PARAMS, "invalid reward percentiles"));
        }
        let store = self.executor.store();
        let newest_hash = self
            .resolve(newest)?
            .ok_or_else(|| error(SERVER_ERROR, "header not found"))?;
        let newest_header = store
            .header(&newest_hash)
            .map_err(internal)?
            .ok_or_else(|| internal("missing header"))?;
        // A pruned store answers for the blocks it still has, as for a chain that short.
        let floor = store.history_floor().map_err(internal)?.unwrap_or(0);
        if newest_header.number < floor {
            return Err(error(PRUNED_HISTORY, "pruned history unavailable"));
        }
        let count = count
            .clamp(1, MAX_BLOCKS)
            .min(newest_header.number + 1 - floor);
        let oldest = newest_header.number + 1 - count;
        let (mut base_fees, mut ratios, mut rewards) = (Vec::new(), Vec::new(), Vec::new());
        for number in oldest..=newest_header.number {
            let hash = store
                .canonical_hash(number)
                .map_err(internal)?
                .ok_or_else(|| internal("gap"))?;
            let (block, receipts) = self
                .executor
                .stored_block(&hash)
                .map_err(block_read)?
                .ok_or_else(|| internal("gap"))?;
            let header = &block.header;
            let base_fee = header.base_fee_per_gas.unwrap_or_default();
            base_fees.push(U256::from(base_fee));
            ratios.push(header.gas_used as f64 / header.gas_limit.max(1) as f64);
            if percentiles.is_empty() {
                continue;
            }
            let mut tips: Vec<(u128, u64)> = block
                .body
                .transactions
                .iter()
                .zip(&receipts)
                .scan(0u64, |previous, (tx, receipt)| {
                    let used = receipt.cumulative_gas_used() - *previous;
                    *previous = receipt.cumulative_gas_used();
                    Some((tx, used))
                })
                .filter(|(tx, _)| !tx.is_deposit())
                .map(|(tx, used)| (tx.effective_tip_per_gas(base_fee).unwrap_or_default(), used))
                .collect();
            tips.sort_unstable();
            let total: u64 = tips.iter().map(|(_, used)| used).sum();
            let reward = percentiles
                .iter()
                .map(|p| {
                    let threshold = (total as f64 * p / 100.0) as u64;
                    let mut cumulative = 0;
                    let tip = tips
                        .iter()
                        .find(|(_, used)| {
                            cumulative += used;
                            cumulative >= threshold
                        })
                        .or(tips.last())
                        .map_or(0, |(tip, _)| *tip);
                    U256::from(tip)
                })
                .collect::<Vec<_>>();
            rewards.push(reward);
        }
        let next = aegis_executor::next_base_fee(
            self.executor.spec(),
            &newest_header,
            newest_header.timestamp + 1,
        )
        .map_err(internal)?;
        base_fees.push(U256::from(next));
        let mut response = serde_json::json!({
            "oldestBlock": U64::from(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": vec![U256::from(1); count as usize + 1],
            "blobGasUsedRatio": vec![0.0; count as usize],
        });
        if !percentiles.is_empty() {
            response["reward"] = serde_json::json!(rewards);
        }
        Ok(response)
    }

    /// Drops the cached head state (the head moved; the next submission builds it anew).
    pub(crate) fn forget_head_state(&self) {
        self.head_state.lock().expect("head state lock").take();
    }

    fn head_state(&self) -> RpcResult<Arc<HeadState>> {
        let head = self
            .executor
            .store()
            .head_hash()
            .map_err(internal)?
            .ok_or_else(|| internal("no head"))?;
        let mut cached = self.head_state.lock().expect("head state lock");
        if let Some((hash, state)) = cached.as_ref()
            && *hash == head
        {
            return Ok(state.clone());
        }
        let state = Arc::new(HeadState::at_head(&self.executor).map_err(internal)?);
        *cached = Some((head, state.clone()));
        Ok(state)
    }

    async fn send_raw(&self, raw: Bytes) -> RpcResult<B256> {
        let Some((forward, leader)) = self.forward_target().await? else {
            return self.submit_raw(raw, false);
        };
        let hash: B256 = forward
            .call(&leader, "eth_sendRawTransaction", rpc_params![raw.clone()])
            .await?;
        // Kept here as well: if the leader dies before including it, the next one may be us.
        if let Err(refused) = self.submit_raw(raw, false) {
            tracing::debug!(target: "aegis::rpc", %hash, %refused, "forwarded transaction not kept locally");
        }
        Ok(hash)
    }

    /// `debug_traceBlockBy*`: every transaction of block `hash`, as `[{txHash, result}]`.
    fn trace_block(
        &self,
        hash: B256,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<alloy_rpc_types_trace::geth::TraceResult>> {
        if self
            .executor
            .store()
            .header(&hash)
            .map_err(internal)?
            .is_none()
        {
            return Err(error(SERVER_ERROR, format!("block {hash} not found")));
        }
        self.executor
            .trace_block(
                hash,
                aegis_executor::TraceTarget::All,
                &opts.unwrap_or_default(),
                &self.simulation_limits(),
            )
            .map_err(simulation_error)
    }

    /// Decodes, validates and pools `raw`; `private` ones (decrypted envelopes) skip the
    /// journal so their plaintext never reaches the disk before inclusion.
    pub(crate) fn submit_raw(&self, raw: Bytes, private: bool) -> RpcResult<B256> {
        // Typed envelopes other than 2930, 1559, 7702 (and deposits, refused by the pool):
        // blob transactions have no place on an OP chain.
        if let Some(&ty) = raw.first()
            && ty < 0x7f
            && !matches!(ty, 0x01 | 0x02 | 0x04 | 0x7e)
        {
            return Err(error(SERVER_ERROR, "transaction type not supported"));
        }
        let tx = PoolTx::decode(raw).map_err(|e| match e {
            aegis_executor::ExecutorError::InvalidTransaction(m) if m.starts_with("signature") => {
                error(SERVER_ERROR, "invalid sender")
            }
            other => error(INVALID_PARAMS, format!("invalid transaction: {other}")),
        })?;
        let state = self.head_state()?;
        if private {
            return self
                .pool
                .add_private(tx, &*state)
                .map_err(|e| error(SERVER_ERROR, e.to_string()));
        }
        let hash = self
            .pool
            .add_local(tx, &*state)
            .map_err(|e| error(SERVER_ERROR, e.to_string()))?;
        // Nobody listening is fine.
        let _ = self.pooled.send(hash);
        Ok(hash)
    }
}

/// Registers `handler` as `name`, run on the API's bounded worker pool.
pub(crate) fn register_heavy<T, F>(
    module: &mut RpcModule<Arc<EthApi>>,
    name: &'static str,
    handler: F,
) where
    T: serde::Serialize + Clone + Send + 'static,
    F: Fn(&Arc<EthApi>, Params<'static>) -> RpcResult<T> + Clone + Send + Sync + 'static,
{
    module
        .register_async_method(name, move |params, ctx, _| {
            let api: Arc<EthApi> = (*ctx).clone();
            let handler = handler.clone();
            async move {
                let worker_api = api.clone();
                api.workers.run(move || handler(&worker_api, params)).await
            }
        })
        .expect("method names are unique");
}

/// geth's error for a failed simulation: code 3 with the revert data for `REVERT`, -32000 for
/// halts and invalid calls, -32602 for malformed requests.
fn simulation_error(e: ExecutorError) -> ErrorObjectOwned {
    match e {
        ExecutorError::Reverted(data) => {
            let message = match alloy_sol_types::decode_revert_reason(&data) {
                Some(reason) if !reason.is_empty() => format!("execution reverted: {reason}"),
                _ => "execution reverted".to_owned(),
            };
            ErrorObjectOwned::owned(EXECUTION_REVERTED, message, Some(data))
        }
        ExecutorError::Halted(_)
        | ExecutorError::Rejected(_)
        | ExecutorError::Timeout(_)
        | ExecutorError::GasRequiredExceedsAllowance(_) => error(SERVER_ERROR, e.to_string()),
        ExecutorError::InvalidRequest(_) => error(INVALID_PARAMS, e.to_string()),
        ExecutorError::UnknownParent(_)
        | ExecutorError::Storage(aegis_storage::StorageError::UnknownBlock(_)) => {
            error(SERVER_ERROR, "header not found")
        }
        ExecutorError::Storage(pruned @ aegis_storage::StorageError::Pruned { .. }) => {
            aegis_rpc_types::errors::state_read(pruned)
        }
        pruned @ ExecutorError::Storage(aegis_storage::StorageError::HistoryPruned { .. }) => {
            block_read(pruned)
        }
        other => internal(other),
    }
}

/// A pool transaction in the RPC shape (no block yet).
pub(crate) fn pooled_transaction(tx: &PoolTx) -> op_alloy_rpc_types::Transaction {
    op_alloy_rpc_types::Transaction {
        inner: alloy_rpc_types_eth::Transaction {
            inner: Recovered::new_unchecked(tx.envelope().clone(), tx.sender()),
            block_hash: None,
            block_number: None,
            transaction_index: None,
            effective_gas_price: None,
        },
        deposit_nonce: None,
        deposit_receipt_version: None,
    }
}

fn pooled_json(tx: &PoolTx) -> serde_json::Value {
    serde_json::to_value(pooled_transaction(tx)).unwrap_or_default()
}

/// A canonical transaction: its block hash, index and the decoded block with its receipts.
type Located = (B256, usize, Arc<StoredBlock>);
type StoredBlock = (OpBlock, Vec<OpReceiptEnvelope>);

/// Decoded blocks kept for transaction and receipt lookups: a wallet or indexer asking for each
/// transaction of a block in turn would otherwise decode the whole block every time.
const RECENT_BLOCKS: usize = 4;

fn receipt_gas(receipt: &OpReceiptEnvelope, previous_cumulative: u64) -> u64 {
    receipt.cumulative_gas_used() - previous_cumulative
}

fn address_and_block(params: Params<'_>) -> RpcResult<(Address, BlockId)> {
    let mut seq = params.sequence();
    let address: Address = seq.next()?;
    let block: BlockId = seq.optional_next()?.unwrap_or_default();
    Ok((address, block))
}
