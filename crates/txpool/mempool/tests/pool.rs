//! Every pool rule, with geth's error texts.

use aegis_executor::{PoolTx, PoolTxSource};
use aegis_mempool::{ChainState, Pool, PoolConfig, PoolError, PoolStatus};
use aegis_testing::{Fees, TxType, signer, user_deposit, user_tx_with_fees};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use std::collections::{BTreeMap, HashMap};

const CHAIN: u64 = 901;
const GWEI: u128 = 1_000_000_000;

#[derive(Default)]
struct State {
    accounts: HashMap<Address, (u64, U256)>,
    l1_fee: U256,
    before_isthmus: bool,
}

impl ChainState for State {
    fn account(&self, address: &Address) -> (u64, U256) {
        self.accounts.get(address).copied().unwrap_or_default()
    }
    fn chain_id(&self) -> u64 {
        CHAIN
    }
    fn block_gas_limit(&self) -> u64 {
        30_000_000
    }
    fn l1_fee(&self, encoded: &[u8]) -> U256 {
        self.l1_fee * U256::from(encoded.len())
    }
    fn accepts_eip7702(&self) -> bool {
        !self.before_isthmus
    }
}

fn funded(signers: &[&PrivateKeySigner]) -> State {
    let mut state = State::default();
    for s in signers {
        state
            .accounts
            .insert(s.address(), (0, U256::from(10u128.pow(20))));
    }
    state
}

fn tx(signer: &PrivateKeySigner, nonce: u64, max_fee: u128, tip: u128) -> PoolTx {
    tx_with(
        signer,
        nonce,
        Fees { max_fee, tip },
        21_000,
        Bytes::new(),
        Some(CHAIN),
    )
}

fn tx_with(
    signer: &PrivateKeySigner,
    nonce: u64,
    fees: Fees,
    gas: u64,
    input: Bytes,
    chain: Option<u64>,
) -> PoolTx {
    let raw = user_tx_with_fees(
        TxType::Eip1559,
        signer,
        chain,
        nonce,
        TxKind::Call(Address::repeat_byte(1)),
        U256::from(1),
        input,
        gas,
        fees,
    );
    PoolTx::decode(raw).unwrap()
}

#[test]
fn pending_queued_and_promotion_when_the_gap_fills() {
    let alice = signer(0);
    let state = funded(&[&alice]);
    let pool = Pool::new(PoolConfig::default());
    pool.add(tx(&alice, 0, 5 * GWEI, GWEI), &state).unwrap();
    pool.add(tx(&alice, 2, 5 * GWEI, GWEI), &state).unwrap();
    assert_eq!(
        pool.status(),
        PoolStatus {
            pending: 1,
            queued: 1
        }
    );
    assert_eq!(pool.pending_nonce(&alice.address(), 0), 1);
    pool.add(tx(&alice, 1, 5 * GWEI, GWEI), &state).unwrap();
    assert_eq!(
        pool.status(),
        PoolStatus {
            pending: 3,
            queued: 0
        }
    );
    assert_eq!(pool.pending_nonce(&alice.address(), 0), 3);
    // The builder gets them in nonce order.
    let mut best = pool.best(GWEI as u64);
    let nonces: Vec<_> = std::iter::from_fn(|| best.next_tx())
        .map(|t| t.nonce())
        .collect();
    assert_eq!(nonces, vec![0, 1, 2]);
}

#[test]
fn nonce_rules() {
    let alice = signer(0);
    let mut state = funded(&[&alice]);
    state
        .accounts
        .insert(alice.address(), (5, U256::from(10u128.pow(20))));
    let pool = Pool::new(PoolConfig {
        per_sender: 4,
        ..Default::default()
    });
    assert_eq!(
        pool.add(tx(&alice, 4, 5 * GWEI, GWEI), &state),
        Err(PoolError::NonceTooLow)
    );
    assert_eq!(
        pool.add(tx(&alice, 9, 5 * GWEI, GWEI), &state),
        Err(PoolError::NonceTooHigh)
    );
    let t = tx(&alice, 5, 5 * GWEI, GWEI);
    pool.add(t.clone(), &state).unwrap();
    assert_eq!(pool.add(t, &state), Err(PoolError::AlreadyKnown));
}

