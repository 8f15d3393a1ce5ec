//! Block ordering strategies: which pending transaction the builder tries next.
//!
//! Every transaction is first *classified* from what it carries, without executing it: its
//! recipient, selector, the address-shaped words of its calldata, its access list, registry
//! lookups, and its sender's quantum exposure (a nonce above zero means the sender has signed
//! before, so its public key is on chain for a quantum attacker to invert). The strategy then
//! ranks it:
//!
//! | strategy           | first                                                          |
//! |--------------------|----------------------------------------------------------------|
//! | `fee`              | highest tip (the default)                                      |
//! | `risk-aware`       | exposed senders moving value, then exposed senders, then tip   |
//! | `asset-protection` | transactions touching a protected asset, then tip              |
//! | `migration-aware`  | transactions to vaults and migration contracts, as one group   |
//! | `hybrid`           | a weighted sum of the four (weights from `[intelligence]`)     |
//!
//! Invariants for all: transactions of one sender come in nonce order (only a sender's next
//! transaction is ever ranked); deposits never come from the pool (the builder puts the
//! rollup node's forced transactions first); gas and DA limits stay the builder's; the order
//! depends only on the pool's content and the configuration (ties break on sender address).
//!
//! When an asset's policy at the current risk level says so (never at NORMAL), a transaction
//! touching it is *quarantined*: held in the pool, not offered to the block (nor are that
//! sender's later transactions), and reported. Transactions from the registry's exempt senders
//! (the sequencer's own key, system accounts) are never held, and protected addresses (the
//! sequencer's contracts, predeploys) are never assets.

mod classify;
mod ranked;

pub use classify::{Classification, Classifier, Verdict};
pub use ranked::RankedTxs;

use aegis_executor::{DaLimits, PoolTx, PoolTxSource, TxOrdering};
use aegis_qrm::RiskLevel;
use aegis_registry::ProtectionSet;
use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, RwLock},
};

/// Errors of the ordering configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OrderingError {
    /// Not one of the strategies.
    #[error(
        "unknown strategy {0:?} (expected fee, risk-aware, asset-protection, migration-aware or hybrid)"
    )]
    UnknownStrategy(String),
    /// Hybrid weights that are all zero.
    #[error("intelligence.weights: at least one weight must be above zero")]
    ZeroWeights,
}

/// The strategies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Plain priority fee.
    #[default]
    Fee,
    /// High-risk first.
    RiskAware,
    /// Protected-asset transactions first.
    AssetProtection,
    /// Migration transactions grouped first.
    MigrationAware,
    /// Weighted combination.
    Hybrid,
}

impl std::str::FromStr for Strategy {
    type Err = OrderingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "fee" => Self::Fee,
            "risk-aware" => Self::RiskAware,
            "asset-protection" => Self::AssetProtection,
            "migration-aware" => Self::MigrationAware,
            "hybrid" => Self::Hybrid,
            other => return Err(OrderingError::UnknownStrategy(other.to_owned())),
        })
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fee => "fee",
            Self::RiskAware => "risk-aware",
            Self::AssetProtection => "asset-protection",
            Self::MigrationAware => "migration-aware",
            Self::Hybrid => "hybrid",
        })
    }
}

/// Weights of the hybrid strategy's components, each scored `0..=1000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridWeights {
    /// The tip (1000 at 1 gwei and above, linear below).
    pub fee: u32,
    /// Sender exposure and value movement.
    pub risk: u32,
    /// Touching a protected asset.
    pub asset: u32,
    /// Going to a vault or migration contract.
    pub migration: u32,
}

impl Default for HybridWeights {
    fn default() -> Self {
        Self {
            fee: 1,
            risk: 2,
            asset: 3,
            migration: 2,
        }
    }
}

impl HybridWeights {
    /// Refuses all-zero weights.
    pub fn validate(&self) -> Result<(), OrderingError> {
        if self.fee == 0 && self.risk == 0 && self.asset == 0 && self.migration == 0 {
            return Err(OrderingError::ZeroWeights);
        }
        Ok(())
    }
}

/// What classification looks things up in.
#[derive(Clone, Debug, Default)]
pub struct OrderingContext {
    /// Protected assets and vaults (from the registry).
    pub protection: Arc<ProtectionSet>,
    /// The risk level (selects each asset's allowance).
    pub level: RiskLevel,
    /// Migration contracts of the running migrations (besides every asset's vaults).
    pub migration_targets: Arc<HashSet<Address>>,
}

/// A quarantined transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuarantinedTx {
    /// Its hash.
    pub hash: B256,
    /// Its sender.
    pub sender: Address,
    /// The protected asset it touches.
    pub asset: B256,
}

/// The node's ordering: a strategy and a context, both replaceable at run time, and the
/// transactions its last ordering quarantined.
#[derive(Debug)]
pub struct Orderer {
    state: RwLock<(Strategy, HybridWeights, OrderingContext)>,
    quarantined: RwLock<BTreeMap<B256, QuarantinedTx>>,
}

impl Orderer {
    /// An orderer with `strategy` and hybrid `weights`.
    pub fn new(strategy: Strategy, weights: HybridWeights) -> Result<Self, OrderingError> {
        weights.validate()?;
        Ok(Self {
            state: RwLock::new((strategy, weights, OrderingContext::default())),
            quarantined: RwLock::default(),
        })
    }

    /// The strategy in force.
    pub fn strategy(&self) -> Strategy {
        self.state.read().expect("ordering state").0
    }

    /// Switches the strategy.
    pub fn set_strategy(&self, strategy: Strategy) {
        self.state.write().expect("ordering state").0 = strategy;
    }

    /// Replaces the classification context (new registry content, risk level, migrations).
    pub fn set_context(&self, context: OrderingContext) {
        self.state.write().expect("ordering state").2 = context;
    }

    /// The classification context in force.
    pub fn context(&self) -> OrderingContext {
        self.state.read().expect("ordering state").2.clone()
    }

    /// What the last ordering held back.
    pub fn quarantined(&self) -> Vec<QuarantinedTx> {
        self.quarantined
            .read()
            .expect("quarantine")
            .values()
            .cloned()
            .collect()
    }
}

impl TxOrdering for Orderer {
    fn order(
        &self,
        txs: Vec<PoolTx>,
        base_fee: u64,
        da_limits: DaLimits,
    ) -> Box<dyn PoolTxSource + Send> {
        let (strategy, weights, context) = self.state.read().expect("ordering state").clone();
        let ranked = RankedTxs::new(txs, base_fee, strategy, weights, &Classifier::new(&context))
            .with_da_limits(da_limits);
        let held: BTreeMap<B256, QuarantinedTx> = ranked
            .quarantined()
            .iter()
            .map(|q| (q.hash, q.clone()))
            .collect();
        metrics::gauge!("aegis_quarantined_transactions").set(held.len() as f64);
        *self.quarantined.write().expect("quarantine") = held;
        Box::new(ranked)
    }
}

#[cfg(test)]
mod tests;
