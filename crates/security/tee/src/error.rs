//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while parsing, producing or verifying a TDX quote.
///
/// Quote-structure variants name the offending field and its byte offset in the quote, so that a
/// rejected quote can be inspected with a hex dump.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeeError {
    // ----- quote structure -------------------------------------------------------------------
    /// The quote is shorter than the smallest well-formed quote.
    #[error("quote is {length} bytes, shorter than the minimum {min}")]
    QuoteTooShort {
        /// Length of the input.
        length: usize,
        /// Minimum length.
        min: usize,
    },
    /// The quote is longer than the accepted maximum.
    #[error("quote is {length} bytes, longer than the maximum {max}")]
    QuoteTooLong {
        /// Length of the input.
        length: usize,
        /// Maximum length.
        max: usize,
    },
    /// Header field `version` (offset 0) is not 4.
    #[error("unsupported quote version {version} at offset 0 (expected 4)")]
    UnsupportedQuoteVersion {
        /// The version found.
        version: u16,
    },
    /// Header field `attestation key type` (offset 2) is not 2 (ECDSA-256 with P-256).
    #[error("unsupported attestation key type {key_type} at offset 2 (expected 2, ECDSA P-256)")]
    UnsupportedAttestationKeyType {
        /// The key type found.
        key_type: u16,
    },
    /// Header field `TEE type` (offset 4) is not 0x81 (TDX).
    #[error("unsupported TEE type {tee_type:#x} at offset 4 (expected 0x81, TDX)")]
    UnsupportedTeeType {
        /// The TEE type found.
        tee_type: u32,
    },
    /// `636 + authDataSize` (auth data size at offset 632) runs past the end of the quote.
    #[error("auth data (size field at offset 632) ends at {end}, past the quote's end {length}")]
    AuthDataOutOfBounds {
        /// Where the auth data would end.
        end: u64,
        /// Length of the quote.
        length: usize,
    },
    /// Certification data type (offset 764) is not 6 (QE report certification data).
    #[error("unsupported certification data type {cert_type} at offset 764 (expected 6)")]
    UnsupportedCertificationDataType {
        /// The type found.
        cert_type: u16,
    },
    /// `770 + certDataSize` (size at offset 766) differs from `636 + authDataSize`.
    #[error(
        "certification data (size field at offset 766) ends at {cert_end}, \
         but the auth data ends at {auth_end}"
    )]
    CertificationDataSizeMismatch {
        /// Where the certification data ends.
        cert_end: u64,
        /// Where the auth data ends.
        auth_end: u64,
    },
    /// The QE auth data (size at offset 1218) leaves no room for the inner certification header.
    #[error(
        "QE auth data (size field at offset 1218) and the inner certification header end at \
         {end}, past the certification data's end {cert_end}"
    )]
    QeAuthDataOutOfBounds {
        /// Where the inner certification header would end.
        end: u64,
        /// Where the certification data ends.
        cert_end: u64,
    },
    /// The inner certification data type is not 5 (PCK certificate chain).
    #[error("unsupported PCK certification data type {cert_type} at offset {offset} (expected 5)")]
    UnsupportedPckCertDataType {
        /// The type found.
        cert_type: u16,
        /// Offset of the type field.
        offset: usize,
    },
    /// The inner (PCK chain) certification data does not end where the outer one ends.
    #[error(
        "PCK certification data (size field at offset {offset}) ends at {end}, \
         but the certification data ends at {cert_end}"
    )]
    PckCertDataSizeMismatch {
        /// Offset of the size field.
        offset: usize,
        /// Where the inner data would end.
        end: u64,
        /// Where the outer certification data ends.
        cert_end: u64,
    },
    /// A byte after the auth data is not zero.
    #[error("non-zero byte at offset {offset}, after the auth data (only zero padding allowed)")]
    TrailingData {
        /// Offset of the first non-zero byte.
        offset: usize,
    },

    /// TDATTRIBUTES bit 0 (offset 168) is set: the TD runs in debug mode, its memory is not
    /// confidential.
    #[error("debug TD (TDATTRIBUTES bit 0 at offset 168 is set)")]
    DebugTd,

    // ----- signatures and keys ---------------------------------------------------------------
    /// The attestation key (offset 700) is not a valid P-256 point.
    #[error("attestation key at offset 700 is not a valid P-256 public key")]
    InvalidAttestationKey,
    /// The quote signature (offset 636) does not verify with the attestation key.
    #[error("quote signature at offset 636 does not verify with the attestation key")]
    InvalidQuoteSignature,
    /// The QE report data (offset 1090) is not `sha256(attestationKey ‖ qeAuthData) ‖ 0^32`.
    #[error("QE report data at offset 1090 does not bind the attestation key and QE auth data")]
    QeReportDataMismatch,
    /// The QE report signature (offset 1154) does not verify with the PCK key.
    #[error("QE report signature at offset 1154 does not verify with the PCK key")]
    InvalidQeReportSignature,

    // ----- development certificate -----------------------------------------------------------
    /// The PCK certification data is not a well-formed development certificate.
    #[error("malformed development PCK certificate: {reason}")]
    MalformedDevCertificate {
        /// What is wrong.
        reason: String,
    },
    /// The development certificate names a root other than the trusted one.
    #[error("development certificate is issued by root {found}, not the trusted root {expected}")]
    DevRootMismatch {
        /// Hex of the trusted root key.
        expected: String,
        /// Hex of the root key in the certificate.
        found: String,
    },
    /// The root's signature over the PCK key does not verify.
    #[error("development certificate signature does not verify with the root key")]
    InvalidDevCertificateSignature,
    /// A public key given by the caller is not a valid P-256 point.
    #[error("{which} is not a valid P-256 public key")]
    InvalidPublicKey {
        /// Which key.
        which: &'static str,
    },

    // ----- DCAP ------------------------------------------------------------------------------
    /// The collateral JSON could not be decoded.
    #[error("invalid DCAP collateral: {reason}")]
    InvalidCollateral {
        /// The decoder's message.
        reason: String,
    },
    /// `dcap-qvl` rejected the quote.
    #[error("DCAP verification failed: {reason}")]
    DcapVerification {
        /// `dcap-qvl`'s message (with its context chain).
        reason: String,
    },

    // ----- time ------------------------------------------------------------------------------
    /// An RFC 3339 timestamp could not be parsed.
    #[error("invalid RFC 3339 timestamp {input:?}: {reason}")]
    InvalidTimestamp {
        /// The input (truncated to 64 characters).
        input: String,
        /// What is wrong.
        reason: &'static str,
    },

    // ----- simulator -------------------------------------------------------------------------
    /// The simulator seed file could not be read or created.
    #[error("simulator seed file {path}: {reason}")]
    SeedFile {
        /// The seed file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Key derivation from the seed failed (practically impossible).
    #[error("cannot derive the simulator's {which} key from the seed")]
    KeyDerivation {
        /// Which key.
        which: &'static str,
    },

    // ----- providers -------------------------------------------------------------------------
    /// The configfs-tsm report directory does not exist: this is not a TDX guest (or configfs
    /// is not mounted).
    #[error("configfs-tsm directory {path} is unavailable (not a TDX guest?): {reason}")]
    ConfigfsTsmUnavailable {
        /// The report directory.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
    /// A configfs-tsm file operation failed.
    #[error("configfs-tsm {operation} {path}: {reason}")]
    ConfigfsTsm {
        /// What was being done (`mkdir`, `write`, `read`, ...).
        operation: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error or the inconsistency found.
        reason: String,
    },
    /// The configfs-tsm `generation` counter shows that another writer used the entry
    /// concurrently, so the outblob may not answer our inblob.
    #[error(
        "configfs-tsm entry {path} was used concurrently: generation {before} before, \
         {after} after (expected {before} + 1)"
    )]
    ConfigfsTsmRace {
        /// The entry directory.
        path: PathBuf,
        /// Generation read before writing the inblob.
        before: u64,
        /// Generation read after reading the outblob.
        after: u64,
    },
    /// The dstack guest agent could not be reached.
    #[error("dstack socket {path}: {reason}")]
    DstackUnavailable {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
    /// The dstack guest agent's answer is not what was expected.
    #[error("dstack GetQuote: {reason}")]
    Dstack {
        /// What is wrong with the answer.
        reason: String,
    },
}

impl TeeError {
    pub(crate) fn dev_cert(reason: impl Into<String>) -> Self {
        Self::MalformedDevCertificate {
            reason: reason.into(),
        }
    }

    pub(crate) fn dstack(reason: impl Into<String>) -> Self {
        Self::Dstack {
            reason: reason.into(),
        }
    }
}
