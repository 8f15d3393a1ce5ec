//! The snapshot tests' helpers: a synthetic chain and the snapshot's chunk layout.

#![allow(dead_code, unreachable_pub, unused_imports)]

pub use aegis_testing::state::{address, synthetic_chain as chain};

pub const CHAIN_ID: u64 = 901;

/// The snapshot's chunks: `(offset of the framing, kind, index, payload length)`.
pub fn chunks(snapshot: &[u8]) -> Vec<(usize, u8, u32, usize)> {
    let mut out = Vec::new();
    let mut at = aegis_snapshot::SnapshotHeader::LEN;
    while at < snapshot.len() {
        let kind = snapshot[at];
        let index = u32::from_be_bytes(snapshot[at + 1..at + 5].try_into().unwrap());
        let len = u32::from_be_bytes(snapshot[at + 9..at + 13].try_into().unwrap()) as usize;
        out.push((at, kind, index, len));
        at += 13 + len + 32;
    }
    out
}
