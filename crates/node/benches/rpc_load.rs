//! Block building while the public port is hammered: `engine_getPayloadV3` latency with 1,000
//! pool transactions, idle and while 16 clients loop `eth_call` (an endless loop behind a state
//! override, stopped by the 50M gas cap) and `eth_getLogs`, engine and wallet RPC in one process
//! as in `aegis node`. The goal is getPayload p99 below 50 ms under load.
//!
//! `cargo bench -p aegis-node --bench rpc_load` (`AEGIS_BENCH_ROUNDS`, default 40 per phase).

use aegis_engine::{EngineApi, TxPool};
use aegis_executor::{Executor, PoolTx};
use aegis_mempool::{HeadState, Pool, PoolConfig};
use aegis_rpc::{EthApi, RpcConfig};
use aegis_storage::Store;
use aegis_testing::{
    EngineClient, SEQUENCER_FEE_VAULT, TxType, l1_info_tx, signer, spec, transfer,
};
use alloy_primitives::{Address, B256};
use alloy_rpc_types_engine::JwtSecret;
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const CLIENTS: usize = 16;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// What the hammering clients got: answers, -32005 refusals, other errors.
#[derive(Default)]
struct Load {
    answered: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

fn hammer(url: String, client_index: usize, stop: Arc<AtomicBool>, load: Arc<Load>) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let looping = Address::repeat_byte(0x10);
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let body = if (round + client_index as u64).is_multiple_of(2) {
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
                {"to": looping, "gas": "0xffffffffffffffff"},
                "latest",
                {looping.to_string(): {"code": "0x5b5f56"}},
                {"gasLimit": "0xffffffffffffffff"}
            ]})
        } else {
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [
                {"fromBlock": "0x0", "toBlock": "latest"}
            ]})
        };
        let outcome = client.post(&url).json(&body).send();
        if stop.load(Ordering::Relaxed) {
            // Requests cut short by the shutdown at the end are not the load's outcome.
            return;
        }
        match outcome {
            Ok(response) => {
                let response: Value = response.json().unwrap_or_default();
                let code = response["error"]["code"].as_i64();
                let counter = match code {
                    Some(-32005) => &load.refused,
                    // The loop ends in "out of gas": an answer like any other.
                    None | Some(-32000) => &load.answered,
                    Some(_) => &load.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if code == Some(-32005) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Err(_) => {
                load.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn main() {
    let rounds: usize = std::env::var("AEGIS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("chain.redb")).unwrap());
        let spec = spec(Some(4), None);
        let executor = Arc::new(Executor::new(spec.clone(), store).unwrap());
        let pool = Arc::new(Pool::new(PoolConfig::default()));
        let state = HeadState::at_head(&executor).unwrap();
        for s in 0..10 {
            let signer = signer(s);
            for n in 0..100 {
                let raw = transfer(
                    TxType::Eip1559,
                    &signer,
                    spec.chain_id,
                    n,
                    Address::repeat_byte(9),
                    1,
                );
                pool.add(PoolTx::decode(raw).unwrap(), &state).unwrap();
            }
        }
        let engine = Arc::new(EngineApi::new(
            executor.clone(),
            pool.clone() as Arc<dyn TxPool>,
        ));
        let secret = JwtSecret::random();
        let (engine_addr, _engine) = engine
            .serve("127.0.0.1:0".parse().unwrap(), secret)
            .await
            .unwrap();
        let wallet = Arc::new(EthApi::new(
            executor.clone(),
            pool.clone(),
            RpcConfig::default(),
        ));
        let (wallet_addr, _wallet) = wallet
            .clone()
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();

        let engine = EngineClient::new(format!("http://{engine_addr}"), secret);
        let genesis = executor.store().head().unwrap().unwrap();
        let head = json!({"headBlockHash": genesis.hash_slow(), "safeBlockHash": B256::ZERO, "finalizedBlockHash": B256::ZERO});
        let timestamp = genesis.timestamp + 2;
        let l1_info = l1_info_tx(&spec, &genesis, timestamp);
        let mut round_id = 0u8;
        let mut phase = |label: &'static str| {
            let engine = &engine;
            let (head, l1_info) = (head.clone(), l1_info.clone());
            let first = round_id;
            round_id = round_id.wrapping_add(rounds as u8);
            async move {
                let (mut settled, mut first_full) = (Vec::new(), Vec::new());
                for round in 0..rounds {
                    let attrs = json!({
                        "timestamp": format!("{timestamp:#x}"),
                        "prevRandao": B256::with_last_byte(first.wrapping_add(round as u8)),
                        "suggestedFeeRecipient": SEQUENCER_FEE_VAULT,
                        "withdrawals": [],
                        "parentBeaconBlockRoot": B256::repeat_byte(label.len() as u8),
                        "transactions": [l1_info],
                        "noTxPool": false,
                        "gasLimit": format!("{:#x}", genesis.gas_limit),
                        "eip1559Params": "0x0000000000000000",
                    });
                    let started = Instant::now();
                    let fcu = engine.call("engine_forkchoiceUpdatedV3", json!([head, attrs])).await;
                    let id = fcu["payloadId"].clone();
                    if round % 2 == 0 {
                        let envelope = engine.call("engine_getPayloadV3", json!([id])).await;
                        first_full.push(started.elapsed());
                        let txs = envelope["executionPayload"]["transactions"].as_array().unwrap().len();
                        assert_eq!(txs, 1001);
                    } else {
                        // As op-node asks: well after the build started.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let asked = Instant::now();
                        let envelope = engine.call("engine_getPayloadV3", json!([id])).await;
                        settled.push(asked.elapsed());
                        let txs = envelope["executionPayload"]["transactions"].as_array().unwrap().len();
                        assert_eq!(txs, 1001);
                    }
                }
                println!(
                    "{label}: engine_getPayloadV3 (1,001-tx payload) p50 {:?}, p99 {:?}; FCU to first full block p50 {:?}, p99 {:?}",
                    percentile(&mut settled, 0.5),
                    percentile(&mut settled, 0.99),
                    percentile(&mut first_full, 0.5),
                    percentile(&mut first_full, 0.99),
                );
            }
        };
        phase("idle").await;

        let stop = Arc::new(AtomicBool::new(false));
        let load = Arc::new(Load::default());
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (url, stop, load) = (format!("http://{wallet_addr}"), stop.clone(), load.clone());
                std::thread::spawn(move || hammer(url, i, stop, load))
            })
            .collect();
        // Let the load build up before measuring.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let started = Instant::now();
        phase("16 clients looping eth_call + eth_getLogs").await;
        let elapsed = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        wallet.shutdown();
        for client in clients {
            let _ = client.join();
        }
        println!(
            "wallet RPC under load: {:.1} answered/s, {:.1} refused/s (-32005), {} other failures",
            load.answered.load(Ordering::Relaxed) as f64 / elapsed,
            load.refused.load(Ordering::Relaxed) as f64 / elapsed,
            load.failed.load(Ordering::Relaxed),
        );
    });
}
