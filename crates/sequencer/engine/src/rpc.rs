//! The JSON-RPC methods of the engine port.

use crate::{
    EngineError,
    auth::JwtAuthLayer,
    codes,
    jobs::{PayloadJobs, TxPool},
};
use aegis_conductor::Fence;
use aegis_executor::{BuildAttributes, ExecutedBlock, Executor, ExecutorError, ImportOutcome};
use aegis_rpc_types::{
    convert::proof_response,
    errors::{internal, rpc_error},
};
use aegis_storage::BlockLabel;
use alloy_eips::{BlockId, BlockNumberOrTag, eip7685::Requests};
use alloy_primitives::{Address, B256, Bytes, U64};
use alloy_rpc_types_engine::{
    CancunPayloadFields, ExecutionPayloadEnvelopeV2, ExecutionPayloadFieldV2,
    ExecutionPayloadInputV2, ExecutionPayloadV3, ForkchoiceState, ForkchoiceUpdated, JwtSecret,
    PayloadId, PayloadStatus, PayloadStatusEnum, PraguePayloadFields,
};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use alloy_serde::JsonStorageKey;
use jsonrpsee::{
    RpcModule,
    server::{Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
};
use op_alloy_rpc_types_engine::{
    OpExecutionPayload, OpExecutionPayloadEnvelope, OpExecutionPayloadEnvelopeV3,
    OpExecutionPayloadEnvelopeV4, OpExecutionPayloadSidecar, OpExecutionPayloadV4,
    OpPayloadAttributes,
};
use std::{net::SocketAddr, sync::Arc};

/// Methods `engine_exchangeCapabilities` reports.
pub const ENGINE_CAPABILITIES: &[&str] = &[
    "engine_forkchoiceUpdatedV2",
    "engine_forkchoiceUpdatedV3",
    "engine_getPayloadV2",
    "engine_getPayloadV3",
    "engine_getPayloadV4",
    "engine_newPayloadV2",
    "engine_newPayloadV3",
    "engine_newPayloadV4",
];

/// Largest accepted request body (a payload with many large transactions).
const MAX_REQUEST_BYTES: u32 = 128 * 1024 * 1024;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// The engine API over an executor and a transaction pool.
pub struct EngineApi {
    executor: Arc<Executor>,
    pool: Arc<dyn TxPool>,
    jobs: PayloadJobs,
    fence: Option<Fence>,
}

/// How long a fenced build request is held before its refusal: kona-node retries refused
/// builds at once, so this paces its retries.
const FENCED_RETRY_PACE: std::time::Duration = std::time::Duration::from_millis(250);

impl std::fmt::Debug for EngineApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineApi").finish_non_exhaustive()
    }
}

impl EngineApi {
    /// An engine building from `pool`.
    pub fn new(executor: Arc<Executor>, pool: Arc<dyn TxPool>) -> Self {
        Self {
            jobs: PayloadJobs::new(executor.clone(), pool.clone()),
            pool,
            executor,
            fence: None,
        }
    }

    /// Makes this engine a cluster worker's: it sequences and hands out sequenced payloads only
    /// while its conductor leads, and a block becomes its head only once the cluster committed
    /// it ([`Fence`]).
    pub fn with_fence(mut self, fence: Fence) -> Self {
        self.fence = Some(fence);
        self
    }

    /// Refuses, after [`FENCED_RETRY_PACE`], to sequence on `parent` unless the fence allows it.
    async fn check_may_sequence(&self, parent: B256) -> RpcResult<()> {
        let Some(fence) = &self.fence else {
            return Ok(());
        };
        if let Err(error) = fence.may_sequence(parent).await {
            metrics::counter!("aegis_fenced_total", "what" => "sequence").increment(1);
            tracing::warn!(target: "aegis::engine", %error, "fenced: not sequencing");
            tokio::time::sleep(FENCED_RETRY_PACE).await;
            return Err(rpc_error(
                codes::FENCED,
                format!("fenced: worker {} may not sequence: {error}", fence.id()),
            ));
        }
        Ok(())
    }

