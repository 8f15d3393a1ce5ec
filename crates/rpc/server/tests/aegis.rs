//! The `aegis_*` methods over HTTP: attestation, batch attestations and encrypted
//! transactions (sealed to the attested key, tampered, truncated, replayed, wrong epoch).

use aegis_attest::{AttestationStore, BatchAttestor, BatchInput, Identity, IdentityConfig};
use aegis_envelope::{RecipientPublicKey, seal};
use aegis_executor::Executor;
use aegis_mempool::{Pool, PoolConfig};
use aegis_pqc::{Algorithm, SealingKey, SignatureBundle, SlhDsaVariant};
use aegis_rpc::{AegisContext, EthApi, RpcConfig};
use aegis_storage::Store;
use aegis_tee::{
    AttestationProvider, ReportDataBinding, ReportDataDomain, ReportDataPurpose, Simulator,
    verify_dev,
};
use aegis_testing::{
    TxType,
    rpc::{call, error_of},
    signer, spec, transfer,
};
use alloy_primitives::{Address, B256, Bytes};
use serde_json::{Value, json};
use std::sync::Arc;

const SEED: [u8; 32] = [4; 32];

struct Harness {
    url: String,
    identity: Arc<Identity>,
    attestor: BatchAttestor,
    pool: Arc<Pool>,
    chain_id: u64,
    _server: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
}

fn config() -> RpcConfig {
    RpcConfig {
        max_request_bytes: 10 << 20,
        max_batch: 100,
        max_log_range: 1000,
        max_logs: 1000,
        ..Default::default()
    }
}

impl Harness {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("c.redb")).unwrap());
        let executor = Arc::new(Executor::new(spec(None, None), store).unwrap());
        let chain_id = executor.spec().chain_id;
        let pool = Arc::new(Pool::new(PoolConfig::default()));
        let identity = Arc::new(
            Identity::open(IdentityConfig {
                chain_id,
                keystore: dir.path().join("keys/k.keystore"),
                sealing: SealingKey::Secret(zeroize::Zeroizing::new([9; 32])),
                create_if_missing: true,
                slh_variant: SlhDsaVariant::Sha2,
                provider: AttestationProvider::Simulator(Simulator::new(SEED).unwrap()),
            })
            .unwrap(),
        );
        let attestations = Arc::new(AttestationStore::open(&dir.path().join("a.redb")).unwrap());
        let attestor = BatchAttestor::new(identity.clone(), attestations.clone(), 8).unwrap();
        let api = EthApi::new(executor, pool.clone(), config())
            .with_aegis(AegisContext::new(identity.clone(), attestations));
        let (addr, server) = Arc::new(api)
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        Self {
            url: format!("http://{addr}"),
            identity,
            attestor,
            pool,
            chain_id,
            _server: server,
            _dir: dir,
        }
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        call(&self.url, method, params).await
    }

    /// The attested key, checked the way a wallet checks it.
    async fn key(&self) -> RecipientPublicKey {
        let nonce = B256::repeat_byte(0x5a);
        let r = self.call("aegis_getEncryptionKey", json!([nonce])).await;
        let r = &r["result"];
        let key: RecipientPublicKey = serde_json::from_value(r["publicKey"].clone()).unwrap();
        let quote: Bytes = serde_json::from_value(r["attestation"]["quote"].clone()).unwrap();
        let binding: ReportDataBinding =
            serde_json::from_value(r["attestation"]["reportDataBinding"].clone()).unwrap();
        let root = Simulator::new(SEED).unwrap().dev_root_public_key();
        let verified = verify_dev(&quote, &root).unwrap();
        assert!(binding.matches(&verified.report_data));
        assert_eq!(binding.binding, nonce);
        assert_eq!(
            binding.domain,
            ReportDataDomain::off_chain(ReportDataPurpose::MempoolKey, self.identity.chain_id()),
            "a mempool-key quote binds its purpose and the L2 chain id"
        );
        assert_eq!(binding.encryption_key_hash, key.key_hash());
        assert_eq!(binding.sequencer, self.identity.address());
        key
    }

    fn tx(&self, nonce: u64) -> Bytes {
        transfer(
            TxType::Eip1559,
            &signer(0),
            self.chain_id,
            nonce,
            Address::repeat_byte(7),
            1,
        )
    }
}

