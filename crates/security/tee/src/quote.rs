//! Strict parser for Intel TDX quotes, version 4.

use crate::TeeError;
use alloy_primitives::{B256, keccak256};
use serde::{Serialize, Serializer};
use std::ops::Range;

/// Length of the signed part of a quote: header (48) and TD report body (584).
pub const SIGNED_LENGTH: usize = 632;
/// Length of an SGX report body (the QE report).
pub const QE_REPORT_LENGTH: usize = 384;
/// Smallest well-formed quote: empty QE auth data and empty PCK chain.
pub const MIN_QUOTE_LENGTH: usize = 1226;
/// Largest accepted quote (16 KiB; real quotes are about 5 KiB).
pub const MAX_QUOTE_LENGTH: usize = 16 * 1024;

pub(crate) const QUOTE_VERSION: u16 = 4;
pub(crate) const ATTESTATION_KEY_TYPE_ECDSA_P256: u16 = 2;
pub(crate) const TEE_TYPE_TDX: u32 = 0x81;
pub(crate) const CERT_DATA_TYPE_QE_REPORT: u16 = 6;
pub(crate) const CERT_DATA_TYPE_PCK_CHAIN: u16 = 5;

pub(crate) const OFFSET_BODY: usize = 48;
pub(crate) const OFFSET_MRTD: usize = 184;
pub(crate) const OFFSET_RTMR0: usize = 376;
pub(crate) const OFFSET_REPORT_DATA: usize = 568;
pub(crate) const OFFSET_AUTH_DATA_SIZE: usize = 632;
pub(crate) const OFFSET_AUTH_DATA: usize = 636;
pub(crate) const OFFSET_QUOTE_SIGNATURE: usize = 636;
pub(crate) const OFFSET_ATTESTATION_KEY: usize = 700;
pub(crate) const OFFSET_CERT_DATA_TYPE: usize = 764;
pub(crate) const OFFSET_CERT_DATA_SIZE: usize = 766;
pub(crate) const OFFSET_CERT_DATA: usize = 770;
pub(crate) const OFFSET_QE_REPORT: usize = 770;
pub(crate) const OFFSET_QE_REPORT_SIGNATURE: usize = 1154;
pub(crate) const OFFSET_QE_AUTH_DATA_SIZE: usize = 1218;
pub(crate) const OFFSET_QE_AUTH_DATA: usize = 1220;
/// Type (u16) and size (u32) of the inner certification data.
pub(crate) const INNER_CERT_HEADER_LENGTH: usize = 6;

/// The 48-byte quote header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteHeader {
    /// Quote format version (4).
    pub version: u16,
    /// Attestation key type (2: ECDSA-256 with P-256).
    pub attestation_key_type: u16,
    /// TEE type (0x81: TDX).
    pub tee_type: u32,
    /// Security version of the quoting enclave.
    pub qe_svn: u16,
    /// Security version of the provisioning certification enclave.
    pub pce_svn: u16,
    /// Vendor of the quoting enclave (Intel: `939a7233f79c4ca9940a0db3957f0607`).
    #[serde(serialize_with = "ser_hex")]
    pub qe_vendor_id: [u8; 16],
    /// Custom data of the quoting enclave (Intel: the platform's QE id and zeroes).
    #[serde(serialize_with = "ser_hex")]
    pub user_data: [u8; 20],
}

/// The 584-byte TD report body (TDX 1.0 layout), quote bytes [48, 632).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TdReportBody {
    /// TEE TCB security versions.
    #[serde(serialize_with = "ser_hex")]
    pub tee_tcb_svn: [u8; 16],
    /// Measurement of the TDX module.
    #[serde(serialize_with = "ser_hex")]
    pub mr_seam: [u8; 48],
    /// Signer of the TDX module (zero for Intel's).
    #[serde(serialize_with = "ser_hex")]
    pub mr_signer_seam: [u8; 48],
    /// Attributes of the TDX module.
    #[serde(serialize_with = "ser_hex")]
    pub seam_attributes: [u8; 8],
    /// TD attributes (bit 0: DEBUG).
    #[serde(serialize_with = "ser_hex")]
    pub td_attributes: [u8; 8],
    /// Extended features available to the TD.
    #[serde(serialize_with = "ser_hex")]
    pub xfam: [u8; 8],
    /// Measurement of the TD's initial contents.
    #[serde(serialize_with = "ser_hex")]
    pub mr_td: [u8; 48],
    /// Software-defined configuration id.
    #[serde(serialize_with = "ser_hex")]
    pub mr_config_id: [u8; 48],
    /// Software-defined owner id.
    #[serde(serialize_with = "ser_hex")]
    pub mr_owner: [u8; 48],
    /// Software-defined owner configuration.
    #[serde(serialize_with = "ser_hex")]
    pub mr_owner_config: [u8; 48],
    /// Runtime measurement registers RTMR0..RTMR3.
    #[serde(serialize_with = "ser_hex_list")]
    pub rtmr: [[u8; 48]; 4],
    /// The 64 bytes chosen by the TD when it asked for the quote.
    #[serde(serialize_with = "ser_hex")]
    pub report_data: [u8; 64],
}

