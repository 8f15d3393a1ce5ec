//! Development quotes: structurally real TDX v4 quotes signed by keys derived from a seed.

use crate::{
    TeeError, base64,
    crypto::{public_xy, sha256, sign_digest, verify_digest, verifying_key},
    quote::{
        ATTESTATION_KEY_TYPE_ECDSA_P256, CERT_DATA_TYPE_PCK_CHAIN, CERT_DATA_TYPE_QE_REPORT,
        OFFSET_QE_REPORT, QE_REPORT_LENGTH, QUOTE_VERSION, SIGNED_LENGTH, TEE_TYPE_TDX, hex0x,
    },
};
use hkdf::Hkdf;
use p256::ecdsa::SigningKey;
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use std::{
    fmt,
    io::{Read, Write},
    path::Path,
    sync::Arc,
};
use zeroize::Zeroizing;

/// PEM label of the development PCK certificate.
pub const DEV_CERTIFICATE_PEM_LABEL: &str = "AEGIS DEV PCK CERTIFICATE";
/// Domain separator of the root's signature: it signs `sha256(DOMAIN ‖ pck x ‖ pck y)`.
pub const DEV_CERTIFICATE_DOMAIN: &[u8] = b"aegis-dev-pck-v1";
const DEV_CERTIFICATE_VERSION: u8 = 1;
const DEV_CERTIFICATE_LENGTH: usize = 1 + 64 + 64 + 64;
const PEM_LINE: usize = 64;

/// Intel's QE vendor id, also used by the simulator.
pub(crate) const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];
/// QE auth data of simulator quotes: bytes 0x00..=0x1f (as real quoting enclaves send).
const SIM_QE_AUTH_DATA: [u8; 32] = {
    let mut a = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        a[i] = i as u8;
        i += 1;
    }
    a
};
/// Header user data of simulator quotes: "aegis-tee-sim", zero padded.
const SIM_USER_DATA: &[u8; 13] = b"aegis-tee-sim";
/// XFAM of simulator quotes (the value common on real TDX guests).
const SIM_XFAM: [u8; 8] = [0xe7, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00];
const SIM_QE_MRENCLAVE: [u8; 32] = [0xc0; 32];
const SIM_QE_MRSIGNER: [u8; 32] = [0xc1; 32];
const SIM_QE_PROD_ID: u16 = 2;
const SIM_QE_ISV_SVN: u16 = 1;
const INFO_ROOT: &[u8] = b"aegis-tee-sim root";
const INFO_PCK: &[u8] = b"aegis-tee-sim pck";
const INFO_ATTESTATION: &[u8] = b"aegis-tee-sim attestation";

/// The development certificate by which the development root vouches for a PCK key.
///
/// Binary form (193 bytes): `version (1) ‖ pck x ‖ pck y ‖ root x ‖ root y ‖ r ‖ s`, where
/// `r ‖ s` is the root's ECDSA P-256 signature over `sha256("aegis-dev-pck-v1" ‖ pck x ‖ pck y)`.
/// In a quote it is the type-5 certification data, as a PEM block labelled
/// [`DEV_CERTIFICATE_PEM_LABEL`] with 64-character lines, each ending in `\n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevCertificate {
    /// The certified PCK public key `x ‖ y`.
    pub pck_public_key: [u8; 64],
    /// The issuing root public key `x ‖ y`.
    pub root_public_key: [u8; 64],
    /// The root's signature `r ‖ s`.
    pub signature: [u8; 64],
}

impl DevCertificate {
    /// The digest the root signs: `sha256("aegis-dev-pck-v1" ‖ pck x ‖ pck y)`.
    pub fn signed_digest(pck_public_key: &[u8; 64]) -> [u8; 32] {
        sha256(&[DEV_CERTIFICATE_DOMAIN, pck_public_key])
    }

