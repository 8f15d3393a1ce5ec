//! `eth_call` / `eth_estimateGas` semantics: estimates agree with what executes, reverts and
//! halts are told apart, overrides apply without touching the store.

use aegis_executor::ExecutorError;
use aegis_testing::{
    ETH, IWeth, TestNode, TxType, WETH, deploy_code, head_hash, signer, spec, user_tx,
};
use alloy_primitives::{Address, Bytes, TxKind, U256, address};
use alloy_rpc_types_eth::{
    BlockOverrides, TransactionRequest,
    state::{AccountOverride, StateOverride},
};
use alloy_sol_types::SolCall;

fn request(from: Address, to: Address, input: Vec<u8>) -> TransactionRequest {
    TransactionRequest::default()
        .from(from)
        .to(to)
        .input(Bytes::from(input).into())
}

/// Runtime returning 42 as a word.
const RETURN_42: [u8; 10] = [0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
/// Runtime reverting with 42 as a word.
const REVERT_42: [u8; 10] = [0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xfd];

#[test]
fn estimates_are_enough_and_tight_for_what_executes() {
    let node = TestNode::new(spec(None, None));
    let chain = node.executor.spec().chain_id;
    let alice = signer(0);
    let head = head_hash(&node);

    // A deposit into WETH: estimate it, then execute it with exactly that gas limit.
    let deposit = IWeth::depositCall {}.abi_encode();
    let estimate = node
        .executor
        .estimate_gas(
            head,
            request(alice.address(), WETH, deposit.clone()).value(U256::from(ETH)),
            None,
        )
        .unwrap();
    let tx = user_tx(
        TxType::Eip1559,
        &alice,
        chain,
        0,
        TxKind::Call(WETH),
        U256::from(ETH),
        deposit.into(),
        estimate,
    );
    let block = node.build(vec![], &[tx]);
    assert_eq!(block.block.body.transactions.len(), 2, "deposit included");
    let receipt = &block.receipts[1];
    assert!(receipt.status(), "executes with the estimate");
    let used = receipt.cumulative_gas_used() - block.receipts[0].cumulative_gas_used();
    assert!(estimate >= used);
    assert!(
        (estimate - used) as f64 / (used as f64) < 0.02,
        "estimate {estimate} tight against {used}"
    );
    // One gas less than what it used fails.
    let head = head_hash(&node);
    let transfer = IWeth::transferCall {
        to: Address::repeat_byte(7),
        value: U256::from(1),
    }
    .abi_encode();
    let estimate = node
        .executor
        .estimate_gas(head, request(alice.address(), WETH, transfer.clone()), None)
        .unwrap();
    let outcome = node.executor.call(
        head,
        request(alice.address(), WETH, transfer.clone()).gas_limit(estimate),
        None,
        None,
    );
    assert_eq!(
        outcome.unwrap(),
        Bytes::from(U256::from(1).to_be_bytes::<32>().to_vec())
    );
    let starved = node.executor.call(
        head,
        request(alice.address(), WETH, transfer).gas_limit(30_000),
        None,
        None,
    );
    assert!(
        matches!(starved, Err(ExecutorError::Halted(ref m)) if m == "out of gas"),
        "{starved:?}"
    );

    // A value transfer to an account without code is exactly 21,000.
    let plain = TransactionRequest::default()
        .from(alice.address())
        .to(Address::repeat_byte(9))
        .value(U256::from(5));
    assert_eq!(
        node.executor.estimate_gas(head, plain, None).unwrap(),
        21_000
    );
}

#[test]
fn calls_read_state_at_the_requested_block() {
    let node = TestNode::new(spec(None, None));
    let chain = node.executor.spec().chain_id;
    let alice = signer(0);
    let genesis = head_hash(&node);
    let deposit = user_tx(
        TxType::Eip1559,
        &alice,
        chain,
        0,
        TxKind::Call(WETH),
        U256::from(3),
        IWeth::depositCall {}.abi_encode().into(),
        100_000,
    );
    node.build(vec![], &[deposit]);
    let balance_of = IWeth::balanceOfCall {
        owner: alice.address(),
    }
    .abi_encode();
    let read = |at| {
        let out = node
            .executor
            .call(
                at,
                request(Address::ZERO, WETH, balance_of.clone()),
                None,
                None,
            )
            .unwrap();
        IWeth::balanceOfCall::abi_decode_returns(&out).unwrap()
    };
    assert_eq!(read(genesis), U256::ZERO);
    assert_eq!(read(head_hash(&node)), U256::from(3));
}

#[test]
fn reverts_halts_and_rejections_are_distinct() {
    let node = TestNode::new(spec(None, None));
    let alice = signer(0);
    let head = head_hash(&node);
    // WETH9 `withdraw` beyond the balance hits `require`: a revert, in both calls and estimates.
    let withdraw = IWeth::withdrawCall { wad: U256::from(1) }.abi_encode();
    let call = node.executor.call(
        head,
        request(alice.address(), WETH, withdraw.clone()),
        None,
        None,
    );
    assert!(matches!(call, Err(ExecutorError::Reverted(_))), "{call:?}");
    let estimate = node
        .executor
        .estimate_gas(head, request(alice.address(), WETH, withdraw), None);
    assert!(
        matches!(estimate, Err(ExecutorError::Reverted(_))),
        "{estimate:?}"
    );

    // A priced call from an empty account cannot pay.
    let poor = address!("0x00000000000000000000000000000000000f00d0");
    let priced = request(poor, Address::repeat_byte(1), vec![])
        .value(U256::from(1))
        .max_fee_per_gas(1_000_000_000)
        .max_priority_fee_per_gas(1);
    let outcome = node.executor.call(head, priced.clone(), None, None);
    assert!(
        matches!(outcome, Err(ExecutorError::Rejected(ref m)) if m == "insufficient funds for gas * price + value"),
        "{outcome:?}"
    );
    let outcome = node.executor.estimate_gas(head, priced, None);
    assert!(
        matches!(outcome, Err(ExecutorError::Rejected(ref m)) if m == "insufficient funds for transfer"),
        "{outcome:?}"
    );
    // Unpriced, the same empty account can call (geth's NoBaseFee).
    node.executor
        .call(
            head,
            request(
                poor,
                WETH,
                IWeth::balanceOfCall { owner: poor }.abi_encode(),
            ),
            None,
            None,
        )
        .unwrap();
    // Both `input` and a different `data` is malformed.
    let mut both = request(poor, WETH, vec![1]);
    both.input.data = Some(vec![2].into());
    let outcome = node.executor.call(head, both, None, None);
    assert!(
        matches!(outcome, Err(ExecutorError::InvalidRequest(_))),
        "{outcome:?}"
    );
}

#[test]
fn overrides_apply_to_the_call_only() {
    let node = TestNode::new(spec(None, None));
    let head = head_hash(&node);
    let target = Address::repeat_byte(0xaa);
    let code = |runtime: &[u8]| -> StateOverride {
        let mut overrides = StateOverride::default();
        overrides.insert(
            target,
            AccountOverride {
                code: Some(Bytes::copy_from_slice(runtime)),
                ..Default::default()
            },
        );
        overrides
    };
    let out = node
        .executor
        .call(
            head,
            request(Address::ZERO, target, vec![]),
            Some(code(&RETURN_42)),
            None,
        )
        .unwrap();
    assert_eq!(
        out,
        Bytes::from(U256::from(42).to_be_bytes::<32>().to_vec())
    );
    let reverted = node.executor.call(
        head,
        request(Address::ZERO, target, vec![]),
        Some(code(&REVERT_42)),
        None,
    );
    assert_eq!(
        reverted.unwrap_err().to_string(),
        "execution reverted",
        "revert data is carried separately"
    );
    // Without the override the target has no code: empty output; the store is untouched.
    let out = node
        .executor
        .call(head, request(Address::ZERO, target, vec![]), None, None)
        .unwrap();
    assert!(out.is_empty());
    assert!(node.account(&target).is_none());

    // A balance override lets a priced call from an empty account pay.
    let poor = Address::repeat_byte(0xbb);
    let mut overrides = StateOverride::default();
    overrides.insert(
        poor,
        AccountOverride {
            balance: Some(U256::from(ETH)),
            ..Default::default()
        },
    );
    let priced = request(poor, Address::repeat_byte(1), vec![])
        .value(U256::from(1))
        .max_fee_per_gas(1_000_000_000)
        .max_priority_fee_per_gas(1);
    node.executor
        .call(head, priced, Some(overrides), None)
        .unwrap();

    // A block override changes what NUMBER returns (runtime: NUMBER, MSTORE, RETURN 32).
    let number_code = [0x43, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let out = node
        .executor
        .call(
            head,
            request(Address::ZERO, target, vec![]),
            Some(code(&number_code)),
            Some(BlockOverrides {
                number: Some(U256::from(777)),
                ..Default::default()
            }),
        )
        .unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(777));

    // Contract creation: the output is the deployed runtime.
    let create = TransactionRequest::default()
        .from(Address::ZERO)
        .input(deploy_code(&RETURN_42).into());
    let mut create = create;
    create.to = Some(TxKind::Create);
    let out = node
        .executor
        .call(head, create.clone(), None, None)
        .unwrap();
    assert_eq!(out.as_ref(), &RETURN_42);
    let gas = node.executor.estimate_gas(head, create, None).unwrap();
    assert!(gas > 53_000, "creation costs at least its base: {gas}");
}