    /// Refuses `head` as the new canonical head unless the cluster committed it (or commits it
    /// now, this worker leading).
    async fn check_admitted(&self, head: &B256) -> RpcResult<()> {
        let Some(fence) = &self.fence else {
            return Ok(());
        };
        let (block, _) = self
            .executor
            .stored_block(head)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {head} vanished")))?;
        let parent_beacon_block_root = block.header.parent_beacon_block_root;
        let (execution_payload, _) = OpExecutionPayload::from_block_unchecked(*head, &block);
        let envelope = OpExecutionPayloadEnvelope {
            parent_beacon_block_root,
            execution_payload,
        };
        if let Err(error) = fence.admit(&envelope).await {
            metrics::counter!("aegis_fenced_total", "what" => "head").increment(1);
            tracing::warn!(target: "aegis::engine", %error, "fenced: head refused");
            return Err(rpc_error(
                codes::INVALID_FORKCHOICE_STATE,
                format!("fenced: head {head} refused: {error}"),
            ));
        }
        Ok(())
    }

    /// The executor behind the engine.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    /// Serves the engine methods on `addr`, behind JWT authentication with `secret`.
    pub async fn serve(
        self: Arc<Self>,
        addr: SocketAddr,
        secret: JwtSecret,
    ) -> Result<(SocketAddr, ServerHandle), EngineError> {
        self.serve_with(addr, secret, jsonrpsee::Methods::new())
            .await
    }

    /// Like [`Self::serve`], with `extra` operator methods on the same authenticated port.
    pub async fn serve_with(
        self: Arc<Self>,
        addr: SocketAddr,
        secret: JwtSecret,
        extra: jsonrpsee::Methods,
    ) -> Result<(SocketAddr, ServerHandle), EngineError> {
        let fail = |reason: String| EngineError::Server { addr, reason };
        let config = ServerConfig::builder()
            .max_request_body_size(MAX_REQUEST_BYTES)
            .max_response_body_size(MAX_REQUEST_BYTES)
            .build();
        let server = Server::builder()
            .set_config(config)
            .set_http_middleware(tower::ServiceBuilder::new().layer(JwtAuthLayer::new(secret)))
            .build(addr)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let local = server.local_addr().map_err(|e| fail(e.to_string()))?;
        let mut module = self.rpc_module();
        module.merge(extra).map_err(|e| fail(e.to_string()))?;
        let handle = server.start(module);
        tracing::info!(target: "aegis::engine", addr = %local, "engine API listening");
        Ok((local, handle))
    }