/// The quoting enclave's report: a 384-byte SGX report body, quote bytes [770, 1154).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QeReport {
    /// CPU security version.
    #[serde(serialize_with = "ser_hex")]
    pub cpu_svn: [u8; 16],
    /// MISCSELECT.
    pub misc_select: u32,
    /// Enclave attributes.
    #[serde(serialize_with = "ser_hex")]
    pub attributes: [u8; 16],
    /// Measurement of the quoting enclave.
    #[serde(serialize_with = "ser_hex")]
    pub mr_enclave: [u8; 32],
    /// Signer of the quoting enclave.
    #[serde(serialize_with = "ser_hex")]
    pub mr_signer: [u8; 32],
    /// Product id of the quoting enclave.
    pub isv_prod_id: u16,
    /// Security version of the quoting enclave.
    pub isv_svn: u16,
    /// `sha256(attestationKey ‖ qeAuthData) ‖ 0^32`.
    #[serde(serialize_with = "ser_hex")]
    pub report_data: [u8; 64],
}

/// A TDX quote v4 whose structure was checked by [`Quote::parse`].
///
/// Signatures are *not* checked by parsing: see [`crate::verify_dev`] and [`crate::verify_dcap`].
/// Serializes (serde) to an object of `0x`-prefixed hex fields, with the workload id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    raw: Vec<u8>,
    header: QuoteHeader,
    body: TdReportBody,
    auth_data_size: u32,
    signature: [u8; 64],
    attestation_key: [u8; 64],
    cert_data_type: u16,
    cert_data_size: u32,
    qe_report: QeReport,
    qe_report_signature: [u8; 64],
    qe_auth_data: Range<usize>,
    pck_cert_data_type: u16,
    pck_cert_data: Range<usize>,
}

/// Reads `N` bytes at `offset`, or reports the quote as too short.
fn array<const N: usize>(raw: &[u8], offset: usize) -> Result<[u8; N], TeeError> {
    offset
        .checked_add(N)
        .and_then(|end| raw.get(offset..end))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(TeeError::QuoteTooShort {
            length: raw.len(),
            min: offset.saturating_add(N),
        })
}

fn u16_le(raw: &[u8], offset: usize) -> Result<u16, TeeError> {
    array::<2>(raw, offset).map(u16::from_le_bytes)
}

fn u32_le(raw: &[u8], offset: usize) -> Result<u32, TeeError> {
    array::<4>(raw, offset).map(u32::from_le_bytes)
}

impl QuoteHeader {
    fn parse(raw: &[u8]) -> Result<Self, TeeError> {
        Ok(Self {
            version: u16_le(raw, 0)?,
            attestation_key_type: u16_le(raw, 2)?,
            tee_type: u32_le(raw, 4)?,
            qe_svn: u16_le(raw, 8)?,
            pce_svn: u16_le(raw, 10)?,
            qe_vendor_id: array(raw, 12)?,
            user_data: array(raw, 28)?,
        })
    }
}

impl TdReportBody {
    fn parse(raw: &[u8]) -> Result<Self, TeeError> {
        let b = OFFSET_BODY;
        Ok(Self {
            tee_tcb_svn: array(raw, b)?,
            mr_seam: array(raw, b + 16)?,
            mr_signer_seam: array(raw, b + 64)?,
            seam_attributes: array(raw, b + 112)?,
            td_attributes: array(raw, b + 120)?,
            xfam: array(raw, b + 128)?,
            mr_td: array(raw, OFFSET_MRTD)?,
            mr_config_id: array(raw, b + 184)?,
            mr_owner: array(raw, b + 232)?,
            mr_owner_config: array(raw, b + 280)?,
            rtmr: [
                array(raw, OFFSET_RTMR0)?,
                array(raw, OFFSET_RTMR0 + 48)?,
                array(raw, OFFSET_RTMR0 + 96)?,
                array(raw, OFFSET_RTMR0 + 144)?,
            ],
            report_data: array(raw, OFFSET_REPORT_DATA)?,
        })
    }

