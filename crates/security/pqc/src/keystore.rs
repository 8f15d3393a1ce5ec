//! Sequencer keys by epoch, sealed at rest with AES-256-GCM.

use crate::{EcdsaSigner, MlDsa87Signer, PqcError, Signer, SlhDsaSigner, SlhDsaVariant};
use aes_gcm::{Aes256Gcm, KeyInit, aead::Aead, aead::Payload};
use alloy_primitives::{Address, B256, hex};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};
use zeroize::Zeroizing;

const FORMAT: &str = "aegis-keystore";
const VERSION: u32 = 1;
const HKDF_INFO: &[u8] = b"aegis-keystore-v1 aes-256-gcm";

/// Where the key that seals the key store comes from.
///
/// In a TEE the attestation provider derives a secret bound to the measured workload (dstack's
/// `GetKey`); in development a key file or a passphrase stands in for it.
pub enum SealingKey {
    /// A 32-byte secret (a provider-derived key or the content of a key file); the AES key is
    /// HKDF-SHA256 of it with the file's salt.
    Secret(Zeroizing<[u8; 32]>),
    /// A passphrase; the AES key is Argon2id of it with the file's salt.
    Passphrase(Zeroizing<String>),
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Secret(_) => "SealingKey::Secret(..)",
            Self::Passphrase(_) => "SealingKey::Passphrase(..)",
        })
    }
}

impl SealingKey {
    /// Reads a key file holding 32 bytes as 64 hex digits. With `create`, a missing file is
    /// created with a random key, readable by its owner only.
    pub fn from_key_file(path: &Path, create: bool) -> Result<Self, PqcError> {
        let io = |reason: String| PqcError::SealingKey(format!("{}: {reason}", path.display()));
        if create && !path.exists() {
            let mut secret = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(secret.as_mut());
            write_private(path, hex::encode(secret.as_slice()).as_bytes())
                .map_err(|e| io(e.to_string()))?;
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| io(e.to_string()))?);
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim().trim_start_matches("0x"), secret.as_mut())
            .map_err(|_| io("not 32 bytes of hex".into()))?;
        Ok(Self::Secret(secret))
    }

    fn kdf_name(&self) -> &'static str {
        match self {
            Self::Secret(_) => "hkdf-sha256",
            Self::Passphrase(_) => "argon2id",
        }
    }

    fn derive(&self, kdf: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, PqcError> {
        let mut key = Zeroizing::new([0u8; 32]);
        match (self, kdf) {
            (Self::Secret(secret), "hkdf-sha256") => {
                hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), secret.as_slice())
                    .expand(HKDF_INFO, key.as_mut())
                    .map_err(|_| PqcError::SealingKey("HKDF output length".into()))?;
            }
            (Self::Passphrase(passphrase), "argon2id") => {
                argon2::Argon2::default()
                    .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
                    .map_err(|e| PqcError::SealingKey(format!("argon2id: {e}")))?;
            }
            (_, other) => {
                return Err(PqcError::SealingKey(format!(
                    "the key store is sealed with {other}, but a {} key was given",
                    self.kdf_name()
                )));
            }
        }
        Ok(key)
    }
}

/// The sealed file.
#[derive(Serialize, Deserialize)]
struct SealedFile {
    format: String,
    version: u32,
    kdf: String,
    salt: String,
    nonce: String,
    ciphertext: String,
}

fn aad(kdf: &str, salt: &[u8]) -> Vec<u8> {
    let mut out = format!("{FORMAT}/{VERSION}/{kdf}/").into_bytes();
    out.extend_from_slice(salt);
    out
}

/// The decrypted content.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Plain {
    ecdsa: String,
    slh_variant: String,
    current: PlainEpoch,
    retired: Vec<EpochPublicKeys>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainEpoch {
    epoch: u32,
    created_at: u64,
    mldsa_seed: String,
    slhdsa_secret: String,
    extra: BTreeMap<String, String>,
}

