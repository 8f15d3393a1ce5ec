//! Blocks built from rollup-node style attributes on one node and imported on a fresh node.

use aegis_executor::{ExecutorError, FeeOrderedTxs, ImportOutcome, PoolTx};
use aegis_testing::{
    BASE_FEE_VAULT, DEPOSITOR, ETH, IMessagePasser, L1_FEE_VAULT, MESSAGE_PASSER, TestNode, TxType,
    attributes, erc20_block, fee_ordered, head_hash, rich_block, signer, spec, transfer, user_tx,
};
use alloy_consensus::Transaction;
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::Signer as _;
use alloy_sol_types::SolCall;
use op_alloy_consensus::OpReceiptEnvelope;

fn pool(txs: &[Bytes], base_fee: u64) -> FeeOrderedTxs {
    fee_ordered(txs, base_fee)
}

fn build(node: &TestNode, forced: Vec<Bytes>, txs: &[Bytes]) -> aegis_executor::ExecutedBlock {
    node.build(forced, txs)
}

fn import(node: &TestNode, block: &aegis_executor::ExecutedBlock) {
    let outcome = node.executor.import(&block.block).unwrap();
    assert_eq!(outcome, ImportOutcome::Valid(block.hash));
    node.store.set_head(block.hash).unwrap();
}

#[test]
fn holocene_block_with_deposits_and_every_tx_type_imports_identically() {
    let spec = spec(None, None);
    let a = TestNode::new(spec.clone());
    let b = TestNode::new(spec.clone());
    assert_eq!(a.head().hash_slow(), spec.genesis_hash());
    let bob = signer(1);
    let depositor = DEPOSITOR;

    // Block 1: deposits (mint to a fresh account, a reverting call with mint, a creation), then
    // legacy, EIP-2930, EIP-1559 transfers and a contract deployment from the pool.
    let (forced, txs) = rich_block(&spec);
    let block1 = build(&a, forced, &txs);
    assert_eq!(block1.block.body.transactions.len(), 8, "every tx included");
    assert!(
        block1.receipts.iter().skip(4).all(|r| r.status()),
        "pool txs succeed"
    );

    // Deposit receipts carry depositNonce and version 1; the reverting deposit keeps its mint
    // and bumps the nonce.
    let receipts: Vec<_> = block1
        .receipts
        .iter()
        .take(4)
        .map(|r| match r {
            OpReceiptEnvelope::Deposit(d) => d.receipt.clone(),
            other => panic!("expected a deposit receipt, got {other:?}"),
        })
        .collect();
    assert!(
        receipts
            .iter()
            .all(|r| r.deposit_receipt_version == Some(1))
    );
    assert_eq!(receipts[1].deposit_nonce, Some(0));
    assert_eq!(receipts[2].deposit_nonce, Some(1));
    assert!(
        !receipts[2].inner.status.coerce_status(),
        "withdraw without balance reverts"
    );
    assert_eq!(a.balance(&depositor), U256::from(5 * ETH));
    assert_eq!(a.nonce(&depositor), 3);
    let created = depositor.create(2);
    assert!(
        a.store
            .state_at(&block1.hash)
            .unwrap()
            .account(&created)
            .unwrap()
            .is_some()
    );

    // Fees reach the vaults.
    assert!(a.balance(&BASE_FEE_VAULT) > U256::ZERO, "base fee paid");
    assert!(a.balance(&L1_FEE_VAULT) > U256::ZERO, "L1 data fee paid");
    assert!(block1.fees > U256::ZERO);
    let header = &block1.block.header;
    assert_eq!(header.extra_data.len(), 9, "Holocene extraData");
    assert_eq!(header.withdrawals_root, Some(alloy_trie::EMPTY_ROOT_HASH));

    // Block 2: ERC-20 (WETH) deposits and transfers on the deployed token.
    let token = bob.address().create(0);
    let txs = erc20_block(&spec);
    let block2 = build(&a, vec![], &txs);
    assert_eq!(block2.block.body.transactions.len(), 4);
    assert!(block2.receipts.iter().all(|r| r.status()));
    let state = a.store.state_at(&block2.hash).unwrap();
    assert!(state.account(&token).unwrap().unwrap().storage_root != alloy_trie::EMPTY_ROOT_HASH);

    // Node B imports both blocks and ends at the same head and state root.
    import(&b, &block1);
    import(&b, &block2);
    assert_eq!(b.head().hash_slow(), block2.hash);
    assert_eq!(
        b.store.recompute_flat_state_root().unwrap(),
        block2.block.header.state_root
    );
    assert_eq!(
        a.store.recompute_flat_state_root().unwrap(),
        block2.block.header.state_root
    );
}

