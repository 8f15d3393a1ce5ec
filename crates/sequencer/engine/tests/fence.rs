//! The engine of a cluster worker, fenced by a real three-member etcd on loopback, attacked as
//! a follower, a deposed leader and a partitioned leader would: none of them sequences, hands
//! out a sequenced payload, or makes a block the cluster did not commit its head.

use aegis_conductor::{ClusterStore, CommittedHead, Fence, Leadership};
use aegis_engine::{EngineApi, ListPool, TxPool, codes};
use aegis_executor::Executor;
use aegis_storage::Store;
use aegis_testing::{EngineClient, SEQUENCER_FEE_VAULT, etcd::EtcdCluster, l1_info_tx, spec};
use alloy_primitives::{B256, keccak256};
use alloy_rpc_types_engine::JwtSecret;
use serde_json::{Value, json};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

const TTL: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_millis(500);

/// One worker's engine (fenced through `endpoints`) and the store its conductor would use.
struct Worker {
    id: String,
    engine: EngineClient,
    executor: Arc<Executor>,
    conductor: ClusterStore,
    _server: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Worker {
    async fn start(endpoints: &[String], id: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(None, None);
        let chain_id = spec.chain_id;
        let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
        let executor = Arc::new(Executor::new(spec, store).unwrap());
        let pool = Arc::new(ListPool::default()) as Arc<dyn TxPool>;
        let fence = ClusterStore::connect(endpoints, chain_id, id, TIMEOUT)
            .await
            .unwrap();
        let api = EngineApi::new(executor.clone(), pool).with_fence(Fence::new(fence));
        let secret = JwtSecret::random();
        let (addr, server) = Arc::new(api)
            .serve("127.0.0.1:0".parse().unwrap(), secret)
            .await
            .unwrap();
        let conductor = ClusterStore::connect(endpoints, chain_id, id, TIMEOUT)
            .await
            .unwrap();
        Self {
            id: id.to_owned(),
            engine: EngineClient::new(format!("http://{addr}"), secret),
            executor,
            conductor,
            _server: server,
            _dir: dir,
        }
    }

    /// Campaigns until this worker's conductor leads (a deposed leader's lease must expire).
    async fn lead(&self) -> Leadership {
        let leadership = self.conductor.grant(TTL).await.unwrap();
        let started = Instant::now();
        while !self.conductor.campaign(&leadership).await.unwrap() {
            assert!(started.elapsed() < TTL * 4, "the old lease never expired");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        leadership
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, (i64, String)> {
        let response = self.engine.request(method, params).await;
        match response.get("error") {
            Some(error) => Err((
                error["code"].as_i64().unwrap(),
                error["message"].as_str().unwrap_or_default().to_owned(),
            )),
            None => Ok(response["result"].clone()),
        }
    }

    fn head(&self) -> (u64, B256) {
        let head = self.executor.store().head().unwrap().unwrap();
        (head.number, head.hash_slow())
    }

    /// engine_forkchoiceUpdatedV3 to `head`, with attributes for its child if `build` is set
    /// (`sequenced`: from the pool, else `noTxPool` as derivation builds).
    async fn forkchoice(&self, head: B256, build: Option<bool>) -> Result<Value, (i64, String)> {
        let state = json!({"headBlockHash": head, "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO});
        let Some(sequenced) = build else {
            return self
                .call("engine_forkchoiceUpdatedV3", json!([state]))
                .await;
        };
        let spec = self.executor.spec();
        let parent = self.executor.store().header(&head).unwrap().unwrap();
        let timestamp = parent.timestamp + 2;
        let attrs = json!({
            "timestamp": format!("{timestamp:#x}"),
            // Workers' blocks at one height differ.
            "prevRandao": keccak256(format!("{}{timestamp}", self.id)),
            "suggestedFeeRecipient": SEQUENCER_FEE_VAULT,
            "withdrawals": [],
            "parentBeaconBlockRoot": B256::repeat_byte(0xbe),
            "transactions": [l1_info_tx(spec, &parent, timestamp)],
            "noTxPool": !sequenced,
            "gasLimit": format!("{:#x}", parent.gas_limit),
            "eip1559Params": "0x0000000000000000",
        });
        self.call("engine_forkchoiceUpdatedV3", json!([state, attrs]))
            .await
    }

    /// Starts a build on the head; its payload id.
    async fn start_build(&self, sequenced: bool) -> Result<Value, (i64, String)> {
        let fcu = self.forkchoice(self.head().1, Some(sequenced)).await?;
        Ok(fcu["payloadId"].clone())
    }

    async fn get_payload(&self, id: &Value) -> Result<Value, (i64, String)> {
        self.call("engine_getPayloadV3", json!([id])).await
    }

    /// engine_newPayloadV3 of `envelope` (must be VALID); the block hash.
    async fn import(&self, envelope: &Value) -> B256 {
        let payload = &envelope["executionPayload"];
        let status = self
            .call(
                "engine_newPayloadV3",
                json!([payload, [], envelope["parentBeaconBlockRoot"]]),
            )
            .await
            .unwrap();
        assert_eq!(status["status"], "VALID", "{status}");
        serde_json::from_value(payload["blockHash"].clone()).unwrap()
    }

    /// One whole sequencer step as kona-node takes it; the envelope.
    async fn sequence(&self) -> Value {
        let id = self.start_build(true).await.unwrap();
        let envelope = self.get_payload(&id).await.unwrap();
        let hash = self.import(&envelope).await;
        let fcu = self.forkchoice(hash, None).await.unwrap();
        assert_eq!(fcu["payloadStatus"]["status"], "VALID");
        envelope
    }
}

fn committed(envelope: &Value) -> CommittedHead {
    let payload = &envelope["executionPayload"];
    CommittedHead {
        number: u64::from_str_radix(
            payload["blockNumber"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap(),
        hash: serde_json::from_value(payload["blockHash"].clone()).unwrap(),
    }
}

fn assert_fenced(result: Result<Value, (i64, String)>, code: i32, what: &str) {
    match result {
        Err((got, message)) => {
            assert_eq!(got, code as i64, "{what}: {message}");
            assert!(message.contains("fenced"), "{what}: {message}");
        }
        Ok(value) => panic!("{what} went through: {value}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_leaders_committed_blocks_are_sequenced_or_become_head() {
    let mut etcd = EtcdCluster::start(3);
    let endpoints = etcd.endpoints();
    // Worker a reaches etcd through member 0 only, b through the other two.
    let a = Worker::start(&endpoints[..1], "a").await;
    let b = Worker::start(&endpoints[1..], "b").await;
    let lease_a = a.lead().await;

    // A follower may not sequence, and says why.
    assert_fenced(
        b.start_build(true).await,
        codes::FENCED,
        "follower sequencing",
    );

    // The leader's block is committed by its engine when it becomes head, before kona-node's
    // own (later, idempotent) commit through the conductor.
    let one = a.sequence().await;
    assert_eq!(a.conductor.head().await.unwrap(), Some(committed(&one)));
    let envelope: op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope =
        serde_json::from_value(json!({
            "parentBeaconBlockRoot": one["parentBeaconBlockRoot"],
            "executionPayload": one["executionPayload"],
        }))
        .unwrap();
    a.conductor.commit(&lease_a, &envelope).await.unwrap();

    // The follower takes the committed block as head.
    let hash = b.import(&one).await;
    b.forkchoice(hash, None).await.unwrap();
    assert_eq!(b.head().1, hash);

    // It may reproduce a block without its pool (as derivation does), but that block becomes
    // its head only if the cluster committed it: this one was not.
    let id = b.start_build(false).await.unwrap();
    let stray = b.get_payload(&id).await.unwrap();
    let stray = b.import(&stray).await;
    assert_fenced(
        b.forkchoice(stray, None).await,
        codes::INVALID_FORKCHOICE_STATE,
        "uncommitted head on a follower",
    );
    assert_eq!(b.head().1, hash, "the follower's head did not move");

    let two = a.sequence().await;
    b.import(&two).await;
    b.forkchoice(committed(&two).hash, None).await.unwrap();

    // The leader starts a build, then loses etcd: the payload is not handed out.
    let pending = a.start_build(true).await.unwrap();
    etcd.kill(0);
    assert_fenced(
        a.get_payload(&pending).await,
        codes::FENCED,
        "payload of a partitioned leader",
    );
    assert_fenced(
        a.start_build(true).await,
        codes::FENCED,
        "partitioned leader sequencing",
    );

    // b takes over once a's lease expired, and extends the committed chain.
    let _lease_b = b.lead().await;
    let three = b.sequence().await;
    assert_eq!(b.conductor.head().await.unwrap(), Some(committed(&three)));

    // a reaches etcd again, deposed: its pending payload stays fenced, and a block it builds
    // anyway (without its pool) never becomes its head nor gets committed.
    etcd.restart(0);
    etcd.wait_healthy();
    assert_fenced(
        a.get_payload(&pending).await,
        codes::FENCED,
        "payload of a deposed leader",
    );
    let id = a.start_build(false).await.unwrap();
    let late = a.get_payload(&id).await.unwrap();
    let late = a.import(&late).await;
    assert_fenced(
        a.forkchoice(late, None).await,
        codes::INVALID_FORKCHOICE_STATE,
        "deposed leader's head",
    );
    assert_eq!(a.head().0, 2, "the deposed leader's head did not move");
    assert_eq!(
        a.conductor.head().await.unwrap(),
        Some(committed(&three)),
        "nothing the deposed leader built was committed"
    );
    drop(lease_a);

    // It follows the committed chain again.
    let hash = a.import(&three).await;
    a.forkchoice(hash, None).await.unwrap();
    assert_eq!(a.head(), (3, hash));
    // Going back to an ancestor needs no new admission (kona-node resets this way).
    a.forkchoice(committed(&two).hash, None).await.unwrap();
}