    /// The 193-byte binary form.
    pub fn to_bytes(&self) -> [u8; DEV_CERTIFICATE_LENGTH] {
        let mut out = [0u8; DEV_CERTIFICATE_LENGTH];
        out[0] = DEV_CERTIFICATE_VERSION;
        out[1..65].copy_from_slice(&self.pck_public_key);
        out[65..129].copy_from_slice(&self.root_public_key);
        out[129..].copy_from_slice(&self.signature);
        out
    }

    /// Parses the binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TeeError> {
        let bytes: &[u8; DEV_CERTIFICATE_LENGTH] = bytes.try_into().map_err(|_| {
            TeeError::dev_cert(format!(
                "{} bytes, expected {DEV_CERTIFICATE_LENGTH}",
                bytes.len()
            ))
        })?;
        let (version, rest) = bytes.split_at(1);
        if version != [DEV_CERTIFICATE_VERSION] {
            return Err(TeeError::dev_cert(format!(
                "version {version:?}, expected {DEV_CERTIFICATE_VERSION}"
            )));
        }
        let (pck, rest) = rest.split_at(64);
        let (root, sig) = rest.split_at(64);
        let key = |s: &[u8]| <[u8; 64]>::try_from(s).unwrap_or([0; 64]);
        Ok(Self {
            pck_public_key: key(pck),
            root_public_key: key(root),
            signature: key(sig),
        })
    }

    /// The PEM form carried in quotes.
    pub fn to_pem(&self) -> String {
        let body = base64::encode(&self.to_bytes());
        let mut pem = format!("-----BEGIN {DEV_CERTIFICATE_PEM_LABEL}-----\n");
        for line in body.as_bytes().chunks(PEM_LINE) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {DEV_CERTIFICATE_PEM_LABEL}-----\n"));
        pem
    }

    /// Parses the PEM form. Only the canonical encoding produced by [`DevCertificate::to_pem`]
    /// is accepted (no other line length, whitespace or trailing bytes).
    pub fn from_pem(pem: &[u8]) -> Result<Self, TeeError> {
        let begin = format!("-----BEGIN {DEV_CERTIFICATE_PEM_LABEL}-----\n");
        let end = format!("-----END {DEV_CERTIFICATE_PEM_LABEL}-----\n");
        let inner = pem
            .strip_prefix(begin.as_bytes())
            .ok_or_else(|| TeeError::dev_cert("missing PEM header"))?
            .strip_suffix(end.as_bytes())
            .ok_or_else(|| TeeError::dev_cert("missing PEM footer"))?;
        let text: Vec<u8> = inner.iter().copied().filter(|b| *b != b'\n').collect();
        let bytes =
            base64::decode(&text).ok_or_else(|| TeeError::dev_cert("invalid base64 body"))?;
        let cert = Self::from_bytes(&bytes)?;
        if cert.to_pem().as_bytes() != pem {
            return Err(TeeError::dev_cert("non-canonical PEM encoding"));
        }
        Ok(cert)
    }

    /// Checks that `root_public_key` issued this certificate and that its signature verifies.
    pub fn verify(&self, root_public_key: &[u8; 64]) -> Result<(), TeeError> {
        if self.root_public_key != *root_public_key {
            return Err(TeeError::DevRootMismatch {
                expected: hex0x(root_public_key),
                found: hex0x(&self.root_public_key),
            });
        }
        let root = verifying_key(root_public_key).ok_or(TeeError::InvalidPublicKey {
            which: "development root key",
        })?;
        if !verify_digest(
            &root,
            &Self::signed_digest(&self.pck_public_key),
            &self.signature,
        ) {
            return Err(TeeError::InvalidDevCertificateSignature);
        }
        Ok(())
    }
}

/// Measurements written into simulator quotes.
///
/// Defaults: MRTD = `0xa0` × 48, RTMR0..3 = `0xa1`, `0xa2`, `0xa3`, `0xa4` × 48.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurements {
    /// MRTD.
    pub mrtd: [u8; 48],
    /// RTMR0..RTMR3.
    pub rtmr: [[u8; 48]; 4],
}

