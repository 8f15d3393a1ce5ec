//! `aegis_*` methods: the attested identity, batch attestations and the encrypted mempool.

use crate::{EthApi, INVALID_PARAMS, RpcResult, SERVER_ERROR, error, internal};
use aegis_attest::{Anchoring, AttestationStore, BatchAttestation, Identity};
use aegis_envelope::{Envelope, EnvelopeError};
use aegis_pqc::{SignatureBundle, Signer as _};
use aegis_tee::{AttestationProvider, ReportDataPurpose};
use alloy_primitives::{B256, Bytes, U64, hex};
use serde_json::{Value, json};
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex},
};

/// Envelope ids remembered for replay refusal (oldest forgotten first). Only envelopes whose
/// transaction the pool accepted are remembered, so flushing the cache takes that many accepted
/// (fee-paying) transactions, and a replay older than that still cannot execute twice: its
/// transaction's nonce is spent.
const SEEN_ENVELOPES: usize = 100_000;
/// Fresh quotes `aegis_getAttestation`/`aegis_getEncryptionKey` may make in a burst, and per
/// second after it (a real TDX quote takes the guest agent tens of milliseconds).
const QUOTE_BURST: f64 = 20.0;
const QUOTES_PER_SECOND: f64 = 10.0;
/// How long the quote over the zero nonce (a caller that brings no nonce) is reused.
const SHARED_QUOTE_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Most attestations one `aegis_getBatchAttestations` returns.
const MAX_LISTED: usize = 100;

/// What the `aegis_*` methods serve from.
pub struct AegisContext {
    pub(crate) identity: Arc<Identity>,
    store: Arc<AttestationStore>,
    seen: Mutex<(HashSet<B256>, VecDeque<B256>)>,
    quotes: Mutex<QuoteBudget>,
    /// The last nonce-less attestation per purpose: (when, key epoch, answer).
    shared: tokio::sync::Mutex<HashMap<ReportDataPurpose, (std::time::Instant, u32, Value)>>,
}

/// A token bucket for fresh quotes.
#[derive(Debug)]
struct QuoteBudget {
    tokens: f64,
    at: std::time::Instant,
}

impl QuoteBudget {
    fn take(&mut self, now: std::time::Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * QUOTES_PER_SECOND).min(QUOTE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
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
            quotes: Mutex::new(QuoteBudget {
                tokens: QUOTE_BURST,
                at: std::time::Instant::now(),
            }),
            shared: tokio::sync::Mutex::default(),
        }
    }

    /// Whether the envelope `id` was accepted before.
    fn seen(&self, id: &B256) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.0.contains(id)
    }

    /// Remembers the accepted envelope `id`, forgetting the oldest beyond the bound.
    fn remember(&self, id: B256) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *seen;
        if !set.insert(id) {
            return;
        }
        order.push_back(id);
        if order.len() > SEEN_ENVELOPES
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
    }

    /// A fresh quote over `nonce` for `purpose` within the quote budget; -32005 beyond it.
    async fn fresh_attestation(&self, purpose: ReportDataPurpose, nonce: B256) -> RpcResult<Value> {
        let allowed = self
            .quotes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(std::time::Instant::now());
        if !allowed {
            return Err(error(
                crate::workers::LIMIT_EXCEEDED,
                "too many attestation requests, try again later",
            ));
        }
        attestation(&self.identity, purpose, nonce).await
    }

    /// The attestation for `purpose` a caller asked for: over its nonce (fresh, rate-limited),
    /// or for no nonce the shared one of that purpose, remade when older than
    /// [`SHARED_QUOTE_TTL`] or the keys rotated.
    async fn attestation_for(
        &self,
        purpose: ReportDataPurpose,
        nonce: Option<B256>,
    ) -> RpcResult<Value> {
        let Some(nonce) = nonce.filter(|n| !n.is_zero()) else {
            let mut shared = self.shared.lock().await;
            let epoch = self.identity.current_keys().epoch;
            if let Some((at, cached_epoch, value)) = shared.get(&purpose)
                && *cached_epoch == epoch
                && at.elapsed() < SHARED_QUOTE_TTL
            {
                return Ok(value.clone());
            }
            let value = self.fresh_attestation(purpose, B256::ZERO).await?;
            shared.insert(purpose, (std::time::Instant::now(), epoch, value.clone()));
            return Ok(value);
        };
        self.fresh_attestation(purpose, nonce).await
    }
}

fn dev_root(provider: &AttestationProvider) -> Value {
    provider
        .dev_root_public_key()
        .map_or(Value::Null, |root| json!(hex::encode_prefixed(root)))
}