#[test]
fn replacement_needs_a_ten_percent_bump() {
    let alice = signer(0);
    let state = funded(&[&alice]);
    let pool = Pool::new(PoolConfig::default());
    let first = pool
        .add(tx(&alice, 0, 10 * GWEI, 2 * GWEI), &state)
        .unwrap();
    let low = tx(&alice, 0, 10_500_000_000, 2_100_000_000);
    assert_eq!(
        pool.add(low, &state),
        Err(PoolError::ReplacementUnderpriced)
    );
    let second = pool
        .add(tx(&alice, 0, 11 * GWEI, 2_200_000_000), &state)
        .unwrap();
    assert!(pool.get(&first).is_none(), "replaced");
    assert!(pool.get(&second).is_some());
    assert_eq!(pool.len(), 1);
}

#[test]
fn funds_include_value_gas_and_l1_fee() {
    let alice = signer(0);
    let mut state = State {
        l1_fee: U256::from(10u64.pow(12)),
        ..Default::default()
    };
    // 21,000 gas * 5 gwei + 1 wei = 105,000 gwei; the L1 fee (≈ 110 bytes * 1e12) tips it over.
    state
        .accounts
        .insert(alice.address(), (0, U256::from(105_000u128 * GWEI + 1)));
    let pool = Pool::new(PoolConfig::default());
    assert_eq!(
        pool.add(tx(&alice, 0, 5 * GWEI, GWEI), &state),
        Err(PoolError::InsufficientFunds)
    );
    state.l1_fee = U256::ZERO;
    pool.add(tx(&alice, 0, 5 * GWEI, GWEI), &state).unwrap();
}

#[test]
fn static_checks() {
    let alice = signer(0);
    let state = funded(&[&alice]);
    let pool = Pool::new(PoolConfig {
        min_fee_per_gas: GWEI,
        ..Default::default()
    });
    let fees = Fees {
        max_fee: 5 * GWEI,
        tip: GWEI,
    };
    assert_eq!(
        pool.add(
            tx_with(&alice, 0, fees, 21_000, Bytes::new(), Some(CHAIN + 1)),
            &state
        ),
        Err(PoolError::InvalidChainId)
    );
    let legacy = user_tx_with_fees(
        TxType::Legacy,
        &alice,
        None,
        0,
        TxKind::Call(Address::ZERO),
        U256::ZERO,
        Bytes::new(),
        21_000,
        fees,
    );
    assert_eq!(
        pool.add(PoolTx::decode(legacy).unwrap(), &state),
        Err(PoolError::InvalidChainId)
    );
    let deposit = user_deposit(
        alice.address(),
        TxKind::Call(Address::ZERO),
        0,
        U256::ZERO,
        21_000,
        Bytes::new(),
        1,
    );
    assert_eq!(
        pool.add(PoolTx::decode(deposit).unwrap(), &state),
        Err(PoolError::TxTypeNotSupported)
    );
    assert_eq!(
        pool.add(
            tx_with(&alice, 0, fees, 20_000, Bytes::new(), Some(CHAIN)),
            &state
        ),
        Err(PoolError::IntrinsicGasTooLow)
    );
    assert_eq!(
        pool.add(
            tx_with(&alice, 0, fees, 31_000_000, Bytes::new(), Some(CHAIN)),
            &state
        ),
        Err(PoolError::ExceedsBlockGasLimit)
    );
    let big = Bytes::from(vec![1u8; 129 * 1024]);
    assert_eq!(
        pool.add(
            tx_with(&alice, 0, fees, 29_000_000, big, Some(CHAIN)),
            &state
        ),
        Err(PoolError::OversizedData)
    );
    let cheap = Fees {
        max_fee: GWEI - 1,
        tip: 1,
    };
    assert_eq!(
        pool.add(
            tx_with(&alice, 0, cheap, 21_000, Bytes::new(), Some(CHAIN)),
            &state
        ),
        Err(PoolError::Underpriced)
    );
    // EIP-7623 floor: 1 KiB of non-zero calldata needs 21,000 + 40,960 gas.
    let data = Bytes::from(vec![1u8; 1024]);
    assert_eq!(
        pool.add(
            tx_with(&alice, 0, fees, 60_000, data.clone(), Some(CHAIN)),
            &state
        ),
        Err(PoolError::IntrinsicGasTooLow)
    );
    pool.add(tx_with(&alice, 0, fees, 62_000, data, Some(CHAIN)), &state)
        .unwrap();
}

