//! A flood of 100,000 transactions into `aegis node --dev` — valid ones beyond the pool's
//! capacity, unfunded senders, bad signatures, garbage, unsupported types, oversized data —
//! leaves the pool bounded, memory bounded, every answer a geth-style error or a hash, and the
//! node producing blocks and answering.

use aegis_testing::{
    Fees, TxType,
    process::{Process, free_port},
    signer, user_tx_with_fees,
};
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{Value, json};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const CAPACITY: usize = 10_000;
const GWEI: u128 = 1_000_000_000;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn post(client: &reqwest::blocking::Client, url: &str, body: &Value) -> Value {
    client.post(url).json(body).send().unwrap().json().unwrap()
}

fn rpc(client: &reqwest::blocking::Client, url: &str, method: &str, params: Value) -> Value {
    let response = post(
        client,
        url,
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
    );
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

fn hex_u64(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn signed(signer: &PrivateKeySigner, nonce: u64, tip: u128) -> Bytes {
    user_tx_with_fees(
        TxType::Eip1559,
        signer,
        Some(901),
        nonce,
        TxKind::Call(Address::repeat_byte(0x77)),
        U256::from(1),
        Bytes::new(),
        21_000,
        Fees {
            max_fee: 50 * GWEI,
            tip,
        },
    )
}

/// 100,000 raw transactions of every kind, interleaved.
fn flood() -> Vec<Bytes> {
    let mut txs = Vec::with_capacity(100_000);
    // 10 funded dev accounts × 1,200 nonces: more valid transactions than the pool holds, with
    // tips that vary so eviction has choices.
    for index in 0..10 {
        let s = signer(index);
        for nonce in 0..1_200u64 {
            let tip =
                GWEI + u128::from(keccak256((index as u64 * 10_000 + nonce).to_be_bytes())[0]);
            txs.push(signed(&s, nonce, tip));
        }
    }
    let valid = txs.len();
    // Unfunded senders.
    for i in 0..8_000u64 {
        let s = PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).unwrap();
        txs.push(signed(&s, 0, GWEI));
    }
    // Bit flips of valid transactions: bad signatures, other senders, broken RLP.
    for i in 0..30_000usize {
        let mut raw = txs[i % valid].to_vec();
        let bit = keccak256(i.to_be_bytes())[0] as usize + 8 * (i % raw.len());
        let at = (bit / 8) % raw.len();
        raw[at] ^= 1 << (bit % 8);
        txs.push(raw.into());
    }
    // Garbage, blob-typed and oversized payloads.
    for i in 0..48_900u64 {
        let len = 1 + (i % 200) as usize;
        let noise: Vec<u8> = (0..len)
            .map(|k| keccak256((i * 1_000 + k as u64).to_be_bytes())[0])
            .collect();
        txs.push(noise.into());
    }
    for _ in 0..1_000 {
        txs.push(Bytes::from(vec![0x03, 0xf8, 0x00]));
    }
    for _ in 0..100 {
        txs.push(Bytes::from(vec![0x02; 130 * 1024]));
    }
    assert_eq!(txs.len(), 100_000);
    txs
}

#[test]
fn a_flood_leaves_the_node_bounded_and_answering() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args(["node", "--dev", "--dev.period", "1"])
        .arg("--datadir")
        .arg(dir.path())
        .args(["--http.port", &port.to_string()])
        .args(["--txpool.capacity", &CAPACITY.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _node = Process(child);
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let started = Instant::now();
    while client
        .post(&url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
        .send()
        .is_err()
    {
        assert!(started.elapsed() < Duration::from_secs(30), "node not up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let rss_before = rss_kib(pid);
    let txs = flood();

    // Four clients send JSON-RPC batches of 100 at once.
    let outcomes: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(txs.len() / 4)
            .map(|share| {
                let (client, url) = (&client, &url);
                scope.spawn(move || {
                    let (mut accepted, mut refused) = (0, 0);
                    for batch in share.chunks(100) {
                        let body: Vec<Value> = batch
                            .iter()
                            .enumerate()
                            .map(|(id, raw)| json!({"jsonrpc": "2.0", "id": id, "method": "eth_sendRawTransaction", "params": [raw]}))
                            .collect();
                        let body = json!(body);
                        // A batch of oversized transactions exceeds the 5 MiB request limit and
                        // is refused whole: with -32007, or, when the server answers before the
                        // body is written, by closing the connection.
                        let oversized = body.to_string().len() > 5 * 1024 * 1024;
                        let response = match client.post(url).json(&body).send() {
                            Ok(response) => response.json::<Value>().unwrap(),
                            Err(e) if oversized => {
                                assert!(e.is_request(), "{e}");
                                refused += batch.len();
                                continue;
                            }
                            Err(e) => panic!("batch refused: {e}"),
                        };
                        if response["error"]["code"] == -32007 {
                            assert!(oversized, "{response}");
                            refused += batch.len();
                            continue;
                        }
                        for item in response.as_array().unwrap_or_else(|| panic!("{response}")) {
                            if item.get("result").is_some() {
                                accepted += 1;
                                continue;
                            }
                            let code = item["error"]["code"].as_i64().unwrap();
                            let message = item["error"]["message"].as_str().unwrap();
                            assert!(
                                (code == -32000 || code == -32602) && !message.is_empty(),
                                "unexpected error {item}"
                            );
                            refused += 1;
                        }
                    }
                    (accepted, refused)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accepted: usize = outcomes.iter().map(|o| o.0).sum();
    let refused: usize = outcomes.iter().map(|o| o.1).sum();
    assert_eq!(
        accepted + refused,
        txs.len(),
        "every transaction got an answer"
    );
    assert!(
        accepted >= CAPACITY,
        "valid transactions filled the pool: {accepted}"
    );

    // Bounded: the pool at most at capacity, memory far below what was sent.
    let status = rpc(&client, &url, "txpool_status", json!([]));
    let held = hex_u64(&status["pending"]) + hex_u64(&status["queued"]);
    assert!(held as usize <= CAPACITY, "{status}");
    let rss_after = rss_kib(pid);
    eprintln!(
        "flood: {accepted} accepted, {refused} refused; pool {held}; RSS {} MiB -> {} MiB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(
        rss_after < rss_before + 512 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );

    // Still producing blocks that include the flood's valid transactions, and answering.
    let number = hex_u64(&rpc(&client, &url, "eth_blockNumber", json!([])));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = hex_u64(&rpc(&client, &url, "eth_blockNumber", json!([])));
        let nonce = hex_u64(&rpc(
            &client,
            &url,
            "eth_getTransactionCount",
            json!([signer(0).address(), "latest"]),
        ));
        if now >= number + 2 && nonce > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress after the flood");
        std::thread::sleep(Duration::from_millis(200));
    }
}
