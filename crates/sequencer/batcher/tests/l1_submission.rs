//! The batcher against a real L1 (anvil, mining only when told) and a front that lies: frame
//! transactions dropped from the mempool, reorged out, stuck, or outbid at their nonce are
//! repaired; wrong chains, foreign receipts, a head that goes back and malformed answers are
//! refused and retried, never acted on.

use aegis_batcher::{Batcher, BatcherConfig, BatcherError};
use aegis_executor::Executor;
use aegis_storage::BlockLabel;
use aegis_testing::{
    TestNode,
    process::{Process, free_port, tool},
    spec,
};
use alloy_primitives::Address;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

/// anvil's dev account 1 (a well-known test key).
const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const BATCHER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const INBOX: Address = Address::repeat_byte(0xff);

fn batcher_key() -> aegis_pqc::EcdsaSigner {
    let secret = alloy_primitives::hex::decode(KEY).unwrap();
    aegis_pqc::EcdsaSigner::from_secret(&secret.try_into().unwrap()).unwrap()
}

struct Anvil {
    _process: Process,
    port: u16,
}

fn anvil() -> Anvil {
    let port = free_port();
    let child = Command::new(tool("anvil"))
        .args(["--no-mining", "--silent", "--chain-id", "900", "--port"])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("anvil (scripts/bootstrap.sh installs it)");
    let anvil = Anvil {
        _process: Process(child),
        port,
    };
    for _ in 0..100 {
        if call(port, "eth_chainId", json!([])).is_ok() {
            return anvil;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("anvil did not start");
}

fn call(port: u16, method: &str, params: Value) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}"))
        .json(&body)
        .send()
        .and_then(|r| r.json())
        .map_err(|e| e.to_string())?;
    match response.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(response["result"].clone()),
    }
}

