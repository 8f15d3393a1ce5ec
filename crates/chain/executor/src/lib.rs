//! OP Stack block building and import for the aegis execution engine.
//!
//! [`Executor`] turns payload attributes into a sealed block the way op-geth does: forced
//! transactions from the rollup node first and in order (the L1-info deposit, user deposits,
//! network-upgrade transactions), then pool transactions when the attributes allow them, each
//! executed by op-revm through alloy-op-evm's OP block executor. The header follows the rules of
//! the fork active at the block's timestamp (Holocene/Jovian base fee parameters from the parent's
//! `extraData`, Isthmus `withdrawalsRoot` and `requestsHash`, Jovian DA footprint in
//! `blobGasUsed`). [`Executor::import`] re-executes a block built elsewhere and compares every
//! derived header field; a mismatch is reported as invalid, never as a crash.
//!
//! State comes from and goes to an [`aegis_storage::Store`]: the state root is computed
//! incrementally from the trie paths the block touched.

mod db;
mod header;
mod pool;
mod simulate;
mod trace;

pub use header::next_base_fee;
pub use pool::{DaLimits, FeeOrderedTxs, PoolTx, PoolTxSource, TxOrdering};
pub use simulate::{DEADLINE_CHECK_STEPS, RPC_EVM_TIMEOUT, RPC_GAS_CAP, SimulationLimits};
pub use trace::TraceTarget;

use aegis_chainspec::{ChainSpec, OpFork};
use aegis_storage::{AccountDiff, AccountInfo, StateDiff, StateUpdate, StorageError, Store};
use alloy_consensus::{BlockBody, EMPTY_OMMER_ROOT_HASH, Header, proofs};
use alloy_eips::{Decodable2718, Encodable2718, eip7685::EMPTY_REQUESTS_HASH};
use alloy_evm::{
    EvmEnv, EvmFactory,
    block::{BlockExecutionError, BlockExecutor},
};
use alloy_op_evm::{
    OpBlockExecutionCtx, OpBlockExecutor, OpEvmFactory, OpTx, block::OpAlloyReceiptBuilder,
    spec_by_timestamp_after_bedrock,
};
use alloy_primitives::{Address, B64, B256, Bytes, U256, logs_bloom};
use alloy_trie::EMPTY_ROOT_HASH;
use op_alloy_consensus::{OpBlock, OpReceiptEnvelope, OpTxEnvelope};
use revm::{
    context::{BlockEnv, CfgEnv},
    context_interface::block::BlobExcessGasAndPrice,
    database::{State, states::bundle_state::BundleRetention},
};
use std::sync::Arc;

// Its storage root is the Isthmus `withdrawalsRoot`.
use aegis_chainspec::L2_TO_L1_MESSAGE_PASSER;

/// Errors of block building and import.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The chain store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The parent block is not known.
    #[error("unknown parent block {0}")]
    UnknownParent(B256),
    /// Payload attributes break a protocol rule (engine error -38003).
    #[error("invalid payload attributes: {0}")]
    InvalidAttributes(String),
    /// A forced transaction from the attributes could not be executed (engine error -38003).
    #[error("forced transaction {index} failed: {reason}")]
    ForcedTransaction {
        /// Position in the attributes' transaction list.
        index: usize,
        /// Why it failed.
        reason: String,
    },
    /// The EVM or the state behind it failed in a way that is not the transaction's fault.
    #[error("execution failed: {0}")]
    Execution(String),
    /// A transaction's bytes do not decode.
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    /// Simulation: the call hit `REVERT`; the output is the revert data.
    #[error("execution reverted")]
    Reverted(Bytes),
    /// Simulation: exceptional halt (out of gas, invalid opcode, …), in geth's words.
    #[error("{0}")]
    Halted(String),
    /// Simulation: the call is invalid before execution (fees, funds, intrinsic gas), in
    /// geth's words.
    #[error("{0}")]
    Rejected(String),
    /// Estimation: no gas limit the caller can afford makes the call succeed.
    #[error("gas required exceeds allowance ({0})")]
    GasRequiredExceedsAllowance(u64),
    /// Simulation: the request or its overrides are malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// Simulation: the request ran longer than allowed (geth's text).
    #[error("execution aborted (timeout = {0:?})")]
    Timeout(std::time::Duration),
}