/// A fresh quote over the current keys and `nonce` for `purpose` (REPORTDATA v3 domain: the L2
/// chain id, no verifying contract, so no contract accepts it), with what a verifier needs
/// beside it.
async fn attestation(
    identity: &Identity,
    purpose: ReportDataPurpose,
    nonce: B256,
) -> RpcResult<Value> {
    let (binding, quote) = identity
        .quote(identity.off_chain_domain(purpose), nonce)
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

/// `anchoredBy`: how this node's anchor committed the batch on chain (`path` `ecdsa` for
/// `commitBatch`, `pq` for `commitBatchPq`; `blockNumber` null while only submitted), null if it
/// has not.
fn summary(a: &BatchAttestation, anchored: Option<Anchoring>) -> Value {
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
        "anchoredBy": anchored,
    })
}

/// Opens an encrypted envelope with this node's mempool key and pools its transaction.
pub(crate) fn open_and_submit(api: &EthApi, bytes: &[u8]) -> RpcResult<B256> {
    let ctx = aegis(api)?;
    let envelope = Envelope::parse(bytes).map_err(envelope_error)?;
    let id = envelope.id();
    if ctx.seen(&id) {
        return Err(error(SERVER_ERROR, "envelope already submitted"));
    }
    let secret = ctx.identity.encryption_secret();
    // The plaintext lives in a zeroizing buffer and is handed to the pool only. A concurrent
    // copy of the same envelope is caught by the pool ("already known").
    let hash = envelope
        .open(&secret)
        .map_err(envelope_error)
        .and_then(|raw| api.submit_raw(Bytes::copy_from_slice(&raw), true))?;
    // Refused envelopes are not remembered: they may be resent once the cause is fixed (e.g.
    // funds), and junk cannot push accepted ones out.
    ctx.remember(id);
    Ok(hash)
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
                let mut out = ctx
                    .attestation_for(ReportDataPurpose::Identity, nonce)
                    .await?;
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
                let nonce: Option<B256> = params.sequence().optional_next()?;
                // Wallets must encrypt to the key of the worker that will open the envelope.
                if let Some((forward, leader)) = api.forward_target().await? {
                    let params = match nonce {
                        Some(nonce) => jsonrpsee::rpc_params![nonce],
                        None => jsonrpsee::rpc_params![],
                    };
                    return forward
                        .call::<Value>(&leader, "aegis_getEncryptionKey", params)
                        .await;
                }
                let ctx = aegis(&api)?;
                let key = ctx.identity.encryption_public_key();
                RpcResult::Ok(json!({
                    "chainId": U64::from(key.chain_id()),
                    "keyEpoch": key.epoch(),
                    "publicKey": key,
                    "keyHash": key.key_hash(),
                    "attestation": ctx
                        .attestation_for(ReportDataPurpose::MempoolKey, nonce)
                        .await?,
                }))
            })
            .expect("unique method name");
        module
            .register_async_method(
                "aegis_sendEncryptedTransaction",
                |params, api, _| async move {
                    let bytes: Bytes = params.one()?;
                    // Forwarded as is, and kept sealed for the next leader (the cluster shares
                    // one mempool key, so whichever worker leads next opens it).
                    if let Some((forward, leader)) = api.forward_target().await? {
                        let answer = forward
                            .call::<B256>(
                                &leader,
                                "aegis_sendEncryptedTransaction",
                                jsonrpsee::rpc_params![bytes.clone()],
                            )
                            .await;
                        // Only what the leader accepted is kept: junk cannot fill the store.
                        if answer.is_ok() {
                            forward.keep_envelope(bytes);
                        }
                        return answer;
                    }
                    let worker_api = api.clone();
                    api.workers
                        .run(move || open_and_submit(&worker_api, &bytes))
                        .await
                },
            )
            .expect("unique method name");
        crate::register_heavy(module, "aegis_getBatchAttestation", |api, params| {
            let ctx = aegis(api)?;
            let id: U64 = params.one()?;
            let Some(a) = ctx.store.get(id.to()).map_err(internal)? else {
                return RpcResult::Ok(Value::Null);
            };
            let mut out = serde_json::to_value(&a).map_err(internal)?;
            let anchored = ctx.store.anchoring(a.batch_id).map_err(internal)?;
            if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), summary(&a, anchored))
            {
                out.extend(extra);
            }
            Ok(out)
        });
        crate::register_heavy(module, "aegis_getBatchAttestations", |api, params| {
            let ctx = aegis(api)?;
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
            let summaries = list
                .iter()
                .map(|a| Ok(summary(a, ctx.store.anchoring(a.batch_id)?)))
                .collect::<Result<Vec<_>, aegis_attest::AttestError>>()
                .map_err(internal)?;
            Ok(Value::Array(summaries))
        });
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