fn l1(port: u16, method: &str, params: Value) -> Value {
    call(port, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn mine(port: u16, blocks: u64) {
    l1(port, "anvil_mine", json!([blocks]));
}

fn nonce(port: u16, tag: &str) -> u64 {
    let n = l1(port, "eth_getTransactionCount", json!([BATCHER, tag]));
    u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The batcher's transactions pending in anvil's pool.
fn pending(port: u16) -> Vec<Value> {
    let pool = l1(port, "txpool_content", json!([]));
    pool["pending"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(sender, _)| sender.eq_ignore_ascii_case(BATCHER))
        .flat_map(|(_, txs)| txs.as_object().unwrap().values().cloned())
        .collect()
}

/// Inbox transactions included in blocks `from..=to`.
fn included(port: u16, from: u64, to: u64) -> Vec<Value> {
    (from..=to)
        .flat_map(|n| {
            let block = l1(
                port,
                "eth_getBlockByNumber",
                json!([format!("{n:#x}"), true]),
            );
            block["transactions"].as_array().unwrap().clone()
        })
        .collect()
}

fn head(port: u16) -> u64 {
    let n = l1(port, "eth_blockNumber", json!([]));
    u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// An L2 with `blocks` blocks and a batcher posting it through `l1_port`.
struct Setup {
    node: TestNode,
    batcher: Batcher,
}

fn setup(l1_port: u16, blocks: usize, tune: impl FnOnce(&mut BatcherConfig)) -> Setup {
    let spec = spec(Some(4), None);
    let node = TestNode::new(spec.clone());
    for _ in 0..blocks {
        node.build(vec![], &[]);
    }
    let executor = Arc::new(Executor::new(spec, node.store.clone()).unwrap());
    let mut config = BatcherConfig::new(format!("http://127.0.0.1:{l1_port}"), 900, INBOX);
    config.confirmations = 2;
    tune(&mut config);
    let batcher = Batcher::new(executor, batcher_key(), config).unwrap();
    Setup { node, batcher }
}

impl Setup {
    /// The rollup node derived everything up to `number`.
    fn derive_to(&self, number: u64) {
        let hash = self.node.store.canonical_hash(number).unwrap().unwrap();
        self.node.store.set_label(BlockLabel::Safe, hash).unwrap();
    }
}

async fn step(batcher: &mut Batcher) -> Result<(), BatcherError> {
    batcher.step().await.map(|_| ())
}

/// Runs a batcher round to completion (the tests themselves block on anvil).
fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn a_dropped_or_reorged_frame_is_sent_again_unchanged() {
    let anvil = anvil();
    let port = anvil.port;
    let mut s = setup(port, 3, |_| {});
    let posted = block(s.batcher.step()).unwrap().expect("a batch");
    assert_eq!((posted.first_block, posted.last_block), (1, 3));
    let sent = pending(port);
    assert_eq!(sent.len(), 1);
    let hash = sent[0]["hash"].as_str().unwrap().to_owned();

    // Dropped from the mempool: the same transaction goes out again.
    l1(port, "anvil_dropTransaction", json!([hash]));
    assert!(pending(port).is_empty());
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(pending(port)[0]["hash"].as_str().unwrap(), hash);
    mine(port, 1);
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(s.batcher.pending_frames(), 1, "not final yet");

    // Reorged out (and dropped, as anvil does): sent again, the same bytes.
    l1(port, "anvil_reorg", json!([1, []]));
    assert_eq!(nonce(port, "latest"), 0);
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(pending(port)[0]["hash"].as_str().unwrap(), hash);
    mine(port, 2);
    block(step(&mut s.batcher)).unwrap();
    // Confirmed twice but not derived: still followed.
    assert_eq!(s.batcher.pending_frames(), 1);
    s.derive_to(3);
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(
        s.batcher.pending_frames(),
        0,
        "confirmed and derived: final"
    );
    let txs = included(port, 1, head(port));
    assert_eq!(txs.len(), 1, "the frame reached L1 once");
    assert_eq!(txs[0]["hash"].as_str().unwrap(), hash);
}

#[test]
fn a_stuck_frame_is_replaced_with_bumped_fees_up_to_the_cap() {
    let anvil = anvil();
    let port = anvil.port;
    let mut s = setup(port, 2, |c| {
        c.resubmission_timeout = Duration::from_millis(1);
        c.max_fee_bumps = 2;
    });
    block(s.batcher.step()).unwrap().expect("a batch");
    let fee = |tx: &Value| {
        u128::from_str_radix(
            tx["maxFeePerGas"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap()
    };
    let first = pending(port)[0].clone();
    let mut fees = vec![fee(&first)];
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(5));
        block(step(&mut s.batcher)).unwrap();
        fees.push(fee(&pending(port)[0]));
    }
    assert_eq!(pending(port).len(), 1, "replaced, not added");
    assert!(
        fees[1] * 10 >= fees[0] * 11 && fees[2] * 10 >= fees[1] * 11,
        "{fees:?}"
    );
    assert_eq!(fees[2], fees[4], "no bump past max_fee_bumps: {fees:?}");
    mine(port, 2);
    s.derive_to(2);
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(s.batcher.pending_frames(), 0);
}

#[test]
fn a_lost_nonce_requeues_from_the_safe_head_as_a_new_batch() {
    let anvil = anvil();
    let port = anvil.port;
    let mut s = setup(port, 3, |_| {});
    let first = block(s.batcher.step()).unwrap().expect("a batch");
    // Someone with the batcher key replaces the frame transaction at its nonce.
    let status = Command::new(tool("cast"))
        .args(["send", "--async", "--private-key", KEY, "--nonce", "0"])
        .args(["--priority-gas-price", "50gwei", "--gas-price", "100gwei"])
        .args(["--rpc-url", &format!("http://127.0.0.1:{port}")])
        .arg(BATCHER)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    mine(port, 1);
    s.derive_to(1);
    // Once could be a node whose receipts lag; twice in a row, the frame is lost.
    assert_eq!(block(s.batcher.step()).unwrap(), None);
    assert_eq!(s.batcher.pending_frames(), 1);
    let again = block(s.batcher.step()).unwrap().expect("posted again");
    assert_eq!(
        (again.first_block, again.last_block),
        (2, 3),
        "from the safe head on"
    );
    assert_ne!(again.channel_id, first.channel_id, "a new channel");
    assert_eq!(pending(port)[0]["nonce"], "0x1");
}

/// A JSON-RPC front for anvil that answers some methods with lies.
struct LyingL1 {
    port: u16,
    lies: Arc<Mutex<Vec<(String, Value)>>>,
}

impl LyingL1 {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let lies: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let table = lies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let table = table.clone();
                std::thread::spawn(move || serve(stream, upstream, &table));
            }
        });
        Self { port, lies }
    }

    /// Answers `method` with `result` (raw JSON-RPC `result`, or a whole body when it has a
    /// `"raw"` key) until cleared.
    fn lie(&self, method: &str, result: Value) {
        self.lies.lock().unwrap().push((method.into(), result));
    }

    fn clear(&self) {
        self.lies.lock().unwrap().clear();
    }
}

