//! eth_getLogs filters and limits, eth_subscribe `newHeads`/`logs`/`newPendingTransactions` over
//! WebSocket (with `removed` logs on a reorg), polling filters, eth_call/eth_estimateGas error shapes, CORS and
//! miner_setMaxDASize over real HTTP/WS servers.

use aegis_executor::{DaLimits, ExecutedBlock, Executor, TxPool, next_base_fee};
use aegis_mempool::{HeadState, Pool, PoolConfig};
use aegis_rpc::{EthApi, RpcConfig};
use aegis_storage::Store;
use aegis_testing::{IWeth, TxType, WETH, attributes, fee_ordered, signer, spec, user_tx};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::SolCall;
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT, SubscriptionKind},
    rpc_params,
    types::SubscriptionId,
    ws_client::WsClientBuilder,
};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};

struct Harness {
    executor: Arc<Executor>,
    pool: Arc<Pool>,
    url: String,
    ws: String,
    _server: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new(config: RpcConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("c.redb")).unwrap());
        let executor = Arc::new(Executor::new(spec(None, None), store).unwrap());
        let pool = Arc::new(Pool::new(PoolConfig::default()));
        let api = Arc::new(EthApi::new(executor.clone(), pool.clone(), config));
        let (addr, server) = api.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        Self {
            executor,
            pool,
            url: format!("http://{addr}"),
            ws: format!("ws://{addr}"),
            _server: server,
            _dir: dir,
        }
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        reqwest::Client::new()
            .post(&self.url)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Seals a block with `txs` on `parent` (default: the head) and makes it the head.
    fn seal_on(&self, parent: Option<B256>, txs: &[Bytes]) -> ExecutedBlock {
        let store = self.executor.store();
        let parent_hash = parent.unwrap_or_else(|| store.head_hash().unwrap().unwrap());
        let parent = store.header(&parent_hash).unwrap().unwrap();
        let spec = self.executor.spec();
        let attrs = attributes(spec, &parent, vec![], false);
        let base_fee = next_base_fee(spec, &parent, attrs.timestamp).unwrap();
        let mut source = fee_ordered(txs, base_fee);
        let block = self
            .executor
            .build(parent_hash, &attrs, Some(&mut source))
            .unwrap();
        self.executor.commit(&block, true).unwrap();
        block
    }

    fn seal(&self, txs: &[Bytes]) -> ExecutedBlock {
        self.seal_on(None, txs)
    }
}

fn weth_deposit(index: u32, nonce: u64, value: u64) -> Bytes {
    user_tx(
        TxType::Eip1559,
        &signer(index),
        901,
        nonce,
        TxKind::Call(WETH),
        U256::from(value),
        IWeth::depositCall {}.abi_encode().into(),
        100_000,
    )
}

fn weth_transfer(index: u32, nonce: u64, to: Address) -> Bytes {
    user_tx(
        TxType::Eip1559,
        &signer(index),
        901,
        nonce,
        TxKind::Call(WETH),
        U256::ZERO,
        IWeth::transferCall {
            to,
            value: U256::from(1),
        }
        .abi_encode()
        .into(),
        100_000,
    )
}

async fn next(sub: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("notification in time")
        .expect("open")
        .expect("decodes")
}

fn deposit_topic() -> B256 {
    keccak256("Deposit(address,uint256)")
}

fn padded(address: Address) -> B256 {
    B256::left_padding_from(address.as_slice())
}

