//! Executes the devnet genesis predeploys in revm: the proxies delegate to their implementations,
//! and the patched immutables and storage flags read back as intended.

use aegis_chainspec::{
    DevnetGenesisOptions, devnet_genesis,
    predeploys::{
        BASE_FEE_VAULT, GAS_PRICE_ORACLE, L1_BLOCK, L1_FEE_VAULT, L2_ERC721_BRIDGE,
        OPTIMISM_MINTABLE_ERC721_FACTORY, PROXY_ADMIN, SEQUENCER_FEE_VAULT,
    },
};
use alloy_genesis::Genesis;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, keccak256};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::TxEnv,
    context_interface::result::ExecutionResult,
    database::{CacheDB, EmptyDB},
    state::{AccountInfo, Bytecode},
};

const ADMIN: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const CALLER: Address = address!("0x00000000000000000000000000000000c0ffee00");

fn database(genesis: &Genesis) -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    for (address, account) in &genesis.alloc {
        let code = account.code.clone().unwrap_or_default();
        let info = AccountInfo::new(
            account.balance,
            account.nonce.unwrap_or_default(),
            keccak256(&code),
            Bytecode::new_raw(code),
        );
        db.insert_account_info(*address, info);
        for (slot, value) in account.storage.iter().flatten() {
            db.insert_account_storage(
                *address,
                U256::from_be_bytes(slot.0),
                U256::from_be_bytes(value.0),
            )
            .unwrap();
        }
    }
    db
}

/// Calls a view function without arguments and returns the 32-byte answer.
fn call(db: &CacheDB<EmptyDB>, caller: Address, to: Address, signature: &str) -> B256 {
    let mut evm = Context::mainnet()
        .with_db(db.clone())
        .modify_cfg_chained(|cfg| cfg.disable_nonce_check = true)
        .build_mainnet();
    let selector = keccak256(signature)[..4].to_vec();
    let tx = TxEnv::builder()
        .caller(caller)
        .kind(TxKind::Call(to))
        .data(Bytes::from(selector))
        .gas_limit(1_000_000)
        .gas_price(0)
        .build()
        .unwrap();
    match evm.transact_one(tx).unwrap() {
        ExecutionResult::Success { output, .. } => {
            let data = output.into_data();
            assert!(data.len() >= 32, "{signature} on {to}: short output {data}");
            B256::from_slice(&data[..32])
        }
        other => panic!("{signature} on {to} failed: {other:?}"),
    }
}

fn word(value: u64) -> B256 {
    B256::from(U256::from(value))
}

#[test]
fn devnet_predeploys_execute() {
    let opts = DevnetGenesisOptions {
        timestamp: 1_700_000_000,
        ..Default::default()
    };
    let genesis = devnet_genesis(&opts).unwrap();
    let db = database(&genesis);

    for vault in [SEQUENCER_FEE_VAULT, BASE_FEE_VAULT, L1_FEE_VAULT] {
        assert_eq!(
            call(&db, CALLER, vault, "RECIPIENT()"),
            ADMIN.into_word(),
            "{vault}"
        );
        assert_eq!(
            call(&db, CALLER, vault, "MIN_WITHDRAWAL_AMOUNT()"),
            B256::from(U256::from(10u64) * U256::from(10u64).pow(U256::from(18))),
            "{vault}"
        );
        assert_eq!(
            call(&db, CALLER, vault, "WITHDRAWAL_NETWORK()"),
            word(1),
            "{vault}"
        );
    }

    let factory = OPTIMISM_MINTABLE_ERC721_FACTORY;
    assert_eq!(
        call(&db, CALLER, factory, "BRIDGE()"),
        L2_ERC721_BRIDGE.into_word()
    );
    assert_eq!(
        call(&db, CALLER, factory, "REMOTE_CHAIN_ID()"),
        word(opts.l1_chain_id)
    );

    assert_eq!(call(&db, CALLER, GAS_PRICE_ORACLE, "isEcotone()"), word(1));
    assert_eq!(call(&db, CALLER, GAS_PRICE_ORACLE, "isFjord()"), word(1));

    assert_eq!(call(&db, CALLER, PROXY_ADMIN, "owner()"), ADMIN.into_word());
    assert_eq!(
        call(&db, CALLER, L1_BLOCK, "DEPOSITOR_ACCOUNT()"),
        address!("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001").into_word()
    );

    // The proxy answers its own admin() to address(0) (OP's Proxy lets address(0) act as admin).
    assert_eq!(
        call(&db, Address::ZERO, GAS_PRICE_ORACLE, "admin()"),
        PROXY_ADMIN.into_word()
    );
}
