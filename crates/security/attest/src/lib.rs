//! The sequencer's attested signing identity and its batch attestations.
//!
//! [`Identity`] holds what only the TEE may hold: the sealed [`aegis_pqc::KeyStore`] (secp256k1,
//! ML-DSA-87 and SLH-DSA-256s keys by epoch), the mempool decryption key of the current epoch,
//! and the attestation provider whose TDX quotes bind them (REPORTDATA per
//! [`aegis_tee::ReportDataBinding`]). [`BatchAttestor`] turns each batch into a signed
//! [`aegis_pqc::SignatureBundle`]: ECDSA and ML-DSA-87 at once, SLH-DSA-256s on a background
//! thread behind a bounded queue, plus a quote whose REPORTDATA binds the batch commitment.
//! [`AttestationStore`] keeps the results for `aegis_getBatchAttestation`. [`AttestedNode`] is
//! the other side: a client that takes a node's mempool key only with a quote binding it.

mod client;
mod error;
mod identity;
mod pipeline;
mod store;

pub use client::{AttestedNode, QuoteTrust, verify_quote};
pub use error::AttestError;
pub use identity::{
    ENCRYPTION_SECRET_NAME, Identity, IdentityConfig, KeyHandover, KeySnapshot, key_handover_digest,
};
pub use pipeline::{BatchAttestor, BatchInput, SLH_QUEUE_CAPACITY};
pub use store::{Anchoring, AttestationStore, BatchAttestation, CommitPath, SlhDsaStatus};
