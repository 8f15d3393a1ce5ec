//! Running the devnet scripts from tests: each test binary gets its own ports and data
//! directory, so devnet tests run side by side.
#![allow(dead_code)] // each test binary uses its own part

use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

/// The ports one devnet listens on.
pub(crate) struct Ports {
    pub l1: u16,
    pub(crate) beacon: u16,
    pub(crate) engine: u16,
    pub(crate) validator_engine: u16,
    /// kona-node (sequencer) RPC.
    pub(crate) sequencer_rpc: u16,
    /// kona-node (validator) RPC.
    pub(crate) validator_rpc: u16,
    pub p2p: u16,
    pub validator_p2p: u16,
    pub(crate) metrics: u16,
    pub(crate) validator_metrics: u16,
    /// The sequencer aegis' wallet JSON-RPC.
    pub l2_rpc: u16,
    /// The validator aegis' wallet JSON-RPC.
    pub validator_l2_rpc: u16,
}

/// The `aegis` binary under test, logging at `info`.
pub(crate) fn aegis() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aegis"));
    command.env("RUST_LOG", "info");
    command
}

/// Runs `aegis args` to completion.
pub(crate) fn run(args: &[&str]) -> std::process::Output {
    aegis().args(args).output().unwrap()
}

/// Runs `aegis args`, which must succeed; returns its stdout.
pub(crate) fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "aegis {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `aegis args`, which must fail; returns its stderr.
pub(crate) fn refused(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "aegis {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

/// `p` as a command-line argument.
pub(crate) fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs a devnet script with `ports`, `data` and `env`.
pub(crate) fn run_script(
    ports: &Ports,
    data: &Path,
    script: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> std::process::Output {
    let mut command = Command::new(repo().join("devnet").join(script));
    command
        .args(args)
        .env("AEGIS_DEVNET_DATA", data)
        .env("AEGIS_BIN", env!("CARGO_BIN_EXE_aegis"));
    for (name, port) in [
        ("L1_PORT", ports.l1),
        ("BEACON_PORT", ports.beacon),
        ("ENGINE_PORT", ports.engine),
        ("VALIDATOR_ENGINE_PORT", ports.validator_engine),
        ("ROLLUP_PORT", ports.sequencer_rpc),
        ("VALIDATOR_ROLLUP_PORT", ports.validator_rpc),
        ("P2P_PORT", ports.p2p),
        ("VALIDATOR_P2P_PORT", ports.validator_p2p),
        ("METRICS_PORT", ports.metrics),
        ("VALIDATOR_METRICS_PORT", ports.validator_metrics),
        ("L2_RPC_PORT", ports.l2_rpc),
        ("VALIDATOR_L2_RPC_PORT", ports.validator_l2_rpc),
    ] {
        command.env(format!("AEGIS_DEVNET_{name}"), port.to_string());
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A JSON-RPC call on loopback that must succeed. A node that does not answer at all (busy or
/// between connections on a loaded machine) is asked again a few times; an error answer is not.
pub(crate) fn rpc(port: u16, method: &str, params: Value) -> Value {
    let mut attempt = 0;
    loop {
        match try_rpc_once(port, method, params.clone()) {
            Ok(Ok(result)) => return result,
            Ok(Err(error)) => panic!("{method} on {port}: {error}"),
            Err(transport) if attempt < 5 => {
                attempt += 1;
                eprintln!("{method} on {port}: {transport}; asking again");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(transport) => panic!("{method} on {port}: {transport}"),
        }
    }
}

/// The node's error answer to `method` (panics on a result or no answer).
pub(crate) fn rpc_error(port: u16, method: &str, params: Value) -> String {
    match try_rpc_once(port, method, params) {
        Ok(Err(error)) => error,
        Ok(Ok(result)) => panic!("{method} on {port} answered {result}"),
        Err(transport) => panic!("{method} on {port}: {transport}"),
    }
}

/// Outer error: no answer (transport); inner: the node's error answer.
fn try_rpc_once(port: u16, method: &str, params: Value) -> Result<Result<Value, String>, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}"))
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .and_then(|r| r.json())
        .map_err(|e| format!("{e:?}"))?;
    Ok(match response.get("error") {
        Some(error) => Err(error.to_string()),
        None => Ok(response["result"].clone()),
    })
}

/// (unsafe, safe) L2 head numbers of a rollup node.
pub(crate) fn heads(port: u16) -> (u64, u64) {
    let status = rpc(port, "optimism_syncStatus", json!([]));
    let number = |k: &str| status[k]["number"].as_u64().unwrap();
    (number("unsafe_l2"), number("safe_l2"))
}

/// A rollup node's hash of L2 block `number`.
pub(crate) fn block_hash(port: u16, number: u64) -> String {
    let output = rpc(
        port,
        "optimism_outputAtBlock",
        json!([format!("{number:#x}")]),
    );
    output["blockRef"]["hash"].as_str().unwrap().to_owned()
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The text of a Prometheus endpoint.
pub(crate) fn metrics(port: u16) -> String {
    reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .unwrap()
        .text()
        .unwrap()
}

/// A view of the devnet's `SequencerAttestation` (on the L2 served at `l2_rpc`) at the head.
pub(crate) fn attestation_view<C: alloy_sol_types::SolCall>(
    data: &Path,
    l2_rpc: u16,
    call: C,
) -> C::Return {
    let contracts: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("contracts.json")).unwrap())
            .unwrap();
    let to: alloy_primitives::Address =
        serde_json::from_value(contracts["SequencerAttestation"].clone()).unwrap();
    let input = alloy_primitives::Bytes::from(call.abi_encode());
    let out = rpc(
        l2_rpc,
        "eth_call",
        json!([{"to": to, "input": input}, "latest"]),
    );
    let out = alloy_primitives::hex::decode(out.as_str().expect("hex output")).unwrap();
    C::abi_decode_returns(&out).unwrap()
}

/// `lastL2EndBlock` of the devnet's `SequencerAttestation` (on the L2 served at `l2_rpc`).
pub(crate) fn last_committed_l2_block(data: &Path, l2_rpc: u16) -> u64 {
    use aegis_bindings::sequencer_attestation::SequencerAttestation;
    attestation_view(data, l2_rpc, SequencerAttestation::lastBatchCall {}).lastL2EndBlock
}

/// Whether `account` is an active (registered, not revoked) sequencer in the devnet's
/// `SequencerAttestation` (on the L2 served at `l2_rpc`).
pub(crate) fn is_active_sequencer(
    data: &Path,
    l2_rpc: u16,
    account: alloy_primitives::Address,
) -> bool {
    use aegis_bindings::sequencer_attestation::SequencerAttestation;
    attestation_view(
        data,
        l2_rpc,
        SequencerAttestation::isActiveSequencerCall { account },
    )
}
