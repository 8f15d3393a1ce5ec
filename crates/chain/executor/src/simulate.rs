//! `eth_call` and `eth_estimateGas`: a transaction request executed on a stored block's state,
//! with optional state and block overrides, and nothing written.
//!
//! Semantics follow op-geth: the block context is the requested block's header; the nonce is not
//! checked; without fee fields the base fee is not enforced and no gas is paid; no L1 data fee is
//! charged (op-geth charges none to calls, which carry no encoded transaction); the gas limit
//! defaults to the block's and is always capped at the gas cap (geth's `--rpc.gascap`) and at
//! what the caller can pay for, whatever the request or its overrides say.
//!
//! Every run is bounded in time too ([`SimulationLimits::timeout`], geth's `--rpc.evmtimeout`):
//! an inspector looks at the clock every [`DEADLINE_CHECK_STEPS`] instructions and, once the
//! deadline has passed or the run was cancelled (the node is stopping), halts every frame.

use crate::{BlockInputs, Executor, ExecutorError, db::StoreDb};
use alloy_eips::eip2930::AccessListResult;
use alloy_evm::{
    Evm, EvmEnv, EvmFactory,
    overrides::{apply_block_overrides, apply_state_overrides},
    rpc::TryIntoTxEnv,
};
use alloy_op_evm::{OpEvmFactory, OpTx};
use alloy_primitives::{B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::{BlockOverrides, TransactionRequest, state::StateOverride};
use alloy_rpc_types_trace::geth::{GethDebugTracingCallOptions, GethTrace};
use op_revm::{OpHaltReason, OpSpecId, OpTransaction, OpTransactionError};
use revm::{
    Inspector,
    context::{TxEnv, result::ExecutionResult},
    context_interface::result::{EVMError, HaltReason, InvalidTransaction, OutOfGasError},
    database::{Database, State},
    interpreter::Interpreter,
};
use revm_inspectors::{access_list::AccessListInspector, tracing::DebugInspector};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Most gas one simulated call may use (geth's `--rpc.gascap` default).
pub const RPC_GAS_CAP: u64 = 50_000_000;

/// How long one `eth_call` or `eth_estimateGas` may execute (geth's `--rpc.evmtimeout` default).
pub const RPC_EVM_TIMEOUT: Duration = Duration::from_secs(5);

/// Instructions between two looks at the clock (a clock read per instruction would cost a
/// third of the interpreter's speed).
pub const DEADLINE_CHECK_STEPS: u32 = 4096;

/// Bounds on one simulation request.
#[derive(Debug, Clone)]
pub struct SimulationLimits {
    /// Most gas any run may use; 0 means no cap beyond the block's (geth's `--rpc.gascap 0`).
    pub gas_cap: u64,
    /// Most wall-clock time the whole request (every run of an estimate) may execute; zero
    /// means none.
    pub timeout: Duration,
    /// Set to abort the request at once (the node is shutting down).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for SimulationLimits {
    fn default() -> Self {
        Self {
            gas_cap: RPC_GAS_CAP,
            timeout: RPC_EVM_TIMEOUT,
            cancel: None,
        }
    }
}

impl SimulationLimits {
    /// `gas` capped at the gas cap.
    fn cap(&self, gas: u64) -> u64 {
        if self.gas_cap == 0 {
            gas
        } else {
            gas.min(self.gas_cap)
        }
    }
}

/// Halts execution once a deadline has passed or a cancel flag is set.
#[derive(Debug)]
pub(crate) struct Deadline {
    at: Option<Instant>,
    cancel: Option<Arc<AtomicBool>>,
    steps: u32,
    pub(crate) expired: bool,
}

impl Deadline {
    pub(crate) fn new(limits: &SimulationLimits) -> Self {
        Self {
            at: (!limits.timeout.is_zero()).then(|| Instant::now() + limits.timeout),
            cancel: limits.cancel.clone(),
            steps: 0,
            expired: false,
        }
    }

    /// Looks at the clock and the cancel flag; true once either says stop.
    pub(crate) fn check(&mut self) -> bool {
        if !self.expired {
            self.expired = self.at.is_some_and(|at| Instant::now() >= at)
                || self
                    .cancel
                    .as_ref()
                    .is_some_and(|c| c.load(Ordering::Relaxed));
        }
        self.expired
    }
}

impl<CTX> Inspector<CTX> for Deadline {
    #[inline]
    fn step(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        if self.expired {
            // Every frame runs out of gas on its next instruction, so the whole call unwinds (the
            // caller reports the timeout, not the halt).
            interp.halt_oog();
            return;
        }
        self.steps = self.steps.wrapping_add(1);
        if self.steps.is_multiple_of(DEADLINE_CHECK_STEPS) && self.check() {
            interp.halt_oog();
        }
    }
}

/// geth's tolerance for `eth_estimateGas`: stop once the bracket is within 1.5 % of the answer.
const ESTIMATE_ERROR_RATIO: f64 = 0.015;

/// A plain value transfer's gas.
const TRANSFER_GAS: u64 = 21_000;

/// State, overrides and environment for repeated runs of one request.
struct Simulation {
    db: State<StoreDb>,
    env: EvmEnv<OpSpecId>,
    tx: TxEnv,
    /// Whether the request named a fee (then gas is paid and capped by the balance).
    priced: bool,
    limits: SimulationLimits,
    deadline: Deadline,
}

impl Simulation {
    /// Runs the request with `gas_limit`; `Ok` holds the result or the pre-execution rejection.
    fn run(
        &mut self,
        gas_limit: u64,
    ) -> Result<Result<ExecutionResult<OpHaltReason>, ExecutorError>, ExecutorError> {
        if self.deadline.check() {
            return Err(self.timed_out());
        }
        let mut tx = self.tx.clone();
        tx.gas_limit = self.limits.cap(gas_limit);
        let op_tx = call_tx(tx);
        let mut evm = OpEvmFactory::<OpTx>::default().create_evm_with_inspector(
            &mut self.db,
            self.env.clone(),
            &mut self.deadline,
        );
        let outcome = evm.transact_raw(op_tx);
        drop(evm);
        if self.deadline.expired {
            return Err(self.timed_out());
        }
        match outcome {
            Ok(result) => Ok(Ok(result.result)),
            Err(EVMError::Transaction(error)) => {
                Ok(Err(ExecutorError::Rejected(rejection_text(&error.0))))
            }
            Err(EVMError::Database(error)) => Err(ExecutorError::Execution(error.to_string())),
            Err(error) => Err(ExecutorError::Execution(error.to_string())),
        }
    }

    /// geth's error for an aborted simulation.
    fn timed_out(&self) -> ExecutorError {
        if self
            .limits
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            ExecutorError::Execution("execution aborted (node shutting down)".into())
        } else {
            ExecutorError::Timeout(self.limits.timeout)
        }
    }

    /// The most gas the caller can pay for at the request's price.
    /// The gas a call runs with (`eth_call`, `debug_traceCall`, `eth_createAccessList`): what
    /// the request asked for or the block's gas limit, within the gas cap and what the sender
    /// can pay for (never below a plain transfer's gas).
    fn call_gas_limit(&mut self, requested: Option<u64>) -> Result<u64, ExecutorError> {
        let wanted = self
            .limits
            .cap(requested.unwrap_or(self.env.block_env.gas_limit));
        Ok(wanted.min(self.allowance()?.max(TRANSFER_GAS)))
    }

    fn allowance(&mut self) -> Result<u64, ExecutorError> {
        if !self.priced || self.tx.gas_price == 0 {
            return Ok(u64::MAX);
        }
        let balance = self
            .db
            .basic(self.tx.caller)
            .map_err(|e| ExecutorError::Execution(e.to_string()))?
            .map(|a| a.balance)
            .unwrap_or_default();
        let available = balance.saturating_sub(self.tx.value);
        Ok((available / U256::from(self.tx.gas_price)).saturating_to())
    }
}

fn rejection_text(error: &OpTransactionError) -> String {
    match error {
        OpTransactionError::Base(InvalidTransaction::LackOfFundForMaxFee { .. }) => {
            "insufficient funds for gas * price + value".into()
        }
        OpTransactionError::Base(InvalidTransaction::GasPriceLessThanBasefee) => {
            "max fee per gas less than block base fee".into()
        }
        OpTransactionError::Base(InvalidTransaction::CallGasCostMoreThanGasLimit { .. })
        | OpTransactionError::Base(InvalidTransaction::GasFloorMoreThanGasLimit { .. }) => {
            "intrinsic gas too low".into()
        }
        OpTransactionError::Base(InvalidTransaction::PriorityFeeGreaterThanMaxFee) => {
            "max priority fee per gas higher than max fee per gas".into()
        }
        other => other.to_string(),
    }
}

fn halt_text(reason: &OpHaltReason) -> String {
    match reason {
        OpHaltReason::Base(HaltReason::OutOfGas(OutOfGasError::Basic))
        | OpHaltReason::Base(HaltReason::OutOfGas(_)) => "out of gas".into(),
        OpHaltReason::Base(HaltReason::OpcodeNotFound)
        | OpHaltReason::Base(HaltReason::InvalidFEOpcode) => "invalid opcode".into(),
        OpHaltReason::Base(HaltReason::StackUnderflow) => "stack underflow".into(),
        OpHaltReason::Base(HaltReason::StackOverflow) => "stack limit reached".into(),
        OpHaltReason::Base(HaltReason::InvalidJump) => "invalid jump destination".into(),
        OpHaltReason::Base(HaltReason::StateChangeDuringStaticCall) => "write protection".into(),
        OpHaltReason::Base(HaltReason::CallTooDeep) => "max call depth exceeded".into(),
        OpHaltReason::Base(HaltReason::OutOfFunds) => "insufficient balance for transfer".into(),
        OpHaltReason::Base(HaltReason::CreateCollision) => "contract address collision".into(),
        OpHaltReason::Base(HaltReason::CreateContractSizeLimit) => "max code size exceeded".into(),
        other => format!("{other:?}"),
    }
}

/// A simulated call as the EVM runs it: an empty envelope, so no L1 data fee, like op-geth's
/// calls.
fn call_tx(base: TxEnv) -> OpTx {
    OpTx(OpTransaction {
        base,
        enveloped_tx: Some(Bytes::new()),
        deposit: Default::default(),
    })
}

/// The outcome of a successful run as `eth_call` reports it.
fn call_output(result: ExecutionResult<OpHaltReason>) -> Result<Bytes, ExecutorError> {
    match result {
        ExecutionResult::Success { output, .. } => Ok(output.into_data()),
        ExecutionResult::Revert { output, .. } => Err(ExecutorError::Reverted(output)),
        ExecutionResult::Halt { reason, .. } => Err(ExecutorError::Halted(halt_text(&reason))),
    }
}

impl Executor {
    fn simulation(
        &self,
        at: B256,
        request: TransactionRequest,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
        limits: &SimulationLimits,
    ) -> Result<Simulation, ExecutorError> {
        let header = self.parent(&at)?;
        let view = self.store.state_at(&at)?;
        let mut db = State::builder().with_database(StoreDb::new(view)).build();
        let mut env = self.evm_env(&BlockInputs::of_header(&header));
        env.cfg_env.disable_nonce_check = true;
        env.cfg_env.disable_eip3607 = true;
        let priced = request.gas_price.is_some() || request.max_fee_per_gas.is_some();
        if !priced {
            // geth's NoBaseFee: an unpriced call runs at gas price zero.
            env.cfg_env.disable_base_fee = true;
        }
        if let Some(overrides) = block_overrides {
            apply_block_overrides(overrides, &mut db, &mut env.block_env);
        }
        if let Some(overrides) = state_overrides
            && let Err(error) = apply_state_overrides(overrides, &mut db)
        {
            return Err(ExecutorError::InvalidRequest(format!(
                "invalid state override: {error}"
            )));
        }
        let explicit_nonce = request.nonce.is_some();
        let mut tx: TxEnv = match request.try_into_tx_env(&env) {
            Ok(tx) => tx,
            Err(error) => return Err(ExecutorError::InvalidRequest(error.to_string())),
        };
        if !explicit_nonce {
            tx.nonce = db
                .basic(tx.caller)
                .map_err(|e| ExecutorError::Execution(e.to_string()))?
                .map_or(0, |a| a.nonce);
        }
        Ok(Simulation {
            db,
            env,
            tx,
            priced,
            deadline: Deadline::new(limits),
            limits: limits.clone(),
        })
    }

    /// `debug_traceCall`: `request` run as `eth_call` runs it (state after block `at`, the
    /// options' state and block overrides, the same gas rules) with the options' tracer
    /// watching. `tx_index` (state part-way through the block) is refused.
    pub fn trace_call(
        &self,
        at: B256,
        request: TransactionRequest,
        opts: GethDebugTracingCallOptions,
        limits: &SimulationLimits,
    ) -> Result<GethTrace, ExecutorError> {
        if opts.tx_index.is_some() {
            return Err(ExecutorError::InvalidRequest(
                "txIndex is not supported: calls are traced on the state after the block".into(),
            ));
        }
        let inspector =
            DebugInspector::new(opts.tracing_options).map_err(crate::trace::tracer_error)?;
        let gas = request.gas;
        let mut sim = self.simulation(
            at,
            request,
            opts.state_overrides,
            opts.block_overrides,
            limits,
        )?;
        let gas_limit = sim.call_gas_limit(gas)?;
        let mut tx = sim.tx.clone();
        tx.gas_limit = gas_limit;
        let block_env = sim.env.block_env.clone();
        let op_tx = call_tx(tx.clone());
        let mut evm = OpEvmFactory::<OpTx>::default().create_evm_with_inspector(
            &mut sim.db,
            sim.env.clone(),
            (inspector, Deadline::new(limits)),
        );
        let outcome = evm.transact_raw(op_tx);
        let (db, (inspector, deadline), _) = evm.components_mut();
        if deadline.expired {
            return Err(ExecutorError::Timeout(limits.timeout));
        }
        let result = match outcome {
            Ok(result) => result,
            Err(EVMError::Transaction(error)) => {
                return Err(ExecutorError::Rejected(rejection_text(&error.0)));
            }
            Err(error) => return Err(ExecutorError::Execution(error.to_string())),
        };
        inspector
            .get_result(None, &tx, &block_env, &result, db)
            .map_err(|e| ExecutorError::Execution(e.to_string()))
    }

    /// `eth_createAccessList`: the accounts and storage slots `request` touches (without its
    /// sender, recipient and the precompiles), with the gas it uses given that list, run as
    /// `eth_call` runs it. As geth does, the run is repeated with the list found until the list
    /// stops changing (it can, when touching a slot changes the path taken); a reverted or halted
    /// call still answers, with its error.
    pub fn create_access_list(
        &self,
        at: B256,
        request: TransactionRequest,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
        limits: &SimulationLimits,
    ) -> Result<AccessListResult, ExecutorError> {
        /// geth gives up after as many rounds as there are touched accounts; a bound keeps a
        /// call whose list never settles from running forever.
        const MAX_ROUNDS: usize = 16;
        let gas = request.gas;
        let mut list = request.access_list.clone().unwrap_or_default();
        let mut sim = self.simulation(at, request, state_overrides, block_overrides, limits)?;
        let gas_limit = sim.call_gas_limit(gas)?;
        for _ in 0..MAX_ROUNDS {
            let mut tx = sim.tx.clone();
            tx.gas_limit = gas_limit;
            tx.access_list = list.clone();
            // A legacy request becomes an EIP-2930 one: only typed transactions carry a list.
            tx.tx_type = tx.tx_type.max(1);
            let op_tx = call_tx(tx);
            let mut evm = OpEvmFactory::<OpTx>::default().create_evm_with_inspector(
                &mut sim.db,
                sim.env.clone(),
                (
                    AccessListInspector::new(list.clone()),
                    Deadline::new(limits),
                ),
            );
            let outcome = evm.transact_raw(op_tx);
            let (_, (inspector, deadline), _) = evm.components_mut();
            if deadline.expired {
                return Err(ExecutorError::Timeout(limits.timeout));
            }
            // In address order: the inspector's map has none, and rounds must compare equal.
            let mut found = inspector.access_list();
            found.0.sort_by_key(|item| item.address);
            let result = match outcome {
                Ok(result) => result.result,
                Err(EVMError::Transaction(error)) => {
                    return Err(ExecutorError::Rejected(rejection_text(&error.0)));
                }
                Err(error) => return Err(ExecutorError::Execution(error.to_string())),
            };
            if found == list {
                let error = call_output(result.clone()).err().map(|e| e.to_string());
                return Ok(AccessListResult {
                    access_list: list,
                    gas_used: U256::from(result.gas_used()),
                    error,
                });
            }
            list = found;
        }
        Err(ExecutorError::Execution(
            "the access list did not settle".into(),
        ))
    }

    /// `eth_call` with the default [`SimulationLimits`].
    pub fn call(
        &self,
        at: B256,
        request: TransactionRequest,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
    ) -> Result<Bytes, ExecutorError> {
        self.call_with(
            at,
            request,
            state_overrides,
            block_overrides,
            &SimulationLimits::default(),
        )
    }

    /// `eth_call`: runs `request` on the state after block `at` and returns its output, within
    /// `limits` whatever the request's gas and the block overrides' gas limit say.
    pub fn call_with(
        &self,
        at: B256,
        request: TransactionRequest,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
        limits: &SimulationLimits,
    ) -> Result<Bytes, ExecutorError> {
        let gas = request.gas;
        let mut sim = self.simulation(at, request, state_overrides, block_overrides, limits)?;
        let gas_limit = sim.call_gas_limit(gas)?;
        sim.run(gas_limit)?.and_then(call_output)
    }

    /// `eth_estimateGas` with the default [`SimulationLimits`].
    pub fn estimate_gas(
        &self,
        at: B256,
        request: TransactionRequest,
        state_overrides: Option<StateOverride>,
    ) -> Result<u64, ExecutorError> {
        self.estimate_gas_with(at, request, state_overrides, &SimulationLimits::default())
    }

    /// `eth_estimateGas`: the smallest gas limit (within geth's 1.5 % tolerance) at which
    /// `request` succeeds on the state after block `at`, found by geth's binary search; all its
    /// runs together stay within `limits`.
    pub fn estimate_gas_with(
        &self,
        at: B256,
        request: TransactionRequest,
        state_overrides: Option<StateOverride>,
        limits: &SimulationLimits,
    ) -> Result<u64, ExecutorError> {
        let requested = request.gas.filter(|gas| *gas >= TRANSFER_GAS);
        let is_plain_transfer = request.input.input().is_none_or(|i| i.is_empty());
        let mut sim = self.simulation(at, request, state_overrides, None, limits)?;
        let mut hi = limits.cap(requested.unwrap_or(sim.env.block_env.gas_limit));
        let allowance = sim.allowance()?;
        if allowance < hi {
            if allowance < TRANSFER_GAS && sim.tx.value > U256::ZERO {
                return Err(ExecutorError::Rejected(
                    "insufficient funds for transfer".into(),
                ));
            }
            hi = allowance;
        }
        // A transfer to an account without code costs exactly 21,000.
        if let TxKind::Call(to) = sim.tx.kind
            && is_plain_transfer
        {
            let has_code = sim
                .db
                .basic(to)
                .map_err(|e| ExecutorError::Execution(e.to_string()))?
                .is_some_and(|a| a.code_hash != alloy_primitives::KECCAK256_EMPTY);
            if !has_code && matches!(sim.run(TRANSFER_GAS)?, Ok(r) if r.is_success()) {
                return Ok(TRANSFER_GAS);
            }
        }
        let (used, refunded) = match sim.run(hi)? {
            Ok(ExecutionResult::Success { gas, .. }) => (gas.used(), gas.final_refunded()),
            Ok(ExecutionResult::Revert { output, .. }) => {
                return Err(ExecutorError::Reverted(output));
            }
            Ok(ExecutionResult::Halt { reason, .. }) => {
                return Err(match reason {
                    OpHaltReason::Base(HaltReason::OutOfGas(_)) => {
                        ExecutorError::GasRequiredExceedsAllowance(hi)
                    }
                    other => ExecutorError::Halted(halt_text(&other)),
                });
            }
            Err(ExecutorError::Rejected(reason)) if reason == "intrinsic gas too low" => {
                return Err(ExecutorError::GasRequiredExceedsAllowance(hi));
            }
            Err(error) => return Err(error),
        };
        let mut lo = used.saturating_sub(1);
        // Most calls need only what they used plus the 63/64 reserve of their sub-calls.
        let optimistic = (used + refunded + 2_300) * 64 / 63;
        if optimistic < hi {
            if matches!(sim.run(optimistic)?, Ok(r) if r.is_success()) {
                hi = optimistic;
            } else {
                lo = optimistic;
            }
        }
        while lo + 1 < hi {
            if ((hi - lo) as f64 / hi as f64) < ESTIMATE_ERROR_RATIO {
                break;
            }
            let mut mid = lo + (hi - lo) / 2;
            // The answer is usually near `lo`; search there first.
            if mid > lo.saturating_mul(2) {
                mid = lo * 2;
            }
            if matches!(sim.run(mid)?, Ok(r) if r.is_success()) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}