/// Nothing on the public port tells that the encrypted transaction `hash` of dev account 0
/// is pooled: not by hash, not in `txpool_content`, not through the pending nonce.
async fn assert_secret_until_included(h: &Harness, hash: B256, state_nonce: u64) {
    let by_hash = h.call("eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(by_hash["result"], Value::Null, "{by_hash}");
    let content = h.call("txpool_content", json!([])).await;
    assert!(
        !content
            .to_string()
            .to_lowercase()
            .contains(&format!("{hash:x}")),
        "{content}"
    );
    assert_eq!(content["result"]["pending"], json!({}), "{content}");
    let sender = signer(0).address();
    let pending = h
        .call("eth_getTransactionCount", json!([sender, "pending"]))
        .await;
    assert_eq!(
        pending["result"],
        json!(format!("{state_nonce:#x}")),
        "{pending}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_transactions_reach_the_pool_and_bad_envelopes_are_refused() {
    let h = Harness::new().await;
    let key = h.key().await;
    let envelope = seal(&key, &h.tx(0), &mut rand_core::OsRng).unwrap();

    // Tampered ciphertext, truncated, wrong chain, wrong epoch: refused, nothing pooled.
    let mut tampered = envelope.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let (code, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(tampered)]),
        )
        .await,
    );
    assert_eq!(code, -32000);
    assert!(message.starts_with("envelope refused"), "{message}");
    let (code, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::copy_from_slice(&envelope[..100])]),
        )
        .await,
    );
    assert_eq!(code, -32602);
    assert!(message.starts_with("invalid envelope"), "{message}");
    let mut wrong_epoch = envelope.clone();
    wrong_epoch[12] ^= 1; // key epoch is header bytes 9..13
    let (_, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(wrong_epoch)]),
        )
        .await,
    );
    assert!(message.contains("epoch"), "{message}");
    let mut wrong_chain = envelope.clone();
    wrong_chain[8] ^= 1;
    let (_, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(wrong_chain)]),
        )
        .await,
    );
    assert!(message.contains("chain"), "{message}");
    let (code, _) = error_of(
        &h.call("aegis_sendEncryptedTransaction", json!(["0xzz"]))
            .await,
    );
    assert_eq!(code, -32602);
    assert_eq!(h.pool.len(), 0);

    // Everything a watcher of the public port could see announced, from before the real one.
    let filter = h.call("eth_newPendingTransactionFilter", json!([])).await["result"].clone();
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(h.url.replacen("http", "ws", 1))
        .await
        .unwrap();
    let mut announced: jsonrpsee::core::client::Subscription<B256> =
        jsonrpsee::core::client::SubscriptionClientT::subscribe(
            &ws,
            "eth_subscribe",
            jsonrpsee::rpc_params!["newPendingTransactions"],
            "eth_unsubscribe",
        )
        .await
        .unwrap();

    // The real one goes in; a replay is refused.
    let sent = h
        .call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(envelope.clone())]),
        )
        .await;
    let hash: B256 = serde_json::from_value(sent["result"].clone()).expect("a hash");
    assert_eq!(h.pool.len(), 1);
    assert_secret_until_included(&h, hash, 0).await;
    let (_, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(envelope.clone())]),
        )
        .await,
    );
    assert_eq!(message, "envelope already submitted");

    // Envelopes that parse but do not open are not remembered: no number of them pushes the
    // accepted one out of the replay cache.
    for i in 0..200u32 {
        let mut junk = envelope.clone();
        let at = junk.len() - 1 - (i as usize % 64);
        junk[at] ^= (i % 255 + 1) as u8;
        let (code, _) = error_of(
            &h.call("aegis_sendEncryptedTransaction", json!([Bytes::from(junk)]))
                .await,
        );
        assert_eq!(code, -32000);
    }
    let (_, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(envelope)]),
        )
        .await,
    );
    assert_eq!(message, "envelope already submitted");

    // After a rotation, envelopes to the old key are refused by epoch; the new key works.
    let old_envelope = seal(&key, &h.tx(1), &mut rand_core::OsRng).unwrap();
    let rotate = aegis_rpc::admin_module(h.identity.clone());
    let rotated: Value = rotate
        .call("aegis_rotateKeys", jsonrpsee::rpc_params![])
        .await
        .unwrap();
    assert_eq!(rotated["keyEpoch"], json!(1));
    let (_, message) = error_of(
        &h.call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(old_envelope)]),
        )
        .await,
    );
    assert!(message.contains("epoch"), "{message}");
    let new_key = h.key().await;
    assert_eq!(new_key.epoch(), 1);
    assert_ne!(new_key, key);
    let fresh = seal(&new_key, &h.tx(1), &mut rand_core::OsRng).unwrap();
    let sent = h
        .call(
            "aegis_sendEncryptedTransaction",
            json!([Bytes::from(fresh)]),
        )
        .await;
    assert!(sent["result"].is_string(), "{sent}");
    assert_eq!(h.pool.len(), 2);

    // Neither encrypted transaction was announced: the first announcement, and the only change
    // of the filter, is a public one sent after them.
    let public = transfer(
        TxType::Eip1559,
        &signer(1),
        h.chain_id,
        0,
        Address::repeat_byte(7),
        1,
    );
    let public_hash = h.call("eth_sendRawTransaction", json!([public])).await["result"].clone();
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), announced.next())
        .await
        .expect("an announcement")
        .expect("subscription open")
        .unwrap();
    assert_eq!(json!(first), public_hash);
    let changes = h.call("eth_getFilterChanges", json!([filter])).await;
    assert_eq!(changes["result"], json!([public_hash]), "{changes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_attestations_are_served_and_verify() {
    let h = Harness::new().await;
    let attestation = h
        .attestor
        .attest(BatchInput {
            first_block: 5,
            last_block: 9,
            block_hashes: (5..=9).map(B256::repeat_byte).collect(),
            frames_hash: B256::repeat_byte(0xf0),
        })
        .await
        .unwrap();
    let r = h.call("aegis_getBatchAttestation", json!([1])).await;
    let r = &r["result"];
    assert_eq!(r["batchId"], json!("0x1"));
    assert_eq!(r["firstBlock"], json!("0x5"));
    assert_eq!(r["commitmentHash"], json!(attestation.commitment_hash));
    let bundle: Bytes = serde_json::from_value(r["bundle"].clone()).unwrap();
    let bundle = SignatureBundle::decode(&bundle).unwrap();
    assert!(
        bundle
            .verify()
            .unwrap()
            .starts_with(&[Algorithm::Secp256k1, Algorithm::MlDsa87])
    );
    let quote: Bytes = serde_json::from_value(r["quote"].clone()).unwrap();
    let verified =
        verify_dev(&quote, &Simulator::new(SEED).unwrap().dev_root_public_key()).unwrap();
    let binding: ReportDataBinding =
        serde_json::from_value(r["reportDataBinding"].clone()).unwrap();
    assert!(binding.matches(&verified.report_data));
    assert_eq!(binding.binding, attestation.commitment_hash);
    assert_eq!(binding.domain.purpose, ReportDataPurpose::Batch);
    assert_eq!(binding.domain.verifying_contract, Address::ZERO);

    let listed = h
        .call("aegis_getBatchAttestations", json!(["0x1", "0x6"]))
        .await;
    assert_eq!(listed["result"].as_array().unwrap().len(), 1);
    let listed = h
        .call("aegis_getBatchAttestations", json!(["0xa", "0x20"]))
        .await;
    assert_eq!(listed["result"], json!([]));
    let missing = h.call("aegis_getBatchAttestation", json!([2])).await;
    assert_eq!(missing["result"], Value::Null);
    let (code, _) = error_of(
        &h.call("aegis_getBatchAttestations", json!(["0x9", "0x1"]))
            .await,
    );
    assert_eq!(code, -32602);
    let (code, _) = error_of(&h.call("aegis_getBatchAttestation", json!(["one"])).await);
    assert_eq!(code, -32602);

    let att = h.call("aegis_getAttestation", json!([])).await;
    let att = &att["result"];
    assert_eq!(att["sequencer"], json!(h.identity.address()));
    assert_eq!(att["keyEpoch"], json!(0));
    assert_eq!(att["provider"], json!("simulator"));
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_without_keys_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("c.redb")).unwrap());
    let executor = Arc::new(Executor::new(spec(None, None), store).unwrap());
    let api = EthApi::new(
        executor,
        Arc::new(Pool::new(PoolConfig::default())),
        config(),
    );
    let (addr, _server) = Arc::new(api)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let r = call(
        &format!("http://{addr}"),
        "aegis_getEncryptionKey",
        json!([]),
    )
    .await;
    let (code, message) = error_of(&r);
    assert_eq!(code, -32000);
    assert!(message.contains("sequencer keys"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_quotes_are_rate_limited_and_nonce_less_ones_shared() {
    let h = Harness::new().await;
    // Without a nonce: one quote, served again while it is fresh.
    let first = h.call("aegis_getAttestation", json!([])).await;
    let again = h.call("aegis_getAttestation", json!([])).await;
    assert!(first["result"]["quote"].is_string(), "{first}");
    assert_eq!(first["result"]["quote"], again["result"]["quote"]);
    // A burst of fresh nonces: the first ones are quoted, then -32005 until the budget refills.
    let (mut quoted, mut limited) = (0, 0);
    for i in 0..40u8 {
        let r = h
            .call("aegis_getAttestation", json!([B256::repeat_byte(i + 1)]))
            .await;
        match r.get("error") {
            None => quoted += 1,
            Some(e) => {
                assert_eq!(e["code"], -32005, "{r}");
                limited += 1;
            }
        }
    }
    assert!(
        quoted >= 19 && limited > 0,
        "quoted {quoted}, limited {limited}"
    );
    // The shared quote still answers while fresh ones are limited.
    let shared = h.call("aegis_getAttestation", json!([])).await;
    assert_eq!(shared["result"]["quote"], first["result"]["quote"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let later = h
        .call("aegis_getAttestation", json!([B256::repeat_byte(0xee)]))
        .await;
    assert!(
        later["result"]["quote"].is_string(),
        "the budget refills: {later}"
    );
}
