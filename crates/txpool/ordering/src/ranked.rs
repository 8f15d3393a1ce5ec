//! Pending transactions ranked by a strategy, served best first with nonce order per sender.

use crate::{
    Classifier, HybridWeights, QuarantinedTx, Strategy, Verdict, classify::Classification,
};
use aegis_executor::{DaLimits, PoolTx, PoolTxSource};
use alloy_primitives::Address;
use std::{cmp::Reverse, collections::BinaryHeap};

/// `(strategy rank, tip, sender)`: the heap's key; the sender makes it a total order, so the
/// result does not depend on the order transactions arrive in.
type Key = (u64, u128, Reverse<Address>);

/// One sender's ranked transactions: `entries[next..end]`, in nonce order.
#[derive(Debug)]
struct SenderQueue {
    address: Address,
    next: usize,
    end: usize,
    skipped: bool,
}

/// The ordered transactions of one block. Transactions stay where they arrived (they are large
/// to move); the ranking works on their indices.
#[derive(Debug, Default)]
pub struct RankedTxs {
    da_limits: DaLimits,
    txs: Vec<Option<PoolTx>>,
    /// `(index into txs, key)`, grouped by sender (senders by address), nonce order within.
    entries: Vec<(u32, Key)>,
    /// By address, so `skip_sender` can binary-search.
    senders: Vec<SenderQueue>,
    ready: BinaryHeap<(Key, u32)>,
    quarantined: Vec<QuarantinedTx>,
}

impl RankedTxs {
    /// Ranks `txs` for a block with `base_fee`. Deposits and transactions that cannot pay the
    /// base fee are left out with their senders' later ones; so are quarantined ones.
    pub fn new(
        txs: Vec<PoolTx>,
        base_fee: u64,
        strategy: Strategy,
        weights: HybridWeights,
        classifier: &Classifier<'_>,
    ) -> Self {
        let mut order: Vec<(Address, u64, u32)> = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| (tx.sender(), tx.nonce(), i as u32))
            .collect();
        order.sort_unstable();
        let mut this = Self {
            entries: Vec::with_capacity(txs.len()),
            txs: txs.into_iter().map(Some).collect(),
            ..Default::default()
        };
        for group in order.chunk_by(|a, b| a.0 == b.0) {
            let sender = group[0].0;
            let start = this.entries.len();
            let mut held = None;
            for &(_, _, index) in group {
                let tx = this.txs[index as usize].as_ref().expect("present");
                if let Some(asset) = held {
                    // Behind a quarantined transaction: held with it.
                    this.quarantined.push(QuarantinedTx {
                        hash: tx.hash(),
                        sender,
                        asset,
                    });
                    continue;
                }
                let Some(tip) = tx.effective_tip(base_fee).filter(|_| !tx.is_deposit()) else {
                    break;
                };
                let class = classifier.classify(tx);
                if let Verdict::Quarantine(asset) = class.verdict {
                    this.quarantined.push(QuarantinedTx {
                        hash: tx.hash(),
                        sender,
                        asset,
                    });
                    held = Some(asset);
                    continue;
                }
                let key = (rank(strategy, weights, &class, tip), tip, Reverse(sender));
                this.entries.push((index, key));
            }
            if this.entries.len() > start {
                this.ready
                    .push((this.entries[start].1, this.senders.len() as u32));
                this.senders.push(SenderQueue {
                    address: sender,
                    next: start,
                    end: this.entries.len(),
                    skipped: false,
                });
            }
        }
        this.quarantined.sort_unstable_by_key(|q| q.hash);
        this
    }

    /// The same ranking, offered with DA limits for the builder to enforce.
    pub fn with_da_limits(mut self, da_limits: DaLimits) -> Self {
        self.da_limits = da_limits;
        self
    }

    /// The transactions held back, by hash.
    pub fn quarantined(&self) -> &[QuarantinedTx] {
        &self.quarantined
    }
}

/// The strategy's rank of a transaction (higher first; the tip breaks ties).
fn rank(strategy: Strategy, w: HybridWeights, class: &Classification, tip: u128) -> u64 {
    match strategy {
        Strategy::Fee => 0,
        Strategy::RiskAware => u64::from(class.risk()),
        Strategy::AssetProtection => u64::from(class.protected),
        Strategy::MigrationAware => u64::from(class.migration),
        Strategy::Hybrid => {
            // Components in 0..=1000: the tip saturates at 1 gwei.
            let fee = (tip / 1_000_000).min(1000) as u64;
            let risk = u64::from(class.risk()) * 1000 / 3;
            let asset = u64::from(class.protected) * 1000;
            let migration = u64::from(class.migration) * 1000;
            u64::from(w.fee) * fee
                + u64::from(w.risk) * risk
                + u64::from(w.asset) * asset
                + u64::from(w.migration) * migration
        }
    }
}

impl PoolTxSource for RankedTxs {
    fn next_tx(&mut self) -> Option<PoolTx> {
        loop {
            let (_, sender) = self.ready.pop()?;
            let queue = &mut self.senders[sender as usize];
            if queue.skipped || queue.next >= queue.end {
                continue;
            }
            let (index, _) = self.entries[queue.next];
            queue.next += 1;
            if queue.next < queue.end {
                self.ready.push((self.entries[queue.next].1, sender));
            }
            return self.txs[index as usize].take();
        }
    }

    fn skip_sender(&mut self, sender: Address) {
        if let Ok(i) = self.senders.binary_search_by_key(&sender, |q| q.address) {
            self.senders[i].skipped = true;
        }
    }

    fn da_limits(&self) -> DaLimits {
        self.da_limits
    }
}