#[test]
fn full_pool_evicts_the_lowest_paying_or_refuses() {
    let signers: Vec<_> = (0..5).map(signer).collect();
    let state = funded(&signers.iter().collect::<Vec<_>>());
    let pool = Pool::new(PoolConfig {
        capacity: 3,
        ..Default::default()
    });
    for (i, s) in signers.iter().take(3).enumerate() {
        pool.add(tx(s, 0, 10 * GWEI, (i as u128 + 1) * GWEI), &state)
            .unwrap();
    }
    assert_eq!(
        pool.add(tx(&signers[3], 0, 10 * GWEI, GWEI / 2), &state),
        Err(PoolError::PoolFull)
    );
    pool.add(tx(&signers[4], 0, 10 * GWEI, 5 * GWEI), &state)
        .unwrap();
    assert_eq!(pool.len(), 3);
    assert_eq!(
        pool.pending_nonce(&signers[0].address(), 0),
        0,
        "the 1-gwei tip was evicted"
    );
}

#[test]
fn revalidation_drops_included_and_unaffordable() {
    let (alice, bob) = (signer(0), signer(1));
    let mut state = funded(&[&alice, &bob]);
    let pool = Pool::new(PoolConfig::default());
    for n in 0..3 {
        pool.add(tx(&alice, n, 5 * GWEI, GWEI), &state).unwrap();
    }
    pool.add(tx(&bob, 0, 5 * GWEI, GWEI), &state).unwrap();
    // A block included alice's first two; bob spent his balance elsewhere.
    state
        .accounts
        .insert(alice.address(), (2, U256::from(10u128.pow(20))));
    state.accounts.insert(bob.address(), (0, U256::from(1)));
    pool.revalidate(&state);
    assert_eq!(
        pool.status(),
        PoolStatus {
            pending: 1,
            queued: 0
        }
    );
    assert_eq!(pool.pending_nonce(&alice.address(), 2), 3);
}

