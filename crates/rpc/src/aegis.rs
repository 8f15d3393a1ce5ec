//! `aegis_*` methods: the attested identity, batch attestations and the encrypted mempool.

use crate::{EthApi, INVALID_PARAMS, RpcResult, SERVER_ERROR, error, internal};
use aegis_attest::{AttestationStore, BatchAttestation, Identity};
use aegis_envelope::{Envelope, EnvelopeError};
use aegis_pqc::{SignatureBundle, Signer as _};
use aegis_tee::AttestationProvider;
use alloy_primitives::{B256, Bytes, U64, hex};
use serde_json::{Value, json};
use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, Mutex},
};

/// Envelope ids remembered for replay refusal (oldest forgotten first). A replay older than
/// that still cannot execute twice: its transaction's nonce is spent.
const SEEN_ENVELOPES: usize = 100_000;
/// Most attestations one `aegis_getBatchAttestations` returns.
const MAX_LISTED: usize = 100;

/// What the `aegis_*` methods serve from.
pub struct AegisContext {
    identity: Arc<Identity>,
    store: Arc<AttestationStore>,
    seen: Mutex<(HashSet<B256>, VecDeque<B256>)>,
}

impl std::fmt::Debug for AegisContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AegisContext")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl AegisContext {
    /// Methods over `identity` and the batch attestations in `store`.
    pub fn new(identity: Arc<Identity>, store: Arc<AttestationStore>) -> Self {
        Self {
            identity,
            store,
            seen: Mutex::default(),
        }
    }

    /// Records `id`; false if it was seen already.
    fn first_sight(&self, id: B256) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *seen;
        if !set.insert(id) {
            return false;
        }
        order.push_back(id);
        if order.len() > SEEN_ENVELOPES
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
        true
    }

    fn forget(&self, id: &B256) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.0.remove(id);
    }
}

fn dev_root(provider: &AttestationProvider) -> Value {
    provider
        .dev_root_public_key()
        .map_or(Value::Null, |root| json!(hex::encode_prefixed(root)))
}

/// A fresh quote over the current keys and `nonce`, with what a verifier needs beside it.
async fn attestation(identity: &Identity, nonce: B256) -> RpcResult<Value> {
    let (binding, quote) = identity
        .quote(nonce)
        .await
        .map_err(|e| error(SERVER_ERROR, e.to_string()))?;
    Ok(json!({
        "provider": identity.provider().kind(),
        "quote": Bytes::from(quote),
        "reportData": Bytes::from(binding.report_data().to_vec()),
        "reportDataBinding": binding,
        "devRootPublicKey": dev_root(identity.provider()),
    }))
}

fn envelope_error(e: EnvelopeError) -> jsonrpsee::types::ErrorObjectOwned {
    match e {
        EnvelopeError::WrongChain { .. }
        | EnvelopeError::WrongEpoch { .. }
        | EnvelopeError::DecryptionFailed => error(SERVER_ERROR, format!("envelope refused: {e}")),
        other => error(INVALID_PARAMS, format!("invalid envelope: {other}")),
    }
}

fn summary(a: &BatchAttestation) -> Value {
    let algorithms: Vec<&str> = SignatureBundle::decode(&a.bundle)
        .map(|b| b.signatures.iter().map(|s| s.algorithm.name()).collect())
        .unwrap_or_default();
    json!({
        "batchId": U64::from(a.batch_id),
        "firstBlock": U64::from(a.commitment.first_block),
        "lastBlock": U64::from(a.commitment.last_block),
        "keyEpoch": a.commitment.key_epoch,
        "commitmentHash": a.commitment_hash,
        "algorithms": algorithms,
        "slhDsa": a.slh_dsa,
    })
}

fn aegis(api: &EthApi) -> RpcResult<&AegisContext> {
    api.aegis.as_deref().ok_or_else(|| {
        error(
            SERVER_ERROR,
            "aegis_* methods need the sequencer keys: this node runs without them",
        )
    })
}

impl EthApi {
    /// Serves the `aegis_*` methods from `context`.
    pub fn with_aegis(mut self, context: AegisContext) -> Self {
        self.aegis = Some(Arc::new(context));
        self
    }

