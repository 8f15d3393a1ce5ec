use crate::{AttestError, AttestationStore, BatchAttestation, Identity, SlhDsaStatus};
use aegis_pqc::{BatchCommitment, EpochKeys, SignatureBundle, block_hashes_hash};
use alloy_primitives::B256;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
    mpsc,
};

/// Batches waiting for their SLH-DSA-256s signature at most; beyond that a batch keeps its
/// ECDSA and ML-DSA-87 signatures only ([`SlhDsaStatus::Dropped`]). At about 0.5 s per
/// signature the queue holds some 15 s of work.
pub const SLH_QUEUE_CAPACITY: usize = 32;

/// A batch as the batcher built it.
#[derive(Clone, Debug)]
pub struct BatchInput {
    /// First L2 block.
    pub first_block: u64,
    /// Last L2 block.
    pub last_block: u64,
    /// Hashes of the blocks, first to last.
    pub block_hashes: Vec<B256>,
    /// keccak256 of the batch's frames.
    pub frames_hash: B256,
}

struct SlhJob {
    batch_id: u64,
    keys: Arc<EpochKeys>,
}

/// Signs batches: ECDSA and ML-DSA-87 and a quote on the caller's path, SLH-DSA-256s on a
/// background thread fed through a bounded queue (never waited for).
pub struct BatchAttestor {
    identity: Arc<Identity>,
    store: Arc<AttestationStore>,
    queue: mpsc::SyncSender<SlhJob>,
    queued: Arc<AtomicUsize>,
    next_id: Mutex<u64>,
}

impl std::fmt::Debug for BatchAttestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchAttestor")
            .field("identity", &self.identity)
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl BatchAttestor {
    /// An attestor numbering batches after the last one in `store`, with a background
    /// SLH-DSA signer holding at most `capacity` queued batches.
    pub fn new(
        identity: Arc<Identity>,
        store: Arc<AttestationStore>,
        capacity: usize,
    ) -> Result<Self, AttestError> {
        let next_id = store.last_batch_id()? + 1;
        let (queue, jobs) = mpsc::sync_channel(capacity);
        let queued = Arc::new(AtomicUsize::new(0));
        let worker_store = store.clone();
        let worker_queued = queued.clone();
        std::thread::Builder::new()
            .name("aegis-slh-dsa".into())
            .spawn(move || slh_worker(jobs, worker_store, worker_queued))
            .map_err(|e| AttestError::Store {
                path: "slh-dsa worker".into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            identity,
            store,
            queue,
            queued,
            next_id: Mutex::new(next_id),
        })
    }

    /// The store the attestations go to.
    pub fn store(&self) -> &Arc<AttestationStore> {
        &self.store
    }

    /// The identity that signs.
    pub fn identity(&self) -> &Arc<Identity> {
        &self.identity
    }

    /// Batches queued for SLH-DSA-256s (being signed included).
    pub fn slh_backlog(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Makes the next batch id at least `floor`: a worker that takes over sequencing continues
    /// after the last batch committed on chain, which another worker's ids reached.
    pub fn raise_next_id(&self, floor: u64) {
        let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
        *next = (*next).max(floor);
    }

    /// Commits to `batch`, signs it with ECDSA and ML-DSA-87, gets a quote binding the
    /// commitment, stores the result and queues the SLH-DSA-256s signature.
    pub async fn attest(&self, batch: BatchInput) -> Result<BatchAttestation, AttestError> {
        let started = std::time::Instant::now();
        let snapshot = self.identity.snapshot();
        let keys = snapshot.keys.clone();
        let batch_id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            let id = *next;
            *next += 1;
            id
        };
        let commitment = BatchCommitment {
            chain_id: self.identity.chain_id(),
            batch_id,
            first_block: batch.first_block,
            last_block: batch.last_block,
            block_hashes_hash: block_hashes_hash(&batch.block_hashes),
            frames_hash: batch.frames_hash,
            key_epoch: keys.epoch,
        };
        let mut bundle = SignatureBundle::new(commitment);
        bundle.sign_with(&snapshot.ecdsa, keys.epoch)?;
        bundle.sign_with(&keys.mldsa, keys.epoch)?;
        metrics::histogram!("aegis_batch_sign_seconds").record(started.elapsed().as_secs_f64());
        let commitment_hash = commitment.hash();
        let domain = self
            .identity
            .off_chain_domain(aegis_tee::ReportDataPurpose::Batch);
        let (binding, quote) = self
            .identity
            .quote_with(&snapshot, domain, commitment_hash)
            .await?;
        let mut attestation = BatchAttestation {
            batch_id,
            commitment,
            commitment_hash,
            block_hashes: batch.block_hashes,
            bundle: bundle.encode().into(),
            report_data_binding: binding,
            quote: quote.into(),
            quote_provider: self.identity.provider().kind().to_string(),
            slh_dsa: SlhDsaStatus::Pending,
            created_at: now(),
        };
        // Stored before queueing, so the worker always finds the record.
        self.store.put(&attestation)?;
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.queue.try_send(SlhJob { batch_id, keys }).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            metrics::counter!("aegis_slh_dsa_dropped_total").increment(1);
            tracing::warn!(target: "aegis::attest", batch_id, "SLH-DSA queue full; batch keeps ECDSA and ML-DSA-87 only");
            attestation.slh_dsa = SlhDsaStatus::Dropped;
            self.store.put(&attestation)?;
        }
        metrics::gauge!("aegis_slh_dsa_backlog").set(self.slh_backlog() as f64);
        tracing::info!(target: "aegis::attest", batch_id, first = batch.first_block, last = batch.last_block, commitment = %commitment_hash, "batch signed");
        Ok(attestation)
    }
}

