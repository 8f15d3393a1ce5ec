//! Two cluster workers' wallet RPCs over a real etcd: a follower forwards transactions to the
//! leader and keeps a copy, passes the leader's refusals on unchanged, says so when there is no
//! leader to forward to (and acknowledges nothing then), and hands its pool to a new leader.

use aegis_conductor::{ClusterStore, LeaderRoute};
use aegis_executor::Executor;
use aegis_mempool::{Pool, PoolConfig};
use aegis_rpc::{EthApi, LeaderForward, RpcConfig, hand_pool_to_new_leaders};
use aegis_storage::Store;
use aegis_testing::{TxType, etcd::EtcdCluster, rpc::call, signer, spec, transfer};
use alloy_primitives::{Address, B256};
use serde_json::json;
use std::{sync::Arc, time::Duration};

const TTL: Duration = Duration::from_secs(1);

struct Worker {
    url: String,
    pool: Arc<Pool>,
    store: ClusterStore,
    api: Arc<EthApi>,
    _server: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
}

async fn worker(etcd: &EtcdCluster, id: &str) -> Worker {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(None, None);
    let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
    let executor = Arc::new(Executor::new(spec.clone(), store).unwrap());
    let pool = Arc::new(Pool::new(PoolConfig::default()));
    let cluster = ClusterStore::connect(&etcd.endpoints(), spec.chain_id, id, TTL)
        .await
        .unwrap();
    let api = Arc::new(
        EthApi::new(executor, pool.clone(), RpcConfig::default())
            .with_leader_forward(LeaderForward::new(LeaderRoute::new(cluster.clone()))),
    );
    let (addr, server) = api
        .clone()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{addr}");
    cluster.advertise_rpc(&url).await.unwrap();
    Worker {
        url,
        pool,
        store: cluster,
        api,
        _server: server,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_forward_to_the_leader_and_hand_their_pool_over() {
    let etcd = EtcdCluster::start(1);
    let a = worker(&etcd, "a").await;
    let b = worker(&etcd, "b").await;
    let c = worker(&etcd, "c").await;
    let chain = spec(None, None).chain_id;
    let to = Address::repeat_byte(0x42);
    let alice = signer(0);

    // No leader yet: the follower refuses with the reason and keeps nothing.
    let raw = transfer(TxType::Eip1559, &alice, chain, 0, to, 1);
    let response = call(&b.url, "eth_sendRawTransaction", json!([raw])).await;
    assert_eq!(
        response["error"]["code"],
        aegis_rpc_types::errors::FORWARD_FAILED,
        "{response}"
    );
    let message = response["error"]["message"].as_str().unwrap();
    assert!(message.contains("no leader"), "{message}");
    assert!(b.pool.is_empty());

    // a leads: what b takes goes to a and stays in b's pool as well.
    let lease = a.store.grant(TTL * 5).await.unwrap();
    assert!(a.store.campaign(&lease).await.unwrap());
    let response = call(&b.url, "eth_sendRawTransaction", json!([raw])).await;
    let hash: B256 = serde_json::from_value(response["result"].clone()).expect("a hash");
    assert!(a.pool.get(&hash).is_some(), "the leader has it");
    assert!(b.pool.get(&hash).is_some(), "the follower kept it");

    // The leader's refusal reaches the wallet unchanged (geth's "already known").
    let again = call(&b.url, "eth_sendRawTransaction", json!([raw])).await;
    let direct = call(&a.url, "eth_sendRawTransaction", json!([raw])).await;
    assert_eq!(again["error"], direct["error"], "{again}");

    // A transaction the leader never got (say, it died first): c takes over and b hands its
    // pool over, including the one a had.
    let second = transfer(TxType::Eip1559, &alice, chain, 1, to, 1);
    let second_hash = {
        let response = call(&b.url, "eth_sendRawTransaction", json!([second])).await;
        serde_json::from_value::<B256>(response["result"].clone()).unwrap()
    };
    let handing = tokio::spawn(hand_pool_to_new_leaders(b.api.clone()));
    assert!(a.store.resign(&lease).await.unwrap());
    let lease_c = c.store.grant(TTL * 5).await.unwrap();
    assert!(c.store.campaign(&lease_c).await.unwrap());
    let started = std::time::Instant::now();
    while c.pool.get(&second_hash).is_none() || c.pool.get(&hash).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "b's pool never reached the new leader"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handing.abort();
}
