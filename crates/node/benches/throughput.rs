//! Inclusion throughput of `aegis node --dev` side by side with `anvil --optimism` under the
//! same pre-signed load in the same run, through `aegis-load`: 100 senders, JSON-RPC batches of
//! 100, ERC-20 (WETH9) transfers, at 1 s blocks with a 1,000,000,000 gas limit (8 connections,
//! then 4) and at the OP default of 2 s blocks and 60,000,000 gas (8 connections, where the gas
//! limit caps both: compare the latency there). Prints each run's report and aegis' ratio to
//! anvil.
//!
//! `cargo bench -p aegis-node --bench throughput` (needs `scripts/bootstrap.sh` for anvil);
//! `AEGIS_BENCH_TXS` sets the load (default 20,000).

use aegis_load::{LoadConfig, compare, run};
use aegis_testing::process::{Process, free_port};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Starts a node on a free port; returns it and its URL once it answers.
fn start(mut command: Command, port: u16) -> (Process, String) {
    let process = Process(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    // Up once the port takes connections (a blocking HTTP client cannot run in async code).
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (process, url)
}

fn aegis(dir: &Path, period: &str, gas_limit: &str) -> (Process, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_aegis"));
    command
        .args([
            "node",
            "--dev",
            "--dev.period",
            period,
            "--dev.gaslimit",
            gas_limit,
        ])
        .args(["--txpool.nojournal", "--http.port", &port.to_string()])
        .arg("--datadir")
        .arg(dir)
        .env("RUST_LOG", "warn");
    start(command, port)
}

fn anvil(period: &str, gas_limit: &str) -> (Process, String) {
    let port = free_port();
    let mut command = Command::new(repo().join(".tools/bin/anvil"));
    // The same chain id as the dev chain, so both take the same signed transactions. Without
    // --prune-history anvil keeps every block's state in memory.
    command.args([
        "--optimism",
        "--prune-history",
        "--silent",
        "--chain-id",
        "901",
        "--block-time",
        period,
        "--gas-limit",
        gas_limit,
        "--port",
        &port.to_string(),
    ]);
    start(command, port)
}

#[tokio::main]
async fn main() {
    let txs: usize = std::env::var("AEGIS_BENCH_TXS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let weth = aegis_testing::weth_runtime(&aegis_testing::spec(None, None));
    let settings = [
        ("1", "1000000000", 8),
        ("1", "1000000000", 4),
        ("2", "60000000", 8),
    ];
    for (n, (period, gas_limit, connections)) in settings.into_iter().enumerate() {
        let config = LoadConfig {
            txs,
            connections,
            seed: n as u64 + 1,
            ..LoadConfig::default()
        };
        println!(
            "--- {txs} ERC-20 transfers, {connections} connections, {period} s blocks, {gas_limit} gas"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut reports = Vec::new();
        for name in ["aegis --dev", "anvil --optimism"] {
            let (process, url) = if name.starts_with("aegis") {
                aegis(dir.path(), period, gas_limit)
            } else {
                anvil(period, gas_limit)
            };
            match run(name, &url, &config, &weth).await {
                Ok(report) => {
                    println!("{report}");
                    reports.push(report);
                }
                Err(e) => println!("{name}: failed: {e}"),
            }
            drop(process);
        }
        if let [aegis, anvil] = &reports[..] {
            println!("{}", compare(aegis, anvil));
        }
    }
}
