//! The cluster store against a real three-member etcd on loopback: fenced leadership, the
//! compare-and-swap head, catch-up reads, a lost member, a partitioned leader.

mod support;

use aegis_conductor::{ClusterKeyRecord, ClusterStore, CommittedHead, ConductorError};
use aegis_testing::etcd::EtcdCluster;
use op_alloy_rpc_types_engine::{OpExecutionPayload, OpExecutionPayloadEnvelope};
use std::time::{Duration, Instant};
use support::{hash, payload};

const TIMEOUT: Duration = Duration::from_secs(2);
const TTL: Duration = Duration::from_secs(2);

async fn store(endpoints: &[String], id: &str) -> ClusterStore {
    ClusterStore::connect(endpoints, 901, id, TIMEOUT)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_lease_holder_commits_and_only_what_extends_the_head() {
    let etcd = EtcdCluster::start(3);
    let (a, b) = (
        store(&etcd.endpoints(), "a").await,
        store(&etcd.endpoints(), "b").await,
    );
    let (lease_a, lease_b) = (a.grant(TTL).await.unwrap(), b.grant(TTL).await.unwrap());
    assert!(a.campaign(&lease_a).await.unwrap());
    assert!(!b.campaign(&lease_b).await.unwrap(), "one leader");
    assert!(
        a.campaign(&lease_a).await.unwrap(),
        "campaigning again keeps it"
    );
    assert_eq!(b.leader().await.unwrap().as_deref(), Some("a"));

    // The first commit starts the chain anywhere; then each must extend the head.
    assert_eq!(a.head().await.unwrap(), None);
    for n in 1..=3 {
        a.commit(&lease_a, &payload(n, 0)).await.unwrap();
    }
    let head = CommittedHead::of(&payload(3, 0));
    assert_eq!(b.head().await.unwrap(), Some(head));
    // A retried commit of the head is fine; anything else that does not extend it is refused.
    a.commit(&lease_a, &payload(3, 0)).await.unwrap();
    for (n, fork) in [(3, 1), (5, 0), (2, 0)] {
        let refused = a.commit(&lease_a, &payload(n, fork)).await.unwrap_err();
        assert!(
            matches!(
                refused,
                ConductorError::DoesNotExtend { head_number: 3, .. }
            ),
            "{refused}"
        );
    }
    let mut sideways = payload(4, 0);
    if let OpExecutionPayload::V3(p) = &mut sideways.execution_payload {
        p.payload_inner.payload_inner.parent_hash = hash(3, 1);
    }
    assert!(matches!(
        a.commit(&lease_a, &sideways).await,
        Err(ConductorError::DoesNotExtend { .. })
    ));
    // The follower cannot commit, whatever it sends.
    assert!(matches!(
        b.commit(&lease_b, &payload(4, 0)).await,
        Err(ConductorError::NotLeader)
    ));
    assert_eq!(b.head().await.unwrap(), Some(head));

    // The leader resigns: the follower takes over and extends the same chain.
    assert!(a.resign(&lease_a).await.unwrap());
    assert!(!a.resign(&lease_a).await.unwrap());
    assert!(b.campaign(&lease_b).await.unwrap());
    assert!(matches!(
        a.commit(&lease_a, &payload(4, 0)).await,
        Err(ConductorError::NotLeader)
    ));
    b.commit(&lease_b, &payload(4, 0)).await.unwrap();
    assert_eq!(a.head().await.unwrap().unwrap().number, 4);
}

/// Only the leader publishes the cluster's mempool key: a follower (or a deposed leader) that
/// tries changes nothing, so members never take a key from a worker that does not lead.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_leader_publishes_the_cluster_key() {
    let etcd = EtcdCluster::start(1);
    let (a, b) = (
        store(&etcd.endpoints(), "a").await,
        store(&etcd.endpoints(), "b").await,
    );
    let record = |holder: &str, byte: u8| ClusterKeyRecord {
        key_hash: alloy_primitives::B256::repeat_byte(byte),
        key_epoch: u32::from(byte),
        holder: holder.to_owned(),
        key_share_url: format!("http://{holder}:9100"),
    };
    assert_eq!(a.cluster_key().await.unwrap(), None);
    // Nobody leads: nobody publishes.
    assert!(!a.publish_cluster_key(&record("a", 1)).await.unwrap());
    let (lease_a, lease_b) = (a.grant(TTL).await.unwrap(), b.grant(TTL).await.unwrap());
    assert!(a.campaign(&lease_a).await.unwrap());
    assert!(a.publish_cluster_key(&record("a", 1)).await.unwrap());
    assert!(!b.publish_cluster_key(&record("b", 2)).await.unwrap());
    assert_eq!(b.cluster_key().await.unwrap(), Some(record("a", 1)));
    // Leadership moves: the new leader's key replaces it, the old leader's does not come back.
    assert!(a.resign(&lease_a).await.unwrap());
    assert!(b.campaign(&lease_b).await.unwrap());
    assert!(b.publish_cluster_key(&record("b", 2)).await.unwrap());
    assert!(!a.publish_cluster_key(&record("a", 3)).await.unwrap());
    assert_eq!(a.cluster_key().await.unwrap(), Some(record("b", 2)));
}

