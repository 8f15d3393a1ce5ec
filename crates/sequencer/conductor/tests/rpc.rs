//! op-conductor's JSON-RPC API, served by two workers over one etcd: what kona-node calls
//! (`leader`, `active`, `commitUnsafePayload`) and what an operator calls (transfers, pause,
//! membership), including every refusal a non-leader or a bad request gets.

mod support;

use aegis_conductor::{ClusterStore, Conductor, conductor_module};
use aegis_testing::etcd::EtcdCluster;
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
    server::{Server, ServerHandle},
};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use support::payload;

const TTL: Duration = Duration::from_secs(1);

struct Worker {
    conductor: Arc<Conductor>,
    client: HttpClient,
    addr: String,
    _server: ServerHandle,
}

async fn worker(etcd: &EtcdCluster, id: &str) -> Worker {
    let store = ClusterStore::connect(&etcd.endpoints(), 901, id, Duration::from_secs(2))
        .await
        .unwrap();
    let conductor = Arc::new(Conductor::new(store, TTL));
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let handle = server.start(conductor_module(conductor.clone()));
    let client = HttpClientBuilder::default()
        .build(format!("http://{addr}"))
        .unwrap();
    Worker {
        conductor,
        client,
        addr,
        _server: handle,
    }
}

impl Worker {
    async fn call(&self, method: &str, params: ArrayParams) -> Result<Value, (i32, String)> {
        self.client
            .request::<Value, _>(method, params)
            .await
            .map_err(|e| match e {
                jsonrpsee::core::ClientError::Call(e) => (e.code(), e.message().to_owned()),
                other => panic!("{method}: {other}"),
            })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kona_and_operators_get_op_conductors_answers() {
    let etcd = EtcdCluster::start(1);
    let (a, b) = (worker(&etcd, "a").await, worker(&etcd, "b").await);
    assert!(a.conductor.campaign().await.unwrap());
    assert!(!b.conductor.campaign().await.unwrap());

    // What kona-node asks.
    assert_eq!(
        a.call("conductor_leader", rpc_params![]).await,
        Ok(json!(true))
    );
    assert_eq!(
        b.call("conductor_leader", rpc_params![]).await,
        Ok(json!(false))
    );
    assert_eq!(
        a.call("conductor_active", rpc_params![]).await,
        Ok(json!(true))
    );
    assert_eq!(
        a.call("conductor_commitUnsafePayload", rpc_params![payload(1, 0)])
            .await,
        Ok(Value::Null)
    );
    // A follower's commit is refused with raft's message; nothing is stored.
    assert_eq!(
        b.call("conductor_commitUnsafePayload", rpc_params![payload(2, 0)])
            .await,
        Err((-32000, "node is not the leader".into()))
    );
    // A payload that does not extend the head, and one that is not a payload.
    let (code, message) = a
        .call("conductor_commitUnsafePayload", rpc_params![payload(3, 0)])
        .await
        .unwrap_err();
    assert_eq!(code, -32000);
    assert!(message.contains("does not extend"), "{message}");
    let (code, _) = a
        .call(
            "conductor_commitUnsafePayload",
            rpc_params![json!({"x": 1})],
        )
        .await
        .unwrap_err();
    assert_eq!(code, -32602);
    assert_eq!(a.conductor.store().head().await.unwrap().unwrap().number, 1);

    // Membership: only the leader changes it, at the current version.
    let version = |v: &Value| v["version"].as_u64().unwrap();
    let members = a
        .call("conductor_clusterMembership", rpc_params![])
        .await
        .unwrap();
    let v0 = version(&members);
    assert_eq!(
        b.call("conductor_addServerAsVoter", rpc_params!["b", &b.addr, v0])
            .await,
        Err((-32000, "node is not the leader".into()))
    );
    for (id, addr) in [("a", &a.addr), ("b", &b.addr)] {
        let v = version(
            &a.call("conductor_clusterMembership", rpc_params![])
                .await
                .unwrap(),
        );
        a.call("conductor_addServerAsVoter", rpc_params![id, addr, v])
            .await
            .unwrap();
    }
    let (code, message) = a
        .call(
            "conductor_addServerAsNonvoter",
            rpc_params!["c", "127.0.0.1:1", v0],
        )
        .await
        .unwrap_err();
    assert_eq!(code, -32000);
    assert!(message.contains("stale"), "{message}");
    let members = a
        .call("conductor_clusterMembership", rpc_params![])
        .await
        .unwrap();
    assert_eq!(members["servers"].as_array().unwrap().len(), 2, "{members}");
    assert_eq!(members["servers"][1]["suffrage"], 0);
    // `aegis cluster status`: the leader, the committed head, every member as its conductor
    // answers.
    let status = aegis_conductor::cluster_status(b.conductor.store(), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(status.leader.as_deref(), Some("a"));
    assert_eq!(status.committed.unwrap().number, 1);
    let leaders: Vec<_> = status
        .members
        .iter()
        .map(|m| (m.server.id.as_str(), m.reachable, m.leader))
        .collect();
    assert_eq!(leaders, [("a", true, true), ("b", true, false)]);
    assert_eq!(
        b.call("conductor_leaderWithID", rpc_params![])
            .await
            .unwrap(),
        json!({"id": "a", "addr": a.addr, "suffrage": 0})
    );

    // Transfer to a named server: the leader resigns, only the nominee takes over.
    assert_eq!(
        b.call(
            "conductor_transferLeaderToServer",
            rpc_params!["a", &a.addr]
        )
        .await,
        Err((-32000, "node is not the leader".into()))
    );
    a.call(
        "conductor_transferLeaderToServer",
        rpc_params!["b", &b.addr],
    )
    .await
    .unwrap();
    assert!(
        !a.conductor.campaign().await.unwrap(),
        "the old leader stays out"
    );
    assert!(b.conductor.campaign().await.unwrap());
    assert_eq!(
        a.call("conductor_commitUnsafePayload", rpc_params![payload(2, 0)])
            .await,
        Err((-32000, "node is not the leader".into()))
    );
    b.call("conductor_commitUnsafePayload", rpc_params![payload(2, 0)])
        .await
        .unwrap();

    // Pause, resume, stop; override.
    b.call("conductor_pause", rpc_params![]).await.unwrap();
    assert_eq!(
        b.call("conductor_paused", rpc_params![]).await,
        Ok(json!(true))
    );
    assert_eq!(
        b.call("conductor_active", rpc_params![]).await,
        Ok(json!(false))
    );
    b.call("conductor_resume", rpc_params![]).await.unwrap();
    assert_eq!(
        b.call("conductor_active", rpc_params![]).await,
        Ok(json!(true))
    );
    assert_eq!(
        a.call("conductor_overrideLeader", rpc_params!["yes"])
            .await
            .unwrap_err()
            .0,
        -32602
    );
    a.call("conductor_overrideLeader", rpc_params![true])
        .await
        .unwrap();
    assert_eq!(
        a.call("conductor_leader", rpc_params![]).await,
        Ok(json!(true))
    );
    assert_eq!(
        a.call("conductor_leaderOverridden", rpc_params![]).await,
        Ok(json!(true))
    );
    a.call("conductor_overrideLeader", rpc_params![false])
        .await
        .unwrap();
    b.call("conductor_stop", rpc_params![]).await.unwrap();
    assert_eq!(
        b.call("conductor_stopped", rpc_params![]).await,
        Ok(json!(true))
    );
    assert_eq!(
        b.call("conductor_leader", rpc_params![]).await,
        Ok(json!(false))
    );
    assert_eq!(
        b.call("conductor_resume", rpc_params![]).await,
        Err((-32000, "conductor is stopped".into()))
    );
    assert_eq!(
        a.call("conductor_sequencerHealthy", rpc_params![]).await,
        Ok(json!(false))
    );
}
