//! The anchor's errors.

/// Why a round of the anchor failed (the next round tries again).
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The contract has no code at the head (not deployed yet, or a wrong address).
    #[error("no contract at {0} at the head")]
    NotDeployed(alloy_primitives::Address),
    /// Governance revoked this sequencer: it can no longer commit or re-register.
    #[error("sequencer {0} is revoked in SequencerAttestation")]
    Revoked(alloy_primitives::Address),
    /// A call would revert; nothing was sent.
    #[error("{call} would revert: {reason}")]
    Reverted {
        /// The function.
        call: &'static str,
        /// The decoded revert data.
        reason: String,
    },
    /// A view returned data that does not decode as its ABI says.
    #[error("{0} returned undecodable data")]
    BadReturn(&'static str),
    /// The pool refused one of the anchor's transactions.
    #[error("the pool refused the {call} transaction: {source}")]
    Pool {
        /// The function.
        call: &'static str,
        /// Why.
        source: aegis_mempool::PoolError,
    },
    /// A batch attestation the anchor needs is missing or unreadable.
    #[error("batch {0}: {1}")]
    Batch(u64, String),
    /// A local migration checkpoint is missing or unreadable.
    #[error("checkpoint {0}: {1}")]
    Checkpoint(u64, String),
    /// At EMERGENCY, a batch commitment without post-quantum signature hashes.
    #[error("batch {0}: ECDSA-only commitment refused at EMERGENCY risk")]
    EcdsaOnlyRefused(u64),
    /// Migration checkpoints.
    #[error(transparent)]
    Migration(#[from] aegis_migration::MigrationError),
    /// The registered ML-DSA key is none of this node's epochs.
    #[error("the registered ML-DSA key {0} is not one of this node's keys")]
    UnknownRegisteredKey(alloy_primitives::B256),
    /// The keys rotated without the previous key's handover (e.g. a key store replaced by hand).
    #[error("no handover signature for key epoch {0}")]
    NoHandover(u32),
    /// A key expansion was planned for a registry without an ML-DSA verifier.
    #[error("the registry has no ML-DSA verifier")]
    NoMlDsaVerifier,
    /// A risk report was planned without an oracle address.
    #[error("no oracle configured")]
    NoOracle,
    /// The chain store has no head.
    #[error("the chain has no head")]
    NoHead,
    /// Execution (simulation, state access).
    #[error(transparent)]
    Executor(#[from] aegis_executor::ExecutorError),
    /// The chain store.
    #[error(transparent)]
    Storage(#[from] aegis_storage::StorageError),
    /// Keys, quotes, the attestation store.
    #[error(transparent)]
    Attest(#[from] aegis_attest::AttestError),
    /// Signatures and bundles.
    #[error(transparent)]
    Pqc(#[from] aegis_pqc::PqcError),
}