#[test]
fn error_texts_are_geths() {
    for (error, text) in [
        (PoolError::NonceTooLow, "nonce too low"),
        (PoolError::NonceTooHigh, "nonce too high"),
        (
            PoolError::InsufficientFunds,
            "insufficient funds for gas * price + value",
        ),
        (
            PoolError::ReplacementUnderpriced,
            "replacement transaction underpriced",
        ),
        (PoolError::Underpriced, "transaction underpriced"),
        (PoolError::OversizedData, "oversized data"),
        (PoolError::InvalidSender, "invalid sender"),
        (PoolError::PoolFull, "txpool is full"),
        (PoolError::AccountLimitExceeded, "account limit exceeded"),
        (PoolError::ExceedsBlockGasLimit, "exceeds block gas limit"),
        (PoolError::InvalidChainId, "invalid chain id"),
        (
            PoolError::TxTypeNotSupported,
            "transaction type not supported",
        ),
    ] {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn eip7702_is_accepted_and_pays_for_its_authorizations() {
    let alice = signer(0);
    let mut state = funded(&[&alice]);
    let pool = Pool::new(PoolConfig::default());
    let delegate = Address::repeat_byte(0xde);
    state.before_isthmus = true;
    let early = aegis_testing::eip7702_tx(&alice, CHAIN, 0, delegate, 46_000);
    assert_eq!(
        pool.add(PoolTx::decode(early).unwrap(), &state),
        Err(PoolError::TxTypeNotSupported)
    );
    state.before_isthmus = false;
    // 21,000 + 25,000 per authorization.
    let short = aegis_testing::eip7702_tx(&alice, CHAIN, 0, delegate, 45_999);
    assert_eq!(
        pool.add(PoolTx::decode(short).unwrap(), &state),
        Err(PoolError::IntrinsicGasTooLow)
    );
    let tx = aegis_testing::eip7702_tx(&alice, CHAIN, 0, delegate, 46_000);
    pool.add(PoolTx::decode(tx).unwrap(), &state).unwrap();
    assert_eq!(pool.status().pending, 1);
}

#[test]
fn the_journal_restores_transactions_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("transactions.journal");
    let (alice, bob) = (signer(0), signer(1));
    let mut state = funded(&[&alice, &bob]);
    let pool = Pool::new(PoolConfig::default());
    assert_eq!(pool.open_journal(&path, &state).unwrap(), 0);
    for nonce in [0, 1, 3] {
        pool.add_local(tx(&alice, nonce, 5 * GWEI, GWEI), &state)
            .unwrap();
    }
    pool.add_local(tx(&bob, 0, 5 * GWEI, GWEI), &state).unwrap();
    // A replacement: only the newer one may come back.
    let replacement = tx(&bob, 0, 6 * GWEI, 2 * GWEI);
    let replacement_hash = replacement.envelope().tx_hash();
    pool.add_local(replacement, &state).unwrap();
    // Rejected transactions are not journaled.
    assert!(pool.add_local(tx(&bob, 0, 5 * GWEI, GWEI), &state).is_err());
    drop(pool);

    // Restart after alice's nonce 0 was included: it is stale now and dropped.
    state.accounts.get_mut(&alice.address()).unwrap().0 = 1;
    let restarted = Pool::new(PoolConfig::default());
    assert_eq!(restarted.open_journal(&path, &state).unwrap(), 3);
    assert_eq!(
        restarted.status(),
        PoolStatus {
            pending: 2,
            queued: 1
        }
    );
    assert!(restarted.get(&replacement_hash).is_some());
    // The journal was rewritten with exactly what was kept.
    let kept = aegis_mempool::decode_records(&std::fs::read(&path).unwrap());
    assert_eq!(kept.len(), 3);
}

#[test]
fn private_transactions_never_reach_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("transactions.journal");
    let (alice, bob) = (signer(0), signer(1));
    let state = funded(&[&alice, &bob]);
    let pool = Pool::new(PoolConfig::default());
    pool.open_journal(&path, &state).unwrap();
    let public = tx(&alice, 0, 5 * GWEI, GWEI);
    let secret = tx(&bob, 0, 5 * GWEI, GWEI);
    let secret_raw = secret.encoded().clone();
    pool.add_local(public, &state).unwrap();
    let secret_hash = pool.add_private(secret, &state).unwrap();
    assert!(pool.get(&secret_hash).is_some());
    drop(pool);
    let records = aegis_mempool::decode_records(&std::fs::read(&path).unwrap());
    assert_eq!(records.len(), 1);
    assert!(!records.contains(&secret_raw));
    // Nor after a rewrite (a restart rewrites the journal with the live pool).
    let restarted = Pool::new(PoolConfig::default());
    assert_eq!(restarted.open_journal(&path, &state).unwrap(), 1);
    restarted
        .add_private(tx(&bob, 0, 5 * GWEI, GWEI), &state)
        .unwrap();
    drop(restarted);
    let again = Pool::new(PoolConfig::default());
    assert_eq!(again.open_journal(&path, &state).unwrap(), 1);
}

