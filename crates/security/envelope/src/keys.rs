//! Recipient key pair: ML-KEM-1024 plus secp256k1, bound to a chain and an epoch.

use core::fmt;

use alloy_primitives::{B256, keccak256};
use fips203::ml_kem_1024;
use fips203::traits::{KeyGen, SerDes};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::{
    EnvelopeError, KEM_DK_LEN, KEM_EK_LEN, KEY_VERSION, PUBLIC_KEY_LEN, SECP_PK_LEN, SECP_SK_LEN,
    SECRET_KEY_LEN,
};

/// Offset of the encapsulation key inside an ML-KEM-1024 decapsulation key
/// (FIPS 203: `dk = dk_pke (384·k) ‖ ek (384·k + 32) ‖ H(ek) ‖ z`, k = 4).
const EK_OFFSET_IN_DK: usize = 384 * 4;

/// How many 32-byte draws a secp256k1 scalar may take before the RNG is
/// declared broken (each draw is refused with probability below 2^-127).
const MAX_SCALAR_DRAWS: usize = 64;

/// The public half of a recipient key: what users encrypt to.
///
/// Canonical encoding ([`Self::to_bytes`], [`PUBLIC_KEY_LEN`] bytes):
/// `0x01 ‖ chain_id (u64 BE) ‖ epoch (u32 BE) ‖ ML-KEM-1024 ek (1568) ‖ secp256k1 (33, SEC1 compressed)`.
/// [`Self::key_hash`] is keccak256 of that encoding; it is what an attestation
/// quote binds. With serde it is a `0x`-prefixed hex string of the encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct RecipientPublicKey {
    chain_id: u64,
    epoch: u32,
    kem_ek: Box<[u8; KEM_EK_LEN]>,
    secp: k256::PublicKey,
    key_hash: B256,
}

impl RecipientPublicKey {
    /// Builds a key from its parts, validating both public keys.
    pub fn from_parts(
        chain_id: u64,
        epoch: u32,
        kem_encapsulation_key: &[u8; KEM_EK_LEN],
        secp256k1_compressed: &[u8; SECP_PK_LEN],
    ) -> Result<Self, EnvelopeError> {
        ml_kem_1024::EncapsKey::try_from_bytes(*kem_encapsulation_key).map_err(|_| {
            EnvelopeError::InvalidPublicKey(
                "ML-KEM-1024 encapsulation key has a coefficient out of range",
            )
        })?;
        let secp =
            parse_compressed_point(secp256k1_compressed).ok_or(EnvelopeError::InvalidPublicKey(
                "secp256k1 key is not a valid SEC1 compressed curve point",
            ))?;
        let mut key = Self {
            chain_id,
            epoch,
            kem_ek: Box::new(*kem_encapsulation_key),
            secp,
            key_hash: B256::ZERO,
        };
        key.key_hash = keccak256(key.to_bytes());
        Ok(key)
    }

    /// Decodes the canonical encoding (exactly [`PUBLIC_KEY_LEN`] bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(EnvelopeError::InvalidPublicKey(
                "encoding must be exactly 1614 bytes",
            ));
        }
        let (version, rest) = bytes
            .split_first()
            .ok_or(EnvelopeError::InvalidPublicKey("encoding is empty"))?;
        if *version != KEY_VERSION {
            return Err(EnvelopeError::InvalidPublicKey(
                "unsupported key encoding version (expected 0x01)",
            ));
        }
        const SHORT: EnvelopeError = EnvelopeError::InvalidPublicKey("encoding is truncated");
        let (chain_id, rest) = rest.split_first_chunk::<8>().ok_or(SHORT)?;
        let (epoch, rest) = rest.split_first_chunk::<4>().ok_or(SHORT)?;
        let (kem_ek, rest) = rest.split_first_chunk::<KEM_EK_LEN>().ok_or(SHORT)?;
        let (secp, _) = rest.split_first_chunk::<SECP_PK_LEN>().ok_or(SHORT)?;
        Self::from_parts(
            u64::from_be_bytes(*chain_id),
            u32::from_be_bytes(*epoch),
            kem_ek,
            secp,
        )
    }

    /// The canonical encoding, [`PUBLIC_KEY_LEN`] bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PUBLIC_KEY_LEN);
        out.push(KEY_VERSION);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(self.kem_ek.as_slice());
        out.extend_from_slice(&self.secp256k1_public_key());
        out
    }

    /// keccak256 of [`Self::to_bytes`]: the value an attestation quote binds.
    pub fn key_hash(&self) -> B256 {
        self.key_hash
    }

    /// Chain id this key serves.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Key epoch (rotation counter).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The ML-KEM-1024 encapsulation key.
    pub fn kem_encapsulation_key(&self) -> &[u8; KEM_EK_LEN] {
        &self.kem_ek
    }

    /// The secp256k1 public key, SEC1 compressed.
    pub fn secp256k1_public_key(&self) -> [u8; SECP_PK_LEN] {
        compress(&self.secp)
    }

    pub(crate) fn secp(&self) -> &k256::PublicKey {
        &self.secp
    }
}

