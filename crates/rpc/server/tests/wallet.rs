//! A wallet's view: submit through eth_sendRawTransaction, see it pooled, built into a block by
//! the engine, and reflected in reads; bad transactions get geth's errors.

use aegis_engine::EngineApi;
use aegis_executor::{Executor, TxPool};
use aegis_mempool::{Pool, PoolConfig};
use aegis_rpc::{EthApi, RpcConfig};
use aegis_storage::Store;
use aegis_testing::{SEQUENCER_FEE_VAULT, TxType, l1_info_tx, rpc::call, signer, spec, transfer};
use alloy_primitives::{Address, B256, keccak256};
use serde_json::{Value, json};
use std::sync::Arc;

async fn engine(
    module: &jsonrpsee::RpcModule<Arc<EngineApi>>,
    method: &str,
    params: Value,
) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (response, _) = module
        .raw_json_request(&request.to_string(), 1)
        .await
        .unwrap();
    let response: Value = serde_json::from_str(response.get()).unwrap();
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

#[tokio::test]
async fn submitted_transactions_are_pooled_built_and_visible() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("c.redb")).unwrap());
    let spec = spec(None, None);
    let executor = Arc::new(Executor::new(spec.clone(), store.clone()).unwrap());
    let pool = Arc::new(Pool::new(PoolConfig::default()));
    let eth = Arc::new(EthApi::new(
        executor.clone(),
        pool.clone(),
        RpcConfig::default(),
    ));
    let (addr, _server) = eth.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{addr}");
    let engine_module = Arc::new(EngineApi::new(
        executor.clone(),
        pool.clone() as Arc<dyn TxPool>,
    ))
    .rpc_module();

    let alice = signer(0);
    let to = Address::repeat_byte(0x42);
    let chain = spec.chain_id;
    assert_eq!(
        call(&url, "eth_chainId", json!([])).await["result"],
        "0x385"
    );
    assert_eq!(call(&url, "net_version", json!([])).await["result"], "901");

    // Two transfers, the second submitted first (queued behind the gap, then promoted).
    let second = transfer(TxType::Eip1559, &alice, chain, 1, to, 7);
    let first = transfer(TxType::Legacy, &alice, chain, 0, to, 5);
    call(&url, "eth_sendRawTransaction", json!([second])).await;
    let status = call(&url, "txpool_status", json!([])).await["result"].clone();
    assert_eq!(status, json!({"pending": "0x0", "queued": "0x1"}));
    let content = call(&url, "txpool_content", json!([])).await["result"].clone();
    let sender = alice.address().to_checksum(None);
    assert_eq!(content["queued"][&sender]["1"]["nonce"], "0x1", "{content}");
    assert_eq!(content["pending"], json!({}));
    let sent = call(&url, "eth_sendRawTransaction", json!([first.clone()])).await;
    assert_eq!(sent["result"], json!(keccak256(&first)));
    let status = call(&url, "txpool_status", json!([])).await["result"].clone();
    assert_eq!(status, json!({"pending": "0x2", "queued": "0x0"}));
    let pending = call(
        &url,
        "eth_getTransactionCount",
        json!([alice.address(), "pending"]),
    )
    .await;
    assert_eq!(pending["result"], "0x2");
    let latest = call(
        &url,
        "eth_getTransactionCount",
        json!([alice.address(), "latest"]),
    )
    .await;
    assert_eq!(latest["result"], "0x0");

    // Rejections with geth's texts.
    let again = call(&url, "eth_sendRawTransaction", json!([first])).await;
    assert_eq!(again["error"]["message"], "already known");
    let wrong_chain = transfer(TxType::Eip1559, &alice, chain + 1, 2, to, 1);
    let response = call(&url, "eth_sendRawTransaction", json!([wrong_chain])).await;
    assert_eq!(response["error"]["code"], -32000);
    assert_eq!(response["error"]["message"], "invalid chain id");
    let broke = transfer(TxType::Eip1559, &signer(19), chain, 0, to, 1);
    let response = call(&url, "eth_sendRawTransaction", json!([broke])).await;
    assert_eq!(
        response["error"]["message"],
        "insufficient funds for gas * price + value"
    );
    for blob_or_unknown in ["0x03f8", "0x05c0"] {
        let response = call(&url, "eth_sendRawTransaction", json!([blob_or_unknown])).await;
        assert_eq!(response["error"]["code"], -32000);
        assert_eq!(
            response["error"]["message"],
            "transaction type not supported"
        );
    }
    let response = call(&url, "eth_sendRawTransaction", json!([[1, 2]])).await;
    assert_eq!(response["error"]["code"], -32602);
    let response = call(&url, "eth_sendRawTransaction", json!(["0x02f8"])).await;
    assert_eq!(response["error"]["code"], -32602);
    let response = call(&url, "eth_sendRawTransaction", json!(["not hex"])).await;
    assert_eq!(response["error"]["code"], -32602);

    // The sequencer path builds them into block 1; the new head drains the pool.
    let genesis = store.head().unwrap().unwrap();
    let timestamp = genesis.timestamp + 2;
    let attrs = json!({
        "timestamp": format!("{timestamp:#x}"),
        "prevRandao": B256::ZERO,
        "suggestedFeeRecipient": SEQUENCER_FEE_VAULT,
        "withdrawals": [],
        "parentBeaconBlockRoot": B256::ZERO,
        "transactions": [l1_info_tx(&spec, &genesis, timestamp)],
        "noTxPool": false,
        "gasLimit": format!("{:#x}", genesis.gas_limit),
        "eip1559Params": "0x0000000000000000",
    });
    let head = json!({"headBlockHash": genesis.hash_slow(), "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO});
    let fcu = engine(
        &engine_module,
        "engine_forkchoiceUpdatedV3",
        json!([head, attrs]),
    )
    .await;
    let envelope = engine(
        &engine_module,
        "engine_getPayloadV3",
        json!([fcu["payloadId"]]),
    )
    .await;
    let payload = envelope["executionPayload"].clone();
    assert_eq!(payload["transactions"].as_array().unwrap().len(), 3);
    let status = engine(
        &engine_module,
        "engine_newPayloadV3",
        json!([payload, [], envelope["parentBeaconBlockRoot"]]),
    )
    .await;
    assert_eq!(status["status"], "VALID");
    let new_head = json!({"headBlockHash": payload["blockHash"], "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO});
    engine(
        &engine_module,
        "engine_forkchoiceUpdatedV3",
        json!([new_head]),
    )
    .await;

    assert_eq!(
        call(&url, "txpool_status", json!([])).await["result"],
        json!({"pending": "0x0", "queued": "0x0"})
    );
    assert_eq!(
        call(&url, "eth_blockNumber", json!([])).await["result"],
        "0x1"
    );
    assert_eq!(
        call(&url, "eth_getBalance", json!([to, "latest"])).await["result"],
        "0xc"
    );
    assert_eq!(
        call(
            &url,
            "eth_getTransactionCount",
            json!([alice.address(), "latest"])
        )
        .await["result"],
        "0x2"
    );
    let block = call(&url, "eth_getBlockByNumber", json!(["latest", true])).await["result"].clone();
    assert_eq!(block["transactions"][1]["from"], json!(alice.address()));
    proofs_verify_against_the_state_root(&url, &block).await;
    let code = call(
        &url,
        "eth_getCode",
        json!(["0x4200000000000000000000000000000000000015", "latest"]),
    )
    .await;
    assert!(
        code["result"].as_str().unwrap().len() > 100,
        "L1Block proxy code"
    );
    let stale = call(
        &url,
        "eth_sendRawTransaction",
        json!([transfer(TxType::Eip1559, &alice, chain, 0, to, 9)]),
    )
    .await;
    assert_eq!(stale["error"]["message"], "nonce too low");
}

/// eth_getProof (EIP-1186): account and storage proofs verify against the block's state root,
/// absent accounts prove absence, and too many keys are refused.
async fn proofs_verify_against_the_state_root(url: &str, block: &Value) {
    use alloy_trie::{Nibbles, TrieAccount, proof::verify_proof};
    let root: B256 = serde_json::from_value(block["stateRoot"].clone()).unwrap();
    let number = block["number"].clone();
    let l1_block: Address = "0x4200000000000000000000000000000000000015"
        .parse()
        .unwrap();
    let slot = B256::ZERO;
    let proof =
        call(url, "eth_getProof", json!([l1_block, [slot], number])).await["result"].clone();
    let nodes: Vec<alloy_primitives::Bytes> =
        serde_json::from_value(proof["accountProof"].clone()).unwrap();
    let account = TrieAccount {
        nonce: u64::from_str_radix(
            proof["nonce"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap(),
        balance: serde_json::from_value(proof["balance"].clone()).unwrap(),
        storage_root: serde_json::from_value(proof["storageHash"].clone()).unwrap(),
        code_hash: serde_json::from_value(proof["codeHash"].clone()).unwrap(),
    };
    verify_proof(
        root,
        Nibbles::unpack(keccak256(l1_block)),
        Some(alloy_rlp::encode(account)),
        &nodes,
    )
    .expect("account proof verifies");
    let storage = &proof["storageProof"][0];
    let value: alloy_primitives::U256 = serde_json::from_value(storage["value"].clone()).unwrap();
    let at = call(url, "eth_getStorageAt", json!([l1_block, slot, number])).await["result"].clone();
    assert_eq!(
        serde_json::from_value::<B256>(at).unwrap(),
        B256::from(value)
    );
    let storage_nodes: Vec<alloy_primitives::Bytes> =
        serde_json::from_value(storage["proof"].clone()).unwrap();
    verify_proof(
        account.storage_root,
        Nibbles::unpack(keccak256(slot)),
        (!value.is_zero()).then(|| alloy_rlp::encode(value)),
        &storage_nodes,
    )
    .expect("storage proof verifies");

    let nobody = Address::repeat_byte(0xee);
    let absent = call(url, "eth_getProof", json!([nobody, [], number])).await["result"].clone();
    assert_eq!(absent["codeHash"], json!(alloy_primitives::KECCAK256_EMPTY));
    assert_eq!(absent["storageHash"], json!(alloy_trie::EMPTY_ROOT_HASH));
    let nodes: Vec<alloy_primitives::Bytes> =
        serde_json::from_value(absent["accountProof"].clone()).unwrap();
    verify_proof(root, Nibbles::unpack(keccak256(nobody)), None, &nodes)
        .expect("absence proof verifies");

    let too_many: Vec<B256> = (0..1025u64)
        .map(|i| B256::left_padding_from(&i.to_be_bytes()))
        .collect();
    let refused = call(url, "eth_getProof", json!([nobody, too_many, number])).await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
}
