use crate::AttestError;
use aegis_envelope::{RecipientPublicKey, RecipientSecretKey};
use aegis_pqc::{
    EcdsaSigner, EpochKeys, EpochPublicKeys, KeyStore, SealingKey, Signer as _, SlhDsaVariant,
};
use aegis_tee::{AttestationProvider, ReportDataBinding, ReportDataDomain, ReportDataPurpose};
use alloy_primitives::{Address, B256, keccak256};
use rand_core::OsRng;
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, RwLock},
};
use zeroize::Zeroizing;

/// What the outgoing ML-DSA-87 key signs (empty context) to hand over to the keys of a new epoch:
/// `keccak256("QuantumAegis key handover v1" ‖ uint64 chainId ‖ sequencer ‖ mldsaKeyHash ‖
/// slhdsaKeyHash ‖ encryptionKeyHash)`, as `SequencerAttestation.keyHandoverDigest` computes it.
pub fn key_handover_digest(chain_id: u64, sequencer: Address, hashes: (B256, B256, B256)) -> B256 {
    let mut buf = b"QuantumAegis key handover v1".to_vec();
    buf.extend_from_slice(&chain_id.to_be_bytes());
    buf.extend_from_slice(sequencer.as_slice());
    for hash in [hashes.0, hashes.1, hashes.2] {
        buf.extend_from_slice(hash.as_slice());
    }
    keccak256(buf)
}

/// The outgoing epoch's handover to the keys of `epoch`, written when the keys rotate: what
/// `SequencerAttestation.updateKeys` needs to register that epoch, even after later rotations
/// have retired its secrets (a registry several epochs behind is walked forward one epoch at a
/// time, each handover verified under the key registered before it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyHandover {
    /// The incoming epoch.
    pub epoch: u32,
    /// keccak256 of its ML-DSA-87 public key.
    pub mldsa_key_hash: B256,
    /// keccak256 of its SLH-DSA-256s public key.
    pub slhdsa_key_hash: B256,
    /// keccak256 of its mempool encryption public key.
    pub encryption_key_hash: B256,
    /// The outgoing epoch's ML-DSA-87 signature over [`key_handover_digest`] of these hashes.
    pub signature: alloy_primitives::Bytes,
}

impl KeyHandover {
    /// `(mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash)` of the incoming epoch.
    pub fn key_hashes(&self) -> (B256, B256, B256) {
        (
            self.mldsa_key_hash,
            self.slhdsa_key_hash,
            self.encryption_key_hash,
        )
    }
}

/// Name of the mempool decryption key among the key store's per-epoch secrets.
pub const ENCRYPTION_SECRET_NAME: &str = "mempool-encryption";

/// How to open the identity.
#[derive(Debug)]
pub struct IdentityConfig {
    /// The L2 chain id (envelopes and commitments are bound to it).
    pub chain_id: u64,
    /// The sealed key store file.
    pub keystore: PathBuf,
    /// What unseals it.
    pub sealing: SealingKey,
    /// Create the key store when the file is missing (development); otherwise a missing file
    /// is an error.
    pub create_if_missing: bool,
    /// SLH-DSA-256s hash family for new keys.
    pub slh_variant: SlhDsaVariant,
    /// Where quotes come from.
    pub provider: AttestationProvider,
}

struct Current {
    keys: KeyStore,
    encryption: Arc<RecipientSecretKey>,
}

/// The keys of one moment (see [`Identity::snapshot`]).
#[derive(Debug, Clone)]
pub struct KeySnapshot {
    /// The epoch's post-quantum keys.
    pub keys: Arc<EpochKeys>,
    /// The secp256k1 key.
    pub ecdsa: EcdsaSigner,
    /// keccak256 of the epoch's mempool encryption public key.
    pub encryption_key_hash: B256,
}

impl KeySnapshot {
    /// The REPORTDATA binding of these keys, `binding` and `domain`.
    pub fn binding(&self, domain: ReportDataDomain, binding: B256) -> ReportDataBinding {
        key_binding(self.ecdsa.address(), self.key_hashes(), domain, binding)
    }

