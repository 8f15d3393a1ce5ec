//! Quote generation, parsing and verification costs.
//!
//! `cargo bench -p aegis-tee --bench verify -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use aegis_tee::{Quote, Simulator, parse_rfc3339, verify_dcap, verify_dev};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const TDX_QUOTE: &[u8] = include_bytes!("../tests/fixtures/tdx_quote");
const TDX_COLLATERAL: &[u8] = include_bytes!("../tests/fixtures/tdx_quote_collateral.json");

fn bench(c: &mut Criterion) {
    let sim = match Simulator::new([0x42; 32]) {
        Ok(sim) => sim,
        Err(e) => panic!("simulator: {e}"),
    };
    let root = sim.dev_root_public_key();
    let sim_quote = sim.quote([7; 64]);
    let when = match parse_rfc3339("2025-07-01T00:00:00Z") {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert!(verify_dev(&sim_quote, &root).is_ok());
    assert!(verify_dcap(TDX_QUOTE, TDX_COLLATERAL, when).is_ok());

    c.bench_function("simulator_quote", |b| {
        b.iter(|| sim.quote(black_box([7; 64])))
    });
    c.bench_function("parse_sim_quote", |b| {
        b.iter(|| Quote::parse(black_box(&sim_quote)))
    });
    c.bench_function("parse_real_quote", |b| {
        b.iter(|| Quote::parse(black_box(TDX_QUOTE)))
    });
    c.bench_function("verify_dev", |b| {
        b.iter(|| verify_dev(black_box(&sim_quote), &root))
    });
    c.bench_function("verify_dcap", |b| {
        b.iter(|| verify_dcap(black_box(TDX_QUOTE), TDX_COLLATERAL, when))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
