//! A JSON-RPC load generator for Ethereum nodes: `aegis node`, `anvil --optimism`, op-geth or any
//! other endpoint that takes `eth_sendRawTransaction`.
//!
//! A run has three phases:
//!
//! 1. **Setup**, untimed: a funded key pays fresh senders derived from a seed, a deployer
//!    derived from the same seed deploys the contracts the mix needs (WETH9 for ERC-20
//!    transfers, a one-slot counter for contract calls), each sender wraps some ether.
//! 2. **Signing**, untimed, on every core: each sender's transactions, nonce by nonce.
//! 3. **Load**, timed: `connections` clients (HTTP or WebSocket) send the transactions in JSON-RPC
//!    batches, interleaved across senders as concurrent wallets would send them, while a watcher
//!    polls the chain for the blocks that include them.
//!
//! The [`Report`] separates transactions the node refused (with its error message) from
//! transactions it accepted but never included: the first is load shedding, the second is a lost
//! transaction. It gives the submission rate, the inclusion rate, the gas rate and the p50/p99
//! latency from submission to the first poll that saw the including block.

mod report;

pub use report::{Report, compare};

use aegis_testing::{Fees, IWeth, TxType, deploy_code, user_tx_with_fees};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use jsonrpsee::{
    core::{
        client::{BatchResponse, ClientT},
        params::BatchRequestBuilder,
    },
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Errors of a load run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A JSON-RPC call failed outside the measured load (setup, polling).
    #[error("{method} on {url}: {reason}")]
    Rpc {
        /// The endpoint.
        url: String,
        /// The method called.
        method: &'static str,
        /// The client's or the node's error.
        reason: String,
    },
    /// The node answered with something that is not what the method returns.
    #[error("{method} on {url} answered {answer}")]
    BadAnswer {
        /// The endpoint.
        url: String,
        /// The method called.
        method: &'static str,
        /// The answer.
        answer: String,
    },
    /// Setup transactions were not mined in time.
    #[error("setup on {url}: {what} not mined within {secs} s")]
    SetupTimeout {
        /// The endpoint.
        url: String,
        /// What was waited for.
        what: &'static str,
        /// How long.
        secs: u64,
    },
    /// A bad configuration value.
    #[error("{0}")]
    Config(String),
}

/// How many transactions of each kind, in proportion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// Plain ether transfers (21,000 gas).
    pub eth: u32,
    /// WETH9 `transfer`s.
    pub erc20: u32,
    /// Calls to a contract that increments a storage slot.
    pub call: u32,
}

impl Mix {
    /// The kind of the `i`th transaction of a sender: the kinds in proportion, spread evenly.
    fn kind(&self, i: usize) -> Kind {
        let total = (self.eth + self.erc20 + self.call) as usize;
        let slot = i % total;
        if slot < self.eth as usize {
            Kind::Eth
        } else if slot < (self.eth + self.erc20) as usize {
            Kind::Erc20
        } else {
            Kind::Call
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    /// `eth`, `erc20`, `call`, or weights such as `eth=1,erc20=2,call=1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut mix = Mix {
            eth: 0,
            erc20: 0,
            call: 0,
        };
        for part in s.split(',') {
            let (name, weight) = match part.split_once('=') {
                Some((name, weight)) => (
                    name.trim(),
                    weight
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| format!("mix weight {weight:?} is not a whole number"))?,
                ),
                None => (part.trim(), 1),
            };
            let slot = match name {
                "eth" => &mut mix.eth,
                "erc20" => &mut mix.erc20,
                "call" => &mut mix.call,
                other => {
                    return Err(format!(
                        "unknown transaction kind {other:?} in mix {s:?} (eth, erc20, call)"
                    ));
                }
            };
            *slot = slot.saturating_add(weight);
        }
        if mix.eth.saturating_add(mix.erc20).saturating_add(mix.call) == 0 {
            return Err(format!("mix {s:?} has no transactions"));
        }
        Ok(mix)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Eth,
    Erc20,
    Call,
}

impl Kind {
    fn gas(self) -> u64 {
        match self {
            Kind::Eth => 21_000,
            Kind::Erc20 => 60_000,
            Kind::Call => 50_000,
        }
    }
}

/// How the load reaches the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// JSON-RPC batches over HTTP (keep-alive).
    Http,
    /// JSON-RPC batches over WebSocket.
    Ws,
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http" => Ok(Transport::Http),
            "ws" => Ok(Transport::Ws),
            other => Err(format!("transport {other:?} is neither http nor ws")),
        }
    }
}