impl Measurements {
    /// `keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)`, what [`crate::Quote::workload_id`]
    /// gives for quotes with these measurements.
    pub fn workload_id(&self) -> alloy_primitives::B256 {
        let mut buf = Vec::with_capacity(240);
        buf.extend_from_slice(&self.mrtd);
        for rtmr in &self.rtmr {
            buf.extend_from_slice(rtmr);
        }
        alloy_primitives::keccak256(buf)
    }
}

impl Default for Measurements {
    fn default() -> Self {
        Self {
            mrtd: [0xa0; 48],
            rtmr: [[0xa1; 48], [0xa2; 48], [0xa3; 48], [0xa4; 48]],
        }
    }
}

/// Produces TDX v4 quotes signed by development keys under a development root.
///
/// From a 32-byte seed, three P-256 keys are derived with HKDF-SHA256 (no salt, the seed as
/// input key material): the root (info `"aegis-tee-sim root"`), the PCK key
/// (`"aegis-tee-sim pck"`) and the attestation key (`"aegis-tee-sim attestation"`). Each key is
/// the first 32-byte output, for info, info ‖ 0x01, info ‖ 0x02, ..., that is a valid scalar.
///
/// The seed is not kept and never printed; `Debug` shows public keys only.
///
/// Cloning is cheap (the keys are shared).
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    attestation: SigningKey,
    pck: SigningKey,
    root_public: [u8; 64],
    pck_public: [u8; 64],
    attestation_public: [u8; 64],
    certificate: DevCertificate,
    certificate_pem: Vec<u8>,
    measurements: Measurements,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Simulator")
            .field("root_public_key", &hex0x(&inner.root_public))
            .field("pck_public_key", &hex0x(&inner.pck_public))
            .field("attestation_public_key", &hex0x(&inner.attestation_public))
            .field("measurements", &inner.measurements)
            .finish_non_exhaustive()
    }
}

fn derive_key(seed: &[u8; 32], info: &[u8], which: &'static str) -> Result<SigningKey, TeeError> {
    let hk = Hkdf::<Sha256>::new(None, seed);
    for counter in 0u8..=255 {
        let mut okm = Zeroizing::new([0u8; 32]);
        let result = if counter == 0 {
            hk.expand(info, okm.as_mut())
        } else {
            hk.expand_multi_info(&[info, &[counter]], okm.as_mut())
        };
        if result.is_err() {
            break;
        }
        if let Ok(key) = SigningKey::from_slice(okm.as_ref()) {
            return Ok(key);
        }
    }
    Err(TeeError::KeyDerivation { which })
}

