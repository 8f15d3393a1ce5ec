//! `commitUnsafePayload` latency against a real three-member etcd on loopback, as a bench
//! binary printing p50/p99: the full compare-and-swap a leader's conductor makes, the engine's
//! own commit (leader key compared by value), and kona-node's commit of a block the engine
//! already committed (the idempotent read). op-conductor commits through an embedded raft; its
//! figure is not measurable here, so the etcd figures stand alone.
//!
//! `cargo bench -p aegis-conductor --bench commit [-- COMMITS]`

#[path = "../tests/support/mod.rs"]
mod support;

use aegis_conductor::{ClusterStore, Conductor};
use aegis_testing::etcd::EtcdCluster;
use std::time::{Duration, Instant};
use support::payload;

fn quantiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), *samples.last().expect("samples"))
}

fn report(what: &str, samples: Vec<Duration>) {
    let n = samples.len();
    let (p50, p99, max) = quantiles(samples);
    println!("{what:<44} n={n:<5} p50 {p50:>10.3?}  p99 {p99:>10.3?}  max {max:>10.3?}");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let commits: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(500);
    let etcd = EtcdCluster::start(3);
    let endpoints = etcd.endpoints();
    let timeout = Duration::from_secs(2);
    let store = ClusterStore::connect(&endpoints, 901, "bench", timeout)
        .await
        .expect("etcd");
    let engine = ClusterStore::connect(&endpoints, 901, "bench", timeout)
        .await
        .expect("etcd");
    let conductor = Conductor::new(store, Duration::from_secs(5));
    assert!(conductor.campaign().await.expect("campaign"), "leads");

    let (mut full, mut by_engine, mut repeated) = (Vec::new(), Vec::new(), Vec::new());
    for n in 1..=commits * 2 {
        let envelope = payload(n, 0);
        if n % 2 == 1 {
            let started = Instant::now();
            conductor.commit(&envelope).await.expect("commit");
            full.push(started.elapsed());
        } else {
            let started = Instant::now();
            engine.commit_as_member(&envelope).await.expect("commit");
            by_engine.push(started.elapsed());
            let started = Instant::now();
            conductor.commit(&envelope).await.expect("repeat");
            repeated.push(started.elapsed());
        }
    }
    println!("commitUnsafePayload against a 3-member etcd on loopback:");
    report("conductor commit (lease + head CAS)", full);
    report("engine commit at forkchoice (leader key CAS)", by_engine);
    report("kona-node's commit after the engine's", repeated);
}