    /// `(mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash)`, as `SequencerAttestation` records them.
    pub fn key_hashes(&self) -> (B256, B256, B256) {
        (
            self.keys.mldsa.key_hash(),
            self.keys.slhdsa.key_hash(),
            self.encryption_key_hash,
        )
    }
}

fn key_binding(
    sequencer: Address,
    (mldsa_key_hash, slhdsa_key_hash, encryption_key_hash): (B256, B256, B256),
    domain: ReportDataDomain,
    binding: B256,
) -> ReportDataBinding {
    ReportDataBinding {
        sequencer,
        mldsa_key_hash,
        slhdsa_key_hash,
        encryption_key_hash,
        binding,
        domain,
    }
}

/// The sequencer's keys and the TEE that attests them.
pub struct Identity {
    chain_id: u64,
    provider: AttestationProvider,
    current: RwLock<Current>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("chain_id", &self.chain_id)
            .field("address", &self.address())
            .field("epoch", &self.epoch())
            .field("provider", &self.provider.kind())
            .finish()
    }
}

/// Per-epoch secrets sealed next to the signing keys, by name.
type EpochSecrets = BTreeMap<String, Zeroizing<Vec<u8>>>;

fn encryption_extra(
    chain_id: u64,
    epoch: u32,
) -> Result<(RecipientSecretKey, EpochSecrets), AttestError> {
    let secret = RecipientSecretKey::generate(chain_id, epoch, &mut OsRng)?;
    let extra = BTreeMap::from([(ENCRYPTION_SECRET_NAME.to_string(), secret.to_bytes())]);
    Ok((secret, extra))
}

impl Identity {
    /// Creates a new key store at `path` (epoch 0 keys and a mempool encryption key for
    /// `chain_id`); refuses to overwrite one.
    pub fn create_keystore(
        path: &std::path::Path,
        sealing: SealingKey,
        chain_id: u64,
        variant: SlhDsaVariant,
    ) -> Result<KeyStore, AttestError> {
        let (_, extra) = encryption_extra(chain_id, 0)?;
        Ok(KeyStore::create(path, sealing, variant, extra)?)
    }

