//! Migration checkpoints: a signed record of the chain's state at one block, taken before
//! assets move to post-quantum custody.
//!
//! A checkpoint holds the block's number, hash and state root, and a snapshot of every
//! registered on-chain asset's account (balance, nonce, code hash and storage root, so its
//! whole storage is pinned). [`Checkpoint::digest`] covers all of it and is signed with the
//! sequencer's ML-DSA-87 key; `SequencerAttestation.recordCheckpoint` stores the id, block,
//! state root, [`Checkpoint::asset_snapshot_root`] and the signature's keccak256 on chain.
//! Anyone can check a checkpoint file against a node (`eth_getProof` gives the same account
//! fields) and against the contract.

mod verify;

pub use verify::{ChainNode, verify_on_chain, verify_signer};

use aegis_pqc::{Algorithm, Signer};
use aegis_storage::StateView;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Domain tag of [`Checkpoint::digest`].
pub const CHECKPOINT_DOMAIN: &[u8] = b"QuantumAegis checkpoint v1";

/// Errors of checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// A node answered an error, or nothing that parses.
    #[error("JSON-RPC {method}: {reason}")]
    Rpc {
        /// The method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// Reading state failed.
    #[error(transparent)]
    Storage(#[from] aegis_storage::StorageError),
    /// Signing or verifying failed.
    #[error(transparent)]
    Pqc(#[from] aegis_pqc::PqcError),
    /// A checkpoint file could not be read or written.
    #[error("checkpoint file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A check of a checkpoint failed.
    #[error("checkpoint {id}: {what}")]
    Mismatch {
        /// The checkpoint.
        id: u64,
        /// What differs.
        what: String,
    },
}

/// One asset's account at the checkpoint's block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetSnapshot {
    /// The registry's asset id.
    pub asset: B256,
    /// Its contract.
    pub address: Address,
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// keccak256 of its code.
    pub code_hash: B256,
    /// Root of its storage trie.
    pub storage_root: B256,
}

impl AssetSnapshot {
    /// Reads `address` from `state` (an absent account snapshots as all zero).
    pub fn read(state: &StateView, asset: B256, address: Address) -> Result<Self, MigrationError> {
        let account = state.account(&address)?.unwrap_or_default();
        Ok(Self {
            asset,
            address,
            balance: account.balance,
            nonce: account.nonce,
            code_hash: account.code_hash,
            storage_root: account.storage_root,
        })
    }

    /// `address ‖ balance (32) ‖ nonce (8) ‖ codeHash ‖ storageRoot ‖ asset`.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.address.as_slice());
        out.extend_from_slice(&self.balance.to_be_bytes::<32>());
        out.extend_from_slice(&self.nonce.to_be_bytes());
        out.extend_from_slice(self.code_hash.as_slice());
        out.extend_from_slice(self.storage_root.as_slice());
        out.extend_from_slice(self.asset.as_slice());
    }
}

/// A migration checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Id (from 1).
    pub id: u64,
    /// L2 chain id.
    pub chain_id: u64,
    /// The block.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The asset snapshots, by address.
    pub assets: Vec<AssetSnapshot>,
    /// keccak256 over the snapshots ([`Checkpoint::snapshot_root`]).
    pub asset_snapshot_root: B256,
    /// Migration contracts and vaults whose transactions this migration groups.
    pub targets: Vec<Address>,
    /// Key epoch of the signing key.
    pub key_epoch: u32,
    /// The ML-DSA-87 public key.
    pub mldsa_public_key: Bytes,
    /// The ML-DSA-87 signature over [`Checkpoint::digest`].
    pub mldsa_signature: Bytes,
    /// Unix seconds.
    pub created_at: u64,
}

impl Checkpoint {
    /// Takes checkpoint `id` of block (`number`, `hash`, `state_root`), snapshotting `assets`
    /// (`(asset id, contract)`) from `state`, and signs it.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        id: u64,
        chain_id: u64,
        (number, hash, state_root): (u64, B256, B256),
        state: &StateView,
        assets: &[(B256, Address)],
        targets: Vec<Address>,
        signer: &dyn Signer,
        key_epoch: u32,
        now: u64,
    ) -> Result<Self, MigrationError> {
        let mut snapshots = assets
            .iter()
            .map(|(asset, address)| AssetSnapshot::read(state, *asset, *address))
            .collect::<Result<Vec<_>, _>>()?;
        snapshots.sort_by_key(|s| (s.address, s.asset));
        let mut checkpoint = Self {
            id,
            chain_id,
            block_number: number,
            block_hash: hash,
            state_root,
            asset_snapshot_root: Self::snapshot_root(&snapshots),
            assets: snapshots,
            targets,
            key_epoch,
            mldsa_public_key: signer.public_key().to_vec().into(),
            mldsa_signature: Bytes::new(),
            created_at: now,
        };
        checkpoint.mldsa_signature = signer.sign(&checkpoint.digest())?.into();
        Ok(checkpoint)
    }

    /// keccak256 of the snapshots' encodings, in order.
    pub fn snapshot_root(snapshots: &[AssetSnapshot]) -> B256 {
        let mut buf = Vec::with_capacity(snapshots.len() * 160);
        for s in snapshots {
            s.encode(&mut buf);
        }
        keccak256(buf)
    }

    /// What the ML-DSA-87 signature signs: `keccak256(CHECKPOINT_DOMAIN ‖ chainId ‖ id ‖
    /// blockNumber (8 bytes each, big-endian) ‖ blockHash ‖ stateRoot ‖ assetSnapshotRoot)`.
    pub fn digest(&self) -> B256 {
        let mut buf = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 24 + 96);
        buf.extend_from_slice(CHECKPOINT_DOMAIN);
        buf.extend_from_slice(&self.chain_id.to_be_bytes());
        buf.extend_from_slice(&self.id.to_be_bytes());
        buf.extend_from_slice(&self.block_number.to_be_bytes());
        buf.extend_from_slice(self.block_hash.as_slice());
        buf.extend_from_slice(self.state_root.as_slice());
        buf.extend_from_slice(self.asset_snapshot_root.as_slice());
        keccak256(buf)
    }

    /// keccak256 of the signature: what the contract records.
    pub fn mldsa_sig_hash(&self) -> B256 {
        keccak256(&self.mldsa_signature)
    }

    /// Checks the snapshot root and the ML-DSA-87 signature (by the key in the file).
    pub fn verify_self(&self) -> Result<(), MigrationError> {
        if Self::snapshot_root(&self.assets) != self.asset_snapshot_root {
            return Err(self.mismatch("the asset snapshot root does not match the snapshots"));
        }
        aegis_pqc::verify(
            Algorithm::MlDsa87,
            &self.mldsa_public_key,
            &self.digest(),
            &self.mldsa_signature,
        )?;
        Ok(())
    }

    /// An error about this checkpoint.
    pub fn mismatch(&self, what: impl Into<String>) -> MigrationError {
        MigrationError::Mismatch {
            id: self.id,
            what: what.into(),
        }
    }
}

