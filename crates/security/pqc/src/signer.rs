use crate::{Algorithm, PqcError, SlhDsaVariant};
use alloy_consensus::{SignableTransaction, Signed, TxEip1559};
use alloy_primitives::{Address, B256, Signature, keccak256};
use fips204::traits::{KeyGen as _, SerDes as _, Signer as _};
use fips205::traits::{SerDes as _, Signer as _};
use rand_core::{CryptoRngCore, OsRng};
use zeroize::Zeroizing;

/// A signing key of one algorithm, signing 32-byte messages (commitments).
///
/// Modelled on alloy's signer trait: the caller does not care which scheme it holds until it
/// builds a bundle, where [`Signer::algorithm`] and [`Signer::public_key`] go next to the
/// signature.
pub trait Signer: Send + Sync {
    /// The algorithm.
    fn algorithm(&self) -> Algorithm;
    /// The encoded public key (see [`Algorithm::public_key_len`]).
    fn public_key(&self) -> &[u8];
    /// Signs `message`.
    fn sign(&self, message: &B256) -> Result<Vec<u8>, PqcError>;
    /// keccak256 of [`Signer::public_key`]: the key id bundles and attestations refer to.
    fn key_hash(&self) -> B256 {
        keccak256(self.public_key())
    }
}

/// secp256k1 ECDSA key.
#[derive(Clone)]
pub struct EcdsaSigner {
    key: k256::ecdsa::SigningKey,
    public_key: [u8; 33],
}

impl std::fmt::Debug for EcdsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdsaSigner")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl EcdsaSigner {
    /// A fresh random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_key(k256::ecdsa::SigningKey::random(rng))
    }

    /// The key with secret scalar `secret` (big-endian).
    pub fn from_secret(secret: &[u8; 32]) -> Result<Self, PqcError> {
        let key = k256::ecdsa::SigningKey::from_bytes(secret.into()).map_err(|_| {
            PqcError::InvalidPublicKey {
                algorithm: "secp256k1",
                reason: "secret scalar out of range".into(),
            }
        })?;
        Ok(Self::from_key(key))
    }

    fn from_key(key: k256::ecdsa::SigningKey) -> Self {
        let encoded = key.verifying_key().to_encoded_point(true);
        let mut public_key = [0u8; 33];
        public_key.copy_from_slice(encoded.as_bytes());
        Self { key, public_key }
    }

    /// The secret scalar (for sealing).
    pub fn secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes().into())
    }

    /// The Ethereum address of the key.
    pub fn address(&self) -> Address {
        let uncompressed = self.key.verifying_key().to_encoded_point(false);
        Address::from_raw_public_key(&uncompressed.as_bytes()[1..])
    }

    /// Signs an EIP-1559 transaction (the one signing path for the node's own L1 and L2
    /// transactions: batches, commitments, reports).
    pub fn sign_eip1559(&self, tx: TxEip1559) -> Result<Signed<TxEip1559>, PqcError> {
        let raw = self.sign_hash(&tx.signature_hash())?;
        let signature = Signature::from_raw_array(&raw).map_err(|_| PqcError::Signing {
            algorithm: "secp256k1",
            reason: "malformed recoverable signature",
        })?;
        Ok(tx.into_signed(signature))
    }

    /// Signs `hash` as an Ethereum signature: `r ‖ s ‖ v` with low s and v ∈ {0, 1}.
    pub fn sign_hash(&self, hash: &B256) -> Result<[u8; 65], PqcError> {
        let (signature, recovery) =
            self.key
                .sign_prehash_recoverable(hash.as_slice())
                .map_err(|_| PqcError::Signing {
                    algorithm: "secp256k1",
                    reason: "prehash signing failed",
                })?;
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = recovery.to_byte();
        Ok(out)
    }
}

impl Signer for EcdsaSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Secp256k1
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, message: &B256) -> Result<Vec<u8>, PqcError> {
        Ok(self.sign_hash(message)?.to_vec())
    }
}

/// ML-DSA-87 key, kept as its 32-byte FIPS 204 key-generation seed ξ.
#[derive(Clone)]
pub struct MlDsa87Signer {
    seed: Zeroizing<[u8; 32]>,
    key: fips204::ml_dsa_87::PrivateKey,
    public_key: Vec<u8>,
}