#[test]
fn a_senders_transactions_must_be_affordable_together() {
    let alice = signer(0);
    let mut state = State::default();
    // 21,000 gas × 10 gwei + 1 wei value per transaction: the balance covers exactly two.
    let each = U256::from(21_000u128 * 10 * GWEI + 1);
    state
        .accounts
        .insert(alice.address(), (0, each * U256::from(2)));
    let pool = Pool::new(PoolConfig::default());
    pool.add(tx(&alice, 0, 10 * GWEI, GWEI), &state).unwrap();
    pool.add(tx(&alice, 1, 10 * GWEI, GWEI), &state).unwrap();
    // A third, pending or queued, would overdraw the account once the first two execute.
    assert_eq!(
        pool.add(tx(&alice, 2, 10 * GWEI, GWEI), &state),
        Err(PoolError::InsufficientFunds)
    );
    assert_eq!(
        pool.add(tx(&alice, 7, 10 * GWEI, GWEI), &state),
        Err(PoolError::InsufficientFunds)
    );
    // A replacement counts instead of the one it replaces, not beside it.
    assert_eq!(
        pool.add(tx(&alice, 1, 11 * GWEI, 2 * GWEI), &state),
        Err(PoolError::InsufficientFunds),
        "the bumped fee no longer fits"
    );
    state
        .accounts
        .insert(alice.address(), (0, each * U256::from(3)));
    pool.add(tx(&alice, 1, 11 * GWEI, 2 * GWEI), &state)
        .unwrap();
    assert_eq!(pool.len(), 2);

    // The balance falls: from the first transaction it no longer covers, the rest go too
    // (nothing is left behind a gap).
    pool.add(tx(&alice, 2, 10 * GWEI, GWEI), &state)
        .unwrap_err();
    state.accounts.insert(alice.address(), (0, each));
    pool.revalidate(&state);
    assert_eq!(
        pool.status(),
        PoolStatus {
            pending: 1,
            queued: 0
        }
    );
}

#[test]
fn queued_transactions_expire_after_the_lifetime() {
    let (alice, bob) = (signer(0), signer(1));
    let state = funded(&[&alice, &bob]);
    let lifetime = std::time::Duration::from_secs(3 * 60 * 60);
    let pool = Pool::new(PoolConfig {
        lifetime,
        ..Default::default()
    });
    pool.add(tx(&alice, 0, 5 * GWEI, GWEI), &state).unwrap();
    pool.add(tx(&alice, 5, 5 * GWEI, GWEI), &state).unwrap();
    pool.add(tx(&bob, 3, 5 * GWEI, GWEI), &state).unwrap();
    let now = std::time::Instant::now();
    pool.revalidate_at(&state, now + lifetime / 2);
    assert_eq!(pool.len(), 3, "nothing expires within the lifetime");
    pool.revalidate_at(&state, now + lifetime + std::time::Duration::from_secs(1));
    // Queued ones are gone; alice's executable one stays for the next block.
    assert_eq!(
        pool.status(),
        PoolStatus {
            pending: 1,
            queued: 0
        }
    );
}

#[test]
fn encrypted_arrivals_are_invisible_to_public_views() {
    let (alice, bob) = (signer(0), signer(1));
    let state = funded(&[&alice, &bob]);
    let pool = Pool::new(PoolConfig::default());
    let public = pool
        .add_local(tx(&alice, 0, 5 * GWEI, GWEI), &state)
        .unwrap();
    let secret = pool
        .add_private(tx(&bob, 0, 5 * GWEI, GWEI), &state)
        .unwrap();
    let queued_secret = pool
        .add_private(tx(&alice, 2, 5 * GWEI, GWEI), &state)
        .unwrap();
    assert!(pool.get_public(&public).is_some());
    assert!(pool.get_public(&secret).is_none());
    assert!(pool.get_public(&queued_secret).is_none());
    assert!(pool.get(&secret).is_some(), "the builder still sees it");
    assert_eq!(pool.public_pending_nonce(&bob.address(), 0), 0);
    assert_eq!(pool.pending_nonce(&bob.address(), 0), 1);
    let content = pool.public_content(usize::MAX);
    assert!(!content.pending.contains_key(&bob.address()));
    assert!(content.queued.is_empty());
    assert_eq!(content.pending[&alice.address()].len(), 1);
    // The builder gets all of them.
    let mut best = pool.best(0);
    let mut built = 0;
    while best.next_tx().is_some() {
        built += 1;
    }
    assert_eq!(built, 2);
    // A public replacement of an encrypted one is public.
    let replaced = pool.add(tx(&bob, 0, 6 * GWEI, 2 * GWEI), &state).unwrap();
    assert!(pool.get_public(&replaced).is_some());
}

