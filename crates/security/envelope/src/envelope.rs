//! Envelope parsing, sealing and opening.

use core::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use alloy_primitives::{B256, keccak256};
use fips203::ml_kem_1024;
use fips203::traits::{Decaps, Encaps, SerDes};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::keys::{compress, parse_compressed_point, random_secp_secret};
use crate::{
    EnvelopeError, HEADER_LEN, HKDF_INFO, KEM_CT_LEN, MAX_ENVELOPE_LEN, MAX_PAYLOAD,
    MIN_ENVELOPE_LEN, OVERHEAD, PREFIX_LEN, RecipientPublicKey, RecipientSecretKey, SECP_PK_LEN,
    TAG_LEN, VERSION,
};

/// AES-256 key length.
const AES_KEY_LEN: usize = 32;
/// AES-GCM nonce length.
const NONCE_LEN: usize = 12;

/// A structurally valid envelope borrowed from its bytes.
///
/// [`Envelope::parse`] checks the version, the length bounds and that the
/// ephemeral key is a valid curve point; it needs no secret. Whether the
/// envelope is addressed to a given key, and whether it authenticates, is
/// decided by [`Envelope::open`].
#[derive(Clone)]
pub struct Envelope<'a> {
    bytes: &'a [u8],
    prefix: &'a [u8; PREFIX_LEN],
    header: &'a [u8; HEADER_LEN],
    chain_id: u64,
    key_epoch: u32,
    kem_ct: &'a [u8; KEM_CT_LEN],
    ephemeral: &'a [u8; SECP_PK_LEN],
    ephemeral_point: k256::PublicKey,
    sealed: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Checks the structure of `bytes` (version, length, ephemeral key).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        let len = bytes.len();
        let Some(&version) = bytes.first() else {
            return Err(EnvelopeError::Truncated {
                needed: MIN_ENVELOPE_LEN,
                got: 0,
            });
        };
        if version != VERSION {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        if len < OVERHEAD {
            return Err(EnvelopeError::Truncated {
                needed: MIN_ENVELOPE_LEN,
                got: len,
            });
        }
        if len == OVERHEAD {
            return Err(EnvelopeError::EmptyPayload);
        }
        if len > MAX_ENVELOPE_LEN {
            return Err(EnvelopeError::PayloadTooLarge {
                len: len - OVERHEAD,
                max: MAX_PAYLOAD,
            });
        }
        let short = EnvelopeError::Truncated {
            needed: MIN_ENVELOPE_LEN,
            got: len,
        };
        let (prefix, sealed) = bytes
            .split_first_chunk::<PREFIX_LEN>()
            .ok_or(short.clone())?;
        let (header, rest) = prefix
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(short.clone())?;
        let (kem_ct, rest) = rest
            .split_first_chunk::<KEM_CT_LEN>()
            .ok_or(short.clone())?;
        let (ephemeral, _) = rest
            .split_first_chunk::<SECP_PK_LEN>()
            .ok_or(short.clone())?;
        let (_, fields) = header.split_first_chunk::<1>().ok_or(short.clone())?;
        let (chain_id, fields) = fields.split_first_chunk::<8>().ok_or(short.clone())?;
        let (key_epoch, _) = fields.split_first_chunk::<4>().ok_or(short)?;
        let ephemeral_point =
            parse_compressed_point(ephemeral).ok_or(EnvelopeError::InvalidEphemeralKey)?;
        Ok(Self {
            bytes,
            prefix,
            header,
            chain_id: u64::from_be_bytes(*chain_id),
            key_epoch: u32::from_be_bytes(*key_epoch),
            kem_ct,
            ephemeral,
            ephemeral_point,
            sealed,
        })
    }

    /// Format version (always [`VERSION`] for a parsed envelope).
    pub fn version(&self) -> u8 {
        VERSION
    }

    /// Chain id from the header.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Recipient key epoch from the header.
    pub fn key_epoch(&self) -> u32 {
        self.key_epoch
    }

    /// keccak256 of the whole envelope: the replay-detection key.
    pub fn id(&self) -> B256 {
        keccak256(self.bytes)
    }

    /// The whole envelope.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The 13-byte header: version, chain id, key epoch.
    pub fn header(&self) -> &'a [u8; HEADER_LEN] {
        self.header
    }

    /// The ML-KEM-1024 ciphertext.
    pub fn kem_ciphertext(&self) -> &'a [u8; KEM_CT_LEN] {
        self.kem_ct
    }

    /// The ephemeral secp256k1 public key, SEC1 compressed.
    pub fn ephemeral_public_key(&self) -> &'a [u8; SECP_PK_LEN] {
        self.ephemeral
    }

    /// The AES-256-GCM ciphertext followed by its 16-byte tag.
    pub fn sealed_payload(&self) -> &'a [u8] {
        self.sealed
    }

    /// Length of the plaintext payload this envelope carries.
    pub fn payload_len(&self) -> usize {
        self.sealed.len().saturating_sub(TAG_LEN)
    }

    /// Opens the envelope with `secret`; see [`open`].
    pub fn open(&self, secret: &RecipientSecretKey) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        if self.chain_id != secret.chain_id() {
            return Err(EnvelopeError::WrongChain {
                expected: secret.chain_id(),
                got: self.chain_id,
            });
        }
        if self.key_epoch != secret.epoch() {
            return Err(EnvelopeError::WrongEpoch {
                expected: secret.epoch(),
                got: self.key_epoch,
            });
        }

        let ct = ml_kem_1024::CipherText::try_from_bytes(*self.kem_ct)
            .map_err(|_| EnvelopeError::InvalidKemCiphertext)?;
        let ss_kem = Zeroizing::new(
            secret
                .kem_dk()
                .try_decaps(&ct)
                .map_err(|_| EnvelopeError::InvalidKemCiphertext)?
                .into_bytes(),
        );
        let ecdh = k256::ecdh::diffie_hellman(
            secret.secp().to_nonzero_scalar(),
            self.ephemeral_point.as_affine(),
        );
        let cipher = derive_cipher(
            self.prefix,
            &secret.key_hash(),
            &ss_kem,
            ecdh.raw_secret_bytes().as_ref(),
        )?;

        let (body, tag) = self
            .sealed
            .split_last_chunk::<TAG_LEN>()
            .ok_or(EnvelopeError::DecryptionFailed)?;
        let mut plaintext = Zeroizing::new(body.to_vec());
        cipher
            .aead
            .decrypt_in_place_detached(
                &cipher.nonce,
                self.prefix,
                plaintext.as_mut_slice(),
                &Tag::from(*tag),
            )
            .map_err(|_| EnvelopeError::DecryptionFailed)?;
        Ok(plaintext)
    }
}

