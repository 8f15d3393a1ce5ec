//! Ordering a full 10,000-transaction pool (2,000 senders × 5) and draining it, per strategy;
//! and the classification cost of one transaction.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use aegis_executor::{DaLimits, PoolTx, TxOrdering};
use aegis_ordering::{Classifier, HybridWeights, Orderer, OrderingContext, Strategy};
use aegis_registry::{ProtectedAsset, ProtectionPolicy, ProtectionSet};
use aegis_testing::{TxType, user_tx};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use criterion::{Criterion, criterion_group, criterion_main};
use std::{hint::black_box, sync::Arc};

fn erc20_transfer(to: Address) -> Bytes {
    aegis_testing::erc20_transfer_input(to, U256::from(1))
}

const TOKEN: Address = Address::repeat_byte(0x70);
const VAULT: Address = Address::repeat_byte(0x7a);

fn pool() -> Vec<PoolTx> {
    let mut txs = Vec::with_capacity(10_000);
    for s in 0..2_000u64 {
        let signer =
            PrivateKeySigner::from_bytes(&B256::left_padding_from(&(s + 1).to_be_bytes())).unwrap();
        for nonce in 0..5 {
            let (to, input) = match (s + nonce) % 4 {
                0 => (TOKEN, erc20_transfer(Address::repeat_byte(0x11))),
                1 => (TOKEN, erc20_transfer(VAULT)),
                _ => (Address::repeat_byte(0x22), Bytes::new()),
            };
            let raw = user_tx(
                TxType::Eip1559,
                &signer,
                901,
                nonce,
                TxKind::Call(to),
                U256::from(1),
                input,
                60_000,
            );
            txs.push(PoolTx::decode(raw).unwrap());
        }
    }
    txs
}

fn context(level: aegis_qrm::RiskLevel) -> OrderingContext {
    let mut protection = ProtectionSet::default();
    protection.assets.insert(
        TOKEN,
        ProtectedAsset {
            id: B256::repeat_byte(1),
            policy: ProtectionPolicy::default(),
            vaults: [VAULT].into(),
        },
    );
    protection.all_vaults.insert(VAULT);
    OrderingContext {
        protection: Arc::new(protection),
        level,
        migration_targets: Default::default(),
    }
}

fn order(c: &mut Criterion) {
    use aegis_qrm::RiskLevel::{Emergency, Normal};
    let txs = pool();
    let ctx = context(Emergency);
    // At EMERGENCY the transfers to non-vaults (and their senders' later transactions) are held:
    // about 70% of this pool.
    for (strategy, level) in [
        (Strategy::Fee, Normal),
        (Strategy::Hybrid, Normal),
        (Strategy::AssetProtection, Emergency),
        (Strategy::Hybrid, Emergency),
    ] {
        let orderer = Orderer::new(strategy, HybridWeights::default()).unwrap();
        orderer.set_context(context(level));
        c.bench_function(
            &format!("order/{strategy} at {level:?}: 10k pool, ordered and drained"),
            |b| {
                b.iter_batched(
                    || txs.clone(),
                    |txs| {
                        let mut source = orderer.order(txs, 1, DaLimits::default());
                        let mut n = 0;
                        while let Some(tx) = source.next_tx() {
                            black_box(&tx);
                            n += 1;
                        }
                        n
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
    }
    let classifier_ctx = ctx.clone();
    let classifier = Classifier::new(&classifier_ctx);
    c.bench_function("order/classify one transaction", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % txs.len();
            black_box(classifier.classify(&txs[i]))
        })
    });
}

criterion_group!(benches, order);
criterion_main!(benches);
