//! The whole devnet, end to end: anvil L1, kona-node sequencing the aegis engine, the aegis
//! batcher posting to L1, and an L1-only kona-node + aegis validator.
//!
//! Needs kona-node (`scripts/bootstrap.sh --kona`, which the test command runs first).

mod support;

use serde_json::{Value, json};
use std::{path::Path, process::Command, time::Duration};
use support::{Ports, block_hash, heads, repo, rpc, wait_until};

const PORTS: Ports = Ports {
    l1: 28545,
    beacon: 25052,
    engine: 28551,
    validator_engine: 28552,
    sequencer_rpc: SEQUENCER_RPC,
    validator_rpc: VALIDATOR_RPC,
    p2p: 29222,
    validator_p2p: 29223,
    metrics: 29001,
    validator_metrics: 29002,
    l2_rpc: L2_RPC,
    validator_l2_rpc: V_L2_RPC,
};
const SEQUENCER_RPC: u16 = 29545;
const VALIDATOR_RPC: u16 = 29546;
/// The sequencer aegis' wallet JSON-RPC.
const L2_RPC: u16 = 28645;
/// The validator aegis' wallet JSON-RPC.
const V_L2_RPC: u16 = 28646;
/// anvil's first dev key, prefunded on the L2 by the devnet genesis.
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Runs a devnet script with this test's ports and data directory.
fn devnet(data: &Path, script: &str, args: &[&str]) -> std::process::Output {
    support::run_script(&PORTS, data, script, args, &[])
}

/// Stops the devnet even when an assertion fails.
struct Devnet(std::path::PathBuf);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = devnet(&self.0, "down", &[]);
    }
}

