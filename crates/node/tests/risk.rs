//! The risk scenario end to end, on a dev-mode `aegis` with its contracts deployed by forge:
//! a threat feed raises the score past 6000 (rotation scheduled, oracle updated) and then past
//! 9000 (keys rotated at once, oracle at EMERGENCY, ECDSA-only commitments refused on chain,
//! asset protection on: a protected-token transfer to a non-vault address is held in quarantine
//! while one to the registered vault is included). And the on-chain oracle as a feed. And the
//! registry's guarantees against censorship, as attacks on a running node.

use aegis_bindings::{qrms_oracle::QRMSOracle, sequencer_attestation::SequencerAttestation};
use aegis_testing::{process::Process, unix_now as now};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

const PORT: u16 = 28745;
const ORACLE_FEED_PORT: u16 = 28746;
const CENSOR_PORT: u16 = 28747;
const PQ_PORT: u16 = 28748;
const CHAIN_ID: u64 = 901;
/// Dev account 9 deploys (nonces 0..=2) and funds the sequencer.
const DEPLOYER_KEY: &str = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";
fn erc20_transfer(to: Address) -> Bytes {
    aegis_testing::erc20_transfer_input(to, U256::from(1))
}

/// Init code of a minimal EIP-173 contract: the constructor stores its deployer as the owner;
/// every call (`owner()`, a token transfer) returns the owner word.
/// `CALLER PUSH0 SSTORE; CODECOPY runtime; RETURN` ‖ `PUSH0 SLOAD PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`.
const OWNABLE_INIT: &str = "0x335f556008600d5f3960085ff3\
                            5f545f5260205ff3";
/// Init code of a contract whose every call (so `isValidSignature`) returns the EIP-1271 magic
/// value `0x1626ba7e`: it approves anything signed in its name.
const APPROVER_INIT: &str = "0x600e600a5f39600e5ff3\
                             631626ba7e60e01b5f5260205ff3";

