use crate::AttestError;
use aegis_pqc::BatchCommitment;
use aegis_tee::ReportDataBinding;
use alloy_primitives::{B256, Bytes};
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// batch id → JSON of [`BatchAttestation`].
const BATCHES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("batch_attestations");
/// (last block, batch id) → (): finds the batches that reach into a block range.
const BY_LAST_BLOCK: TableDefinition<'_, (u64, u64), ()> = TableDefinition::new("by_last_block");
/// batch id → JSON of [`Anchoring`]: how the batch was committed on chain. A table of its own:
/// the anchor writes it while the SLH-DSA signer rewrites the attestation.
const ANCHORINGS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("anchorings");
/// batch id → (): the anchorings whose transaction is not known to be included yet.
const UNCONFIRMED: TableDefinition<'_, u64, ()> = TableDefinition::new("unconfirmed_anchorings");

/// Which `SequencerAttestation` function committed a batch, i.e. what authorised it on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CommitPath {
    /// `commitBatch`: the sequencer's secp256k1 signature (the post-quantum signatures are
    /// committed as hashes only).
    Ecdsa,
    /// `commitBatchPq`: its ML-DSA-87 signature, verified by the contract.
    Pq,
}

/// How a batch was committed on chain by this node's anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchoring {
    /// The path.
    pub path: CommitPath,
    /// The commitment transaction.
    pub transaction_hash: B256,
    /// The L2 block that included it successfully; `None` while it is only submitted.
    pub block_number: Option<u64>,
}

/// Where the SLH-DSA-256s signature of a batch stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SlhDsaStatus {
    /// Queued for the background signer.
    Pending,
    /// In the bundle.
    Signed,
    /// The queue was full: the batch keeps its ECDSA and ML-DSA-87 signatures only.
    Dropped,
    /// Signing failed.
    Failed(String),
}

/// Everything attested about one batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchAttestation {
    /// The batch id (from 1, consecutive).
    pub batch_id: u64,
    /// The signed commitment's fields.
    pub commitment: BatchCommitment,
    /// Its hash: what every signature signs.
    pub commitment_hash: B256,
    /// The batch's block hashes, first to last (their keccak is `blockHashesHash`).
    pub block_hashes: Vec<B256>,
    /// The canonical signature bundle (`crates/security/pqc/README.md`).
    pub bundle: Bytes,
    /// What the quote's REPORTDATA binds (`binding` = the commitment hash, domain = batch on the
    /// L2 chain id).
    pub report_data_binding: ReportDataBinding,
    /// The TDX quote.
    pub quote: Bytes,
    /// The provider that produced it.
    pub quote_provider: String,
    /// The SLH-DSA-256s signature's state.
    pub slh_dsa: SlhDsaStatus,
    /// Unix seconds.
    pub created_at: u64,
}

/// The batch attestations, in a redb database of their own.
#[derive(Debug)]
pub struct AttestationStore {
    db: Database,
    path: PathBuf,
}