    /// Whether the TD runs in debug mode (TDATTRIBUTES bit 0): its memory is not confidential.
    pub fn is_debug(&self) -> bool {
        self.td_attributes[0] & 1 != 0
    }
}

impl QeReport {
    /// Parses a 384-byte SGX report body (any other length is rejected).
    pub(crate) fn parse(raw: &[u8]) -> Result<Self, TeeError> {
        if raw.len() != QE_REPORT_LENGTH {
            return Err(TeeError::QuoteTooShort {
                length: raw.len(),
                min: QE_REPORT_LENGTH,
            });
        }
        Ok(Self {
            cpu_svn: array(raw, 0)?,
            misc_select: u32_le(raw, 16)?,
            attributes: array(raw, 48)?,
            mr_enclave: array(raw, 64)?,
            mr_signer: array(raw, 128)?,
            isv_prod_id: u16_le(raw, 256)?,
            isv_svn: u16_le(raw, 258)?,
            report_data: array(raw, 320)?,
        })
    }
}

impl Quote {
    /// Parses a TDX quote v4 and checks its structure.
    ///
    /// Rules (each violation is a distinct [`TeeError`] naming the field and offset):
    /// length in [[`MIN_QUOTE_LENGTH`], [`MAX_QUOTE_LENGTH`]]; version 4; attestation key type 2;
    /// TEE type 0x81; `636 + authDataSize <= length`; certification data type 6;
    /// `770 + certDataSize == 636 + authDataSize`; the QE auth data leaves room for the inner
    /// certification header; inner type 5; the inner data ends exactly where the outer
    /// certification data ends; every byte after `636 + authDataSize` is zero.
    pub fn parse(raw: &[u8]) -> Result<Self, TeeError> {
        let length = raw.len();
        if length < MIN_QUOTE_LENGTH {
            return Err(TeeError::QuoteTooShort {
                length,
                min: MIN_QUOTE_LENGTH,
            });
        }
        if length > MAX_QUOTE_LENGTH {
            return Err(TeeError::QuoteTooLong {
                length,
                max: MAX_QUOTE_LENGTH,
            });
        }

        let header = QuoteHeader::parse(raw)?;
        if header.version != QUOTE_VERSION {
            return Err(TeeError::UnsupportedQuoteVersion {
                version: header.version,
            });
        }
        if header.attestation_key_type != ATTESTATION_KEY_TYPE_ECDSA_P256 {
            return Err(TeeError::UnsupportedAttestationKeyType {
                key_type: header.attestation_key_type,
            });
        }
        if header.tee_type != TEE_TYPE_TDX {
            return Err(TeeError::UnsupportedTeeType {
                tee_type: header.tee_type,
            });
        }

        let auth_data_size = u32_le(raw, OFFSET_AUTH_DATA_SIZE)?;
        let auth_end = OFFSET_AUTH_DATA as u64 + u64::from(auth_data_size);
        if auth_end > length as u64 {
            return Err(TeeError::AuthDataOutOfBounds {
                end: auth_end,
                length,
            });
        }

        let cert_data_type = u16_le(raw, OFFSET_CERT_DATA_TYPE)?;
        if cert_data_type != CERT_DATA_TYPE_QE_REPORT {
            return Err(TeeError::UnsupportedCertificationDataType {
                cert_type: cert_data_type,
            });
        }
        let cert_data_size = u32_le(raw, OFFSET_CERT_DATA_SIZE)?;
        let cert_end = OFFSET_CERT_DATA as u64 + u64::from(cert_data_size);
        if cert_end != auth_end {
            return Err(TeeError::CertificationDataSizeMismatch { cert_end, auth_end });
        }

        let qe_auth_len = usize::from(u16_le(raw, OFFSET_QE_AUTH_DATA_SIZE)?);
        let inner_header = OFFSET_QE_AUTH_DATA + qe_auth_len;
        let inner_header_end = (inner_header + INNER_CERT_HEADER_LENGTH) as u64;
        if inner_header_end > cert_end {
            return Err(TeeError::QeAuthDataOutOfBounds {
                end: inner_header_end,
                cert_end,
            });
        }
        let pck_cert_data_type = u16_le(raw, inner_header)?;
        if pck_cert_data_type != CERT_DATA_TYPE_PCK_CHAIN {
            return Err(TeeError::UnsupportedPckCertDataType {
                cert_type: pck_cert_data_type,
                offset: inner_header,
            });
        }
        let pck_len = u32_le(raw, inner_header + 2)?;
        let pck_end = inner_header_end + u64::from(pck_len);
        if pck_end != cert_end {
            return Err(TeeError::PckCertDataSizeMismatch {
                offset: inner_header + 2,
                end: pck_end,
                cert_end,
            });
        }

        // `auth_end <= length <= MAX_QUOTE_LENGTH`, so it fits in usize.
        let auth_end = auth_end as usize;
        if let Some(pos) = raw
            .get(auth_end..)
            .and_then(|tail| tail.iter().position(|b| *b != 0))
        {
            return Err(TeeError::TrailingData {
                offset: auth_end + pos,
            });
        }

        let qe_report_bytes = raw
            .get(OFFSET_QE_REPORT..OFFSET_QE_REPORT + QE_REPORT_LENGTH)
            .unwrap_or_default();
        Ok(Self {
            header,
            body: TdReportBody::parse(raw)?,
            auth_data_size,
            signature: array(raw, OFFSET_QUOTE_SIGNATURE)?,
            attestation_key: array(raw, OFFSET_ATTESTATION_KEY)?,
            cert_data_type,
            cert_data_size,
            qe_report: QeReport::parse(qe_report_bytes)?,
            qe_report_signature: array(raw, OFFSET_QE_REPORT_SIGNATURE)?,
            qe_auth_data: OFFSET_QE_AUTH_DATA..inner_header,
            pck_cert_data_type,
            pck_cert_data: inner_header + INNER_CERT_HEADER_LENGTH..auth_end,
            raw: raw.to_vec(),
        })
    }

