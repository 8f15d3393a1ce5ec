//! Anchors the sequencer on its chain's contracts.
//!
//! The sequencer proves itself on chain (on its own L2, as in the seed's design; the contracts
//! deploy unchanged on L1): it registers its keys in `SequencerAttestation` with a TEE quote,
//! commits every batch it attested, and reports its quantum-risk score to `QRMSOracle`. Like a
//! block builder's own transaction (op-rbuilder's builder tx), each of these is an EIP-1559
//! transaction signed with the sequencer's TEE-held secp256k1 key and added to its own pool, so
//! it lands in the blocks the sequencer builds.
//!
//! The anchor keeps no state of its own. Every round it reads the contracts at the head (is the
//! key registered, which batch was committed last, what did it report last) and submits what is
//! missing, so restarts, reorged unsafe blocks and dropped transactions heal by themselves; while
//! one of its transactions is still pending it waits. Every call is simulated first: one that
//! would revert is reported with the contract's custom error and not sent.

mod error;
mod plan;

pub use error::AnchorError;
pub use plan::{ALL_KEY_PARTS, Action, ChainView, CommitPaths, Registration, ReporterView, plan};

use aegis_attest::{
    Anchoring, AttestationStore, BatchAttestation, CommitPath, Identity, KeyHandover,
};
use aegis_bindings::{
    OnChainCommitment, batch_commitment_digest, ml_dsa87_verifier::MlDsa87Verifier,
    pq_batch_commitment_digest, qrms_oracle::QRMSOracle,
    sequencer_attestation::SequencerAttestation,
};
use aegis_executor::{Executor, ExecutorError, PoolTx};
use aegis_mempool::{HeadState, Pool};
use aegis_migration::CheckpointStore;
use aegis_pqc::{Algorithm, SignatureBundle, Signer as _};
use aegis_qrm::{RiskLevel, RiskSignal};
use alloy_consensus::TxEip1559;
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_rpc_types_eth::{TransactionInput, TransactionRequest};
use alloy_sol_types::{SolCall, SolInterface};
use op_alloy_consensus::OpTxEnvelope;
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// Where the contracts are and how eagerly to use them.
#[derive(Clone, Debug)]
pub struct AnchorConfig {
    /// `SequencerAttestation`.
    pub attestation: Address,
    /// `QRMSOracle`, if risk reports are to be submitted.
    pub oracle: Option<Address>,
    /// Time between rounds.
    pub interval: Duration,
    /// How long a batch's commitment waits for its SLH-DSA signature before it is committed
    /// without (the SLH-DSA hash then stays zero on chain).
    pub slh_wait: Duration,
    /// Most commitments submitted in one round (the rest follow in the next).
    pub max_commits_per_round: usize,
    /// Priority fee of the anchor's transactions, in wei per gas.
    pub priority_fee: u128,
    /// An unchanged risk score is reported again after this long, so the oracle's report does
    /// not go stale (its `maxReportAge` is a day by default).
    pub report_refresh: Duration,
    /// When batches are committed through `commitBatchPq` (ML-DSA-87 verified on chain).
    pub pq: PqPath,
}

/// When the anchor uses the post-quantum commitment path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PqPath {
    /// From risk level SCHEDULED on (the key is expanded then, ECDSA-authorised commitments
    /// before).
    #[default]
    FromScheduled,
    /// Always: the key is expanded at registration and every batch goes through
    /// `commitBatchPq`.
    Always,
}

impl PqPath {
    /// Whether batches should take the post-quantum path at risk `level` (`None`: no monitor).
    pub fn wanted(self, level: Option<RiskLevel>) -> bool {
        self == Self::Always || level.is_some_and(|level| level >= RiskLevel::Scheduled)
    }
}

impl AnchorConfig {
    /// Defaults for contracts at `attestation` and `oracle`.
    pub fn new(attestation: Address, oracle: Option<Address>) -> Self {
        Self {
            attestation,
            oracle,
            interval: Duration::from_secs(2),
            slh_wait: Duration::from_secs(120),
            max_commits_per_round: 16,
            priority_fee: 1_000_000,
            report_refresh: Duration::from_secs(6 * 3600),
            pq: PqPath::default(),
        }
    }
}

