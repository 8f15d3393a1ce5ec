//! `debug_traceTransaction` / `debug_traceBlockBy*` (`debug_traceCall` runs as a simulation,
//! see the simulate module): a stored block re-executed on its parent's
//! state, as its import did (system calls first, then every transaction in order, each seeing
//! the ones before), with one of geth's tracers from `revm-inspectors` watching the
//! transactions asked for: `callTracer` (with `withLog`), `prestateTracer` (with `diffMode`),
//! `4byteTracer`, `noopTracer`, `muxTracer`, `flatCallTracer` and the default struct logger.
//!
//! A request runs within [`SimulationLimits::timeout`] (geth's `--rpc.evmtimeout`) and stops at
//! once when cancelled; JavaScript tracers are not supported.

use crate::SimulationLimits;
use crate::{BlockInputs, Executor, ExecutorError, PoolTx, db::StoreDb, simulate::Deadline};
use alloy_consensus::Transaction as _;
use alloy_evm::{
    Evm, EvmFactory,
    block::{BlockExecutor, TxResult},
};
use alloy_op_evm::{
    OpBlockExecutionCtx, OpBlockExecutor, OpEvmFactory, OpTx, block::OpAlloyReceiptBuilder,
};
use alloy_primitives::B256;
use alloy_rpc_types_trace::geth::{GethDebugTracingOptions, GethTrace, TraceResult};
use revm::{context::TxEnv, database::State};
use revm_inspectors::tracing::{DebugInspector, DebugInspectorError, TransactionContext};

/// Which transactions of a block to trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceTarget {
    /// Every transaction.
    All,
    /// Only the one at this index (those before it run untraced).
    Index(usize),
}

impl Executor {
    /// Traces the included transaction `tx_hash` (`None`: not included in a stored block).
    pub fn trace_transaction(
        &self,
        tx_hash: B256,
        opts: &GethDebugTracingOptions,
        limits: &SimulationLimits,
    ) -> Result<Option<GethTrace>, ExecutorError> {
        let Some((block, _, index)) = self.store.transaction_location(&tx_hash)? else {
            return Ok(None);
        };
        let traces = self.trace_block(block, TraceTarget::Index(index as usize), opts, limits)?;
        Ok(traces.into_iter().next().and_then(|t| match t {
            TraceResult::Success { result, .. } => Some(result),
            TraceResult::Error { .. } => None,
        }))
    }

    /// Traces the transactions of stored block `hash` picked by `target` with the tracer of
    /// `opts`. Unknown tracers and bad tracer configs are [`ExecutorError::InvalidRequest`];
    /// running past the limits' timeout is [`ExecutorError::Timeout`].
    pub fn trace_block(
        &self,
        hash: B256,
        target: TraceTarget,
        opts: &GethDebugTracingOptions,
        limits: &SimulationLimits,
    ) -> Result<Vec<TraceResult>, ExecutorError> {
        let (block, _) = self.stored_block(&hash)?.ok_or(ExecutorError::Storage(
            aegis_storage::StorageError::UnknownBlock(hash),
        ))?;
        let header = &block.header;
        let inspector = DebugInspector::new(opts.clone()).map_err(tracer_error)?;
        let inputs = BlockInputs::of_header(header);
        let view = self.store.state_at(&header.parent_hash)?;
        let mut state = State::builder()
            .with_database(StoreDb::new(view))
            .with_bundle_update()
            .build();
        let env = self.evm_env(&inputs);
        let block_env = env.block_env.clone();
        let evm = OpEvmFactory::<OpTx>::default().create_evm_with_inspector(
            &mut state,
            env,
            (inspector, Deadline::new(limits)),
        );
        let ctx = OpBlockExecutionCtx {
            parent_hash: header.parent_hash,
            parent_beacon_block_root: header.parent_beacon_block_root,
            extra_data: header.extra_data.clone(),
        };
        let receipt_builder = OpAlloyReceiptBuilder::default();
        let mut executor = OpBlockExecutor::new(evm, ctx, self.spec.forks, &receipt_builder);
        let failed =
            |e: alloy_evm::block::BlockExecutionError| ExecutorError::Execution(e.to_string());
        executor.apply_pre_execution_changes().map_err(failed)?;

        let last = match target {
            TraceTarget::All => block.body.transactions.len(),
            TraceTarget::Index(index) if index < block.body.transactions.len() => index + 1,
            TraceTarget::Index(index) => {
                return Err(ExecutorError::InvalidRequest(format!(
                    "transaction index {index} out of range"
                )));
            }
        };
        let mut traces = Vec::new();
        for (index, envelope) in block.body.transactions.iter().take(last).enumerate() {
            let tx = PoolTx::decode(alloy_eips::Encodable2718::encoded_2718(envelope).into())
                .map_err(|e| ExecutorError::Execution(e.to_string()))?;
            let traced = matches!(target, TraceTarget::All) || index + 1 == last;
            // The system calls and earlier transactions leave nothing in the tracer.
            executor
                .evm_mut()
                .inspector_mut()
                .0
                .fuse()
                .map_err(tracer_error)?;
            let output = executor
                .execute_transaction_without_commit(&tx.with_encoded())
                .map_err(failed)?;
            let (db, (inspector, deadline), _) = executor.evm_mut().components_mut();
            if deadline.expired || deadline.check() {
                return Err(ExecutorError::Timeout(limits.timeout));
            }
            if traced {
                let tx_env = TxEnv {
                    gas_limit: envelope.gas_limit(),
                    ..Default::default()
                };
                let context = TransactionContext {
                    block_hash: Some(hash),
                    tx_index: Some(index),
                    tx_hash: Some(tx.hash()),
                };
                let result = inspector
                    .get_result(Some(context), &tx_env, &block_env, output.result(), db)
                    .map_err(|e| ExecutorError::Execution(e.to_string()))?;
                traces.push(TraceResult::Success {
                    result,
                    tx_hash: Some(tx.hash()),
                });
            }
            executor.commit_transaction(output).map_err(failed)?;
        }
        Ok(traces)
    }
}

pub(crate) fn tracer_error<E: std::fmt::Display>(error: DebugInspectorError<E>) -> ExecutorError {
    match error {
        DebugInspectorError::UnsupportedTracer | DebugInspectorError::JsTracerNotEnabled => {
            ExecutorError::InvalidRequest(
                "tracer not supported (JavaScript tracers are not)".into(),
            )
        }
        DebugInspectorError::InvalidTracerConfig => {
            ExecutorError::InvalidRequest("invalid tracer config".into())
        }
        other => ExecutorError::Execution(other.to_string()),
    }
}