    fn region(&self, range: Range<usize>) -> &[u8] {
        self.raw.get(range).unwrap_or_default()
    }

    /// The raw quote, as given to [`Quote::parse`] (zero padding included).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The header.
    pub fn header(&self) -> &QuoteHeader {
        &self.header
    }

    /// The TD report body.
    pub fn body(&self) -> &TdReportBody {
        &self.body
    }

    /// MRTD.
    pub fn mrtd(&self) -> &[u8; 48] {
        &self.body.mr_td
    }

    /// RTMR0..RTMR3.
    pub fn rtmrs(&self) -> &[[u8; 48]; 4] {
        &self.body.rtmr
    }

    /// REPORTDATA, quote bytes [568, 632).
    pub fn report_data(&self) -> &[u8; 64] {
        &self.body.report_data
    }

    /// Whether the TD runs in debug mode (TDATTRIBUTES bit 0).
    pub fn is_debug_td(&self) -> bool {
        self.body.is_debug()
    }

    /// The workload id `keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)` (240 bytes hashed),
    /// as computed on chain.
    pub fn workload_id(&self) -> B256 {
        let mut buf = [0u8; 240];
        let (mrtd, rtmrs) = buf.split_at_mut(48);
        mrtd.copy_from_slice(&self.body.mr_td);
        for (chunk, rtmr) in rtmrs.chunks_exact_mut(48).zip(&self.body.rtmr) {
            chunk.copy_from_slice(rtmr);
        }
        keccak256(buf)
    }

    /// The bytes covered by the quote signature: header and TD report body, [0, 632).
    pub fn signed_region(&self) -> &[u8] {
        self.region(0..SIGNED_LENGTH)
    }

    /// Auth data size (field at offset 632).
    pub fn auth_data_size(&self) -> u32 {
        self.auth_data_size
    }

    /// Where the auth data, hence the quote proper, ends: `636 + authDataSize`.
    pub fn auth_data_end(&self) -> usize {
        self.pck_cert_data.end
    }

    /// The quote signature `r ‖ s` (big-endian) by the attestation key over
    /// `sha256(signed_region())`.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The attestation public key `x ‖ y` (big-endian).
    pub fn attestation_key(&self) -> &[u8; 64] {
        &self.attestation_key
    }