#[test]
fn isthmus_block_commits_message_passer_root_and_requests_hash() {
    // Isthmus activates with block 1 (the devnet's predeploys are pre-Isthmus).
    let spec = spec(Some(2), None);
    let a = TestNode::new(spec.clone());
    let b = TestNode::new(spec.clone());
    let genesis = a.head();
    assert_eq!(genesis.requests_hash, None);
    let alice = signer(0);
    let withdrawal = IMessagePasser::initiateWithdrawalCall {
        target: alice.address(),
        gasLimit: U256::from(100_000),
        data: Bytes::new(),
    }
    .abi_encode();
    let txs = vec![user_tx(
        TxType::Eip1559,
        &alice,
        spec.chain_id,
        0,
        TxKind::Call(MESSAGE_PASSER),
        U256::from(ETH),
        withdrawal.into(),
        200_000,
    )];
    let block = build(&a, vec![], &txs);
    assert!(block.receipts[1].status(), "withdrawal initiated");
    let header = &block.block.header;
    let passer = a
        .store
        .state_at(&block.hash)
        .unwrap()
        .account(&MESSAGE_PASSER)
        .unwrap()
        .unwrap();
    assert_eq!(header.withdrawals_root, Some(passer.storage_root));
    assert_ne!(
        header.withdrawals_root, genesis.withdrawals_root,
        "a message was recorded"
    );
    assert_eq!(header.requests_hash, Some(EMPTY_REQUESTS_HASH));
    import(&b, &block);
}

#[test]
fn jovian_activation_writes_min_base_fee_extra_data_and_da_footprint() {
    let spec = spec(Some(2), Some(4));
    let a = TestNode::new(spec.clone());
    let b = TestNode::new(spec.clone());
    let alice = signer(0);
    let mut blocks = Vec::new();
    for nonce in 0..4 {
        let tx = user_tx(
            TxType::Eip1559,
            &alice,
            spec.chain_id,
            nonce,
            TxKind::Call(Address::repeat_byte(1)),
            U256::from(1),
            Bytes::from(vec![0xab; 300]),
            60_000,
        );
        blocks.push(build(&a, vec![], &[tx]));
    }
    let first = &blocks[0].block.header;
    assert_eq!(first.extra_data.len(), 9, "before Jovian");
    let jovian = &blocks[1].block.header;
    assert_eq!(
        jovian.extra_data.len(),
        17,
        "Jovian extraData carries the min base fee"
    );
    assert!(
        jovian.base_fee_per_gas.unwrap() >= 1_000
            || blocks[2].block.header.base_fee_per_gas.unwrap() >= 1_000
    );
    assert!(
        blocks[3].block.header.base_fee_per_gas.unwrap() >= 1_000,
        "clamped to minBaseFee"
    );
    for block in &blocks {
        import(&b, block);
    }
}

