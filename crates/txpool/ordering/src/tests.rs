use super::*;
use aegis_qrm::RiskLevel;
use aegis_registry::{Allowance, ProtectedAsset, ProtectionPolicy};
use aegis_testing::{Fees, TxType, user_tx_with_fees};
use alloy_primitives::{Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use proptest::prelude::{
    Just, ProptestConfig, any, prop_assert, prop_assert_eq, prop_oneof, proptest,
};
use proptest::strategy::Strategy as _;
use std::{collections::HashMap, sync::OnceLock};

fn erc20_transfer(to: Address) -> Bytes {
    aegis_testing::erc20_transfer_input(to, U256::from(1))
}

const TOKEN: Address = Address::repeat_byte(0x70);
const VAULT: Address = Address::repeat_byte(0x7a);
const MIGRATOR: Address = Address::repeat_byte(0x7b);
const OTHER: Address = Address::repeat_byte(0x22);

fn signers() -> &'static [PrivateKeySigner] {
    static SIGNERS: OnceLock<Vec<PrivateKeySigner>> = OnceLock::new();
    SIGNERS.get_or_init(|| {
        (1..=12u64)
            .map(|i| {
                PrivateKeySigner::from_bytes(&B256::left_padding_from(&i.to_be_bytes())).unwrap()
            })
            .collect()
    })
}

/// What a generated transaction does.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Plain,
    TokenToOther,
    TokenToVault,
    ToMigrator,
}

fn tx(signer: usize, nonce: u64, kind: Kind, tip_gwei: u128) -> PoolTx {
    let (to, input) = match kind {
        Kind::Plain => (OTHER, Bytes::new()),
        Kind::TokenToOther => (TOKEN, erc20_transfer(OTHER)),
        Kind::TokenToVault => (TOKEN, erc20_transfer(VAULT)),
        Kind::ToMigrator => (MIGRATOR, Bytes::new()),
    };
    let fees = Fees {
        max_fee: 100_000_000_000,
        tip: tip_gwei * 1_000_000_000,
    };
    let raw = user_tx_with_fees(
        TxType::Eip1559,
        &signers()[signer],
        Some(901),
        nonce,
        TxKind::Call(to),
        U256::from(1),
        input,
        60_000,
        fees,
    );
    PoolTx::decode(raw).unwrap()
}

fn context(level: RiskLevel) -> OrderingContext {
    let mut protection = ProtectionSet::default();
    protection.assets.insert(
        TOKEN,
        ProtectedAsset {
            id: B256::repeat_byte(1),
            policy: ProtectionPolicy {
                normal: Allowance::Any,
                scheduled: Allowance::Any,
                emergency: Allowance::VaultsOnly,
            },
            vaults: [VAULT].into(),
        },
    );
    protection.all_vaults.insert(VAULT);
    OrderingContext {
        protection: Arc::new(protection),
        level,
        migration_targets: Arc::new([MIGRATOR].into()),
    }
}

fn drain(source: &mut dyn PoolTxSource) -> Vec<PoolTx> {
    std::iter::from_fn(|| source.next_tx()).collect()
}

fn ordered(
    strategy: Strategy,
    level: RiskLevel,
    txs: Vec<PoolTx>,
) -> (Vec<PoolTx>, Vec<QuarantinedTx>) {
    let orderer = Orderer::new(strategy, HybridWeights::default()).unwrap();
    orderer.set_context(context(level));
    let mut source = orderer.order(txs, 1, DaLimits::default());
    (drain(&mut *source), orderer.quarantined())
}

const STRATEGIES: [Strategy; 5] = [
    Strategy::Fee,
    Strategy::RiskAware,
    Strategy::AssetProtection,
    Strategy::MigrationAware,
    Strategy::Hybrid,
];

fn kind() -> impl proptest::strategy::Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Plain),
        Just(Kind::TokenToOther),
        Just(Kind::TokenToVault),
        Just(Kind::ToMigrator)
    ]
}

