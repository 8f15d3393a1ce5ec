//! The control loop against etcd and a stand-in rollup node that speaks kona-node's admin API
//! (the real kona-node drives it in the cluster devnet test): catch-up from five blocks behind
//! before starting, followers stopped and kept up, an unhealthy leader handing over.

mod support;

use aegis_conductor::{
    ClusterStore, CommittedHead, Conductor, HealthConfig, RollupNode, ServerInfo, Step, Suffrage,
    Supervisor, join,
};
use aegis_testing::etcd::EtcdCluster;
use jsonrpsee::{
    RpcModule,
    server::{Server, ServerHandle},
};
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;
use serde_json::json;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use support::{hash, payload};

const TTL: Duration = Duration::from_secs(1);
const NOW: u64 = 1_700_000_100;

/// What the stand-in rollup node holds.
#[derive(Debug)]
struct NodeState {
    number: u64,
    timestamp: u64,
    active: bool,
    posted: Vec<u64>,
    rollup_config: serde_json::Value,
}

async fn rollup_node(state: Arc<Mutex<NodeState>>) -> (String, ServerHandle) {
    let mut module = RpcModule::new(state);
    module
        .register_method("optimism_syncStatus", |_, s, _| {
            let s = s.lock().unwrap();
            json!({"unsafe_l2": {"number": s.number, "hash": hash(s.number, 0), "timestamp": s.timestamp}})
        })
        .unwrap();
    module
        .register_method("optimism_rollupConfig", |_, s, _| {
            s.lock().unwrap().rollup_config.clone()
        })
        .unwrap();
    module
        .register_method("admin_sequencerActive", |_, s, _| s.lock().unwrap().active)
        .unwrap();
    module
        .register_method("admin_startSequencer", |_, s, _| {
            s.lock().unwrap().active = true;
        })
        .unwrap();
    module
        .register_method("admin_stopSequencer", |_, s, _| {
            let mut s = s.lock().unwrap();
            s.active = false;
            json!(hash(s.number, 0))
        })
        .unwrap();
    module
        .register_method("admin_postUnsafePayload", |params, s, _| {
            let envelope: OpExecutionPayloadEnvelope = params.one()?;
            let mut s = s.lock().unwrap();
            let number = envelope.execution_payload.block_number();
            // Like an engine: only a child of the head is inserted.
            if number == s.number + 1 {
                s.number = number;
                s.timestamp = envelope.execution_payload.timestamp();
                s.posted.push(number);
            }
            Ok::<_, jsonrpsee::types::ErrorObjectOwned>(())
        })
        .unwrap();
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    (url, server.start(module))
}

struct Worker {
    conductor: Arc<Conductor>,
    node: Arc<Mutex<NodeState>>,
    rollup: RollupNode,
    supervisor: Supervisor,
    _server: ServerHandle,
}

async fn worker(etcd: &EtcdCluster, id: &str, number: u64, active: bool) -> Worker {
    worker_on(&etcd.endpoints(), id, number, active).await
}

