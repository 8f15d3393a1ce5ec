/// Errors of the attested identity, the batch pipeline and the attestation store.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// Keys or signatures.
    #[error(transparent)]
    Pqc(#[from] aegis_pqc::PqcError),
    /// Quotes.
    #[error("attestation: {0}")]
    Tee(#[from] aegis_tee::TeeError),
    /// The mempool encryption key.
    #[error("mempool encryption key: {0}")]
    Envelope(#[from] aegis_envelope::EnvelopeError),
    /// The key store belongs to another chain.
    #[error("the key store's encryption key is for chain {found}, this node runs chain {expected}")]
    WrongChain {
        /// The node's chain.
        expected: u64,
        /// The key's chain.
        found: u64,
    },
    /// The attestation database.
    #[error("attestation store {path}: {reason}")]
    Store {
        /// The database file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A node answered an error, or nothing that parses.
    #[error("JSON-RPC {method}: {reason}")]
    Rpc {
        /// The method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// A node's attestation does not bind what it claims to.
    #[error("{0}")]
    Untrusted(String),
}