#[test]
fn tampered_blocks_are_invalid_with_parent_as_latest_valid() {
    let spec = spec(None, None);
    let a = TestNode::new(spec.clone());
    let b = TestNode::new(spec.clone());
    let alice = signer(0);
    let tx = user_tx(
        TxType::Eip1559,
        &alice,
        spec.chain_id,
        0,
        TxKind::Call(Address::repeat_byte(2)),
        U256::from(5),
        Bytes::new(),
        21_000,
    );
    let block = build(&a, vec![], &[tx]);
    let parent = block.block.header.parent_hash;

    let mut wrong_root = block.block.clone();
    wrong_root.header.state_root = alloy_primitives::B256::repeat_byte(1);
    let mut missing_tx = block.block.clone();
    missing_tx.body.transactions.pop();
    let mut wrong_gas = block.block.clone();
    wrong_gas.header.gas_used += 1;
    let mut bad_extra = block.block.clone();
    bad_extra.header.extra_data = Bytes::from_static(&[1, 2, 3]);
    for (name, bad) in [
        ("state root", wrong_root),
        ("tx", missing_tx),
        ("gas", wrong_gas),
        ("extra", bad_extra),
    ] {
        match b.executor.import(&bad).unwrap() {
            ImportOutcome::Invalid {
                latest_valid_hash,
                reason,
            } => {
                assert_eq!(latest_valid_hash, parent, "{name}");
                assert!(!reason.is_empty());
            }
            other => panic!("{name}: expected invalid, got {other:?}"),
        }
    }
    // Nothing invalid was stored; the genuine block still imports.
    import(&b, &block);

    let mut orphan = block.block.clone();
    orphan.header.parent_hash = alloy_primitives::B256::repeat_byte(9);
    assert!(matches!(
        b.executor.import(&orphan),
        Err(ExecutorError::UnknownParent(_))
    ));
}

#[test]
fn bad_forced_transactions_and_attributes_fail_the_build() {
    let spec = spec(None, None);
    let a = TestNode::new(spec.clone());
    let parent = a.head();
    let head = head_hash(&a);
    let mut attrs = attributes(
        &spec,
        &parent,
        vec![Bytes::from_static(&[0x7e, 0x01])],
        true,
    );
    let err = a.executor.build(head, &attrs, None).unwrap_err();
    assert!(
        matches!(err, ExecutorError::ForcedTransaction { index: 1, .. }),
        "{err}"
    );

    attrs = attributes(&spec, &parent, vec![], true);
    attrs.eip1559_params = None;
    assert!(matches!(
        a.executor.build(head, &attrs, None),
        Err(ExecutorError::InvalidAttributes(_))
    ));
    attrs = attributes(&spec, &parent, vec![], true);
    attrs.timestamp = parent.timestamp;
    assert!(matches!(
        a.executor.build(head, &attrs, None),
        Err(ExecutorError::InvalidAttributes(_))
    ));
    attrs = attributes(&spec, &parent, vec![], true);
    attrs.parent_beacon_block_root = None;
    assert!(matches!(
        a.executor.build(head, &attrs, None),
        Err(ExecutorError::InvalidAttributes(_))
    ));
}

