//! Test helpers for aegis: a devnet chain over a temporary store, the anvil dev signers, signed
//! transactions of every type the pool accepts, deposits, and payload attributes shaped like the
//! ones a rollup node sends, and an authenticated engine-port client.

pub mod etcd;
pub mod process;
pub mod rpc;
pub mod state;

pub use rpc::{EngineClient, unix_now};

use aegis_chainspec::{
    ChainSpec, DevnetGenesisOptions, OpFork, devnet_genesis,
    l1_info::{L1Info, L1InfoFormat},
};
use aegis_executor::{
    BuildAttributes, ExecutedBlock, Executor, FeeOrderedTxs, PoolTx, next_base_fee,
};
use aegis_storage::{Account, Store};
use alloy_consensus::{Header, Sealed, SignableTransaction, TxEip1559, TxEip2930, TxLegacy};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList};
use alloy_primitives::{Address, B64, B256, Bytes, TxKind, U256, address, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use alloy_sol_types::SolCall;
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use std::sync::Arc;

alloy_sol_types::sol! {
    /// The ERC-20 surface of WETH9 used by tests.
    interface IWeth {
        function deposit() external payable;
        function withdraw(uint256 wad) external;
        function transfer(address to, uint256 value) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
    }
    /// L2ToL1MessagePasser.
    interface IMessagePasser {
        function initiateWithdrawal(address target, uint256 gasLimit, bytes data) external payable;
    }
}

/// Calldata of an ERC-20 `transfer(to, value)`.
pub fn erc20_transfer_input(to: Address, value: U256) -> Bytes {
    use alloy_sol_types::SolCall;
    IWeth::transferCall { to, value }.abi_encode().into()
}

/// The anvil/hardhat development mnemonic.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";
/// Genesis timestamp of test chains.
pub const GENESIS_TIME: u64 = 1_700_000_000;
/// Block time of test chains.
pub const BLOCK_TIME: u64 = 2;
// The predeploys tests use most, under the names they use them by (defined in chainspec).
pub use aegis_chainspec::{
    L2_TO_L1_MESSAGE_PASSER as MESSAGE_PASSER,
    predeploys::{BASE_FEE_VAULT, L1_FEE_VAULT, SEQUENCER_FEE_VAULT, WETH9 as WETH},
};

/// Dev signer `index` of [`DEV_MNEMONIC`].
pub fn signer(index: u32) -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(index)
        .and_then(|b| b.build())
        .expect("valid dev mnemonic")
}

/// A devnet chain spec with Isthmus/Jovian at the given offsets from genesis.
pub fn spec(isthmus: Option<u64>, jovian: Option<u64>) -> Arc<ChainSpec> {
    let options = DevnetGenesisOptions {
        timestamp: GENESIS_TIME,
        isthmus_offset: isthmus,
        jovian_offset: jovian,
        ..Default::default()
    };
    Arc::new(
        ChainSpec::from_genesis(devnet_genesis(&options).expect("devnet genesis")).expect("spec"),
    )
}

/// An executor over a fresh store in a temporary directory.
pub struct TestNode {
    /// The executor.
    pub executor: Executor,
    /// The store behind it.
    pub store: Arc<Store>,
    _dir: tempfile::TempDir,
}

impl TestNode {
    /// A node for `spec` with its genesis written.
    pub fn new(spec: Arc<ChainSpec>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path().join("chain.redb")).expect("store"));
        let executor = Executor::new(spec, store.clone()).expect("executor");
        Self {
            executor,
            store,
            _dir: dir,
        }
    }

    /// The head header.
    pub fn head(&self) -> Header {
        self.store.head().expect("store").expect("head")
    }

    /// `address` at the head.
    pub fn account(&self, address: &Address) -> Option<Account> {
        let head = self.store.head_hash().unwrap().unwrap();
        self.store
            .state_at(&head)
            .unwrap()
            .account(address)
            .unwrap()
    }

    /// Balance of `address` at the head.
    pub fn balance(&self, address: &Address) -> U256 {
        self.account(address).map(|a| a.balance).unwrap_or_default()
    }

    /// Nonce of `address` at the head.
    pub fn nonce(&self, address: &Address) -> u64 {
        self.account(address).map(|a| a.nonce).unwrap_or_default()
    }

    /// Builds a block on the head from rollup-node style attributes (L1-info deposit, then
    /// `forced`) and the pool transactions `txs`, and makes it the head.
    pub fn build(&self, forced: Vec<Bytes>, txs: &[Bytes]) -> ExecutedBlock {
        let spec = self.executor.spec();
        let parent = self.head();
        let attrs = attributes(spec, &parent, forced, txs.is_empty());
        let base_fee = next_base_fee(spec, &parent, attrs.timestamp).expect("base fee");
        let mut pool = fee_ordered(txs, base_fee);
        let block = self
            .executor
            .build(parent.hash_slow(), &attrs, Some(&mut pool))
            .expect("build");
        self.executor.commit(&block, true).expect("commit");
        block
    }
}

