//! Block-time jitter with the conductor on vs off: the same devnet (`devnet/up`) run with one
//! sequencer, then as a 3-worker cluster (`--workers 3`: etcd, conductors, every block committed
//! to etcd and fenced in the engine), each sampled for the same number of blocks on the
//! sequencing worker's wallet RPC. Prints the mean interval between new heads and how far
//! intervals stray from the block time (standard deviation, p99, worst).
//!
//! `cargo bench -p aegis-node --bench block_jitter` (needs `scripts/bootstrap.sh --kona`).
//! `AEGIS_BENCH_BLOCKS` sets the blocks sampled per run (default 30).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::Ports;

// Below Linux's ephemeral range, apart from the test binaries' ports.
const PORTS: Ports = Ports {
    l1: 18745,
    beacon: 18752,
    engine: 18751,
    validator_engine: 18753,
    sequencer_rpc: 18755,
    validator_rpc: 18756,
    p2p: 18722,
    validator_p2p: 18723,
    metrics: 18701,
    validator_metrics: 18702,
    l2_rpc: 18645,
    validator_l2_rpc: 18646,
};
const BLOCK_TIME: f64 = 2.0;

fn devnet(data: &std::path::Path, script: &str, args: &[&str]) -> std::process::Output {
    support::run_script(
        &PORTS,
        data,
        script,
        args,
        &[
            ("AEGIS_DEVNET_WORKER_PORT", "13000".to_owned()),
            ("AEGIS_DEVNET_ETCD_PORT", "13379".to_owned()),
        ],
    )
}

fn head() -> u64 {
    let n = support::rpc(PORTS.l2_rpc, "eth_blockNumber", json!([]));
    u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Wall-clock seconds between successive new heads, for `blocks` blocks.
fn intervals(blocks: usize) -> Vec<f64> {
    let (mut last, mut since) = (head(), Instant::now());
    let mut out = Vec::with_capacity(blocks);
    while out.len() < blocks {
        std::thread::sleep(Duration::from_millis(20));
        let now = head();
        if now > last {
            // Two blocks seen at once count as two intervals of half the wait.
            let per = since.elapsed().as_secs_f64() / (now - last) as f64;
            out.extend(std::iter::repeat_n(per, (now - last) as usize));
            (last, since) = (now, Instant::now());
        }
    }
    out
}

fn report(label: &str, samples: &[f64]) {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let deviation = |x: &f64| (x - BLOCK_TIME).abs();
    let std = (samples
        .iter()
        .map(|x| (x - BLOCK_TIME).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let mut off: Vec<f64> = samples.iter().map(deviation).collect();
    off.sort_by(f64::total_cmp);
    let p99 = off[((off.len() - 1) as f64 * 0.99).round() as usize];
    let worst = off.last().copied().unwrap_or_default();
    println!(
        "{label:<36} blocks {:<4} mean {mean:.3} s  jitter: std {:.1} ms  p99 {:.1} ms  worst {:.1} ms",
        samples.len(),
        std * 1e3,
        p99 * 1e3,
        worst * 1e3
    );
}

fn main() {
    let blocks: usize = std::env::var("AEGIS_BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let mut results = Vec::new();
    for (label, args) in [
        ("one sequencer (no conductor)", &["--fresh"][..]),
        (
            "3-worker cluster (conductor on)",
            &["--fresh", "--workers", "3"][..],
        ),
    ] {
        let data = std::env::temp_dir().join("aegis-bench-jitter");
        let _ = std::fs::remove_dir_all(&data);
        let out = devnet(&data, "up", args);
        if !out.status.success() {
            let _ = devnet(&data, "down", &["--wipe"]);
            panic!(
                "devnet/up {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Past start-up (the first blocks catch up to the wall clock).
        let start = head();
        while head() < start + 3 {
            std::thread::sleep(Duration::from_millis(200));
        }
        results.push((label, intervals(blocks)));
        let _ = devnet(&data, "down", &["--wipe"]);
    }
    println!("block-time jitter (block time {BLOCK_TIME} s), sampled on the sequencing worker:");
    for (label, samples) in &results {
        report(label, samples);
    }
}