fn slh_worker(
    jobs: mpsc::Receiver<SlhJob>,
    store: Arc<AttestationStore>,
    queued: Arc<AtomicUsize>,
) {
    while let Ok(job) = jobs.recv() {
        let started = std::time::Instant::now();
        let result = sign_slh(&store, &job);
        queued.fetch_sub(1, Ordering::Relaxed);
        metrics::histogram!("aegis_slh_dsa_sign_seconds").record(started.elapsed().as_secs_f64());
        if let Err(error) = result {
            tracing::warn!(target: "aegis::attest", batch_id = job.batch_id, %error, "SLH-DSA signing failed");
            if let Ok(Some(mut a)) = store.get(job.batch_id) {
                a.slh_dsa = SlhDsaStatus::Failed(error.to_string());
                if let Err(error) = store.put(&a) {
                    tracing::error!(target: "aegis::attest", batch_id = job.batch_id, %error, "recording the SLH-DSA failure failed");
                }
            }
        }
    }
}

fn sign_slh(store: &AttestationStore, job: &SlhJob) -> Result<(), AttestError> {
    let Some(mut attestation) = store.get(job.batch_id)? else {
        return Ok(());
    };
    let mut bundle = SignatureBundle::decode(&attestation.bundle)?;
    bundle.sign_with(&job.keys.slhdsa, job.keys.epoch)?;
    attestation.bundle = bundle.encode().into();
    attestation.slh_dsa = SlhDsaStatus::Signed;
    store.put(&attestation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::tests::identity;
    use aegis_pqc::Algorithm;

    #[tokio::test]
    async fn batches_get_ecdsa_and_ml_dsa_at_once_and_slh_dsa_later() {
        let dir = tempfile::tempdir().unwrap();
        let id = Arc::new(identity(dir.path(), true).unwrap());
        let store = Arc::new(AttestationStore::open(&dir.path().join("att.redb")).unwrap());
        let attestor = BatchAttestor::new(id.clone(), store.clone(), 4).unwrap();
        let input = BatchInput {
            first_block: 1,
            last_block: 2,
            block_hashes: vec![B256::repeat_byte(1), B256::repeat_byte(2)],
            frames_hash: B256::repeat_byte(9),
        };
        let first = attestor.attest(input.clone()).await.unwrap();
        assert_eq!(first.batch_id, 1);
        // A new leader numbers after the chain's last commitment, and never goes back.
        attestor.raise_next_id(8);
        attestor.raise_next_id(3);
        let after = attestor.attest(input.clone()).await.unwrap();
        assert_eq!(after.batch_id, 8);
        let bundle = SignatureBundle::decode(&first.bundle).unwrap();
        assert_eq!(
            bundle.verify().unwrap(),
            vec![Algorithm::Secp256k1, Algorithm::MlDsa87]
        );
        assert_eq!(first.report_data_binding.binding, first.commitment_hash);
        assert_eq!(
            first.report_data_binding.domain,
            aegis_tee::ReportDataDomain::off_chain(aegis_tee::ReportDataPurpose::Batch, 901),
            "batch quotes bind their purpose and the L2 chain id"
        );
        assert_eq!(first.report_data_binding.sequencer, id.address());

        // Wait for the background signature.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let stored = store.get(1).unwrap().unwrap();
            if stored.slh_dsa == SlhDsaStatus::Signed {
                let bundle = SignatureBundle::decode(&stored.bundle).unwrap();
                assert_eq!(
                    bundle.verify().unwrap(),
                    vec![
                        Algorithm::Secp256k1,
                        Algorithm::MlDsa87,
                        Algorithm::SlhDsaSha2_256s
                    ]
                );
                break;
            }
            assert!(std::time::Instant::now() < deadline, "SLH-DSA never signed");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }

        // A full queue drops the background signature instead of waiting.
        let tiny = BatchAttestor::new(id, store.clone(), 1).unwrap();
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(tiny.attest(input.clone()).await.unwrap().slh_dsa);
        }
        assert!(statuses.contains(&SlhDsaStatus::Dropped), "{statuses:?}");
        // Numbering continues after what the store holds.
        assert_eq!(store.last_batch_id().unwrap(), 12);
    }
}