/// A fee-ordered pool over encoded transactions.
pub fn fee_ordered(txs: &[Bytes], base_fee: u64) -> FeeOrderedTxs {
    FeeOrderedTxs::new(
        txs.iter()
            .map(|raw| PoolTx::decode(raw.clone()).expect("decodes")),
        base_fee,
    )
}

/// A plain value transfer of `kind` (21,000 gas; 30,000 for EIP-2930).
pub fn transfer(
    kind: TxType,
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: u64,
) -> Bytes {
    let gas = if kind == TxType::Eip2930 {
        30_000
    } else {
        21_000
    };
    user_tx(
        kind,
        signer,
        chain_id,
        nonce,
        TxKind::Call(to),
        U256::from(value),
        Bytes::new(),
        gas,
    )
}

/// One ether in wei.
pub const ETH: u128 = 1_000_000_000_000_000_000;

/// Address of the depositor in [`rich_block`].
pub const DEPOSITOR: Address = address!("0xd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0");

/// Inputs of a block exercising every kind of transaction: deposits (mint to a fresh account, a
/// reverting call that keeps its mint, a contract creation) as forced transactions, then legacy,
/// EIP-2930 and EIP-1559 transfers and a WETH9 deployment (by dev account 1) from the pool.
pub fn rich_block(spec: &ChainSpec) -> (Vec<Bytes>, Vec<Bytes>) {
    let (alice, bob) = (signer(0), signer(1));
    let chain = spec.chain_id;
    let withdraw_too_much = IWeth::withdrawCall {
        wad: U256::from(ETH),
    }
    .abi_encode();
    let forced = vec![
        user_deposit(
            DEPOSITOR,
            TxKind::Call(DEPOSITOR),
            3 * ETH,
            U256::ZERO,
            100_000,
            Bytes::new(),
            1,
        ),
        user_deposit(
            DEPOSITOR,
            TxKind::Call(WETH),
            2 * ETH,
            U256::ZERO,
            200_000,
            withdraw_too_much.into(),
            2,
        ),
        user_deposit(
            DEPOSITOR,
            TxKind::Create,
            0,
            U256::ZERO,
            3_000_000,
            deploy_code(&weth_runtime(spec)),
            3,
        ),
    ];
    let txs = vec![
        transfer(TxType::Legacy, &alice, chain, 0, bob.address(), 1),
        transfer(TxType::Eip2930, &alice, chain, 1, bob.address(), 2),
        user_tx(
            TxType::Eip1559,
            &alice,
            chain,
            2,
            TxKind::Call(bob.address()),
            U256::from(3),
            Bytes::from(vec![0x11; 200]),
            40_000,
        ),
        user_tx(
            TxType::Eip1559,
            &bob,
            chain,
            0,
            TxKind::Create,
            U256::ZERO,
            deploy_code(&weth_runtime(spec)),
            3_000_000,
        ),
    ];
    (forced, txs)
}