#[tokio::test]
async fn get_logs_filters_by_address_topics_and_range() {
    let h = Harness::new(RpcConfig {
        max_log_range: 3,
        max_logs: 2,
        ..Default::default()
    })
    .await;
    let (alice, bob) = (signer(0).address(), signer(1).address());
    h.seal(&[weth_deposit(0, 0, 10), weth_deposit(1, 0, 20)]);
    let second = h.seal(&[weth_transfer(0, 1, bob)]);

    // Deposits only, by topic 0; the limit of 2 logs is not exceeded.
    let logs = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "latest", "address": WETH, "topics": [deposit_topic()]}]),
        )
        .await;
    let logs = logs["result"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 2, "{logs:?}");
    // Both deposits pay the same fee, so the block may order them either way.
    let mut depositors: Vec<Value> = logs.iter().map(|l| l["topics"][1].clone()).collect();
    depositors.sort_by_key(|t| t.to_string());
    let mut expected = vec![json!(padded(alice)), json!(padded(bob))];
    expected.sort_by_key(|t| t.to_string());
    assert_eq!(depositors, expected);
    assert_eq!(logs[0]["blockNumber"], "0x1");
    // The L1-info deposit is transaction 0 and emits nothing.
    assert_eq!(logs[0]["transactionIndex"], "0x1");
    assert_eq!(logs[1]["transactionIndex"], "0x2");
    assert_eq!(logs[0]["logIndex"], "0x0");
    assert_eq!(logs[1]["logIndex"], "0x1");
    assert_eq!(logs[0]["removed"], false);

    // Topic 1 alternatives: only bob's deposit.
    let logs = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "0x1", "toBlock": "0x1", "topics": [null, [padded(bob)]]}]),
        )
        .await;
    assert_eq!(logs["result"].as_array().unwrap().len(), 1, "{logs}");

    // By block hash: the transfer's one log.
    let logs = h
        .call("eth_getLogs", json!([{"blockHash": second.hash}]))
        .await;
    let logs = logs["result"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0]["topics"][0],
        json!(keccak256("Transfer(address,address,uint256)"))
    );

    // Another address matches nothing.
    let logs = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "address": [Address::repeat_byte(1)]}]),
        )
        .await;
    assert_eq!(logs["result"], json!([]));

    // Limits: three logs exceed max_logs = 2; four blocks exceed the range of 3.
    let response = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "address": WETH}]),
        )
        .await;
    assert_eq!(response["error"]["code"], -32000);
    assert_eq!(response["error"]["message"], "query exceeds max results 2");
    h.seal(&[]);
    h.seal(&[]);
    let response = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "0x3", "topics": [B256::ZERO]}]),
        )
        .await;
    assert_eq!(
        response["error"]["message"],
        "query exceeds max block range 3"
    );
    let response = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "0x3", "toBlock": "0x1"}]),
        )
        .await;
    assert_eq!(response["error"]["message"], "invalid block range params");
    let response = h
        .call("eth_getLogs", json!([{"blockHash": B256::repeat_byte(9)}]))
        .await;
    assert_eq!(response["error"]["message"], "unknown block");
    let response = h.call("eth_getLogs", json!([{"fromBlock": "zz"}])).await;
    assert_eq!(response["error"]["code"], -32602);
}