#[test]
fn devnet_sequences_batches_and_validates_from_l1() {
    let kona = repo().join(".tools/bin/kona-node");
    assert!(
        kona.exists(),
        "kona-node missing: run scripts/bootstrap.sh --kona"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let up = devnet(&data, "up", &[]);
    let _devnet = Devnet(data.clone());
    let stdout = String::from_utf8_lossy(&up.stdout);
    assert!(
        up.status.success(),
        "devnet/up failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    for line in [
        "L1 RPC: http://",
        "Rollup node RPC (sequencer): http://",
        "Logs: ",
    ] {
        assert!(
            stdout.contains(line),
            "devnet/up does not print {line:?}:\n{stdout}"
        );
    }

    // The unsafe head advances at the block time (2 s).
    wait_until("first blocks", Duration::from_secs(60), || {
        heads(SEQUENCER_RPC).0 >= 5
    });
    let (start, _) = heads(SEQUENCER_RPC);
    std::thread::sleep(Duration::from_secs(20));
    let produced = heads(SEQUENCER_RPC).0 - start;
    assert!(
        (7..=13).contains(&produced),
        "{produced} blocks in 20 s at a 2 s block time"
    );

    wallet_flows_with_cast_and_forge(&dir.path().join("counter"));
    encrypted_transaction_is_included(&data);
    load_of_2000_transactions_drains_in_nonce_order();

    // Safe heads advance on both rollup nodes through the batches on L1.
    wait_until("safe heads", Duration::from_secs(120), || {
        heads(SEQUENCER_RPC).1 >= 10 && heads(VALIDATOR_RPC).1 >= 10
    });
    let (_, safe_before) = heads(SEQUENCER_RPC);
    let safe_hash_before = block_hash(SEQUENCER_RPC, safe_before);

    batches_are_attested(&data);
    batches_are_committed_on_chain(&data);
    migration_checkpoint_is_recorded_and_verifies(&data);

    // aegis (sequencer engine) restarted mid-run: SIGTERM, then start again.
    let restart = devnet(&data, "restart", &["aegis-sequencer"]);
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );

    wait_until("60 L2 blocks", Duration::from_secs(240), || {
        heads(SEQUENCER_RPC).0 >= 60
    });
    wait_until(
        "validator safe head past the restart",
        Duration::from_secs(180),
        || heads(VALIDATOR_RPC).1 > safe_before + 10,
    );
    assert_eq!(
        block_hash(SEQUENCER_RPC, safe_before),
        safe_hash_before,
        "a safe block was reorged"
    );
    // The restarted sequencer goes on committing (its batcher first posts again what was not
    // derived yet: those overlapping batches must not stall the commitments).
    commitments_pass_block(&data, safe_before + 10);
    emergency_commitments_keep_landing_through_the_pq_path(&data);
    let metrics = support::metrics(PORTS.metrics);
    for name in [
        "aegis_head_number",
        "aegis_safe_number",
        "aegis_payload_build_seconds",
        "aegis_get_payload_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    let common = heads(SEQUENCER_RPC).1.min(heads(VALIDATOR_RPC).1);
    assert!(common > safe_before);
    for number in 1..=common {
        assert_eq!(
            block_hash(SEQUENCER_RPC, number),
            block_hash(VALIDATOR_RPC, number),
            "safe block {number} differs between sequencer and validator"
        );
    }

    down_and_up_resumes_the_same_chains(&data, common);
}

/// `devnet/down` then `devnet/up` resumes: the L1 comes back from its persisted state, safe
/// heads advance past where they were on both rollup nodes and no safe block changed. Without
/// the L1's state, `up` refuses at once and says what to do.
fn down_and_up_resumes_the_same_chains(data: &Path, safe_before: u64) {
    let hash_before = block_hash(SEQUENCER_RPC, safe_before);
    let down = devnet(data, "down", &[]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let up = devnet(data, "up", &[]);
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(
        up.status.success(),
        "devnet/up after down failed:\n{stderr}"
    );
    assert!(stderr.contains("resuming the chains"), "{stderr}");
    wait_until(
        "safe heads past the restart of the whole devnet",
        Duration::from_secs(180),
        || heads(SEQUENCER_RPC).1 > safe_before + 5 && heads(VALIDATOR_RPC).1 > safe_before + 5,
    );
    assert_eq!(block_hash(SEQUENCER_RPC, safe_before), hash_before);
    assert_eq!(block_hash(VALIDATOR_RPC, safe_before), hash_before);

    let down = devnet(data, "down", &[]);
    assert!(down.status.success());
    std::fs::remove_file(data.join("l1-state.json")).unwrap();
    let refused = devnet(data, "up", &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("the L1 state was lost") && stderr.contains("devnet/up --fresh"),
        "{stderr}"
    );
    assert!(
        !data.join("pids/anvil.pid").exists(),
        "a refused up leaves nothing running"
    );
}

/// Runs a Foundry tool from the project toolchain against the L2 and returns its stdout.
fn foundry(tool: &str, args: &[&str]) -> String {
    let output = Command::new(repo().join(".tools/bin").join(tool))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{tool} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn l2_url() -> String {
    format!("http://127.0.0.1:{L2_RPC}")
}

fn hex_u64(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// `cast send --json` from the dev key with `args`; the receipt cast prints.
fn cast_send(args: &[&str]) -> Value {
    let url = l2_url();
    let mut all = vec![
        "send",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY,
        "--json",
    ];
    all.extend_from_slice(args);
    serde_json::from_str(&foundry("cast", &all)).unwrap()
}

/// What a wallet developer does: cast send, forge create, cast call/estimate/logs.
fn wallet_flows_with_cast_and_forge(project: &Path) {
    let url = l2_url();
    // A value transfer: status 1 and the OP fee fields on the receipt.
    let receipt = cast_send(&[
        "0x00000000000000000000000000000000000f00d5",
        "--value",
        "1ether",
    ]);
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    // cast prints an Ethereum receipt; the node's own has the OP fields.
    let receipt = rpc(
        L2_RPC,
        "eth_getTransactionReceipt",
        json!([receipt["transactionHash"]]),
    );
    for field in [
        "l1Fee",
        "l1GasUsed",
        "l1GasPrice",
        "l1BaseFeeScalar",
        "l1BlobBaseFee",
        "l1BlobBaseFeeScalar",
    ] {
        assert!(
            receipt.get(field).is_some(),
            "receipt lacks {field}: {receipt}"
        );
    }
    assert!(hex_u64(&receipt["l1Fee"]) > 0, "{receipt}");
    let balance = foundry(
        "cast",
        &[
            "balance",
            "--rpc-url",
            &url,
            "0x00000000000000000000000000000000000f00d5",
        ],
    );
    assert_eq!(balance.trim(), "1000000000000000000");

    // forge create a contract with a view and an event (solc-js through the project shim).
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("foundry.toml"),
        format!(
            "[profile.default]\nsrc = \"src\"\nout = \"out\"\noffline = true\nsolc = \"{}\"\n",
            repo().join(".tools/bin/solc").display()
        ),
    )
    .unwrap();
    std::fs::write(
        project.join("src/Counter.sol"),
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n\
         contract Counter {\n    uint256 public number;\n\
         event Incremented(address indexed by, uint256 number);\n\
         function increment() external { number += 1; emit Incremented(msg.sender, number); }\n}\n",
    )
    .unwrap();
    let root = project.to_str().unwrap();
    let created: Value = serde_json::from_str(&foundry(
        "forge",
        &[
            "create",
            "--root",
            root,
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY,
            "--broadcast",
            "--json",
            "src/Counter.sol:Counter",
        ],
    ))
    .unwrap();
    let counter = created["deployedTo"].as_str().unwrap().to_owned();
    let code = foundry("cast", &["code", "--rpc-url", &url, &counter]);
    assert!(code.trim().len() > 100, "no code at {counter}");

    // cast estimate agrees with what executes; cast call sees the state change.
    let number = |block: &str| {
        foundry(
            "cast",
            &[
                "call",
                "--rpc-url",
                &url,
                "--block",
                block,
                &counter,
                "number()(uint256)",
            ],
        )
        .trim()
        .to_owned()
    };
    assert_eq!(number("latest"), "0");
    let estimate: u64 = foundry(
        "cast",
        &[
            "estimate",
            "--rpc-url",
            &url,
            "--from",
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            &counter,
            "increment()",
        ],
    )
    .trim()
    .parse()
    .unwrap();
    let receipt = cast_send(&[
        "--gas-limit",
        &estimate.to_string(),
        &counter,
        "increment()",
    ]);
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let used = hex_u64(&receipt["gasUsed"]);
    assert!(
        estimate >= used && estimate - used <= used / 50 + 2_300 * 64 / 63,
        "estimate {estimate} vs used {used}"
    );
    assert_eq!(number("latest"), "1");
    let block = hex_u64(&receipt["blockNumber"]);
    assert_eq!(
        number(&(block - 1).to_string()),
        "0",
        "state at an older block"
    );

    // cast logs finds the event by signature and address.
    let logs: Value = serde_json::from_str(&foundry(
        "cast",
        &[
            "logs",
            "--rpc-url",
            &url,
            "--json",
            "--from-block",
            "0",
            "--address",
            &counter,
            "Incremented(address indexed,uint256)",
        ],
    ))
    .unwrap();
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["transactionHash"], receipt["transactionHash"]);
}

/// 2,000 transfers from 20 senders, some submitted out of nonce order, all end up in blocks in
/// nonce order per sender; none is lost and the pool drains.
fn load_of_2000_transactions_drains_in_nonce_order() {
    use aegis_testing::{TxType, signer, transfer};
    const SENDERS: u32 = 20;
    const PER_SENDER: u64 = 100;
    let start = hex_u64(&rpc(L2_RPC, "eth_blockNumber", json!([])));
    let client = reqwest::blocking::Client::new();
    let mut hashes = Vec::new();
    for index in 0..SENDERS {
        let sender = signer(index);
        let first = hex_u64(&rpc(
            L2_RPC,
            "eth_getTransactionCount",
            json!([sender.address(), "pending"]),
        ));
        let mut nonces: Vec<u64> = (first..first + PER_SENDER).collect();
        // A quarter of the senders submit their first 40 nonces backwards.
        if index % 4 == 0 {
            nonces[..40].reverse();
        }
        let to = alloy_primitives::Address::repeat_byte(0x50 + index as u8);
        for nonce in nonces {
            let raw = transfer(TxType::Eip1559, &sender, 901, nonce, to, 1);
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]});
            let response: Value = client
                .post(l2_url())
                .json(&body)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let hash = response["result"]
                .as_str()
                .unwrap_or_else(|| panic!("sender {index} nonce {nonce}: {response}"));
            hashes.push((sender.address(), nonce, hash.to_owned()));
        }
    }
    wait_until("the pool to drain", Duration::from_secs(60), || {
        rpc(L2_RPC, "txpool_status", json!([])) == json!({"pending": "0x0", "queued": "0x0"})
    });
    // Every transaction has a successful receipt.
    for (_, _, hash) in &hashes {
        let receipt = rpc(L2_RPC, "eth_getTransactionReceipt", json!([hash]));
        assert_eq!(receipt["status"], "0x1", "{hash}: {receipt}");
    }
    // Blocks hold them in nonce order per sender.
    let head = hex_u64(&rpc(L2_RPC, "eth_blockNumber", json!([])));
    let mut last_nonce = std::collections::HashMap::new();
    let mut seen = 0;
    // Blocks after the one that was the head when submission started.
    for number in start + 1..=head {
        let block = rpc(
            L2_RPC,
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), true]),
        );
        for tx in block["transactions"].as_array().unwrap() {
            let from: alloy_primitives::Address = tx["from"].as_str().unwrap().parse().unwrap();
            if !hashes.iter().any(|(sender, _, _)| *sender == from) {
                continue;
            }
            let nonce = hex_u64(&tx["nonce"]);
            if let Some(previous) = last_nonce.insert(from, nonce) {
                assert_eq!(
                    nonce,
                    previous + 1,
                    "{from}: nonce {nonce} after {previous}"
                );
            }
            seen += 1;
        }
    }
    assert_eq!(seen, hashes.len(), "every transaction is in a block once");
}

