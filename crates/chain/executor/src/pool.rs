//! Pool transactions as the block builder consumes them, and a fee-ordered source.

use crate::ExecutorError;
use alloy_consensus::{
    Transaction,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::eip2718::{Decodable2718, WithEncoded};
use alloy_primitives::{Address, B256, Bytes, U256};
use op_alloy_consensus::OpTxEnvelope;
use std::collections::{BinaryHeap, HashMap, VecDeque};

/// A decoded, sender-recovered transaction with its exact EIP-2718 bytes (which the L1 data fee
/// is charged on).
#[derive(Clone, Debug)]
pub struct PoolTx {
    tx: Recovered<OpTxEnvelope>,
    encoded: Bytes,
    hash: B256,
}

impl PoolTx {
    /// Decodes EIP-2718 bytes and recovers the sender; deposits carry their sender.
    pub fn decode(encoded: Bytes) -> Result<Self, ExecutorError> {
        let envelope = OpTxEnvelope::decode_2718_exact(&encoded)
            .map_err(|e| ExecutorError::InvalidTransaction(format!("decode: {e}")))?;
        let sender = envelope
            .recover_signer()
            .map_err(|e| ExecutorError::InvalidTransaction(format!("signature: {e}")))?;
        Ok(Self {
            tx: Recovered::new_unchecked(envelope, sender),
            // The transaction hash is keccak256 of the EIP-2718 bytes for every type; computed
            // once here rather than on each lookup.
            hash: alloy_primitives::keccak256(&encoded),
            encoded,
        })
    }

    /// The transaction hash.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// The sender.
    pub fn sender(&self) -> Address {
        self.tx.signer()
    }

    /// The transaction.
    pub fn envelope(&self) -> &OpTxEnvelope {
        self.tx.inner()
    }

    /// The EIP-2718 bytes.
    pub fn encoded(&self) -> &Bytes {
        &self.encoded
    }

    /// Whether this is a deposit (which only the rollup node may supply).
    pub fn is_deposit(&self) -> bool {
        self.tx.inner().is_deposit()
    }

    /// The gas limit.
    pub fn gas_limit(&self) -> u64 {
        self.tx.inner().gas_limit()
    }

    /// The nonce.
    pub fn nonce(&self) -> u64 {
        self.tx.inner().nonce()
    }

    /// Tip per gas paid at `base_fee`, `None` if the fee cap is below the base fee.
    pub fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        self.tx.inner().effective_tip_per_gas(base_fee)
    }

    pub(crate) fn priority_fee(&self, base_fee: u64, gas_used: u64) -> U256 {
        if self.is_deposit() {
            return U256::ZERO;
        }
        U256::from(self.effective_tip(base_fee).unwrap_or_default()) * U256::from(gas_used)
    }

    pub(crate) fn with_encoded(&self) -> WithEncoded<&Recovered<OpTxEnvelope>> {
        WithEncoded::new(self.encoded.clone(), &self.tx)
    }

    pub(crate) fn into_envelope(self) -> OpTxEnvelope {
        self.tx.into_inner()
    }
}

/// Where the block builder takes pool transactions from, best first.
pub trait PoolTxSource {
    /// The next transaction to try, or `None` when exhausted.
    fn next_tx(&mut self) -> Option<PoolTx>;
    /// The last transaction of `sender` could not be included: later ones of the same sender
    /// must not be offered in this block (they would have a nonce gap).
    fn skip_sender(&mut self, sender: Address);
    /// Data-availability limits the block must respect (`miner_setMaxDASize`).
    fn da_limits(&self) -> DaLimits {
        DaLimits::default()
    }
}

/// Orders a block's pool transactions: the pool's ordering interface, behind which the
/// intelligence strategies live. `txs` are the pending (gap-free) transactions.
pub trait TxOrdering: Send + Sync + std::fmt::Debug {
    /// The transactions in the order the builder should try them.
    fn order(
        &self,
        txs: Vec<PoolTx>,
        base_fee: u64,
        da_limits: DaLimits,
    ) -> Box<dyn PoolTxSource + Send>;
}

/// op-geth's `miner_setMaxDASize` throttle, in estimated compressed bytes (0: no limit). The
/// batcher lowers these when L1 data is backlogged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DaLimits {
    /// Largest estimated DA size of one transaction.
    pub max_tx_size: u64,
    /// Largest total estimated DA size of a block's pool transactions.
    pub max_block_size: u64,
}

impl DaLimits {
    /// A transaction's estimated DA size in bytes (the Fjord FastLZ estimate op-geth uses).
    pub fn estimated_size(encoded: &[u8]) -> u64 {
        op_revm::estimate_tx_compressed_size(encoded) / 1_000_000
    }
}

/// Highest tip first, per-sender nonce order kept, FIFO among equal tips.
#[derive(Debug, Default)]
pub struct FeeOrderedTxs {
    base_fee: u64,
    da_limits: DaLimits,
    by_sender: HashMap<Address, VecDeque<PoolTx>>,
    ready: BinaryHeap<(u128, std::cmp::Reverse<u64>, Address)>,
    seq: u64,
}

impl FeeOrderedTxs {
    /// Orders `txs` for a block with `base_fee`. Transactions of one sender are sorted by nonce;
    /// ones that cannot pay the base fee are dropped.
    pub fn new(txs: impl IntoIterator<Item = PoolTx>, base_fee: u64) -> Self {
        let mut by_sender: HashMap<Address, Vec<PoolTx>> = HashMap::new();
        for tx in txs {
            by_sender.entry(tx.sender()).or_default().push(tx);
        }
        let mut this = Self {
            base_fee,
            ..Default::default()
        };
        for (sender, mut txs) in by_sender {
            txs.sort_by_key(PoolTx::nonce);
            this.by_sender.insert(sender, txs.into());
            this.push_head(sender);
        }
        this
    }

    /// The same ordering, offered with DA limits for the builder to enforce.
    pub fn with_da_limits(mut self, da_limits: DaLimits) -> Self {
        self.da_limits = da_limits;
        self
    }

    fn push_head(&mut self, sender: Address) {
        let Some(queue) = self.by_sender.get_mut(&sender) else {
            return;
        };
        while let Some(head) = queue.front() {
            match head.effective_tip(self.base_fee) {
                Some(tip) => {
                    self.seq += 1;
                    self.ready.push((tip, std::cmp::Reverse(self.seq), sender));
                    return;
                }
                // Cannot pay the base fee: neither it nor its successors fit this block.
                None => queue.clear(),
            }
        }
    }
}

impl PoolTxSource for FeeOrderedTxs {
    fn next_tx(&mut self) -> Option<PoolTx> {
        let (_, _, sender) = self.ready.pop()?;
        let tx = self.by_sender.get_mut(&sender)?.pop_front()?;
        self.push_head(sender);
        Some(tx)
    }

    fn skip_sender(&mut self, sender: Address) {
        self.by_sender.remove(&sender);
        self.ready.retain(|(_, _, s)| *s != sender);
    }

    fn da_limits(&self) -> DaLimits {
        self.da_limits
    }
}