    /// Opens (or, if allowed, creates) the key store and checks it belongs to this chain.
    pub fn open(config: IdentityConfig) -> Result<Self, AttestError> {
        let keys = if config.create_if_missing && !config.keystore.exists() {
            let store = Self::create_keystore(
                &config.keystore,
                config.sealing,
                config.chain_id,
                config.slh_variant,
            )?;
            tracing::info!(target: "aegis::attest", path = %config.keystore.display(), address = %store.address(), "created sequencer key store");
            store
        } else {
            KeyStore::open(&config.keystore, config.sealing)?
        };
        let current = keys.current();
        let encryption = match current.extra.get(ENCRYPTION_SECRET_NAME) {
            Some(bytes) => RecipientSecretKey::from_bytes(bytes)?,
            None => {
                return Err(AttestError::Pqc(aegis_pqc::PqcError::KeyStoreCorrupt {
                    path: config.keystore.clone(),
                    reason: format!("no {ENCRYPTION_SECRET_NAME} key"),
                }));
            }
        };
        if encryption.chain_id() != config.chain_id {
            return Err(AttestError::WrongChain {
                expected: config.chain_id,
                found: encryption.chain_id(),
            });
        }
        metrics::gauge!("aegis_key_epoch").set(f64::from(keys.current().epoch));
        Ok(Self {
            chain_id: config.chain_id,
            provider: config.provider,
            current: RwLock::new(Current {
                keys,
                encryption: Arc::new(encryption),
            }),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        // A panic while holding the lock cannot leave `Current` half-updated (rotation swaps
        // whole values), so a poisoned lock is still consistent.
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The L2 chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The attestation provider.
    pub fn provider(&self) -> &AttestationProvider {
        &self.provider
    }

    /// The sequencer address (secp256k1 key).
    pub fn address(&self) -> Address {
        self.read().keys.address()
    }

    /// The long-lived secp256k1 key.
    pub fn ecdsa(&self) -> EcdsaSigner {
        self.read().keys.ecdsa().clone()
    }

    /// The current key epoch.
    pub fn epoch(&self) -> u32 {
        self.read().keys.current().epoch
    }

    /// The current epoch's signing keys.
    pub fn current_keys(&self) -> Arc<EpochKeys> {
        self.read().keys.current()
    }

    /// Public keys of every epoch, the current one last.
    pub fn public_epochs(&self) -> Vec<EpochPublicKeys> {
        self.read().keys.public_epochs()
    }

    /// The current mempool decryption key.
    pub fn encryption_secret(&self) -> Arc<RecipientSecretKey> {
        self.read().encryption.clone()
    }

    /// The current mempool encryption public key.
    pub fn encryption_public_key(&self) -> RecipientPublicKey {
        self.read().encryption.public_key().clone()
    }

    /// All current keys, read together: work that signs and attests with them stays within
    /// one epoch even when a rotation happens meanwhile.
    pub fn snapshot(&self) -> KeySnapshot {
        let current = self.read();
        KeySnapshot {
            keys: current.keys.current(),
            ecdsa: current.keys.ecdsa().clone(),
            encryption_key_hash: current.encryption.key_hash(),
        }
    }

    /// The domain of a quote this node serves off chain for `purpose` (batch, mempool key,
    /// identity): its L2 chain id, no verifying contract.
    pub fn off_chain_domain(&self, purpose: ReportDataPurpose) -> ReportDataDomain {
        ReportDataDomain::off_chain(purpose, self.chain_id)
    }

    /// The REPORTDATA binding of the current keys, `binding` (a nonce or a commitment) and
    /// `domain`.
    pub fn binding(&self, domain: ReportDataDomain, binding: B256) -> ReportDataBinding {
        self.snapshot().binding(domain, binding)
    }

    /// A quote over the current keys, `binding` and `domain`.
    pub async fn quote(
        &self,
        domain: ReportDataDomain,
        binding: B256,
    ) -> Result<(ReportDataBinding, Vec<u8>), AttestError> {
        self.quote_with(&self.snapshot(), domain, binding).await
    }

    /// A quote over the keys of `snapshot`, `binding` and `domain`.
    pub async fn quote_with(
        &self,
        snapshot: &KeySnapshot,
        domain: ReportDataDomain,
        binding: B256,
    ) -> Result<(ReportDataBinding, Vec<u8>), AttestError> {
        self.quote_keys(snapshot.key_hashes(), domain, binding)
            .await
    }

    /// A quote over the keys hashing to `key_hashes` (`(mldsa, slhdsa, encryption)`; this
    /// node's keys of some epoch, e.g. a [`KeyHandover`]'s), `binding` and `domain`.
    pub async fn quote_keys(
        &self,
        key_hashes: (B256, B256, B256),
        domain: ReportDataDomain,
        binding: B256,
    ) -> Result<(ReportDataBinding, Vec<u8>), AttestError> {
        let report = key_binding(self.address(), key_hashes, domain, binding);
        let quote = self.provider.quote(report.report_data()).await?;
        Ok((report, quote))
    }

    /// Starts a new key epoch: fresh ML-DSA-87, SLH-DSA-256s and mempool encryption keys,
    /// sealed to disk before they are used. Envelopes to the old key are refused from now on.
    /// The outgoing ML-DSA-87 key signs the handover to the new keys ([`key_handover_digest`]),
    /// kept beside the key store ([`Identity::handover`]) for `SequencerAttestation.updateKeys`.
    pub fn rotate(&self) -> Result<u32, AttestError> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let next = current.keys.current().epoch + 1;
        let (secret, extra) = encryption_extra(self.chain_id, next)?;
        let (chain_id, sequencer) = (self.chain_id, current.keys.address());
        let path = handover_path(current.keys.path(), next);
        let encryption_key_hash = secret.key_hash();
        // Written before the new epoch is sealed: a crash in between leaves the old epoch
        // current (and a stray handover the next rotation overwrites), never an epoch that
        // cannot be handed over to.
        let epoch = current.keys.rotate_with(extra, |outgoing, incoming| {
            let hashes = (
                incoming.mldsa.key_hash(),
                incoming.slhdsa.key_hash(),
                encryption_key_hash,
            );
            let digest = key_handover_digest(chain_id, sequencer, hashes);
            let handover = KeyHandover {
                epoch: incoming.epoch,
                mldsa_key_hash: hashes.0,
                slhdsa_key_hash: hashes.1,
                encryption_key_hash,
                signature: outgoing.mldsa.sign(&digest)?.into(),
            };
            let json = serde_json::to_vec_pretty(&handover).expect("serialisable");
            std::fs::write(&path, json).map_err(|e| aegis_pqc::PqcError::KeyStoreIo {
                path: path.clone(),
                reason: format!("writing the key handover: {e}"),
            })
        })?;
        current.encryption = Arc::new(secret);
        metrics::gauge!("aegis_key_epoch").set(f64::from(epoch));
        Ok(epoch)
    }

    /// Makes `secret` this node's mempool decryption key: the key a cluster shares, received
    /// from a member through the attested handshake of `aegis-keyshare`. It must serve this
    /// node's chain; it keeps its own key epoch (the cluster's), which may differ from this
    /// node's signing-key epoch. It is sealed into the key store's current epoch (the file is
    /// replaced atomically) before it is used; envelopes to the previous key are refused from
    /// then on. The next [`Identity::rotate`] replaces it with a fresh key of this node's own.
    pub fn adopt_encryption_key(&self, secret: RecipientSecretKey) -> Result<(), AttestError> {
        if secret.chain_id() != self.chain_id {
            return Err(AttestError::WrongChain {
                expected: self.chain_id,
                found: secret.chain_id(),
            });
        }
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        current
            .keys
            .replace_extra(ENCRYPTION_SECRET_NAME, secret.to_bytes())?;
        tracing::info!(
            target: "aegis::attest",
            key_epoch = secret.epoch(),
            key_hash = %secret.key_hash(),
            "adopted the cluster's mempool encryption key"
        );
        current.encryption = Arc::new(secret);
        Ok(())
    }

    /// A handover from the current epoch's ML-DSA-87 key to the current key hashes: what
    /// `updateKeys` needs when the registry holds this epoch's signing keys but another mempool
    /// key (the node adopted the cluster's after registering). Signed now, not stored.
    pub fn self_handover(&self) -> Result<KeyHandover, AttestError> {
        let current = self.read();
        let keys = current.keys.current();
        let hashes = (
            keys.mldsa.key_hash(),
            keys.slhdsa.key_hash(),
            current.encryption.key_hash(),
        );
        let digest = key_handover_digest(self.chain_id, current.keys.address(), hashes);
        Ok(KeyHandover {
            epoch: keys.epoch,
            mldsa_key_hash: hashes.0,
            slhdsa_key_hash: hashes.1,
            encryption_key_hash: hashes.2,
            signature: keys.mldsa.sign(&digest)?.into(),
        })
    }

    /// The previous epoch's handover to `epoch`'s keys, if this node rotated into it.
    pub fn handover(&self, epoch: u32) -> Option<KeyHandover> {
        let current = self.read();
        let json = std::fs::read(handover_path(current.keys.path(), epoch)).ok()?;
        serde_json::from_slice(&json)
            .ok()
            .filter(|h: &KeyHandover| h.epoch == epoch)
    }
}

fn handover_path(keystore: &std::path::Path, epoch: u32) -> PathBuf {
    keystore.with_file_name(format!("handover-{epoch}.json"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn identity(dir: &std::path::Path, create: bool) -> Result<Identity, AttestError> {
        Identity::open(IdentityConfig {
            chain_id: 901,
            keystore: dir.join("keys/sequencer.keystore"),
            sealing: SealingKey::Secret(Zeroizing::new([1; 32])),
            create_if_missing: create,
            slh_variant: SlhDsaVariant::Sha2,
            provider: AttestationProvider::Simulator(aegis_tee::Simulator::new([2; 32]).unwrap()),
        })
    }

    #[tokio::test]
    async fn quotes_bind_the_current_keys_and_rotation_changes_them() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            identity(dir.path(), false),
            Err(AttestError::Pqc(aegis_pqc::PqcError::KeyStoreMissing(_)))
        ));
        let id = identity(dir.path(), true).unwrap();
        let nonce = B256::repeat_byte(3);
        let domain = id.off_chain_domain(ReportDataPurpose::Identity);
        assert_eq!(
            domain,
            ReportDataDomain::off_chain(ReportDataPurpose::Identity, 901)
        );
        let (binding, quote) = id.quote(domain, nonce).await.unwrap();
        let root = aegis_tee::Simulator::new([2; 32])
            .unwrap()
            .dev_root_public_key();
        let verified = aegis_tee::verify_dev(&quote, &root).unwrap();
        assert!(binding.matches(&verified.report_data));
        assert_eq!(binding.sequencer, id.address());
        assert_eq!(
            binding.encryption_key_hash,
            id.encryption_public_key().key_hash()
        );

        let before = id.encryption_public_key();
        let outgoing = id.public_epochs().pop().unwrap();
        assert!(id.handover(1).is_none());
        assert_eq!(id.rotate().unwrap(), 1);
        assert_eq!(id.epoch(), 1);
        // The outgoing ML-DSA key signed the handover to exactly the new keys.
        let handover = id.handover(1).expect("handover kept");
        assert_eq!(handover.key_hashes(), id.snapshot().key_hashes());
        let digest = key_handover_digest(901, id.address(), handover.key_hashes());
        let pk = fips204::ml_dsa_87::PublicKey::try_from_bytes(
            outgoing.mldsa_public_key.clone().try_into().unwrap(),
        )
        .unwrap();
        let signature: [u8; 4627] = handover.signature.to_vec().try_into().unwrap();
        use fips204::traits::{SerDes as _, Verifier as _};
        assert!(pk.verify(digest.as_slice(), &signature, &[]));
        let stale = key_handover_digest(901, id.address(), binding_hashes(&binding));
        assert!(!pk.verify(stale.as_slice(), &signature, &[]));
        assert_ne!(id.encryption_public_key(), before);
        assert_eq!(id.encryption_public_key().epoch(), 1);
        assert_ne!(id.binding(domain, nonce), binding);
        drop(id);
        // Reopened: the rotated keys are what was sealed.
        let again = identity(dir.path(), false).unwrap();
        assert_eq!(again.epoch(), 1);
        assert_eq!(again.public_epochs().len(), 2);
        // Each handover stays readable after later rotations retired its epoch's secrets, and
        // chains: epoch 2's is signed by epoch 1's key.
        let epoch1 = again.public_epochs().pop().unwrap();
        assert_eq!(again.rotate().unwrap(), 2);
        assert_eq!(again.handover(1), Some(handover));
        let second = again.handover(2).unwrap();
        let pk1 = fips204::ml_dsa_87::PublicKey::try_from_bytes(
            epoch1.mldsa_public_key.try_into().unwrap(),
        )
        .unwrap();
        let digest = key_handover_digest(901, again.address(), second.key_hashes());
        let signature: [u8; 4627] = second.signature.to_vec().try_into().unwrap();
        assert!(pk1.verify(digest.as_slice(), &signature, &[]));
        // A quote over an older epoch's keys binds exactly those.
        let (bound, _) = again
            .quote_keys(second.key_hashes(), domain, nonce)
            .await
            .unwrap();
        assert_eq!(binding_hashes(&bound), second.key_hashes());
        assert!(again.handover(3).is_none());
    }

    fn binding_hashes(binding: &ReportDataBinding) -> (B256, B256, B256) {
        (
            binding.mldsa_key_hash,
            binding.slhdsa_key_hash,
            binding.encryption_key_hash,
        )
    }

    #[test]
    fn an_adopted_encryption_key_is_sealed_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let id = identity(dir.path(), true).unwrap();
        let (address, keys) = (id.address(), id.snapshot().key_hashes());
        let shared = RecipientSecretKey::generate(901, 4, &mut OsRng).unwrap();
        let shared_hash = shared.key_hash();
        let envelope = aegis_envelope::seal(shared.public_key(), b"raw tx", &mut OsRng).unwrap();

        let foreign = RecipientSecretKey::generate(10, 4, &mut OsRng).unwrap();
        assert!(matches!(
            id.adopt_encryption_key(foreign),
            Err(AttestError::WrongChain {
                expected: 901,
                found: 10
            })
        ));
        assert_ne!(id.encryption_public_key().key_hash(), shared_hash);

        id.adopt_encryption_key(shared).unwrap();
        assert_eq!(id.encryption_public_key().key_hash(), shared_hash);
        assert_eq!(id.snapshot().key_hashes().2, shared_hash);
        let opened = aegis_envelope::open(&id.encryption_secret(), &envelope).unwrap();
        assert_eq!(opened.as_slice(), b"raw tx");
        // Only the mempool key changed: same address, signing keys and epoch.
        assert_eq!(id.address(), address);
        assert_eq!(id.snapshot().key_hashes().0, keys.0);
        assert_eq!(id.snapshot().key_hashes().1, keys.1);
        assert_eq!(id.epoch(), 0);
        drop(id);

        let again = identity(dir.path(), false).unwrap();
        assert_eq!(again.encryption_public_key().key_hash(), shared_hash);
        assert_eq!(again.encryption_public_key().epoch(), 4);
        let opened = aegis_envelope::open(&again.encryption_secret(), &envelope).unwrap();
        assert_eq!(opened.as_slice(), b"raw tx");
        assert_eq!(again.address(), address);
        assert_eq!(again.public_epochs().len(), 1);

        // The registry still holds the node's own mempool key: the current ML-DSA key hands
        // over to itself with the adopted one, and only to exactly these hashes.
        let handover = again.self_handover().unwrap();
        assert_eq!(handover.epoch, 0);
        assert_eq!(handover.key_hashes(), (keys.0, keys.1, shared_hash));
        let public = again.public_epochs().pop().unwrap();
        let pk = fips204::ml_dsa_87::PublicKey::try_from_bytes(
            public.mldsa_public_key.try_into().unwrap(),
        )
        .unwrap();
        let signature: [u8; 4627] = handover.signature.to_vec().try_into().unwrap();
        use fips204::traits::{SerDes as _, Verifier as _};
        let digest = key_handover_digest(901, address, handover.key_hashes());
        assert!(pk.verify(digest.as_slice(), &signature, &[]));
        let own = key_handover_digest(901, address, keys);
        assert!(!pk.verify(own.as_slice(), &signature, &[]));
    }

    #[test]
    fn a_key_store_of_another_chain_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        identity(dir.path(), true).unwrap();
        let other = Identity::open(IdentityConfig {
            chain_id: 10,
            keystore: dir.path().join("keys/sequencer.keystore"),
            sealing: SealingKey::Secret(Zeroizing::new([1; 32])),
            create_if_missing: false,
            slh_variant: SlhDsaVariant::Sha2,
            provider: AttestationProvider::Simulator(aegis_tee::Simulator::new([2; 32]).unwrap()),
        });
        assert!(matches!(
            other,
            Err(AttestError::WrongChain {
                expected: 10,
                found: 901
            })
        ));
    }
}