/// The simulator's development root, from the key listing `devnet/up` wrote.
fn dev_root(data: &Path) -> String {
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("sequencer-keys.json")).unwrap())
            .unwrap();
    keys["devRootPublicKey"].as_str().unwrap().to_string()
}

fn aegis_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args(args)
        .output()
        .unwrap()
}

/// A wallet encrypts a transfer to the attested mempool key with `aegis tx encrypt --send`;
/// the transfer lands in a block. A client trusting another root refuses the key.
fn encrypted_transaction_is_included(data: &Path) {
    let url = l2_url();
    let to = "0x00000000000000000000000000000000000e0c01";
    let nonce = foundry(
        "cast",
        &[
            "nonce",
            "--rpc-url",
            &url,
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        ],
    );
    let raw = foundry(
        "cast",
        &[
            "mktx",
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY,
            "--nonce",
            nonce.trim(),
            to,
            "--value",
            "12345",
        ],
    );
    let root = dev_root(data);
    let wrong_root = format!("0x{}", "11".repeat(64));
    let refused = aegis_cli(&[
        "tx",
        "encrypt",
        "--rpc",
        &url,
        "--raw",
        raw.trim(),
        "--dev-root",
        &wrong_root,
        "--send",
    ]);
    assert!(
        !refused.status.success(),
        "a key under another root was accepted"
    );
    let sent = aegis_cli(&[
        "tx",
        "encrypt",
        "--rpc",
        &url,
        "--raw",
        raw.trim(),
        "--dev-root",
        &root,
        "--send",
    ]);
    assert!(
        sent.status.success(),
        "aegis tx encrypt failed: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let hash = String::from_utf8(sent.stdout).unwrap().trim().to_string();
    wait_until(
        "encrypted transfer receipt",
        Duration::from_secs(60),
        || {
            rpc(L2_RPC, "eth_getTransactionReceipt", json!([hash]))
                .get("status")
                .is_some_and(|s| s == "0x1")
        },
    );
    let balance = rpc(L2_RPC, "eth_getBalance", json!([to, "latest"]));
    assert_eq!(hex_u64(&balance), 12345);
}

/// Every posted batch has an attestation: its commitment covers the canonical block hashes, its
/// bundle verifies with the independent Python verifier (ECDSA, ML-DSA-87 and, once the
/// background signer is done, SLH-DSA-256s), and its quote verifies under the dev root with
/// REPORTDATA bound to the commitment.
fn batches_are_attested(data: &Path) {
    let listed = rpc(
        L2_RPC,
        "aegis_getBatchAttestations",
        json!(["0x0", "0xffffffff"]),
    );
    let listed = listed.as_array().expect("a list");
    assert!(!listed.is_empty(), "no batch attestations");
    let first = &listed[0];
    assert_eq!(first["batchId"], "0x1", "{first}");
    wait_until(
        "SLH-DSA signature of batch 1",
        Duration::from_secs(60),
        || rpc(L2_RPC, "aegis_getBatchAttestation", json!([1]))["slhDsa"] == "signed",
    );
    let a = rpc(L2_RPC, "aegis_getBatchAttestation", json!([1]));
    let (from, to) = (hex_u64(&a["firstBlock"]), hex_u64(&a["lastBlock"]));
    let hashes: Vec<String> = (from..=to).map(|n| block_hash(SEQUENCER_RPC, n)).collect();
    assert_eq!(
        a["blockHashes"],
        json!(hashes),
        "attested block hashes are not the canonical ones"
    );
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.hex");
    std::fs::write(&bundle, a["bundle"].as_str().unwrap()).unwrap();
    let python = Command::new(repo().join(".tools/bin/aegis-python"))
        .arg(repo().join("crates/security/pqc/tests/verify_bundle.py"))
        .arg(&bundle)
        .output()
        .unwrap();
    let verdict = String::from_utf8_lossy(&python.stdout);
    assert!(
        python.status.success() && verdict.contains("ok secp256k1,ML-DSA-87,SLH-DSA-SHA2-256s"),
        "independent verifier: {verdict}{}",
        String::from_utf8_lossy(&python.stderr)
    );
    let quote = dir.path().join("quote.hex");
    std::fs::write(&quote, a["quote"].as_str().unwrap()).unwrap();
    let verified = aegis_cli(&[
        "attest",
        "verify",
        quote.to_str().unwrap(),
        "--dev-root",
        &dev_root(data),
    ]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let parsed: Value = serde_json::from_slice(&verified.stdout).unwrap();
    let binding = &a["reportDataBinding"];
    assert_eq!(binding["binding"], a["commitmentHash"]);
    // A batch quote: purpose BATCH (3), the L2 chain id, no verifying contract.
    assert_eq!(
        binding["domain"],
        json!({"purpose": "batch", "chainId": 901, "verifyingContract": alloy_primitives::Address::ZERO})
    );
    // REPORTDATA v3 = sequencer ‖ keccak256(mldsaKeyHash ‖ slhdsaKeyHash ‖ encryptionKeyHash ‖
    // commitment ‖ domain) ‖ 0^12, domain = keccak256(uint256(3) ‖ uint256(901) ‖ uint256(0))
    let mut preimage = Vec::new();
    for field in [
        "mldsaKeyHash",
        "slhdsaKeyHash",
        "encryptionKeyHash",
        "binding",
    ] {
        let word: alloy_primitives::B256 = serde_json::from_value(binding[field].clone()).unwrap();
        preimage.extend_from_slice(word.as_slice());
    }
    let mut domain = [0u8; 96];
    domain[31] = 3;
    domain[62..64].copy_from_slice(&901u16.to_be_bytes());
    preimage.extend_from_slice(alloy_primitives::keccak256(domain).as_slice());
    let sequencer: alloy_primitives::Address =
        serde_json::from_value(binding["sequencer"].clone()).unwrap();
    let mut expected = sequencer.to_vec();
    expected.extend_from_slice(alloy_primitives::keccak256(&preimage).as_slice());
    expected.extend_from_slice(&[0; 12]);
    let report_data = parsed["quote"]["body"]["report_data"].as_str().unwrap();
    assert_eq!(
        report_data.trim_start_matches("0x").to_lowercase(),
        alloy_primitives::hex::encode(expected)
    );
}

/// Waits until the committed range on chain reaches past L2 block `number`.
fn commitments_pass_block(data: &Path, number: u64) {
    wait_until(
        "commitments past the restart",
        Duration::from_secs(180),
        || support::last_committed_l2_block(data, L2_RPC) > number,
    );
}

/// Forced to EMERGENCY (a threat report on the engine port), the sequencer reports it to the
/// oracle, rotates its keys, hands them over on chain and expands the new ML-DSA key; its
/// commitments keep landing, now through `commitBatchPq` under the new key, while the
/// ECDSA-authorised `commitBatch` of the same sequencer key is refused.
fn emergency_commitments_keep_landing_through_the_pq_path(data: &Path) {
    use aegis_bindings::{qrms_oracle::QRMSOracle, sequencer_attestation::SequencerAttestation};
    use alloy_primitives::{Address, B256, U256, keccak256};
    use alloy_sol_types::{SolCall, SolError, SolEvent};
    let contracts: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("contracts.json")).unwrap())
            .unwrap();
    let attestation: Address =
        serde_json::from_value(contracts["SequencerAttestation"].clone()).unwrap();
    let oracle: Address = serde_json::from_value(contracts["QRMSOracle"].clone()).unwrap();
    let sequencer: Address = serde_json::from_value(contracts["sequencer"].clone()).unwrap();
    let registered_key = || {
        let out = eth_call(
            attestation,
            SequencerAttestation::sequencerCall { account: sequencer }.abi_encode(),
        );
        SequencerAttestation::sequencerCall::abi_decode_returns(&out)
            .unwrap()
            .mldsaKeyHash
    };
    let key_before = registered_key();

    let jwt = std::fs::read_to_string(data.join("jwt-sequencer.hex")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let report = json!({"observedAt": now, "indicators": {"cryptanalysis": 9500.0}}).to_string();
    foundry(
        "cast",
        &[
            "rpc",
            "--rpc-url",
            &format!("http://127.0.0.1:{}", PORTS.engine),
            "--jwt-secret",
            jwt.trim(),
            "aegis_submitThreatReport",
            &report,
        ],
    );
    wait_until("the oracle at EMERGENCY", Duration::from_secs(120), || {
        let out = eth_call(oracle, QRMSOracle::riskStateCall {}.abi_encode());
        QRMSOracle::riskStateCall::abi_decode_returns(&out)
            .unwrap()
            .level
            == 2
    });
    let (emergency_head, _) = heads(SEQUENCER_RPC);
    wait_until("the rotated key on chain", Duration::from_secs(120), || {
        registered_key() != key_before
    });
    let key_after = registered_key();
    // The registry's logs of event `topic` (second indexed topic `key`, if given).
    let logs = |topic: B256, key: Option<B256>| {
        let logs = rpc(
            L2_RPC,
            "eth_getLogs",
            json!([{
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": attestation,
                "topics": [topic, null, key],
            }]),
        );
        logs.as_array().unwrap().clone()
    };
    // A commitment verified under the new key, past the block where EMERGENCY began.
    wait_until(
        "commitBatchPq under the rotated key",
        Duration::from_secs(180),
        || {
            !logs(
                SequencerAttestation::BatchPqVerified::SIGNATURE_HASH,
                Some(key_after),
            )
            .is_empty()
        },
    );
    commitments_pass_block(data, emergency_head);

    // The sequencer's own secp256k1 key, through the ECDSA path: refused at EMERGENCY.
    let keys = data.join("aegis-sequencer/keys");
    let store = aegis_pqc::KeyStore::open(
        &keys.join("sequencer.keystore"),
        aegis_pqc::SealingKey::from_key_file(&keys.join("seal.key"), false).unwrap(),
    )
    .unwrap();
    let out = eth_call(
        attestation,
        SequencerAttestation::lastBatchCall {}.abi_encode(),
    );
    let last = SequencerAttestation::lastBatchCall::abi_decode_returns(&out).unwrap();
    let commitment = aegis_bindings::OnChainCommitment {
        batch_id: last.lastBatchId + 1,
        l2_start_block: last.lastL2EndBlock + 1,
        l2_end_block: last.lastL2EndBlock + 1,
        commitment: keccak256("ecdsa path at emergency"),
        mldsa_sig_hash: keccak256("named, not verified"),
        slhdsa_sig_hash: B256::ZERO,
    };
    let digest = aegis_bindings::batch_commitment_digest(901, attestation, &commitment);
    let signature = store.ecdsa().sign_hash(&digest).unwrap();
    let input = SequencerAttestation::commitBatchCall {
        batchId: commitment.batch_id,
        l2StartBlock: commitment.l2_start_block,
        l2EndBlock: commitment.l2_end_block,
        commitment: commitment.commitment,
        ecdsaSignature: signature.to_vec().into(),
        mldsaSigHash: commitment.mldsa_sig_hash,
        slhdsaSigHash: commitment.slhdsa_sig_hash,
    }
    .abi_encode();
    let refused = support::rpc_error(
        L2_RPC,
        "eth_call",
        json!([{"from": sequencer, "to": attestation, "input": alloy_primitives::Bytes::from(input)}, "latest"]),
    );
    let selector = alloy_primitives::hex::encode(
        SequencerAttestation::SequencerAttestation_PqPathRequired::SELECTOR,
    );
    assert!(refused.contains(&selector), "{refused}");

    // `aegis_getBatchAttestation` tells which path anchored each batch: the one verified under
    // the new key went through commitBatchPq, the first batch (at NORMAL) through commitBatch.
    let anchored_as = |log: &Value, path: &str| {
        let id: B256 = serde_json::from_value(log["topics"][1].clone()).unwrap();
        let id = U256::from_be_bytes(id.0).to::<u64>();
        wait_until("the anchoring confirmed", Duration::from_secs(60), || {
            let a = rpc(L2_RPC, "aegis_getBatchAttestation", json!([id]));
            !a["anchoredBy"]["blockNumber"].is_null()
        });
        let a = rpc(L2_RPC, "aegis_getBatchAttestation", json!([id]));
        assert_eq!(a["anchoredBy"]["path"], path, "batch {id}: {a}");
        assert_eq!(
            a["anchoredBy"]["transactionHash"], log["transactionHash"],
            "batch {id}: {a}"
        );
        let block: U256 = serde_json::from_value(log["blockNumber"].clone()).unwrap();
        assert_eq!(
            a["anchoredBy"]["blockNumber"],
            block.to::<u64>(),
            "batch {id}: {a}"
        );
    };
    let pq = logs(
        SequencerAttestation::BatchPqVerified::SIGNATURE_HASH,
        Some(key_after),
    );
    anchored_as(&pq[0], "pq");
    let committed = logs(SequencerAttestation::BatchCommitted::SIGNATURE_HASH, None);
    anchored_as(&committed[0], "ecdsa");
    let listed = rpc(
        L2_RPC,
        "aegis_getBatchAttestations",
        json!(["0x0", "0xffffffff"]),
    );
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["anchoredBy"]["path"] == "pq"),
        "{listed}"
    );
}