    /// The JSON-RPC module with every method.
    pub fn rpc_module(self: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut module = RpcModule::new(self);
        macro_rules! method {
            ($name:literal, |$params:ident, $api:ident| $body:expr) => {
                module
                    .register_async_method($name, |$params: Params<'static>, ctx, _| async move {
                        let $api: &Arc<EngineApi> = &*ctx;
                        $body
                    })
                    .expect("method names are unique");
            };
        }
        method!("engine_exchangeCapabilities", |params, _api| {
            let _: Vec<String> = params.one()?;
            RpcResult::Ok(ENGINE_CAPABILITIES.to_vec())
        });
        method!("engine_forkchoiceUpdatedV2", |params, api| {
            let (state, attrs) = fcu_params(params)?;
            api.forkchoice_updated(state, attrs, 2).await
        });
        method!("engine_forkchoiceUpdatedV3", |params, api| {
            let (state, attrs) = fcu_params(params)?;
            api.forkchoice_updated(state, attrs, 3).await
        });
        method!("engine_getPayloadV2", |params, api| {
            let block = api.best_payload(params.one()?).await?;
            RpcResult::Ok(envelope_v2(&block))
        });
        method!("engine_getPayloadV3", |params, api| {
            let block = api.best_payload(params.one()?).await?;
            envelope_v3(&block)
        });
        method!("engine_getPayloadV4", |params, api| {
            let block = api.best_payload(params.one()?).await?;
            envelope_v4(&block)
        });
        method!("engine_newPayloadV2", |params, api| {
            let payload: ExecutionPayloadInputV2 = params.one()?;
            api.new_payload(
                OpExecutionPayload::v2(payload),
                OpExecutionPayloadSidecar::default(),
            )
            .await
        });
        method!("engine_newPayloadV3", |params, api| {
            let mut seq = params.sequence();
            let payload: ExecutionPayloadV3 = seq.next()?;
            let hashes: Vec<B256> = seq.next()?;
            let root: B256 = seq.next()?;
            let sidecar = OpExecutionPayloadSidecar::v3(CancunPayloadFields::new(root, hashes));
            api.new_payload(OpExecutionPayload::v3(payload), sidecar)
                .await
        });
        method!("engine_newPayloadV4", |params, api| {
            let mut seq = params.sequence();
            let payload: OpExecutionPayloadV4 = seq.next()?;
            let hashes: Vec<B256> = seq.next()?;
            let root: B256 = seq.next()?;
            let requests: Vec<Bytes> = seq.next()?;
            if !requests.is_empty() {
                return Err(rpc_error(
                    codes::INVALID_PARAMS,
                    "OP blocks carry no execution requests",
                ));
            }
            let sidecar = OpExecutionPayloadSidecar::v4(
                CancunPayloadFields::new(root, hashes),
                PraguePayloadFields::new(Requests::new(Vec::new())),
            );
            api.new_payload(OpExecutionPayload::v4(payload), sidecar)
                .await
        });
        method!("eth_chainId", |_params, api| RpcResult::Ok(U64::from(
            api.executor.spec().chain_id
        )));
        method!("eth_blockNumber", |_params, api| {
            let head = api.executor.store().head().map_err(internal)?;
            RpcResult::Ok(U64::from(head.map_or(0, |h| h.number)))
        });
        method!("eth_getBlockByNumber", |params, api| {
            aegis_rpc_types::convert::block_by_number(&api.executor, params)
        });
        method!("eth_getBlockByHash", |params, api| {
            aegis_rpc_types::convert::block_by_hash(&api.executor, params)
        });
        method!("eth_getProof", |params, api| {
            let mut seq = params.sequence();
            let address: Address = seq.next()?;
            let keys: Vec<JsonStorageKey> = seq.next()?;
            let block: BlockId = seq.optional_next()?.unwrap_or_default();
            api.proof(address, keys, block)
        });
        // op-batcher throttles the builder here when its DA backlog grows.
        method!("miner_setMaxDASize", |params, api| {
            let mut seq = params.sequence();
            let (tx, block): (U64, U64) = (seq.next()?, seq.next()?);
            api.pool.set_da_limits(aegis_executor::DaLimits {
                max_tx_size: tx.to(),
                max_block_size: block.to(),
            });
            tracing::info!(target: "aegis::engine", max_tx = %tx, max_block = %block, "DA limits set");
            RpcResult::Ok(true)
        });
        module
    }

    async fn forkchoice_updated(
        &self,
        state: ForkchoiceState,
        attrs: Option<OpPayloadAttributes>,
        version: u8,
    ) -> RpcResult<ForkchoiceUpdated> {
        let store = self.executor.store();
        let known = |hash: &B256| store.header(hash).map(|h| h.is_some()).map_err(internal);
        if !known(&state.head_block_hash)? {
            return Ok(ForkchoiceUpdated::from_status(PayloadStatusEnum::Syncing));
        }
        // Safe and finalized must be known and lie on the new head's chain, and nothing
        // finalized may be reorged out.
        let head = state.head_block_hash;
        let on_chain_of =
            |ancestor: &B256, of: &B256| store.is_ancestor(ancestor, of).map_err(internal);
        let on_chain = |hash: &B256| on_chain_of(hash, &head);
        for (label, hash) in [
            (BlockLabel::Safe, state.safe_block_hash),
            (BlockLabel::Finalized, state.finalized_block_hash),
        ] {
            if hash.is_zero() {
                continue;
            }
            let problem = if !known(&hash)? {
                "unknown".to_owned()
            } else if !on_chain(&hash)? {
                format!("not an ancestor of head {head}")
            } else {
                continue;
            };
            return Err(rpc_error(
                codes::INVALID_FORKCHOICE_STATE,
                format!("{label:?} block {hash} is {problem}"),
            ));
        }
        if let Some(finalized) = store.label(BlockLabel::Finalized).map_err(internal)?
            && !on_chain(&finalized)?
        {
            return Err(rpc_error(
                codes::INVALID_FORKCHOICE_STATE,
                format!("head {head} would reorg out finalized block {finalized}"),
            ));
        }
        let current = store.head_hash().map_err(internal)?;
        let moved = current != Some(state.head_block_hash);
        // Going back to an ancestor re-selects blocks that were admitted already.
        if moved && !current.map_or(Ok(false), |current| on_chain_of(&head, &current))? {
            self.check_admitted(&head).await?;
        }
        store.set_head(state.head_block_hash).map_err(internal)?;
        if moved {
            // Revalidating a full pool reads state for every sender: off the async workers.
            let (pool, executor) = (self.pool.clone(), self.executor.clone());
            tokio::task::spawn_blocking(move || pool.on_new_head(&executor))
                .await
                .map_err(internal)?;
        }
        let number_of =
            |hash: &B256| store.header(hash).ok().flatten().map_or(0, |h| h.number) as f64;
        metrics::gauge!("aegis_head_number").set(number_of(&state.head_block_hash));
        if !state.safe_block_hash.is_zero() {
            metrics::gauge!("aegis_safe_number").set(number_of(&state.safe_block_hash));
        }
        if !state.finalized_block_hash.is_zero() {
            metrics::gauge!("aegis_finalized_number").set(number_of(&state.finalized_block_hash));
        }
        for (label, hash) in [
            (BlockLabel::Safe, state.safe_block_hash),
            (BlockLabel::Finalized, state.finalized_block_hash),
        ] {
            if !hash.is_zero() {
                store.set_label(label, hash).map_err(internal)?;
            }
        }
        let status = PayloadStatus::new(PayloadStatusEnum::Valid, Some(state.head_block_hash));
        let Some(attrs) = attrs else {
            return Ok(ForkchoiceUpdated::new(status));
        };
        let attrs = build_attributes(attrs)?;
        if !attrs.no_tx_pool {
            self.check_may_sequence(head).await?;
        }
        let id = self
            .jobs
            .start(state.head_block_hash, attrs, version)
            .await
            .map_err(|e| match e {
                ExecutorError::InvalidAttributes(_) | ExecutorError::ForcedTransaction { .. } => {
                    rpc_error(codes::INVALID_PAYLOAD_ATTRIBUTES, e.to_string())
                }
                other => internal(other),
            })?;
        Ok(ForkchoiceUpdated::new(status).with_payload_id(id))
    }

    async fn best_payload(&self, id: PayloadId) -> RpcResult<Arc<ExecutedBlock>> {
        let started = std::time::Instant::now();
        let best =
            self.jobs.best(&id).await.ok_or_else(|| {
                rpc_error(codes::UNKNOWN_PAYLOAD, format!("unknown payload {id}"))
            })?;
        if self.jobs.sequences(&id) == Some(true) {
            self.check_may_sequence(best.block.header.parent_hash)
                .await?;
        }
        metrics::histogram!("aegis_get_payload_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("aegis_block_transactions")
            .record(best.block.body.transactions.len() as f64);
        Ok(best)
    }

    async fn new_payload(
        &self,
        payload: OpExecutionPayload,
        sidecar: OpExecutionPayloadSidecar,
    ) -> RpcResult<PayloadStatus> {
        let claimed = payload.block_hash();
        let invalid = |latest: Option<B256>, reason: String| {
            Ok(PayloadStatus::new(
                PayloadStatusEnum::Invalid {
                    validation_error: reason,
                },
                latest,
            ))
        };
        let block = match payload.try_into_block_with_sidecar(&sidecar) {
            Ok(block) => block,
            Err(e) => return invalid(None, format!("malformed payload: {e}")),
        };
        let hash = block.header.hash_slow();
        if hash != claimed {
            return invalid(
                None,
                format!("block hash mismatch: payload says {claimed}, header hashes to {hash}"),
            );
        }
        if let Some(built) = self.jobs.built_block(&hash) {
            self.executor.commit(&built, false).map_err(internal)?;
            tracing::info!(
                target: "aegis::engine",
                number = built.block.header.number,
                %hash,
                txs = built.block.body.transactions.len(),
                gas_used = built.block.header.gas_used,
                "sealed block"
            );
            return Ok(PayloadStatus::new(PayloadStatusEnum::Valid, Some(hash)));
        }
        let executor = self.executor.clone();
        let outcome = tokio::task::spawn_blocking(move || executor.import(&block))
            .await
            .map_err(internal)?;
        match outcome {
            Ok(ImportOutcome::Valid(hash)) => {
                Ok(PayloadStatus::new(PayloadStatusEnum::Valid, Some(hash)))
            }
            Ok(ImportOutcome::Invalid {
                latest_valid_hash,
                reason,
            }) => invalid(Some(latest_valid_hash), reason),
            Err(ExecutorError::UnknownParent(_)) => {
                Ok(PayloadStatus::from_status(PayloadStatusEnum::Syncing))
            }
            Err(e) => Err(internal(e)),
        }
    }

    fn resolve_tag(&self, tag: BlockNumberOrTag) -> RpcResult<Option<B256>> {
        self.executor
            .store()
            .hash_for(tag)
            .map_err(aegis_rpc_types::errors::block_read)
    }

    fn proof(
        &self,
        address: Address,
        keys: Vec<JsonStorageKey>,
        block: BlockId,
    ) -> RpcResult<EIP1186AccountProofResponse> {
        let hash = match block {
            BlockId::Hash(hash) => Some(hash.block_hash),
            BlockId::Number(tag) => self.resolve_tag(tag)?,
        }
        .ok_or_else(|| rpc_error(codes::INVALID_PARAMS, "unknown block"))?;
        let slots: Vec<B256> = keys.iter().map(|k| k.as_b256()).collect();
        let proof = self
            .executor
            .store()
            .proof(&hash, &address, &slots)
            .map_err(|e| match e {
                aegis_storage::StorageError::UnknownBlock(_) => {
                    rpc_error(codes::INVALID_PARAMS, "unknown block")
                }
                other => aegis_rpc_types::errors::state_read(other),
            })?;
        Ok(proof_response(proof))
    }
}