/// Random pools: up to 12 senders with up to 4 consecutive nonces each, random kinds and tips.
fn pool() -> impl proptest::strategy::Strategy<Value = Vec<PoolTx>> {
    proptest::collection::vec(proptest::collection::vec((kind(), 0u128..4), 1..5), 1..12).prop_map(
        |senders| {
            let mut txs = Vec::new();
            for (s, sender_txs) in senders.into_iter().enumerate() {
                for (nonce, (kind, tip)) in sender_txs.into_iter().enumerate() {
                    txs.push(tx(s, nonce as u64, kind, tip));
                }
            }
            txs
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_strategy_keeps_nonce_order_and_is_deterministic(
        txs in pool(),
        seed in any::<u64>(),
        emergency in any::<bool>(),
    ) {
        let level = if emergency { RiskLevel::Emergency } else { RiskLevel::Normal };
        for strategy in STRATEGIES {
            let (out, held) = ordered(strategy, level, txs.clone());
            // Nothing lost: offered + quarantined = the pool.
            prop_assert_eq!(out.len() + held.len(), txs.len());
            // Nonce order per sender, gap-free from the first.
            let mut next: HashMap<Address, u64> = HashMap::new();
            for tx in &out {
                let expected = next.entry(tx.sender()).or_insert(0);
                prop_assert_eq!(tx.nonce(), *expected, "{} broke nonce order", strategy);
                *expected += 1;
            }
            // Same pool in another order: same block order.
            let mut shuffled = txs.clone();
            let n = shuffled.len();
            for i in 0..n {
                shuffled.swap(i, (seed as usize).wrapping_mul(i + 7) % n);
            }
            let (again, _) = ordered(strategy, level, shuffled);
            let hashes = |v: &[PoolTx]| v.iter().map(|t| *t.envelope().hash()).collect::<Vec<_>>();
            prop_assert_eq!(hashes(&out), hashes(&again));
        }
    }

    #[test]
    fn asset_protection_puts_protected_transactions_of_equal_fee_first(
        kinds in proptest::collection::vec(kind(), 1..12),
    ) {
        // One transaction per sender, all the same tip: every protected one precedes every
        // unprotected one.
        let txs: Vec<PoolTx> = kinds.iter().enumerate().map(|(s, k)| tx(s, 0, *k, 1)).collect();
        let (out, _) = ordered(Strategy::AssetProtection, RiskLevel::Normal, txs);
        let ctx = context(RiskLevel::Normal);
        let classifier = Classifier::new(&ctx);
        let protected: Vec<bool> = out.iter().map(|t| classifier.classify(t).protected).collect();
        let first_unprotected = protected.iter().position(|p| !p).unwrap_or(protected.len());
        prop_assert!(protected[first_unprotected..].iter().all(|p| !p), "{:?}", protected);
    }

    #[test]
    fn migration_aware_groups_migration_transactions(
        kinds in proptest::collection::vec(kind(), 1..12),
        tips in proptest::collection::vec(0u128..4, 12),
    ) {
        let txs: Vec<PoolTx> = kinds.iter().enumerate().map(|(s, k)| tx(s, 0, *k, tips[s])).collect();
        let (out, _) = ordered(Strategy::MigrationAware, RiskLevel::Normal, txs);
        let ctx = context(RiskLevel::Normal);
        let classifier = Classifier::new(&ctx);
        let migration: Vec<bool> = out.iter().map(|t| classifier.classify(t).migration).collect();
        // One contiguous group, at the start.
        let group = migration.iter().take_while(|m| **m).count();
        prop_assert!(migration[group..].iter().all(|m| !m), "{:?}", migration);
    }
}

#[test]
fn at_emergency_a_protected_transfer_to_a_non_vault_is_quarantined_with_its_successors() {
    let txs = vec![
        tx(0, 0, Kind::TokenToOther, 1),
        tx(0, 1, Kind::Plain, 1),
        tx(1, 0, Kind::TokenToVault, 1),
        tx(2, 0, Kind::Plain, 1),
    ];
    let (out, held) = ordered(Strategy::Fee, RiskLevel::Emergency, txs.clone());
    let senders: Vec<Address> = out.iter().map(PoolTx::sender).collect();
    assert_eq!(senders.len(), 2);
    assert!(senders.contains(&signers()[1].address()));
    assert!(senders.contains(&signers()[2].address()));
    assert_eq!(held.len(), 2);
    assert!(
        held.iter()
            .all(|q| q.sender == signers()[0].address() && q.asset == B256::repeat_byte(1))
    );
    // At NORMAL everything goes.
    let (out, held) = ordered(Strategy::Fee, RiskLevel::Normal, txs);
    assert_eq!((out.len(), held.len()), (4, 0));
}

#[test]
fn classification_reads_recipient_access_list_and_arguments() {
    let ctx = context(RiskLevel::Emergency);
    let classifier = Classifier::new(&ctx);
    let c = classifier.classify(&tx(0, 0, Kind::TokenToVault, 1));
    assert!(c.protected && c.migration && c.moves_value && !c.exposed);
    assert_eq!(c.verdict, Verdict::Include);
    let c = classifier.classify(&tx(0, 3, Kind::TokenToOther, 1));
    assert!(c.protected && !c.migration && c.exposed);
    assert_eq!(c.verdict, Verdict::Quarantine(B256::repeat_byte(1)));
    assert_eq!(c.risk(), 3);
    let c = classifier.classify(&tx(0, 0, Kind::ToMigrator, 1));
    assert!(c.migration && !c.protected);
    // A call to another contract that names the token in its arguments touches it too.
    let mut input = vec![0x12, 0x34, 0x56, 0x78];
    input.extend_from_slice(&[0; 12]);
    input.extend_from_slice(TOKEN.as_slice());
    let raw = aegis_testing::user_tx(
        TxType::Eip1559,
        &signers()[0],
        901,
        0,
        TxKind::Call(OTHER),
        U256::ZERO,
        input.into(),
        60_000,
    );
    let c = classifier.classify(&PoolTx::decode(raw).unwrap());
    assert!(c.protected && !c.moves_value);
    assert!(matches!(c.verdict, Verdict::Quarantine(_)));
}

#[test]
fn strategies_parse_and_unknown_ones_are_named() {
    for s in STRATEGIES {
        assert_eq!(s.to_string().parse::<Strategy>().unwrap(), s);
    }
    let e = "fastest".parse::<Strategy>().unwrap_err().to_string();
    assert!(e.contains("\"fastest\"") && e.contains("hybrid"), "{e}");
    assert!(
        Orderer::new(
            Strategy::Hybrid,
            HybridWeights {
                fee: 0,
                risk: 0,
                asset: 0,
                migration: 0
            }
        )
        .is_err()
    );
}

#[test]
fn risk_aware_puts_exposed_senders_moving_value_first() {
    // Pending transactions start at the account's nonce: sender 1 has signed 5 before.
    let fresh = tx(0, 0, Kind::Plain, 3); // not exposed, moves ETH: risk 1
    let exposed = tx(1, 5, Kind::Plain, 1); // exposed, moves ETH: risk 3
    let (out, _) = ordered(
        Strategy::RiskAware,
        RiskLevel::Normal,
        vec![fresh.clone(), exposed.clone()],
    );
    assert_eq!(out[0].sender(), exposed.sender());
    // Under `fee` the tip wins.
    let (out, _) = ordered(
        Strategy::Fee,
        RiskLevel::Normal,
        vec![fresh.clone(), exposed],
    );
    assert_eq!(out[0].sender(), fresh.sender());
}

#[test]
fn a_skipped_sender_offers_nothing_more() {
    let txs = vec![
        tx(0, 0, Kind::Plain, 3),
        tx(0, 1, Kind::Plain, 3),
        tx(1, 0, Kind::Plain, 1),
        tx(1, 1, Kind::Plain, 1),
    ];
    let orderer = Orderer::new(Strategy::Fee, HybridWeights::default()).unwrap();
    let mut source = orderer.order(txs, 1, DaLimits::default());
    let first = source.next_tx().unwrap();
    assert_eq!(first.sender(), signers()[0].address());
    // The builder could not include it: the sender's nonce 1 must not come.
    source.skip_sender(first.sender());
    let rest: Vec<_> = drain(&mut *source)
        .iter()
        .map(|t| (t.sender(), t.nonce()))
        .collect();
    assert_eq!(
        rest,
        [(signers()[1].address(), 0), (signers()[1].address(), 1)]
    );
}

/// A token frozen at EMERGENCY only: held at EMERGENCY, sequenced at NORMAL and SCHEDULED;
/// the sequencer's own transactions (exempt senders) are never held.
#[test]
fn frozen_applies_only_at_the_level_it_names_and_never_to_exempt_senders() {
    let mut protection = ProtectionSet::default();
    protection.assets.insert(
        TOKEN,
        ProtectedAsset {
            id: B256::repeat_byte(1),
            policy: ProtectionPolicy {
                // Even a (legacy) NORMAL restriction does nothing at NORMAL.
                normal: Allowance::Frozen,
                scheduled: Allowance::Any,
                emergency: Allowance::Frozen,
            },
            vaults: [VAULT].into(),
        },
    );
    let sequencer = signers()[11].address();
    protection.exempt_senders.insert(sequencer);
    let protection = Arc::new(protection);
    for (level, held) in [
        (RiskLevel::Normal, false),
        (RiskLevel::Scheduled, false),
        (RiskLevel::Emergency, true),
    ] {
        let context = OrderingContext {
            protection: protection.clone(),
            level,
            migration_targets: Arc::default(),
        };
        let classifier = Classifier::new(&context);
        for kind in [Kind::TokenToOther, Kind::TokenToVault] {
            let verdict = classifier.classify(&tx(0, 0, kind, 1)).verdict;
            assert_eq!(
                verdict != Verdict::Include,
                held,
                "{level:?} {kind:?}: {verdict:?}"
            );
            // The sequencer's own transaction touching it: never held.
            assert_eq!(
                classifier.classify(&tx(11, 0, kind, 1)).verdict,
                Verdict::Include
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Assets at protected addresses (say the attestation contract, registered before the node
    /// was configured with it) never make a transaction quarantined, whatever their policy.
    #[test]
    fn protected_addresses_never_classify_as_quarantined(
        frozen in proptest::collection::vec(any::<bool>(), 4),
        target in 0usize..4,
        as_argument in any::<bool>(),
    ) {
        use aegis_registry::{AssetKind, AssetRegistration, Locator, ProtectedAddresses, Registry};
        let addresses = [Address::repeat_byte(0xa7), Address::repeat_byte(0x42), TOKEN, OTHER];
        let dir = tempfile::tempdir().unwrap();
        let open = || Registry::open(
            dir.path().join("registry.sealed"),
            Registry::key_from_secret(&[3; 32]),
            901,
            Default::default(),
        ).unwrap();
        let mut registry = open();
        for (i, address) in addresses.iter().enumerate() {
            let policy = if frozen[i] {
                ProtectionPolicy { normal: Allowance::Any, scheduled: Allowance::Frozen, emergency: Allowance::Frozen }
            } else {
                ProtectionPolicy::default()
            };
            registry.approve(AssetRegistration {
                kind: AssetKind::Token,
                name: format!("asset {i}"),
                owner: Address::repeat_byte(9),
                locator: Locator::Contract { address: *address },
                policy,
                vaults: vec![VAULT],
                deadline: 0,
            }, 0).unwrap();
        }
        drop(registry);
        let mut protected = ProtectedAddresses::new();
        protected.insert(addresses[0]).insert(addresses[1]);
        let registry = open().with_protected(protected);
        let context = OrderingContext {
            protection: Arc::new(registry.protection_set()),
            level: RiskLevel::Emergency,
            migration_targets: Arc::default(),
        };
        let classifier = Classifier::new(&context);
        let address = addresses[target];
        // Sent to it, or naming it as a transfer's recipient.
        let (to, input) = if as_argument {
            (Address::repeat_byte(0x23), erc20_transfer(address))
        } else {
            (address, erc20_transfer(Address::repeat_byte(0x24)))
        };
        let raw = user_tx_with_fees(
            TxType::Eip1559, &signers()[0], Some(901), 0, TxKind::Call(to), U256::ZERO, input,
            60_000, Fees { max_fee: 100_000_000_000, tip: 1 },
        );
        let verdict = classifier.classify(&PoolTx::decode(raw).unwrap()).verdict;
        if target < 2 {
            prop_assert_eq!(verdict, Verdict::Include);
        }
    }
}