/// A checkpoint with the address of the sequencer whose key signed it: what a node serves beside
/// a state snapshot, and what a joining worker checks ([`verify_signer`]) before it trusts the
/// snapshot's block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedCheckpoint {
    /// The checkpoint (id = block number for the periodic state checkpoints).
    pub checkpoint: Checkpoint,
    /// The sequencer that signed it.
    pub signer: Address,
}

/// Checkpoint files (`<dir>/<id>.json`).
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    dir: PathBuf,
}

impl CheckpointStore {
    /// Checkpoints in `dir` (created when the first is saved).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn file_err(path: &Path, e: impl std::fmt::Display) -> MigrationError {
        MigrationError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    }

    /// The file of checkpoint `id`.
    pub fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes `checkpoint` (write, fsync, rename; an existing id is refused).
    pub fn save(&self, checkpoint: &Checkpoint) -> Result<PathBuf, MigrationError> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::file_err(&self.dir, e))?;
        let path = self.path(checkpoint.id);
        if path.exists() {
            return Err(Self::file_err(&path, "exists; checkpoints are immutable"));
        }
        let tmp = path.with_extension("tmp");
        let json = serde_json::to_vec_pretty(checkpoint).map_err(|e| Self::file_err(&path, e))?;
        let mut file = std::fs::File::create(&tmp).map_err(|e| Self::file_err(&tmp, e))?;
        file.write_all(&json).map_err(|e| Self::file_err(&tmp, e))?;
        file.sync_all().map_err(|e| Self::file_err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Self::file_err(&path, e))?;
        Ok(path)
    }

    /// Reads a checkpoint file.
    pub fn load_file(path: &Path) -> Result<Checkpoint, MigrationError> {
        let bytes = std::fs::read(path).map_err(|e| Self::file_err(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Self::file_err(path, e))
    }

    /// Checkpoint `id`, if stored.
    pub fn get(&self, id: u64) -> Result<Option<Checkpoint>, MigrationError> {
        let path = self.path(id);
        if !path.exists() {
            return Ok(None);
        }
        Self::load_file(&path).map(Some)
    }

    /// The stored ids, ascending.
    pub fn ids(&self) -> Result<Vec<u64>, MigrationError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::file_err(&self.dir, e)),
        };
        let mut ids: Vec<u64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aegis_pqc::MlDsa87Signer;

    fn sample(signer: &MlDsa87Signer) -> Checkpoint {
        let assets = vec![AssetSnapshot {
            asset: B256::repeat_byte(1),
            address: Address::repeat_byte(2),
            balance: U256::from(5),
            nonce: 1,
            code_hash: B256::repeat_byte(3),
            storage_root: B256::repeat_byte(4),
        }];
        let mut c = Checkpoint {
            id: 1,
            chain_id: 901,
            block_number: 10,
            block_hash: B256::repeat_byte(5),
            state_root: B256::repeat_byte(6),
            asset_snapshot_root: Checkpoint::snapshot_root(&assets),
            assets,
            targets: vec![],
            key_epoch: 0,
            mldsa_public_key: signer.public_key().to_vec().into(),
            mldsa_signature: Bytes::new(),
            created_at: 1,
        };
        c.mldsa_signature = signer.sign(&c.digest()).unwrap().into();
        c
    }

    #[test]
    fn signed_checkpoints_verify_and_any_change_breaks_them() {
        let signer = MlDsa87Signer::from_seed(&[9; 32]);
        let c = sample(&signer);
        c.verify_self().unwrap();
        let mut tampered = c.clone();
        tampered.state_root = B256::repeat_byte(7);
        assert!(tampered.verify_self().is_err());
        let mut tampered = c.clone();
        tampered.assets[0].balance = U256::from(6);
        assert!(matches!(
            tampered.verify_self(),
            Err(MigrationError::Mismatch { .. })
        ));
    }

    #[test]
    fn the_store_keeps_checkpoints_immutable() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(dir.path().join("checkpoints"));
        assert!(store.ids().unwrap().is_empty());
        let c = sample(&MlDsa87Signer::from_seed(&[9; 32]));
        store.save(&c).unwrap();
        assert!(store.save(&c).is_err());
        assert_eq!(store.ids().unwrap(), vec![1]);
        assert_eq!(store.get(1).unwrap().unwrap(), c);
        assert!(store.get(2).unwrap().is_none());
    }
}
