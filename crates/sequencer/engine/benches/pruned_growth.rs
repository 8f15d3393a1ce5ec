//! Store growth per block of the `aegis node --dev` chain at 1 s blocks, built back to back on
//! three stores: unpruned with no transactions, unpruned with a trickle of one transfer per block,
//! and the same trickle pruned to 64 blocks every 100 (`--history.blocks 64`). Prints the bytes of
//! allocated pages each gained per block over each window of 1,024 blocks, then where the pages
//! go: each table's share per block.
//!
//! A pruned store keeps growing until the EIP-4788 and EIP-2935 ring buffers have written all
//! their 8,191 slots: 2.3 hours of 1 s blocks, longer than the wall-clock soak of `aegis-node`'s
//! `disk_growth` bench. Built back to back, the windows past that point show the flat store.
//!
//! `cargo bench -p aegis-engine --bench pruned_growth`; `AEGIS_BENCH_BLOCKS` sets the chain
//! length (default 10,240).

// The allocator the `aegis` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aegis_engine::dev_attributes;
use aegis_executor::next_base_fee;
use aegis_storage::TableSize;
use aegis_testing::{TestNode, TxType, fee_ordered, signer, spec, transfer};
use alloy_primitives::Address;
use std::time::Instant;

/// Blocks per reported window.
const WINDOW: u64 = 1_024;
/// Blocks kept by the pruned store, and how often it prunes.
const KEEP: u64 = 64;
const PRUNE_EVERY: u64 = 100;

/// Allocated bytes at the start and after each window, and the tables at the end.
fn run(blocks: u64, trickle: bool, prune: bool) -> (Vec<u64>, Vec<TableSize>) {
    // The dev node's schedule: Isthmus a few seconds after genesis.
    let node = TestNode::new(spec(Some(4), None));
    let spec = node.executor.spec().clone();
    let from = signer(0);
    let mut sizes = vec![node.store.allocated_bytes().unwrap()];
    let started = Instant::now();
    let mut nonce = 0;
    for seq in 0..blocks {
        let parent = node.head();
        let attrs = dev_attributes(&spec, &parent, seq, parent.timestamp + 1).unwrap();
        let raw = transfer(
            TxType::Eip1559,
            &from,
            spec.chain_id,
            nonce,
            Address::repeat_byte(0x77),
            1,
        );
        let base_fee = next_base_fee(&spec, &parent, attrs.timestamp).unwrap();
        let txs = if trickle { vec![raw] } else { vec![] };
        let mut pool = fee_ordered(&txs, base_fee);
        let block = node
            .executor
            .build(parent.hash_slow(), &attrs, Some(&mut pool))
            .unwrap();
        nonce += (block.block.body.transactions.len() > attrs.transactions.len()) as u64;
        node.executor.commit(&block, true).unwrap();
        let n = seq + 1;
        if prune && n % PRUNE_EVERY == 0 {
            node.store.prune_history(KEEP).unwrap();
        }
        if n % WINDOW == 0 {
            sizes.push(node.store.allocated_bytes().unwrap());
        }
    }
    eprintln!(
        "{blocks} blocks (trickle {trickle}, pruned {prune}) built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (sizes, node.store.table_sizes().unwrap())
}

fn main() {
    let blocks: u64 = std::env::var("AEGIS_BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10 * WINDOW);
    let (empty, _) = run(blocks, false, false);
    let (full, full_tables) = run(blocks, true, false);
    let (pruned, pruned_tables) = run(blocks, true, true);
    println!(
        "allocated bytes per --dev block (1 s), by window of {WINDOW} blocks \
         (goal: <= 20 KB unpruned, flat pruned):"
    );
    println!(
        "{:>14} {:>22} {:>22} {:>22}",
        "blocks", "no transactions", "1 transfer/block", "same, pruned to 64"
    );
    let per_block =
        |sizes: &[u64], i: usize| (sizes[i + 1] as f64 - sizes[i] as f64) / WINDOW as f64 / 1024.0;
    for i in 0..full.len() - 1 {
        println!(
            "{:>6}..{:<6} {:>13.2} KB/block {:>13.2} KB/block {:>13.2} KB/block",
            i as u64 * WINDOW,
            (i as u64 + 1) * WINDOW,
            per_block(&empty, i),
            per_block(&full, i),
            per_block(&pruned, i)
        );
    }
    println!(
        "allocated at the end: no transactions {:.1} MB, 1 transfer/block {:.1} MB, pruned {:.1} MB",
        *empty.last().unwrap() as f64 / 1e6,
        *full.last().unwrap() as f64 / 1e6,
        *pruned.last().unwrap() as f64 / 1e6
    );
    println!("where the pages go at the end (B-tree pages; stored keys and values), per block:");
    println!(
        "{:>14} {:>30} {:>30}",
        "table", "1 transfer/block", "pruned to 64"
    );
    for (full, pruned) in full_tables.iter().zip(&pruned_tables) {
        let kb = |bytes: u64| bytes as f64 / blocks as f64 / 1024.0;
        println!(
            "{:>14} {:>8.2} KB ({:>6.2} KB stored) {:>8.2} KB ({:>6.2} KB stored)",
            full.name,
            kb(full.page_bytes),
            kb(full.stored_bytes),
            kb(pruned.page_bytes),
            kb(pruned.stored_bytes)
        );
    }
}
