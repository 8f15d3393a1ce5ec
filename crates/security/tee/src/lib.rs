//! Intel TDX attestation for the QuantumAegis sequencer.
//!
//! - [`Quote`]: a strict parser for TDX quotes version 4 (ECDSA P-256 attestation key,
//!   certification data type 6 wrapping the QE report and a type-5 PCK chain), with the same
//!   size and padding rules as the on-chain parser (`contracts/lib/TdxQuoteLib.sol`).
//! - [`ReportDataBinding`]: the 64-byte REPORTDATA (format v3) that binds a quote to the
//!   sequencer's address, its post-quantum keys, a nonce or batch commitment and a
//!   [`ReportDataDomain`] (purpose, chain id, verifying contract).
//! - [`Simulator`]: structurally real quotes signed by development keys derived from a seed,
//!   under a development root, with a development PCK certificate defined by this crate.
//! - [`verify_dev`] checks simulator quotes against a development root; [`verify_dcap`] checks
//!   real quotes against Intel's root CA and DCAP collateral (through `dcap-qvl`).
//! - [`AttestationProvider`]: obtains quotes from the Linux configfs-tsm interface, from Phala's
//!   dstack guest agent, or from the simulator.
//!
//! No function of this crate panics on untrusted input: every malformed quote, certificate,
//! collateral or response is reported as a [`TeeError`] naming the field and the reason.
//!
//! The formats are documented in the crate's `README.md`.

mod base64;
mod crypto;
mod error;
mod provider;
mod quote;
mod report_data;
mod simulator;
mod time;
mod verify;

pub use error::TeeError;
pub use provider::{
    AttestationProvider, ConfigfsTsm, DEFAULT_CONFIGFS_TSM_DIR, DEFAULT_DSTACK_SOCKET, Dstack,
};
pub use quote::{
    MAX_QUOTE_LENGTH, MIN_QUOTE_LENGTH, QE_REPORT_LENGTH, QeReport, Quote, QuoteHeader,
    SIGNED_LENGTH, TdReportBody,
};
pub use report_data::{ReportDataBinding, ReportDataDomain, ReportDataPurpose};
pub use simulator::{
    DEV_CERTIFICATE_DOMAIN, DEV_CERTIFICATE_PEM_LABEL, DevCertificate, Measurements, Simulator,
};
pub use time::parse_rfc3339;
pub use verify::{DEVELOPMENT_TCB_STATUS, TrustRoot, VerifiedQuote, verify_dcap, verify_dev};
