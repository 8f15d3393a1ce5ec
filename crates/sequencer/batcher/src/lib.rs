//! L1 batch submission for the aegis sequencer.
//!
//! [`encode_batch`] turns a range of L2 blocks into the OP derivation format: one singular
//! batch per block (`0x00 ‖ rlp([parentHash, epochNum, epochHash, timestamp, txs])`, deposits
//! left out), a channel of those batches compressed with brotli (Fjord's `0x01` channel
//! version), cut into frames (`channelId ‖ frameNumber ‖ length ‖ data ‖ isLast`), each carried
//! by one batcher transaction (`0x00 ‖ frame`). Every batch gets a [`BatchId`] (channel id, L2
//! block range, hash of its frames): the handle later stages sign and attest.
//!
//! [`Batcher`] posts them to the batch inbox from the rollup config's batcher key, starting
//! after the rollup node's safe head, so that a node deriving from L1 alone reproduces the chain.
//! It follows every frame transaction until it is final (confirmed and derived): a dropped or
//! reorged-out transaction is sent again unchanged, a stuck one again with bumped fees, and a
//! lost nonce, a nonce gap or a safe head that stops following what was confirmed requeues the
//! blocks from the first one the rollup node has not derived. L1 outages are retried with
//! backoff; the L1 is never trusted blindly (see [`l1`]).

mod frames;
pub mod l1;
mod submission;

pub use frames::{BatchId, EncodedBatch, MAX_BLOCKS_PER_CHANNEL, MAX_FRAME_DATA, encode_batch};
pub use l1::L1Client;
pub use submission::{
    BatchSink, Batcher, BatcherConfig, BuiltBatch, FEE_BUMP_PERCENT, SinkFuture, bumped_fees,
};

/// Errors of batch encoding and submission.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// A block does not start with a recognised L1-attributes deposit.
    #[error("block {0} has no L1-attributes deposit to take its epoch from")]
    NoL1Info(u64),
    /// Brotli failed.
    #[error("compression failed: {0}")]
    Compression(String),
    /// The L1 node refused, failed or answered nonsense.
    #[error("L1 RPC {method}: {reason}")]
    L1 {
        /// The JSON-RPC method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// The L1 node serves another chain than the rollup config's L1.
    #[error("the L1 RPC serves chain {got}, but the rollup config's L1 is chain {expected}")]
    WrongChain {
        /// The rollup config's L1 chain id.
        expected: u64,
        /// What the node said.
        got: u64,
    },
    /// Signing a batcher transaction failed.
    #[error("signing batch transaction: {0}")]
    Sign(String),
    /// The store or executor failed.
    #[error("reading L2 blocks: {0}")]
    L2(String),
}

impl BatcherError {
    /// Whether the L1 side failed (unreachable, refusing or not the right chain), as opposed
    /// to this node.
    pub fn is_l1(&self) -> bool {
        matches!(self, Self::L1 { .. } | Self::WrongChain { .. })
    }
}