impl std::fmt::Debug for MlDsa87Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlDsa87Signer")
            .field("key_hash", &self.key_hash())
            .finish_non_exhaustive()
    }
}

impl MlDsa87Signer {
    /// A fresh random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// The key generated from seed ξ (FIPS 204 `ML-DSA.KeyGen_internal`).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let (public_key, key) = fips204::ml_dsa_87::KG::keygen_from_seed(seed);
        Self {
            seed: Zeroizing::new(*seed),
            key,
            public_key: public_key.into_bytes().to_vec(),
        }
    }

    /// The key-generation seed (for sealing).
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        self.seed.clone()
    }
}

impl Signer for MlDsa87Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::MlDsa87
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, message: &B256) -> Result<Vec<u8>, PqcError> {
        self.key
            .try_sign_with_rng(&mut OsRng, message.as_slice(), &[])
            .map(|sig| sig.to_vec())
            .map_err(|reason| PqcError::Signing {
                algorithm: "ML-DSA-87",
                reason,
            })
    }
}

#[derive(Clone)]
enum SlhKey {
    Sha2(fips205::slh_dsa_sha2_256s::PrivateKey),
    Shake(fips205::slh_dsa_shake_256s::PrivateKey),
}

/// SLH-DSA-256s key (SHA2 or SHAKE).
#[derive(Clone)]
pub struct SlhDsaSigner {
    key: SlhKey,
    public_key: Vec<u8>,
}

impl std::fmt::Debug for SlhDsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlhDsaSigner")
            .field("algorithm", &self.algorithm())
            .field("key_hash", &self.key_hash())
            .finish_non_exhaustive()
    }
}

/// SLH-DSA-256s secret key length: SK.seed ‖ SK.prf ‖ PK.seed ‖ PK.root.
const SLH_SK_LEN: usize = fips205::slh_dsa_sha2_256s::SK_LEN;

impl SlhDsaSigner {
    /// A fresh random key of `variant`.
    pub fn generate(
        variant: SlhDsaVariant,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, PqcError> {
        let failed = |reason| PqcError::Signing {
            algorithm: "SLH-DSA-256s",
            reason,
        };
        let key = match variant {
            SlhDsaVariant::Sha2 => SlhKey::Sha2(
                fips205::slh_dsa_sha2_256s::try_keygen_with_rng(rng)
                    .map_err(failed)?
                    .1,
            ),
            SlhDsaVariant::Shake => SlhKey::Shake(
                fips205::slh_dsa_shake_256s::try_keygen_with_rng(rng)
                    .map_err(failed)?
                    .1,
            ),
        };
        Ok(Self::from_key(key))
    }

    /// The key with FIPS 205 secret-key encoding `secret` (128 bytes).
    pub fn from_secret(variant: SlhDsaVariant, secret: &[u8]) -> Result<Self, PqcError> {
        let bytes: &[u8; SLH_SK_LEN] =
            secret.try_into().map_err(|_| PqcError::InvalidPublicKey {
                algorithm: "SLH-DSA-256s",
                reason: format!(
                    "secret key is {} bytes, expected {SLH_SK_LEN}",
                    secret.len()
                ),
            })?;
        let invalid = |reason: &str| PqcError::InvalidPublicKey {
            algorithm: "SLH-DSA-256s",
            reason: reason.to_string(),
        };
        let key = match variant {
            SlhDsaVariant::Sha2 => SlhKey::Sha2(
                fips205::slh_dsa_sha2_256s::PrivateKey::try_from_bytes(bytes).map_err(invalid)?,
            ),
            SlhDsaVariant::Shake => SlhKey::Shake(
                fips205::slh_dsa_shake_256s::PrivateKey::try_from_bytes(bytes).map_err(invalid)?,
            ),
        };
        Ok(Self::from_key(key))
    }

    fn from_key(key: SlhKey) -> Self {
        use fips205::traits::Signer as _;
        let public_key = match &key {
            SlhKey::Sha2(k) => k.get_public_key().into_bytes().to_vec(),
            SlhKey::Shake(k) => k.get_public_key().into_bytes().to_vec(),
        };
        Self { key, public_key }
    }

    /// The variant.
    pub fn variant(&self) -> SlhDsaVariant {
        match self.key {
            SlhKey::Sha2(_) => SlhDsaVariant::Sha2,
            SlhKey::Shake(_) => SlhDsaVariant::Shake,
        }
    }

    /// The FIPS 205 secret-key encoding (for sealing).
    pub fn secret(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match &self.key {
            SlhKey::Sha2(k) => k.clone().into_bytes().to_vec(),
            SlhKey::Shake(k) => k.clone().into_bytes().to_vec(),
        })
    }
}

