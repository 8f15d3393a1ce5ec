//! Liveness under L1 faults, on the whole devnet (anvil, kona-node sequencing aegis, an L1-only
//! kona-node + aegis validator): L1 reorgs that drop or re-include batch transactions, a batch
//! transaction dropped from the mempool, the batcher's L1 endpoint unreachable for 30 s, and
//! aegis SIGKILLed while a batch is pending. After each, the safe heads of both rollup nodes
//! must pass where they were, agree, and no unsafe block may have changed. The time each fault
//! took to heal is printed (run with `--nocapture`).
//!
//! Needs kona-node (`scripts/bootstrap.sh --kona`, which the test command runs first).

mod support;

use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use support::{Ports, heads, rpc, wait_until};

// Below Linux's ephemeral range (32768 and up), where outgoing connections could take them.
const PORTS: Ports = Ports {
    l1: 27545,
    beacon: 27052,
    engine: 27551,
    validator_engine: 27552,
    sequencer_rpc: 27595,
    validator_rpc: 27596,
    p2p: 27222,
    validator_p2p: 27223,
    metrics: 27001,
    validator_metrics: 27002,
    l2_rpc: 27645,
    validator_l2_rpc: 27646,
};
/// The TCP proxy the batcher reaches L1 through.
const PROXY: u16 = 27547;
/// The rollup config's batcher (anvil dev account 1).
const BATCHER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

/// Stops the devnet even when an assertion fails.
struct Devnet(PathBuf);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = script(&self.0, "down", &[]);
    }
}

fn script(data: &Path, name: &str, args: &[&str]) -> std::process::Output {
    let proxy = format!("http://127.0.0.1:{PROXY}");
    support::run_script(
        &PORTS,
        data,
        name,
        args,
        &[("AEGIS_DEVNET_BATCHER_L1_RPC", proxy)],
    )
}

/// A loopback TCP proxy in front of anvil that can be made unreachable: while paused it cuts
/// every open connection and refuses new ones.
struct Proxy {
    paused: Arc<AtomicBool>,
}

impl Proxy {
    fn start(listen: u16, upstream: u16) -> Self {
        let paused = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind(("127.0.0.1", listen)).unwrap();
        let flag = paused.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if flag.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                for (from, to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let flag = flag.clone();
                    std::thread::spawn(move || pipe(from, to, &flag));
                }
            }
        });
        Self { paused }
    }

    fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, paused: &AtomicBool) {
    from.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if paused.load(Ordering::SeqCst) {
            break;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

fn l1(method: &str, params: Value) -> Value {
    rpc(PORTS.l1, method, params)
}

fn hex_u64(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn l1_head() -> u64 {
    hex_u64(&l1("eth_blockNumber", json!([])))
}

/// Batch transactions (from the batcher) in L1 block `number`.
fn batch_txs_in(number: u64) -> Vec<Value> {
    let block = l1(
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), true]),
    );
    block["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|tx| tx["from"].as_str().unwrap().eq_ignore_ascii_case(BATCHER))
        .cloned()
        .collect()
}

/// The sequencer's L2 block hash at `number`, from its aegis.
fn l2_hash(port: u16, number: u64) -> Option<String> {
    let block = rpc(
        port,
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), false]),
    );
    block["hash"].as_str().map(str::to_owned)
}

/// What a fault must not undo: the safe heads and an unsafe block.
struct Before {
    sequencer_safe: u64,
    validator_safe: u64,
    unsafe_number: u64,
    unsafe_hash: String,
    at: Instant,
}

fn before() -> Before {
    let (unsafe_number, sequencer_safe) = heads(PORTS.sequencer_rpc);
    Before {
        sequencer_safe,
        validator_safe: heads(PORTS.validator_rpc).1,
        unsafe_number,
        unsafe_hash: l2_hash(PORTS.l2_rpc, unsafe_number).unwrap(),
        at: Instant::now(),
    }
}

