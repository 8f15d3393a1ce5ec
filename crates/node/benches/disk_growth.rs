//! Disk growth per near-empty block of `aegis node --dev` (1 s blocks): a node that never took a
//! transaction, against one that took a burst of transfers and keeps transactions queued behind
//! nonce gaps (a pool that never drains) while nothing new arrives — the case where `chain.redb`
//! used to grow by every block's copied pages — and the same with `--history.blocks 64`. Prints
//! bytes per block for each.
//!
//! `cargo bench -p aegis-node --bench disk_growth`; `AEGIS_BENCH_BLOCKS` sets the quiet blocks
//! measured after a warm-up of 60 (default 240), `AEGIS_BENCH_TXS` the burst (default 2,000; each sender's tenth nonce
//! is skipped, so what it sends after that stays queued).

use aegis_testing::{
    TxType,
    process::{dev_node_with, free_port},
    signer, transfer,
};
use alloy_primitives::Address;
use serde_json::{Value, json};
use std::{
    path::Path,
    time::{Duration, Instant},
};

const SENDERS: u32 = 10;

fn call(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response: Value = reqwest::blocking::Client::new()
        .post(url)
        .json(&body)
        .send()
        .and_then(|r| r.json())
        .unwrap_or(Value::Null);
    response["result"].clone()
}

fn number(url: &str) -> u64 {
    let n = call(url, "eth_blockNumber", json!([]));
    n.as_str()
        .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0)
}

fn wait_blocks(url: &str, blocks: u64) {
    let target = number(url) + blocks;
    while number(url) < target {
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn db_size(datadir: &Path) -> u64 {
    std::fs::metadata(datadir.join("chain.redb")).map_or(0, |m| m.len())
}

/// Blocks first sealed before measuring: redb grows a young file in doubling steps (3 MB, then
/// 6 MB) before it settles into reusing its freed pages.
const WARM_UP_BLOCKS: u64 = 60;

/// Bytes per block over `blocks` quiet blocks of a node at `datadir`.
fn quiet_growth(url: &str, datadir: &Path, blocks: u64) -> f64 {
    // Past the file's first growth steps and whatever the last submission left to seal.
    wait_blocks(url, WARM_UP_BLOCKS);
    let (start, size) = (number(url), db_size(datadir));
    wait_blocks(url, blocks);
    let (end, grown) = (number(url), db_size(datadir));
    (grown.saturating_sub(size)) as f64 / (end - start) as f64
}

fn main() {
    let blocks: u64 = std::env::var("AEGIS_BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let burst: u64 = std::env::var("AEGIS_BENCH_TXS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for (label, with_burst, extra) in [
        ("no transactions", false, &[][..]),
        ("after a burst, queued left", true, &[][..]),
        (
            "same, --history.blocks 64",
            true,
            &["--history.blocks", "64"][..],
        ),
    ] {
        let port = free_port();
        let datadir = dir.path().join(label.replace([' ', ',', '-', '.'], "_"));
        let _node = dev_node_with(
            Path::new(env!("CARGO_BIN_EXE_aegis")),
            port,
            &datadir,
            extra,
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while call(&url, "eth_chainId", json!([])).is_null() {
            assert!(started.elapsed() < Duration::from_secs(30), "node not up");
            std::thread::sleep(Duration::from_millis(100));
        }
        let chain = 901;
        if with_burst {
            let per_sender = burst / SENDERS as u64;
            for i in 0..SENDERS {
                let from = signer(i);
                for nonce in 0..per_sender {
                    let to = Address::repeat_byte(0x40 + (nonce % 64) as u8);
                    // The tenth goes far ahead, so the ones after it queue for good.
                    let nonce = if nonce == 9 { nonce + 1_000_000 } else { nonce };
                    let raw = transfer(TxType::Eip1559, &from, chain, nonce, to, 1);
                    call(&url, "eth_sendRawTransaction", json!([raw]));
                }
            }
        }
        rows.push((label, quiet_growth(&url, &datadir, blocks)));
    }
    println!("chain.redb growth per near-empty 1 s block over {blocks} blocks (goal <= 20 KB):");
    for (label, bytes) in rows {
        println!("{label:<30} {:>10.1} KB/block", bytes / 1024.0);
    }
}
