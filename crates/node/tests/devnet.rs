//! The whole devnet, end to end: anvil L1, kona-node sequencing the aegis engine, the aegis
//! batcher posting to L1, and an L1-only kona-node + aegis validator.
//!
//! Needs kona-node (`scripts/bootstrap.sh --kona`, which the test command runs first).

use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

const SEQUENCER_RPC: u16 = 29545;
const VALIDATOR_RPC: u16 = 29546;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs a devnet script with this test's ports and data directory.
fn devnet(data: &Path, script: &str, args: &[&str]) -> std::process::Output {
    Command::new(repo().join("devnet").join(script))
        .args(args)
        .env("AEGIS_DEVNET_DATA", data)
        .env("AEGIS_BIN", env!("CARGO_BIN_EXE_aegis"))
        .env("AEGIS_DEVNET_L1_PORT", "28545")
        .env("AEGIS_DEVNET_BEACON_PORT", "25052")
        .env("AEGIS_DEVNET_ENGINE_PORT", "28551")
        .env("AEGIS_DEVNET_VALIDATOR_ENGINE_PORT", "28552")
        .env("AEGIS_DEVNET_ROLLUP_PORT", SEQUENCER_RPC.to_string())
        .env(
            "AEGIS_DEVNET_VALIDATOR_ROLLUP_PORT",
            VALIDATOR_RPC.to_string(),
        )
        .env("AEGIS_DEVNET_P2P_PORT", "29222")
        .env("AEGIS_DEVNET_VALIDATOR_P2P_PORT", "29223")
        .env("AEGIS_DEVNET_METRICS_PORT", "29001")
        .env("AEGIS_DEVNET_L2_RPC_PORT", "28645")
        .env("AEGIS_DEVNET_VALIDATOR_L2_RPC_PORT", "28646")
        .env("AEGIS_DEVNET_VALIDATOR_METRICS_PORT", "29002")
        .output()
        .unwrap()
}

/// Stops the devnet even when an assertion fails.
struct Devnet(PathBuf);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = devnet(&self.0, "down", &[]);
    }
}

fn rpc(port: u16, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}"))
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("{method} on {port}: {e}"));
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

/// (unsafe, safe) L2 head numbers of a rollup node.
fn heads(port: u16) -> (u64, u64) {
    let status = rpc(port, "optimism_syncStatus", json!([]));
    let number = |k: &str| status[k]["number"].as_u64().unwrap();
    (number("unsafe_l2"), number("safe_l2"))
}

fn block_hash(port: u16, number: u64) -> String {
    let output = rpc(
        port,
        "optimism_outputAtBlock",
        json!([format!("{number:#x}")]),
    );
    output["blockRef"]["hash"].as_str().unwrap().to_owned()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn devnet_sequences_batches_and_validates_from_l1() {
    let kona = repo().join(".tools/bin/kona-node");
    assert!(
        kona.exists(),
        "kona-node missing: run scripts/bootstrap.sh --kona"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let up = devnet(&data, "up", &[]);
    let _devnet = Devnet(data.clone());
    let stdout = String::from_utf8_lossy(&up.stdout);
    assert!(
        up.status.success(),
        "devnet/up failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    for line in [
        "L1 RPC: http://",
        "Rollup node RPC (sequencer): http://",
        "Logs: ",
    ] {
        assert!(
            stdout.contains(line),
            "devnet/up does not print {line:?}:\n{stdout}"
        );
    }

    // The unsafe head advances at the block time (2 s).
    wait_until("first blocks", Duration::from_secs(60), || {
        heads(SEQUENCER_RPC).0 >= 5
    });
    let (start, _) = heads(SEQUENCER_RPC);
    std::thread::sleep(Duration::from_secs(20));
    let produced = heads(SEQUENCER_RPC).0 - start;
    assert!(
        (7..=13).contains(&produced),
        "{produced} blocks in 20 s at a 2 s block time"
    );

    // Safe heads advance on both rollup nodes through the batches on L1.
    wait_until("safe heads", Duration::from_secs(120), || {
        heads(SEQUENCER_RPC).1 >= 10 && heads(VALIDATOR_RPC).1 >= 10
    });
    let (_, safe_before) = heads(SEQUENCER_RPC);
    let safe_hash_before = block_hash(SEQUENCER_RPC, safe_before);

    // aegis (sequencer engine) restarted mid-run: SIGTERM, then start again.
    let restart = devnet(&data, "restart", &["aegis-sequencer"]);
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );

    wait_until("60 L2 blocks", Duration::from_secs(240), || {
        heads(SEQUENCER_RPC).0 >= 60
    });
    wait_until(
        "validator safe head past the restart",
        Duration::from_secs(180),
        || heads(VALIDATOR_RPC).1 > safe_before + 10,
    );
    assert_eq!(
        block_hash(SEQUENCER_RPC, safe_before),
        safe_hash_before,
        "a safe block was reorged"
    );
    let metrics = reqwest::blocking::get("http://127.0.0.1:29001/metrics")
        .unwrap()
        .text()
        .unwrap();
    for name in [
        "aegis_head_number",
        "aegis_safe_number",
        "aegis_payload_build_seconds",
        "aegis_get_payload_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    let common = heads(SEQUENCER_RPC).1.min(heads(VALIDATOR_RPC).1);
    assert!(common > safe_before);
    for number in 1..=common {
        assert_eq!(
            block_hash(SEQUENCER_RPC, number),
            block_hash(VALIDATOR_RPC, number),
            "safe block {number} differs between sequencer and validator"
        );
    }
}