/// What the rollup node asks a block to be built from (engine payload attributes, fork-neutral).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildAttributes {
    /// Block timestamp.
    pub timestamp: u64,
    /// `prevRandao` (becomes `mixHash`).
    pub prev_randao: B256,
    /// Coinbase.
    pub fee_recipient: Address,
    /// Parent beacon block root (required from Ecotone).
    pub parent_beacon_block_root: Option<B256>,
    /// Block gas limit (required on OP).
    pub gas_limit: u64,
    /// Forced transactions, EIP-2718 encoded, executed first and in order.
    pub transactions: Vec<Bytes>,
    /// When true, no pool transactions are added.
    pub no_tx_pool: bool,
    /// Holocene EIP-1559 parameters (denominator ‖ elasticity), required from Holocene.
    pub eip1559_params: Option<B64>,
    /// Jovian minimum base fee, required from Jovian.
    pub min_base_fee: Option<u64>,
}

/// A block built (or imported) and executed, not yet committed.
#[derive(Debug)]
pub struct ExecutedBlock {
    /// The sealed block.
    pub block: OpBlock,
    /// Its hash.
    pub hash: B256,
    /// Receipts in transaction order.
    pub receipts: Vec<OpReceiptEnvelope>,
    /// Sum of priority fees paid to the coinbase (the payload's block value).
    pub fees: U256,
    /// The state changes to commit.
    pub update: StateUpdate,
}

/// Result of importing a block built elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Execution reproduced the block; it is stored.
    Valid(B256),
    /// The block breaks a rule or execution does not reproduce it.
    Invalid {
        /// The last valid ancestor (the parent).
        latest_valid_hash: B256,
        /// What is wrong.
        reason: String,
    },
}

/// Builds, imports and commits OP Stack blocks over a [`Store`].
#[derive(Debug)]
pub struct Executor {
    spec: Arc<ChainSpec>,
    store: Arc<Store>,
}

/// Inputs of one block's execution that are not transactions.
struct BlockInputs {
    number: u64,
    timestamp: u64,
    prev_randao: B256,
    fee_recipient: Address,
    gas_limit: u64,
    base_fee: u64,
    parent_beacon_block_root: Option<B256>,
    extra_data: Bytes,
}

impl BlockInputs {
    /// The inputs a stored block was built from, as its header records them.
    fn of_header(header: &Header) -> Self {
        Self {
            number: header.number,
            timestamp: header.timestamp,
            prev_randao: header.mix_hash,
            fee_recipient: header.beneficiary,
            gas_limit: header.gas_limit,
            base_fee: header.base_fee_per_gas.unwrap_or_default(),
            parent_beacon_block_root: header.parent_beacon_block_root,
            extra_data: header.extra_data.clone(),
        }
    }
}

struct Executed {
    transactions: Vec<OpTxEnvelope>,
    receipts: Vec<OpReceiptEnvelope>,
    gas_used: u64,
    da_footprint: u64,
    fees: U256,
    diff: StateDiff,
}

/// How forced and pool transactions are treated.
enum Mode<'a> {
    /// Building: forced txs must succeed; pool txs that fail are skipped.
    Build(Option<&'a mut dyn PoolTxSource>),
    /// Importing: every transaction must execute.
    Import,
}

impl Executor {
    /// An executor for `spec` over `store`, writing the genesis block if the store is empty.
    pub fn new(spec: Arc<ChainSpec>, store: Arc<Store>) -> Result<Self, ExecutorError> {
        let genesis = spec.genesis_header();
        store.init_genesis(genesis, &genesis_alloc(&spec))?;
        Ok(Self { spec, store })
    }

