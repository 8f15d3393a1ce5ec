//! The client libraries people already use, unchanged, against `aegis node --dev`: the suites
//! in `tests/clients` — viem and ethers v6 (`node --test`, pinned by their package-lock.json)
//! and web3.py (`unittest`, pinned by requirements.txt), installed by `scripts/bootstrap.sh` —
//! each in its ecosystem's own language, each run against a fresh node and required to pass
//! whole.

use aegis_testing::process::{dev_node_with, free_port};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

fn suite(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/clients")
        .join(name)
}

/// A dev node on a free port, up and past its first block (the suites read blocks with the
/// L1-info deposit; the genesis has none).
fn dev_node(dir: &Path) -> (aegis_testing::process::Process, u16) {
    let port = free_port();
    let node = dev_node_with(Path::new(env!("CARGO_BIN_EXE_aegis")), port, dir, &[]);
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    loop {
        let answer = client
            .post(format!("http://127.0.0.1:{port}"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}))
            .send()
            .and_then(|r| r.json::<serde_json::Value>());
        let number = answer.ok().and_then(|a| {
            u64::from_str_radix(a["result"].as_str()?.trim_start_matches("0x"), 16).ok()
        });
        if number.is_some_and(|n| n >= 1) {
            return (node, port);
        }
        assert!(started.elapsed() < Duration::from_secs(30), "node not up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `program args` in the suite `name` against a fresh dev node; the report must show
/// `passed` (a suite that ran nothing passes too).
fn run_suite(name: &str, program: &Path, args: &[&str], passed: &str) {
    let dir = suite(name);
    let data = tempfile::tempdir().unwrap();
    let (_node, port) = dev_node(data.path());
    let out = Command::new(program)
        .args(args)
        .current_dir(&dir)
        .env("AEGIS_RPC", format!("http://127.0.0.1:{port}"))
        .env("AEGIS_WS", format!("ws://127.0.0.1:{port}"))
        .env("AEGIS_CHAIN_ID", "901")
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", program.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the {name} suite failed:\n{report}");
    assert!(report.contains(passed), "{report}");
}

fn installed(what: &Path) {
    assert!(
        what.exists(),
        "{} is missing: run scripts/bootstrap.sh",
        what.display()
    );
}

#[test]
fn viem_works_unchanged() {
    installed(&suite("viem").join("node_modules/viem"));
    run_suite("viem", Path::new("node"), &["--test"], "# pass 9");
}

#[test]
fn ethers_works_unchanged() {
    installed(&suite("ethers").join("node_modules/ethers"));
    run_suite("ethers", Path::new("node"), &["--test"], "# pass 7");
}

#[test]
fn web3_py_works_unchanged() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/py/bin/python");
    installed(&python);
    run_suite("web3py", &python, &["-m", "unittest", "-v"], "Ran 5 tests");
}

/// What a wallet reads from the dev chain across its Isthmus activation (4 s after genesis): the
/// activation block carries the upgrade deposits and nothing else after the L1-info deposit,
/// no deposit ever reverts, the `GasPriceOracle` reports Isthmus and `L1Block` moves every
/// block.
#[test]
fn the_dev_chain_crosses_the_isthmus_activation_as_a_rollup_node_drives_it() {
    let data = tempfile::tempdir().unwrap();
    let (_node, port) = dev_node(data.path());
    let client = reqwest::blocking::Client::new();
    let call = |method: &str, params: serde_json::Value| -> serde_json::Value {
        let answer: serde_json::Value = client
            .post(format!("http://127.0.0.1:{port}"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .and_then(|r| r.json())
            .unwrap();
        assert!(answer["error"].is_null(), "{method}: {answer}");
        answer["result"].clone()
    };
    let number = |hex: &serde_json::Value| {
        u64::from_str_radix(hex.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    let started = Instant::now();
    while number(&call("eth_blockNumber", json!([]))) < 8 {
        assert!(started.elapsed() < Duration::from_secs(60), "no block 8");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut activations = 0;
    for n in 1..=8u64 {
        let block = call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]));
        let receipts = call("eth_getBlockReceipts", json!([format!("{n:#x}")]));
        for receipt in receipts.as_array().unwrap() {
            assert_eq!(receipt["status"], "0x1", "block {n}: {receipt}");
        }
        // The L1-info deposit and Isthmus' eight upgrade deposits.
        if block["transactions"].as_array().unwrap().len() == 9 {
            activations += 1;
        }
    }
    assert_eq!(activations, 1, "one Isthmus activation block");
    let oracle = |selector: &str| {
        call(
            "eth_call",
            json!([{"to": "0x420000000000000000000000000000000000000F", "data": selector}, "latest"]),
        )
    };
    // isIsthmus()
    assert_eq!(number(&oracle("0xb54501bc")), 1);
    // L1Block.sequenceNumber(): the dev sealer's block count, moved by every block.
    let sequence = call(
        "eth_call",
        json!([{"to": "0x4200000000000000000000000000000000000015", "data": "0x64ca23ef"}, "latest"]),
    );
    assert!(number(&sequence) >= 7, "sequence number {sequence}");
}