/// What one round submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundOutcome {
    /// The actions sent, with their transaction hashes, in nonce order.
    pub submitted: Vec<(Action, B256)>,
    /// Nothing was planned because an earlier transaction of the sequencer is still pending.
    pub waiting_for_inclusion: bool,
}

/// Posts the sequencer's registration, batch commitments and risk reports.
pub struct Anchor {
    config: AnchorConfig,
    executor: Arc<Executor>,
    pool: Arc<Pool>,
    identity: Arc<Identity>,
    store: Arc<AttestationStore>,
    risk: Option<watch::Receiver<Option<RiskSignal>>>,
    checkpoints: Option<CheckpointStore>,
    leadership: Option<watch::Receiver<bool>>,
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchor")
            .field("config", &self.config)
            .field("sequencer", &self.identity.address())
            .finish_non_exhaustive()
    }
}

/// A call the anchor makes: what it is and its calldata.
struct Call {
    action: Action,
    to: Address,
    input: Bytes,
}

impl Anchor {
    /// An anchor for the sequencer `identity`, committing the batches in `store`, sending
    /// through `pool`.
    pub fn new(
        config: AnchorConfig,
        executor: Arc<Executor>,
        pool: Arc<Pool>,
        identity: Arc<Identity>,
        store: Arc<AttestationStore>,
    ) -> Self {
        Self {
            config,
            executor,
            pool,
            identity,
            store,
            risk: None,
            checkpoints: None,
            leadership: None,
        }
    }

    /// Reports the monitor's latest score to the oracle whenever it changes, and applies its
    /// level's policy.
    pub fn with_risk(mut self, risk: watch::Receiver<Option<RiskSignal>>) -> Self {
        self.risk = Some(risk);
        self
    }

    /// Commits batches, records checkpoints and reports only while `leads` is true (a cluster
    /// worker while it leads); registering and publishing its keys it does as a follower too.
    pub fn with_leadership(mut self, leads: watch::Receiver<bool>) -> Self {
        self.leadership = Some(leads);
        self
    }

