//! getPayload latency with 1,000 pending pool transactions, and FCU-to-first-block time, over
//! HTTP with JWT as a rollup node sees them.
//!
//! `cargo bench -p aegis-engine --bench get_payload`

#![allow(missing_docs)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aegis_engine::{EngineApi, ListPool, TxPool};
use aegis_executor::{Executor, PoolTx};
use aegis_storage::Store;
use aegis_testing::{
    EngineClient, SEQUENCER_FEE_VAULT, TxType, l1_info_tx, signer, spec, transfer,
};
use alloy_primitives::{Address, B256};
use alloy_rpc_types_engine::JwtSecret;
use serde_json::json;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

const ROUNDS: usize = 60;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
    let spec = spec(Some(4), None);
    let executor = Arc::new(Executor::new(spec.clone(), store).unwrap());
    let pool = Arc::new(ListPool::default());
    let txs: Vec<PoolTx> = (0..10)
        .flat_map(|s| {
            let signer = signer(s);
            let chain = spec.chain_id;
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
    pool.extend(txs);
    let api = Arc::new(EngineApi::new(executor.clone(), pool as Arc<dyn TxPool>));
    let secret = JwtSecret::random();
    let (addr, _server) = api
        .serve("127.0.0.1:0".parse().unwrap(), secret)
        .await
        .unwrap();
    let engine = EngineClient::new(format!("http://{addr}"), secret);
    let genesis = executor.store().head().unwrap().unwrap();
    let head = json!({"headBlockHash": genesis.hash_slow(), "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO});
    let timestamp = genesis.timestamp + 2;
    let l1_info = l1_info_tx(&spec, &genesis, timestamp);
    let (mut fcu_times, mut first_full, mut settled) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // A new job each round (different prevRandao), all with the 1,000-transaction pool.
        let attrs = json!({
            "timestamp": format!("{timestamp:#x}"),
            "prevRandao": B256::with_last_byte(round as u8),
            "suggestedFeeRecipient": SEQUENCER_FEE_VAULT,
            "withdrawals": [],
            "parentBeaconBlockRoot": B256::repeat_byte(1),
            "transactions": [l1_info],
            "noTxPool": false,
            "gasLimit": format!("{:#x}", genesis.gas_limit),
            "eip1559Params": "0x0000000000000000",
        });
        let started = Instant::now();
        let fcu = engine
            .call("engine_forkchoiceUpdatedV3", json!([head, attrs]))
            .await;
        fcu_times.push(started.elapsed());
        let id = fcu["payloadId"].clone();
        if round % 2 == 0 {
            // Asked at once: waits for the first block with pool transactions.
            let envelope = engine.call("engine_getPayloadV3", json!([id])).await;
            first_full.push(started.elapsed());
            assert_eq!(
                envelope["executionPayload"]["transactions"]
                    .as_array()
                    .unwrap()
                    .len(),
                1001
            );
        } else {
            // Asked the way op-node does, well after the build started: answers at once.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let asked = Instant::now();
            let envelope = engine.call("engine_getPayloadV3", json!([id])).await;
            settled.push(asked.elapsed());
            assert_eq!(
                envelope["executionPayload"]["transactions"]
                    .as_array()
                    .unwrap()
                    .len(),
                1001
            );
        }
    }
    println!(
        "engine_forkchoiceUpdatedV3 with attributes: p50 {:?}, p99 {:?}",
        percentile(&mut fcu_times, 0.5),
        percentile(&mut fcu_times, 0.99)
    );
    println!(
        "FCU to first block with the 1,000 pool txs (FCU + immediate getPayload): p50 {:?}, p99 {:?}",
        percentile(&mut first_full, 0.5),
        percentile(&mut first_full, 0.99)
    );
    println!(
        "engine_getPayloadV3 (1,001-tx payload) once built: p50 {:?}, p99 {:?}",
        percentile(&mut settled, 0.5),
        percentile(&mut settled, 0.99)
    );
}
