//! The client libraries people already use, unchanged, against `aegis node --dev`: the viem
//! suite in `tests/clients/viem` (installed by `scripts/bootstrap.sh`, pinned by its
//! package-lock.json) runs under `node --test` and must pass whole.

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

/// A dev node on a free port, up and answering.
fn dev_node(dir: &Path) -> (aegis_testing::process::Process, u16) {
    let port = free_port();
    let node = dev_node_with(Path::new(env!("CARGO_BIN_EXE_aegis")), port, dir, &[]);
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    loop {
        let answer = client
            .post(format!("http://127.0.0.1:{port}"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
            .send()
            .and_then(|r| r.json::<serde_json::Value>());
        if answer.is_ok_and(|a| a["result"].is_string()) {
            return (node, port);
        }
        assert!(started.elapsed() < Duration::from_secs(30), "node not up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn viem_works_unchanged() {
    let dir = suite("viem");
    assert!(
        dir.join("node_modules/viem").is_dir(),
        "the viem suite is not installed: run scripts/bootstrap.sh"
    );
    let data = tempfile::tempdir().unwrap();
    let (_node, port) = dev_node(data.path());
    let out = Command::new("node")
        .arg("--test")
        .current_dir(&dir)
        .env("AEGIS_RPC", format!("http://127.0.0.1:{port}"))
        .env("AEGIS_WS", format!("ws://127.0.0.1:{port}"))
        .env("AEGIS_CHAIN_ID", "901")
        .output()
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the viem suite failed:\n{report}");
    // A suite that ran nothing passes too: insist on the tests.
    assert!(report.contains("# pass 9"), "{report}");
}