/// What to send and how.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Transactions in the timed load.
    pub txs: usize,
    /// Senders they come from (each sends its share in nonce order).
    pub senders: usize,
    /// Concurrent client connections.
    pub connections: usize,
    /// Transactions per JSON-RPC batch.
    pub batch: usize,
    /// HTTP or WebSocket.
    pub transport: Transport,
    /// The kinds of transaction.
    pub mix: Mix,
    /// The key that pays for everything (the first dev account of anvil and `aegis --dev`).
    pub funder: B256,
    /// Seed of the sender and deployer keys.
    pub seed: u64,
    /// Max fee per gas of the load, wei.
    pub max_fee: u128,
    /// Max priority fee per gas, wei.
    pub tip: u128,
    /// A run ends when accepted transactions stay uncounted this long after the last
    /// inclusion: they are lost.
    pub patience: Duration,
}

/// The private key of the anvil / hardhat dev account 0, which `aegis node --dev` funds too.
pub const DEV_KEY_0: B256 =
    alloy_primitives::b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            txs: 20_000,
            senders: 100,
            connections: 8,
            batch: 100,
            transport: Transport::Http,
            mix: Mix {
                eth: 0,
                erc20: 1,
                call: 0,
            },
            funder: DEV_KEY_0,
            seed: 1,
            max_fee: 100_000_000_000,
            tip: 1_000_000_000,
            patience: Duration::from_secs(30),
        }
    }
}

impl LoadConfig {
    fn check(&self) -> Result<(), LoadError> {
        let bad = |what: &str| Err(LoadError::Config(what.to_string()));
        if self.txs == 0 {
            return bad("--txs must be at least 1");
        }
        if self.senders == 0 || self.connections == 0 || self.batch == 0 {
            return bad("--senders, --connections and --batch must be at least 1");
        }
        if self.tip > self.max_fee {
            return bad("the priority fee is above the max fee");
        }
        Ok(())
    }
}

/// One connection to the target.
enum Conn {
    Http(HttpClient),
    Ws(WsClient),
}

impl Conn {
    async fn open(url: &str, transport: Transport) -> Result<Self, LoadError> {
        let failed = |reason: String| LoadError::Rpc {
            url: url.to_string(),
            method: "connect",
            reason,
        };
        // A node under load answers slowly; a whole run's patience is the bound.
        let timeout = Duration::from_secs(300);
        Ok(match transport {
            Transport::Http => Conn::Http(
                HttpClientBuilder::default()
                    .request_timeout(timeout)
                    .max_request_size(64 << 20)
                    .max_response_size(256 << 20)
                    .build(url)
                    .map_err(|e| failed(e.to_string()))?,
            ),
            Transport::Ws => {
                let url = url
                    .replacen("http://", "ws://", 1)
                    .replacen("https://", "wss://", 1);
                Conn::Ws(
                    WsClientBuilder::default()
                        .request_timeout(timeout)
                        .max_request_size(64 << 20)
                        .max_response_size(256 << 20)
                        .build(&url)
                        .await
                        .map_err(|e| failed(e.to_string()))?,
                )
            }
        })
    }

    async fn call(
        &self,
        url: &str,
        method: &'static str,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> Result<Value, LoadError> {
        let result = match self {
            Conn::Http(c) => c.request(method, params).await,
            Conn::Ws(c) => c.request(method, params).await,
        };
        result.map_err(|e| LoadError::Rpc {
            url: url.to_string(),
            method,
            reason: e.to_string(),
        })
    }

    /// Sends `txs` in one batch; per transaction, its hash or the node's error message.
    async fn send_batch(&self, txs: &[Bytes]) -> Vec<Result<(), String>> {
        self.batch("eth_sendRawTransaction", txs)
            .await
            .into_iter()
            .map(|r| r.map(|_| ()))
            .collect()
    }