#[test]
fn pool_skips_bad_transactions_and_their_senders_followers_and_respects_no_tx_pool() {
    let spec = spec(None, None);
    let a = TestNode::new(spec.clone());
    let chain = spec.chain_id;
    let alice = signer(0);
    let bob = signer(1);
    let broke = signer(19).with_chain_id(Some(chain));
    let to = Address::repeat_byte(3);
    let txs = vec![
        // Nonce gap: alice's nonce is 0, so neither of these may go in.
        transfer(TxType::Eip1559, &alice, chain, 1, to, 1),
        transfer(TxType::Eip1559, &alice, chain, 2, to, 1),
        // Wrong chain id.
        transfer(TxType::Eip1559, &bob, chain + 1, 0, to, 1),
        // No funds.
        transfer(TxType::Eip1559, &broke, chain, 0, to, 1),
        // Over the block gas limit.
        user_tx(
            TxType::Eip1559,
            &bob,
            chain,
            0,
            TxKind::Call(to),
            U256::from(1),
            Bytes::new(),
            100_000_000,
        ),
    ];
    let parent = a.head();
    let attrs = attributes(&spec, &parent, vec![], false);
    let mut source = pool(&txs, 1);
    let block = a
        .executor
        .build(head_hash(&a), &attrs, Some(&mut source))
        .unwrap();
    assert_eq!(
        block.block.body.transactions.len(),
        1,
        "only the L1-info deposit"
    );

    // noTxPool: a valid pool tx is not included.
    let ok = transfer(TxType::Eip1559, &alice, chain, 0, to, 1);
    let attrs = attributes(&spec, &parent, vec![], true);
    let mut source = pool(std::slice::from_ref(&ok), 1);
    let block = a
        .executor
        .build(head_hash(&a), &attrs, Some(&mut source))
        .unwrap();
    assert_eq!(block.block.body.transactions.len(), 1);
    let attrs = attributes(&spec, &parent, vec![], false);
    let mut source = pool(&[ok], 1);
    let block = a
        .executor
        .build(head_hash(&a), &attrs, Some(&mut source))
        .unwrap();
    assert_eq!(block.block.body.transactions.len(), 2);
    assert!(block.block.body.transactions[1].gas_limit() == 21_000);
}

#[test]
fn reorg_between_sibling_blocks_restores_state_and_proofs() {
    let spec = spec(None, None);
    let a = TestNode::new(spec.clone());
    let alice = signer(0);
    let chain = spec.chain_id;
    let base = build(&a, vec![], &[]);
    let x = Address::repeat_byte(0x11);
    let y = Address::repeat_byte(0x22);
    let parent = a.head();
    let mut siblings = Vec::new();
    for (target, value) in [(x, 7u64), (y, 9u64)] {
        let attrs = attributes(&spec, &parent, vec![], false);
        let tx = user_tx(
            TxType::Eip1559,
            &alice,
            chain,
            0,
            TxKind::Call(target),
            U256::from(value),
            Bytes::new(),
            21_000,
        );
        let mut source = pool(&[tx], 1);
        let block = a
            .executor
            .build(base.hash, &attrs, Some(&mut source))
            .unwrap();
        a.executor.commit(&block, false).unwrap();
        siblings.push(block);
    }
    for _ in 0..2 {
        for (block, (target, other, value)) in siblings.iter().zip([(x, y, 7u64), (y, x, 9u64)]) {
            a.store.set_head(block.hash).unwrap();
            assert_eq!(a.balance(&target), U256::from(value));
            assert_eq!(a.balance(&other), U256::ZERO);
            assert_eq!(a.nonce(&alice.address()), 1);
            assert_eq!(
                a.store.recompute_flat_state_root().unwrap(),
                block.block.header.state_root
            );
        }
    }
    // Proofs at the non-canonical sibling still verify against its state root.
    let sibling = &siblings[0];
    let proof = a.store.proof(&sibling.hash, &x, &[]).unwrap();
    assert_eq!(proof.account.unwrap().balance, U256::from(7));
    alloy_trie::proof::verify_proof(
        sibling.block.header.state_root,
        alloy_trie::Nibbles::unpack(alloy_primitives::keccak256(x)),
        Some(proof.account.unwrap().trie_rlp()),
        &proof.account_proof,
    )
    .unwrap();
    a.store.set_head(base.hash).unwrap();
    assert_eq!(a.nonce(&alice.address()), 0);
}

mod untrusted_input {
    use super::*;
    use proptest::prelude::*;

