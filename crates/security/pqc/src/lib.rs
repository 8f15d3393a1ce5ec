//! Hybrid post-quantum signatures for the aegis sequencer.
//!
//! Every batch the sequencer posts is signed with secp256k1 ECDSA (for today's verifiers), ML-DSA-87
//! (FIPS 204, on the critical path) and SLH-DSA-256s (FIPS 205, hash-based, signed in the
//! background because it takes about half a second). This crate holds:
//!
//! - [`Algorithm`] and the [`Signer`] trait, generic over the algorithm, with one implementation
//!   per scheme, and [`verify`] for any of them;
//! - the [`BatchCommitment`] a batch's signatures cover and the canonical, versioned
//!   [`SignatureBundle`] that carries them (format in `crates/security/pqc/README.md`);
//! - the [`KeyStore`]: key generation, epochs and rotation, sealed at rest with AES-256-GCM
//!   under a key from the attestation provider (in simulation a key file or a passphrase).
//!
//! Secret keys never appear in `Debug` output, logs or errors.

mod algorithm;
mod bundle;
mod error;
mod keystore;
mod signer;

pub use algorithm::{Algorithm, SlhDsaVariant, verify};
pub use bundle::{
    BUNDLE_MAGIC, BUNDLE_VERSION, BatchCommitment, BundleSignature, SignatureBundle,
    block_hashes_hash,
};
pub use error::PqcError;
pub use keystore::{EpochKeys, EpochPublicKeys, KeyStore, SealingKey};
pub use signer::{EcdsaSigner, MlDsa87Signer, Signer, SlhDsaSigner};