#[test]
fn txpool_content_is_bounded() {
    let senders: Vec<_> = (0..5).map(signer).collect();
    let state = funded(&senders.iter().collect::<Vec<_>>());
    let pool = Pool::new(PoolConfig::default());
    for s in &senders {
        for nonce in 0..10 {
            pool.add(tx(s, nonce, 5 * GWEI, GWEI), &state).unwrap();
        }
    }
    let content = pool.public_content(12);
    let listed: usize = content.pending.values().map(|txs| txs.len()).sum();
    assert_eq!(listed, 12);
}

#[test]
fn queued_transactions_have_bounds_of_their_own_and_never_displace_executable_ones() {
    let signers: Vec<_> = (0..12).map(signer).collect();
    let state = funded(&signers.iter().collect::<Vec<_>>());
    let pool = Pool::new(PoolConfig {
        capacity: 8,
        account_queue: 2,
        global_queue: 3,
        ..Default::default()
    });
    let (a, b, c) = (&signers[0], &signers[1], &signers[2]);
    // Per sender, then for the whole pool.
    pool.add(tx(a, 5, 5 * GWEI, GWEI), &state).unwrap();
    pool.add(tx(a, 6, 5 * GWEI, GWEI), &state).unwrap();
    assert_eq!(
        pool.add(tx(a, 7, 5 * GWEI, GWEI), &state),
        Err(PoolError::AccountLimitExceeded)
    );
    pool.add(tx(b, 3, 5 * GWEI, GWEI), &state).unwrap();
    assert_eq!(
        pool.add(tx(c, 3, 5 * GWEI, GWEI), &state),
        Err(PoolError::PoolFull)
    );
    // An executable one is not bound by them; a replacement of a queued one neither.
    pool.add(tx(a, 0, 5 * GWEI, GWEI), &state).unwrap();
    pool.add(tx(a, 6, 10 * GWEI, 2 * GWEI), &state).unwrap();
    assert_eq!(pool.status().queued, 3);
    // Filling the pool with executable transactions that pay more evicts the queued ones
    // first, whatever they pay, and never the other way round.
    for s in &signers[3..7] {
        pool.add(tx(s, 0, 10 * GWEI, 3 * GWEI), &state).unwrap();
    }
    assert_eq!((pool.len(), pool.status().queued), (8, 3));
    for (i, s) in signers[8..11].iter().enumerate() {
        pool.add(tx(s, 0, 5 * GWEI, GWEI / 2), &state).unwrap();
        assert_eq!(pool.status().queued, 2 - i, "a queued one made room");
        assert_eq!(pool.len(), 8);
    }
    assert_eq!(pool.status().pending, 8);
    // Nothing queued is left to evict, and nothing executable pays less than a half gwei.
    assert_eq!(
        pool.add(tx(&signers[11], 0, 5 * GWEI, GWEI / 4), &state),
        Err(PoolError::PoolFull)
    );
    assert_eq!(
        pool.add(tx(&signers[11], 4, 50 * GWEI, 20 * GWEI), &state),
        Err(PoolError::PoolFull),
        "a queued transaction never takes an executable one's place, whatever it pays"
    );
}

