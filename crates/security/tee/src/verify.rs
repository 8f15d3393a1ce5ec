//! Quote verification: development quotes against a development root, real quotes against
//! Intel's root CA with DCAP collateral.

use crate::{
    DevCertificate, Quote, TeeError,
    crypto::{sha256, verify_digest, verifying_key},
    quote::ser_hex,
};
use alloy_primitives::B256;
use serde::Serialize;

/// The trust anchor a quote was verified against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrustRoot {
    /// A development root (see [`crate::Simulator`]); not a hardware guarantee.
    Development {
        /// The development root key `x ‖ y`.
        #[serde(serialize_with = "ser_hex")]
        root_public_key: [u8; 64],
        /// The PCK key `x ‖ y` certified by the root (the hint `DevPckVerifier` takes).
        #[serde(serialize_with = "ser_hex")]
        pck_public_key: [u8; 64],
    },
    /// Intel's SGX root CA (shipped with `dcap-qvl`), through the quote's PCK chain and the
    /// DCAP collateral.
    IntelSgxRootCa,
}

/// A quote whose signatures and certificate chain were checked.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedQuote {
    /// The parsed quote.
    pub quote: Quote,
    /// `keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)`.
    pub workload_id: B256,
    /// The REPORTDATA.
    #[serde(serialize_with = "ser_hex")]
    pub report_data: [u8; 64],
    /// The TCB status: `"development"` for development quotes, `dcap-qvl`'s status for real
    /// ones (`"UpToDate"`, `"SWHardeningNeeded"`, `"OutOfDate"`, ...). Deciding which statuses
    /// are acceptable is the caller's policy.
    pub tcb_status: String,
    /// Intel security advisories that apply (DCAP only).
    pub advisory_ids: Vec<String>,
    /// What the quote was verified against.
    pub root: TrustRoot,
}

/// The TCB status recorded for development quotes.
pub const DEVELOPMENT_TCB_STATUS: &str = "development";

/// Verifies a development (simulator) quote against `dev_root_public_key` (`x ‖ y`).
///
/// Checks, in order: structure ([`Quote::parse`]); not a debug TD; the type-5 certification
/// data is a canonical development certificate issued by `dev_root_public_key`, with a valid
/// root signature; the quote signature by the attestation key over `sha256(quote[0..632])`; the
/// QE report data is `sha256(attestationKey ‖ qeAuthData) ‖ 0^32`; the QE report signature by
/// the certified PCK key over `sha256(QE report)`.
pub fn verify_dev(raw: &[u8], dev_root_public_key: &[u8; 64]) -> Result<VerifiedQuote, TeeError> {
    let quote = Quote::parse(raw)?;
    check_not_debug(&quote)?;

    let cert = DevCertificate::from_pem(quote.pck_cert_data())?;
    cert.verify(dev_root_public_key)?;

    let attestation_key =
        verifying_key(quote.attestation_key()).ok_or(TeeError::InvalidAttestationKey)?;
    if !verify_digest(
        &attestation_key,
        &sha256(&[quote.signed_region()]),
        quote.signature(),
    ) {
        return Err(TeeError::InvalidQuoteSignature);
    }

    check_qe_report_data(&quote)?;

    let pck = verifying_key(&cert.pck_public_key).ok_or(TeeError::InvalidPublicKey {
        which: "certified PCK key",
    })?;
    if !verify_digest(
        &pck,
        &sha256(&[quote.qe_report_bytes()]),
        quote.qe_report_signature(),
    ) {
        return Err(TeeError::InvalidQeReportSignature);
    }

    Ok(VerifiedQuote {
        workload_id: quote.workload_id(),
        report_data: *quote.report_data(),
        tcb_status: DEVELOPMENT_TCB_STATUS.to_owned(),
        advisory_ids: Vec::new(),
        root: TrustRoot::Development {
            root_public_key: *dev_root_public_key,
            pck_public_key: cert.pck_public_key,
        },
        quote,
    })
}

/// Verifies a real quote with DCAP collateral (JSON of `dcap-qvl`'s `QuoteCollateralV3`) as of
/// `at_unix_secs`, against Intel's SGX root CA.
///
/// Our strict parser runs first (so real quotes obey the same rules as on chain), then
/// `dcap-qvl` (RustCrypto backend) checks the PCK chain and CRLs, the TCB info and QE identity
/// signatures and validity windows, the QE report and quote signatures, and matches the TCB
/// level. Debug TDs are rejected. The TCB status is recorded, not judged.
pub fn verify_dcap(
    raw: &[u8],
    collateral_json: &[u8],
    at_unix_secs: u64,
) -> Result<VerifiedQuote, TeeError> {
    let quote = Quote::parse(raw)?;
    check_not_debug(&quote)?;
    // Cheap check first; dcap-qvl repeats it.
    check_qe_report_data(&quote)?;

    let collateral: dcap_qvl::QuoteCollateralV3 =
        serde_json::from_slice(collateral_json).map_err(|e| TeeError::InvalidCollateral {
            reason: e.to_string(),
        })?;
    let report =
        dcap_qvl::verify::rustcrypto::verify(raw, &collateral, at_unix_secs).map_err(|e| {
            TeeError::DcapVerification {
                reason: format!("{e:#}"),
            }
        })?;

    // Both parsers must agree on what was attested.
    let agrees = report.report.as_td10().is_some_and(|td| {
        td.report_data == *quote.report_data()
            && td.mr_td == *quote.mrtd()
            && [td.rt_mr0, td.rt_mr1, td.rt_mr2, td.rt_mr3] == *quote.rtmrs()
    });
    if !agrees {
        return Err(TeeError::DcapVerification {
            reason: "dcap-qvl's report differs from the parsed TD report body".to_owned(),
        });
    }

    Ok(VerifiedQuote {
        workload_id: quote.workload_id(),
        report_data: *quote.report_data(),
        tcb_status: report.status,
        advisory_ids: report.advisory_ids,
        root: TrustRoot::IntelSgxRootCa,
        quote,
    })
}

fn check_not_debug(quote: &Quote) -> Result<(), TeeError> {
    if quote.is_debug_td() {
        return Err(TeeError::DebugTd);
    }
    Ok(())
}

fn check_qe_report_data(quote: &Quote) -> Result<(), TeeError> {
    let expected = sha256(&[quote.attestation_key(), quote.qe_auth_data()]);
    let (hash, zero) = quote.qe_report().report_data.split_at(32);
    if hash != expected || zero.iter().any(|b| *b != 0) {
        return Err(TeeError::QeReportDataMismatch);
    }
    Ok(())
}
