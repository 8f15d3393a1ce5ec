//! Risk recomputation cost: ingesting a report and recomputing the median over the feeds.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use aegis_qrm::{Monitor, QrmConfig, ThreatReport};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn recompute(c: &mut Criterion) {
    let mut monitor = Monitor::new(QrmConfig {
        // Every feed stays fresh however many iterations run.
        max_age_secs: u64::MAX / 4,
        ..QrmConfig::default()
    })
    .unwrap();
    let report = |i: u64| ThreatReport {
        observed_at: 1_000 + i,
        indicators: [
            ("logical_qubits".to_string(), 100.0 + i as f64),
            ("cryptanalysis".to_string(), 2_000.0),
            ("deprecations".to_string(), 5_000.0),
            ("key_exposures".to_string(), 3.0),
        ]
        .into(),
    };
    for feed in 0..8 {
        monitor
            .ingest(&format!("feed{feed}"), report(feed), 2_000)
            .unwrap();
    }
    c.bench_function("qrm/recompute (8 feeds)", |b| {
        b.iter(|| black_box(monitor.recompute(black_box(2_000))))
    });
    let mut i = 0;
    c.bench_function("qrm/ingest + recompute (4 indicators, 8 feeds)", |b| {
        b.iter(|| {
            i += 1;
            let now = 1_100 + i;
            monitor.ingest("feed0", report(100 + i), now).unwrap();
            black_box(monitor.recompute(now))
        })
    });
}

criterion_group!(benches, recompute);
criterion_main!(benches);