/// `eth_call` on the L2 RPC; the returned bytes.
fn eth_call(to: alloy_primitives::Address, input: Vec<u8>) -> Vec<u8> {
    let out = rpc(
        L2_RPC,
        "eth_call",
        json!([{"to": to, "input": alloy_primitives::Bytes::from(input)}, "latest"]),
    );
    alloy_primitives::hex::decode(out.as_str().expect("hex output")).unwrap()
}

/// The sequencer registered itself in `SequencerAttestation` (deployed on the L2 by devnet/up)
/// with a simulator quote, and commits its batches there in transactions it sequenced: every
/// `BatchCommitted` event matches the node's attestation of that batch (commitment, block range,
/// hashes of its ML-DSA-87 and SLH-DSA signatures) and the blocks the validator derived from L1.
fn batches_are_committed_on_chain(data: &Path) {
    use aegis_bindings::sequencer_attestation::SequencerAttestation;
    use alloy_primitives::{Address, B256, keccak256};
    use alloy_sol_types::{SolCall, SolEvent};
    let contracts: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("contracts.json")).unwrap())
            .unwrap();
    let attestation: Address =
        serde_json::from_value(contracts["SequencerAttestation"].clone()).unwrap();
    let sequencer: Address = serde_json::from_value(contracts["sequencer"].clone()).unwrap();
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("sequencer-keys.json")).unwrap())
            .unwrap();

    // The same deployment stands unchanged on L1 (anvil).
    for port in [L2_RPC, 28545] {
        let input = SequencerAttestation::versionCall {}.abi_encode();
        let out = rpc(
            port,
            "eth_call",
            json!([{"to": attestation, "input": alloy_primitives::Bytes::from(input)}, "latest"]),
        );
        let out = alloy_primitives::hex::decode(out.as_str().unwrap()).unwrap();
        assert_eq!(
            SequencerAttestation::versionCall::abi_decode_returns(&out).unwrap(),
            "1.6.0",
            "SequencerAttestation on the chain at port {port}"
        );
    }

    wait_until(
        "two batch commitments on chain",
        Duration::from_secs(180),
        || {
            let out = eth_call(
                attestation,
                SequencerAttestation::lastBatchCall {}.abi_encode(),
            );
            let last = SequencerAttestation::lastBatchCall::abi_decode_returns(&out).unwrap();
            last.hasBatch && last.lastBatchId >= 2
        },
    );
    let record = SequencerAttestation::sequencerCall::abi_decode_returns(&eth_call(
        attestation,
        SequencerAttestation::sequencerCall { account: sequencer }.abi_encode(),
    ))
    .unwrap();
    assert!(record.registeredAt != 0 && !record.revoked, "{record:?}");
    let key_hash = |name: &str| -> B256 { serde_json::from_value(keys[name].clone()).unwrap() };
    assert_eq!(record.mldsaKeyHash, key_hash("mldsaKeyHash"));
    assert_eq!(record.slhdsaKeyHash, key_hash("slhdsaKeyHash"));
    assert_eq!(record.encryptionKeyHash, key_hash("encryptionKeyHash"));
    assert_eq!(record.workloadId, key_hash("workloadId"));

    let logs = rpc(
        L2_RPC,
        "eth_getLogs",
        json!([{
            "address": attestation,
            "fromBlock": "0x0",
            "toBlock": "latest",
            "topics": [SequencerAttestation::BatchCommitted::SIGNATURE_HASH],
        }]),
    );
    let logs = logs.as_array().unwrap();
    assert!(logs.len() >= 2, "{logs:?}");
    let mut last_id = 0;
    for log in logs {
        let topics: Vec<B256> = serde_json::from_value(log["topics"].clone()).unwrap();
        let body: alloy_primitives::Bytes = serde_json::from_value(log["data"].clone()).unwrap();
        let event = SequencerAttestation::BatchCommitted::decode_raw_log(topics, &body).unwrap();
        assert_eq!(event.sequencer, sequencer);
        assert!(event.batchId > last_id, "batch ids must increase");
        last_id = event.batchId;
        // Sent by the sequencer's own key, in a block it built.
        let tx = rpc(
            L2_RPC,
            "eth_getTransactionByHash",
            json!([log["transactionHash"]]),
        );
        assert_eq!(tx["from"], json!(sequencer));

        let a = rpc(L2_RPC, "aegis_getBatchAttestation", json!([event.batchId]));
        assert_eq!(json!(event.commitment), a["commitmentHash"]);
        assert_eq!(event.l2StartBlock, hex_u64(&a["firstBlock"]));
        assert_eq!(event.l2EndBlock, hex_u64(&a["lastBlock"]));
        let bundle = aegis_pqc::SignatureBundle::decode(
            &alloy_primitives::hex::decode(a["bundle"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        bundle.verify().unwrap();
        let sig_hash = |s: Option<&aegis_pqc::BundleSignature>| {
            s.map(|s| keccak256(&s.signature)).unwrap_or_default()
        };
        assert_eq!(
            event.mldsaSigHash,
            sig_hash(bundle.signature(aegis_pqc::Algorithm::MlDsa87))
        );
        assert_ne!(event.mldsaSigHash, B256::ZERO);
        assert_eq!(event.slhdsaSigHash, sig_hash(bundle.slh_dsa_signature()));

        // The committed blocks are the ones the validator derived from L1.
        wait_until(
            "validator derives the batch",
            Duration::from_secs(120),
            || heads(VALIDATOR_RPC).1 >= event.l2EndBlock,
        );
        let derived: Vec<String> = (event.l2StartBlock..=event.l2EndBlock)
            .map(|n| block_hash(VALIDATOR_RPC, n))
            .collect();
        assert_eq!(a["blockHashes"], json!(derived), "batch {}", event.batchId);
    }
}

/// The operator registers an asset (governance approval, engine port with JWT: the
/// sequencer's own contracts can never be assets) and starts a migration there; the checkpoint
/// reaches `SequencerAttestation` in a sequencer transaction and `aegis migration verify`
/// checks it against the validator's state (which it derived from L1 alone) and the contract;
/// a tampered file fails.
fn migration_checkpoint_is_recorded_and_verifies(data: &Path) {
    let contracts: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("contracts.json")).unwrap())
            .unwrap();
    let attestation: alloy_primitives::Address =
        serde_json::from_value(contracts["SequencerAttestation"].clone()).unwrap();
    let owner = aegis_testing::signer(3);
    let registration = |address| aegis_registry::AssetRegistration {
        kind: aegis_registry::AssetKind::ContractData,
        name: "application data".into(),
        owner: owner.address(),
        locator: aegis_registry::Locator::Contract { address },
        policy: Default::default(),
        vaults: vec![alloy_primitives::Address::repeat_byte(0x7a)],
        deadline: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 300,
    };
    let jwt = std::fs::read_to_string(data.join("jwt-sequencer.hex")).unwrap();
    let approve = |address| {
        let output = Command::new(repo().join(".tools/bin/cast"))
            .args([
                "rpc",
                "--rpc-url",
                "http://127.0.0.1:28551",
                "--jwt-secret",
                jwt.trim(),
                "aegis_approveAsset",
                &json!([registration(address)]).to_string(),
                "--raw",
            ])
            .output()
            .unwrap();
        (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    };
    let (ok, out) = approve(attestation);
    assert!(!ok && out.contains("protected"), "{out}");
    let (ok, out) = approve(alloy_primitives::Address::repeat_byte(0x7c));
    assert!(ok, "{out}");

    let started: Value = serde_json::from_str(&foundry(
        "cast",
        &[
            "rpc",
            "--rpc-url",
            "http://127.0.0.1:28551",
            "--jwt-secret",
            jwt.trim(),
            "aegis_startMigration",
            "[{}]",
            "--raw",
        ],
    ))
    .unwrap();
    let id = started["id"].as_u64().unwrap();
    assert_eq!(started["assets"], 1, "{started}");
    // The migration's transactions are grouped from now on.
    assert_eq!(
        rpc(L2_RPC, "aegis_getRiskStatus", json!([]))["strategy"],
        "migration-aware"
    );
    wait_until("the checkpoint on chain", Duration::from_secs(120), || {
        rpc(L2_RPC, "aegis_getMigration", json!([id]))["recordedOnChain"] == true
    });
    // The checkpoint's block and the later one that recorded it on chain: the sequencer's head
    // now covers both.
    let recorded_by = heads(SEQUENCER_RPC).0;
    wait_until(
        "validator derives the checkpoint and its recording",
        Duration::from_secs(180),
        || heads(VALIDATOR_RPC).1 >= recorded_by,
    );
    let file = data.join(format!("aegis-sequencer/checkpoints/{id}.json"));
    let validator = format!("http://127.0.0.1:{V_L2_RPC}");
    let verify = |path: &Path| {
        aegis_cli(&[
            "migration",
            "verify",
            "--checkpoint",
            path.to_str().unwrap(),
            "--rpc",
            &validator,
            "--attestation",
            &attestation.to_string(),
        ])
    };
    let out = verify(&file);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut tampered: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    tampered["assets"][0]["balance"] = json!("0x1");
    let bad = data.join("tampered-checkpoint.json");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    assert!(
        !verify(&bad).status.success(),
        "a tampered checkpoint verified"
    );
}