    /// Calls `method` once per item, in one batch; per item, the answer or the error message
    /// (the whole batch's error for each when it failed).
    async fn batch<T: serde::Serialize>(
        &self,
        method: &'static str,
        items: &[T],
    ) -> Vec<Result<Value, String>> {
        let mut batch = BatchRequestBuilder::new();
        for item in items {
            if let Err(e) = batch.insert(method, rpc_params![item]) {
                return vec![Err(format!("encoding the batch: {e}")); items.len()];
            }
        }
        let response: Result<BatchResponse<'_, Value>, _> = match self {
            Conn::Http(c) => c.batch_request(batch).await,
            Conn::Ws(c) => c.batch_request(batch).await,
        };
        match response {
            Ok(response) => {
                let mut out: Vec<_> = response
                    .into_iter()
                    .map(|r| r.map_err(|e| e.message().to_string()))
                    .collect();
                out.resize(items.len(), Err("no answer in the batch".into()));
                out
            }
            Err(e) => vec![Err(e.to_string()); items.len()],
        }
    }
}

fn quantity(url: &str, method: &'static str, value: &Value) -> Result<u64, LoadError> {
    value
        .as_str()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .ok_or_else(|| LoadError::BadAnswer {
            url: url.to_string(),
            method,
            answer: value.to_string(),
        })
}

/// The sender and deployer keys of `seed`.
fn derived_key(seed: u64, index: u64) -> Result<PrivateKeySigner, LoadError> {
    let mut material = b"aegis-load".to_vec();
    material.extend_from_slice(&seed.to_be_bytes());
    material.extend_from_slice(&index.to_be_bytes());
    PrivateKeySigner::from_bytes(&keccak256(&material))
        .map_err(|e| LoadError::Config(format!("seed {seed} gives an invalid key: {e}")))
}

/// The runtime of a contract whose every call adds one to storage slot 0:
/// `PUSH0 SLOAD PUSH1 1 ADD PUSH0 SSTORE STOP`.
const COUNTER_RUNTIME: [u8; 8] = [0x5f, 0x54, 0x60, 0x01, 0x01, 0x5f, 0x55, 0x00];

/// Recipients of transfers.
fn recipient(i: usize) -> Address {
    Address::from_word(keccak256((i % 1_000).to_be_bytes()))
}

/// A node under load: its URL, chain id and a connection for setup and polling.
struct Target {
    url: String,
    chain_id: u64,
    conn: Conn,
}

impl Target {
    async fn connect(url: &str) -> Result<Self, LoadError> {
        let conn = Conn::open(url, Transport::Http).await?;
        let chain_id = quantity(
            url,
            "eth_chainId",
            &conn.call(url, "eth_chainId", rpc_params![]).await?,
        )?;
        Ok(Self {
            url: url.to_string(),
            chain_id,
            conn,
        })
    }

    async fn nonce(&self, address: Address, tag: &str) -> Result<u64, LoadError> {
        let value = self
            .conn
            .call(
                &self.url,
                "eth_getTransactionCount",
                rpc_params![address, tag],
            )
            .await?;
        quantity(&self.url, "eth_getTransactionCount", &value)
    }

    async fn head(&self) -> Result<u64, LoadError> {
        let value = self
            .conn
            .call(&self.url, "eth_blockNumber", rpc_params![])
            .await?;
        quantity(&self.url, "eth_blockNumber", &value)
    }

    /// The receipts of `hashes`, in one batch.
    async fn receipts(&self, hashes: &[B256]) -> Result<Vec<Value>, LoadError> {
        let failed = |reason: String| LoadError::Rpc {
            url: self.url.clone(),
            method: "eth_getTransactionReceipt",
            reason,
        };
        self.conn
            .batch("eth_getTransactionReceipt", hashes)
            .await
            .into_iter()
            .map(|r| match r {
                Ok(Value::Null) => Err(failed("no receipt for an included transaction".into())),
                Ok(receipt) => Ok(receipt),
                Err(message) => Err(failed(message)),
            })
            .collect()
    }

    /// Sends setup transactions, failing on any refusal.
    async fn send_all(&self, txs: &[Bytes]) -> Result<(), LoadError> {
        for chunk in txs.chunks(100) {
            for result in self.conn.send_batch(chunk).await {
                result.map_err(|reason| LoadError::Rpc {
                    url: self.url.clone(),
                    method: "eth_sendRawTransaction",
                    reason,
                })?;
            }
        }
        Ok(())
    }

