//! Disk growth per block of `aegis node --dev` (1 s blocks) over a soak: a node that never took
//! a transaction, one that took a burst of transfers and keeps transactions queued behind nonce
//! gaps (a pool that never drains — the case where `chain.redb` used to grow by every block's
//! copied pages), and the same with `--history.blocks 64`. The two burst nodes also get a trickle
//! of one transfer per block throughout. The nodes run side by side; the bench prints bytes per
//! block for each over the whole run and over its last half (flat after pruning: near zero).
//!
//! `cargo bench -p aegis-node --bench disk_growth`; `AEGIS_BENCH_BLOCKS` sets the blocks
//! measured after a warm-up of 60 (default 240; 3600 is the hour-long soak), `AEGIS_BENCH_TXS`
//! the burst (default 2,000; each sender's tenth nonce is skipped, so what it sends after that
//! stays queued).

use aegis_testing::{
    TxType,
    process::{dev_node_with, free_port},
    signer, transfer,
};
use alloy_primitives::Address;
use serde_json::{Value, json};
use std::{
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

/// Burst senders; the trickle sends from the next dev account (ten are funded).
const SENDERS: u32 = 9;

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

/// Growth of a node's file over a run: bytes per block over all of it and over its last half.
struct Growth {
    whole: f64,
    last_half: f64,
    file: u64,
}

/// Measures `blocks` blocks of a node at `datadir`, after the warm-up.
fn measure(url: &str, datadir: &Path, blocks: u64) -> Growth {
    // Past the file's first growth steps and whatever the last submission left to seal.
    wait_blocks(url, WARM_UP_BLOCKS);
    let (start, size) = (number(url), db_size(datadir));
    wait_blocks(url, blocks / 2);
    let (middle, half_size) = (number(url), db_size(datadir));
    wait_blocks(url, blocks - blocks / 2);
    let (end, file) = (number(url), db_size(datadir));
    let per_block = |from: u64, to: u64, n: u64| to.saturating_sub(from) as f64 / n.max(1) as f64;
    Growth {
        whole: per_block(size, file, end - start),
        last_half: per_block(half_size, file, end - middle),
        file,
    }
}

/// One transfer per block from a sender of its own, until `stop`.
fn trickle(url: &str, stop: &AtomicBool) {
    let from = signer(SENDERS);
    let mut nonce = 0;
    let mut last = number(url);
    while !stop.load(Ordering::Relaxed) {
        let now = number(url);
        if now > last {
            let raw = transfer(
                TxType::Eip1559,
                &from,
                CHAIN_ID,
                nonce,
                Address::repeat_byte(0x77),
                1,
            );
            if !call(url, "eth_sendRawTransaction", json!([raw])).is_null() {
                nonce += 1;
            }
            last = now;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

const CHAIN_ID: u64 = 901;

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
    let rows = [
        ("no transactions", false, &[][..]),
        ("burst queued + trickle", true, &[][..]),
        (
            "same, --history.blocks 64",
            true,
            &["--history.blocks", "64"][..],
        ),
    ];
    let results: Vec<(&str, Growth)> = std::thread::scope(|scope| {
        let runs: Vec<_> = rows
            .iter()
            .map(|&(label, loaded, extra)| {
                let datadir = dir
                    .path()
                    .join(label.replace([' ', ',', '-', '.', '+'], "_"));
                scope.spawn(move || (label, run(&datadir, loaded, extra, burst, blocks)))
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    println!("chain.redb growth per 1 s block over {blocks} blocks (goal <= 20 KB; pruned: flat):");
    println!(
        "{:<30} {:>14} {:>18} {:>10}",
        "", "whole run", "last half", "file"
    );
    for (label, g) in results {
        println!(
            "{label:<30} {:>8.1} KB/block {:>8.1} KB/block {:>7.1} MB",
            g.whole / 1024.0,
            g.last_half / 1024.0,
            g.file as f64 / 1e6
        );
    }
}

/// Starts a node, loads it (a burst left queued, then a trickle) when `loaded`, and measures.
fn run(datadir: &Path, loaded: bool, extra: &[&str], burst: u64, blocks: u64) -> Growth {
    let port = free_port();
    let _node = dev_node_with(Path::new(env!("CARGO_BIN_EXE_aegis")), port, datadir, extra);
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while call(&url, "eth_chainId", json!([])).is_null() {
        assert!(started.elapsed() < Duration::from_secs(30), "node not up");
        std::thread::sleep(Duration::from_millis(100));
    }
    if !loaded {
        return measure(&url, datadir, blocks);
    }
    let per_sender = burst / SENDERS as u64;
    for i in 0..SENDERS {
        let from = signer(i);
        for nonce in 0..per_sender {
            let to = Address::repeat_byte(0x40 + (nonce % 64) as u8);
            // The tenth goes far ahead, so the ones after it queue for good.
            let nonce = if nonce == 9 { nonce + 1_000_000 } else { nonce };
            let raw = transfer(TxType::Eip1559, &from, CHAIN_ID, nonce, to, 1);
            call(&url, "eth_sendRawTransaction", json!([raw]));
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| trickle(&url, &stop));
        let growth = measure(&url, datadir, blocks);
        stop.store(true, Ordering::Relaxed);
        growth
    })
}