const VAULT: Address = Address::repeat_byte(0x7a);
const STRANGER: Address = Address::repeat_byte(0x51);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn tool(name: &str, args: &[&str], envs: &[(&str, String)]) -> String {
    let output = Command::new(repo().join(".tools/bin").join(name))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} {args:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn write_feed(path: &Path, cryptanalysis: f64) {
    let report = json!({"observedAt": now(), "indicators": {"cryptanalysis": cryptanalysis}});
    // Written whole, then renamed: the node never reads half a report.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, report.to_string()).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// A dev-mode aegis with sequencer keys, anchored on contracts forge deploys to it.
struct Dev {
    port: u16,
    dir: tempfile::TempDir,
    datadir: PathBuf,
    /// `aegis keys init` output.
    keys: Value,
    sequencer: Address,
    deployer: String,
    oracle: Address,
    attestation: Address,
    node: Option<Process>,
}

impl Dev {
    /// Keys made, contract addresses predicted from the deployer's nonces; nothing running.
    fn new(port: u16) -> Self {
        let forge = repo().join(".tools/bin/forge");
        assert!(forge.exists(), "forge missing: run scripts/bootstrap.sh");
        let dir = tempfile::tempdir().unwrap();
        let datadir = dir.path().join("node");
        let out = Command::new(env!("CARGO_BIN_EXE_aegis"))
            .args([
                "keys",
                "init",
                "--datadir",
                datadir.to_str().unwrap(),
                "--chain-id",
                "901",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
        let sequencer = serde_json::from_value(keys["sequencer"].clone()).unwrap();
        let deployer = tool(
            "cast",
            &["wallet", "address", "--private-key", DEPLOYER_KEY],
            &[],
        )
        .trim()
        .to_string();
        let predicted = |nonce: u64| -> Address {
            let out = tool(
                "cast",
                &["compute-address", "--nonce", &nonce.to_string(), &deployer],
                &[],
            );
            out.split_whitespace().last().unwrap().parse().unwrap()
        };
        // DeployAll: the oracle, the DevPckVerifier, the MlDsa87Verifier, then the registry.
        let (oracle, attestation) = (predicted(0), predicted(3));
        Self {
            port,
            dir,
            datadir,
            keys,
            sequencer,
            deployer,
            oracle,
            attestation,
            node: None,
        }
    }

    /// Starts `aegis node --dev` anchored on the predicted contracts, with `extra` flags.
    fn start(&mut self, extra: &[&str]) {
        let mut args = vec![
            "node".to_string(),
            "--dev".into(),
            "--dev.period".into(),
            "1".into(),
            "--datadir".into(),
            self.datadir.to_str().unwrap().into(),
            "--http.port".into(),
            self.port.to_string(),
            "--anchor.attestation".into(),
            self.attestation.to_string(),
            "--anchor.oracle".into(),
            self.oracle.to_string(),
        ];
        if !extra.contains(&"--anchor.interval") {
            args.extend(["--anchor.interval".into(), "1".into()]);
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let log = |name: &str| std::fs::File::create(self.dir.path().join(name)).unwrap();
        self.node = Some(Process(
            Command::new(env!("CARGO_BIN_EXE_aegis"))
                .args(&args)
                .env("RUST_LOG", "info")
                .stdout(log("node.log"))
                .stderr(log("node.err"))
                .spawn()
                .unwrap(),
        ));
        let url = self.url();
        wait_until("the JSON-RPC", Duration::from_secs(30), || {
            reqwest::blocking::Client::new()
                .post(&url)
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
                .send()
                .is_ok()
        });
    }

    /// Deploys the contracts with `reporters` as the oracle's reporters and funds the sequencer.
    fn deploy(&self, reporters: &str) {
        let forge_dir = self.dir.path().join("forge");
        let url = self.url();
        tool(
            "forge",
            &[
                "script",
                "script/DeployAll.s.sol",
                "--rpc-url",
                &url,
                "--private-key",
                DEPLOYER_KEY,
                "--sender",
                &self.deployer,
                "--broadcast",
                "--slow",
                "--evm-version",
                "prague",
                "--out",
                forge_dir.join("out").to_str().unwrap(),
                "--cache-path",
                forge_dir.join("cache").to_str().unwrap(),
            ],
            &[
                ("AEGIS_GOVERNANCE", self.deployer.clone()),
                ("AEGIS_ORACLE_REPORTERS", reporters.to_string()),
                (
                    "AEGIS_DEV_PCK_KEYS",
                    self.keys["pckPublicKey"].as_str().unwrap().to_string(),
                ),
                (
                    "AEGIS_WORKLOAD_IDS",
                    self.keys["workloadId"].as_str().unwrap().to_string(),
                ),
            ],
        );
        self.cast_send(&[&self.sequencer.to_string(), "--value", "10ether"]);
    }

    /// `cast send` from the deployer.
    fn cast_send(&self, args: &[&str]) {
        let url = self.url();
        let mut all = vec!["send", "--rpc-url", &url, "--private-key", DEPLOYER_KEY];
        all.extend_from_slice(args);
        tool("cast", &all, &[]);
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn post(&self, method: &str, params: Value) -> Value {
        reqwest::blocking::Client::new()
            .post(self.url())
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let response = self.post(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// A typed `eth_call` at the head that must succeed.
    fn read<C: SolCall>(&self, to: Address, call: C) -> C::Return {
        let out = self.call(to, call.abi_encode()).unwrap();
        C::abi_decode_returns(&out).unwrap()
    }

    fn call(&self, to: Address, input: Vec<u8>) -> Result<Vec<u8>, Value> {
        self.call_from(Address::ZERO, to, input)
    }

    /// `eth_call` as sent by `from`.
    fn call_from(&self, from: Address, to: Address, input: Vec<u8>) -> Result<Vec<u8>, Value> {
        let response = self.post(
            "eth_call",
            json!([{"from": from, "to": to, "input": Bytes::from(input)}, "latest"]),
        );
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => {
                Ok(alloy_primitives::hex::decode(response["result"].as_str().unwrap()).unwrap())
            }
        }
    }

    /// Sends a signed transaction from dev account `signer` (at its pending nonce).
    fn send(&self, signer: u32, to: alloy_primitives::TxKind, input: Bytes) -> B256 {
        let sender = aegis_testing::signer(signer);
        let nonce: alloy_primitives::U64 = serde_json::from_value(self.rpc(
            "eth_getTransactionCount",
            json!([sender.address(), "pending"]),
        ))
        .unwrap();
        let raw = aegis_testing::user_tx(
            aegis_testing::TxType::Eip1559,
            &sender,
            CHAIN_ID,
            nonce.to(),
            to,
            U256::ZERO,
            input,
            200_000,
        );
        serde_json::from_value(self.rpc("eth_sendRawTransaction", json!([raw]))).unwrap()
    }

    fn included(&self, tx: B256) -> bool {
        !self.rpc("eth_getTransactionReceipt", json!([tx])).is_null()
    }

    /// Deploys `init` code from dev account `signer`; returns the contract's address.
    fn deploy_code(&self, signer: u32, init: &str) -> Address {
        let code: Bytes = init.replace([' ', '\\'], "").parse().unwrap();
        let tx = self.send(signer, alloy_primitives::TxKind::Create, code);
        wait_until("the deployment", Duration::from_secs(30), || {
            self.included(tx)
        });
        let receipt = self.rpc("eth_getTransactionReceipt", json!([tx]));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        serde_json::from_value(receipt["contractAddress"].clone()).unwrap()
    }

    fn status(&self) -> Value {
        self.rpc("aegis_getRiskStatus", json!([]))
    }

    fn oracle_state(&self, oracle: Address) -> QRMSOracle::riskStateReturn {
        let out = self
            .call(oracle, QRMSOracle::riskStateCall {}.abi_encode())
            .unwrap();
        QRMSOracle::riskStateCall::abi_decode_returns(&out).unwrap()
    }
}

#[test]
fn rising_risk_schedules_then_forces_rotation_updates_the_oracle_and_protects_assets() {
    let mut dev = Dev::new(PORT);
    let feed = dev.dir.path().join("threat.json");
    write_feed(&feed, 1000.0);
    dev.start(&["--qrm.feed-file", feed.to_str().unwrap()]);
    assert_eq!(dev.status()["level"], "normal");
    // The sequencer is the oracle's reporter.
    dev.deploy(&dev.sequencer.to_string());
    let (oracle, attestation, sequencer) = (dev.oracle, dev.attestation, dev.sequencer);
    let (datadir, keys) = (dev.datadir.clone(), dev.keys.clone());

    // The sequencer registers itself and reports the feed's score (1000).
    wait_until(
        "registration and the first report",
        Duration::from_secs(60),
        || {
            let record = dev
                .call(
                    attestation,
                    SequencerAttestation::sequencerCall { account: sequencer }.abi_encode(),
                )
                .map(|out| SequencerAttestation::sequencerCall::abi_decode_returns(&out).unwrap());
            record.is_ok_and(|r| r.registeredAt != 0) && dev.oracle_state(oracle).score == 1000
        },
    );

    // An application registers its token (it is the contract's owner()) with the default
    // policy (vaults only at EMERGENCY).
    let owner = aegis_testing::signer(5);
    let token = dev.deploy_code(5, OWNABLE_INIT);
    let registration = aegis_registry::AssetRegistration {
        kind: aegis_registry::AssetKind::Token,
        name: "Protected USD".into(),
        owner: owner.address(),
        locator: aegis_registry::Locator::Contract { address: token },
        policy: Default::default(),
        vaults: vec![VAULT],
        deadline: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 300,
    };
    let signature = owner
        .sign_message_sync(aegis_registry::registration_digest(CHAIN_ID, &registration).as_slice())
        .unwrap();
    // As a wallet's personal_sign gives it: 65 bytes r ‖ s ‖ v.
    let raw_signature = Bytes::from(signature.as_bytes().to_vec());
    let id: B256 = serde_json::from_value(
        dev.rpc("aegis_registerAsset", json!([registration, raw_signature])),
    )
    .unwrap();
    assert_eq!(dev.rpc("aegis_getAssets", json!([]))[0]["id"], json!(id));

    // Past 6000: SCHEDULED, a rotation planned (not yet run), the oracle follows.
    write_feed(&feed, 6500.0);
    wait_until(
        "SCHEDULED on the node and the oracle",
        Duration::from_secs(60),
        || {
            let s = dev.status();
            let state = dev.oracle_state(oracle);
            s["level"] == "scheduled" && state.score == 6500 && state.level == 1
        },
    );
    let s = dev.status();
    assert!(s["rotation"]["scheduledAt"].as_u64().is_some(), "{s}");
    assert_eq!(s["keyEpoch"], 0);
    assert_eq!(s["ecdsaOnlyRefused"], false);

    // Past 9000: EMERGENCY, rotated at once, the oracle at EMERGENCY.
    write_feed(&feed, 9500.0);
    wait_until(
        "EMERGENCY on the node and the oracle",
        Duration::from_secs(60),
        || {
            let s = dev.status();
            let state = dev.oracle_state(oracle);
            s["level"] == "emergency" && state.level == 2 && state.score == 9500
        },
    );
    let s = dev.status();
    assert_eq!(s["keyEpoch"], 1, "{s}");
    assert_eq!(s["rotation"]["lastEpoch"], 1);
    assert_eq!(s["rotation"]["lastLevel"], "emergency");
    assert!(s["rotation"]["scheduledAt"].is_null());
    assert_eq!(s["ecdsaOnlyRefused"], true);
    assert_eq!(s["assetProtectionActive"], true);

    // On chain, the ECDSA-authorised path is refused to the registered sequencer at EMERGENCY.
    let store = aegis_pqc::KeyStore::open(
        &datadir.join("keys/sequencer.keystore"),
        aegis_pqc::SealingKey::from_key_file(&datadir.join("keys/seal.key"), false).unwrap(),
    )
    .unwrap();
    let commitment = aegis_bindings::OnChainCommitment {
        batch_id: 1_000,
        l2_start_block: 1,
        l2_end_block: 2,
        commitment: keccak256("ecdsa only"),
        mldsa_sig_hash: B256::ZERO,
        slhdsa_sig_hash: B256::ZERO,
    };
    // The rotated keys are re-attested on chain (updateKeys with a fresh quote).
    let current = store.current();
    assert_eq!(current.epoch, 1);
    let rotated = aegis_pqc::Signer::key_hash(&current.mldsa);
    assert_ne!(serde_json::to_value(rotated).unwrap(), keys["mldsaKeyHash"]);
    wait_until("the rotated keys on chain", Duration::from_secs(60), || {
        let record = dev.read(
            attestation,
            SequencerAttestation::sequencerCall { account: sequencer },
        );
        record.mldsaKeyHash == rotated && !record.revoked
    });
    let digest = aegis_bindings::batch_commitment_digest(CHAIN_ID, attestation, &commitment);
    let signature = store.ecdsa().sign_hash(&digest).unwrap();
    // As the sequencer sends it (a relayer may only send the next batch in line).
    let ecdsa_commit = || {
        dev.call_from(
            sequencer,
            attestation,
            SequencerAttestation::commitBatchCall {
                batchId: commitment.batch_id,
                l2StartBlock: 1,
                l2EndBlock: 2,
                commitment: commitment.commitment,
                ecdsaSignature: signature.to_vec().into(),
                mldsaSigHash: B256::ZERO,
                slhdsaSigHash: B256::ZERO,
            }
            .abi_encode(),
        )
    };
    let selector = alloy_primitives::hex::encode_prefixed(
        <SequencerAttestation::SequencerAttestation_PqPathRequired as alloy_sol_types::SolError>::SELECTOR,
    );
    let refused = ecdsa_commit().unwrap_err();
    assert!(refused.to_string().contains(&selector[2..]), "{refused}");

    // A protected-token transfer to a stranger is held; one to the vault is sequenced.
    let send = |signer: u32, to: Address| -> B256 {
        let sender = aegis_testing::signer(signer);
        let nonce: alloy_primitives::U64 = serde_json::from_value(dev.rpc(
            "eth_getTransactionCount",
            json!([sender.address(), "pending"]),
        ))
        .unwrap();
        let raw = aegis_testing::user_tx(
            aegis_testing::TxType::Eip1559,
            &sender,
            CHAIN_ID,
            nonce.to(),
            alloy_primitives::TxKind::Call(token),
            U256::ZERO,
            erc20_transfer(to),
            100_000,
        );
        serde_json::from_value(dev.rpc("eth_sendRawTransaction", json!([raw]))).unwrap()
    };
    let held = send(6, STRANGER);
    // The same kind of transfer, encrypted: held too, and not listed on the public port.
    let secret_raw = aegis_testing::user_tx(
        aegis_testing::TxType::Eip1559,
        &aegis_testing::signer(8),
        CHAIN_ID,
        0,
        alloy_primitives::TxKind::Call(token),
        U256::ZERO,
        erc20_transfer(STRANGER),
        100_000,
    );
    let secret = keccak256(&secret_raw);
    let root = dev.rpc("aegis_getAttestation", json!([]))["devRootPublicKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let encrypted = Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args([
            "tx",
            "encrypt",
            "--rpc",
            &dev.url(),
            "--dev-root",
            &root,
            "--send",
        ])
        .args(["--raw", &alloy_primitives::hex::encode(&secret_raw)])
        .output()
        .unwrap();
    assert!(
        encrypted.status.success(),
        "{}",
        String::from_utf8_lossy(&encrypted.stderr)
    );
    let moved = send(7, VAULT);
    wait_until(
        "the vault transfer's receipt",
        Duration::from_secs(30),
        || {
            !dev.rpc("eth_getTransactionReceipt", json!([moved]))
                .is_null()
        },
    );
    let included_at = std::time::Instant::now();
    wait_until("more blocks", Duration::from_secs(30), || {
        included_at.elapsed() > Duration::from_secs(3)
    });
    assert!(
        dev.rpc("eth_getTransactionReceipt", json!([held]))
            .is_null(),
        "quarantined tx was sequenced"
    );
    assert!(
        dev.rpc("eth_getTransactionReceipt", json!([secret]))
            .is_null(),
        "quarantined encrypted tx was sequenced"
    );
    let quarantined = dev.status()["quarantined"].clone();
    assert_eq!(quarantined.as_array().unwrap().len(), 1, "{quarantined}");
    assert_eq!(quarantined[0]["hash"], json!(held), "{quarantined}");
    assert_eq!(quarantined[0]["asset"], json!(id));
    // Held, not dropped: still in the pool.
    assert!(!dev.rpc("eth_getTransactionByHash", json!([held])).is_null());

    // Back to NORMAL (below 6000 - hysteresis): the held transfer goes through.
    write_feed(&feed, 1000.0);
    wait_until(
        "the held transfer after the all-clear",
        Duration::from_secs(60),
        || {
            !dev.rpc("eth_getTransactionReceipt", json!([held]))
                .is_null()
        },
    );
    // The encrypted one was held, not lost: it goes through now too.
    wait_until(
        "the held encrypted transfer after the all-clear",
        Duration::from_secs(60),
        || {
            !dev.rpc("eth_getTransactionReceipt", json!([secret]))
                .is_null()
        },
    );
    assert_eq!(dev.status()["level"], "normal");

    // The oracle takes the all-clear report (its only reporter's ECDSA key is all it checks) into
    // its score, but its EMERGENCY is latched: the registry keeps refusing the ECDSA path until
    // governance releases it.
    wait_until("the all-clear reported", Duration::from_secs(60), || {
        dev.oracle_state(oracle).score == 1000
    });
    assert_eq!(dev.oracle_state(oracle).level, 2);
    assert!(dev.read(oracle, QRMSOracle::emergencyLatchedCall {}));
    let refused = ecdsa_commit().unwrap_err();
    assert!(refused.to_string().contains(&selector[2..]), "{refused}");
    dev.cast_send(&[&oracle.to_string(), "releaseEmergency()"]);
    let state = dev.oracle_state(oracle);
    assert_eq!((state.score, state.level), (1000, 0));
    assert!(!dev.read(oracle, QRMSOracle::emergencyLatchedCall {}));
    // The ECDSA path is open again (the call now gets past the policy, to the relay rule or
    // the ordering check at most).
    if let Err(error) = ecdsa_commit() {
        assert!(!error.to_string().contains(&selector[2..]), "{error}");
    }
}

/// `--anchor.pq always`: at registration the sequencer writes its ML-DSA-87 key's expansion into
/// the registry's verifier (nine transactions its own blocks include), so that `commitBatchPq`
/// can verify its signatures; the registered key hash is the expanded key's.
#[test]
fn the_pq_anchor_expands_the_registered_key_in_the_verifier() {
    use aegis_bindings::ml_dsa87_verifier::MlDsa87Verifier;
    let mut dev = Dev::new(PQ_PORT);
    dev.start(&["--anchor.pq", "always"]);
    dev.deploy(&dev.sequencer.to_string());
    let (attestation, sequencer) = (dev.attestation, dev.sequencer);
    let verifier = dev.read(attestation, SequencerAttestation::mldsaVerifierCall {});
    let key_hash: B256 = serde_json::from_value(dev.keys["mldsaKeyHash"].clone()).unwrap();
    wait_until("the expanded key", Duration::from_secs(180), || {
        dev.read(
            verifier,
            MlDsa87Verifier::isExpandedCall { keyHash: key_hash },
        )
    });
    let record = dev.read(
        attestation,
        SequencerAttestation::sequencerCall { account: sequencer },
    );
    assert_eq!(record.mldsaKeyHash, key_hash);
    // Every row is written (tr too: isExpanded checks it).
    let expanded = dev.read(
        verifier,
        MlDsa87Verifier::expandedKeyCall { keyHash: key_hash },
    );
    assert!(expanded.rows.iter().all(|row| !row.is_zero()));

    // Offline for the chain, the keys rotate three times (the anchor waits an hour between
    // rounds); only the current epoch's secrets are kept.
    dev.node = None;
    dev.start(&["--keys.rotate-every", "1", "--anchor.interval", "3600"]);
    let keys_dir = dev.datadir.join("keys");
    let handover = |epoch: u32| keys_dir.join(format!("handover-{epoch}.json"));
    // Epoch 4's handover is written once epoch 3 is sealed.
    wait_until("three rotations", Duration::from_secs(60), || {
        handover(4).exists()
    });
    dev.node = None;
    // Back with the anchor, the registry (at epoch 0) is walked forward one epoch at a time:
    // each epoch's key is expanded, then hands over to the next (epoch 1's handover is signed
    // by epoch 0's key, and so on), until the current keys are registered and expanded.
    dev.start(&["--anchor.pq", "always"]);
    let attested = dev.rpc("aegis_getAttestation", json!([]));
    let current: B256 = serde_json::from_value(attested["mldsaKeyHash"].clone()).unwrap();
    let last: u32 = serde_json::from_value(attested["keyEpoch"].clone()).unwrap();
    assert!(last >= 3, "{attested}");
    wait_until(
        "the current key registered and expanded",
        Duration::from_secs(300),
        || {
            let record = dev.read(
                attestation,
                SequencerAttestation::sequencerCall { account: sequencer },
            );
            record.mldsaKeyHash == current
                && dev.read(
                    verifier,
                    MlDsa87Verifier::isExpandedCall { keyHash: current },
                )
        },
    );
    // The registry's history: one update per epoch, in order, each to the handover's keys.
    use alloy_sol_types::SolEvent;
    let logs = dev.rpc(
        "eth_getLogs",
        json!([{
            "fromBlock": "0x0",
            "toBlock": "latest",
            "address": attestation,
            "topics": [SequencerAttestation::SequencerKeysUpdated::SIGNATURE_HASH],
        }]),
    );
    let updated: Vec<B256> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|log| {
            let data = alloy_primitives::hex::decode(log["data"].as_str().unwrap()).unwrap();
            B256::from_slice(&data[..32])
        })
        .collect();
    let epoch = |n: u32| -> aegis_attest::KeyHandover {
        serde_json::from_slice(&std::fs::read(handover(n)).unwrap()).unwrap()
    };
    let expected: Vec<B256> = (1..=last).map(|n| epoch(n).mldsa_key_hash).collect();
    assert_eq!(updated, expected);
    assert_eq!(expected.last(), Some(&current));
}

/// The on-chain oracle as a threat feed: the node is not a reporter here; when the oracle's
/// reporter (the deployer) reports 7000, the node's monitor follows to SCHEDULED.
#[test]
fn the_oracle_feed_follows_the_chain() {
    let mut dev = Dev::new(ORACLE_FEED_PORT);
    let config = dev.dir.path().join("phala.toml");
    std::fs::write(
        &config,
        "[[quantum.feeds]]\nname = \"chain\"\nkind = \"oracle\"\ninterval_secs = 1\n",
    )
    .unwrap();
    dev.start(&["--config", config.to_str().unwrap()]);
    let deployer = dev.deployer.clone();
    dev.deploy(&deployer);
    let oracle = dev.oracle;
    // Deployed, the oracle says 0; the node reads that.
    wait_until("the first oracle reading", Duration::from_secs(30), || {
        let status = dev.status();
        status["feeds"][0]["fresh"] == true && status["feeds"][0]["score"] == 0
    });
    assert_eq!(dev.status()["level"], "normal");

    dev.cast_send(&[
        &oracle.to_string(),
        "submitReport(uint32,uint16)",
        "1",
        "7000",
    ]);
    assert_eq!(dev.oracle_state(oracle).score, 7000);
    wait_until(
        "the node to follow the oracle",
        Duration::from_secs(30),
        || {
            let status = dev.status();
            status["score"] == 7000 && status["level"] == "scheduled"
        },
    );
    assert_eq!(dev.status()["feeds"][0]["name"], "chain");
    // Not a reporter: the node never reports its own score back.
    let out = dev
        .call(
            oracle,
            QRMSOracle::latestReportCall {
                reporter: dev.sequencer,
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(
        QRMSOracle::latestReportCall::abi_decode_returns(&out)
            .unwrap()
            .round,
        0
    );
}

/// The registry cannot be used to censor (issue 13): a stranger cannot register someone else's
/// contract, the first registration stands, a contract can approve itself (EIP-1271), the
/// predeploys, system accounts and the sequencer's own contracts are never registered and never
/// held (even when an old sealed file has them frozen), `frozen` at EMERGENCY does nothing at
/// NORMAL and SCHEDULED, the registrant removes its asset, governance approval is not on the
/// public port.
#[test]
fn the_registry_cannot_be_used_to_censor() {
    use aegis_registry::{
        Allowance, AssetKind, AssetRegistration, AssetRemoval, Locator, ProtectionPolicy,
    };
    let mut dev = Dev::new(CENSOR_PORT);
    let frozen = ProtectionPolicy {
        normal: Allowance::Any,
        scheduled: Allowance::Frozen,
        emergency: Allowance::Frozen,
    };
    let registration =
        |owner: Address, address: Address, policy: ProtectionPolicy| AssetRegistration {
            kind: AssetKind::ContractData,
            name: "some contract".into(),
            owner,
            locator: Locator::Contract { address },
            policy,
            vaults: vec![],
            deadline: now() + 300,
        };
    // Before the node knew them as its own, its oracle and attestation contracts were
    // registered frozen (a sealed file from an older node, with the node's own key).
    {
        let store = aegis_pqc::KeyStore::open(
            &dev.datadir.join("keys/sequencer.keystore"),
            aegis_pqc::SealingKey::from_key_file(&dev.datadir.join("keys/seal.key"), false)
                .unwrap(),
        )
        .unwrap();
        let mut registry = aegis_registry::Registry::open(
            dev.datadir.join("registry.sealed"),
            aegis_registry::Registry::key_from_secret(&store.ecdsa().secret()),
            CHAIN_ID,
            Default::default(),
        )
        .unwrap();
        for address in [dev.oracle, dev.attestation] {
            registry
                .approve(
                    registration(Address::repeat_byte(0x66), address, frozen),
                    now(),
                )
                .unwrap();
        }
    }
    let feed = dev.dir.path().join("threat.json");
    write_feed(&feed, 1000.0);
    dev.start(&["--qrm.feed-file", feed.to_str().unwrap()]);
    dev.deploy(&dev.sequencer.to_string());

    let owner = aegis_testing::signer(5);
    let stranger = aegis_testing::signer(6);
    let contract = dev.deploy_code(5, OWNABLE_INIT);
    let approver = dev.deploy_code(8, APPROVER_INIT);
    let register = |signer: &alloy_signer_local::PrivateKeySigner, r: &AssetRegistration| {
        let signature = signer
            .sign_message_sync(aegis_registry::registration_digest(CHAIN_ID, r).as_slice())
            .unwrap();
        dev.post(
            "aegis_registerAsset",
            json!([r, Bytes::from(signature.as_bytes().to_vec())]),
        )
    };
    let refused = |response: Value, words: &str| {
        assert_eq!(response["error"]["code"], -32602, "{response}");
        let message = response["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    };
    let frozen_at_emergency = ProtectionPolicy {
        normal: Allowance::Any,
        scheduled: Allowance::Any,
        emergency: Allowance::Frozen,
    };

    // A stranger cannot register the owner's contract (frozen for everyone).
    refused(
        register(
            &stranger,
            &registration(stranger.address(), contract, frozen),
        ),
        "does not control",
    );
    // Its owner() can, frozen at EMERGENCY only; a policy restricting at NORMAL is refused.
    refused(
        register(
            &owner,
            &registration(
                owner.address(),
                contract,
                ProtectionPolicy {
                    normal: Allowance::Frozen,
                    ..frozen
                },
            ),
        ),
        "policy.normal",
    );
    let mine = registration(owner.address(), contract, frozen_at_emergency);
    let id: B256 = serde_json::from_value(register(&owner, &mine)["result"].clone()).unwrap();
    // The first registration stands: someone else (as another kind of asset too) is refused.
    let mut theirs = registration(stranger.address(), contract, frozen);
    theirs.kind = AssetKind::Nft;
    refused(register(&stranger, &theirs), "already registered");
    // A contract approves its own registration through EIP-1271.
    let r = registration(approver, approver, frozen_at_emergency);
    let response = dev.post("aegis_registerAsset", json!([r, "0x00"]));
    assert!(response["result"].is_string(), "{response}");
    let assets = dev.rpc("aegis_getAssets", json!([]));
    let by_id = |id: &Value| {
        assets
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == *id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(&response["result"])["approval"], "contract");
    assert_eq!(by_id(&json!(id))["approval"], "owner");
    // Predeploys, the L1-info depositor, the sequencer's own contracts and key: never.
    for address in [
        "0x4200000000000000000000000000000000000006"
            .parse()
            .unwrap(),
        "0x4200000000000000000000000000000000000015"
            .parse()
            .unwrap(),
        "0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001"
            .parse()
            .unwrap(),
        dev.attestation,
        dev.oracle,
        dev.sequencer,
    ] {
        refused(
            register(&owner, &registration(owner.address(), address, frozen)),
            "protected",
        );
    }
    // Governance approval is the operator's, on the engine port (JWT) only; not here.
    let ownerless = registration(
        owner.address(),
        Address::repeat_byte(0x7c),
        frozen_at_emergency,
    );
    let response = dev.post("aegis_approveAsset", json!([ownerless]));
    assert_eq!(response["error"]["code"], -32601, "{response}");

    // Frozen at EMERGENCY: a call to the contract goes through at NORMAL and SCHEDULED.
    let call = |signer: u32| {
        dev.send(
            signer,
            alloy_primitives::TxKind::Call(contract),
            erc20_transfer(STRANGER),
        )
    };
    let tx = call(7);
    wait_until("a call at NORMAL", Duration::from_secs(30), || {
        dev.included(tx)
    });
    write_feed(&feed, 6500.0);
    wait_until("SCHEDULED", Duration::from_secs(60), || {
        dev.status()["level"] == "scheduled"
    });
    let tx = call(7);
    wait_until("a call at SCHEDULED", Duration::from_secs(30), || {
        dev.included(tx)
    });
    // At EMERGENCY it is held; the sequencer's own reports to its oracle (frozen in the old
    // file) still land.
    write_feed(&feed, 9500.0);
    wait_until(
        "EMERGENCY on the node and the oracle",
        Duration::from_secs(60),
        || {
            let state = dev.oracle_state(dev.oracle);
            dev.status()["level"] == "emergency" && state.level == 2 && state.score == 9500
        },
    );
    let held = call(7);
    wait_until("the call held", Duration::from_secs(30), || {
        dev.status()["quarantined"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["hash"] == json!(held))
    });
    let quarantined = dev.status()["quarantined"].clone();
    for q in quarantined.as_array().unwrap() {
        assert_eq!(q["asset"], json!(id), "{quarantined}");
        assert_ne!(q["sender"], json!(dev.sequencer), "{quarantined}");
    }
    assert!(!dev.included(held));

    // Only the registrant removes it; then the held call goes through.
    let removal = AssetRemoval {
        id,
        owner: owner.address(),
        deadline: now() + 300,
    };
    let sign_removal = |signer: &alloy_signer_local::PrivateKeySigner, r: &AssetRemoval| {
        let signature = signer
            .sign_message_sync(aegis_registry::removal_digest(CHAIN_ID, r).as_slice())
            .unwrap();
        Bytes::from(signature.as_bytes().to_vec())
    };
    let forged = AssetRemoval {
        owner: stranger.address(),
        ..removal.clone()
    };
    refused(
        dev.post(
            "aegis_removeAsset",
            json!([forged, sign_removal(&stranger, &forged)]),
        ),
        "only they can remove it",
    );
    refused(
        dev.post(
            "aegis_removeAsset",
            json!([removal, sign_removal(&stranger, &removal)]),
        ),
        "signature is not the owner's",
    );
    let removed = dev.rpc(
        "aegis_removeAsset",
        json!([removal, sign_removal(&owner, &removal)]),
    );
    assert_eq!(removed, json!(id));
    wait_until(
        "the held call after the removal",
        Duration::from_secs(30),
        || dev.included(held),
    );
    // Malformed input: a clear error, no panic.
    let response = dev.post("aegis_registerAsset", json!([{"kind": "token"}, "0x"]));
    assert_eq!(response["error"]["code"], -32602, "{response}");
}