    /// Waits until each `(address, nonce)` has its mined nonce at least there.
    async fn wait_mined(
        &self,
        wanted: &[(Address, u64)],
        what: &'static str,
    ) -> Result<(), LoadError> {
        let started = Instant::now();
        for (address, nonce) in wanted {
            while self.nonce(*address, "latest").await? < *nonce {
                if started.elapsed() > Duration::from_secs(120) {
                    return Err(LoadError::SetupTimeout {
                        url: self.url.clone(),
                        what,
                        secs: 120,
                    });
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }
}

/// A sender with the transactions signed for it.
struct Sender {
    signer: PrivateKeySigner,
    first_nonce: u64,
    txs: Vec<Bytes>,
}

/// Contracts deployed by setup.
#[derive(Clone, Copy)]
struct Contracts {
    weth: Address,
    counter: Address,
}

/// What a transaction does.
struct Call {
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
}

fn sign(
    config: &LoadConfig,
    chain_id: u64,
    signer: &PrivateKeySigner,
    nonce: u64,
    call: Call,
) -> Bytes {
    user_tx_with_fees(
        TxType::Eip1559,
        signer,
        Some(chain_id),
        nonce,
        call.to,
        call.value,
        call.input,
        call.gas,
        Fees {
            max_fee: config.max_fee,
            tip: config.tip,
        },
    )
}

/// Funds the senders and the deployer, deploys the contracts, wraps ether for ERC-20 senders.
async fn setup(
    target: &Target,
    config: &LoadConfig,
    senders: &mut [Sender],
    deployer: &PrivateKeySigner,
    weth_runtime: &Bytes,
) -> Result<Contracts, LoadError> {
    let funder = PrivateKeySigner::from_bytes(&config.funder)
        .map_err(|e| LoadError::Config(format!("the funder key is not a valid key: {e}")))?;
    let per_sender = config.txs.div_ceil(config.senders) as u128;
    let wrap = U256::from(10u64.pow(17));
    let fund = U256::from(per_sender * 60_000 * config.max_fee + 10u128.pow(18)) + wrap;
    let chain = target.chain_id;
    let mut nonce = target.nonce(funder.address(), "pending").await?;
    let mut txs = Vec::new();
    for to in std::iter::once(deployer.address()).chain(senders.iter().map(|s| s.signer.address()))
    {
        txs.push(sign(
            config,
            chain,
            &funder,
            nonce,
            Call {
                to: TxKind::Call(to),
                value: fund,
                input: Bytes::new(),
                gas: 21_000,
            },
        ));
        nonce += 1;
    }
    target.send_all(&txs).await?;
    target
        .wait_mined(&[(funder.address(), nonce)], "funding the senders")
        .await?;

    let mut deploy_nonce = target.nonce(deployer.address(), "pending").await?;
    let weth = deployer.address().create(deploy_nonce);
    let counter = deployer.address().create(deploy_nonce + 1);
    let mut txs = Vec::new();
    for code in [deploy_code(weth_runtime), deploy_code(&COUNTER_RUNTIME)] {
        txs.push(sign(
            config,
            chain,
            deployer,
            deploy_nonce,
            Call {
                to: TxKind::Create,
                value: U256::ZERO,
                input: code,
                gas: 3_000_000,
            },
        ));
        deploy_nonce += 1;
    }
    target.send_all(&txs).await?;
    target
        .wait_mined(
            &[(deployer.address(), deploy_nonce)],
            "deploying the contracts",
        )
        .await?;

    let mut txs = Vec::new();
    let mut wanted = Vec::new();
    for sender in senders.iter_mut() {
        let nonce = target.nonce(sender.signer.address(), "pending").await?;
        let deposit = IWeth::depositCall {}.abi_encode().into();
        txs.push(sign(
            config,
            chain,
            &sender.signer,
            nonce,
            Call {
                to: TxKind::Call(weth),
                value: wrap,
                input: deposit,
                gas: 100_000,
            },
        ));
        sender.first_nonce = nonce + 1;
        wanted.push((sender.signer.address(), nonce + 1));
    }
    target.send_all(&txs).await?;
    target.wait_mined(&wanted, "wrapping ether").await?;
    Ok(Contracts { weth, counter })
}

/// Signs every sender's share of the load, on every core.
fn sign_load(config: &LoadConfig, chain_id: u64, contracts: Contracts, senders: &mut [Sender]) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = senders.len().div_ceil(cores);
    let total = config.txs;
    let count = senders.len();
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in senders.chunks_mut(per_thread).enumerate() {
            scope.spawn(move || {
                for (offset, sender) in chunk.iter_mut().enumerate() {
                    let index = chunk_index * per_thread + offset;
                    // Sender `index` sends the load's transactions index, index + count, ...
                    let share = (total + count - 1 - index) / count;
                    sender.txs = (0..share)
                        .map(|k| {
                            let n = index + k * count;
                            let nonce = sender.first_nonce + k as u64;
                            let kind = config.mix.kind(n);
                            let (to, value, input) = match kind {
                                Kind::Eth => (recipient(n), U256::from(1), Bytes::new()),
                                Kind::Erc20 => (
                                    contracts.weth,
                                    U256::ZERO,
                                    IWeth::transferCall {
                                        to: recipient(n),
                                        value: U256::from(1),
                                    }
                                    .abi_encode()
                                    .into(),
                                ),
                                Kind::Call => (contracts.counter, U256::ZERO, Bytes::new()),
                            };
                            sign(
                                config,
                                chain_id,
                                &sender.signer,
                                nonce,
                                Call {
                                    to: TxKind::Call(to),
                                    value,
                                    input,
                                    gas: kind.gas(),
                                },
                            )
                        })
                        .collect();
                }
            });
        }
    });
}