    /// Certification data type (6).
    pub fn cert_data_type(&self) -> u16 {
        self.cert_data_type
    }

    /// Certification data size (field at offset 766).
    pub fn cert_data_size(&self) -> u32 {
        self.cert_data_size
    }

    /// The parsed QE report.
    pub fn qe_report(&self) -> &QeReport {
        &self.qe_report
    }

    /// The raw QE report, quote bytes [770, 1154).
    pub fn qe_report_bytes(&self) -> &[u8] {
        self.region(OFFSET_QE_REPORT..OFFSET_QE_REPORT + QE_REPORT_LENGTH)
    }

    /// The QE report signature `r ‖ s` by the PCK key over `sha256(qe_report_bytes())`.
    pub fn qe_report_signature(&self) -> &[u8; 64] {
        &self.qe_report_signature
    }

    /// The QE auth data.
    pub fn qe_auth_data(&self) -> &[u8] {
        self.region(self.qe_auth_data.clone())
    }

    /// The inner certification data type (5: PCK certificate chain).
    pub fn pck_cert_data_type(&self) -> u16 {
        self.pck_cert_data_type
    }

    /// The inner certification data: a PEM PCK certificate chain for real quotes, a development
    /// certificate for simulator quotes.
    pub fn pck_cert_data(&self) -> &[u8] {
        self.region(self.pck_cert_data.clone())
    }
}

/// Lower-case hex with a `0x` prefix.
pub(crate) fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub(crate) fn ser_hex<S: Serializer, T: AsRef<[u8]>>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex0x(v.as_ref()))
}

pub(crate) fn ser_hex_list<S: Serializer, T: AsRef<[u8]>>(
    v: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| hex0x(x.as_ref())))
}

#[derive(Serialize)]
struct QuoteJson<'a> {
    length: usize,
    header: &'a QuoteHeader,
    body: &'a TdReportBody,
    workload_id: B256,
    debug_td: bool,
    auth_data_size: u32,
    #[serde(serialize_with = "ser_hex")]
    signature: &'a [u8; 64],
    #[serde(serialize_with = "ser_hex")]
    attestation_key: &'a [u8; 64],
    cert_data_type: u16,
    cert_data_size: u32,
    qe_report: &'a QeReport,
    #[serde(serialize_with = "ser_hex")]
    qe_report_signature: &'a [u8; 64],
    #[serde(serialize_with = "ser_hex")]
    qe_auth_data: &'a [u8],
    pck_cert_data_type: u16,
    #[serde(serialize_with = "ser_hex")]
    pck_cert_data: &'a [u8],
    /// The PCK certification data as text when it is UTF-8 (PEM), trailing NULs removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pck_cert_data_text: Option<&'a str>,
}

