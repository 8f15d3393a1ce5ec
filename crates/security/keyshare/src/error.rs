//! The one error type of this crate.

use alloy_primitives::B256;

/// Why a message did not decode, a join request was refused, or a key share was not accepted.
///
/// Every variant names its reason; none carries secret material (nonces, key hashes and workload
/// ids are public). Whatever the member refuses, it seals and returns nothing.
#[derive(Debug, thiserror::Error)]
pub enum KeyShareError {
    // ----- encodings -------------------------------------------------------------------------
    /// The encoding ends before the fixed part or a length-prefixed field is complete.
    #[error("{message} truncated: at least {needed} bytes are needed, got {got}")]
    Truncated {
        /// Which message.
        message: &'static str,
        /// Bytes needed to go on.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// Bytes follow the last field.
    #[error("{message} has {extra} trailing bytes after its last field")]
    TrailingBytes {
        /// Which message.
        message: &'static str,
        /// How many.
        extra: usize,
    },
    /// The encoding is longer than any valid one.
    #[error("{message} is {len} bytes, more than the largest valid encoding ({max})")]
    TooLarge {
        /// Which message.
        message: &'static str,
        /// Its length.
        len: usize,
        /// The largest valid length.
        max: usize,
    },
    /// The version byte (or JSON `version`) is not one this build speaks.
    #[error(
        "{message} has version {found:#04x}; this build speaks {:#04x}",
        crate::VERSION
    )]
    UnsupportedVersion {
        /// Which message.
        message: &'static str,
        /// The version given.
        found: u8,
    },
    /// The kind byte names another message.
    #[error("expected a {expected} (kind {expected_kind:#04x}), got message kind {found:#04x}")]
    WrongMessageKind {
        /// The message expected.
        expected: &'static str,
        /// Its kind byte.
        expected_kind: u8,
        /// The kind byte given.
        found: u8,
    },
    /// A variable-length field is outside its bounds.
    #[error("{field} is {len} bytes, allowed {min}..={max}")]
    FieldLength {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// The worker id is empty, too long, not UTF-8 or contains control characters.
    #[error("invalid worker id: {0}")]
    InvalidWorkerId(&'static str),
    /// The joiner's transient public key does not decode.
    #[error("invalid transient public key: {0}")]
    InvalidTransientKey(#[source] aegis_envelope::EnvelopeError),
    /// The transient public key is bound to another chain or key epoch than the session.
    #[error(
        "the transient public key is for chain {key_chain} epoch {key_epoch}, \
         the session for chain {chain} epoch {epoch}"
    )]
    TransientKeyMismatch {
        /// The session's chain.
        chain: u64,
        /// The session's key epoch.
        epoch: u32,
        /// The key's chain.
        key_chain: u64,
        /// The key's epoch.
        key_epoch: u32,
    },

    // ----- session ---------------------------------------------------------------------------
    /// The message is for another chain.
    #[error("{message} is for chain {found}, this cluster runs chain {expected}")]
    WrongChain {
        /// Which message.
        message: &'static str,
        /// This side's chain.
        expected: u64,
        /// The message's chain.
        found: u64,
    },
    /// The key share is for another key epoch than the challenge.
    #[error("the key share is for key epoch {found}, the challenge was for epoch {expected}")]
    WrongEpoch {
        /// The challenge's epoch.
        expected: u32,
        /// The share's epoch.
        found: u32,
    },
    /// The member never issued this nonce (or forgot it when it expired).
    #[error("unknown challenge nonce {0}")]
    UnknownNonce(B256),
    /// The nonce was already used by an earlier join request.
    #[error("challenge nonce {0} was already used")]
    NonceReplayed(B256),
    /// The nonce's challenge expired before the request came.
    #[error("challenge nonce {0} expired")]
    NonceExpired(B256),
    /// The nonce book holds as many live challenges as it may.
    #[error("{capacity} challenges are outstanding; no new one until some expire")]
    NonceBookFull {
        /// Its capacity.
        capacity: usize,
    },
    /// The cluster key rotated between the challenge and the join request.
    #[error(
        "the challenge was for key epoch {challenged}, the cluster key is now epoch {current}: \
         ask for a new challenge"
    )]
    KeyEpochChanged {
        /// The challenged epoch.
        challenged: u32,
        /// The cluster key's epoch.
        current: u32,
    },
    /// The key share answers another session (another nonce).
    #[error("the key share is for challenge nonce {found}, this joiner's session is {expected}")]
    NonceMismatch {
        /// This session's nonce.
        expected: B256,
        /// The share's nonce.
        found: B256,
    },
    /// [`crate::Joiner::accept`] before [`crate::Joiner::request`].
    #[error("no join request is pending: call Joiner::request first")]
    NoPendingRequest,

    // ----- attestation -----------------------------------------------------------------------
    /// This side's TEE could not produce a quote.
    #[error("cannot obtain a quote: {0}")]
    QuoteUnavailable(#[source] aegis_tee::TeeError),
    /// The peer's quote does not verify under the trust root.
    #[error("the {role}'s quote is refused: {source}")]
    QuoteRefused {
        /// `"joiner"` or `"member"`.
        role: &'static str,
        /// Why.
        #[source]
        source: aegis_attest::AttestError,
    },
    /// The peer's quote verifies, but its workload is not in the policy's allow-list.
    #[error("the {role}'s workload {workload_id} is not in the allow-list")]
    WorkloadNotAllowed {
        /// `"joiner"` or `"member"`.
        role: &'static str,
        /// `keccak256(MRTD ‖ RTMR0..3)` of the quote.
        workload_id: B256,
    },
    /// The peer's quote has a TCB status the policy does not accept.
    #[error("the {role}'s quote has TCB status {status:?}, which the policy does not accept")]
    TcbStatusNotAccepted {
        /// `"joiner"` or `"member"`.
        role: &'static str,
        /// The status.
        status: String,
    },
    /// The peer's quote verifies, but its REPORTDATA does not bind this message (another nonce,
    /// transient key, worker id, ciphertext or key: a substituted or replayed message).
    #[error("the {role}'s quote REPORTDATA does not bind this {message}")]
    ReportDataMismatch {
        /// `"joiner"` or `"member"`.
        role: &'static str,
        /// `"join request"` or `"key share"`.
        message: &'static str,
    },

    // ----- the sealed key --------------------------------------------------------------------
    /// Sealing the key to the transient key failed (randomness).
    #[error("cannot seal the key share: {0}")]
    Seal(#[source] aegis_envelope::EnvelopeError),
    /// The sealed share does not open with the transient key (tampered, or sealed to another
    /// key).
    #[error("the sealed key share does not open: {0}")]
    ShareDecryption(#[source] aegis_envelope::EnvelopeError),
    /// The opened share is not `nonce ‖ secret key` of the expected sizes.
    #[error("the opened key share is malformed: {0}")]
    MalformedShare(&'static str),
    /// The opened share's secret key does not decode.
    #[error("the shared key does not decode: {0}")]
    InvalidSharedKey(#[source] aegis_envelope::EnvelopeError),
    /// The opened share's key is for another chain or epoch than the share says.
    #[error(
        "the shared key is for chain {key_chain} epoch {key_epoch}, \
         the key share for chain {chain} epoch {epoch}"
    )]
    SharedKeyMismatch {
        /// The share's chain.
        chain: u64,
        /// The share's epoch.
        epoch: u32,
        /// The key's chain.
        key_chain: u64,
        /// The key's epoch.
        key_epoch: u32,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Randomness(&'static str),
    // ----- transport ---------------------------------------------------------------------------
    /// A member's endpoint could not be reached or answered with an error.
    #[error("{url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What failed (the member's refusal is passed on).
        reason: String,
    },
    /// The received key could not be sealed into the key store.
    #[error("cannot adopt the cluster key: {0}")]
    Adopt(#[source] aegis_attest::AttestError),
}