/// Inclusion times of the load's transactions seen by the watcher, the blocks it read, and
/// when it last saw one of the load's transactions.
#[derive(Default)]
struct Seen {
    included: HashMap<B256, Instant>,
    blocks: Vec<u64>,
    last: Option<Instant>,
}

/// Refusals a node makes to shed load: a wallet sends the transaction again later.
fn is_shed(message: &str) -> bool {
    ["txpool is full", "account limit exceeded"]
        .iter()
        .any(|shed| message.contains(shed))
}

/// What happened to one transaction of the load.
struct Outcome {
    index: usize,
    /// When it was first sent.
    first_sent: Instant,
    /// `Ok` once accepted; the last refusal otherwise.
    result: Result<(), String>,
    /// Refusals on the way, by message.
    refusals: Vec<String>,
}

/// Sends shed transactions (by their place in `outcomes`) again; returns how many were
/// accepted and those shed again.
async fn resend(
    conn: &Conn,
    batch: Vec<(usize, Bytes)>,
    outcomes: &mut [Outcome],
) -> (usize, Vec<(usize, Bytes)>) {
    let txs: Vec<Bytes> = batch.iter().map(|(_, tx)| tx.clone()).collect();
    let mut accepted = 0;
    let mut again = Vec::new();
    for ((at, tx), result) in batch.into_iter().zip(conn.send_batch(&txs).await) {
        let outcome = &mut outcomes[at];
        match result {
            // An earlier attempt got in after all.
            Err(message) if message.contains("already known") => {
                outcome.result = Ok(());
                accepted += 1;
            }
            Err(message) => {
                if is_shed(&message) {
                    again.push((at, tx));
                }
                outcome.refusals.push(message.clone());
                outcome.result = Err(message);
            }
            Ok(()) => {
                outcome.result = Ok(());
                accepted += 1;
            }
        }
    }
    (accepted, again)
}

/// Sends `batches` on `conn`, then sends what was shed again every 100 ms until it is accepted
/// or `patience` passes without an acceptance.
async fn submit(conn: Conn, batches: Vec<(usize, Vec<Bytes>)>, patience: Duration) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut shed: Vec<(usize, Bytes)> = Vec::new();
    for (first, txs) in batches {
        let sent = Instant::now();
        for (i, (tx, result)) in txs.iter().zip(conn.send_batch(&txs).await).enumerate() {
            if let Err(message) = &result
                && is_shed(message)
            {
                shed.push((outcomes.len(), tx.clone()));
            }
            outcomes.push(Outcome {
                index: first + i,
                first_sent: sent,
                refusals: result.as_ref().err().cloned().into_iter().collect(),
                result,
            });
        }
    }
    let mut progress = Instant::now();
    while !shed.is_empty() && progress.elapsed() < patience {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for chunk in std::mem::take(&mut shed).chunks(100) {
            let (accepted, again) = resend(&conn, chunk.to_vec(), &mut outcomes).await;
            if accepted > 0 {
                progress = Instant::now();
            }
            shed.extend(again);
        }
    }
    outcomes
}