/// The burst of the throughput issue, at pool level: concurrent clients send every sender's
/// transactions out of nonce order into a pool too small for them, so refusals cut gaps. The
/// pool stays usable: what is queued stays within its bounds, and a new sender's transfer is
/// accepted and offered to the next block.
#[test]
fn a_burst_out_of_nonce_order_leaves_the_pool_usable() {
    let signers: Vec<_> = (0..41).map(signer).collect();
    let state = funded(&signers.iter().collect::<Vec<_>>());
    let pool = Pool::new(PoolConfig {
        capacity: 400,
        account_queue: 16,
        global_queue: 64,
        ..Default::default()
    });
    // 40 senders × 20 nonces, interleaved as concurrent connections deliver them: each
    // sender's nonces in a scrambled order.
    let mut order: Vec<(usize, u64)> = (0..40)
        .flat_map(|s| (0..20u64).map(move |n| (s, (n * 7 + s as u64) % 20)))
        .collect();
    order.sort_by_key(|(s, n)| (n.wrapping_mul(2_654_435_761) ^ *s as u64) % 997);
    let mut refused = 0;
    for (s, nonce) in order {
        if pool
            .add(tx(&signers[s], nonce, 5 * GWEI, GWEI), &state)
            .is_err()
        {
            refused += 1;
        }
    }
    let status = pool.status();
    assert!(refused > 0, "the burst must overflow the pool");
    assert!(status.queued <= 64, "{status:?}");
    assert!(status.pending >= 400 - 64, "{status:?}");
    for txs in pool.content().queued.values() {
        assert!(txs.len() <= 16);
    }
    // The next block takes every executable transaction (a 1G-gas block holds them all).
    let mut state = state;
    for s in &signers[..40] {
        let entry = state.accounts.get_mut(&s.address()).unwrap();
        entry.0 = pool.pending_nonce(&s.address(), entry.0);
    }
    pool.revalidate(&state);
    assert_eq!(pool.status().pending, 0);
    // A new sender's transfer at the same price as everyone's is accepted and offered.
    let fresh = tx(&signers[40], 0, 5 * GWEI, GWEI);
    let hash = fresh.hash();
    pool.add(fresh, &state).unwrap();
    let mut best = pool.best(GWEI as u64);
    let mut offered = false;
    while let Some(tx) = best.next_tx() {
        offered |= tx.hash() == hash;
    }
    assert!(
        offered,
        "the new sender's transfer is offered to the next block"
    );
}

mod queue_bounds {
    //! Whatever arrives in whatever order, and however heads move, the queued transactions stay
    //! within their bounds, and a queued arrival within them is accepted.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn queued_bounds_hold(ops in proptest::collection::vec((0..5usize, 0..10u64, 0..4u64), 1..80)) {
            let signers: Vec<_> = (0..5).map(signer).collect();
            let mut state = funded(&signers.iter().collect::<Vec<_>>());
            let pool = Pool::new(PoolConfig {
                capacity: 12,
                account_queue: 2,
                global_queue: 4,
                ..Default::default()
            });
            for (sender, nonce, mined) in ops {
                let address = signers[sender].address();
                if mined == 3 {
                    // A block includes the sender's next pending transaction, if any.
                    let state_nonce = state.accounts[&address].0;
                    if pool.pending_nonce(&address, state_nonce) > state_nonce {
                        state.accounts.get_mut(&address).unwrap().0 += 1;
                        pool.revalidate(&state);
                    }
                    continue;
                }
                let state_nonce = state.accounts[&address].0;
                let content = pool.content();
                let queued_total: usize = content.queued.values().map(BTreeMap::len).sum();
                let queued_here = content.queued.get(&address).map_or(0, BTreeMap::len);
                let held = content.pending.get(&address).is_some_and(|t| t.contains_key(&(state_nonce + nonce)))
                    || content.queued.get(&address).is_some_and(|t| t.contains_key(&(state_nonce + nonce)));
                let gap = state_nonce + nonce > pool.pending_nonce(&address, state_nonce);
                let result = pool.add(tx(&signers[sender], state_nonce + nonce, 5 * GWEI, GWEI), &state);
                if gap && !held && queued_here < 2 && queued_total < 4 && pool.len() < 12 {
                    prop_assert!(result.is_ok(), "{:?}", result);
                }
                let status = pool.status();
                prop_assert!(status.queued <= 4, "{:?}", status);
                for txs in pool.content().queued.values() {
                    prop_assert!(txs.len() <= 2);
                }
            }
        }
    }
}