impl AttestationStore {
    /// Opens or creates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, AttestError> {
        let err = |e: &dyn std::fmt::Display| AttestError::Store {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(&e))?;
        }
        let db = Database::create(path).map_err(|e| err(&e))?;
        let tx = db.begin_write().map_err(|e| err(&e))?;
        tx.open_table(BATCHES).map_err(|e| err(&e))?;
        tx.open_table(BY_LAST_BLOCK).map_err(|e| err(&e))?;
        tx.open_table(ANCHORINGS).map_err(|e| err(&e))?;
        tx.open_table(UNCONFIRMED).map_err(|e| err(&e))?;
        tx.commit().map_err(|e| err(&e))?;
        Ok(Self {
            db,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> AttestError {
        AttestError::Store {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// Stores (or replaces) `attestation`.
    pub fn put(&self, attestation: &BatchAttestation) -> Result<(), AttestError> {
        let json = serde_json::to_vec(attestation).map_err(|e| self.err(e))?;
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut batches = tx.open_table(BATCHES).map_err(|e| self.err(e))?;
            batches
                .insert(attestation.batch_id, json.as_slice())
                .map_err(|e| self.err(e))?;
            let mut index = tx.open_table(BY_LAST_BLOCK).map_err(|e| self.err(e))?;
            index
                .insert(
                    (attestation.commitment.last_block, attestation.batch_id),
                    (),
                )
                .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// The attestation of `batch_id`.
    pub fn get(&self, batch_id: u64) -> Result<Option<BatchAttestation>, AttestError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(BATCHES).map_err(|e| self.err(e))?;
        let Some(value) = table.get(batch_id).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(value.value())
            .map(Some)
            .map_err(|e| self.err(e))
    }

    /// The highest batch id stored (0 when none).
    pub fn last_batch_id(&self) -> Result<u64, AttestError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(BATCHES).map_err(|e| self.err(e))?;
        Ok(table
            .last()
            .map_err(|e| self.err(e))?
            .map_or(0, |(k, _)| k.value()))
    }

    /// Up to `limit` attestations of the batches with ids from `first_id` on, in id order.
    pub fn from_batch(
        &self,
        first_id: u64,
        limit: usize,
    ) -> Result<Vec<BatchAttestation>, AttestError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(BATCHES).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in table
            .range(first_id..)
            .map_err(|e| self.err(e))?
            .take(limit)
        {
            let (_, value) = entry.map_err(|e| self.err(e))?;
            out.push(serde_json::from_slice(value.value()).map_err(|e| self.err(e))?);
        }
        Ok(out)
    }

    /// Up to `limit` attestations of batches that contain a block in `from..=to`, by batch id.
    pub fn in_range(
        &self,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<BatchAttestation>, AttestError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let index = tx.open_table(BY_LAST_BLOCK).map_err(|e| self.err(e))?;
        let batches = tx.open_table(BATCHES).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in index.range((from, 0)..).map_err(|e| self.err(e))? {
            let (key, _) = entry.map_err(|e| self.err(e))?;
            let Some(value) = batches.get(key.value().1).map_err(|e| self.err(e))? else {
                continue;
            };
            let a: BatchAttestation =
                serde_json::from_slice(value.value()).map_err(|e| self.err(e))?;
            if a.commitment.first_block <= to {
                out.push(a);
            }
        }
        out.sort_by_key(|a| a.batch_id);
        out.truncate(limit);
        Ok(out)
    }

    /// Records (or replaces) how `batch_id` is being or was committed on chain.
    pub fn record_anchoring(
        &self,
        batch_id: u64,
        anchoring: &Anchoring,
    ) -> Result<(), AttestError> {
        let json = serde_json::to_vec(anchoring).map_err(|e| self.err(e))?;
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = tx.open_table(ANCHORINGS).map_err(|e| self.err(e))?;
            table
                .insert(batch_id, json.as_slice())
                .map_err(|e| self.err(e))?;
            let mut unconfirmed = tx.open_table(UNCONFIRMED).map_err(|e| self.err(e))?;
            if anchoring.block_number.is_none() {
                unconfirmed.insert(batch_id, ()).map_err(|e| self.err(e))?;
            } else {
                unconfirmed.remove(batch_id).map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Forgets the anchoring of `batch_id` (its transaction failed: it will be committed again).
    pub fn remove_anchoring(&self, batch_id: u64) -> Result<(), AttestError> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = tx.open_table(ANCHORINGS).map_err(|e| self.err(e))?;
            table.remove(batch_id).map_err(|e| self.err(e))?;
            let mut unconfirmed = tx.open_table(UNCONFIRMED).map_err(|e| self.err(e))?;
            unconfirmed.remove(batch_id).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// How `batch_id` was committed, if this node's anchor committed it.
    pub fn anchoring(&self, batch_id: u64) -> Result<Option<Anchoring>, AttestError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(ANCHORINGS).map_err(|e| self.err(e))?;
        let Some(value) = table.get(batch_id).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(value.value())
            .map(Some)
            .map_err(|e| self.err(e))
    }

    /// The anchorings whose transaction has not been seen included yet, by batch id.
    pub fn unconfirmed_anchorings(&self) -> Result<Vec<(u64, Anchoring)>, AttestError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let unconfirmed = tx.open_table(UNCONFIRMED).map_err(|e| self.err(e))?;
        let table = tx.open_table(ANCHORINGS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in unconfirmed.iter().map_err(|e| self.err(e))? {
            let id = entry.map_err(|e| self.err(e))?.0.value();
            if let Some(value) = table.get(id).map_err(|e| self.err(e))? {
                out.push((
                    id,
                    serde_json::from_slice(value.value()).map_err(|e| self.err(e))?,
                ));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(batch_id: u64, first: u64, last: u64) -> BatchAttestation {
        BatchAttestation {
            batch_id,
            commitment: BatchCommitment {
                chain_id: 901,
                batch_id,
                first_block: first,
                last_block: last,
                block_hashes_hash: B256::ZERO,
                frames_hash: B256::ZERO,
                key_epoch: 0,
            },
            commitment_hash: B256::repeat_byte(batch_id as u8),
            block_hashes: vec![],
            bundle: Bytes::from_static(b"AQSB"),
            report_data_binding: ReportDataBinding {
                sequencer: Default::default(),
                mldsa_key_hash: B256::ZERO,
                slhdsa_key_hash: B256::ZERO,
                encryption_key_hash: B256::ZERO,
                binding: B256::ZERO,
                domain: aegis_tee::ReportDataDomain::off_chain(
                    aegis_tee::ReportDataPurpose::Batch,
                    901,
                ),
            },
            quote: Bytes::new(),
            quote_provider: "simulator".into(),
            slh_dsa: SlhDsaStatus::Pending,
            created_at: 1,
        }
    }

    #[test]
    fn anchorings_are_confirmed_replaced_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.redb");
        let store = AttestationStore::open(&path).unwrap();
        store.put(&sample(1, 1, 10)).unwrap();
        assert_eq!(store.anchoring(1).unwrap(), None);
        let submitted = Anchoring {
            path: CommitPath::Ecdsa,
            transaction_hash: B256::repeat_byte(1),
            block_number: None,
        };
        store.record_anchoring(1, &submitted).unwrap();
        store.record_anchoring(2, &submitted).unwrap();
        assert_eq!(store.unconfirmed_anchorings().unwrap().len(), 2);
        // Resubmitted through the other path, then included.
        let included = Anchoring {
            path: CommitPath::Pq,
            transaction_hash: B256::repeat_byte(2),
            block_number: Some(7),
        };
        store.record_anchoring(1, &included).unwrap();
        assert_eq!(store.unconfirmed_anchorings().unwrap(), [(2, submitted)]);
        store.remove_anchoring(2).unwrap();
        assert!(store.unconfirmed_anchorings().unwrap().is_empty());
        assert_eq!(store.anchoring(2).unwrap(), None);
        // Kept across a restart, and apart from the attestation, which is unchanged.
        drop(store);
        let store = AttestationStore::open(&path).unwrap();
        assert_eq!(store.anchoring(1).unwrap(), Some(included));
        assert_eq!(store.get(1).unwrap().unwrap(), sample(1, 1, 10));
        assert_eq!(
            serde_json::to_value(included).unwrap(),
            serde_json::json!({
                "path": "pq",
                "transactionHash": B256::repeat_byte(2),
                "blockNumber": 7,
            })
        );
    }

    #[test]
    fn put_get_and_range_queries() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttestationStore::open(&dir.path().join("a.redb")).unwrap();
        assert_eq!(store.last_batch_id().unwrap(), 0);
        store.put(&sample(1, 1, 10)).unwrap();
        store.put(&sample(2, 11, 20)).unwrap();
        store.put(&sample(3, 21, 30)).unwrap();
        assert_eq!(store.last_batch_id().unwrap(), 3);
        assert_eq!(store.get(2).unwrap().unwrap(), sample(2, 11, 20));
        assert!(store.get(4).unwrap().is_none());
        let ids = |from, to| {
            store
                .in_range(from, to, 10)
                .unwrap()
                .iter()
                .map(|a| a.batch_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(15, 25), vec![2, 3]);
        assert_eq!(ids(10, 11), vec![1, 2]);
        assert_eq!(ids(31, 40), Vec::<u64>::new());
        assert_eq!(store.in_range(0, 100, 2).unwrap().len(), 2);
        let by_id = |first, limit| {
            store
                .from_batch(first, limit)
                .unwrap()
                .iter()
                .map(|a| a.batch_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(by_id(2, 10), vec![2, 3]);
        assert_eq!(by_id(1, 2), vec![1, 2]);
        assert_eq!(by_id(4, 10), Vec::<u64>::new());
        let mut updated = sample(2, 11, 20);
        updated.slh_dsa = SlhDsaStatus::Signed;
        store.put(&updated).unwrap();
        assert_eq!(store.get(2).unwrap().unwrap().slh_dsa, SlhDsaStatus::Signed);
        drop(store);
        let reopened = AttestationStore::open(&dir.path().join("a.redb")).unwrap();
        assert_eq!(reopened.last_batch_id().unwrap(), 3);
    }
}