impl fmt::Debug for RecipientPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientPublicKey")
            .field("chain_id", &self.chain_id)
            .field("epoch", &self.epoch)
            .field("key_hash", &self.key_hash)
            .finish_non_exhaustive()
    }
}

impl serde::Serialize for RecipientPublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(2 + 2 * PUBLIC_KEY_LEN);
        text.push_str("0x");
        text.push_str(&hex::encode(self.to_bytes()));
        serializer.serialize_str(&text)
    }
}

impl<'de> serde::Deserialize<'de> for RecipientPublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let text = String::deserialize(deserializer)?;
        let digits = text.strip_prefix("0x").unwrap_or(&text);
        let bytes = hex::decode(digits).map_err(D::Error::custom)?;
        Self::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

/// The secret half of a recipient key; it never leaves the TEE unsealed.
///
/// Holds the ML-KEM-1024 decapsulation key and the secp256k1 secret scalar;
/// both are zeroized on drop, and `Debug` prints only public data.
///
/// Encoding ([`Self::to_bytes`], [`SECRET_KEY_LEN`] bytes), meant to be sealed
/// at rest by the caller:
/// `0x01 ‖ chain_id (u64 BE) ‖ epoch (u32 BE) ‖ ML-KEM-1024 dk (3168) ‖ secp256k1 scalar (32 BE)`.
pub struct RecipientSecretKey {
    kem_dk: Box<ml_kem_1024::DecapsKey>,
    secp: k256::SecretKey,
    public: RecipientPublicKey,
}

impl RecipientSecretKey {
    /// Generates a fresh key pair for `chain_id` and `epoch`.
    ///
    /// Draws from `rng`, in this order: ML-KEM-1024 `d` (32 bytes) and `z`
    /// (32 bytes), then 32-byte big-endian candidates for the secp256k1
    /// scalar until one is in `1..n`.
    pub fn generate(
        chain_id: u64,
        epoch: u32,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, EnvelopeError> {
        let (ek, dk) =
            ml_kem_1024::KG::try_keygen_with_rng(rng).map_err(EnvelopeError::Randomness)?;
        let secp = random_secp_secret(rng)?;
        let public = RecipientPublicKey::from_parts(
            chain_id,
            epoch,
            &ek.into_bytes(),
            &compress(&secp.public_key()),
        )?;
        Ok(Self {
            kem_dk: Box::new(dk),
            secp,
            public,
        })
    }

    /// Decodes the encoding written by [`Self::to_bytes`] (exactly
    /// [`SECRET_KEY_LEN`] bytes). The decapsulation key's embedded hash of its
    /// encapsulation key is checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() != SECRET_KEY_LEN {
            return Err(EnvelopeError::InvalidSecretKey(
                "encoding must be exactly 3213 bytes",
            ));
        }
        let (version, rest) = bytes
            .split_first()
            .ok_or(EnvelopeError::InvalidSecretKey("encoding is empty"))?;
        if *version != KEY_VERSION {
            return Err(EnvelopeError::InvalidSecretKey(
                "unsupported key encoding version (expected 0x01)",
            ));
        }
        const SHORT: EnvelopeError = EnvelopeError::InvalidSecretKey("encoding is truncated");
        let (chain_id, rest) = rest.split_first_chunk::<8>().ok_or(SHORT)?;
        let (epoch, rest) = rest.split_first_chunk::<4>().ok_or(SHORT)?;
        let (dk, rest) = rest.split_first_chunk::<KEM_DK_LEN>().ok_or(SHORT)?;
        let (scalar, _) = rest.split_first_chunk::<SECP_SK_LEN>().ok_or(SHORT)?;

