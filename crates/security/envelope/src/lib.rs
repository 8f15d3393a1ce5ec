//! Encrypted-transaction envelopes for the QuantumAegis sequencer.
//!
//! A user encrypts a raw signed transaction (EIP-2718 bytes) to the
//! sequencer's recipient key, whose secret half only the TEE holds. The
//! key encapsulation is hybrid: ML-KEM-1024 (FIPS 203) *and* secp256k1
//! ECDH, so the envelope stays confidential unless both are broken. The
//! shared secrets go through HKDF-SHA256 into a one-time AES-256-GCM key
//! and nonce.
//!
//! # Format v1
//!
//! ```text
//! envelope = 0x01 ‖ chain_id u64 BE ‖ key_epoch u32 BE      (header, 13 bytes)
//!          ‖ ML-KEM-1024 ciphertext                         (1568 bytes)
//!          ‖ ephemeral secp256k1 public key, compressed     (33 bytes)
//!          ‖ AES-256-GCM(payload) ‖ tag                     (len(payload) + 16 bytes)
//!
//! ss_kem  = ML-KEM-1024.Encaps(recipient ek)                (32 bytes)
//! ss_ecdh = x-coordinate of ECDH(ephemeral secret, recipient secp256k1 key)
//! salt    = sha256(header ‖ kem_ct ‖ eph_pk ‖ recipient.key_hash())
//! okm     = HKDF-SHA256(salt, ss_kem ‖ ss_ecdh, "QuantumAegis envelope v1", 44)
//! key, nonce = okm[0..32], okm[32..44]
//! aad     = header ‖ kem_ct ‖ eph_pk
//! ```
//!
//! The payload is 1..=[`MAX_PAYLOAD`] bytes. The recipient key
//! ([`RecipientPublicKey`]) is bound to one chain id and one key epoch, both
//! of which every envelope repeats in its header; [`RecipientPublicKey::key_hash`]
//! (keccak256 of its canonical encoding) is what an attestation quote binds,
//! and it is mixed into the key schedule. [`Envelope::id`] (keccak256 of the
//! whole envelope) is the replay-detection key.
//!
//! The crate README has the full specification and test vectors.
//!
//! # Example
//!
//! ```
//! use aegis_envelope::{open, seal, RecipientSecretKey};
//! use rand_core::OsRng;
//!
//! let secret = RecipientSecretKey::generate(901, 1, &mut OsRng)?;
//! let tx = [0x02, 0xf8, 0x6c, 0x01]; // raw EIP-2718 bytes
//! let envelope = seal(secret.public_key(), &tx, &mut OsRng)?;
//! assert_eq!(open(&secret, &envelope)?.as_slice(), &tx);
//! # Ok::<(), aegis_envelope::EnvelopeError>(())
//! ```
//!
//! Nothing in this crate panics on untrusted bytes: every refusal is an
//! [`EnvelopeError`].

mod envelope;
mod error;
mod keys;

pub use envelope::{Envelope, open, seal};
pub use error::EnvelopeError;
pub use keys::{RecipientPublicKey, RecipientSecretKey};
pub use zeroize::Zeroizing;

/// Envelope format version written and accepted by this build.
pub const VERSION: u8 = 0x01;

/// Version byte of the recipient key encodings.
pub const KEY_VERSION: u8 = 0x01;

/// Largest payload an envelope may carry: 128 KiB.
pub const MAX_PAYLOAD: usize = 128 * 1024;

/// Header length: version (1) ‖ chain id (8) ‖ key epoch (4).
pub const HEADER_LEN: usize = 1 + 8 + 4;

/// ML-KEM-1024 ciphertext length.
pub const KEM_CT_LEN: usize = fips203::ml_kem_1024::CT_LEN;

/// ML-KEM-1024 encapsulation key length.
pub const KEM_EK_LEN: usize = fips203::ml_kem_1024::EK_LEN;

/// ML-KEM-1024 decapsulation key length.
pub const KEM_DK_LEN: usize = fips203::ml_kem_1024::DK_LEN;

/// SEC1 compressed secp256k1 public key length.
pub const SECP_PK_LEN: usize = 33;

/// secp256k1 secret scalar length.
pub const SECP_SK_LEN: usize = 32;

/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;

/// Length of `header ‖ kem_ct ‖ eph_pk`: the AEAD associated data.
pub const PREFIX_LEN: usize = HEADER_LEN + KEM_CT_LEN + SECP_PK_LEN;

/// Bytes an envelope adds to its payload.
pub const OVERHEAD: usize = PREFIX_LEN + TAG_LEN;

/// Shortest valid envelope (one-byte payload).
pub const MIN_ENVELOPE_LEN: usize = OVERHEAD + 1;

/// Longest valid envelope ([`MAX_PAYLOAD`]-byte payload).
pub const MAX_ENVELOPE_LEN: usize = OVERHEAD + MAX_PAYLOAD;

/// Length of [`RecipientPublicKey::to_bytes`].
pub const PUBLIC_KEY_LEN: usize = 1 + 8 + 4 + KEM_EK_LEN + SECP_PK_LEN;

/// Length of [`RecipientSecretKey::to_bytes`].
pub const SECRET_KEY_LEN: usize = 1 + 8 + 4 + KEM_DK_LEN + SECP_SK_LEN;

/// HKDF `info` string of format v1.
pub const HKDF_INFO: &[u8] = b"QuantumAegis envelope v1";