fn fcu_params(
    params: Params<'static>,
) -> RpcResult<(ForkchoiceState, Option<OpPayloadAttributes>)> {
    let mut seq = params.sequence();
    let state: ForkchoiceState = seq.next()?;
    let attrs: Option<OpPayloadAttributes> = seq.optional_next()?;
    Ok((state, attrs))
}

fn build_attributes(attrs: OpPayloadAttributes) -> RpcResult<BuildAttributes> {
    let invalid = |m: &str| rpc_error(codes::INVALID_PAYLOAD_ATTRIBUTES, m);
    let inner = attrs.payload_attributes;
    if inner.withdrawals.as_ref().is_some_and(|w| !w.is_empty()) {
        return Err(invalid("withdrawals must be empty on OP"));
    }
    Ok(BuildAttributes {
        timestamp: inner.timestamp,
        prev_randao: inner.prev_randao,
        fee_recipient: inner.suggested_fee_recipient,
        parent_beacon_block_root: inner.parent_beacon_block_root,
        gas_limit: attrs
            .gas_limit
            .ok_or_else(|| invalid("gasLimit is required"))?,
        transactions: attrs.transactions.unwrap_or_default(),
        no_tx_pool: attrs.no_tx_pool.unwrap_or(false),
        eip1559_params: attrs.eip_1559_params,
        min_base_fee: attrs.min_base_fee,
    })
}

