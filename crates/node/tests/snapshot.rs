//! State snapshots end to end with the `aegis` binary: a node serves its periodic snapshots, a
//! fresh node starts from one and serves the same state; untrusted or unverifiable snapshots are
//! refused; an import killed half-way completes when run again.

mod support;

use alloy_primitives::{Address, B256, U256};
use serde_json::{Value, json};
use std::{
    process::Stdio,
    time::{Duration, Instant},
};
use support::{aegis, ok, path, refused};

// Below Linux's ephemeral range (32768 and up), where outgoing connections could take them.
const SOURCE_RPC: u16 = 23545;
const SOURCE_OPS: u16 = 23546;
const JOINER_RPC: u16 = 23547;

/// Kills the child on drop.
struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn call(port: u16, method: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}"))
        .json(&body)
        .send()
        .ok()?
        .json()
        .ok()?;
    answer.get("result").cloned()
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_fresh_node_starts_from_a_peers_snapshot_and_untrusted_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    ok(&[
        "genesis",
        "--out",
        path(&dir.path().join("g")),
        "--timestamp",
        "1700000000",
    ]);
    let genesis = dir.path().join("g/genesis.json");
    let source_data = dir.path().join("source");
    let _source = Node(
        aegis()
            .args([
                "node",
                "--datadir",
                path(&source_data),
                "--genesis",
                path(&genesis),
            ])
            .args(["--dev", "--dev.period", "1", "--http", "--http.port"])
            .arg(SOURCE_RPC.to_string())
            .args(["--metrics", &format!("127.0.0.1:{SOURCE_OPS}")])
            .args(["--checkpoint.interval", "3"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the source's RPC", Duration::from_secs(30), || {
        call(SOURCE_RPC, "eth_chainId", json!([]))
    });
    let to = Address::repeat_byte(0x77);
    let tx = aegis_testing::transfer(
        aegis_testing::TxType::Eip1559,
        &aegis_testing::signer(0),
        901,
        0,
        to,
        1234,
    );
    call(SOURCE_RPC, "eth_sendRawTransaction", json!([tx])).expect("transfer accepted");
    let included_at = wait_for("the transfer", Duration::from_secs(30), || {
        let balance = call(SOURCE_RPC, "eth_getBalance", json!([to, "latest"]))?;
        (balance == json!(U256::from(1234))).then(|| {
            let n = call(SOURCE_RPC, "eth_blockNumber", json!([])).unwrap();
            u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        })
    });
    // The periodic snapshot after the transfer, with its signed checkpoint.
    let record: Value = wait_for("a snapshot", Duration::from_secs(60), || {
        let record: Value =
            reqwest::blocking::get(format!("http://127.0.0.1:{SOURCE_OPS}/snapshot/latest"))
                .ok()?
                .json()
                .ok()?;
        (record["checkpoint"]["blockNumber"].as_u64()? >= included_at).then_some(record)
    });
    let number = record["checkpoint"]["blockNumber"].as_u64().unwrap();
    let hash: B256 = serde_json::from_value(record["checkpoint"]["blockHash"].clone()).unwrap();
    let peer = format!("http://127.0.0.1:{SOURCE_OPS}");

    // Not trusted: another block, or no trust at all. Nothing is written.
    let joiner_data = dir.path().join("joiner");
    let node_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "node",
            "--datadir",
            path(&joiner_data),
            "--genesis",
            path(&genesis),
            "--http",
            "--http.port",
            &JOINER_RPC.to_string(),
            "--sync.snapshot",
            &peer,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let refused_with = |extra: &[&str]| {
        let args = node_args(extra);
        refused(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let other = format!("{:#x}", B256::repeat_byte(1));
    let stderr = refused_with(&["--sync.trusted-block", &other]);
    assert!(stderr.contains("trusted block"), "{stderr}");
    let stderr = refused_with(&[]);
    assert!(stderr.contains("--sync.attestation"), "{stderr}");
    assert!(!joiner_data.join("chain.redb").exists());

    // Trusted: the joiner starts at the snapshot's block with the same state.
    let args = node_args(&["--sync.trusted-block", &format!("{hash:#x}")]);
    let _joiner = Node(aegis().args(&args).stderr(Stdio::null()).spawn().unwrap());
    wait_for("the joiner's RPC", Duration::from_secs(60), || {
        call(JOINER_RPC, "eth_chainId", json!([]))
    });
    let head = call(JOINER_RPC, "eth_getBlockByNumber", json!(["latest", false])).unwrap();
    assert_eq!(head["hash"], json!(hash));
    assert_eq!(
        call(JOINER_RPC, "eth_getBalance", json!([to, "latest"])).unwrap(),
        json!(U256::from(1234))
    );
    let at = format!("{number:#x}");
    let proof_args = |block: &str| json!([to, [format!("{:#x}", B256::ZERO)], block]);
    assert_eq!(
        call(JOINER_RPC, "eth_getProof", proof_args("latest")).unwrap(),
        call(SOURCE_RPC, "eth_getProof", proof_args(&at)).unwrap()
    );
    // The last blocks before it came along: BLOCKHASH and the rollup node's walk back.
    let parent = call(
        JOINER_RPC,
        "eth_getBlockByNumber",
        json!([format!("{:#x}", number - 1), false]),
    );
    assert_eq!(parent.unwrap()["hash"], head["parentHash"]);
}

#[test]
fn an_import_killed_half_way_completes_when_run_again_and_the_root_matches() {
    let dir = tempfile::tempdir().unwrap();
    ok(&["genesis", "--out", path(&dir.path().join("g"))]);
    let genesis = dir.path().join("g/genesis.json");
    let source = dir.path().join("source");
    let (_, hashes) = aegis_testing::state::synthetic_chain(&source.join("chain.redb"), 300_000, 5);
    let snapshot = dir.path().join("state.snap");
    let exported = ok(&[
        "snapshot",
        "export",
        "--datadir",
        path(&source),
        "--genesis",
        path(&genesis),
        "--out",
        path(&snapshot),
    ]);
    assert!(exported.contains("300000 accounts"), "{exported}");
    let target = dir.path().join("target");
    let trusted = format!("{:#x}", hashes[5]);
    let import_args = [
        "snapshot",
        "import",
        "--datadir",
        path(&target),
        "--genesis",
        path(&genesis),
        "--from",
        path(&snapshot),
        "--sync.trusted-block",
        &trusted,
    ];
    let mut child = aegis()
        .args(import_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once it has written part of the store.
    let partial = target.join("chain.redb.partial");
    wait_for(
        "the import to start writing",
        Duration::from_secs(30),
        || (std::fs::metadata(&partial).map_or(0, |m| m.len()) > 4 << 20).then_some(()),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !target.join("chain.redb").exists(),
        "a killed import left a store in place"
    );
    // Run again, the import discards the leftover and completes.
    let imported = ok(&import_args);
    assert!(imported.contains("300000 accounts"), "{imported}");
    assert!(!partial.exists());
    let verified = ok(&["db", "verify", "--datadir", path(&target)]);
    assert!(verified.starts_with("block 5 "), "{verified}");
    // Importing again over the store is refused and leaves it alone.
    let stderr = refused(&import_args);
    assert!(stderr.contains("already"), "{stderr}");
}
