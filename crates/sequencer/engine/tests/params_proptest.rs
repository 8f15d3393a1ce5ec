//! Arbitrary JSON params to every method: a JSON-RPC result or error, never a panic, and the
//! chain untouched by garbage.

use aegis_engine::{ENGINE_CAPABILITIES, EmptyPool, EngineApi};
use aegis_executor::Executor;
use aegis_storage::Store;
use aegis_testing::spec;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;

const ETH_METHODS: &[&str] = &[
    "engine_exchangeCapabilities",
    "eth_chainId",
    "eth_blockNumber",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getProof",
    "miner_setMaxDASize",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[0-9a-fx]{0,70}".prop_map(Value::String),
        Just(json!(
            "0x0000000000000000000000000000000000000000000000000000000000000000"
        )),
        Just(json!("latest")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("headBlockHash".to_owned()),
                    Just("timestamp".to_owned()),
                    Just("gasLimit".to_owned()),
                    Just("transactions".to_owned()),
                    "[a-zA-Z]{1,12}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_params_get_json_rpc_answers(
        method in prop::sample::select(ENGINE_CAPABILITIES.iter().chain(ETH_METHODS).copied().collect::<Vec<_>>()),
        params in prop::collection::vec(json_value(), 0..4),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(Store::open(dir.path().join("c.redb")).unwrap());
            let executor = Arc::new(Executor::new(spec(None, None), store.clone()).unwrap());
            let genesis = store.head_hash().unwrap();
            let module = Arc::new(EngineApi::new(executor, Arc::new(EmptyPool))).rpc_module();
            let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let (response, _) = module.raw_json_request(&request.to_string(), 1).await.unwrap();
            let response: Value = serde_json::from_str(response.get()).unwrap();
            let answered = response.get("result").is_some()
                || response["error"]["code"].as_i64().is_some();
            assert!(answered, "{method}: {response}");
            // Garbage never moves the chain (a zero head hash is unknown: SYNCING).
            assert_eq!(store.head_hash().unwrap(), genesis);
        });
    }
}