#[tokio::test]
async fn subscriptions_follow_the_head_and_reorgs() {
    let h = Harness::new(RpcConfig::default()).await;
    let client = WsClientBuilder::default().build(&h.ws).await.unwrap();
    let mut heads: Subscription<Value> = client
        .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .unwrap();
    let mut logs: Subscription<Value> = client
        .subscribe(
            "eth_subscribe",
            rpc_params![
                "logs",
                json!({"address": WETH, "topics": [deposit_topic()]})
            ],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    // Ids as geth's: `0x` and 32 hex digits, as JSON strings (clients register only those).
    let id = |s: &Subscription<Value>| match s.kind() {
        SubscriptionKind::Subscription(SubscriptionId::Str(id)) => id.to_string(),
        other => panic!("subscription id {other:?} is not a string"),
    };
    for s in [&heads, &logs] {
        let id = id(s);
        assert!(
            id.len() == 34
                && id.starts_with("0x")
                && id[2..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    assert_ne!(id(&heads), id(&logs));
    let genesis = h.executor.store().head_hash().unwrap().unwrap();
    let first = h.seal(&[weth_deposit(0, 0, 10)]);
    let head = next(&mut heads).await;
    assert_eq!(head["number"], "0x1");
    assert_eq!(head["hash"], json!(first.hash));
    let log = next(&mut logs).await;
    assert_eq!(log["blockHash"], json!(first.hash));
    assert_eq!(log["removed"], false);

    // A sibling of block 1 without the deposit, then its child: block 1's log is removed.
    let sibling = h.seal_on(Some(genesis), &[]);
    let child = h.seal(&[]);
    let mut numbers = Vec::new();
    while numbers.len() < 2 {
        numbers.push(next(&mut heads).await);
    }
    // The follower may see the sibling and its child in one step or two.
    assert_eq!(numbers.last().unwrap()["hash"], json!(child.hash));
    assert!(numbers.iter().any(|h| h["hash"] == json!(sibling.hash)));
    let removed = next(&mut logs).await;
    assert_eq!(removed["blockHash"], json!(first.hash));
    assert_eq!(removed["removed"], true);

    // Unknown kinds are refused like geth.
    let refused = client
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["nope"], "eth_unsubscribe")
        .await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("nope") && message.contains("subscription in eth namespace"),
        "{message}"
    );
}

/// Polls `eth_getFilterChanges` until it returns something (the head follower runs every 50 ms).
async fn changes(h: &Harness, id: &Value) -> Vec<Value> {
    for _ in 0..100 {
        let response = h.call("eth_getFilterChanges", json!([id])).await;
        let found = response["result"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{response}"));
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no filter changes");
}

/// A polling filter for WETH `Deposit` logs; its id.
async fn deposit_log_filter(h: &Harness) -> Value {
    h.call(
        "eth_newFilter",
        json!([{"address": WETH, "topics": [deposit_topic()]}]),
    )
    .await["result"]
        .clone()
}

#[tokio::test]
async fn polling_filters_report_blocks_logs_reorgs_and_pending_transactions() {
    let h = Harness::new(RpcConfig::default()).await;
    let block_filter = h.call("eth_newBlockFilter", json!([])).await["result"].clone();
    let log_filter = deposit_log_filter(&h).await;
    let pending_filter =
        h.call("eth_newPendingTransactionFilter", json!([])).await["result"].clone();
    for id in [&block_filter, &log_filter, &pending_filter] {
        let id = id.as_str().unwrap_or_else(|| panic!("filter id {id}"));
        assert!(id.len() == 34 && id.starts_with("0x"), "{id}");
    }
    let genesis = h.executor.store().head_hash().unwrap().unwrap();

    // A submitted transaction is announced by its hash, once.
    let raw = weth_deposit(0, 0, 10);
    let sent = h.call("eth_sendRawTransaction", json!([raw])).await["result"].clone();
    assert_eq!(changes(&h, &pending_filter).await, vec![sent.clone()]);
    let again = h
        .call("eth_getFilterChanges", json!([pending_filter]))
        .await;
    assert_eq!(again["result"], json!([]), "{again}");

    let first = h.seal(&[raw]);
    assert_eq!(changes(&h, &block_filter).await, vec![json!(first.hash)]);
    let logs = changes(&h, &log_filter).await;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["blockHash"], json!(first.hash));
    assert_eq!(logs[0]["removed"], false);
    // eth_getFilterLogs answers as eth_getLogs over the filter's range.
    let all = h.call("eth_getFilterLogs", json!([log_filter])).await;
    assert_eq!(all["result"].as_array().map(Vec::len), Some(1), "{all}");

    // A reorg takes block 1 out: its log comes back removed, the new blocks are reported.
    let sibling = h.seal_on(Some(genesis), &[]);
    let child = h.seal(&[]);
    let removed = changes(&h, &log_filter).await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["blockHash"], json!(first.hash));
    assert_eq!(removed[0]["removed"], true);
    let mut blocks = changes(&h, &block_filter).await;
    while !blocks.contains(&json!(child.hash)) {
        blocks.extend(changes(&h, &block_filter).await);
    }
    assert!(blocks.contains(&json!(sibling.hash)), "{blocks:?}");

    // Uninstalled, unknown and malformed ids: geth's answers.
    let gone = h.call("eth_uninstallFilter", json!([block_filter])).await;
    assert_eq!(gone["result"], true, "{gone}");
    let gone = h.call("eth_uninstallFilter", json!([block_filter])).await;
    assert_eq!(gone["result"], false, "{gone}");
    for method in ["eth_getFilterChanges", "eth_getFilterLogs"] {
        let unknown = h.call(method, json!([block_filter])).await;
        assert_eq!(unknown["error"]["code"], -32000, "{unknown}");
        assert_eq!(unknown["error"]["message"], "filter not found", "{unknown}");
    }
    let not_logs = h.call("eth_getFilterLogs", json!([pending_filter])).await;
    assert_eq!(
        not_logs["error"]["message"], "filter not found",
        "{not_logs}"
    );
    let malformed = h.call("eth_getFilterChanges", json!([7])).await;
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
}

#[tokio::test]
async fn new_pending_transactions_subscriptions_send_hashes_or_transactions() {
    let h = Harness::new(RpcConfig::default()).await;
    let client = WsClientBuilder::default().build(&h.ws).await.unwrap();
    let mut hashes: Subscription<Value> = client
        .subscribe(
            "eth_subscribe",
            rpc_params!["newPendingTransactions"],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let mut full: Subscription<Value> = client
        .subscribe(
            "eth_subscribe",
            rpc_params!["newPendingTransactions", true],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let sent = h
        .call("eth_sendRawTransaction", json!([weth_deposit(0, 0, 10)]))
        .await["result"]
        .clone();
    assert_eq!(next(&mut hashes).await, sent);
    let tx = next(&mut full).await;
    assert_eq!(tx["hash"], sent, "{tx}");
    assert_eq!(tx["from"], json!(signer(0).address()), "{tx}");
    assert_eq!(tx["blockHash"], Value::Null, "{tx}");
}

#[tokio::test]
async fn the_rest_of_the_standard_surface_answers_as_geth() {
    let h = Harness::new(RpcConfig::default()).await;
    let raw = weth_deposit(0, 0, 10);
    let hash = h.call("eth_sendRawTransaction", json!([raw])).await["result"].clone();
    // Pooled: its raw bytes are known before inclusion.
    let pooled = h.call("eth_getRawTransactionByHash", json!([hash])).await;
    assert_eq!(pooled["result"], json!(raw), "{pooled}");
    let block = h.seal(std::slice::from_ref(&raw));
    let result = |v: Value| v["result"].clone();
    // The L1-info deposit and the transfer.
    assert_eq!(
        result(
            h.call("eth_getBlockTransactionCountByNumber", json!(["0x1"]))
                .await
        ),
        "0x2"
    );
    assert_eq!(
        result(
            h.call("eth_getBlockTransactionCountByHash", json!([block.hash]))
                .await
        ),
        "0x2"
    );
    assert_eq!(
        result(
            h.call("eth_getBlockTransactionCountByNumber", json!(["0x9"]))
                .await
        ),
        Value::Null
    );
    let tx = result(
        h.call(
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["latest", "0x1"]),
        )
        .await,
    );
    assert_eq!(tx["hash"], hash, "{tx}");
    assert_eq!(tx["blockHash"], json!(block.hash), "{tx}");
    assert_eq!(tx["transactionIndex"], "0x1", "{tx}");
    let deposit = result(
        h.call(
            "eth_getTransactionByBlockHashAndIndex",
            json!([block.hash, "0x0"]),
        )
        .await,
    );
    assert_eq!(deposit["type"], "0x7e", "{deposit}");
    assert_eq!(
        result(
            h.call(
                "eth_getTransactionByBlockHashAndIndex",
                json!([block.hash, "0x2"])
            )
            .await
        ),
        Value::Null
    );
    assert_eq!(
        result(h.call("eth_getRawTransactionByHash", json!([hash])).await),
        json!(raw)
    );
    assert_eq!(
        result(
            h.call("eth_getRawTransactionByHash", json!([B256::repeat_byte(9)]))
                .await
        ),
        Value::Null
    );
    assert_eq!(
        result(
            h.call("eth_getUncleCountByBlockNumber", json!(["0x1"]))
                .await
        ),
        "0x0"
    );
    assert_eq!(
        result(
            h.call(
                "eth_getUncleCountByBlockHash",
                json!([B256::repeat_byte(9)])
            )
            .await
        ),
        Value::Null
    );
    assert_eq!(
        result(
            h.call("eth_getUncleByBlockNumberAndIndex", json!(["0x1", "0x0"]))
                .await
        ),
        Value::Null
    );
    assert_eq!(result(h.call("eth_syncing", json!([])).await), false);
    assert_eq!(result(h.call("eth_accounts", json!([])).await), json!([]));
    assert_eq!(result(h.call("net_listening", json!([])).await), true);
    assert_eq!(result(h.call("net_peerCount", json!([])).await), "0x0");
    assert_eq!(
        result(
            h.call("web3_sha3", json!(["0x68656c6c6f20776f726c64"]))
                .await
        ),
        "0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"
    );
    let bad = h.call("web3_sha3", json!(["hello"])).await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let modules = result(h.call("rpc_modules", json!([])).await);
    for ns in ["eth", "net", "web3", "rpc"] {
        assert_eq!(modules[ns], "1.0", "{modules}");
    }
    assert_eq!(modules["miner"], Value::Null, "{modules}");
    let bad = h
        .call("eth_getTransactionByBlockNumberAndIndex", json!(["0x1"]))
        .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

/// `PUSH1 0 PUSH1 0 REVERT`.
const REVERTER: [u8; 5] = [0x60, 0x00, 0x60, 0x00, 0xfd];

/// Stores 1 in slot 0, then calls `callee` with no data and ignores its failure (a try/catch).
fn catching_caller(callee: Address) -> Vec<u8> {
    let mut code = vec![0x60, 0x01, 0x60, 0x00, 0x55];
    // retSize, retOffset, argsSize, argsOffset, value = 0; PUSH20 callee; GAS; CALL; POP; STOP
    code.extend_from_slice(&[
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x73,
    ]);
    code.extend_from_slice(callee.as_slice());
    code.extend_from_slice(&[0x5a, 0xf1, 0x50, 0x00]);
    code
}

#[tokio::test]
async fn debug_traces_show_nested_calls_reverts_and_state_changes() {
    let h = Harness::new(RpcConfig {
        apis: ["eth", "debug"].map(String::from).to_vec(),
        ..RpcConfig::default()
    })
    .await;
    let alice = signer(0);
    let chain = h.executor.spec().chain_id;
    let create = |nonce: u64, runtime: &[u8]| {
        user_tx(
            TxType::Eip1559,
            &alice,
            chain,
            nonce,
            TxKind::Create,
            U256::ZERO,
            aegis_testing::deploy_code(runtime),
            200_000,
        )
    };
    let reverter = alice.address().create(0);
    let caller = alice.address().create(1);
    h.seal(&[create(0, &REVERTER), create(1, &catching_caller(reverter))]);
    let call = user_tx(
        TxType::Eip1559,
        &alice,
        chain,
        2,
        TxKind::Call(caller),
        U256::ZERO,
        Bytes::new(),
        100_000,
    );
    let hash = keccak256(&call);
    let block = h.seal(&[call]);
    let trace = |params: Value| {
        let h = &h;
        async move { h.call("debug_traceTransaction", params).await }
    };

    // callTracer: the outer call succeeds, the inner one reverted.
    let calls = trace(json!([hash, {"tracer": "callTracer"}])).await;
    let top = &calls["result"];
    assert_eq!(top["type"], "CALL", "{calls}");
    assert_eq!(top["to"], json!(caller), "{calls}");
    assert!(top.get("error").is_none(), "{calls}");
    let inner = &top["calls"][0];
    assert_eq!(inner["to"], json!(reverter), "{calls}");
    assert_eq!(inner["error"], "execution reverted", "{calls}");

    // prestateTracer in diff mode: exactly slot 0 of the caller changed, to 1.
    let diff =
        trace(json!([hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]))
            .await;
    let post = &diff["result"]["post"];
    assert_eq!(
        post[caller.to_string().to_lowercase()]["storage"],
        json!({B256::ZERO.to_string(): B256::with_last_byte(1).to_string()}),
        "{diff}"
    );
    assert!(
        post[reverter.to_string().to_lowercase()]
            .get("storage")
            .is_none(),
        "{diff}"
    );

    // The default struct logger, the 4byte and noop tracers.
    let logs = trace(json!([hash])).await;
    assert_eq!(logs["result"]["failed"], false, "{logs}");
    let steps = logs["result"]["structLogs"].as_array().expect("structLogs");
    assert!(steps.iter().any(|s| s["op"] == "SSTORE"), "{logs}");
    assert!(steps.iter().any(|s| s["op"] == "REVERT"), "{logs}");
    assert_eq!(
        trace(json!([hash, {"tracer": "noopTracer"}])).await["result"],
        json!({})
    );
    assert!(trace(json!([hash, {"tracer": "4byteTracer"}])).await["result"].is_object());

    // A block: its L1-info deposit and the call, each with its hash.
    let traces = h
        .call(
            "debug_traceBlockByNumber",
            json!(["latest", {"tracer": "callTracer"}]),
        )
        .await;
    let list = traces["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{traces}"));
    assert_eq!(list.len(), 2, "{traces}");
    assert_eq!(
        list[0]["result"]["to"],
        json!("0x4200000000000000000000000000000000000015"),
        "{traces}"
    );
    assert!(list[0]["result"].get("error").is_none(), "{traces}");
    assert_eq!(list[1]["txHash"], json!(hash), "{traces}");
    let by_hash = h
        .call(
            "debug_traceBlockByHash",
            json!([block.hash, {"tracer": "callTracer"}]),
        )
        .await;
    assert_eq!(by_hash["result"], traces["result"]);

    // debug_traceCall: the same call simulated on the head state, then with the reverter's code
    // overridden to STOP (so nothing reverts), and a txIndex it does not support.
    let request = json!({"from": alice.address(), "to": caller, "gas": "0x30000"});
    let simulated = h
        .call(
            "debug_traceCall",
            json!([request, "latest", {"tracer": "callTracer"}]),
        )
        .await;
    assert_eq!(
        simulated["result"]["calls"][0]["error"], "execution reverted",
        "{simulated}"
    );
    let overridden = h
        .call(
            "debug_traceCall",
            json!([request, "latest", {"tracer": "callTracer", "stateOverrides": {reverter.to_string(): {"code": "0x00"}}}]),
        )
        .await;
    let inner = &overridden["result"]["calls"][0];
    assert_eq!(inner["to"], json!(reverter), "{overridden}");
    assert!(inner.get("error").is_none(), "{overridden}");
    let refused = h
        .call(
            "debug_traceCall",
            json!([request, "latest", {"txIndex": "0x0"}]),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");

    // eth_createAccessList: the caller's slot and the account it calls, with the gas used.
    let listed = h.call("eth_createAccessList", json!([request])).await;
    let mut expected = vec![
        json!({"address": caller, "storageKeys": [B256::ZERO]}),
        json!({"address": reverter, "storageKeys": []}),
    ];
    expected.sort_by_key(|item| item["address"].as_str().unwrap().to_owned());
    assert_eq!(listed["result"]["accessList"], json!(expected), "{listed}");
    let gas_used = listed["result"]["gasUsed"].as_str().unwrap();
    assert!(
        u64::from_str_radix(&gas_used[2..], 16).unwrap() > 21_000,
        "{listed}"
    );
    assert!(listed["result"].get("error").is_none(), "{listed}");

    // Bad input: unknown tracers and JavaScript ones, unknown transactions and blocks.
    for tracer in ["bogusTracer", "{ step: function() {} }"] {
        let refused = trace(json!([hash, {"tracer": tracer}])).await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
    }
    let unknown = trace(json!([B256::repeat_byte(5)])).await;
    assert_eq!(
        unknown["error"]["message"], "transaction not found",
        "{unknown}"
    );
    let unknown = h.call("debug_traceBlockByNumber", json!(["0x99"])).await;
    assert_eq!(unknown["error"]["code"], -32000, "{unknown}");

    // Off the public port unless named.
    let public = Harness::new(RpcConfig::default()).await;
    let hidden = public.call("debug_traceTransaction", json!([hash])).await;
    assert_eq!(hidden["error"]["code"], -32601, "{hidden}");
}

#[tokio::test]
async fn a_trace_is_bounded_by_the_evm_timeout() {
    let h = Harness::new(RpcConfig {
        apis: ["eth", "debug"].map(String::from).to_vec(),
        simulation: aegis_rpc::SimulationLimits {
            timeout: Duration::from_millis(1),
            ..Default::default()
        },
        ..RpcConfig::default()
    })
    .await;
    let alice = signer(0);
    let chain = h.executor.spec().chain_id;
    // JUMPDEST PUSH0 JUMP: loops until its gas runs out.
    let looping = alice.address().create(0);
    let deploy = user_tx(
        TxType::Eip1559,
        &alice,
        chain,
        0,
        TxKind::Create,
        U256::ZERO,
        aegis_testing::deploy_code(&[0x5b, 0x5f, 0x56]),
        100_000,
    );
    let spin = user_tx(
        TxType::Eip1559,
        &alice,
        chain,
        1,
        TxKind::Call(looping),
        U256::ZERO,
        Bytes::new(),
        20_000_000,
    );
    let hash = keccak256(&spin);
    h.seal(&[deploy, spin]);
    let started = std::time::Instant::now();
    let answer = h
        .call(
            "debug_traceTransaction",
            json!([hash, {"tracer": "callTracer"}]),
        )
        .await;
    assert_eq!(answer["error"]["code"], -32000, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timeout"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn call_and_estimate_speak_geth() {
    let h = Harness::new(RpcConfig::default()).await;
    let alice = signer(0).address();
    let balance_of = IWeth::balanceOfCall { owner: alice }.abi_encode();
    let response = h
        .call(
            "eth_call",
            json!([{"to": WETH, "input": Bytes::from(balance_of)}, "latest"]),
        )
        .await;
    assert_eq!(response["result"], json!(B256::ZERO), "{response}");
    let withdraw = IWeth::withdrawCall { wad: U256::from(1) }.abi_encode();
    let response = h
        .call(
            "eth_call",
            json!([{"from": alice, "to": WETH, "data": Bytes::from(withdraw.clone())}]),
        )
        .await;
    assert_eq!(response["error"]["code"], 3, "{response}");
    assert_eq!(response["error"]["message"], "execution reverted");
    let response = h
        .call(
            "eth_estimateGas",
            json!([{"from": alice, "to": WETH, "data": Bytes::from(withdraw)}]),
        )
        .await;
    assert_eq!(response["error"]["code"], 3, "{response}");
    let deposit = IWeth::depositCall {}.abi_encode();
    let response = h
        .call(
            "eth_estimateGas",
            json!([{"from": alice, "to": WETH, "value": "0x10", "data": Bytes::from(deposit)}]),
        )
        .await;
    let gas = u64::from_str_radix(
        response["result"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert!((40_000..60_000).contains(&gas), "{gas}");
    // A state override with malformed code, and an unknown block.
    let response = h
        .call(
            "eth_call",
            json!([{"to": WETH}, "latest", {WETH.to_string(): {"balance": "zz"}}]),
        )
        .await;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let response = h.call("eth_call", json!([{"to": WETH}, "0x99"])).await;
    assert_eq!(response["error"]["message"], "header not found");
}

#[tokio::test]
async fn max_da_size_throttles_what_the_builder_takes() {
    // An operator who serves `miner` on this port (it is off by default).
    let h = Harness::new(RpcConfig {
        apis: ["eth", "miner"].map(String::from).to_vec(),
        ..Default::default()
    })
    .await;
    let response = h.call("miner_setMaxDASize", json!(["0x10", "0x0"])).await;
    assert_eq!(response["result"], true);
    // A WETH deposit is estimated at the 100-byte minimum: over a 16-byte limit.
    let tx = weth_deposit(0, 0, 1);
    assert!(DaLimits::estimated_size(&tx) > 16);
    let state = HeadState::at_head(&h.executor).unwrap();
    h.pool
        .add(aegis_executor::PoolTx::decode(tx).unwrap(), &state)
        .unwrap();
    let base_fee = 1_000_000_000;
    let mut best = h.pool.best_transactions(base_fee);
    assert_eq!(
        best.da_limits(),
        DaLimits {
            max_tx_size: 16,
            max_block_size: 0
        }
    );
    let parent = h.executor.store().head().unwrap().unwrap();
    let attrs = attributes(h.executor.spec(), &parent, vec![], false);
    let block = h
        .executor
        .build(parent.hash_slow(), &attrs, Some(&mut *best))
        .unwrap();
    assert_eq!(
        block.block.body.transactions.len(),
        1,
        "only the L1-info deposit"
    );
    // Lifting the limit lets it in.
    h.call("miner_setMaxDASize", json!(["0x0", "0x0"])).await;
    let mut best = h.pool.best_transactions(base_fee);
    let block = h
        .executor
        .build(parent.hash_slow(), &attrs, Some(&mut *best))
        .unwrap();
    assert_eq!(block.block.body.transactions.len(), 2);
    let response = h.call("miner_setMaxDASize", json!(["0x1"])).await;
    assert_eq!(response["error"]["code"], -32602);
}

#[tokio::test]
async fn cors_is_off_by_default_and_answers_allowed_origins() {
    let closed = Harness::new(RpcConfig::default()).await;
    let open = Harness::new(RpcConfig {
        cors_origins: vec!["https://wallet.example".into()],
        ..Default::default()
    })
    .await;
    let preflight = |url: String| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, url)
            .header("Origin", "https://wallet.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap()
    };
    let allowed = preflight(open.url.clone()).await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://wallet.example"
    );
    let denied = preflight(closed.url.clone()).await;
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // A plain call still works on the CORS-enabled port.
    assert_eq!(open.call("eth_chainId", json!([])).await["result"], "0x385");
}

/// A node run with `--history.blocks`: reads of pruned blocks answer geth's 4444 "pruned history
/// unavailable" (never a wrong or empty answer), state reads there -32000, and what is kept
/// answers as before.
#[tokio::test]
async fn reads_of_pruned_history_answer_as_geth() {
    let h = Harness::new(RpcConfig::default()).await;
    let old_tx = weth_deposit(0, 0, 10);
    for n in 1..=400u64 {
        let txs = if n == 50 {
            vec![old_tx.clone()]
        } else {
            vec![]
        };
        h.seal(&txs);
    }
    let store = h.executor.store();
    let report = store.prune_history(64).unwrap();
    // Head 400: history from 337, headers from 81 (and genesis).
    assert_eq!((report.below, report.headers), (337, 80));
    let code = |v: &Value| (v["error"]["code"].clone(), v["error"]["message"].clone());
    let pruned = (json!(4444), json!("pruned history unavailable"));

    let old = store.canonical_hash(100).unwrap().unwrap();
    for (method, params) in [
        ("eth_getBlockByNumber", json!(["0x10", false])),
        ("eth_getBlockByNumber", json!(["0x64", true])),
        ("eth_getBlockByNumber", json!(["0x0", false])),
        ("eth_getBlockByHash", json!([old, false])),
        ("eth_getBlockReceipts", json!(["0x64"])),
        (
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "latest"}]),
        ),
        ("eth_getBalance", json!([Address::ZERO, "0x10"])),
    ] {
        let answer = h.call(method, params.clone()).await;
        assert_eq!(code(&answer), pruned, "{method} {params}: {answer}");
    }
    // The state of a block whose header is kept: geth's -32000 for missing history state.
    let (code, message) = aegis_testing::rpc::error_of(
        &h.call("eth_getBalance", json!([Address::ZERO, "0x64"]))
            .await,
    );
    assert_eq!(code, -32000);
    assert!(message.contains("was pruned"), "{message}");
    // Transactions of pruned blocks are no longer indexed.
    let answer = h
        .call("eth_getTransactionByHash", json!([keccak256(&old_tx)]))
        .await;
    assert_eq!(answer["result"], Value::Null, "{answer}");

    // What is kept still answers: `earliest` is the oldest block with history, logs from it,
    // fee history down to it.
    let earliest = h
        .call("eth_getBlockByNumber", json!(["earliest", false]))
        .await;
    assert_eq!(earliest["result"]["number"], "0x151", "{earliest}");
    let logs = h
        .call(
            "eth_getLogs",
            json!([{"fromBlock": "earliest", "toBlock": "latest"}]),
        )
        .await;
    assert_eq!(logs["result"], json!([]), "{logs}");
    let fees = h
        .call("eth_feeHistory", json!(["0x400", "latest", []]))
        .await;
    assert_eq!(fees["result"]["oldestBlock"], "0x151", "{fees}");
    assert_eq!(
        fees["result"]["gasUsedRatio"].as_array().unwrap().len(),
        64,
        "{fees}"
    );
}

/// A log filter whose poll fails keeps what it did not deliver: the block whose history was
/// pruned meanwhile is reported once (4444), and the logs of the blocks after it come with the
/// next poll instead of being lost.
#[tokio::test]
async fn a_log_filter_keeps_what_a_failed_poll_did_not_deliver() {
    let h = Harness::new(RpcConfig::default()).await;
    let log_filter = deposit_log_filter(&h).await;
    let block_filter = h.call("eth_newBlockFilter", json!([])).await["result"].clone();
    h.seal(&[weth_deposit(0, 0, 10)]);
    for _ in 0..70 {
        h.seal(&[]);
    }
    // Block 1's history is pruned before the filter is polled.
    assert!(h.executor.store().prune_history(64).unwrap().below > 1);
    let newest = h.seal(&[weth_deposit(0, 1, 10)]);
    // Once the chain follower has announced the newest block:
    let mut announced = Vec::new();
    while !announced.contains(&json!(newest.hash)) {
        announced.extend(changes(&h, &block_filter).await);
    }
    let failed = h.call("eth_getFilterChanges", json!([log_filter])).await;
    assert_eq!(failed["error"]["code"], 4444, "{failed}");
    let logs = h.call("eth_getFilterChanges", json!([log_filter])).await;
    let logs = logs["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{logs}"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["blockHash"], json!(newest.hash));
    let again = h.call("eth_getFilterChanges", json!([log_filter])).await;
    assert_eq!(again["result"], json!([]), "{again}");
}