/// A worker that reaches etcd through `endpoints` only.
async fn worker_on(endpoints: &[String], id: &str, number: u64, active: bool) -> Worker {
    let store = ClusterStore::connect(endpoints, 901, id, Duration::from_millis(500))
        .await
        .unwrap();
    let conductor = Arc::new(Conductor::new(store, TTL));
    let node = Arc::new(Mutex::new(NodeState {
        number,
        timestamp: NOW - 1,
        active,
        posted: Vec::new(),
        rollup_config: json!({"l2_chain_id": 901, "block_time": 2}),
    }));
    let (url, server) = rollup_node(node.clone()).await;
    let rollup = RollupNode::new(&url, Duration::from_secs(2)).unwrap();
    let supervisor = Supervisor::new(
        conductor.clone(),
        rollup.clone(),
        HealthConfig {
            unsafe_interval: Duration::from_secs(10),
            execution_ready: None,
        },
    );
    Worker {
        conductor,
        node,
        rollup,
        supervisor,
        _server: server,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_leader_five_blocks_behind_catches_up_then_starts() {
    let etcd = EtcdCluster::start(1);
    let a = worker(&etcd, "a", 10, true).await;
    let b = worker(&etcd, "b", 5, false).await;
    // a leads and has committed blocks 1..=10; b's node stopped at 5.
    assert!(a.conductor.campaign().await.unwrap());
    for n in 1..=10 {
        a.conductor.commit(&payload(n, 0)).await.unwrap();
    }
    assert_eq!(a.supervisor.tick(NOW).await.unwrap(), []);
    // a hands over (say, for maintenance); b takes over.
    assert!(a.conductor.transfer_leadership().await.unwrap());
    assert_eq!(
        b.supervisor.tick(NOW).await.unwrap(),
        [Step::CatchUp { from: 6, to: 10 }]
    );
    assert_eq!(b.node.lock().unwrap().posted, [6, 7, 8, 9, 10]);
    assert!(!b.node.lock().unwrap().active, "not before it caught up");
    assert_eq!(
        b.supervisor.tick(NOW).await.unwrap(),
        [Step::StartSequencer]
    );
    assert!(b.node.lock().unwrap().active);
    // The old leader is a follower now: stopped.
    assert_eq!(a.supervisor.tick(NOW).await.unwrap(), [Step::StopSequencer]);
    assert!(!a.node.lock().unwrap().active);
    assert!(b.conductor.sequencer_healthy());
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_never_sequence_and_keep_up_with_the_committed_head() {
    let etcd = EtcdCluster::start(1);
    let a = worker(&etcd, "a", 3, true).await;
    assert!(a.conductor.campaign().await.unwrap());
    for n in 1..=3 {
        a.conductor.commit(&payload(n, 0)).await.unwrap();
    }
    // b's node was sequencing on its own (an operator's mistake, or a stale start).
    let b = worker(&etcd, "b", 1, true).await;
    assert_eq!(
        b.supervisor.tick(NOW).await.unwrap(),
        [Step::StopSequencer, Step::CatchUp { from: 2, to: 3 }]
    );
    let node = b.node.lock().unwrap();
    assert!(!node.active);
    assert_eq!(node.posted, [2, 3]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unhealthy_leader_stops_and_hands_over() {
    let etcd = EtcdCluster::start(1);
    let a = worker(&etcd, "a", 4, true).await;
    let b = worker(&etcd, "b", 4, false).await;
    assert!(a.conductor.campaign().await.unwrap());
    a.conductor.commit(&payload(4, 0)).await.unwrap();
    // a's head stopped moving 30 s ago while it is meant to sequence.
    a.node.lock().unwrap().timestamp = NOW - 30;
    assert_eq!(
        a.supervisor.tick(NOW).await.unwrap(),
        [Step::StopSequencer, Step::TransferLeadership]
    );
    assert!(!a.conductor.sequencer_healthy());
    assert!(!a.conductor.leader().await.unwrap());
    assert_eq!(
        b.supervisor.tick(NOW).await.unwrap(),
        [Step::StartSequencer]
    );
    assert_eq!(
        b.conductor.store().leader().await.unwrap().as_deref(),
        Some("b")
    );
    assert_eq!(
        b.conductor.store().head().await.unwrap(),
        Some(CommittedHead {
            number: 4,
            hash: hash(4, 0)
        })
    );
}

/// The leader loses etcd (its only member dies): it stops its sequencer within the lease TTL
/// (plus a tick), a block it built after that is never committed, and another worker, which
/// still reaches a quorum, takes over from the committed head.
#[tokio::test(flavor = "multi_thread")]
async fn a_leader_cut_off_from_etcd_stops_within_the_lease_ttl() {
    let mut etcd = EtcdCluster::start(3);
    let endpoints = etcd.endpoints();
    let a = worker_on(&endpoints[..1], "a", 3, true).await;
    let b = worker_on(&endpoints[1..], "b", 3, false).await;
    assert!(a.conductor.campaign().await.unwrap());
    for n in 1..=3 {
        a.conductor.commit(&payload(n, 0)).await.unwrap();
    }
    assert_eq!(a.supervisor.tick(NOW).await.unwrap(), []);

    etcd.kill(0);
    let cut = std::time::Instant::now();
    loop {
        let steps = a.supervisor.tick(NOW).await;
        if !a.node.lock().unwrap().active {
            assert_eq!(steps.unwrap(), [Step::StopSequencer]);
            break;
        }
        assert!(
            cut.elapsed() < TTL * 4,
            "the cut-off leader kept sequencing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stopped = cut.elapsed();
    // Each failing etcd request takes its timeout (0.5 s): the tick that sees the lapse ends
    // at most that much after the TTL.
    assert!(
        stopped <= TTL + Duration::from_millis(1_200),
        "stopped {stopped:?} after losing etcd (TTL {TTL:?})"
    );
    // What kona-node would commit after that (a block it built meanwhile) is refused.
    assert!(a.conductor.commit(&payload(4, 1)).await.is_err());

    // b takes over once a's lease expired in etcd, and starts from the committed head.
    let mut steps = Vec::new();
    while !b.node.lock().unwrap().active {
        assert!(cut.elapsed() < TTL * 6, "no takeover: {steps:?}");
        steps = b.supervisor.tick(NOW).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.conductor.commit(&payload(4, 0)).await.unwrap();
    etcd.restart(0);
    etcd.wait_healthy();
    assert!(a.conductor.commit(&payload(4, 1)).await.is_err());
    assert_eq!(
        b.conductor.store().head().await.unwrap(),
        Some(CommittedHead {
            number: 4,
            hash: hash(4, 0)
        })
    );
    eprintln!("cut-off leader stopped {stopped:?} after losing etcd (TTL {TTL:?})");
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_of_another_chain_or_rollup_config_cannot_join() {
    let etcd = EtcdCluster::start(1);
    let info = |id: &str| ServerInfo {
        id: id.into(),
        addr: format!("127.0.0.1:{}", id.len()),
        suffrage: Suffrage::Voter,
    };
    let a = worker(&etcd, "a", 0, false).await;
    join(&a.conductor, &a.rollup, 901, &info("a"), Duration::ZERO)
        .await
        .unwrap();
    // The same configuration written in another key order joins.
    let b = worker(&etcd, "b", 0, false).await;
    b.node.lock().unwrap().rollup_config = json!({"block_time": 2, "l2_chain_id": 901});
    join(&b.conductor, &b.rollup, 901, &info("b"), Duration::ZERO)
        .await
        .unwrap();
    // Another block time: refused, naming both hashes.
    let c = worker(&etcd, "c", 0, false).await;
    c.node.lock().unwrap().rollup_config = json!({"l2_chain_id": 901, "block_time": 1});
    let refused = join(&c.conductor, &c.rollup, 901, &info("c"), Duration::ZERO)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("differs from the cluster's"),
        "{refused}"
    );
    // A rollup node of another chain than the worker was told.
    let refused = join(&a.conductor, &a.rollup, 902, &info("a"), Duration::ZERO)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("l2_chain_id is Some(901)"),
        "{refused}"
    );
    let members = a.conductor.store().membership().await.unwrap();
    let ids: Vec<_> = members.servers.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
}