fn serve(stream: TcpStream, upstream: u16, lies: &Mutex<Vec<(String, Value)>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let request: Value = serde_json::from_slice(&body).unwrap();
        let method = request["method"].as_str().unwrap_or_default().to_owned();
        let lie = lies
            .lock()
            .unwrap()
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, v)| v.clone());
        let answer = match lie {
            Some(Value::Object(o)) if o.contains_key("raw") => {
                o["raw"].as_str().unwrap().to_owned()
            }
            Some(result) => {
                json!({"jsonrpc": "2.0", "id": request["id"], "result": result}).to_string()
            }
            None => reqwest::blocking::Client::new()
                .post(format!("http://127.0.0.1:{upstream}"))
                .body(body)
                .header("content-type", "application/json")
                .send()
                .unwrap()
                .text()
                .unwrap(),
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn an_l1_of_another_chain_gets_nothing() {
    let anvil = anvil();
    let spec = spec(Some(4), None);
    let node = TestNode::new(spec.clone());
    node.build(vec![], &[]);
    let executor = Arc::new(Executor::new(spec, node.store.clone()).unwrap());
    let config = BatcherConfig::new(format!("http://127.0.0.1:{}", anvil.port), 1, INBOX);
    let mut batcher = Batcher::new(executor, batcher_key(), config).unwrap();
    let error = block(batcher.step()).unwrap_err();
    assert!(
        matches!(
            error,
            BatcherError::WrongChain {
                expected: 1,
                got: 900
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("chain 900"), "{error}");
    assert!(pending(anvil.port).is_empty());
    assert_eq!(nonce(anvil.port, "pending"), 0);
}

#[test]
fn lies_and_garbage_from_l1_are_refused_and_retried() {
    let anvil = anvil();
    let port = anvil.port;
    let liar = LyingL1::start(port);
    let mut s = setup(liar.port, 2, |_| {});
    block(s.batcher.step()).unwrap().expect("a batch");
    let hash = pending(port)[0]["hash"].as_str().unwrap().to_owned();
    mine(port, 1);

    // A receipt for some other transaction.
    let receipt = l1(port, "eth_getTransactionReceipt", json!([hash]));
    let mut foreign = receipt.clone();
    foreign["transactionHash"] = json!(format!("0x{}", "ab".repeat(32)));
    liar.lie("eth_getTransactionReceipt", foreign);
    let error = block(s.batcher.step()).unwrap_err();
    assert!(
        error.is_l1() && error.to_string().contains("got a receipt for"),
        "{error}"
    );
    liar.clear();

    // A receipt from a block that is not the canonical one at its height.
    let mut forked = receipt.clone();
    forked["blockHash"] = json!(format!("0x{}", "cd".repeat(32)));
    liar.lie("eth_getTransactionReceipt", forked);
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(s.batcher.pending_frames(), 1);
    liar.clear();

    // Malformed answers: not a block, not JSON-RPC at all, a block other than the one asked for.
    liar.lie("eth_getBlockByNumber", json!("banana"));
    assert!(block(s.batcher.step()).unwrap_err().is_l1());
    liar.clear();
    liar.lie(
        "eth_getBlockByNumber",
        json!({"raw": "<html>bad gateway</html>"}),
    );
    assert!(block(s.batcher.step()).unwrap_err().is_l1());
    liar.clear();
    liar.lie("eth_chainId", json!("0x1"));
    // The chain was checked already; a later answer does not change what was trusted.
    block(step(&mut s.batcher)).unwrap();
    liar.clear();

    // A head that goes back (a reorg, or a lagging node behind a balancer): logged, no harm.
    mine(port, 3);
    block(step(&mut s.batcher)).unwrap();
    let mut old = l1(port, "eth_getBlockByNumber", json!(["0x1", false]));
    old["number"] = json!("0x1");
    liar.lie("eth_getBlockByNumber", old);
    let _ = block(s.batcher.step());
    liar.clear();
    s.derive_to(2);
    block(step(&mut s.batcher)).unwrap();
    assert_eq!(s.batcher.pending_frames(), 0, "final once the lies stopped");
    assert_eq!(included(port, 1, head(port)).len(), 1);
}