    /// The chain configuration.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn active(&self, fork: OpFork, timestamp: u64) -> bool {
        self.spec.forks.is_active(fork, timestamp)
    }

    fn parent(&self, parent_hash: &B256) -> Result<Header, ExecutorError> {
        self.store
            .header(parent_hash)?
            .ok_or(ExecutorError::UnknownParent(*parent_hash))
    }

    /// Builds a block on `parent_hash` from `attrs`, drawing pool transactions from `pool`
    /// unless the attributes say `noTxPool`.
    pub fn build(
        &self,
        parent_hash: B256,
        attrs: &BuildAttributes,
        pool: Option<&mut dyn PoolTxSource>,
    ) -> Result<ExecutedBlock, ExecutorError> {
        let parent = self.parent(&parent_hash)?;
        let ts = attrs.timestamp;
        let invalid = |m: String| Err(ExecutorError::InvalidAttributes(m));
        if ts <= parent.timestamp {
            return invalid(format!(
                "timestamp {ts} is not after parent's {}",
                parent.timestamp
            ));
        }
        if attrs.gas_limit == 0 {
            return invalid("gasLimit is required".into());
        }
        if self.active(OpFork::Ecotone, ts) != attrs.parent_beacon_block_root.is_some() {
            return invalid("parentBeaconBlockRoot must be set exactly from Ecotone".into());
        }
        let extra_data = header::extra_data_for(&self.spec, ts, attrs)?;
        let base_fee = next_base_fee(&self.spec, &parent, ts)
            .map_err(|e| ExecutorError::InvalidAttributes(e.to_string()))?;
        let inputs = BlockInputs {
            number: parent.number + 1,
            timestamp: ts,
            prev_randao: attrs.prev_randao,
            fee_recipient: attrs.fee_recipient,
            gas_limit: attrs.gas_limit,
            base_fee,
            parent_beacon_block_root: attrs.parent_beacon_block_root,
            extra_data,
        };
        let pool = if attrs.no_tx_pool { None } else { pool };
        let executed =
            self.execute(parent_hash, &inputs, &attrs.transactions, Mode::Build(pool))?;
        self.seal(parent_hash, &inputs, executed)
    }

    /// Re-executes `block` (built elsewhere) on its parent and stores it if every derived field
    /// matches. Does not change the head.
    pub fn import(&self, block: &OpBlock) -> Result<ImportOutcome, ExecutorError> {
        let header = &block.header;
        let hash = header.hash_slow();
        if self.store.header(&hash)?.is_some() {
            return Ok(ImportOutcome::Valid(hash));
        }
        let parent = self.parent(&header.parent_hash)?;
        let invalid = |reason: String| {
            Ok(ImportOutcome::Invalid {
                latest_valid_hash: header.parent_hash,
                reason,
            })
        };
        if let Err(reason) = header::check_against_parent(&self.spec, &parent, header) {
            return invalid(reason);
        }
        let base_fee = match next_base_fee(&self.spec, &parent, header.timestamp) {
            Ok(fee) => fee,
            Err(e) => return invalid(e.to_string()),
        };
        // The base fee derived from the parent, not the header's (which is checked against it).
        let inputs = BlockInputs {
            base_fee,
            ..BlockInputs::of_header(header)
        };
        let raw: Vec<Bytes> = block
            .body
            .transactions
            .iter()
            .map(|tx| tx.encoded_2718().into())
            .collect();
        let executed = match self.execute(header.parent_hash, &inputs, &raw, Mode::Import) {
            Ok(executed) => executed,
            Err(ExecutorError::ForcedTransaction { index, reason }) => {
                return invalid(format!("transaction {index}: {reason}"));
            }
            Err(ExecutorError::InvalidTransaction(reason)) => return invalid(reason),
            Err(e) => return Err(e),
        };
        let built = self.seal(header.parent_hash, &inputs, executed)?;
        if let Some(field) = header::first_difference(&built.block.header, header) {
            return invalid(format!("{field} mismatch after execution"));
        }
        self.commit(&built, false)?;
        Ok(ImportOutcome::Valid(hash))
    }

    /// Stores an executed block, optionally making it the canonical head, in one transaction.
    pub fn commit(&self, block: &ExecutedBlock, make_head: bool) -> Result<B256, ExecutorError> {
        let body: Vec<Bytes> = block
            .block
            .body
            .transactions
            .iter()
            .map(|tx| tx.encoded_2718().into())
            .collect();
        let receipts: Vec<Bytes> = block
            .receipts
            .iter()
            .map(|r| r.encoded_2718().into())
            .collect();
        let hashes: Vec<B256> = block
            .block
            .body
            .transactions
            .iter()
            .map(|tx| tx.tx_hash())
            .collect();
        Ok(self.store.commit_block(
            &block.block.header,
            &alloy_rlp::encode(&body),
            &alloy_rlp::encode(&receipts),
            &hashes,
            &block.update,
            make_head,
        )?)
    }

    /// The L1 fee parameters in force after block `hash` (what the next block's transactions pay).
    pub fn l1_fees(&self, hash: &B256) -> Result<L1Fees, ExecutorError> {
        let header = self.parent(hash)?;
        let view = self.store.state_at(hash)?;
        let mut db = db::StoreDb::new(view);
        let timestamp = header.timestamp + 1;
        let spec = spec_by_timestamp_after_bedrock(self.spec.forks, timestamp);
        let info = op_revm::L1BlockInfo::try_fetch(&mut db, U256::from(header.number + 1), spec)
            .map_err(|e| ExecutorError::Execution(e.to_string()))?;
        Ok(L1Fees { info, spec })
    }

    /// A stored block and its receipts; [`StorageError::HistoryPruned`] for a block whose body
    /// was pruned.
    pub fn stored_block(
        &self,
        hash: &B256,
    ) -> Result<Option<(OpBlock, Vec<OpReceiptEnvelope>)>, ExecutorError> {
        let Some(stored) = self.store.block(hash)? else {
            return Ok(None);
        };
        let corrupt = |reason: &'static str| {
            ExecutorError::Storage(StorageError::CorruptRecord {
                table: "bodies",
                reason,
            })
        };
        let decode_list = |bytes: &[u8]| -> Result<Vec<Bytes>, ExecutorError> {
            if bytes.is_empty() {
                return Ok(Vec::new());
            }
            alloy_rlp::decode_exact(bytes).map_err(|_| corrupt("list does not decode"))
        };
        let transactions = decode_list(&stored.body)?
            .iter()
            .map(|raw| OpTxEnvelope::decode_2718_exact(raw).map_err(|_| corrupt("transaction")))
            .collect::<Result<Vec<_>, _>>()?;
        let receipts = decode_list(&stored.receipts)?
            .iter()
            .map(|raw| {
                OpReceiptEnvelope::decode_2718(&mut raw.as_ref()).map_err(|_| corrupt("receipt"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let header = stored.header;
        let withdrawals = self
            .active(OpFork::Canyon, header.timestamp)
            .then(Default::default);
        let body = BlockBody {
            transactions,
            ommers: Vec::new(),
            withdrawals,
        };
        Ok(Some((OpBlock::new(header, body), receipts)))
    }

    /// The EVM environment of a block with these inputs.
    fn evm_env(&self, inputs: &BlockInputs) -> EvmEnv<op_revm::OpSpecId> {
        let spec_id = spec_by_timestamp_after_bedrock(self.spec.forks, inputs.timestamp);
        let cfg = CfgEnv::new()
            .with_chain_id(self.spec.chain_id)
            .with_spec_and_mainnet_gas_params(spec_id);
        let block_env = BlockEnv {
            number: U256::from(inputs.number),
            beneficiary: inputs.fee_recipient,
            timestamp: U256::from(inputs.timestamp),
            gas_limit: inputs.gas_limit,
            basefee: inputs.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(inputs.prev_randao),
            // OP has no blobs: the blob base fee is pinned at 1 from Ecotone.
            blob_excess_gas_and_price: self.active(OpFork::Ecotone, inputs.timestamp).then_some(
                BlobExcessGasAndPrice {
                    excess_blob_gas: 0,
                    blob_gasprice: 1,
                },
            ),
            slot_num: 0,
        };
        EvmEnv::new(cfg, block_env)
    }

    fn execute(
        &self,
        parent_hash: B256,
        inputs: &BlockInputs,
        forced: &[Bytes],
        mode: Mode<'_>,
    ) -> Result<Executed, ExecutorError> {
        let view = self.store.state_at(&parent_hash)?;
        let mut state = State::builder()
            .with_database(db::StoreDb::new(view))
            .with_bundle_update()
            .build();
        let evm = OpEvmFactory::<OpTx>::default().create_evm(&mut state, self.evm_env(inputs));
        let ctx = OpBlockExecutionCtx {
            parent_hash,
            parent_beacon_block_root: inputs.parent_beacon_block_root,
            extra_data: inputs.extra_data.clone(),
        };
        let receipt_builder = OpAlloyReceiptBuilder::default();
        let mut executor = OpBlockExecutor::new(evm, ctx, self.spec.forks, &receipt_builder);
        executor
            .apply_pre_execution_changes()
            .map_err(|e| ExecutorError::Execution(e.to_string()))?;

        let mut transactions = Vec::with_capacity(forced.len());
        let mut fees = U256::ZERO;
        for (index, raw) in forced.iter().enumerate() {
            let forced_err = |reason: String| ExecutorError::ForcedTransaction { index, reason };
            let tx = PoolTx::decode(raw.clone()).map_err(|e| forced_err(e.to_string()))?;
            let gas = executor
                .execute_transaction(&tx.with_encoded())
                .map_err(|e| forced_err(e.to_string()))?;
            fees += tx.priority_fee(inputs.base_fee, gas);
            transactions.push(tx.into_envelope());
        }
        if let Mode::Build(Some(pool)) = mode {
            let da = pool.da_limits();
            let mut block_da = 0u64;
            while let Some(tx) = pool.next_tx() {
                let sender = tx.sender();
                if tx.is_deposit() {
                    pool.skip_sender(sender);
                    continue;
                }
                let available = inputs.gas_limit.saturating_sub(executor.gas_used);
                if tx.gas_limit() > available {
                    pool.skip_sender(sender);
                    continue;
                }
                // The compression estimate is dear: only a throttled builder needs it.
                let tx_da = if da == DaLimits::default() {
                    0
                } else {
                    DaLimits::estimated_size(tx.encoded())
                };
                if (da.max_tx_size != 0 && tx_da > da.max_tx_size)
                    || (da.max_block_size != 0 && block_da + tx_da > da.max_block_size)
                {
                    pool.skip_sender(sender);
                    continue;
                }
                match executor.execute_transaction(&tx.with_encoded()) {
                    Ok(gas) => {
                        block_da += tx_da;
                        fees += tx.priority_fee(inputs.base_fee, gas);
                        transactions.push(tx.into_envelope());
                    }
                    Err(BlockExecutionError::Validation(e)) => {
                        // No sender or hash: the transaction may have arrived encrypted.
                        tracing::debug!(target: "aegis::executor", error = %e, "skipping pool transaction");
                        pool.skip_sender(sender);
                    }
                    Err(e) => return Err(ExecutorError::Execution(e.to_string())),
                }
            }
        }
        let (_evm, result) = executor
            .finish()
            .map_err(|e| ExecutorError::Execution(e.to_string()))?;
        state.merge_transitions(BundleRetention::PlainState);
        let bundle = state.take_bundle();
        let mut diff = StateDiff::default();
        for (address, account) in bundle.state {
            let info = account.info.as_ref().map(|i| AccountInfo {
                nonce: i.nonce,
                balance: i.balance,
                code_hash: i.code_hash,
            });
            let storage = account
                .storage
                .iter()
                .map(|(k, s)| (*k, s.present_value))
                .collect();
            diff.accounts.insert(
                address,
                AccountDiff {
                    info,
                    storage_wiped: account.was_destroyed(),
                    storage,
                },
            );
        }
        for (hash, code) in bundle.contracts {
            diff.codes.insert(hash, code.original_bytes());
        }
        Ok(Executed {
            transactions,
            receipts: result.receipts,
            gas_used: result.gas_used,
            da_footprint: result.blob_gas_used,
            fees,
            diff,
        })
    }

    fn seal(
        &self,
        parent_hash: B256,
        inputs: &BlockInputs,
        executed: Executed,
    ) -> Result<ExecutedBlock, ExecutorError> {
        let ts = inputs.timestamp;
        let update = self.store.prepare_update(&parent_hash, &executed.diff)?;
        let canyon = self.active(OpFork::Canyon, ts);
        let ecotone = self.active(OpFork::Ecotone, ts);
        let isthmus = self.active(OpFork::Isthmus, ts);
        let withdrawals_root = if isthmus {
            let passer = match update.changed_account(&L2_TO_L1_MESSAGE_PASSER) {
                Some(account) => account,
                None => self
                    .store
                    .state_at(&parent_hash)?
                    .account(&L2_TO_L1_MESSAGE_PASSER)?,
            };
            Some(passer.map_or(EMPTY_ROOT_HASH, |a| a.storage_root))
        } else {
            canyon.then_some(EMPTY_ROOT_HASH)
        };
        let header = Header {
            parent_hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: inputs.fee_recipient,
            state_root: update.state_root,
            transactions_root: proofs::calculate_transaction_root(&executed.transactions),
            receipts_root: header::receipts_root(&self.spec, ts, &executed.receipts),
            logs_bloom: logs_bloom(executed.receipts.iter().flat_map(|r| r.logs())),
            difficulty: U256::ZERO,
            number: inputs.number,
            gas_limit: inputs.gas_limit,
            gas_used: executed.gas_used,
            timestamp: ts,
            extra_data: inputs.extra_data.clone(),
            mix_hash: inputs.prev_randao,
            nonce: B64::ZERO,
            base_fee_per_gas: Some(inputs.base_fee),
            withdrawals_root,
            blob_gas_used: ecotone.then_some(if self.active(OpFork::Jovian, ts) {
                executed.da_footprint
            } else {
                0
            }),
            excess_blob_gas: ecotone.then_some(0),
            parent_beacon_block_root: inputs.parent_beacon_block_root,
            requests_hash: isthmus.then_some(EMPTY_REQUESTS_HASH),
        };
        let hash = header.hash_slow();
        let body = BlockBody {
            transactions: executed.transactions,
            ommers: Vec::new(),
            withdrawals: canyon.then(Default::default),
        };
        Ok(ExecutedBlock {
            block: OpBlock::new(header, body),
            hash,
            receipts: executed.receipts,
            fees: executed.fees,
            update,
        })
    }
}

/// L1 data fee and operator fee of transactions at one block, from the L1Block predeploy.
#[derive(Debug, Clone)]
pub struct L1Fees {
    info: op_revm::L1BlockInfo,
    spec: op_revm::OpSpecId,
}

impl L1Fees {
    /// The L1Block values these fees are computed from.
    pub fn info(&self) -> &op_revm::L1BlockInfo {
        &self.info
    }

    /// L1 gas a transaction's data is charged for (pre-Fjord metering; informational).
    pub fn l1_gas_used(&self, encoded: &[u8]) -> U256 {
        self.info.data_gas(encoded, self.spec)
    }

    /// The L1 data fee of a transaction with these EIP-2718 bytes.
    pub fn l1_fee(&self, encoded: &[u8]) -> U256 {
        let mut info = self.info.clone();
        info.tx_l1_cost = None;
        info.calculate_tx_l1_cost(encoded, self.spec)
    }

    /// The operator fee charged up front for `gas_limit` (Isthmus).
    pub fn operator_fee(&self, encoded: &[u8], gas_limit: u64) -> U256 {
        self.info
            .operator_fee_charge(encoded, U256::from(gas_limit), self.spec)
    }
}

/// Transactions offered to block building by a pool.
pub trait TxPool: Send + Sync + 'static {
    /// Pool transactions, best first, for a block with `base_fee`.
    fn best_transactions(&self, base_fee: u64) -> Box<dyn PoolTxSource + Send>;
    /// Changes whenever the pool's content changes, so a payload job rebuilds only when it can
    /// improve.
    fn version(&self) -> u64;
    /// Total gas limit of the executable transactions: whether a full block is waiting.
    fn pending_gas(&self) -> u64;
    /// A new canonical head: drop what it included or made invalid.
    fn on_new_head(&self, _executor: &Executor) {}
    /// `miner_setMaxDASize`: the data-availability limits the builder enforces from now on.
    fn set_da_limits(&self, _limits: DaLimits) {}
}

/// The genesis alloc as a state diff from the empty state.
pub fn genesis_alloc(spec: &ChainSpec) -> StateDiff {
    let mut diff = StateDiff::default();
    for (address, account) in &spec.genesis.alloc {
        let code = account.code.clone().unwrap_or_default();
        let code_hash = alloy_primitives::keccak256(&code);
        if !code.is_empty() {
            diff.codes.insert(code_hash, code);
        }
        let storage = account
            .storage
            .iter()
            .flatten()
            .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
            .collect();
        diff.accounts.insert(
            *address,
            AccountDiff {
                info: Some(AccountInfo {
                    nonce: account.nonce.unwrap_or_default(),
                    balance: account.balance,
                    code_hash,
                }),
                storage_wiped: false,
                storage,
            },
        );
    }
    diff
}