    /// Records the migration checkpoints in `store` on chain.
    pub fn with_checkpoints(mut self, store: CheckpointStore) -> Self {
        self.checkpoints = Some(store);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &AnchorConfig {
        &self.config
    }

    /// Runs a round every [`AnchorConfig::interval`] until `shutdown` resolves. Errors are
    /// logged (a repeated one at debug level) and the next round tries again.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut interval = tokio::time::interval(self.config.interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_error = None::<String>;
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = &mut shutdown => return,
            }
            match self.round().await {
                Ok(outcome) => {
                    for (action, hash) in &outcome.submitted {
                        info!(target: "aegis::anchor", ?action, tx = %hash, "submitted");
                    }
                    last_error = None;
                }
                Err(error) => {
                    metrics::counter!("aegis_anchor_round_failures_total").increment(1);
                    let text = error.to_string();
                    if last_error.as_deref() == Some(text.as_str()) {
                        debug!(target: "aegis::anchor", %error, "round failed again");
                    } else if matches!(error, AnchorError::NotDeployed(_)) {
                        info!(target: "aegis::anchor", %error, "waiting for the contracts");
                    } else {
                        warn!(target: "aegis::anchor", %error, "round failed");
                    }
                    last_error = Some(text);
                }
            }
        }
    }

    /// One round: reads the contracts at the head, plans, simulates and submits.
    pub async fn round(&self) -> Result<RoundOutcome, AnchorError> {
        let store = self.executor.store();
        let head = store.head()?.ok_or(AnchorError::NoHead)?;
        let head_hash = head.hash_slow();
        let sender = self.identity.address();
        let state = HeadState::at_head(&self.executor)?;
        let (state_nonce, _) = aegis_mempool::ChainState::account(&state, &sender);
        if self.pool.pending_nonce(&sender, state_nonce) > state_nonce {
            return Ok(RoundOutcome {
                waiting_for_inclusion: true,
                ..Default::default()
            });
        }
        self.confirm_anchorings()?;
        let view = self.chain_view(head_hash)?;
        if let Some(last) = view.last_batch {
            metrics::gauge!("aegis_anchor_committed_batch").set(last as f64);
        }
        if view.registration == Registration::Revoked {
            return Err(AnchorError::Revoked(sender));
        }
        let pending = self.uncommitted_batches(view.last_batch)?;
        let unrecorded = match view.registration {
            Registration::Active => self.unrecorded_checkpoints(head_hash)?,
            _ => Vec::new(),
        };
        let risk = self.risk.as_ref().and_then(|rx| *rx.borrow());
        let paths = CommitPaths {
            pq: self.config.pq.wanted(risk.map(|r| r.level)),
            ecdsa_refused: risk.is_some_and(|r| r.level == RiskLevel::Emergency),
        };
        // The oracle's latched EMERGENCY outlasts a local monitor that has calmed down.
        let emergency = paths.ecdsa_refused || view.ecdsa_refused;
        let mut actions = plan(
            &view,
            &pending,
            &unrecorded,
            risk.map(|r| r.score),
            paths,
            unix_now(),
            &self.config,
        );
        // A cluster follower makes its own identity known (its wallet RPC forwards these to the
        // leader) and leaves commitments, checkpoints and reports to the leader.
        if self
            .leadership
            .as_ref()
            .is_some_and(|leads| !*leads.borrow())
        {
            actions.retain(Action::is_identity);
        }

        let mut calls = Vec::with_capacity(actions.len());
        for action in actions {
            calls.push(self.call_for(action, &view, &pending, emergency).await?);
        }
        let mut outcome = RoundOutcome::default();
        for (nonce, call) in (state_nonce..).zip(calls) {
            match self.send(&head, head_hash, &state, nonce, &call) {
                Ok(hash) => {
                    metrics::counter!("aegis_anchor_transactions_total", "call" => call.action.name())
                        .increment(1);
                    let path = match call.action {
                        Action::Commit(id) => Some((id, CommitPath::Ecdsa)),
                        Action::CommitPq(id) => Some((id, CommitPath::Pq)),
                        _ => None,
                    };
                    if let Some((batch_id, path)) = path {
                        let anchoring = Anchoring {
                            path,
                            transaction_hash: hash,
                            block_number: None,
                        };
                        self.store.record_anchoring(batch_id, &anchoring)?;
                    }
                    outcome.submitted.push((call.action, hash));
                }
                // What was sent stays sent; the rest is planned again next round.
                Err(error) if !outcome.submitted.is_empty() => {
                    warn!(target: "aegis::anchor", %error, "round cut short");
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(outcome)
    }

    /// Marks the submitted commitments whose transaction is now in a canonical block as
    /// anchored there; forgets those whose transaction reverted (they are committed again).
    fn confirm_anchorings(&self) -> Result<(), AnchorError> {
        for (batch_id, mut anchoring) in self.store.unconfirmed_anchorings()? {
            let Some((block_hash, number, index)) = self
                .executor
                .store()
                .transaction_location(&anchoring.transaction_hash)?
            else {
                continue;
            };
            let receipts = self.executor.stored_block(&block_hash)?.map(|(_, r)| r);
            let succeeded = receipts
                .as_ref()
                .and_then(|r| r.get(index as usize))
                .is_some_and(|r| r.status());
            if succeeded {
                anchoring.block_number = Some(number);
                self.store.record_anchoring(batch_id, &anchoring)?;
            } else {
                self.store.remove_anchoring(batch_id)?;
            }
        }
        Ok(())
    }

    /// What the contracts say about this sequencer at block `at`.
    pub fn chain_view(&self, at: B256) -> Result<ChainView, AnchorError> {
        let sender = self.identity.address();
        let attestation = self.config.attestation;
        let record = self.view(
            at,
            attestation,
            SequencerAttestation::sequencerCall { account: sender },
        )?;
        let snapshot = self.identity.snapshot();
        let keys_outdated = record.registeredAt != 0
            && (
                record.mldsaKeyHash,
                record.slhdsaKeyHash,
                record.encryptionKeyHash,
            ) != snapshot.key_hashes();
        // Which of this node's epochs the registry holds: expansions and handovers start there.
        let registered_epoch = if record.registeredAt == 0 || record.revoked {
            None
        } else {
            let epoch = self
                .identity
                .public_epochs()
                .iter()
                .find(|e| keccak256(&e.mldsa_public_key) == record.mldsaKeyHash)
                .map(|e| e.epoch)
                .ok_or(AnchorError::UnknownRegisteredKey(record.mldsaKeyHash))?;
            Some(epoch)
        };
        let registration = if record.revoked {
            Registration::Revoked
        } else if record.registeredAt == 0 {
            Registration::Unregistered
        } else {
            Registration::Active
        };
        let last = self.view(at, attestation, SequencerAttestation::lastBatchCall {})?;
        let reporter = match self.config.oracle {
            Some(oracle) => {
                let is_reporter =
                    self.view(at, oracle, QRMSOracle::isReporterCall { account: sender })?;
                if is_reporter {
                    let report = self.view(
                        at,
                        oracle,
                        QRMSOracle::latestReportCall { reporter: sender },
                    )?;
                    Some(ReporterView {
                        score: report.score,
                        round: report.round,
                        reported_at: u64::from(report.reportedAt),
                    })
                } else {
                    None
                }
            }
            None => None,
        };
        // A registry from before the post-quantum path has no verifier to ask.
        let mldsa_verifier = self
            .view(at, attestation, SequencerAttestation::mldsaVerifierCall {})
            .ok()
            .filter(|verifier| !verifier.is_zero());
        let missing_key_parts = match mldsa_verifier {
            Some(verifier) if registration == Registration::Active => {
                let key = self.view(
                    at,
                    verifier,
                    MlDsa87Verifier::expandedKeyCall {
                        keyHash: record.mldsaKeyHash,
                    },
                )?;
                let rows = (0..8).filter(|r| key.rows[*r].is_zero()).map(|r| 1 << r);
                let tr = (key.trHigh.is_zero() && key.trLow.is_zero()).then_some(1 << 8);
                rows.chain(tr).fold(0u16, |mask, bit| mask | bit)
            }
            _ => ALL_KEY_PARTS,
        };
        // The policy the registry applies to `commitBatch` now (no oracle: nothing refused).
        let ecdsa_refused = match self.view(at, attestation, SequencerAttestation::oracleCall {}) {
            Ok(oracle) if !oracle.is_zero() => {
                let policy = self.view(at, oracle, QRMSOracle::signaturePolicyCall {})?;
                policy.level == RiskLevel::Emergency as u8 || !policy.ecdsaAllowed
            }
            _ => false,
        };
        Ok(ChainView {
            registration,
            ecdsa_refused,
            last_batch: last.hasBatch.then_some(last.lastBatchId),
            last_l2_end_block: last.lastL2EndBlock,
            keys_outdated,
            reporter,
            mldsa_verifier,
            registered_mldsa_key: record.mldsaKeyHash,
            registered_epoch,
            missing_key_parts,
        })
    }

    /// The attested batches after `last_committed`, oldest first, at most a round's worth.
    fn uncommitted_batches(
        &self,
        last_committed: Option<u64>,
    ) -> Result<Vec<BatchAttestation>, AnchorError> {
        let first = last_committed.map_or(1, |id| id + 1);
        Ok(self
            .store
            .from_batch(first, self.config.max_commits_per_round)?)
    }

    /// Local checkpoints `SequencerAttestation` has not recorded at block `at`.
    fn unrecorded_checkpoints(&self, at: B256) -> Result<Vec<u64>, AnchorError> {
        let Some(store) = &self.checkpoints else {
            return Ok(Vec::new());
        };
        let mut missing = Vec::new();
        for id in store.ids()? {
            let recorded = self.view(
                at,
                self.config.attestation,
                SequencerAttestation::checkpointCall { checkpointId: id },
            )?;
            if recorded.sequencer == Address::ZERO {
                missing.push(id);
            }
        }
        Ok(missing)
    }

    async fn call_for(
        &self,
        action: Action,
        view: &ChainView,
        pending: &[BatchAttestation],
        emergency: bool,
    ) -> Result<Call, AnchorError> {
        let batch = |batch_id: u64| {
            pending
                .iter()
                .find(|b| b.batch_id == batch_id)
                .ok_or(AnchorError::Batch(batch_id, "not in the store".into()))
        };
        let input = match action {
            Action::Register => self.registration().await?,
            Action::UpdateKeys => {
                // One epoch forward of the registered one: its handover is signed by the key
                // the registry holds (the current epoch's may be several rotations ahead). A
                // registry at the current epoch with another mempool key (the cluster's was
                // adopted after registering) gets the current key's handover to itself.
                let registered = view.registered_epoch.ok_or(AnchorError::NoHandover(0))?;
                let handover = if registered == self.identity.epoch() {
                    self.identity.self_handover()?
                } else {
                    self.identity
                        .handover(registered + 1)
                        .ok_or(AnchorError::NoHandover(registered + 1))?
                };
                self.key_update(handover).await?
            }
            Action::Commit(batch_id) => self.commitment_call(batch(batch_id)?, emergency)?,
            Action::CommitPq(batch_id) => self.pq_commitment_call(batch(batch_id)?)?,
            Action::ExpandKey(part) => {
                // The registered key's expansion (which may be an epoch behind the current).
                let registered = view
                    .registered_epoch
                    .and_then(|epoch| {
                        self.identity
                            .public_epochs()
                            .into_iter()
                            .find(|e| e.epoch == epoch)
                    })
                    .ok_or(AnchorError::UnknownRegisteredKey(view.registered_mldsa_key))?;
                MlDsa87Verifier::expandKeyCall {
                    publicKey: registered.mldsa_public_key.into(),
                    part: U256::from(part),
                }
                .abi_encode()
            }
            Action::Checkpoint(id) => {
                let checkpoint = self
                    .checkpoints
                    .as_ref()
                    .and_then(|store| store.get(id).transpose())
                    .ok_or(AnchorError::Checkpoint(id, "not in the store".into()))??;
                SequencerAttestation::recordCheckpointCall {
                    checkpointId: checkpoint.id,
                    blockNumber: checkpoint.block_number,
                    blockHash: checkpoint.block_hash,
                    stateRoot: checkpoint.state_root,
                    assetSnapshotRoot: checkpoint.asset_snapshot_root,
                    mldsaSignature: checkpoint.mldsa_signature.clone(),
                }
                .abi_encode()
            }
            Action::Report { round, score } => {
                QRMSOracle::submitReportCall { round, score }.abi_encode()
            }
        };
        let to = match action {
            Action::Report { .. } => self.config.oracle.ok_or(AnchorError::NoOracle)?,
            Action::ExpandKey(_) => view.mldsa_verifier.ok_or(AnchorError::NoMlDsaVerifier)?,
            _ => self.config.attestation,
        };
        Ok(Call {
            action,
            to,
            input: input.into(),
        })
    }

    /// `registerSequencer` (or, for a registered sequencer whose keys rotated, `updateKeys`)
    /// with a fresh quote over the current keys and a random nonce, for that purpose on this
    /// chain's `SequencerAttestation` only (REPORTDATA v3 domain).
    /// `registerSequencer` with a fresh quote over the current keys.
    async fn registration(&self) -> Result<Vec<u8>, AnchorError> {
        let nonce = fresh_nonce();
        let domain = registration_domain(
            false,
            self.executor.spec().chain_id,
            self.config.attestation,
        );
        let snapshot = self.identity.snapshot();
        let (binding, quote) = self.identity.quote_with(&snapshot, domain, nonce).await?;
        Ok(SequencerAttestation::registerSequencerCall {
            quote: quote.into(),
            account: binding.sequencer,
            mldsaKeyHash: binding.mldsa_key_hash,
            slhdsaKeyHash: binding.slhdsa_key_hash,
            encryptionKeyHash: binding.encryption_key_hash,
            nonce,
            pckKeyHint: self.pck_key_hint().into(),
        }
        .abi_encode())
    }

    /// `updateKeys` to the keys of `handover` (signed by the registered ML-DSA key), with a
    /// fresh quote over their hashes.
    async fn key_update(&self, handover: KeyHandover) -> Result<Vec<u8>, AnchorError> {
        let nonce = fresh_nonce();
        let domain =
            registration_domain(true, self.executor.spec().chain_id, self.config.attestation);
        let (binding, quote) = self
            .identity
            .quote_keys(handover.key_hashes(), domain, nonce)
            .await?;
        Ok(SequencerAttestation::updateKeysCall {
            quote: quote.into(),
            mldsaKeyHash: binding.mldsa_key_hash,
            slhdsaKeyHash: binding.slhdsa_key_hash,
            encryptionKeyHash: binding.encryption_key_hash,
            nonce,
            pckKeyHint: self.pck_key_hint().into(),
            handoverSignature: handover.signature,
        }
        .abi_encode())
    }

    /// The PCK key a quote's verifier needs to find (the simulator's; empty for a real TEE).
    fn pck_key_hint(&self) -> Vec<u8> {
        self.identity
            .provider()
            .pck_public_key()
            .map(|key| key.to_vec())
            .unwrap_or_default()
    }

    /// `commitBatch` for `batch`, ECDSA-signed over the contract's EIP-712 digest. At
    /// EMERGENCY a commitment with neither post-quantum signature hash is refused.
    fn commitment_call(
        &self,
        batch: &BatchAttestation,
        emergency: bool,
    ) -> Result<Vec<u8>, AnchorError> {
        let commitment = on_chain_commitment(batch)?;
        refuse_ecdsa_only(&commitment, emergency)?;
        let digest = batch_commitment_digest(
            self.executor.spec().chain_id,
            self.config.attestation,
            &commitment,
        );
        let signature = self.identity.ecdsa().sign_hash(&digest)?;
        Ok(SequencerAttestation::commitBatchCall {
            batchId: commitment.batch_id,
            l2StartBlock: commitment.l2_start_block,
            l2EndBlock: commitment.l2_end_block,
            commitment: commitment.commitment,
            ecdsaSignature: signature.to_vec().into(),
            mldsaSigHash: commitment.mldsa_sig_hash,
            slhdsaSigHash: commitment.slhdsa_sig_hash,
        }
        .abi_encode())
    }

    /// `commitBatchPq` for `batch`: a fresh ML-DSA-87 signature of the registered (current)
    /// key over the contract's `PqBatchCommitment` digest; no ECDSA signature is involved.
    fn pq_commitment_call(&self, batch: &BatchAttestation) -> Result<Vec<u8>, AnchorError> {
        let commitment = on_chain_commitment(batch)?;
        let sequencer = self.identity.address();
        let digest = pq_batch_commitment_digest(
            self.executor.spec().chain_id,
            self.config.attestation,
            sequencer,
            &commitment,
        );
        let signature = self.identity.current_keys().mldsa.sign(&digest)?;
        Ok(SequencerAttestation::commitBatchPqCall {
            account: sequencer,
            batchId: commitment.batch_id,
            l2StartBlock: commitment.l2_start_block,
            l2EndBlock: commitment.l2_end_block,
            commitment: commitment.commitment,
            slhdsaSigHash: commitment.slhdsa_sig_hash,
            mldsaSignature: signature.into(),
        }
        .abi_encode())
    }

    /// Simulates `call` at the head, then signs it with nonce `nonce` and adds it to the pool.
    fn send(
        &self,
        head: &alloy_consensus::Header,
        head_hash: B256,
        state: &HeadState,
        nonce: u64,
        call: &Call,
    ) -> Result<B256, AnchorError> {
        let sender = self.identity.address();
        let request = TransactionRequest::default()
            .from(sender)
            .to(call.to)
            .input(TransactionInput::new(call.input.clone()));
        let gas = self
            .executor
            .estimate_gas(head_hash, request, None)
            .map_err(|e| simulation_error(call.action.name(), e))?;
        let spec = self.executor.spec();
        let base_fee = aegis_executor::next_base_fee(spec, head, head.timestamp + 1)?;
        let tx = TxEip1559 {
            chain_id: spec.chain_id,
            nonce,
            // Headroom: the estimate ran at the head, the block may differ (e.g. a warm slot).
            gas_limit: gas + gas / 4,
            max_fee_per_gas: 2 * u128::from(base_fee) + self.config.priority_fee,
            max_priority_fee_per_gas: self.config.priority_fee,
            to: TxKind::Call(call.to),
            value: U256::ZERO,
            access_list: Default::default(),
            input: call.input.clone(),
        };
        let envelope = OpTxEnvelope::Eip1559(self.identity.ecdsa().sign_eip1559(tx)?);
        let tx = PoolTx::decode(envelope.encoded_2718().into())?;
        self.pool
            .add_local(tx, state)
            .map_err(|source| AnchorError::Pool {
                call: call.action.name(),
                source,
            })
    }

    fn view<C: SolCall>(&self, at: B256, to: Address, call: C) -> Result<C::Return, AnchorError> {
        let request = TransactionRequest::default()
            .from(self.identity.address())
            .to(to)
            .input(TransactionInput::new(call.abi_encode().into()));
        let out = self
            .executor
            .call(at, request, None, None)
            .map_err(|e| simulation_error(C::SIGNATURE, e))?;
        // A call to an address without code succeeds with no output.
        if out.is_empty() {
            return Err(AnchorError::NotDeployed(to));
        }
        C::abi_decode_returns(&out).map_err(|_| AnchorError::BadReturn(C::SIGNATURE))
    }
}

/// The id of the last batch committed in `SequencerAttestation` at `attestation`, as of the
/// head (`None` before the first).
pub fn committed_batch(
    executor: &Executor,
    attestation: Address,
) -> Result<Option<u64>, AnchorError> {
    let head = executor.store().head()?.ok_or(AnchorError::NoHead)?;
    let call = SequencerAttestation::lastBatchCall {};
    let request = TransactionRequest::default()
        .to(attestation)
        .input(TransactionInput::new(call.abi_encode().into()));
    let out = executor
        .call(head.hash_slow(), request, None, None)
        .map_err(|e| simulation_error(SequencerAttestation::lastBatchCall::SIGNATURE, e))?;
    if out.is_empty() {
        return Err(AnchorError::NotDeployed(attestation));
    }
    let last = SequencerAttestation::lastBatchCall::abi_decode_returns(&out)
        .map_err(|_| AnchorError::BadReturn(SequencerAttestation::lastBatchCall::SIGNATURE))?;
    Ok(last.hasBatch.then_some(last.lastBatchId))
}

/// A random 32-byte quote nonce.
fn fresh_nonce() -> B256 {
    let mut nonce = B256::ZERO;
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, nonce.as_mut_slice());
    nonce
}

/// What `commitBatch` records for `batch`: its commitment hash and the hashes of its post-quantum
/// signatures (zero for one it does not have), which an off-chain verifier matches against the
/// bundle from `aegis_getBatchAttestation`.
pub fn on_chain_commitment(batch: &BatchAttestation) -> Result<OnChainCommitment, AnchorError> {
    let bundle = SignatureBundle::decode(&batch.bundle)?;
    let sig_hash = |s: Option<&aegis_pqc::BundleSignature>| {
        s.map(|s| keccak256(&s.signature)).unwrap_or_default()
    };
    Ok(OnChainCommitment {
        batch_id: batch.batch_id,
        l2_start_block: batch.commitment.first_block,
        l2_end_block: batch.commitment.last_block,
        commitment: batch.commitment_hash,
        mldsa_sig_hash: sig_hash(bundle.signature(Algorithm::MlDsa87)),
        slhdsa_sig_hash: sig_hash(bundle.slh_dsa_signature()),
    })
}

/// The REPORTDATA domain of a registration (`update` false) or key-update quote for the
/// `SequencerAttestation` at `attestation` on chain `chain_id`: the contract accepts it for that
/// purpose there and nowhere else.
pub fn registration_domain(
    update: bool,
    chain_id: u64,
    attestation: Address,
) -> aegis_tee::ReportDataDomain {
    let purpose = if update {
        aegis_tee::ReportDataPurpose::KeyUpdate
    } else {
        aegis_tee::ReportDataPurpose::Registration
    };
    aegis_tee::ReportDataDomain::on_chain(purpose, chain_id, attestation)
}

/// At EMERGENCY, a commitment carrying only the ECDSA signature is refused (as the contract
/// refuses it): post-quantum signatures are what still stands when ECDSA falls.
pub fn refuse_ecdsa_only(
    commitment: &OnChainCommitment,
    emergency: bool,
) -> Result<(), AnchorError> {
    if emergency && commitment.mldsa_sig_hash.is_zero() && commitment.slhdsa_sig_hash.is_zero() {
        metrics::counter!("aegis_anchor_ecdsa_only_refused_total").increment(1);
        return Err(AnchorError::EcdsaOnlyRefused(commitment.batch_id));
    }
    Ok(())
}

/// A failed simulation, with the contract's custom error decoded when it is one of ours.
fn simulation_error(call: &'static str, error: ExecutorError) -> AnchorError {
    match error {
        ExecutorError::Reverted(data) => AnchorError::Reverted {
            call,
            reason: revert_reason(&data),
        },
        other => AnchorError::Executor(other),
    }
}

/// `Name(args…)` of a custom error of the contracts, the string of `Error(string)`, or the hex.
pub fn revert_reason(data: &[u8]) -> String {
    if let Ok(e) = SequencerAttestation::SequencerAttestationErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = QRMSOracle::QRMSOracleErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = MlDsa87Verifier::MlDsa87VerifierErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(revert) = <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(data) {
        return revert.reason;
    }
    format!("0x{}", alloy_primitives::hex::encode(data))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registration domain the contract computes (`reportDataDomain(REGISTRATION, 901,
    /// 0x5FbD…0aa3)`, pinned by `test_expectedReportData_rustVector` in
    /// `test/SequencerAttestation.t.sol`); a key update has its own.
    #[test]
    fn registration_and_key_update_domains() {
        let at = alloy_primitives::address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        assert_eq!(
            registration_domain(false, 901, at).hash(),
            alloy_primitives::b256!(
                "0x07df586cf35dca2ba29685aaeeb58855d6bdf0ce554d6543514dc677e1dd4844"
            )
        );
        let update = registration_domain(true, 901, at);
        assert_eq!(update.purpose, aegis_tee::ReportDataPurpose::KeyUpdate);
        assert_ne!(update.hash(), registration_domain(false, 901, at).hash());
    }

    #[test]
    fn ecdsa_only_commitments_are_refused_at_emergency_only() {
        let mut c = OnChainCommitment {
            batch_id: 4,
            l2_start_block: 1,
            l2_end_block: 2,
            commitment: B256::repeat_byte(1),
            mldsa_sig_hash: B256::ZERO,
            slhdsa_sig_hash: B256::ZERO,
        };
        assert!(matches!(
            refuse_ecdsa_only(&c, true),
            Err(AnchorError::EcdsaOnlyRefused(4))
        ));
        assert!(refuse_ecdsa_only(&c, false).is_ok());
        c.slhdsa_sig_hash = B256::repeat_byte(2);
        assert!(refuse_ecdsa_only(&c, true).is_ok());
    }

    #[test]
    fn revert_data_decodes_to_the_contracts_errors() {
        use alloy_sol_types::SolError;
        let data = SequencerAttestation::SequencerAttestation_BatchIdNotIncreasing {
            batchId: 3,
            lastBatchId: 5,
        }
        .abi_encode();
        let reason = revert_reason(&data);
        assert!(
            reason.contains("BatchIdNotIncreasing") && reason.contains("lastBatchId: 5"),
            "{reason}"
        );
        assert_eq!(
            revert_reason(&alloy_sol_types::Revert::from("nope").abi_encode()),
            "nope"
        );
        assert_eq!(revert_reason(&[0xde, 0xad]), "0xdead");
    }
}