impl Simulator {
    /// A simulator with the keys derived from `seed` and the default [`Measurements`].
    pub fn new(seed: [u8; 32]) -> Result<Self, TeeError> {
        let seed = Zeroizing::new(seed);
        let root = derive_key(&seed, INFO_ROOT, "root")?;
        let pck = derive_key(&seed, INFO_PCK, "pck")?;
        let attestation = derive_key(&seed, INFO_ATTESTATION, "attestation")?;
        let root_public = public_xy(root.verifying_key());
        let pck_public = public_xy(pck.verifying_key());
        let attestation_public = public_xy(attestation.verifying_key());
        let signature = sign_digest(&root, &DevCertificate::signed_digest(&pck_public))
            .ok_or(TeeError::KeyDerivation { which: "root" })?;
        let certificate = DevCertificate {
            pck_public_key: pck_public,
            root_public_key: root_public,
            signature,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                attestation,
                pck,
                root_public,
                pck_public,
                attestation_public,
                certificate_pem: certificate.to_pem().into_bytes(),
                certificate,
                measurements: Measurements::default(),
            }),
        })
    }

    /// A simulator whose seed is kept in `path` (32 raw bytes). If the file does not exist it is
    /// created with a random seed and mode 0600.
    pub fn from_seed_file(path: impl AsRef<Path>) -> Result<Self, TeeError> {
        let path = path.as_ref();
        let err = |reason: String| TeeError::SeedFile {
            path: path.to_path_buf(),
            reason,
        };
        let mut seed = Zeroizing::new([0u8; 32]);
        match std::fs::File::open(path) {
            Ok(file) => read_seed(file, &mut seed, path).map_err(err)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                OsRng
                    .try_fill_bytes(seed.as_mut())
                    .map_err(|e| err(format!("no randomness: {e}")))?;
                match create_seed_file(path, &seed) {
                    Ok(()) => tracing::info!(
                        target: "aegis::tee",
                        path = %path.display(),
                        "created a new simulator seed file"
                    ),
                    // Another process created it in the meantime: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
                        read_seed(file, &mut seed, path).map_err(err)?;
                    }
                    Err(e) => return Err(err(format!("cannot create: {e}"))),
                }
            }
            Err(e) => return Err(err(e.to_string())),
        }
        Self::new(*seed)
    }

    /// Replaces the measurements written into quotes.
    pub fn with_measurements(mut self, measurements: Measurements) -> Self {
        Arc::make_mut(&mut self.inner).measurements = measurements;
        self
    }

    /// The measurements written into quotes.
    pub fn measurements(&self) -> &Measurements {
        &self.inner.measurements
    }

    /// The development root public key `x ‖ y`, to give to [`crate::verify_dev`].
    pub fn dev_root_public_key(&self) -> [u8; 64] {
        self.inner.root_public
    }

    /// The PCK public key `x ‖ y` (what `DevPckVerifier` allow-lists on chain).
    pub fn pck_public_key(&self) -> [u8; 64] {
        self.inner.pck_public
    }

    /// The attestation public key `x ‖ y` carried in quotes.
    pub fn attestation_public_key(&self) -> [u8; 64] {
        self.inner.attestation_public
    }

    /// The development certificate carried in quotes.
    pub fn dev_certificate(&self) -> &DevCertificate {
        &self.inner.certificate
    }

    /// A quote over `report_data`.
    pub fn quote(&self, report_data: [u8; 64]) -> Vec<u8> {
        self.inner.quote(report_data)
    }
}

impl Inner {
    fn quote(&self, report_data: [u8; 64]) -> Vec<u8> {
        let pem = &self.certificate_pem;
        // cert data = QE report ‖ QE report signature ‖ QE auth size ‖ QE auth data ‖
        //             PCK type ‖ PCK size ‖ PEM
        let cert_data_size = QE_REPORT_LENGTH + 64 + 2 + SIM_QE_AUTH_DATA.len() + 6 + pem.len();
        let auth_data_size = 64 + 64 + 6 + cert_data_size;
        let mut q = Vec::with_capacity(636 + auth_data_size);

        // Header [0, 48).
        q.extend_from_slice(&QUOTE_VERSION.to_le_bytes());
        q.extend_from_slice(&ATTESTATION_KEY_TYPE_ECDSA_P256.to_le_bytes());
        q.extend_from_slice(&TEE_TYPE_TDX.to_le_bytes());
        q.extend_from_slice(&0u16.to_le_bytes()); // QE SVN
        q.extend_from_slice(&0u16.to_le_bytes()); // PCE SVN
        q.extend_from_slice(&INTEL_QE_VENDOR_ID);
        let mut user_data = [0u8; 20];
        user_data[..SIM_USER_DATA.len()].copy_from_slice(SIM_USER_DATA);
        q.extend_from_slice(&user_data);

        // TD report body [48, 632).
        q.extend_from_slice(&[0u8; 16]); // TEE_TCB_SVN
        q.extend_from_slice(&[0u8; 48]); // MRSEAM
        q.extend_from_slice(&[0u8; 48]); // MRSIGNERSEAM
        q.extend_from_slice(&[0u8; 8]); // SEAMATTRIBUTES
        q.extend_from_slice(&[0u8; 8]); // TDATTRIBUTES (not debug)
        q.extend_from_slice(&SIM_XFAM);
        q.extend_from_slice(&self.measurements.mrtd);
        q.extend_from_slice(&[0u8; 48 * 3]); // MRCONFIGID, MROWNER, MROWNERCONFIG
        for rtmr in &self.measurements.rtmr {
            q.extend_from_slice(rtmr);
        }
        q.extend_from_slice(&report_data);
        debug_assert_eq!(q.len(), SIGNED_LENGTH);

        // Auth data.
        let quote_sig = self.sign(&self.attestation, &sha256(&[&q]));
        q.extend_from_slice(&(auth_data_size as u32).to_le_bytes());
        q.extend_from_slice(&quote_sig);
        q.extend_from_slice(&self.attestation_public);
        q.extend_from_slice(&CERT_DATA_TYPE_QE_REPORT.to_le_bytes());
        q.extend_from_slice(&(cert_data_size as u32).to_le_bytes());

        // QE report [770, 1154).
        let qe_report = self.qe_report();
        q.extend_from_slice(&qe_report);
        q.extend_from_slice(&self.sign(&self.pck, &sha256(&[&qe_report])));
        q.extend_from_slice(&(SIM_QE_AUTH_DATA.len() as u16).to_le_bytes());
        q.extend_from_slice(&SIM_QE_AUTH_DATA);
        q.extend_from_slice(&CERT_DATA_TYPE_PCK_CHAIN.to_le_bytes());
        q.extend_from_slice(&(pem.len() as u32).to_le_bytes());
        q.extend_from_slice(pem);
        debug_assert_eq!(q.len(), 636 + auth_data_size);
        debug_assert_eq!(
            q.get(OFFSET_QE_REPORT..OFFSET_QE_REPORT + QE_REPORT_LENGTH),
            Some(&qe_report[..])
        );
        q
    }