mod journal_secrecy {
    //! No interleaving of encrypted arrivals, public ones, replacements, journal rewrites and
    //! restarts ever writes an encrypted transaction's bytes to disk.
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Public { sender: u32, nonce: u64, bump: u128 },
        Private { sender: u32, nonce: u64, bump: u128 },
        Compact,
        Revalidate { included: u64 },
        Restart,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..3u32, 0..4u64, 0..3u128).prop_map(|(sender, nonce, bump)| Op::Public {
                sender,
                nonce,
                bump
            }),
            (0..3u32, 0..4u64, 0..3u128).prop_map(|(sender, nonce, bump)| Op::Private {
                sender,
                nonce,
                bump
            }),
            Just(Op::Compact),
            (0..2u64).prop_map(|included| Op::Revalidate { included }),
            Just(Op::Restart),
        ]
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn encrypted_plaintext_never_reaches_the_disk(ops in proptest::collection::vec(op(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("transactions.journal");
            let signers: Vec<_> = (0..3).map(signer).collect();
            let mut state = funded(&signers.iter().collect::<Vec<_>>());
            let mut pool = Pool::new(PoolConfig::default());
            pool.open_journal(&path, &state).unwrap();
            let mut secrets: Vec<Bytes> = Vec::new();
            for op in ops {
                match op {
                    Op::Public { sender, nonce, bump } => {
                        let t = tx(&signers[sender as usize], nonce, (5 + 2 * bump) * GWEI, (1 + bump) * GWEI);
                        let _ = pool.add_local(t, &state);
                    }
                    Op::Private { sender, nonce, bump } => {
                        // Calldata sets it apart: only its sender could publish these bytes.
                        let t = tx_with(
                            &signers[sender as usize],
                            nonce,
                            Fees { max_fee: (5 + 2 * bump) * GWEI, tip: (1 + bump) * GWEI },
                            30_000,
                            Bytes::from_static(&[0xee; 8]),
                            Some(CHAIN),
                        );
                        let raw = t.encoded().clone();
                        if pool.add_private(t, &state).is_ok() {
                            secrets.push(raw);
                        }
                    }
                    Op::Compact => pool.compact_journal().unwrap(),
                    Op::Revalidate { included } => {
                        for s in &signers {
                            let entry = state.accounts.get_mut(&s.address()).unwrap();
                            entry.0 += included;
                        }
                        pool.revalidate(&state);
                    }
                    Op::Restart => {
                        drop(pool);
                        pool = Pool::new(PoolConfig::default());
                        pool.open_journal(&path, &state).unwrap();
                    }
                }
                let image = std::fs::read(&path).unwrap();
                for secret in &secrets {
                    prop_assert!(!contains(&image, secret), "an encrypted transaction reached the journal");
                }
            }
        }
    }

    #[test]
    fn concurrent_rewrites_never_catch_an_encrypted_arrival() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transactions.journal");
        let signers: Vec<_> = (0..8).map(signer).collect();
        let state = funded(&signers.iter().collect::<Vec<_>>());
        let pool = Pool::new(PoolConfig::default());
        pool.open_journal(&path, &state).unwrap();
        let secrets: Vec<PoolTx> = signers
            .iter()
            .flat_map(|s| (0..40).map(move |n| tx(s, n, 5 * GWEI, GWEI)))
            .collect();
        let raws: Vec<Bytes> = secrets.iter().map(|t| t.encoded().clone()).collect();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    pool.compact_journal().unwrap();
                }
            });
            scope.spawn(|| {
                for t in secrets {
                    pool.add_private(t, &state).unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::Release);
            });
        });
        pool.compact_journal().unwrap();
        let image = std::fs::read(&path).unwrap();
        assert!(raws.iter().all(|raw| !contains(&image, raw)));
        assert_eq!(pool.len(), 320);
    }
}