/// The public keys of one epoch, kept after rotation so old bundles still verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochPublicKeys {
    /// The epoch.
    pub epoch: u32,
    /// When the epoch's keys were generated (unix seconds).
    pub created_at: u64,
    /// ML-DSA-87 public key.
    #[serde(with = "hex_bytes")]
    pub mldsa_public_key: Vec<u8>,
    /// SLH-DSA-256s public key.
    #[serde(with = "hex_bytes")]
    pub slhdsa_public_key: Vec<u8>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&alloy_primitives::hex::encode_prefixed(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        alloy_primitives::hex::decode(text).map_err(serde::de::Error::custom)
    }
}

/// The secret keys of the current epoch.
pub struct EpochKeys {
    /// The epoch number (0 for the first keys).
    pub epoch: u32,
    /// When they were generated (unix seconds).
    pub created_at: u64,
    /// ML-DSA-87 key.
    pub mldsa: MlDsa87Signer,
    /// SLH-DSA-256s key.
    pub slhdsa: SlhDsaSigner,
    /// Other per-epoch secrets sealed with these keys (for example the mempool encryption
    /// key), by name. Opaque to this crate.
    pub extra: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for EpochKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochKeys")
            .field("epoch", &self.epoch)
            .field("mldsa", &self.mldsa)
            .field("slhdsa", &self.slhdsa)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl EpochKeys {
    /// The public half.
    pub fn public(&self) -> EpochPublicKeys {
        EpochPublicKeys {
            epoch: self.epoch,
            created_at: self.created_at,
            mldsa_public_key: self.mldsa.public_key().to_vec(),
            slhdsa_public_key: self.slhdsa.public_key().to_vec(),
        }
    }
}

/// The sequencer's signing keys: a long-lived secp256k1 key (its on-chain identity) and
/// post-quantum keys by epoch. Only the current epoch's secrets are kept; rotation retires
/// them to public keys (so old bundles verify) and seals the store again.
#[derive(Debug)]
pub struct KeyStore {
    path: PathBuf,
    sealing: SealingKey,
    ecdsa: EcdsaSigner,
    current: Arc<EpochKeys>,
    retired: Vec<EpochPublicKeys>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn new_epoch(
    epoch: u32,
    variant: SlhDsaVariant,
    extra: BTreeMap<String, Zeroizing<Vec<u8>>>,
) -> Result<EpochKeys, PqcError> {
    Ok(EpochKeys {
        epoch,
        created_at: now(),
        mldsa: MlDsa87Signer::generate(&mut OsRng),
        slhdsa: SlhDsaSigner::generate(variant, &mut OsRng)?,
        extra,
    })
}

impl KeyStore {
    /// Generates fresh keys (epoch 0) and seals them to `path`, which must not exist yet.
    pub fn create(
        path: &Path,
        sealing: SealingKey,
        variant: SlhDsaVariant,
        extra: BTreeMap<String, Zeroizing<Vec<u8>>>,
    ) -> Result<Self, PqcError> {
        if path.exists() {
            return Err(PqcError::KeyStoreIo {
                path: path.to_path_buf(),
                reason: "already exists; refusing to overwrite keys".into(),
            });
        }
        let store = Self {
            path: path.to_path_buf(),
            sealing,
            ecdsa: EcdsaSigner::generate(&mut OsRng),
            current: Arc::new(new_epoch(0, variant, extra)?),
            retired: Vec::new(),
        };
        store.save()?;
        Ok(store)
    }