/// Pool transactions for the block after [`rich_block`]: dev account 0 wraps one ether in the
/// token bob deployed and makes two ERC-20 transfers.
pub fn erc20_block(spec: &ChainSpec) -> Vec<Bytes> {
    let (alice, bob) = (signer(0), signer(1));
    let chain = spec.chain_id;
    let token = TxKind::Call(bob.address().create(0));
    let transfer = |to: Address, value: u64| -> Bytes {
        IWeth::transferCall {
            to,
            value: U256::from(value),
        }
        .abi_encode()
        .into()
    };
    vec![
        user_tx(
            TxType::Eip1559,
            &alice,
            chain,
            3,
            token,
            U256::from(ETH),
            IWeth::depositCall {}.abi_encode().into(),
            100_000,
        ),
        user_tx(
            TxType::Eip1559,
            &alice,
            chain,
            4,
            token,
            U256::ZERO,
            transfer(bob.address(), 40),
            100_000,
        ),
        user_tx(
            TxType::Legacy,
            &alice,
            chain,
            5,
            token,
            U256::ZERO,
            transfer(DEPOSITOR, 2),
            100_000,
        ),
    ]
}

/// The L1-attributes deposit a rollup node would put first in a block at `timestamp` on
/// `parent`.
pub fn l1_info_tx(spec: &ChainSpec, parent: &Header, timestamp: u64) -> Bytes {
    let format =
        L1InfoFormat::for_block(spec, parent.timestamp, timestamp).expect("ecotone active");
    let info = L1Info {
        number: 100 + parent.number / 6,
        timestamp: timestamp - 4,
        base_fee: U256::from(7_000_000_000u64),
        blob_base_fee: U256::from(3),
        hash: keccak256((parent.number / 6).to_be_bytes()),
        sequence_number: parent.number % 6,
        batcher: address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        base_fee_scalar: 1368,
        blob_base_fee_scalar: 810_949,
        operator_fee_scalar: 0,
        operator_fee_constant: 0,
        da_footprint_gas_scalar: 400,
    };
    encode(OpTxEnvelope::Deposit(Sealed::new(info.deposit(format))))
}

/// A user deposit (as derived from an L1 `TransactionDeposited` log).
pub fn user_deposit(
    from: Address,
    to: TxKind,
    mint: u128,
    value: U256,
    gas: u64,
    input: Bytes,
    seed: u64,
) -> Bytes {
    let deposit = TxDeposit {
        source_hash: keccak256(seed.to_be_bytes()),
        from,
        to,
        mint,
        value,
        gas_limit: gas,
        is_system_transaction: false,
        input,
    };
    encode(OpTxEnvelope::Deposit(Sealed::new(deposit)))
}

/// EIP-2718 bytes of a transaction.
pub fn encode(tx: OpTxEnvelope) -> Bytes {
    tx.encoded_2718().into()
}

fn sign<T: SignableTransaction<alloy_primitives::Signature>>(
    signer: &PrivateKeySigner,
    tx: T,
) -> alloy_consensus::Signed<T> {
    let signature = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    tx.into_signed(signature)
}

/// Transaction types the tests send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxType {
    /// EIP-155 legacy.
    Legacy,
    /// EIP-2930 with an access list.
    Eip2930,
    /// EIP-1559.
    Eip1559,
}

/// A signed user transaction of `kind` (5 gwei max fee, 1 gwei tip).
#[allow(clippy::too_many_arguments)]
pub fn user_tx(
    kind: TxType,
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas_limit: u64,
) -> Bytes {
    let fees = Fees {
        max_fee: 5_000_000_000,
        tip: 1_000_000_000,
    };
    user_tx_with_fees(
        kind,
        signer,
        Some(chain_id),
        nonce,
        to,
        value,
        input,
        gas_limit,
        fees,
    )
}

/// Fees of a test transaction (legacy and EIP-2930 use `max_fee` as the gas price).
#[derive(Clone, Copy, Debug)]
pub struct Fees {
    /// Max fee per gas / gas price.
    pub max_fee: u128,
    /// Max priority fee per gas (EIP-1559).
    pub tip: u128,
}

