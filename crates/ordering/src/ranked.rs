//! Pending transactions ranked by a strategy, served best first with nonce order per sender.

use crate::{
    Classifier, HybridWeights, QuarantinedTx, Strategy, Verdict, classify::Classification,
};
use aegis_executor::{DaLimits, PoolTx, PoolTxSource};
use alloy_primitives::Address;
use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap, VecDeque},
};

/// `(strategy rank, tip, sender)`: the heap's key; the sender makes it a total order, so the
/// result does not depend on the order transactions arrive in.
type Key = (u64, u128, Reverse<Address>);

/// The ordered transactions of one block.
#[derive(Debug, Default)]
pub struct RankedTxs {
    da_limits: DaLimits,
    by_sender: HashMap<Address, VecDeque<(PoolTx, Key)>>,
    ready: BinaryHeap<Key>,
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
        let mut grouped: HashMap<Address, Vec<PoolTx>> = HashMap::new();
        for tx in txs {
            grouped.entry(tx.sender()).or_default().push(tx);
        }
        let mut this = Self {
            by_sender: HashMap::with_capacity(grouped.len()),
            ready: BinaryHeap::with_capacity(grouped.len()),
            ..Default::default()
        };
        for (sender, mut txs) in grouped {
            txs.sort_unstable_by_key(PoolTx::nonce);
            let mut queue = VecDeque::with_capacity(txs.len());
            let mut held = None;
            for tx in txs {
                if let Some(asset) = held {
                    // Behind a quarantined transaction: held with it.
                    this.quarantined.push(QuarantinedTx {
                        hash: *tx.envelope().hash(),
                        sender,
                        asset,
                    });
                    continue;
                }
                let Some(tip) = tx.effective_tip(base_fee).filter(|_| !tx.is_deposit()) else {
                    break;
                };
                let class = classifier.classify(&tx);
                if let Verdict::Quarantine(asset) = class.verdict {
                    this.quarantined.push(QuarantinedTx {
                        hash: *tx.envelope().hash(),
                        sender,
                        asset,
                    });
                    held = Some(asset);
                    continue;
                }
                let key = (rank(strategy, weights, &class, tip), tip, Reverse(sender));
                queue.push_back((tx, key));
            }
            if let Some((_, key)) = queue.front() {
                this.ready.push(*key);
                this.by_sender.insert(sender, queue);
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
            let (_, _, Reverse(sender)) = self.ready.pop()?;
            // A skipped sender's entry is dropped lazily here.
            let Some(queue) = self.by_sender.get_mut(&sender) else {
                continue;
            };
            let (tx, _) = queue.pop_front()?;
            match queue.front() {
                Some((_, key)) => self.ready.push(*key),
                None => {
                    self.by_sender.remove(&sender);
                }
            }
            return Some(tx);
        }
    }

    fn skip_sender(&mut self, sender: Address) {
        self.by_sender.remove(&sender);
    }

    fn da_limits(&self) -> DaLimits {
        self.da_limits
    }
}