    /// Opens and unseals the store at `path`.
    pub fn open(path: &Path, sealing: SealingKey) -> Result<Self, PqcError> {
        let corrupt = |reason: String| PqcError::KeyStoreCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PqcError::KeyStoreMissing(path.to_path_buf()));
            }
            Err(e) => {
                return Err(PqcError::KeyStoreIo {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        };
        let sealed: SealedFile = serde_json::from_str(&text)
            .map_err(|e| corrupt(format!("not a sealed key store: {e}")))?;
        if sealed.format != FORMAT || sealed.version != VERSION {
            return Err(corrupt(format!(
                "format {} version {} (expected {FORMAT} {VERSION})",
                sealed.format, sealed.version
            )));
        }
        let decode = |field: &str, value: &str| {
            hex::decode(value).map_err(|_| corrupt(format!("{field} is not hex")))
        };
        let salt = decode("salt", &sealed.salt)?;
        let nonce = decode("nonce", &sealed.nonce)?;
        let ciphertext = decode("ciphertext", &sealed.ciphertext)?;
        if nonce.len() != 12 {
            return Err(corrupt("nonce is not 12 bytes".into()));
        }
        let key = sealing.derive(&sealed.kdf, &salt)?;
        let plain = Aes256Gcm::new(key.as_slice().into())
            .decrypt(
                nonce.as_slice().into(),
                Payload {
                    msg: &ciphertext,
                    aad: &aad(&sealed.kdf, &salt),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| PqcError::KeyStoreSealBroken(path.to_path_buf()))?;
        let plain: Plain = serde_json::from_slice(&plain).map_err(|e| {
            corrupt(format!(
                "content: {:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        let secret = |field: &str, value: &str| -> Result<Zeroizing<Vec<u8>>, PqcError> {
            hex::decode(value)
                .map(Zeroizing::new)
                .map_err(|_| corrupt(format!("{field} is not hex")))
        };
        let ecdsa_secret = secret("ecdsa", &plain.ecdsa)?;
        let ecdsa_secret: &[u8; 32] = ecdsa_secret
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("ecdsa key is not 32 bytes".into()))?;
        let ecdsa = EcdsaSigner::from_secret(ecdsa_secret).map_err(|e| corrupt(e.to_string()))?;
        let variant: SlhDsaVariant = plain.slh_variant.parse().map_err(corrupt)?;
        let seed = secret("mldsaSeed", &plain.current.mldsa_seed)?;
        let seed: &[u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("ML-DSA seed is not 32 bytes".into()))?;
        let slh = secret("slhdsaSecret", &plain.current.slhdsa_secret)?;
        let slhdsa =
            SlhDsaSigner::from_secret(variant, &slh).map_err(|e| corrupt(e.to_string()))?;
        let mut extra = BTreeMap::new();
        for (name, value) in &plain.current.extra {
            extra.insert(name.clone(), secret(name, value)?);
        }
        Ok(Self {
            path: path.to_path_buf(),
            sealing,
            ecdsa,
            current: Arc::new(EpochKeys {
                epoch: plain.current.epoch,
                created_at: plain.current.created_at,
                mldsa: MlDsa87Signer::from_seed(seed),
                slhdsa,
                extra,
            }),
            retired: plain.retired,
        })
    }

    /// Seals the store to its file (atomically: a temporary file renamed over it).
    fn save(&self) -> Result<(), PqcError> {
        let current = &self.current;
        let plain = Plain {
            ecdsa: hex::encode(self.ecdsa.secret().as_slice()),
            slh_variant: match current.slhdsa.variant() {
                SlhDsaVariant::Sha2 => "sha2".into(),
                SlhDsaVariant::Shake => "shake".into(),
            },
            current: PlainEpoch {
                epoch: current.epoch,
                created_at: current.created_at,
                mldsa_seed: hex::encode(current.mldsa.seed().as_slice()),
                slhdsa_secret: hex::encode(current.slhdsa.secret().as_slice()),
                extra: current
                    .extra
                    .iter()
                    .map(|(k, v)| (k.clone(), hex::encode(v.as_slice())))
                    .collect(),
            },
            retired: self.retired.clone(),
        };
        let json =
            Zeroizing::new(
                serde_json::to_vec(&plain).map_err(|e| PqcError::KeyStoreIo {
                    path: self.path.clone(),
                    reason: e.to_string(),
                })?,
            );
        // The hex strings inside `plain` are secrets too: wipe them, not just free them.
        let Plain { ecdsa, current, .. } = plain;
        drop(Zeroizing::new(ecdsa));
        drop(Zeroizing::new(current.mldsa_seed));
        drop(Zeroizing::new(current.slhdsa_secret));
        for (_, value) in current.extra {
            drop(Zeroizing::new(value));
        }
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);
        let kdf = self.sealing.kdf_name();
        let key = self.sealing.derive(kdf, &salt)?;
        let ciphertext = Aes256Gcm::new(key.as_slice().into())
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: &json,
                    aad: &aad(kdf, &salt),
                },
            )
            .map_err(|_| PqcError::SealingKey("AES-GCM encryption failed".into()))?;
        let sealed = SealedFile {
            format: FORMAT.into(),
            version: VERSION,
            kdf: kdf.into(),
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        };
        let text = serde_json::to_vec_pretty(&sealed).map_err(|e| PqcError::KeyStoreIo {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        write_private(&self.path, &text).map_err(|e| PqcError::KeyStoreIo {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The long-lived secp256k1 key.
    pub fn ecdsa(&self) -> &EcdsaSigner {
        &self.ecdsa
    }

    /// The sequencer address (of the secp256k1 key).
    pub fn address(&self) -> Address {
        self.ecdsa.address()
    }

    /// The current epoch's keys. Holders keep them alive across a rotation, so work started
    /// under an epoch finishes with that epoch's keys.
    pub fn current(&self) -> Arc<EpochKeys> {
        self.current.clone()
    }

    /// Public keys of every epoch so far, oldest first, the current one last.
    pub fn public_epochs(&self) -> Vec<EpochPublicKeys> {
        let mut all = self.retired.clone();
        all.push(self.current.public());
        all
    }

    /// The public keys of `epoch`.
    pub fn epoch_public(&self, epoch: u32) -> Result<EpochPublicKeys, PqcError> {
        self.public_epochs()
            .into_iter()
            .find(|e| e.epoch == epoch)
            .ok_or(PqcError::UnknownEpoch(epoch))
    }

    /// keccak256 of the current ML-DSA-87 and SLH-DSA-256s public keys.
    pub fn key_hashes(&self) -> (B256, B256) {
        (
            self.current.mldsa.key_hash(),
            self.current.slhdsa.key_hash(),
        )
    }

    /// Replaces (or adds) the current epoch's extra secret `name` with `value`, seals the store
    /// (a temporary file renamed over the old one) and only then makes it current. The epoch and
    /// its signing keys stay as they are; holders of the previous [`EpochKeys`] keep the old
    /// value. An error leaves memory and disk as they were.
    pub fn replace_extra(&mut self, name: &str, value: Zeroizing<Vec<u8>>) -> Result<(), PqcError> {
        let current = &self.current;
        let mut extra = current.extra.clone();
        extra.insert(name.to_owned(), value);
        let next = Arc::new(EpochKeys {
            epoch: current.epoch,
            created_at: current.created_at,
            mldsa: current.mldsa.clone(),
            slhdsa: current.slhdsa.clone(),
            extra,
        });
        let previous = std::mem::replace(&mut self.current, next);
        if let Err(e) = self.save() {
            self.current = previous;
            return Err(e);
        }
        tracing::info!(
            target: "aegis::pqc",
            epoch = self.current.epoch,
            name,
            "replaced a sealed epoch secret"
        );
        Ok(())
    }

    /// Starts a new epoch with fresh post-quantum keys and `extra` secrets, seals the store,
    /// and only then makes the new keys current. Returns the new epoch.
    pub fn rotate(&mut self, extra: BTreeMap<String, Zeroizing<Vec<u8>>>) -> Result<u32, PqcError> {
        self.rotate_with(extra, |_, _| Ok(()))
    }

    /// [`KeyStore::rotate`], calling `handover(outgoing, incoming)` after the new keys exist and
    /// before anything is sealed: the last moment the outgoing secrets can sign for the incoming
    /// keys. An error from it leaves the store as it was.
    pub fn rotate_with(
        &mut self,
        extra: BTreeMap<String, Zeroizing<Vec<u8>>>,
        handover: impl FnOnce(&EpochKeys, &EpochKeys) -> Result<(), PqcError>,
    ) -> Result<u32, PqcError> {
        let epoch = self.current.epoch + 1;
        let next = Arc::new(new_epoch(epoch, self.current.slhdsa.variant(), extra)?);
        handover(&self.current, &next)?;
        let previous = std::mem::replace(&mut self.current, next);
        self.retired.push(previous.public());
        if let Err(e) = self.save() {
            // Keep memory and disk in agreement.
            self.retired.pop();
            self.current = previous;
            return Err(e);
        }
        tracing::info!(target: "aegis::pqc", epoch, "rotated post-quantum keys");
        Ok(epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SealingKey {
        SealingKey::Secret(Zeroizing::new([5; 32]))
    }

    fn extra(tag: u8) -> BTreeMap<String, Zeroizing<Vec<u8>>> {
        BTreeMap::from([("mempool".to_string(), Zeroizing::new(vec![tag; 40]))])
    }

    #[test]
    fn create_open_rotate_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/sequencer.keystore");
        let created = KeyStore::create(&path, secret(), SlhDsaVariant::Sha2, extra(1)).unwrap();
        let opened = KeyStore::open(&path, secret()).unwrap();
        assert_eq!(opened.address(), created.address());
        assert_eq!(opened.key_hashes(), created.key_hashes());
        assert_eq!(opened.current().extra["mempool"].as_slice(), &[1; 40]);

        let mut store = opened;
        let old = store.current();
        assert_eq!(store.rotate(extra(2)).unwrap(), 1);
        let reopened = KeyStore::open(&path, secret()).unwrap();
        assert_eq!(reopened.current().epoch, 1);
        assert_eq!(reopened.current().extra["mempool"].as_slice(), &[2; 40]);
        assert_ne!(reopened.key_hashes(), created.key_hashes());
        assert_eq!(reopened.address(), created.address());
        assert_eq!(reopened.epoch_public(0).unwrap(), old.public());
        assert_eq!(reopened.public_epochs().len(), 2);
        assert!(matches!(
            reopened.epoch_public(7),
            Err(PqcError::UnknownEpoch(7))
        ));
        assert!(KeyStore::create(&path, secret(), SlhDsaVariant::Sha2, extra(1)).is_err());
    }

    #[test]
    fn replace_extra_seals_the_new_value_into_the_current_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sequencer.keystore");
        let mut store = KeyStore::create(&path, secret(), SlhDsaVariant::Sha2, extra(1)).unwrap();
        let before = store.current();
        store
            .replace_extra("mempool", Zeroizing::new(vec![9; 40]))
            .unwrap();
        store
            .replace_extra("other", Zeroizing::new(vec![3; 2]))
            .unwrap();
        assert_eq!(store.current().extra["mempool"].as_slice(), &[9; 40]);
        // Work started before the replacement keeps its value.
        assert_eq!(before.extra["mempool"].as_slice(), &[1; 40]);
        let reopened = KeyStore::open(&path, secret()).unwrap();
        assert_eq!(reopened.current().epoch, 0);
        assert_eq!(reopened.current().created_at, before.created_at);
        assert_eq!(reopened.key_hashes(), store.key_hashes());
        assert_eq!(reopened.address(), store.address());
        assert_eq!(reopened.current().extra["mempool"].as_slice(), &[9; 40]);
        assert_eq!(reopened.current().extra["other"].as_slice(), &[3; 2]);
        assert_eq!(reopened.public_epochs().len(), 1);
        assert!(!path.with_extension("tmp").exists());

        // A store that cannot be written keeps its value in memory too (a directory where the
        // temporary file goes refuses the write, even for root).
        let mut store = reopened;
        std::fs::create_dir(path.with_extension("tmp")).unwrap();
        let denied = store.replace_extra("mempool", Zeroizing::new(vec![7; 40]));
        assert!(
            matches!(denied, Err(PqcError::KeyStoreIo { .. })),
            "{denied:?}"
        );
        assert_eq!(store.current().extra["mempool"].as_slice(), &[9; 40]);
        std::fs::remove_dir(path.with_extension("tmp")).unwrap();
        let reopened = KeyStore::open(&path, secret()).unwrap();
        assert_eq!(reopened.current().extra["mempool"].as_slice(), &[9; 40]);
    }

    #[test]
    fn missing_tampered_and_wrongly_keyed_stores_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sequencer.keystore");
        let err = KeyStore::open(&path, secret()).unwrap_err();
        assert!(matches!(err, PqcError::KeyStoreMissing(_)));
        assert!(err.to_string().contains("sequencer.keystore"));

        KeyStore::create(&path, secret(), SlhDsaVariant::Sha2, BTreeMap::new()).unwrap();
        let wrong = SealingKey::Secret(Zeroizing::new([6; 32]));
        assert!(matches!(
            KeyStore::open(&path, wrong),
            Err(PqcError::KeyStoreSealBroken(_))
        ));
        let wrong_kind = SealingKey::Passphrase(Zeroizing::new("pw".into()));
        assert!(matches!(
            KeyStore::open(&path, wrong_kind),
            Err(PqcError::SealingKey(_))
        ));

        let text = std::fs::read_to_string(&path).unwrap();
        let mut sealed: SealedFile = serde_json::from_str(&text).unwrap();
        let mut bytes = hex::decode(&sealed.ciphertext).unwrap();
        bytes[17] ^= 1;
        sealed.ciphertext = hex::encode(bytes);
        std::fs::write(&path, serde_json::to_vec(&sealed).unwrap()).unwrap();
        let err = KeyStore::open(&path, secret()).unwrap_err();
        assert!(matches!(err, PqcError::KeyStoreSealBroken(_)), "{err}");
        assert!(err.to_string().contains("sequencer.keystore"));

        std::fs::write(&path, "{not json").unwrap();
        let err = KeyStore::open(&path, secret()).unwrap_err();
        assert!(matches!(err, PqcError::KeyStoreCorrupt { .. }), "{err}");
    }

    #[test]
    fn passphrase_sealing_works_and_the_file_holds_no_plaintext_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pp.keystore");
        let pass = || SealingKey::Passphrase(Zeroizing::new("correct horse".into()));
        let store = KeyStore::create(&path, pass(), SlhDsaVariant::Sha2, BTreeMap::new()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex::encode(store.ecdsa().secret().as_slice())));
        assert!(!text.contains(&hex::encode(store.current().mldsa.seed().as_slice())));
        let opened = KeyStore::open(&path, pass()).unwrap();
        assert_eq!(opened.address(), store.address());
        let wrong = SealingKey::Passphrase(Zeroizing::new("wrong".into()));
        assert!(matches!(
            KeyStore::open(&path, wrong),
            Err(PqcError::KeyStoreSealBroken(_))
        ));
    }

    #[test]
    fn key_files_are_created_private_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seal.key");
        assert!(SealingKey::from_key_file(&path, false).is_err());
        SealingKey::from_key_file(&path, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
        }
        std::fs::write(&path, "xyz").unwrap();
        let err = SealingKey::from_key_file(&path, false).unwrap_err();
        assert!(err.to_string().contains("seal.key"));
    }
}