/// A signed user transaction with explicit fees; `chain_id: None` makes a pre-EIP-155 legacy tx.
#[allow(clippy::too_many_arguments)]
pub fn user_tx_with_fees(
    kind: TxType,
    signer: &PrivateKeySigner,
    chain_id: Option<u64>,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas_limit: u64,
    fees: Fees,
) -> Bytes {
    let chain = chain_id.unwrap_or_default();
    let envelope = match kind {
        TxType::Legacy => OpTxEnvelope::Legacy(sign(
            signer,
            TxLegacy {
                chain_id,
                nonce,
                gas_price: fees.max_fee,
                gas_limit,
                to,
                value,
                input,
            },
        )),
        TxType::Eip2930 => OpTxEnvelope::Eip2930(sign(
            signer,
            TxEip2930 {
                chain_id: chain,
                nonce,
                gas_price: fees.max_fee,
                gas_limit,
                to,
                value,
                input,
                access_list: AccessList::default(),
            },
        )),
        TxType::Eip1559 => OpTxEnvelope::Eip1559(sign(
            signer,
            TxEip1559 {
                chain_id: chain,
                nonce,
                gas_limit,
                max_fee_per_gas: fees.max_fee,
                max_priority_fee_per_gas: fees.tip,
                to,
                value,
                input,
                access_list: AccessList::default(),
            },
        )),
    };
    encode(envelope)
}

/// Init code that deploys `runtime` as is.
pub fn deploy_code(runtime: &[u8]) -> Bytes {
    let len = u16::try_from(runtime.len())
        .expect("runtime under 64 KiB")
        .to_be_bytes();
    // PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN; runtime follows at offset 12.
    let mut code = vec![
        0x61, len[0], len[1], 0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3,
    ];
    code.extend_from_slice(runtime);
    code.into()
}

/// The WETH9 runtime from the genesis (official OP artifact).
pub fn weth_runtime(spec: &ChainSpec) -> Bytes {
    spec.genesis
        .alloc
        .get(&WETH)
        .and_then(|a| a.code.clone())
        .expect("WETH predeploy")
}

/// Attributes a rollup node would send for the child of `parent`: the L1-info deposit, then
/// `forced`, then the network-upgrade deposits of a fork activation block.
pub fn attributes(
    spec: &ChainSpec,
    parent: &Header,
    forced: Vec<Bytes>,
    no_tx_pool: bool,
) -> BuildAttributes {
    let timestamp = parent.timestamp + BLOCK_TIME;
    let mut transactions = vec![l1_info_tx(spec, parent, timestamp)];
    transactions.extend(forced);
    transactions.extend(
        aegis_chainspec::upgrades::upgrade_deposits(spec, parent.timestamp, timestamp)
            .into_iter()
            .map(|deposit| {
                OpTxEnvelope::Deposit(Sealed::new(deposit))
                    .encoded_2718()
                    .into()
            }),
    );
    BuildAttributes {
        timestamp,
        prev_randao: keccak256(timestamp.to_be_bytes()),
        fee_recipient: SEQUENCER_FEE_VAULT,
        parent_beacon_block_root: Some(keccak256(parent.number.to_be_bytes())),
        gas_limit: parent.gas_limit,
        transactions,
        no_tx_pool,
        eip1559_params: spec
            .forks
            .is_active(OpFork::Holocene, timestamp)
            .then_some(B64::ZERO),
        min_base_fee: spec
            .forks
            .is_active(OpFork::Jovian, timestamp)
            .then_some(1_000),
    }
}

/// The head hash of `node`.
pub fn head_hash(node: &TestNode) -> B256 {
    node.store.head_hash().unwrap().unwrap()
}

/// A self-sponsored EIP-7702 transaction: `signer` authorizes delegating its account to
/// `delegate` (authorization nonce `nonce + 1`, since the sender's nonce is bumped first) and
/// sends the transaction to itself.
pub fn eip7702_tx(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    delegate: Address,
    gas_limit: u64,
) -> Bytes {
    let authorization = alloy_eips::eip7702::Authorization {
        chain_id: U256::from(chain_id),
        address: delegate,
        nonce: nonce + 1,
    };
    let auth_signature = signer
        .sign_hash_sync(&authorization.signature_hash())
        .expect("sign authorization");
    let tx = alloy_consensus::TxEip7702 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 5_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: signer.address(),
        value: U256::ZERO,
        access_list: AccessList::default(),
        authorization_list: vec![authorization.into_signed(auth_signature)],
        input: Bytes::new(),
    };
    encode(OpTxEnvelope::Eip7702(sign(signer, tx)))
}
