//! Sustained inclusion throughput of ERC-20 (WETH9) transfers sent through
//! `eth_sendRawTransaction`: `aegis node --dev` side by side with `anvil --optimism` under the
//! same load in the same run, reported as tx/s, Mgas/s and their ratio.
//!
//! `cargo bench -p aegis-node --bench throughput` (needs `scripts/bootstrap.sh` for anvil).
//! `AEGIS_BENCH_TXS` sets the number of transfers (default 10,000 from the 10 dev accounts).

use aegis_testing::{
    IWeth, TxType, deploy_code,
    process::{Process, dev_node, free_port},
    signer, user_tx,
};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const SENDERS: u32 = 10;
/// Longest a target may take to include the load.
const TARGET_LIMIT: Duration = Duration::from_secs(180);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A client patient enough for a node under load.
fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap()
}

struct Target {
    url: String,
    process: Process,
}

struct Rpc {
    client: reqwest::blocking::Client,
}

impl Rpc {
    fn call(&self, url: &str, method: &str, params: Value) -> Result<Value, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut attempt = 0;
        let response: Value = loop {
            match self.client.post(url).json(&body).send() {
                Ok(response) => break response.json().map_err(|e| format!("{e:?}"))?,
                // A server may close an idle keep-alive connection just as it is reused; the
                // request never reached it, so sending again is safe.
                Err(e) if e.is_request() && attempt < 3 => attempt += 1,
                Err(e) => return Err(format!("{e:?}")),
            }
        };
        match response.get("error") {
            Some(error) => Err(format!("{method}: {error}")),
            None => Ok(response["result"].clone()),
        }
    }

    fn number(&self, url: &str, method: &str, params: Value) -> u64 {
        let value = self.call(url, method, params).unwrap();
        u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    fn wait_ready(&self, url: &str) {
        let started = Instant::now();
        while self.call(url, "eth_chainId", json!([])).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "{url} not up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for `sender`'s mined nonce to reach `nonce`.
    fn wait_nonce(&self, url: &str, sender: Address, nonce: u64) {
        while self.number(url, "eth_getTransactionCount", json!([sender, "latest"])) < nonce {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn tx(
    signer: &PrivateKeySigner,
    chain: u64,
    nonce: u64,
    to: TxKind,
    value: u64,
    input: Vec<u8>,
    gas: u64,
) -> Bytes {
    user_tx(
        TxType::Eip1559,
        signer,
        chain,
        nonce,
        to,
        U256::from(value),
        input.into(),
        gas,
    )
}

/// Deploys WETH9, funds every sender's WETH balance, then sends `per_sender` transfers from
/// each sender concurrently and waits until all are mined. Returns (seconds, transactions, gas).
fn run(rpc: &Rpc, name: &str, url: &str, per_sender: u64, weth_runtime: &Bytes) -> (f64, u64, u64) {
    rpc.wait_ready(url);
    let chain = rpc.number(url, "eth_chainId", json!([]));
    let deployer = signer(0);
    let nonce = rpc.number(
        url,
        "eth_getTransactionCount",
        json!([deployer.address(), "pending"]),
    );
    let create = tx(
        &deployer,
        chain,
        nonce,
        TxKind::Create,
        0,
        deploy_code(weth_runtime).to_vec(),
        3_000_000,
    );
    rpc.call(url, "eth_sendRawTransaction", json!([create]))
        .unwrap();
    rpc.wait_nonce(url, deployer.address(), nonce + 1);
    let weth = deployer.address().create(nonce);

    let senders: Vec<PrivateKeySigner> = (0..SENDERS).map(signer).collect();
    let mut firsts = Vec::new();
    for s in &senders {
        let nonce = rpc.number(
            url,
            "eth_getTransactionCount",
            json!([s.address(), "pending"]),
        );
        let deposit = tx(
            s,
            chain,
            nonce,
            TxKind::Call(weth),
            10u64.pow(18),
            IWeth::depositCall {}.abi_encode(),
            100_000,
        );
        rpc.call(url, "eth_sendRawTransaction", json!([deposit]))
            .unwrap();
        firsts.push(nonce + 1);
    }
    for (s, first) in senders.iter().zip(&firsts) {
        rpc.wait_nonce(url, s.address(), *first);
    }

    // Pre-signed so that signing is not measured.
    let batches: Vec<Vec<Bytes>> = senders
        .iter()
        .zip(&firsts)
        .enumerate()
        .map(|(i, (s, first))| {
            (0..per_sender)
                .map(|k| {
                    let to = Address::with_last_byte((i as u64 * 7 + k) as u8 % 100 + 1);
                    let input = IWeth::transferCall {
                        to,
                        value: U256::from(1),
                    }
                    .abi_encode();
                    tx(s, chain, first + k, TxKind::Call(weth), 0, input, 60_000)
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for batch in &batches {
            scope.spawn(move || {
                let rpc = Rpc { client: client() };
                for raw in batch {
                    rpc.call(url, "eth_sendRawTransaction", json!([raw]))
                        .unwrap();
                }
            });
        }
    });
    let submitted = started.elapsed().as_secs_f64();
    for (s, first) in senders.iter().zip(&firsts) {
        rpc.wait_nonce(url, s.address(), first + per_sender);
    }
    eprintln!("{}: submitted in {submitted:.2} s", name);
    let seconds = started.elapsed().as_secs_f64();
    let mut gas = 0;
    for batch in &batches {
        for raw in batch {
            let hash = alloy_primitives::keccak256(raw);
            let receipt = rpc
                .call(url, "eth_getTransactionReceipt", json!([hash]))
                .unwrap();
            assert_eq!(receipt["status"], "0x1", "{}: {receipt}", name);
            gas += u64::from_str_radix(
                receipt["gasUsed"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("0x"),
                16,
            )
            .unwrap();
        }
    }
    (seconds, per_sender * SENDERS as u64, gas)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    let anvil_bin = repo().join(".tools/bin/anvil");
    assert!(
        anvil_bin.exists(),
        "anvil missing: run scripts/bootstrap.sh"
    );
    let total: u64 = std::env::var("AEGIS_BENCH_TXS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let per_sender = (total / SENDERS as u64).max(1);
    let dir = tempfile::tempdir().unwrap();
    let weth_runtime = aegis_testing::weth_runtime(&aegis_testing::spec(None, None));

    let mut results = Vec::new();
    // anvil mines either one block per transaction (its default) or on an interval like aegis'
    // dev mode; both are measured. Without --prune-history anvil keeps every block's state in
    // memory and was OOM-killed (24 GiB) under this load on a 2-core/24 GiB machine.
    for name in [
        "aegis --dev",
        "anvil --optimism --prune-history",
        "anvil --optimism --prune-history --block-time 1",
    ] {
        let port = free_port();
        let process = if name.starts_with("aegis") {
            dev_node(
                Path::new(env!("CARGO_BIN_EXE_aegis")),
                port,
                &dir.path().join("aegis"),
            )
        } else {
            Process(
                Command::new(&anvil_bin)
                    .args(name.split(' ').skip(1))
                    .args(["--silent", "--port", &port.to_string()])
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(dir.path().join("anvil.log")).unwrap())
                    .spawn()
                    .unwrap(),
            )
        };
        let mut target = Target {
            url: format!("http://127.0.0.1:{port}"),
            process,
        };
        // A target that cannot include the load within the limit is reported as such.
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let (url, weth) = (target.url.clone(), weth_runtime.clone());
        std::thread::spawn(move || {
            let rpc = Rpc { client: client() };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&rpc, name, &url, per_sender, &weth)
            }));
            let _ = done_tx.send(outcome.ok());
        });
        let Ok(Some((seconds, txs, gas))) = done_rx.recv_timeout(TARGET_LIMIT) else {
            let exit = target.process.child().try_wait();
            println!(
                "{name:>18}: did not include {} transfers within {} s (exit: {exit:?})",
                per_sender * SENDERS as u64,
                TARGET_LIMIT.as_secs()
            );
            results.push((0.0, 0.0));
            continue;
        };
        let tps = txs as f64 / seconds;
        let mgas = gas as f64 / seconds / 1e6;
        println!(
            "{name:>18}: {txs} ERC-20 transfers in {seconds:.2} s = {tps:.0} tx/s, {mgas:.1} Mgas/s"
        );
        results.push((tps, mgas));
    }
    for (i, name) in [
        "anvil --optimism --prune-history",
        "anvil --optimism --prune-history --block-time 1",
    ]
    .iter()
    .enumerate()
    {
        if results[i + 1].0 == 0.0 {
            println!("ratio aegis / {name}: n/a (did not finish)");
            continue;
        }
        println!(
            "ratio aegis / {name}: {:.2}x tx/s, {:.2}x Mgas/s",
            results[0].0 / results[i + 1].0,
            results[0].1 / results[i + 1].1
        );
    }
}