impl Signer for SlhDsaSigner {
    fn algorithm(&self) -> Algorithm {
        match self.key {
            SlhKey::Sha2(_) => Algorithm::SlhDsaSha2_256s,
            SlhKey::Shake(_) => Algorithm::SlhDsaShake256s,
        }
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, message: &B256) -> Result<Vec<u8>, PqcError> {
        let failed = |reason| PqcError::Signing {
            algorithm: "SLH-DSA-256s",
            reason,
        };
        // Hedged signing: fresh randomness per signature, as FIPS 205 recommends.
        match &self.key {
            SlhKey::Sha2(k) => k
                .try_sign_with_rng(&mut OsRng, message.as_slice(), &[], true)
                .map(|s| s.to_vec())
                .map_err(failed),
            SlhKey::Shake(k) => k
                .try_sign_with_rng(&mut OsRng, message.as_slice(), &[], true)
                .map(|s| s.to_vec())
                .map_err(failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify;

    fn round_trip(signer: &dyn Signer) {
        let message = B256::repeat_byte(0x42);
        let signature = signer.sign(&message).unwrap();
        assert_eq!(signature.len(), signer.algorithm().signature_len());
        verify(
            signer.algorithm(),
            signer.public_key(),
            &message,
            &signature,
        )
        .unwrap();
        let other = B256::repeat_byte(0x43);
        assert!(matches!(
            verify(signer.algorithm(), signer.public_key(), &other, &signature),
            Err(PqcError::BadSignature(_))
        ));
        let mut tampered = signature.clone();
        tampered[10] ^= 1;
        assert!(verify(signer.algorithm(), signer.public_key(), &message, &tampered).is_err());
    }

    #[test]
    fn ecdsa_signs_and_verifies() {
        let signer = EcdsaSigner::generate(&mut OsRng);
        round_trip(&signer);
        let again = EcdsaSigner::from_secret(&signer.secret()).unwrap();
        assert_eq!(again.address(), signer.address());
        assert!(EcdsaSigner::from_secret(&[0; 32]).is_err());
    }

    #[test]
    fn ecdsa_matches_alloy_recovery() {
        let signer = EcdsaSigner::generate(&mut OsRng);
        let hash = B256::repeat_byte(9);
        let sig = signer.sign_hash(&hash).unwrap();
        let parsed = alloy_primitives::Signature::from_raw(&sig).unwrap();
        assert_eq!(
            parsed.recover_address_from_prehash(&hash).unwrap(),
            signer.address()
        );
    }

    #[test]
    fn ml_dsa_signs_and_verifies_and_is_deterministic_from_its_seed() {
        let signer = MlDsa87Signer::generate(&mut OsRng);
        round_trip(&signer);
        let again = MlDsa87Signer::from_seed(&signer.seed());
        assert_eq!(again.public_key(), signer.public_key());
    }

    #[test]
    fn slh_dsa_sha2_signs_and_verifies() {
        let signer = SlhDsaSigner::generate(SlhDsaVariant::Sha2, &mut OsRng).unwrap();
        assert_eq!(signer.algorithm(), Algorithm::SlhDsaSha2_256s);
        round_trip(&signer);
        let again = SlhDsaSigner::from_secret(SlhDsaVariant::Sha2, &signer.secret()).unwrap();
        assert_eq!(again.public_key(), signer.public_key());
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let ecdsa = EcdsaSigner::from_secret(&[7; 32]).unwrap();
        let text = format!("{ecdsa:?}");
        assert!(!text.contains("0707"), "{text}");
        let mldsa = MlDsa87Signer::from_seed(&[7; 32]);
        assert!(!format!("{mldsa:?}").contains("0707"));
    }
}