    fn valid_tx() -> Bytes {
        user_tx(
            TxType::Eip1559,
            &signer(0),
            901,
            0,
            TxKind::Call(Address::repeat_byte(4)),
            U256::from(1),
            Bytes::from_static(b"hi"),
            30_000,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes never panic the transaction decoder.
        #[test]
        fn arbitrary_bytes_never_panic_tx_decoding(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = PoolTx::decode(bytes.into());
        }

        /// A valid transaction with bytes flipped, cut or extended either decodes to a
        /// transaction whose re-encoding is the input, or is rejected.
        #[test]
        fn mutated_transactions_round_trip_or_fail(pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut raw = valid_tx().to_vec();
            let i = pos.index(raw.len());
            if cut { raw.truncate(i) } else { raw[i] = byte }
            if let Ok(tx) = PoolTx::decode(raw.clone().into()) {
                use alloy_eips::Encodable2718;
                prop_assert_eq!(tx.envelope().encoded_2718(), raw);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Blocks with a corrupted header field are refused without touching the store.
        #[test]
        fn corrupted_headers_are_refused(field in 0usize..8, value in any::<u64>()) {
            let spec = spec(None, None);
            let a = TestNode::new(spec.clone());
            let tx = user_tx(TxType::Eip1559, &signer(0), spec.chain_id, 0, TxKind::Call(Address::repeat_byte(2)), U256::from(5), Bytes::new(), 21_000);
            let block = build(&a, vec![], &[tx]);
            let b = TestNode::new(spec);
            let genesis = b.head().hash_slow();
            let mut bad = block.block.clone();
            let h = &mut bad.header;
            let word = alloy_primitives::B256::from(U256::from(value));
            match field {
                0 => h.state_root = word,
                1 => h.receipts_root = word,
                2 => h.gas_used = h.gas_used.wrapping_add(value | 1),
                3 => h.base_fee_per_gas = Some(h.base_fee_per_gas.unwrap().wrapping_add(value | 1)),
                4 => h.timestamp = value % (h.timestamp + 1),
                5 => h.logs_bloom = alloy_primitives::Bloom::repeat_byte(value as u8 | 1),
                6 => h.number = h.number.wrapping_add(value | 1),
                _ => h.transactions_root = word,
            }
            prop_assume!(bad.header != block.block.header);
            match b.executor.import(&bad).unwrap() {
                ImportOutcome::Invalid { latest_valid_hash, .. } => prop_assert_eq!(latest_valid_hash, genesis),
                ImportOutcome::Valid(_) => prop_assert!(false, "corrupted block accepted"),
            }
            prop_assert_eq!(b.head().hash_slow(), genesis);
            prop_assert_eq!(b.store.header(&bad.header.hash_slow()).unwrap(), None);
        }
    }
}

#[test]
fn eip7702_delegation_is_built_and_reimported() {
    // Isthmus (Prague, EIP-7702) activates with block 1, which carries its upgrade deposits.
    let spec = aegis_testing::spec(Some(2), None);
    let builder = TestNode::new(spec.clone());
    let activation = builder.build(vec![], &[]);
    assert_eq!(activation.block.body.transactions.len(), 9);
    assert!(activation.receipts.iter().all(|r| r.status()));
    let alice = aegis_testing::signer(0);
    let delegate = alloy_primitives::Address::repeat_byte(0xde);
    let tx = aegis_testing::eip7702_tx(&alice, spec.chain_id, 0, delegate, 100_000);
    let block = builder.build(vec![], &[tx]);
    assert_eq!(block.block.body.transactions.len(), 2, "7702 tx included");
    assert!(block.receipts[1].status());
    let account = builder.account(&alice.address()).unwrap();
    let code = builder
        .store
        .state_at(&block.hash)
        .unwrap()
        .code(&account.code_hash)
        .unwrap()
        .unwrap();
    let mut expected = vec![0xef, 0x01, 0x00];
    expected.extend_from_slice(delegate.as_slice());
    assert_eq!(code.as_ref(), expected.as_slice(), "delegation designator");
    assert_eq!(account.nonce, 2, "tx nonce and authorization nonce");
    let importer = TestNode::new(spec);
    for block in [&activation, &block] {
        assert!(matches!(
            importer.executor.import(&block.block).unwrap(),
            aegis_executor::ImportOutcome::Valid(_)
        ));
    }
}
