//! The engine port over real HTTP: JWT, every method's happy path and error codes, reorgs via
//! forkchoice, getPayload while a build is still running, proofs that verify.

use aegis_engine::{EngineApi, ListPool, TxPool};
use aegis_executor::{Executor, PoolTx};
use aegis_storage::Store;
use aegis_testing::{
    EngineClient, SEQUENCER_FEE_VAULT, TxType, l1_info_tx, rich_block, signer, spec, transfer,
    unix_now as now,
};
use alloy_primitives::{Address, B256, keccak256};
use alloy_rpc_types_engine::{Claims, JwtSecret};
use serde_json::{Value, json};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

struct Harness {
    url: String,
    engine: EngineClient,
    client: reqwest::Client,
    executor: Arc<Executor>,
    pool: Arc<ListPool>,
    _server: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
        let executor = Arc::new(Executor::new(spec(Some(4), None), store).unwrap());
        let pool = Arc::new(ListPool::default());
        let api = Arc::new(EngineApi::new(
            executor.clone(),
            pool.clone() as Arc<dyn TxPool>,
        ));
        let secret = JwtSecret::random();
        let (addr, server) = api
            .serve("127.0.0.1:0".parse().unwrap(), secret)
            .await
            .unwrap();
        let url = format!("http://{addr}");
        Self {
            engine: EngineClient::new(url.clone(), secret),
            url,
            client: reqwest::Client::new(),
            executor,
            pool,
            _server: server,
            _dir: dir,
        }
    }

    fn token(&self, iat: u64) -> String {
        self.engine.bearer(iat)
    }

    async fn raw(&self, body: Value, auth: Option<String>) -> reqwest::Response {
        self.engine.post(&body, auth).await
    }

    /// The full JSON-RPC response object.
    async fn rpc(&self, method: &str, params: Value) -> Value {
        self.engine.request(method, params).await
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        let response = self.rpc(method, params).await;
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    async fn err_code(&self, method: &str, params: Value) -> i64 {
        let response = self.rpc(method, params).await;
        response["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("{method}: {response}"))
    }

    async fn head(&self) -> Value {
        self.ok("eth_getBlockByNumber", json!(["latest", false]))
            .await
    }

    /// OP payload attributes for a child of the head, as kona-node sends them.
    async fn attributes(&self, extra_txs: Vec<alloy_primitives::Bytes>, no_tx_pool: bool) -> Value {
        let spec = self.executor.spec();
        let head = self.executor.store().head().unwrap().unwrap();
        let timestamp = head.timestamp + 2;
        let mut txs = vec![l1_info_tx(spec, &head, timestamp)];
        txs.extend(extra_txs);
        json!({
            "timestamp": format!("{timestamp:#x}"),
            "prevRandao": keccak256(timestamp.to_be_bytes()),
            "suggestedFeeRecipient": SEQUENCER_FEE_VAULT,
            "withdrawals": [],
            "parentBeaconBlockRoot": B256::repeat_byte(0xbe),
            "transactions": txs,
            "noTxPool": no_tx_pool,
            "gasLimit": format!("{:#x}", head.gas_limit),
            "eip1559Params": "0x0000000000000000",
        })
    }

    fn forkchoice(head: &Value) -> Value {
        json!({"headBlockHash": head, "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO})
    }

    /// FCU with attributes, getPayload, newPayload, FCU to the new block: one sequencer step.
    async fn sequence(&self, extra_txs: Vec<alloy_primitives::Bytes>, no_tx_pool: bool) -> Value {
        let head = self.head().await["hash"].clone();
        let attrs = self.attributes(extra_txs, no_tx_pool).await;
        let fcu = self
            .ok(
                "engine_forkchoiceUpdatedV3",
                json!([Self::forkchoice(&head), attrs]),
            )
            .await;
        assert_eq!(fcu["payloadStatus"]["status"], "VALID");
        let id = fcu["payloadId"].clone();
        let (method, new_payload) = self.payload_methods().await;
        let envelope = self.ok(method, json!([id])).await;
        let payload = envelope["executionPayload"].clone();
        let mut params = vec![
            payload.clone(),
            json!([]),
            envelope["parentBeaconBlockRoot"].clone(),
        ];
        if new_payload == "engine_newPayloadV4" {
            params.push(json!([]));
        }
        let status = self.ok(new_payload, Value::Array(params)).await;
        assert_eq!(status["status"], "VALID", "{status}");
        let fcu = self
            .ok(
                "engine_forkchoiceUpdatedV3",
                json!([Self::forkchoice(&payload["blockHash"])]),
            )
            .await;
        assert_eq!(fcu["payloadStatus"]["status"], "VALID");
        payload
    }

    /// Imports (without making canonical) one child of `parent` per recipient, each paying it
    /// 5 wei from dev account 0; their hashes.
    async fn siblings_on(&self, parent: &Value, recipients: &[Address]) -> Vec<Value> {
        let mut hashes = Vec::new();
        for recipient in recipients {
            let chain = self.executor.spec().chain_id;
            let tx = transfer(TxType::Eip1559, &signer(0), chain, 0, *recipient, 5);
            let mut attrs = self.attributes(vec![], true).await;
            attrs["transactions"]
                .as_array_mut()
                .unwrap()
                .push(json!(tx));
            let fcu = self
                .ok(
                    "engine_forkchoiceUpdatedV3",
                    json!([Self::forkchoice(parent), attrs]),
                )
                .await;
            let envelope = self
                .ok("engine_getPayloadV3", json!([fcu["payloadId"]]))
                .await;
            let payload = envelope["executionPayload"].clone();
            let status = self
                .ok(
                    "engine_newPayloadV3",
                    json!([payload, [], envelope["parentBeaconBlockRoot"]]),
                )
                .await;
            assert_eq!(status["status"], "VALID");
            hashes.push(payload["blockHash"].clone());
        }
        hashes
    }

    async fn payload_methods(&self) -> (&'static str, &'static str) {
        let head = self.executor.store().head().unwrap().unwrap();
        if self
            .executor
            .spec()
            .forks
            .is_active(aegis_chainspec::OpFork::Isthmus, head.timestamp + 2)
        {
            ("engine_getPayloadV4", "engine_newPayloadV4")
        } else {
            ("engine_getPayloadV3", "engine_newPayloadV3")
        }
    }
}

#[tokio::test]
async fn jwt_is_enforced_with_a_skew_window() {
    let h = Harness::new().await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
    assert_eq!(h.raw(body.clone(), None).await.status(), 401);
    let other = JwtSecret::random();
    let wrong = format!(
        "Bearer {}",
        other
            .encode(&Claims {
                iat: now(),
                exp: None
            })
            .unwrap()
    );
    assert_eq!(h.raw(body.clone(), Some(wrong)).await.status(), 401);
    // Stale, too far in the future, unsigned; then kona-node's iat = now + 60 s.
    for (auth, status) in [
        (h.token(now() - 120), 401),
        (h.token(now() + 600), 401),
        ("Bearer e30.e30.".to_owned(), 401),
        (h.token(now() + 60), 200),
    ] {
        assert_eq!(h.raw(body.clone(), Some(auth)).await.status(), status);
    }
    assert_eq!(h.ok("eth_chainId", json!([])).await, "0x385");
}

#[tokio::test]
async fn sequencer_cycle_over_isthmus_activation_and_eth_reads() {
    let h = Harness::new().await;
    let caps = h.ok("engine_exchangeCapabilities", json!([[]])).await;
    assert!(
        caps.as_array()
            .unwrap()
            .iter()
            .any(|c| c == "engine_getPayloadV4")
    );
    // Genesis as the rollup node reads it first.
    let finalized = h
        .ok("eth_getBlockByNumber", json!(["finalized", true]))
        .await;
    assert_eq!(finalized, Value::Null, "unset label answers null");
    let genesis = h.ok("eth_getBlockByNumber", json!(["0x0", true])).await;
    assert_eq!(genesis["hash"], json!(h.executor.spec().genesis_hash()));

    // Holocene block, the Isthmus activation block, then an Isthmus block (getPayloadV4).
    let (forced, _) = rich_block(h.executor.spec());
    let first = h.sequence(forced, true).await;
    let second = h.sequence(vec![], true).await;
    let third = h.sequence(vec![], true).await;
    assert!(
        third.get("withdrawalsRoot").is_some(),
        "V4 payload carries withdrawalsRoot"
    );
    assert_eq!(h.ok("eth_blockNumber", json!([])).await, "0x3");

    // Blocks by number/hash, with deposit transactions in go-ethereum's JSON shape.
    let block = h
        .ok("eth_getBlockByHash", json!([first["blockHash"], true]))
        .await;
    let deposit = &block["transactions"][1];
    assert_eq!(deposit["type"], "0x7e");
    for field in [
        "sourceHash",
        "from",
        "gas",
        "value",
        "input",
        "mint",
        "depositReceiptVersion",
    ] {
        assert!(
            deposit.get(field).is_some(),
            "deposit JSON lacks {field}: {deposit}"
        );
    }
    // op-geth puts the deposit nonce in `nonce`; alloy-based clients decode the whole object.
    assert_eq!(deposit["nonce"], "0x0");
    let decoded: op_alloy_rpc_types::Transaction = serde_json::from_value(deposit.clone()).unwrap();
    assert!(decoded.inner.inner.is_deposit());
    let by_number = h.ok("eth_getBlockByNumber", json!(["0x2", false])).await;
    assert_eq!(by_number["hash"], second["blockHash"]);

    // safe/finalized move with forkchoice and are persisted labels.
    let fc = json!({"headBlockHash": third["blockHash"], "safeBlockHash": second["blockHash"], "finalizedBlockHash": first["blockHash"]});
    h.ok("engine_forkchoiceUpdatedV3", json!([fc])).await;
    assert_eq!(
        h.ok("eth_getBlockByNumber", json!(["safe", false])).await["hash"],
        second["blockHash"]
    );
    assert_eq!(
        h.ok("eth_getBlockByNumber", json!(["finalized", false]))
            .await["hash"],
        first["blockHash"]
    );

    // eth_getProof of the message passer verifies against the state root.
    let passer = "0x4200000000000000000000000000000000000016";
    let proof = h.ok("eth_getProof", json!([passer, [], "latest"])).await;
    let proof: alloy_rpc_types_eth::EIP1186AccountProofResponse =
        serde_json::from_value(proof).unwrap();
    let state_root: B256 = serde_json::from_value(third["stateRoot"].clone()).unwrap();
    let account = aegis_storage::Account {
        nonce: proof.nonce,
        balance: proof.balance,
        code_hash: proof.code_hash,
        storage_root: proof.storage_hash,
    };
    alloy_trie::proof::verify_proof(
        state_root,
        alloy_trie::Nibbles::unpack(keccak256(passer.parse::<Address>().unwrap())),
        Some(account.trie_rlp()),
        &proof.account_proof,
    )
    .unwrap();
    assert_eq!(third["withdrawalsRoot"], json!(proof.storage_hash));
    assert!(
        h.ok("miner_setMaxDASize", json!(["0x100", "0x1000"]))
            .await
            .as_bool()
            .unwrap()
    );
}

#[tokio::test]
async fn error_codes_for_bad_requests() {
    let h = Harness::new().await;
    let genesis = json!(h.executor.spec().genesis_hash());
    assert_eq!(
        h.err_code("engine_getPayloadV3", json!(["0x0300000000000001"]))
            .await,
        -38001
    );
    let fc = json!({"headBlockHash": genesis, "safeBlockHash": B256::repeat_byte(1), "finalizedBlockHash": B256::ZERO});
    assert_eq!(
        h.err_code("engine_forkchoiceUpdatedV3", json!([fc])).await,
        -38002
    );
    let mut attrs = h.attributes(vec![], true).await;
    attrs.as_object_mut().unwrap().remove("gasLimit");
    assert_eq!(
        h.err_code(
            "engine_forkchoiceUpdatedV3",
            json!([Harness::forkchoice(&genesis), attrs])
        )
        .await,
        -38003
    );
    let mut attrs = h.attributes(vec![], true).await;
    attrs["transactions"] = json!(["0x7e01"]);
    assert_eq!(
        h.err_code(
            "engine_forkchoiceUpdatedV3",
            json!([Harness::forkchoice(&genesis), attrs])
        )
        .await,
        -38003
    );
    assert_eq!(
        h.err_code("engine_forkchoiceUpdatedV3", json!(["nope"]))
            .await,
        -32602
    );
    assert_eq!(
        h.err_code("eth_getBlockByNumber", json!([{"x": 1}])).await,
        -32602
    );
    assert_eq!(h.err_code("engine_newPayloadV3", json!([{}])).await, -32602);
    assert_eq!(h.err_code("eth_noSuchMethod", json!([])).await, -32601);
    // Out of range: a timestamp not after the parent's, a block beyond the head.
    let mut attrs = h.attributes(vec![], true).await;
    attrs["timestamp"] = json!("0x0");
    assert_eq!(
        h.err_code(
            "engine_forkchoiceUpdatedV3",
            json!([Harness::forkchoice(&genesis), attrs])
        )
        .await,
        -38003
    );
    assert_eq!(
        h.ok("eth_getBlockByNumber", json!(["0xffffffffff", false]))
            .await,
        Value::Null
    );
    // Oversized request: refused by the transport, the server keeps serving.
    let huge = "0".repeat(130 * 1024 * 1024);
    let response = h
        .client
        .post(&h.url)
        .header("authorization", h.token(now()))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["{huge}"]}}"#
        ))
        .send()
        .await
        .unwrap();
    assert!(
        response.status() == 413 || response.status() == 200,
        "{}",
        response.status()
    );
    if response.status() == 200 {
        let body: Value = response.json().await.unwrap();
        assert!(
            body.get("error").is_some(),
            "oversized request answered: {body}"
        );
    }
    assert_eq!(h.ok("eth_chainId", json!([])).await, "0x385");
    // Unknown head: SYNCING, not an error.
    let unknown = json!({"headBlockHash": B256::repeat_byte(7), "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO});
    let fcu = h.ok("engine_forkchoiceUpdatedV3", json!([unknown])).await;
    assert_eq!(fcu["payloadStatus"]["status"], "SYNCING");
    // Malformed JSON body.
    let response = h
        .client
        .post(&h.url)
        .header("authorization", h.token(now()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
}

#[tokio::test]
async fn new_payload_checks_hash_parent_and_content() {
    let h = Harness::new().await;
    let genesis = json!(h.executor.spec().genesis_hash());
    let attrs = h.attributes(vec![], true).await;
    let fcu = h
        .ok(
            "engine_forkchoiceUpdatedV3",
            json!([Harness::forkchoice(&genesis), attrs]),
        )
        .await;
    let envelope = h.ok("engine_getPayloadV3", json!([fcu["payloadId"]])).await;
    let root = envelope["parentBeaconBlockRoot"].clone();
    let mut payload = envelope["executionPayload"].clone();
    // Wrong block hash.
    let mut bad = payload.clone();
    bad["blockHash"] = json!(B256::repeat_byte(3));
    let status = h.ok("engine_newPayloadV3", json!([bad, [], root])).await;
    assert_eq!(status["status"], "INVALID");
    // Unknown parent: SYNCING.
    let mut orphan = payload.clone();
    orphan["parentHash"] = json!(B256::repeat_byte(4));
    let status = h.ok("engine_newPayloadV3", json!([orphan, [], root])).await;
    assert!(
        status["status"] == "SYNCING" || status["status"] == "INVALID",
        "{status}"
    );
    // A valid payload from elsewhere (fresh node with the same genesis) imports as VALID.
    let other = Harness::new().await;
    let status = other
        .ok("engine_newPayloadV3", json!([payload.clone(), [], root]))
        .await;
    assert_eq!(status["status"], "VALID");
    // A tampered field without a matching hash is refused.
    payload["stateRoot"] = json!(B256::repeat_byte(5));
    let status = other
        .ok("engine_newPayloadV3", json!([payload, [], root]))
        .await;
    assert_eq!(status["status"], "INVALID");
}

#[tokio::test]
async fn forkchoice_reorgs_to_a_sibling() {
    let h = Harness::new().await;
    let genesis = json!(h.executor.spec().genesis_hash());
    let recipients = [Address::repeat_byte(1), Address::repeat_byte(2)];
    let siblings: Vec<_> = h
        .siblings_on(&genesis, &recipients)
        .await
        .into_iter()
        .zip(recipients)
        .collect();
    assert_ne!(siblings[0].0, siblings[1].0);
    for _ in 0..2 {
        for (hash, recipient) in &siblings {
            h.ok(
                "engine_forkchoiceUpdatedV3",
                json!([Harness::forkchoice(hash)]),
            )
            .await;
            assert_eq!(h.head().await["hash"], *hash);
            let proof = h.ok("eth_getProof", json!([recipient, [], "latest"])).await;
            assert_eq!(proof["balance"], "0x5");
        }
    }
}

#[tokio::test]
async fn get_payload_while_the_pool_build_is_running() {
    let h = Harness::new().await;
    let chain = h.executor.spec().chain_id;
    let txs: Vec<_> = (0..10)
        .flat_map(|s| {
            let signer = signer(s);
            (0..100).map(move |n| {
                transfer(
                    TxType::Eip1559,
                    &signer,
                    chain,
                    n,
                    Address::repeat_byte(9),
                    1,
                )
            })
        })
        .map(|raw| PoolTx::decode(raw).unwrap())
        .collect();
    h.pool.extend(txs);
    let genesis = json!(h.executor.spec().genesis_hash());
    let attrs = h.attributes(vec![], false).await;
    let started = Instant::now();
    let fcu = h
        .ok(
            "engine_forkchoiceUpdatedV3",
            json!([Harness::forkchoice(&genesis), attrs]),
        )
        .await;
    let fcu_time = started.elapsed();
    let envelope = h.ok("engine_getPayloadV3", json!([fcu["payloadId"]])).await;
    let txs = envelope["executionPayload"]["transactions"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        txs, 1001,
        "pool transactions were wanted and available: never an empty block"
    );
    assert!(envelope["blockValue"] != "0x0");
    // Asking again returns the same block at once.
    let again = h.ok("engine_getPayloadV3", json!([fcu["payloadId"]])).await;
    assert_eq!(
        again["executionPayload"]["blockHash"],
        envelope["executionPayload"]["blockHash"]
    );
    assert!(fcu_time < Duration::from_secs(5));
}

#[tokio::test]
async fn forkchoice_refuses_safe_or_finalized_off_the_head_chain_and_reorgs_below_finalized() {
    let h = Harness::new().await;
    let genesis = json!(h.executor.spec().genesis_hash());
    // Two siblings on genesis: A and B.
    let siblings = h
        .siblings_on(
            &genesis,
            &[Address::repeat_byte(1), Address::repeat_byte(2)],
        )
        .await;
    let (a, b) = (&siblings[0], &siblings[1]);
    let state = |head: &Value, safe: &Value, finalized: &Value| json!([{"headBlockHash": head, "safeBlockHash": safe, "finalizedBlockHash": finalized}]);
    let zero = json!(B256::ZERO);
    // A safe or finalized block that is not an ancestor of the head.
    let refused = h
        .rpc("engine_forkchoiceUpdatedV3", state(a, b, &zero))
        .await;
    assert_eq!(refused["error"]["code"], -38002, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an ancestor"),
        "{refused}"
    );
    assert_eq!(
        h.err_code("engine_forkchoiceUpdatedV3", state(a, &genesis, b))
            .await,
        -38002
    );
    // The head itself and genesis are fine; A becomes finalized.
    h.ok("engine_forkchoiceUpdatedV3", state(a, &genesis, a))
        .await;
    assert_eq!(h.head().await["hash"], *a);
    // Moving the head to B would reorg out the finalized A: refused, nothing changes.
    let refused = h
        .rpc("engine_forkchoiceUpdatedV3", state(b, &zero, &zero))
        .await;
    assert_eq!(refused["error"]["code"], -38002, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("finalized"),
        "{refused}"
    );
    assert_eq!(h.head().await["hash"], *a);
}

#[tokio::test]
async fn max_da_size_on_the_engine_port_throttles_the_builder() {
    let h = Harness::new().await;
    // A transaction whose estimated DA size is above 100 bytes.
    let chain = h.executor.spec().chain_id;
    let tx = transfer(
        TxType::Eip1559,
        &signer(0),
        chain,
        0,
        Address::repeat_byte(9),
        1,
    );
    h.pool.extend([PoolTx::decode(tx).unwrap()]);
    assert_eq!(
        h.ok("miner_setMaxDASize", json!(["0x10", "0x0"])).await,
        json!(true)
    );
    let throttled = h.sequence(vec![], false).await;
    assert_eq!(throttled["transactions"].as_array().unwrap().len(), 1);
    // Lifting the limit lets it in.
    h.ok("miner_setMaxDASize", json!(["0x0", "0x0"])).await;
    let open = h.sequence(vec![], false).await;
    assert_eq!(open["transactions"].as_array().unwrap().len(), 2);
}
