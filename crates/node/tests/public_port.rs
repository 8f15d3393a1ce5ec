//! The public JSON-RPC port attacked the way an anonymous caller would, through the real
//! `aegis` binary: operator namespaces are not served unless named, runaway `eth_call`s are
//! capped in gas and time, expensive requests beyond the worker pool are refused at once while
//! blocks keep coming, and SIGTERM stops the node within seconds whatever is in flight.

use aegis_testing::{
    TxType,
    process::{Process, free_port},
    rpc::error_of,
    signer, transfer,
};
use alloy_primitives::Address;
use serde_json::{Value, json};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// `JUMPDEST PUSH0 JUMP`: loops until gas or patience runs out.
const LOOP_CODE: &str = "0x5b5f56";
const LOOP_AT: Address = Address::repeat_byte(0x10);

struct Node {
    process: Process,
    url: String,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_aegis"))
            .args(["node", "--dev", "--dev.period", "1", "--txpool.nojournal"])
            .arg("--datadir")
            .arg(dir.path())
            .args(["--http.port", &port.to_string()])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let node = Self {
            process: Process(child),
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let started = Instant::now();
        while node.try_call("eth_chainId", json!([])).is_none() {
            assert!(started.elapsed() < Duration::from_secs(30), "node not up");
            std::thread::sleep(Duration::from_millis(100));
        }
        node
    }

    fn try_call(&self, method: &str, params: Value) -> Option<Value> {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap()
            .post(&self.url)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .ok()?
            .json()
            .ok()
    }

    fn call(&self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|| panic!("{method}: no answer"))
    }

    fn result(&self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn block_number(&self) -> u64 {
        let n = self.result("eth_blockNumber", json!([]));
        u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.process.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; whether it did.
    fn exits_within(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.process.child().try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// The runaway call of the issue: all the gas there is, a block override raising the block's
/// gas limit, and a state override putting an endless loop at the callee.
fn runaway_call() -> Value {
    json!([
        {"to": LOOP_AT, "gas": "0xffffffffffffffff"},
        "latest",
        {LOOP_AT.to_string(): {"code": LOOP_CODE}},
        {"gasLimit": "0xffffffffffffffff"}
    ])
}

#[test]
fn operator_namespaces_are_served_only_when_named() {
    let node = Node::start(&[]);
    // An anonymous caller cannot throttle the builder…
    let (code, message) = error_of(&node.call("miner_setMaxDASize", json!(["0x1", "0x1"])));
    assert_eq!(code, -32601);
    assert_eq!(
        message,
        "the method miner_setMaxDASize does not exist/is not available"
    );
    // …so user transactions keep being included.
    let raw = transfer(
        TxType::Eip1559,
        &signer(0),
        901,
        0,
        Address::repeat_byte(7),
        1,
    );
    let hash = node.result("eth_sendRawTransaction", json!([raw]));
    let started = Instant::now();
    while node.result("eth_getTransactionReceipt", json!([hash])) == Value::Null {
        assert!(started.elapsed() < Duration::from_secs(20), "not included");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The default namespaces answer.
    node.result("net_version", json!([]));
    node.result("web3_clientVersion", json!([]));
    node.result("txpool_status", json!([]));

    // An operator who names `miner` gets it, and only what they named.
    let operator = Node::start(&["--http.api", "eth,miner"]);
    assert_eq!(
        operator.result("miner_setMaxDASize", json!(["0x10000", "0x100000"])),
        json!(true)
    );
    let (code, message) = error_of(&operator.call("net_version", json!([])));
    assert_eq!(code, -32601);
    assert!(message.contains("net_version"), "{message}");

    // A bad list is refused at start-up, naming the bad entry.
    let output = Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args(["node", "--dev", "--http.api", "eth,admin"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"admin\""), "{stderr}");
}

#[test]
fn runaway_calls_are_capped_in_gas_and_time() {
    // Default limits: the 50M gas cap applies whatever the request and overrides say.
    let node = Node::start(&[]);
    let (code, message) = error_of(&node.call("eth_call", runaway_call()));
    assert_eq!((code, message.as_str()), (-32000, "out of gas"));
    let (code, message) = error_of(&node.call("eth_estimateGas", json!([{"to": LOOP_AT, "gas": "0xffffffffffffffff"}, "latest", {LOOP_AT.to_string(): {"code": LOOP_CODE}}])));
    assert_eq!(code, -32000, "{message}");
    assert!(
        message.starts_with("gas required exceeds allowance (50000000)"),
        "{message}"
    );

    // No gas cap: the time limit ends it, with geth's message.
    let uncapped = Node::start(&["--rpc.gascap", "0", "--rpc.evmtimeout", "1s"]);
    let (code, message) = error_of(&uncapped.call("eth_call", runaway_call()));
    assert_eq!(code, -32000);
    assert_eq!(message, "execution aborted (timeout = 1s)");
    // Estimates share the limit (the block's 60M gas of loop takes far longer than 10 ms).
    let impatient = Node::start(&["--rpc.gascap", "0", "--rpc.evmtimeout", "10ms"]);
    let (code, message) = error_of(&impatient.call(
        "eth_estimateGas",
        json!([{"to": LOOP_AT}, "latest", {LOOP_AT.to_string(): {"code": LOOP_CODE}}]),
    ));
    assert_eq!(
        (code, message.as_str()),
        (-32000, "execution aborted (timeout = 10ms)")
    );

    let output = Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args(["node", "--dev", "--rpc.evmtimeout", "5 parsecs"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("5 parsecs"), "{stderr}");
}

#[test]
fn a_busy_rpc_neither_stalls_blocks_nor_delays_sigterm() {
    // No limits at all, one worker and one queue slot: the worst an operator can configure.
    let mut node = Node::start(&[
        "--rpc.gascap",
        "0",
        "--rpc.evmtimeout",
        "0",
        "--rpc.workers",
        "1",
        "--rpc.queue",
        "1",
    ]);
    let url = node.url.clone();
    let endless: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(&url)
                    .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": runaway_call()}))
                    .send()
                    .ok()
            })
        })
        .collect();
    // Both reach the node well within this (it answered before they were sent).
    std::thread::sleep(Duration::from_millis(1500));
    // The pool is full: a third expensive request is refused at once…
    let (code, message) = error_of(&node.call("eth_call", runaway_call()));
    assert_eq!(code, -32005, "{message}");
    // …cheap reads still answer, and blocks keep coming.
    let before = node.block_number();
    let started = Instant::now();
    while node.block_number() < before + 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "block production stalled behind RPC work"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    node.terminate();
    assert!(
        node.exits_within(Duration::from_secs(5)),
        "the node was still running 5 s after SIGTERM with calls in flight"
    );
    for call in endless {
        let _ = call.join();
    }
}
