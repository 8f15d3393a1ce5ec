//! Attested sharing of the cluster's mempool encryption key among TEE workers.
//!
//! Users encrypt transactions to one mempool key per key epoch. In a cluster every worker must
//! hold that same key, so that envelopes pooled by a leader that dies still open on the next
//! one. A worker that joins gets the key from a member, and only after proving with a TDX quote
//! that it runs an allowed workload; the member proves the same in return. The key travels
//! sealed to a transient ML-KEM-1024 + secp256k1 key of the joiner ([`aegis_envelope`]: hybrid
//! KEM, HKDF-SHA256, AES-256-GCM), so only the quoted TEE can open it.
//!
//! # Protocol
//!
//! ```text
//! member                                              joiner
//!   Member::challenge ─── 1. Challenge ───────────────▶
//!     (nonce kept in the NonceBook: one use, 60 s)
//!                     ◀── 2. JoinRequest ───────────── Joiner::request
//!                          worker id, transient key, quote(REPORTDATA binds nonce, key, id)
//!   Member::answer ────── 3. KeyShare ────────────────▶ Joiner::accept → RecipientSecretKey
//!     seal(transient key, nonce ‖ cluster key),            → Identity::adopt_encryption_key
//!     quote(REPORTDATA binds the sealed bytes and the key's hash)
//! ```
//!
//! [`Member::answer`] checks, in order, and on any failure seals nothing: the version and
//! encoding rules; the chain id; the nonce is known, unused and unexpired (it is used up); the
//! cluster key did not rotate since the challenge; the transient key is for the challenged
//! epoch; the quote verifies under the trust root (`QuoteTrust::DevRoot` for simulator quotes,
//! `QuoteTrust::Dcap` in production); the quote's workload id and TCB status pass the
//! [`JoinPolicy`]; the REPORTDATA is exactly the expected binding. [`Joiner::accept`] checks
//! the chain, nonce and epoch of its session, opens the sealed key (any tampered byte fails
//! the AEAD), checks the sealed nonce and the key's chain and epoch, then verifies the member's
//! quote the same way against the received key's hash.
//!
//! # REPORTDATA
//!
//! Both quotes use `aegis_tee::ReportDataBinding` (format v3) with the domain
//! `(ReportDataPurpose::KeyShare = 6, chainId, verifyingContract = 0)`:
//!
//! ```text
//! reportData[0:20]  = attester.sequencer                   (zero for an anonymous TEE)
//! reportData[20:52] = keccak256(attester.mldsaKeyHash ‖ attester.slhdsaKeyHash
//!                               ‖ encryptionKeyHash ‖ binding ‖ domainHash)
//! reportData[52:64] = 0
//!
//! join request: encryptionKeyHash = transientKey.key_hash()
//!               binding = keccak256("QuantumAegis key share v1 join" ‖ nonce
//!                                   ‖ transientKey.key_hash() ‖ len(workerId) (u8) ‖ workerId)
//! key share:    encryptionKeyHash = the shared key's key_hash()
//!               binding = keccak256("QuantumAegis key share v1 share" ‖ nonce
//!                                   ‖ transientKey.key_hash() ‖ keccak256(sealedKey))
//! ```
//!
//! `key_hash()` is keccak256 of a recipient public key's 1,614-byte encoding (it includes the
//! chain id and key epoch). A man in the middle who swaps the transient key, the worker id or
//! the nonce breaks the joiner's binding; one who seals a key of their own to the transient key
//! cannot produce the member's quote; a key share replayed into another session carries another
//! nonce and is sealed to another transient key.
//!
//! # Encodings (version 0x01)
//!
//! Integers are big-endian; every message starts with `version (0x01) ‖ kind`, and a decoder
//! refuses another version or kind, a short or oversized input and trailing bytes
//! ([`KeyShareError`] names which).
//!
//! ```text
//! Challenge   (46 bytes)   = 0x01 ‖ 0x01 ‖ chainId u64 ‖ keyEpoch u32 ‖ nonce (32)
//! JoinRequest (≤ 18,193)   = 0x01 ‖ 0x02 ‖ chainId u64 ‖ nonce (32)
//!                            ‖ len u8 (1..=64) ‖ workerId (UTF-8, no control characters)
//!                            ‖ transientKey (1,614; its chain id = chainId)
//!                            ‖ sequencer (20) ‖ mldsaKeyHash (32) ‖ slhdsaKeyHash (32)
//!                            ‖ len u32 (1,226..=16,384) ‖ quote
//! KeyShare    (≤ 21,393)   = 0x01 ‖ 0x03 ‖ chainId u64 ‖ keyEpoch u32 ‖ nonce (32)
//!                            ‖ sequencer (20) ‖ mldsaKeyHash (32) ‖ slhdsaKeyHash (32)
//!                            ‖ sealedKey (4,875)
//!                            ‖ len u32 (1,226..=16,384) ‖ quote
//! sealedKey = aegis-envelope v1 to transientKey of  nonce (32) ‖ RecipientSecretKey (3,213)
//! ```
//!
//! With serde the messages are JSON objects with camelCase fields, byte strings as `0x` hex
//! (`transientKey` as its 1,614-byte encoding), `version`, `chainId` and `keyEpoch` as
//! numbers; unknown fields are refused and the same rules as the binary decoder apply.
//!
//! Nothing in this crate panics on untrusted input, and no secret key is ever logged or put in
//! an error.