#[tokio::test(flavor = "multi_thread")]
async fn catch_up_reads_the_committed_payloads_in_order() {
    let etcd = EtcdCluster::start(3);
    let a = store(&etcd.endpoints(), "a").await;
    let lease = a.grant(TTL).await.unwrap();
    assert!(a.campaign(&lease).await.unwrap());
    for n in 10..=17 {
        a.commit(&lease, &payload(n, 0)).await.unwrap();
    }
    let numbers = |list: Vec<OpExecutionPayloadEnvelope>| {
        list.iter()
            .map(|p| p.execution_payload.block_number())
            .collect::<Vec<_>>()
    };
    // Five blocks behind the head.
    assert_eq!(
        numbers(a.payloads(13, 17, 100).await.unwrap()),
        [13, 14, 15, 16, 17]
    );
    assert_eq!(numbers(a.payloads(13, 17, 2).await.unwrap()), [13, 14]);
    assert_eq!(numbers(a.payloads(16, 40, 100).await.unwrap()), [16, 17]);
    assert!(a.payloads(18, 20, 100).await.unwrap().is_empty());
    assert!(a.payloads(5, 4, 100).await.unwrap().is_empty());
    assert_eq!(a.payloads(15, 15, 1).await.unwrap()[0], payload(15, 0));
}

/// One member of three dies: leadership and commits go on; a leader cut off from etcd loses its
/// lease within the TTL, another worker takes over, and the cut-off one can never commit again.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_member_is_survived_and_a_partitioned_leader_is_fenced() {
    let mut etcd = EtcdCluster::start(3);
    let endpoints = etcd.endpoints();
    // The leader talks to member 0 only; the follower to the other two.
    let a = store(&endpoints[..1], "a").await;
    let b = store(&endpoints[1..], "b").await;
    let lease_a = a.grant(TTL).await.unwrap();
    assert!(a.campaign(&lease_a).await.unwrap());
    a.commit(&lease_a, &payload(1, 0)).await.unwrap();

    // Member 2 dies: two of three still make a quorum (once they have a raft leader).
    etcd.kill(2);
    etcd.wait_healthy();
    a.commit(&lease_a, &payload(2, 0)).await.unwrap();
    etcd.restart(2);

    // Member 0 dies: the leader is cut off. Its lease lapses (locally) and expires (in etcd).
    etcd.kill(0);
    let cut = Instant::now();
    etcd.wait_healthy();
    let lease_b = b.grant(TTL).await.unwrap();
    while !b.campaign(&lease_b).await.unwrap() {
        assert!(
            cut.elapsed() < TTL * 4,
            "the cut-off leader's lease never expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took_over = cut.elapsed();
    assert!(
        lease_a.lapsed(),
        "the cut-off leader knows its lease may be gone"
    );
    b.commit(&lease_b, &payload(3, 0)).await.unwrap();

    // Member 0 is back: the old leader's commit (say, of a block it built while cut off) fails.
    etcd.restart(0);
    let stale = a.commit(&lease_a, &payload(4, 1)).await.unwrap_err();
    assert!(
        matches!(
            stale,
            ConductorError::NotLeader | ConductorError::DoesNotExtend { .. }
        ),
        "{stale}"
    );
    let stale = a.commit(&lease_a, &payload(3, 1)).await.unwrap_err();
    assert!(
        matches!(stale, ConductorError::DoesNotExtend { .. }),
        "{stale}"
    );
    assert_eq!(
        b.head().await.unwrap(),
        Some(CommittedHead::of(&payload(3, 0)))
    );
    eprintln!("takeover after the leader's etcd member died: {took_over:?} (TTL {TTL:?})");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_configuration_is_refused_with_the_reason() {
    let nobody = format!("http://127.0.0.1:{}", aegis_testing::process::free_port());
    let started = Instant::now();
    let refused = ClusterStore::connect(&[nobody], 901, "a", TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(refused, ConductorError::Etcd(_)), "{refused}");
    assert!(
        started.elapsed() < TIMEOUT * 3,
        "an unreachable etcd is an error, not a hang"
    );

    let etcd = EtcdCluster::start(1);
    for id in ["", "a/b"] {
        let refused = ClusterStore::connect(&etcd.endpoints(), 901, id, TIMEOUT)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("server id"), "{refused}");
    }
    let a = store(&etcd.endpoints(), "a").await;
    assert!(matches!(
        a.grant(Duration::from_millis(500)).await,
        Err(ConductorError::Config(_))
    ));
}