impl Serialize for Quote {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let pck = self.pck_cert_data();
        let text = std::str::from_utf8(pck)
            .ok()
            .map(|t| t.trim_end_matches('\0'));
        QuoteJson {
            length: self.raw.len(),
            header: &self.header,
            body: &self.body,
            workload_id: self.workload_id(),
            debug_td: self.is_debug_td(),
            auth_data_size: self.auth_data_size,
            signature: &self.signature,
            attestation_key: &self.attestation_key,
            cert_data_type: self.cert_data_type,
            cert_data_size: self.cert_data_size,
            qe_report: &self.qe_report,
            qe_report_signature: &self.qe_report_signature,
            qe_auth_data: self.qe_auth_data(),
            pck_cert_data_type: self.pck_cert_data_type,
            pck_cert_data: pck,
            pck_cert_data_text: text,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal well-formed quote: empty QE auth data and PCK chain, `padding` zero bytes.
    fn minimal(padding: usize) -> Vec<u8> {
        let mut q = vec![0u8; MIN_QUOTE_LENGTH + padding];
        q[0..2].copy_from_slice(&4u16.to_le_bytes());
        q[2..4].copy_from_slice(&2u16.to_le_bytes());
        q[4..8].copy_from_slice(&0x81u32.to_le_bytes());
        q[632..636].copy_from_slice(&((MIN_QUOTE_LENGTH - 636) as u32).to_le_bytes());
        q[764..766].copy_from_slice(&6u16.to_le_bytes());
        q[766..770].copy_from_slice(&((MIN_QUOTE_LENGTH - 770) as u32).to_le_bytes());
        q[1220..1222].copy_from_slice(&5u16.to_le_bytes());
        q
    }

    #[test]
    fn minimal_quote_parses() {
        let q = Quote::parse(&minimal(0)).unwrap();
        assert_eq!(q.auth_data_size(), 590);
        assert!(q.qe_auth_data().is_empty());
        assert!(q.pck_cert_data().is_empty());
        assert_eq!(q.signed_region().len(), SIGNED_LENGTH);
        assert_eq!(q.qe_report_bytes().len(), QE_REPORT_LENGTH);
        assert_eq!(q.auth_data_end(), MIN_QUOTE_LENGTH);
        let padded = Quote::parse(&minimal(100)).unwrap();
        assert_eq!(padded.as_bytes().len(), MIN_QUOTE_LENGTH + 100);
    }

    #[test]
    fn every_rule_has_its_error() {
        let short = vec![0u8; MIN_QUOTE_LENGTH - 1];
        assert_eq!(
            Quote::parse(&short),
            Err(TeeError::QuoteTooShort {
                length: MIN_QUOTE_LENGTH - 1,
                min: MIN_QUOTE_LENGTH
            })
        );
        assert!(matches!(
            Quote::parse(&minimal(MAX_QUOTE_LENGTH)),
            Err(TeeError::QuoteTooLong { .. })
        ));
        // Exactly the maximum is fine.
        assert!(Quote::parse(&minimal(MAX_QUOTE_LENGTH - MIN_QUOTE_LENGTH)).is_ok());

        let mut q = minimal(0);
        q[0] = 3;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::UnsupportedQuoteVersion { version: 3 })
        );
        let mut q = minimal(0);
        q[2] = 3;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::UnsupportedAttestationKeyType { key_type: 3 })
        );
        let mut q = minimal(0);
        q[4] = 0;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::UnsupportedTeeType { tee_type: 0 })
        );
        let mut q = minimal(0);
        q[632..636].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::AuthDataOutOfBounds {
                end: 636 + u64::from(u32::MAX),
                length: MIN_QUOTE_LENGTH
            })
        );
        let mut q = minimal(0);
        q[764] = 5;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::UnsupportedCertificationDataType { cert_type: 5 })
        );
        let mut q = minimal(0);
        q[766] += 1;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::CertificationDataSizeMismatch {
                cert_end: MIN_QUOTE_LENGTH as u64 + 1,
                auth_end: MIN_QUOTE_LENGTH as u64
            })
        );
        let mut q = minimal(0);
        q[1218] = 1;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::QeAuthDataOutOfBounds {
                end: MIN_QUOTE_LENGTH as u64 + 1,
                cert_end: MIN_QUOTE_LENGTH as u64
            })
        );
        let mut q = minimal(0);
        q[1220] = 6;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::UnsupportedPckCertDataType {
                cert_type: 6,
                offset: 1220
            })
        );
        let mut q = minimal(0);
        q[1222] = 1;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::PckCertDataSizeMismatch {
                offset: 1222,
                end: MIN_QUOTE_LENGTH as u64 + 1,
                cert_end: MIN_QUOTE_LENGTH as u64
            })
        );
        let mut q = minimal(10);
        q[MIN_QUOTE_LENGTH + 7] = 1;
        assert_eq!(
            Quote::parse(&q),
            Err(TeeError::TrailingData {
                offset: MIN_QUOTE_LENGTH + 7
            })
        );
    }

    #[test]
    fn workload_id_hashes_mrtd_and_rtmrs() {
        let mut raw = minimal(0);
        for (i, b) in raw[OFFSET_MRTD..OFFSET_MRTD + 48].iter_mut().enumerate() {
            *b = i as u8;
        }
        for (i, b) in raw[OFFSET_RTMR0..OFFSET_RTMR0 + 192].iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        let q = Quote::parse(&raw).unwrap();
        let mut expected = raw[OFFSET_MRTD..OFFSET_MRTD + 48].to_vec();
        expected.extend_from_slice(&raw[OFFSET_RTMR0..OFFSET_RTMR0 + 192]);
        assert_eq!(q.workload_id(), keccak256(&expected));
        assert_eq!(q.rtmrs()[1], raw[424..472]);
    }
}
