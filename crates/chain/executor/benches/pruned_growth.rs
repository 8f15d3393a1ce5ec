//! Store growth per block past the point where a pruned store should stop growing: the same
//! chain (one transfer per block, every fork through Jovian active) built on two stores, one
//! unpruned and one pruned to 64 blocks every 100 (`--history.blocks 64`), printing the bytes of
//! allocated pages each gained per block over each window of 1,024 blocks.
//!
//! A pruned store still grows until the EIP-4788 and EIP-2935 ring buffers have written all their
//! 8,191 slots (2.3 hours of 1 s blocks, too long for the soak in `aegis-node`'s `disk_growth`
//! bench); here blocks are built back to back, so the windows after that show the flat store.
//!
//! `cargo bench -p aegis-executor --bench pruned_growth`; `AEGIS_BENCH_BLOCKS` sets the chain
//! length (default 10,240).

// The allocator the `aegis` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aegis_testing::{TestNode, TxType, signer, spec, transfer};
use alloy_primitives::Address;
use std::time::Instant;

/// Blocks per reported window.
const WINDOW: u64 = 1_024;
/// Blocks kept by the pruned store, and how often it prunes.
const KEEP: u64 = 64;
const PRUNE_EVERY: u64 = 100;

/// Allocated bytes after each window.
fn run(blocks: u64, prune: bool) -> Vec<u64> {
    let node = TestNode::new(spec(Some(0), Some(0)));
    let chain_id = node.executor.spec().chain_id;
    let from = signer(0);
    let mut sizes = vec![node.store.allocated_bytes().unwrap()];
    let started = Instant::now();
    for n in 1..=blocks {
        let tx = transfer(
            TxType::Eip1559,
            &from,
            chain_id,
            n - 1,
            Address::repeat_byte(0x77),
            1,
        );
        node.build(vec![], &[tx]);
        if prune && n % PRUNE_EVERY == 0 {
            node.store.prune_history(KEEP).unwrap();
        }
        if n % WINDOW == 0 {
            sizes.push(node.store.allocated_bytes().unwrap());
        }
    }
    eprintln!(
        "{} blocks ({}) in {:.1} s",
        blocks,
        if prune { "pruned" } else { "unpruned" },
        started.elapsed().as_secs_f64()
    );
    sizes
}

fn main() {
    let blocks: u64 = std::env::var("AEGIS_BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10 * WINDOW);
    let full = run(blocks, false);
    let pruned = run(blocks, true);
    println!("allocated bytes per block, one transfer per block, by window of {WINDOW} blocks:");
    println!(
        "{:>14} {:>18} {:>26}",
        "blocks", "unpruned", "--history.blocks 64"
    );
    let per_block =
        |sizes: &[u64], i: usize| (sizes[i + 1] as f64 - sizes[i] as f64) / WINDOW as f64 / 1024.0;
    for i in 0..full.len() - 1 {
        println!(
            "{:>6}..{:<6} {:>10.2} KB/block {:>18.2} KB/block",
            i as u64 * WINDOW,
            (i as u64 + 1) * WINDOW,
            per_block(&full, i),
            per_block(&pruned, i)
        );
    }
    println!(
        "allocated at the end: unpruned {:.1} MB, pruned {:.1} MB",
        *full.last().unwrap() as f64 / 1e6,
        *pruned.last().unwrap() as f64 / 1e6
    );
}