    fn qe_report(&self) -> [u8; QE_REPORT_LENGTH] {
        let mut r = [0u8; QE_REPORT_LENGTH];
        // CPUSVN [0,16), MISCSELECT [16,20), ATTRIBUTES [48,64) stay zero.
        r[64..96].copy_from_slice(&SIM_QE_MRENCLAVE);
        r[128..160].copy_from_slice(&SIM_QE_MRSIGNER);
        r[256..258].copy_from_slice(&SIM_QE_PROD_ID.to_le_bytes());
        r[258..260].copy_from_slice(&SIM_QE_ISV_SVN.to_le_bytes());
        r[320..352].copy_from_slice(&sha256(&[&self.attestation_public, &SIM_QE_AUTH_DATA]));
        r
    }

    fn sign(&self, key: &SigningKey, digest: &[u8; 32]) -> [u8; 64] {
        sign_digest(key, digest).unwrap_or_else(|| {
            // RFC 6979 signing fails only with negligible probability; the quote then simply
            // does not verify.
            tracing::error!(target: "aegis::tee", "simulator signing failed");
            [0u8; 64]
        })
    }
}

fn read_seed(mut file: std::fs::File, seed: &mut [u8; 32], path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = file.metadata()
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            target: "aegis::tee",
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "simulator seed file is readable by other users"
        );
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(33));
    (&mut file)
        .take(33)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    let bytes: &[u8; 32] = buf
        .as_slice()
        .try_into()
        .map_err(|_| format!("expected 32 bytes, found {}", buf.len()))?;
    seed.copy_from_slice(bytes);
    Ok(())
}

