//! Seal and open of 200-byte and 10 KiB payloads.
//!
//! `cargo bench -p aegis-envelope --bench envelope`

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`

use std::hint::black_box;

use aegis_envelope::{RecipientSecretKey, open, seal};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_core::OsRng;

fn bench_envelope(c: &mut Criterion) {
    let secret = RecipientSecretKey::generate(901, 1, &mut OsRng).expect("keygen");
    let mut group = c.benchmark_group("envelope");
    for (label, len) in [("200B", 200usize), ("10KiB", 10 * 1024)] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("seal", label), &payload, |b, payload| {
            b.iter(|| seal(secret.public_key(), black_box(payload), &mut OsRng).expect("seal"))
        });
        let envelope = seal(secret.public_key(), &payload, &mut OsRng).expect("seal");
        group.bench_with_input(BenchmarkId::new("open", label), &envelope, |b, envelope| {
            b.iter(|| open(&secret, black_box(envelope)).expect("open"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_envelope);
criterion_main!(benches);