fn envelope_v2(block: &ExecutedBlock) -> ExecutionPayloadEnvelopeV2 {
    let (payload, _) = OpExecutionPayload::from_block_unchecked(block.hash, &block.block);
    let execution_payload = match payload {
        OpExecutionPayload::V1(v1) => ExecutionPayloadFieldV2::V1(v1),
        OpExecutionPayload::V2(v2) => ExecutionPayloadFieldV2::V2(v2),
        OpExecutionPayload::V3(v3) => ExecutionPayloadFieldV2::V2(v3.payload_inner),
        OpExecutionPayload::V4(v4) => ExecutionPayloadFieldV2::V2(v4.payload_inner.payload_inner),
    };
    ExecutionPayloadEnvelopeV2 {
        execution_payload,
        block_value: block.fees,
    }
}

fn unsupported(message: &str) -> ErrorObjectOwned {
    rpc_error(codes::UNSUPPORTED_FORK, message)
}

fn envelope_v3(block: &ExecutedBlock) -> RpcResult<OpExecutionPayloadEnvelopeV3> {
    let header = &block.block.header;
    if header.requests_hash.is_some() {
        return Err(unsupported(
            "Isthmus payloads are served by engine_getPayloadV4",
        ));
    }
    let parent_beacon_block_root = header
        .parent_beacon_block_root
        .ok_or_else(|| unsupported("pre-Ecotone payloads are served by engine_getPayloadV2"))?;
    Ok(OpExecutionPayloadEnvelopeV3 {
        execution_payload: ExecutionPayloadV3::from_block_unchecked(block.hash, &block.block),
        block_value: block.fees,
        blobs_bundle: Default::default(),
        should_override_builder: false,
        parent_beacon_block_root,
    })
}

fn envelope_v4(block: &ExecutedBlock) -> RpcResult<OpExecutionPayloadEnvelopeV4> {
    let header = &block.block.header;
    let (Some(parent_beacon_block_root), Some(withdrawals_root), Some(_)) = (
        header.parent_beacon_block_root,
        header.withdrawals_root,
        header.requests_hash,
    ) else {
        return Err(unsupported(
            "pre-Isthmus payloads are served by engine_getPayloadV3",
        ));
    };
    Ok(OpExecutionPayloadEnvelopeV4 {
        execution_payload: OpExecutionPayloadV4::from_v3_with_withdrawals_root(
            ExecutionPayloadV3::from_block_unchecked(block.hash, &block.block),
            withdrawals_root,
        ),
        block_value: block.fees,
        blobs_bundle: Default::default(),
        should_override_builder: false,
        parent_beacon_block_root,
        execution_requests: Vec::new(),
    })
}