/// Waits until both safe heads pass the unsafe head of the moment of the fault (so every block
/// a lost batch carried is derived again); checks that they agree and that the unsafe chain was
/// kept. Returns the time from the fault to then.
fn heals(name: &str, before: &Before, since: Instant) -> Duration {
    wait_until(
        &format!("safe heads to advance after {name}"),
        Duration::from_secs(150),
        || {
            heads(PORTS.sequencer_rpc).1 > before.sequencer_safe.max(before.unsafe_number)
                && heads(PORTS.validator_rpc).1 > before.validator_safe.max(before.unsafe_number)
        },
    );
    let took = since.elapsed();
    assert_eq!(
        l2_hash(PORTS.l2_rpc, before.unsafe_number).as_deref(),
        Some(before.unsafe_hash.as_str()),
        "{name}: an unsafe block was reorged"
    );
    let common = heads(PORTS.sequencer_rpc)
        .1
        .min(heads(PORTS.validator_rpc).1);
    for number in common.saturating_sub(20)..=common {
        assert_eq!(
            l2_hash(PORTS.l2_rpc, number),
            l2_hash(PORTS.validator_l2_rpc, number),
            "{name}: safe block {number} differs between sequencer and validator"
        );
    }
    eprintln!(
        "l1-fault {name}: safe heads advanced {:.1} s after the fault ({:.1} s since it began)",
        took.as_secs_f64(),
        before.at.elapsed().as_secs_f64()
    );
    took
}

/// Waits for a batch transaction in the L1 head block; returns that block's number.
fn next_batch_block() -> u64 {
    let mut found = 0;
    wait_until("a batch transaction on L1", Duration::from_secs(60), || {
        let head = l1_head();
        found = head;
        !batch_txs_in(head).is_empty()
    });
    found
}

/// `anvil_reorg` of `depth` right after a batch landed, its batch transactions dropped or
/// re-included at the same places of the new blocks.
fn reorg(depth: u64, reinclude: bool) -> Duration {
    let name = format!(
        "reorg depth {depth}, batch transactions {}",
        if reinclude { "re-included" } else { "dropped" }
    );
    let head = next_batch_block();
    let mut again = Vec::new();
    if reinclude {
        for number in head + 1 - depth..=head {
            for tx in batch_txs_in(number) {
                let raw = l1("eth_getRawTransactionByHash", json!([tx["hash"]]));
                again.push(json!([raw, number - (head + 1 - depth)]));
            }
        }
    }
    let before = before();
    let dropped: usize = (head + 1 - depth..=head)
        .map(|n| batch_txs_in(n).len())
        .sum();
    l1("anvil_reorg", json!([depth, again]));
    assert!(dropped > 0);
    heals(&name, &before, Instant::now())
}

/// Stops L1 mining until the batcher has a transaction pending; returns its hash.
fn hold_a_pending_batch_tx() -> String {
    l1("evm_setIntervalMining", json!([0]));
    let mut hash = String::new();
    wait_until(
        "a pending batch transaction",
        Duration::from_secs(60),
        || {
            let pool = l1("txpool_content", json!([]));
            let pending = pool["pending"]
                .as_object()
                .and_then(|by_sender| {
                    by_sender
                        .iter()
                        .find(|(sender, _)| sender.eq_ignore_ascii_case(BATCHER))
                })
                .and_then(|(_, txs)| txs.as_object()?.values().next().cloned());
            if let Some(tx) = pending {
                hash = tx["hash"].as_str().unwrap().to_owned();
            }
            !hash.is_empty()
        },
    );
    hash
}

fn resume_mining() {
    l1("evm_setIntervalMining", json!([2]));
}