        let ek = ek_from_dk(dk).ok_or(SHORT)?;
        let kem_dk = ml_kem_1024::DecapsKey::try_from_bytes(*dk).map_err(|_| {
            EnvelopeError::InvalidSecretKey(
                "ML-KEM-1024 decapsulation key failed its integrity check",
            )
        })?;
        let mut field_bytes = k256::FieldBytes::from(*scalar);
        let secp = k256::SecretKey::from_bytes(&field_bytes);
        field_bytes.zeroize();
        let secp = secp.map_err(|_| {
            EnvelopeError::InvalidSecretKey("secp256k1 scalar is zero or not below the group order")
        })?;
        let public = RecipientPublicKey::from_parts(
            u64::from_be_bytes(*chain_id),
            u32::from_be_bytes(*epoch),
            &ek,
            &compress(&secp.public_key()),
        )
        .map_err(|_| {
            EnvelopeError::InvalidSecretKey("embedded ML-KEM-1024 encapsulation key is invalid")
        })?;
        Ok(Self {
            kem_dk: Box::new(kem_dk),
            secp,
            public,
        })
    }

    /// The encoding described on the type, [`SECRET_KEY_LEN`] bytes, in a
    /// buffer that is zeroized on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(SECRET_KEY_LEN));
        out.push(KEY_VERSION);
        out.extend_from_slice(&self.public.chain_id.to_be_bytes());
        out.extend_from_slice(&self.public.epoch.to_be_bytes());
        let mut dk = Zeroizing::new(self.kem_dk.as_ref().clone().into_bytes());
        out.extend_from_slice(dk.as_slice());
        dk.zeroize();
        let mut scalar = self.secp.to_bytes();
        out.extend_from_slice(&scalar);
        scalar.zeroize();
        out
    }

    /// The matching public key.
    pub fn public_key(&self) -> &RecipientPublicKey {
        &self.public
    }

    /// Chain id this key serves.
    pub fn chain_id(&self) -> u64 {
        self.public.chain_id
    }

    /// Key epoch.
    pub fn epoch(&self) -> u32 {
        self.public.epoch
    }

    /// keccak256 of the public key's canonical encoding.
    pub fn key_hash(&self) -> B256 {
        self.public.key_hash
    }

    pub(crate) fn kem_dk(&self) -> &ml_kem_1024::DecapsKey {
        &self.kem_dk
    }

    pub(crate) fn secp(&self) -> &k256::SecretKey {
        &self.secp
    }
}

impl fmt::Debug for RecipientSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientSecretKey")
            .field("chain_id", &self.public.chain_id)
            .field("epoch", &self.public.epoch)
            .field("key_hash", &self.public.key_hash)
            .finish_non_exhaustive()
    }
}

/// SEC1 compressed encoding of a secp256k1 point.
pub(crate) fn compress(point: &k256::PublicKey) -> [u8; SECP_PK_LEN] {
    let encoded = point.to_encoded_point(true);
    let mut out = [0u8; SECP_PK_LEN];
    // A compressed encoding is always 33 bytes; anything else leaves zeros,
    // which no caller can mistake for a valid point.
    if let Some(src) = encoded.as_bytes().get(..SECP_PK_LEN) {
        out.copy_from_slice(src);
    }
    out
}

/// Parses exactly a 33-byte SEC1 compressed point (tag 0x02 or 0x03).
pub(crate) fn parse_compressed_point(bytes: &[u8; SECP_PK_LEN]) -> Option<k256::PublicKey> {
    match bytes.first() {
        Some(0x02 | 0x03) => k256::PublicKey::from_sec1_bytes(bytes).ok(),
        _ => None,
    }
}

/// Draws a secp256k1 secret scalar: 32-byte big-endian candidates from `rng`
/// until one lies in `1..n` (the same draws as `k256::SecretKey::random`, but
/// a failing RNG is an error instead of a panic).
pub(crate) fn random_secp_secret(
    rng: &mut impl CryptoRngCore,
) -> Result<k256::SecretKey, EnvelopeError> {
    let mut candidate = k256::FieldBytes::default();
    for _ in 0..MAX_SCALAR_DRAWS {
        rng.try_fill_bytes(&mut candidate)
            .map_err(|_| EnvelopeError::Randomness("could not draw a secp256k1 scalar"))?;
        if let Ok(secret) = k256::SecretKey::from_bytes(&candidate) {
            candidate.zeroize();
            return Ok(secret);
        }
    }
    candidate.zeroize();
    Err(EnvelopeError::Randomness(
        "no valid secp256k1 scalar after 64 draws; the RNG is broken",
    ))
}

/// The encapsulation key embedded in an ML-KEM-1024 decapsulation key.
fn ek_from_dk(dk: &[u8; KEM_DK_LEN]) -> Option<[u8; KEM_EK_LEN]> {
    dk.get(EK_OFFSET_IN_DK..EK_OFFSET_IN_DK + KEM_EK_LEN)?
        .try_into()
        .ok()
}
