use std::path::PathBuf;

/// Errors of signing, verification, bundle decoding and the key store.
#[derive(Debug, thiserror::Error)]
pub enum PqcError {
    /// An algorithm id that this version does not know.
    #[error("unknown signature algorithm id {0:#04x}")]
    UnknownAlgorithm(u8),
    /// A public key of the wrong length or not a valid key.
    #[error("invalid {algorithm} public key: {reason}")]
    InvalidPublicKey {
        /// The algorithm.
        algorithm: &'static str,
        /// Why.
        reason: String,
    },
    /// A signature of the wrong length.
    #[error("{algorithm} signature is {got} bytes, expected {expected}")]
    SignatureLength {
        /// The algorithm.
        algorithm: &'static str,
        /// Its fixed length.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// The signature does not verify.
    #[error("{0} signature does not verify")]
    BadSignature(&'static str),
    /// Signing failed (random number generator or library failure).
    #[error("{algorithm} signing failed: {reason}")]
    Signing {
        /// The algorithm.
        algorithm: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A malformed signature bundle.
    #[error("malformed signature bundle: {0}")]
    MalformedBundle(String),
    /// A bundle whose version this code does not know.
    #[error("unsupported signature bundle version {0}")]
    UnsupportedBundleVersion(u8),
    /// A bundle that lacks a signature the caller requires.
    #[error("bundle has no {0} signature")]
    MissingSignature(&'static str),
    /// The key store file does not exist.
    #[error("key store {0} does not exist (create it with `aegis keys init`)")]
    KeyStoreMissing(PathBuf),
    /// The key store cannot be read or written.
    #[error("key store {path}: {reason}")]
    KeyStoreIo {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key store does not decrypt (tampered, or the wrong sealing key).
    #[error("key store {0} does not decrypt: tampered, or sealed under another key")]
    KeyStoreSealBroken(PathBuf),
    /// The key store decrypts but its content is not valid.
    #[error("key store {path} is corrupt: {reason}")]
    KeyStoreCorrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The sealing key cannot be obtained.
    #[error("sealing key: {0}")]
    SealingKey(String),
    /// A key epoch the store does not have.
    #[error("no keys for epoch {0}")]
    UnknownEpoch(u32),
}
