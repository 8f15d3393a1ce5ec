//! The one error type of this crate.

/// Why sealing, parsing or opening an envelope (or decoding a key) failed.
///
/// Every variant names its reason; none of them carries secret material.
/// [`EnvelopeError::DecryptionFailed`] deliberately does not say *why* the
/// authentication tag did not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The first byte of the envelope is not a version this build understands.
    #[error("unsupported envelope version {0:#04x} (this build understands 0x01)")]
    UnsupportedVersion(u8),

    /// The envelope is shorter than the fixed-size parts of the format.
    #[error("envelope truncated: at least {needed} bytes are needed, got {got}")]
    Truncated {
        /// Minimum length of a well-formed envelope.
        needed: usize,
        /// Length that was supplied.
        got: usize,
    },

    /// The envelope is addressed to a different chain than the opening key.
    #[error("envelope is addressed to chain {got}, but this key serves chain {expected}")]
    WrongChain {
        /// Chain id of the opening key.
        expected: u64,
        /// Chain id written in the envelope header.
        got: u64,
    },

    /// The envelope is addressed to a different key epoch than the opening key.
    #[error("envelope is addressed to key epoch {got}, but this key is epoch {expected}")]
    WrongEpoch {
        /// Epoch of the opening key.
        expected: u32,
        /// Key epoch written in the envelope header.
        got: u32,
    },

    /// The ephemeral secp256k1 key is not a valid compressed point on the curve.
    #[error("ephemeral secp256k1 public key is not a valid compressed curve point")]
    InvalidEphemeralKey,

    /// The ML-KEM-1024 ciphertext was refused by decapsulation.
    #[error("ML-KEM-1024 ciphertext was refused by decapsulation")]
    InvalidKemCiphertext,

    /// The AES-256-GCM authentication tag did not verify (wrong key, or any
    /// byte of the envelope was modified).
    #[error("decryption failed: authentication tag mismatch")]
    DecryptionFailed,

    /// The payload is longer than [`crate::MAX_PAYLOAD`].
    #[error("payload of {len} bytes exceeds the maximum of {max} bytes")]
    PayloadTooLarge {
        /// Length of the (plaintext) payload.
        len: usize,
        /// The maximum, [`crate::MAX_PAYLOAD`].
        max: usize,
    },

    /// The payload is empty (an envelope must carry a transaction).
    #[error("payload is empty: an envelope must carry at least one byte")]
    EmptyPayload,

    /// A recipient public key encoding was refused.
    #[error("invalid recipient public key: {0}")]
    InvalidPublicKey(&'static str),

    /// A recipient secret key encoding was refused.
    #[error("invalid recipient secret key: {0}")]
    InvalidSecretKey(&'static str),

    /// The random number generator failed while sealing or generating a key.
    #[error("random number generator failed: {0}")]
    Randomness(&'static str),

    /// A primitive failed in a way that well-formed inputs cannot cause.
    #[error("internal cryptographic failure: {0}")]
    Internal(&'static str),
}