fn sequencer_log(data: &Path) -> String {
    std::fs::read_to_string(data.join("logs/aegis-sequencer.log")).unwrap_or_default()
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn safe_chain_survives_l1_faults() {
    let kona = support::repo().join(".tools/bin/kona-node");
    assert!(
        kona.exists(),
        "kona-node missing: run scripts/bootstrap.sh --kona"
    );
    let proxy = Proxy::start(PROXY, PORTS.l1);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let up = script(&data, "up", &[]);
    let _devnet = Devnet(data.clone());
    assert!(
        up.status.success(),
        "devnet/up failed:\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    wait_until("first safe blocks", Duration::from_secs(180), || {
        heads(PORTS.sequencer_rpc).1 >= 5 && heads(PORTS.validator_rpc).1 >= 5
    });

    let mut took = Vec::new();
    for depth in [1, 3, 6] {
        for reinclude in [false, true] {
            took.push(reorg(depth, reinclude));
        }
    }

    // A pending batch transaction dropped from the L1 mempool.
    let hash = hold_a_pending_batch_tx();
    let b = before();
    // anvil answers with the hash of what it dropped.
    assert_eq!(l1("anvil_dropTransaction", json!([hash])), json!(hash));
    let fault = Instant::now();
    resume_mining();
    took.push(heals("batch transaction dropped", &b, fault));

    // The batcher's L1 endpoint unreachable for 30 s: the node goes on sequencing, the batcher
    // logs the outage once and reports it in its metrics, then catches up.
    let outages_logged = sequencer_log(&data).matches("L1 unreachable").count();
    let b = before();
    proxy.set_paused(true);
    let fault = Instant::now();
    std::thread::sleep(Duration::from_secs(30));
    let during = support::metrics(PORTS.metrics);
    assert_eq!(
        metric(&during, "aegis_batcher_l1_connected"),
        0.0,
        "{during}"
    );
    let (unsafe_during, _) = heads(PORTS.sequencer_rpc);
    assert!(
        unsafe_during >= b.unsafe_number + 10,
        "sequencing stopped during the L1 outage: {} -> {unsafe_during}",
        b.unsafe_number
    );
    proxy.set_paused(false);
    took.push(heals("L1 unreachable for 30 s", &b, fault));
    let log = sequencer_log(&data);
    assert_eq!(
        log.matches("L1 unreachable").count(),
        outages_logged + 1,
        "the outage is logged once"
    );
    assert!(log.contains("L1 reachable again"));
    let after = support::metrics(PORTS.metrics);
    assert_eq!(metric(&after, "aegis_batcher_l1_connected"), 1.0);
    for name in [
        "aegis_batcher_pending_frames",
        "aegis_batcher_oldest_frame_confirmations",
        "aegis_batcher_resubmissions_total",
        "aegis_batcher_l1_gas_used_total",
    ] {
        assert!(after.contains(name), "{name} missing from /metrics");
    }

    let counted = |prefix: &str| metric(&after, prefix) as u64;
    let first_gas = counted("aegis_batcher_l1_gas_used_total{kind=\"first\"}");
    let repost_gas = counted("aegis_batcher_l1_gas_used_total{kind=\"repost\"}");
    let resent = counted("aegis_batcher_resubmissions_total");
    let requeued = counted("aegis_batcher_requeues_total");

    // SIGKILL of aegis while a batch transaction is pending, then a restart.
    hold_a_pending_batch_tx();
    let b = before();
    let pid = std::fs::read_to_string(data.join("pids/aegis-sequencer.pid")).unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    let fault = Instant::now();
    resume_mining();
    let restart = script(&data, "restart", &["aegis-sequencer"]);
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );
    took.push(heals("aegis SIGKILLed mid-post", &b, fault));

    // The re-posted ranges were attested and committed on chain like any other: the
    // commitments go on past the last fault.
    wait_until(
        "commitments past the faults",
        Duration::from_secs(120),
        || support::last_committed_l2_block(&data, PORTS.l2_rpc) > b.unsafe_number,
    );
    eprintln!(
        "l1-fault summary: slowest heal {:.1} s; before the kill: {resent} frame transactions re-sent, {requeued} requeues, L1 gas of final batches {first_gas} (first posts) + {repost_gas} (blocks posted again)",
        took.iter().max().unwrap().as_secs_f64(),
    );
}