mod error;
mod message;
mod nonce;
mod policy;
mod protocol;
mod service;

pub use error::KeyShareError;
pub use message::{AttesterKeys, Challenge, JoinRequest, KeyShare, WorkerId};
pub use nonce::{DEFAULT_NONCE_CAPACITY, DEFAULT_NONCE_TTL, NonceBook};
pub use policy::{DEFAULT_TCB_STATUSES, JoinPolicy};
pub use protocol::{Attester, Joiner, Member};
pub use service::{CHALLENGE_PATH, JOIN_PATH, KeyShareService, TrustRoots, join_cluster_key};

/// Message format version written and accepted by this build.
pub const VERSION: u8 = 0x01;

/// Longest worker id, in bytes.
pub const MAX_WORKER_ID_LEN: usize = 64;

/// Length of an encoded [`Challenge`].
pub const CHALLENGE_LEN: usize = 2 + 8 + 4 + 32;

/// Length of the plaintext sealed in a [`KeyShare`]: `nonce ‖ RecipientSecretKey encoding`.
pub const SHARE_PAYLOAD_LEN: usize = 32 + aegis_envelope::SECRET_KEY_LEN;

/// Length of [`KeyShare::sealed_key`]: the envelope of [`SHARE_PAYLOAD_LEN`] bytes.
pub const SEALED_KEY_LEN: usize = aegis_envelope::OVERHEAD + SHARE_PAYLOAD_LEN;

/// Longest encoded [`JoinRequest`].
pub const MAX_JOIN_REQUEST_LEN: usize = 2
    + 8
    + 32
    + 1
    + MAX_WORKER_ID_LEN
    + aegis_envelope::PUBLIC_KEY_LEN
    + AttesterKeys::LEN
    + 4
    + aegis_tee::MAX_QUOTE_LENGTH;

/// Longest encoded [`KeyShare`].
pub const MAX_KEY_SHARE_LEN: usize =
    2 + 8 + 4 + 32 + AttesterKeys::LEN + SEALED_KEY_LEN + 4 + aegis_tee::MAX_QUOTE_LENGTH;

/// Domain tag of [`JoinRequest::binding`].
pub const JOIN_BINDING_TAG: &[u8] = b"QuantumAegis key share v1 join";

/// Domain tag of [`KeyShare::binding`].
pub const SHARE_BINDING_TAG: &[u8] = b"QuantumAegis key share v1 share";