fn create_seed_file(path: &Path, seed: &[u8; 32]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(seed)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measurements_workload_id_is_the_one_its_quotes_carry() {
        let sim = Simulator::new([7; 32])
            .unwrap()
            .with_measurements(Measurements {
                mrtd: [1; 48],
                rtmr: [[2; 48], [3; 48], [4; 48], [5; 48]],
            });
        let quote = crate::Quote::parse(&sim.quote([0; 64])).unwrap();
        assert_eq!(sim.measurements().workload_id(), quote.workload_id());
        assert_ne!(
            sim.measurements().workload_id(),
            Measurements::default().workload_id()
        );
    }

    #[test]
    fn derivation_is_deterministic_and_distinct() {
        let a = Simulator::new([7; 32]).unwrap();
        let b = Simulator::new([7; 32]).unwrap();
        let c = Simulator::new([8; 32]).unwrap();
        assert_eq!(a.dev_root_public_key(), b.dev_root_public_key());
        assert_eq!(a.pck_public_key(), b.pck_public_key());
        assert_eq!(a.quote([1; 64]), b.quote([1; 64]));
        assert_ne!(a.dev_root_public_key(), c.dev_root_public_key());
        let keys = [
            a.dev_root_public_key(),
            a.pck_public_key(),
            a.attestation_public_key(),
        ];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
    }

    #[test]
    fn debug_shows_no_secrets() {
        let sim = Simulator::new([0x5a; 32]).unwrap();
        let dbg = format!("{sim:?}");
        assert!(dbg.contains(&hex::encode(sim.dev_root_public_key())));
        assert!(!dbg.contains("5a5a5a5a"));
        let secret = hex::encode(sim.inner.attestation.to_bytes());
        assert!(!dbg.contains(&secret));
    }

    #[test]
    fn certificate_pem_round_trip_and_strictness() {
        let sim = Simulator::new([1; 32]).unwrap();
        let cert = *sim.dev_certificate();
        let pem = cert.to_pem();
        assert!(pem.starts_with("-----BEGIN AEGIS DEV PCK CERTIFICATE-----\n"));
        assert!(pem.ends_with("-----END AEGIS DEV PCK CERTIFICATE-----\n"));
        assert_eq!(DevCertificate::from_pem(pem.as_bytes()).unwrap(), cert);
        cert.verify(&sim.dev_root_public_key()).unwrap();

        let unwrapped = pem.replacen('\n', "", 2).replacen(
            "-----BEGIN AEGIS DEV PCK CERTIFICATE-----",
            "-----BEGIN AEGIS DEV PCK CERTIFICATE-----\n",
            1,
        );
        assert!(DevCertificate::from_pem(unwrapped.as_bytes()).is_err());
        let crlf = pem.replace('\n', "\r\n");
        assert!(DevCertificate::from_pem(crlf.as_bytes()).is_err());
        let mut trailing = pem.clone().into_bytes();
        trailing.push(0);
        assert!(DevCertificate::from_pem(&trailing).is_err());

        let mut bytes = cert.to_bytes();
        bytes[0] = 2;
        assert!(DevCertificate::from_bytes(&bytes).is_err());
        assert!(DevCertificate::from_bytes(&bytes[1..]).is_err());

        let other = Simulator::new([2; 32]).unwrap();
        assert!(matches!(
            cert.verify(&other.dev_root_public_key()),
            Err(TeeError::DevRootMismatch { .. })
        ));
        let forged = DevCertificate {
            pck_public_key: other.pck_public_key(),
            ..cert
        };
        assert_eq!(
            forged.verify(&sim.dev_root_public_key()),
            Err(TeeError::InvalidDevCertificateSignature)
        );
    }

    #[test]
    fn seed_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.seed");
        let a = Simulator::from_seed_file(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 32);
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let b = Simulator::from_seed_file(&path).unwrap();
        assert_eq!(a.dev_root_public_key(), b.dev_root_public_key());
        let seed: [u8; 32] = std::fs::read(&path).unwrap().try_into().unwrap();
        let c = Simulator::new(seed).unwrap();
        assert_eq!(a.pck_public_key(), c.pck_public_key());

        std::fs::write(&path, [0u8; 31]).unwrap();
        let err = Simulator::from_seed_file(&path).unwrap_err();
        assert!(
            matches!(&err, TeeError::SeedFile { reason, .. } if reason.contains("found 31")),
            "{err}"
        );
        std::fs::write(&path, [0u8; 40]).unwrap();
        assert!(Simulator::from_seed_file(&path).is_err());
        let missing_dir = dir.path().join("nope").join("sim.seed");
        assert!(matches!(
            Simulator::from_seed_file(missing_dir),
            Err(TeeError::SeedFile { .. })
        ));
    }

    #[test]
    fn simulator_is_clone_send_sync() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<Simulator>();
    }
}