    pub(crate) fn register_aegis(module: &mut jsonrpsee::RpcModule<Arc<Self>>) {
        module
            .register_async_method("aegis_getAttestation", |params, api, _| async move {
                let ctx = aegis(&api)?;
                let nonce: Option<B256> = params.sequence().optional_next()?;
                let identity = &ctx.identity;
                let keys = identity.current_keys();
                let mut out = attestation(identity, nonce.unwrap_or_default()).await?;
                let encryption = identity.encryption_public_key();
                let fields = json!({
                    "chainId": U64::from(identity.chain_id()),
                    "sequencer": identity.address(),
                    "keyEpoch": keys.epoch,
                    "mldsaPublicKey": Bytes::copy_from_slice(keys.mldsa.public_key()),
                    "mldsaKeyHash": keys.mldsa.key_hash(),
                    "slhdsaAlgorithm": keys.slhdsa.algorithm().name(),
                    "slhdsaPublicKey": Bytes::copy_from_slice(keys.slhdsa.public_key()),
                    "slhdsaKeyHash": keys.slhdsa.key_hash(),
                    "encryptionKey": encryption,
                    "encryptionKeyHash": encryption.key_hash(),
                    "epochs": identity.public_epochs(),
                });
                if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
                    out.extend(fields);
                }
                RpcResult::Ok(out)
            })
            .expect("unique method name");
        module
            .register_async_method("aegis_getEncryptionKey", |params, api, _| async move {
                let ctx = aegis(&api)?;
                let nonce: Option<B256> = params.sequence().optional_next()?;
                let key = ctx.identity.encryption_public_key();
                RpcResult::Ok(json!({
                    "chainId": U64::from(key.chain_id()),
                    "keyEpoch": key.epoch(),
                    "publicKey": key,
                    "keyHash": key.key_hash(),
                    "attestation": attestation(&ctx.identity, nonce.unwrap_or_default()).await?,
                }))
            })
            .expect("unique method name");
        module
            .register_blocking_method("aegis_sendEncryptedTransaction", |params, api, _| {
                let ctx = aegis(&api)?;
                let bytes: Bytes = params.one()?;
                let envelope = Envelope::parse(&bytes).map_err(envelope_error)?;
                let id = envelope.id();
                if !ctx.first_sight(id) {
                    return RpcResult::Err(error(SERVER_ERROR, "envelope already submitted"));
                }
                let secret = ctx.identity.encryption_secret();
                // The plaintext lives in a zeroizing buffer and is handed to the pool only.
                let outcome = envelope
                    .open(&secret)
                    .map_err(envelope_error)
                    .and_then(|raw| api.submit_raw(Bytes::copy_from_slice(&raw), true));
                if outcome.is_err() {
                    // A refused envelope may be resent once the cause is fixed (e.g. funds).
                    ctx.forget(&id);
                }
                outcome
            })
            .expect("unique method name");
        module
            .register_blocking_method("aegis_getBatchAttestation", |params, api, _| {
                let ctx = aegis(&api)?;
                let id: U64 = params.one()?;
                let Some(a) = ctx.store.get(id.to()).map_err(internal)? else {
                    return RpcResult::Ok(Value::Null);
                };
                let mut out = serde_json::to_value(&a).map_err(internal)?;
                if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), summary(&a)) {
                    out.extend(extra);
                }
                Ok(out)
            })
            .expect("unique method name");
        module
            .register_blocking_method("aegis_getBatchAttestations", |params, api, _| {
                let ctx = aegis(&api)?;
                let mut seq = params.sequence();
                let from: U64 = seq.next()?;
                let to: U64 = seq.next()?;
                if from > to {
                    return RpcResult::Err(error(
                        INVALID_PARAMS,
                        format!("fromBlock {from} is after toBlock {to}"),
                    ));
                }
                let list = ctx
                    .store
                    .in_range(from.to(), to.to(), MAX_LISTED)
                    .map_err(internal)?;
                Ok(Value::Array(list.iter().map(summary).collect()))
            })
            .expect("unique method name");
    }
}

/// Operator methods for the authenticated engine port: `aegis_rotateKeys` starts a new key
/// epoch (fresh ML-DSA-87, SLH-DSA-256s and mempool keys) and returns it.
pub fn admin_module(identity: Arc<Identity>) -> jsonrpsee::RpcModule<Arc<Identity>> {
    let mut module = jsonrpsee::RpcModule::new(identity);
    module
        .register_blocking_method("aegis_rotateKeys", |_, identity, _| {
            let epoch = identity
                .rotate()
                .map_err(|e| error(SERVER_ERROR, e.to_string()))?;
            RpcResult::Ok(json!({
                "keyEpoch": epoch,
                "encryptionKeyHash": identity.encryption_public_key().key_hash(),
            }))
        })
        .expect("unique method name");
    module
}
