//! Snapshot speed: export and import throughput and peak memory at 1,000,000 accounts, and a
//! fresh node's time to the head of a 10,000-block chain by snapshot against replaying it.
//!
//! `cargo bench -p aegis-snapshot --bench sync` (`SYNC_ACCOUNTS`, `SYNC_BLOCKS` override the
//! sizes). Export and import each run in a child process so that their peak resident memory
//! (VmHWM) is theirs, not the state builder's.

// The allocator the `aegis` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aegis_snapshot::{Trusted, export, export_head, import, import_file};
use aegis_storage::Store;
use alloy_primitives::{Address, B256};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

const CHAIN_ID: u64 = 901;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Child mode: `export <store> <out>` or `import <snapshot> <store> <hash>`; prints
/// `seconds bytes accounts peak-rss-MB`.
fn child(args: &[String]) {
    let started = Instant::now();
    let (bytes, accounts) = match args[0].as_str() {
        "export" => {
            let store = Store::open(&args[1]).unwrap();
            let out = std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(&args[2]).unwrap(),
            );
            let summary = export_head(&store.head_reader().unwrap(), CHAIN_ID, out).unwrap();
            (summary.bytes, summary.totals.accounts)
        }
        _ => {
            let hash: B256 = args[3].parse().unwrap();
            let summary = import_file(
                Path::new(&args[1]),
                Path::new(&args[2]),
                CHAIN_ID,
                Trusted::block(hash),
            )
            .unwrap();
            (summary.bytes, summary.totals.accounts)
        }
    };
    println!(
        "{} {bytes} {accounts} {}",
        started.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
}

fn run_child(args: &[&str]) -> (f64, f64, f64, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Vec<f64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[0], v[1], v[2], v[3])
}

fn throughput(dir: &Path) {
    let accounts = env_or("SYNC_ACCOUNTS", 1_000_000);
    let store_path = dir.join("source.redb");
    let started = Instant::now();
    let (store, hashes) = aegis_testing::state::synthetic_chain(&store_path, accounts, 10);
    drop(store);
    println!(
        "state of {accounts} accounts (every 50th a contract with 1-7 slots) built in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let snapshot = dir.join("state.snap");
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let (secs, bytes, n, rss) = run_child(&["export", &p(&store_path), &p(&snapshot)]);
    println!(
        "export: {n} accounts, {:.1} MB in {secs:.2}s = {:.0} accounts/s, {:.1} MB/s, peak RSS {rss:.0} MB",
        bytes / 1e6,
        n / secs,
        bytes / 1e6 / secs
    );
    let target = dir.join("imported.redb");
    let hash = format!("{:#x}", hashes.last().unwrap());
    let (secs, bytes, n, rss) = run_child(&["import", &p(&snapshot), &p(&target), &hash]);
    println!(
        "import (verified): {n} accounts, {:.1} MB in {secs:.2}s = {:.0} accounts/s, {:.1} MB/s, peak RSS {rss:.0} MB",
        bytes / 1e6,
        n / secs,
        bytes / 1e6 / secs
    );
}

/// A real chain (EVM-executed transfers) of `SYNC_BLOCKS` blocks; a fresh node reaches its head
/// by re-executing every block (what a node without snapshots does: the rollup node feeds it
/// each block) or by importing the head's snapshot.
fn sync_against_replay(dir: &Path) {
    let blocks = env_or("SYNC_BLOCKS", 10_000);
    let spec = aegis_testing::spec(Some(2), None);
    let source = aegis_testing::TestNode::new(spec.clone());
    let signer = aegis_testing::signer(0);
    let started = Instant::now();
    let mut chain = Vec::with_capacity(blocks as usize);
    for n in 0..blocks {
        let to = Address::from_word(alloy_primitives::keccak256(n.to_be_bytes()));
        let tx = aegis_testing::transfer(
            aegis_testing::TxType::Eip1559,
            &signer,
            spec.chain_id,
            n,
            to,
            1,
        );
        chain.push(source.build(Vec::new(), &[tx]).block);
    }
    println!(
        "chain of {blocks} blocks (one transfer each, to a new account) built in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let replica = aegis_testing::TestNode::new(spec.clone());
    let started = Instant::now();
    for block in &chain {
        let outcome = replica.executor.import(block).unwrap();
        assert!(
            matches!(outcome, aegis_executor::ImportOutcome::Valid(_)),
            "{outcome:?}"
        );
        replica.store.set_head(block.header.hash_slow()).unwrap();
    }
    let replay = started.elapsed().as_secs_f64();
    assert_eq!(replica.head(), source.head());

    let head = source.head().hash_slow();
    let started = Instant::now();
    let mut snapshot = Vec::new();
    let summary = export(&source.store, spec.chain_id, &mut snapshot).unwrap();
    let exported = started.elapsed().as_secs_f64();
    let target: PathBuf = dir.join("synced.redb");
    let started = Instant::now();
    import(&snapshot[..], &target, spec.chain_id, Trusted::block(head)).unwrap();
    let imported = started.elapsed().as_secs_f64();
    println!(
        "to the head of {blocks} blocks ({} accounts, snapshot {:.1} MB): replay {replay:.2}s ({:.0} blocks/s), snapshot import {imported:.3}s, export + import {:.3}s: {:.0}x faster (import only: {:.0}x)",
        summary.totals.accounts,
        summary.bytes as f64 / 1e6,
        blocks as f64 / replay,
        exported + imported,
        replay / (exported + imported),
        replay / imported
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    let dir = tempfile::tempdir().unwrap();
    throughput(dir.path());
    sync_against_replay(dir.path());
}