impl fmt::Debug for Envelope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("chain_id", &self.chain_id)
            .field("key_epoch", &self.key_epoch)
            .field("len", &self.bytes.len())
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// Encrypts `payload` (a raw EIP-2718 signed transaction, 1..=[`MAX_PAYLOAD`]
/// bytes) to `recipient`.
///
/// Draws from `rng`, in this order: the 32-byte ML-KEM-1024 encapsulation
/// message `m`, then 32-byte big-endian candidates for the ephemeral
/// secp256k1 scalar until one is in `1..n`. With a seeded RNG the output is
/// deterministic (that is how the test vectors are made); in production use
/// the OS RNG.
pub fn seal(
    recipient: &RecipientPublicKey,
    payload: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, EnvelopeError> {
    if payload.is_empty() {
        return Err(EnvelopeError::EmptyPayload);
    }
    if payload.len() > MAX_PAYLOAD {
        return Err(EnvelopeError::PayloadTooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD,
        });
    }

    let ek = ml_kem_1024::EncapsKey::try_from_bytes(*recipient.kem_encapsulation_key()).map_err(
        |_| {
            EnvelopeError::InvalidPublicKey(
                "ML-KEM-1024 encapsulation key has a coefficient out of range",
            )
        },
    )?;
    let (ss_kem, kem_ct) = ek
        .try_encaps_with_rng(rng)
        .map_err(EnvelopeError::Randomness)?;
    let ss_kem = Zeroizing::new(ss_kem.into_bytes());
    let ephemeral = random_secp_secret(rng)?;
    let ecdh =
        k256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), recipient.secp().as_affine());

    let mut out = Vec::with_capacity(OVERHEAD + payload.len());
    out.push(VERSION);
    out.extend_from_slice(&recipient.chain_id().to_be_bytes());
    out.extend_from_slice(&recipient.epoch().to_be_bytes());
    out.extend_from_slice(&kem_ct.into_bytes());
    out.extend_from_slice(&compress(&ephemeral.public_key()));

    let (prefix, _) = out
        .split_first_chunk::<PREFIX_LEN>()
        .ok_or(EnvelopeError::Internal(
            "envelope prefix has the wrong length",
        ))?;
    let cipher = derive_cipher(
        prefix,
        &recipient.key_hash(),
        &ss_kem,
        ecdh.raw_secret_bytes().as_ref(),
    )?;

    out.extend_from_slice(payload);
    let (prefix, body) = out
        .split_at_mut_checked(PREFIX_LEN)
        .ok_or(EnvelopeError::Internal(
            "envelope prefix has the wrong length",
        ))?;
    let tag = cipher
        .aead
        .encrypt_in_place_detached(&cipher.nonce, prefix, body)
        .map_err(|_| EnvelopeError::Internal("AES-256-GCM refused to encrypt"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Parses and opens `envelope` with `secret`, returning the payload.
///
/// Refuses, in this order: a wrong version, length or ephemeral key
/// ([`Envelope::parse`]); a chain id or key epoch other than `secret`'s;
/// an authentication failure ([`EnvelopeError::DecryptionFailed`]).
pub fn open(
    secret: &RecipientSecretKey,
    envelope: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    Envelope::parse(envelope)?.open(secret)
}

/// AES-256-GCM instance and nonce derived for one envelope.
struct DerivedCipher {
    aead: Aes256Gcm,
    nonce: Nonce<aes_gcm::aead::consts::U12>,
}

/// The v1 key schedule:
/// `salt = sha256(prefix ‖ recipient_key_hash)` where `prefix = header ‖ kem_ct ‖ eph_pk`,
/// `ikm = ss_kem ‖ ss_ecdh`, `okm = HKDF-SHA256(salt, ikm, info, 44)`,
/// AES-256 key = `okm[0..32]`, GCM nonce = `okm[32..44]`.
fn derive_cipher(
    prefix: &[u8; PREFIX_LEN],
    recipient_key_hash: &B256,
    ss_kem: &[u8; 32],
    ss_ecdh: &[u8],
) -> Result<DerivedCipher, EnvelopeError> {
    let salt = Sha256::new()
        .chain_update(prefix)
        .chain_update(recipient_key_hash)
        .finalize();
    let mut ikm = Zeroizing::new([0u8; 64]);
    let (ikm_kem, ikm_ecdh) = ikm.split_at_mut(32);
    ikm_kem.copy_from_slice(ss_kem);
    if ss_ecdh.len() != ikm_ecdh.len() {
        return Err(EnvelopeError::Internal("ECDH secret is not 32 bytes"));
    }
    ikm_ecdh.copy_from_slice(ss_ecdh);

    let mut okm = Zeroizing::new([0u8; AES_KEY_LEN + NONCE_LEN]);
    Hkdf::<Sha256>::new(Some(&*salt), ikm.as_slice())
        .expand(HKDF_INFO, okm.as_mut_slice())
        .map_err(|_| EnvelopeError::Internal("HKDF-SHA256 refused the output length"))?;
    let (key, nonce) = okm
        .split_first_chunk::<AES_KEY_LEN>()
        .ok_or(EnvelopeError::Internal("HKDF output has the wrong length"))?;
    let nonce: &[u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| EnvelopeError::Internal("HKDF output has the wrong length"))?;
    let aead = Aes256Gcm::new_from_slice(key)
        .map_err(|_| EnvelopeError::Internal("AES-256 key has the wrong length"))?;
    Ok(DerivedCipher {
        aead,
        nonce: Nonce::from(*nonce),
    })
}