/// Polls the head and records when each new block's transactions were first seen.
async fn watch(
    target: Arc<Target>,
    from: u64,
    ours: Arc<HashSet<B256>>,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<tokio::sync::Notify>,
) -> Result<(), LoadError> {
    let mut next = from;
    loop {
        let head = target.head().await?;
        while next <= head {
            let block = target
                .conn
                .call(
                    &target.url,
                    "eth_getBlockByNumber",
                    rpc_params![format!("{next:#x}"), false],
                )
                .await?;
            let now = Instant::now();
            let hashes = block["transactions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut seen = seen.lock().expect("watcher state");
            let mut carried = false;
            for hash in hashes {
                if let Some(hash) = hash.as_str().and_then(|h| h.parse::<B256>().ok())
                    && ours.contains(&hash)
                {
                    seen.included.entry(hash).or_insert(now);
                    carried = true;
                }
            }
            if carried {
                seen.blocks.push(next);
                seen.last = Some(now);
            }
            next += 1;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            _ = stop.notified() => return Ok(()),
        }
    }
}

/// Runs the load against `url` and reports what happened.
pub async fn run(
    name: &str,
    url: &str,
    config: &LoadConfig,
    weth_runtime: &Bytes,
) -> Result<Report, LoadError> {
    config.check()?;
    let target = Arc::new(Target::connect(url).await?);
    let deployer = derived_key(config.seed, u64::MAX)?;
    let mut senders = (0..config.senders as u64)
        .map(|i| {
            Ok(Sender {
                signer: derived_key(config.seed, i)?,
                first_nonce: 0,
                txs: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, LoadError>>()?;
    let contracts = setup(&target, config, &mut senders, &deployer, weth_runtime).await?;
    sign_load(config, target.chain_id, contracts, &mut senders);

    // As wallets send: each sender on one connection, its transactions in nonce order; a
    // connection sends its senders' next nonces, sender after sender, in batches.
    let mut hashes = Vec::with_capacity(config.txs);
    // Sender and nonce of each, to name lost transactions.
    let mut origins: Vec<(Address, u64)> = Vec::with_capacity(config.txs);
    let mut per_connection: Vec<Vec<(usize, Vec<Bytes>)>> = vec![Vec::new(); config.connections];
    for (c, batches) in per_connection.iter_mut().enumerate() {
        let mine: Vec<&Sender> = senders.iter().skip(c).step_by(config.connections).collect();
        let longest = mine.iter().map(|s| s.txs.len()).max().unwrap_or(0);
        let mut order = Vec::new();
        for k in 0..longest {
            for sender in &mine {
                if let Some(tx) = sender.txs.get(k) {
                    order.push(tx.clone());
                    origins.push((sender.signer.address(), sender.first_nonce + k as u64));
                }
            }
        }
        for chunk in order.chunks(config.batch) {
            batches.push((hashes.len(), chunk.to_vec()));
            hashes.extend(chunk.iter().map(keccak256));
        }
    }
    let mut conns = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        conns.push(Conn::open(url, config.transport).await?);
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(tokio::sync::Notify::new());
    let start_block = target.head().await? + 1;
    let watcher = tokio::spawn(watch(
        target.clone(),
        start_block,
        Arc::new(hashes.iter().copied().collect()),
        seen.clone(),
        stop.clone(),
    ));

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (conn, batches) in conns.into_iter().zip(per_connection) {
        tasks.push(tokio::spawn(submit(conn, batches, config.patience)));
    }
    let mut sent_at = vec![started; hashes.len()];
    let mut accepted = vec![false; hashes.len()];
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut histories: Vec<Vec<String>> = vec![Vec::new(); hashes.len()];
    for task in tasks {
        let outcomes = task
            .await
            .map_err(|e| LoadError::Config(format!("a sender task failed: {e}")))?;
        for outcome in outcomes {
            sent_at[outcome.index] = outcome.first_sent;
            accepted[outcome.index] = outcome.result.is_ok();
            for message in &outcome.refusals {
                *refused.entry(message.clone()).or_default() += 1;
            }
            histories[outcome.index] = outcome.refusals;
        }
    }
    let submit_secs = started.elapsed().as_secs_f64();

    // Until everything accepted is included, or nothing new is included for a while.
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let seen = seen.lock().expect("watcher state");
        let pending = hashes
            .iter()
            .zip(&accepted)
            .any(|(hash, accepted)| *accepted && !seen.included.contains_key(hash));
        let idle = seen.last.unwrap_or(started).elapsed() > config.patience;
        if !pending || idle || watcher.is_finished() {
            break;
        }
    }
    stop.notify_one();
    watcher
        .await
        .map_err(|e| LoadError::Config(format!("the block watcher failed: {e}")))??;
    let seen = Arc::try_unwrap(seen)
        .map_err(|_| LoadError::Config("the watcher still holds its state".into()))?
        .into_inner()
        .expect("watcher state");

    let mut latencies = Vec::new();
    let mut last_inclusion = started;
    let mut included = 0;
    let mut lost = 0;
    let mut lost_sample = Vec::new();
    for (i, hash) in hashes.iter().enumerate() {
        match seen.included.get(hash) {
            Some(at) => {
                included += 1;
                latencies.push(at.saturating_duration_since(sent_at[i]));
                last_inclusion = last_inclusion.max(*at);
            }
            None if accepted[i] => {
                lost += 1;
                if lost_sample.len() < 5 {
                    let (sender, nonce) = origins[i];
                    lost_sample.push(format!(
                        "{hash} (sender {sender} nonce {nonce}; refused {} time(s) first: {:?})",
                        histories[i].len(),
                        histories[i]
                    ));
                }
            }
            None => {}
        }
    }
    latencies.sort_unstable();

    // Gas and status of the included transactions, read after the timed part (receipt by
    // receipt: a whole block's receipts can exceed a node's response limit).
    let mut gas = 0u64;
    let mut reverted = 0;
    let included_hashes: Vec<B256> = hashes
        .iter()
        .filter(|h| seen.included.contains_key(*h))
        .copied()
        .collect();
    for chunk in included_hashes.chunks(100) {
        for receipt in target.receipts(chunk).await? {
            gas += quantity(url, "eth_getTransactionReceipt", &receipt["gasUsed"])?;
            if receipt["status"] != "0x1" {
                reverted += 1;
            }
        }
    }
    let blocks = seen.blocks.len() as u64;

    Ok(Report {
        name: name.to_string(),
        submitted: hashes.len(),
        accepted: accepted.iter().filter(|a| **a).count(),
        refused,
        included,
        lost,
        reverted,
        submit_secs,
        include_secs: last_inclusion.duration_since(started).as_secs_f64(),
        gas,
        blocks,
        latency_p50: report::percentile(&latencies, 50),
        latency_p99: report::percentile(&latencies, 99),
        lost_sample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_spread_their_kinds() {
        assert_eq!(
            "erc20".parse::<Mix>().unwrap(),
            Mix {
                eth: 0,
                erc20: 1,
                call: 0
            }
        );
        let mix: Mix = "eth=1,erc20=2,call=1".parse().unwrap();
        let kinds: Vec<_> = (0..8).map(|i| mix.kind(i)).collect();
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Erc20).count(), 4);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Eth).count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Call).count(), 2);
        for bad in ["", "eth=0", "nft", "eth=x", "erc20=-1"] {
            let err = bad.parse::<Mix>().unwrap_err();
            assert!(!err.is_empty(), "{bad:?}");
        }
        assert!("udp".parse::<Transport>().unwrap_err().contains("udp"));
    }

    #[test]
    fn configs_that_cannot_run_are_refused() {
        for config in [
            LoadConfig {
                txs: 0,
                ..LoadConfig::default()
            },
            LoadConfig {
                senders: 0,
                ..LoadConfig::default()
            },
            LoadConfig {
                batch: 0,
                ..LoadConfig::default()
            },
            LoadConfig {
                tip: 10,
                max_fee: 1,
                ..LoadConfig::default()
            },
        ] {
            assert!(matches!(config.check(), Err(LoadError::Config(_))));
        }
    }

    #[test]
    fn the_load_is_split_over_senders_in_nonce_order() {
        let config = LoadConfig {
            txs: 10,
            senders: 3,
            ..LoadConfig::default()
        };
        let mut senders: Vec<Sender> = (0..3)
            .map(|i| Sender {
                signer: derived_key(1, i).unwrap(),
                first_nonce: 5,
                txs: Vec::new(),
            })
            .collect();
        let contracts = Contracts {
            weth: Address::repeat_byte(1),
            counter: Address::repeat_byte(2),
        };
        sign_load(&config, 901, contracts, &mut senders);
        let shares: Vec<_> = senders.iter().map(|s| s.txs.len()).collect();
        assert_eq!(shares, [4, 3, 3]);
        // Distinct transactions, each sender's nonces consecutive from its first.
        let mut all: Vec<_> = senders
            .iter()
            .flat_map(|s| s.txs.iter().map(keccak256))
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 10);
    }
}
