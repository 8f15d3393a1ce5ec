//! Parsing and verification of real (Intel-signed) and simulator quotes.

use aegis_tee::{
    Measurements, Quote, ReportDataBinding, ReportDataDomain, ReportDataPurpose, Simulator,
    TeeError, TrustRoot, parse_rfc3339, verify_dcap, verify_dev,
};
use alloy_primitives::{Address, B256, keccak256};

const TDX_QUOTE: &[u8] = include_bytes!("fixtures/tdx_quote");
const TDX_COLLATERAL: &[u8] = include_bytes!("fixtures/tdx_quote_collateral.json");
const TAPPD_QUOTE_HEX: &str = include_str!("fixtures/quote-from-tappd.hex");
const REPORT_DATA_HEX: &str = "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9\
                               eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20";

fn at(s: &str) -> u64 {
    parse_rfc3339(s).unwrap()
}

fn sim() -> Simulator {
    Simulator::new([0x42; 32]).unwrap()
}

// ----- real quotes -----------------------------------------------------------------------------

#[test]
fn real_quote_fields() {
    let q = Quote::parse(TDX_QUOTE).unwrap();
    assert_eq!(q.header().version, 4);
    assert_eq!(q.header().attestation_key_type, 2);
    assert_eq!(q.header().tee_type, 0x81);
    assert_eq!(
        hex::encode(q.header().qe_vendor_id),
        "939a7233f79c4ca9940a0db3957f0607"
    );
    assert!(hex::encode(q.mrtd()).starts_with("91eb2b44d141d4ece09f0c75c2c53d24"));
    assert_eq!(hex::encode(q.report_data()), REPORT_DATA_HEX);
    assert_eq!(q.auth_data_size(), 4300);
    assert_eq!(q.auth_data_end(), 636 + 4300);
    assert_eq!(q.cert_data_type(), 6);
    assert_eq!(q.cert_data_size() as usize, 636 + 4300 - 770);
    assert_eq!(q.pck_cert_data_type(), 5);
    assert!(
        q.pck_cert_data()
            .starts_with(b"-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(q.qe_auth_data(), (0u8..32).collect::<Vec<_>>());
    assert!(!q.is_debug_td());
    assert_eq!(q.as_bytes(), TDX_QUOTE);
    assert_eq!(q.signed_region(), &TDX_QUOTE[..632]);
    assert_eq!(q.qe_report_bytes(), &TDX_QUOTE[770..1154]);
    assert_eq!(&q.qe_report().report_data[32..], &[0u8; 32]);
    assert_eq!(
        q.body().td_attributes,
        <[u8; 8]>::try_from(&TDX_QUOTE[168..176]).unwrap()
    );

    let mut preimage = TDX_QUOTE[184..232].to_vec();
    preimage.extend_from_slice(&TDX_QUOTE[376..568]);
    assert_eq!(q.workload_id(), keccak256(&preimage));
}

#[test]
fn real_quote_json() {
    let q = Quote::parse(TDX_QUOTE).unwrap();
    let v = serde_json::to_value(&q).unwrap();
    assert_eq!(v["header"]["version"], 4);
    assert_eq!(v["header"]["tee_type"], 0x81);
    assert_eq!(v["body"]["report_data"], format!("0x{REPORT_DATA_HEX}"));
    assert_eq!(v["body"]["rtmr"].as_array().unwrap().len(), 4);
    assert_eq!(v["auth_data_size"], 4300);
    assert_eq!(v["workload_id"], q.workload_id().to_string());
    assert!(
        v["pck_cert_data_text"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        v["qe_report"]["mr_signer"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
}

#[test]
fn tappd_quote_parses() {
    let raw = hex::decode(TAPPD_QUOTE_HEX.trim()).unwrap();
    assert_eq!(raw.len(), 5006);
    let q = Quote::parse(&raw).unwrap();
    assert_eq!(q.cert_data_type(), 6);
    assert_eq!(q.pck_cert_data_type(), 5);
    assert!(
        q.pck_cert_data()
            .starts_with(b"-----BEGIN CERTIFICATE-----")
    );
    // A development root does not vouch for Intel's PCK chain.
    assert!(matches!(
        verify_dev(&raw, &sim().dev_root_public_key()),
        Err(TeeError::MalformedDevCertificate { .. })
    ));
}

#[test]
fn real_quote_verifies_inside_the_collateral_window() {
    let v = verify_dcap(TDX_QUOTE, TDX_COLLATERAL, at("2025-07-01T00:00:00Z")).unwrap();
    assert_eq!(v.tcb_status, "UpToDate");
    assert!(v.advisory_ids.is_empty());
    assert_eq!(v.root, TrustRoot::IntelSgxRootCa);
    assert_eq!(hex::encode(v.report_data), REPORT_DATA_HEX);
    assert_eq!(v.workload_id, v.quote.workload_id());
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["tcb_status"], "UpToDate");
    assert_eq!(json["root"]["kind"], "intel_sgx_root_ca");
}

#[test]
fn real_quote_fails_outside_the_collateral_window() {
    for when in ["2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"] {
        let err = verify_dcap(TDX_QUOTE, TDX_COLLATERAL, at(when)).unwrap_err();
        assert!(
            matches!(err, TeeError::DcapVerification { .. }),
            "{when}: {err}"
        );
    }
}

#[test]
fn real_quote_tampering_is_detected() {
    let when = at("2025-07-01T00:00:00Z");
    // Signed region, quote signature, attestation key, QE report, QE signature, QE auth data.
    for offset in [0x30, 200, 600, 631, 640, 710, 800, 1100, 1160, 1225] {
        let mut q = TDX_QUOTE.to_vec();
        q[offset] ^= 0x01;
        assert!(
            verify_dcap(&q, TDX_COLLATERAL, when).is_err(),
            "flip at {offset} accepted"
        );
    }
    // A non-zero byte in the padding is refused by our parser before dcap-qvl sees it.
    let mut q = TDX_QUOTE.to_vec();
    let last = q.len() - 1;
    q[last] = 1;
    assert_eq!(
        verify_dcap(&q, TDX_COLLATERAL, when).unwrap_err(),
        TeeError::TrailingData { offset: last }
    );
}

#[test]
fn collateral_errors() {
    let when = at("2025-07-01T00:00:00Z");
    assert!(matches!(
        verify_dcap(TDX_QUOTE, b"{}", when),
        Err(TeeError::InvalidCollateral { .. })
    ));
    assert!(matches!(
        verify_dcap(TDX_QUOTE, b"\xff", when),
        Err(TeeError::InvalidCollateral { .. })
    ));
    // A simulator quote is well-formed but not Intel-signed.
    let q = sim().quote([0; 64]);
    assert!(matches!(
        verify_dcap(&q, TDX_COLLATERAL, when),
        Err(TeeError::DcapVerification { .. })
    ));
}

// ----- simulator quotes ------------------------------------------------------------------------

#[test]
fn simulator_quote_round_trip() {
    let sim = sim();
    let binding = ReportDataBinding {
        sequencer: Address::repeat_byte(0x11),
        mldsa_key_hash: keccak256(b"mldsa"),
        slhdsa_key_hash: keccak256(b"slhdsa"),
        encryption_key_hash: keccak256(b"mlkem"),
        binding: B256::repeat_byte(0x22),
        domain: ReportDataDomain::off_chain(ReportDataPurpose::Identity, 901),
    };
    let raw = sim.quote(binding.report_data());
    let v = verify_dev(&raw, &sim.dev_root_public_key()).unwrap();
    assert!(binding.matches(&v.report_data));
    assert_eq!(v.tcb_status, "development");
    assert_eq!(
        v.root,
        TrustRoot::Development {
            root_public_key: sim.dev_root_public_key(),
            pck_public_key: sim.pck_public_key(),
        }
    );
    let q = &v.quote;
    assert_eq!(q.header().qe_vendor_id, TDX_QUOTE[12..28]);
    assert_eq!(q.attestation_key(), &sim.attestation_public_key());
    assert_eq!(q.qe_auth_data(), (0u8..32).collect::<Vec<_>>());
    assert!(
        q.pck_cert_data()
            .starts_with(b"-----BEGIN AEGIS DEV PCK CERTIFICATE-----\n")
    );
    // Default measurements and the workload id.
    let m = Measurements::default();
    assert_eq!(q.mrtd(), &[0xa0; 48]);
    assert_eq!(q.rtmrs(), &m.rtmr);
    let mut preimage = vec![0xa0u8; 48];
    for b in [0xa1u8, 0xa2, 0xa3, 0xa4] {
        preimage.extend_from_slice(&[b; 48]);
    }
    assert_eq!(v.workload_id, keccak256(&preimage));

    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["root"]["kind"], "development");
    assert_eq!(
        json["root"]["pck_public_key"],
        format!("0x{}", hex::encode(sim.pck_public_key()))
    );
}

#[test]
fn simulator_measurements_are_configurable() {
    let m = Measurements {
        mrtd: [1; 48],
        rtmr: [[2; 48], [3; 48], [4; 48], [5; 48]],
    };
    let sim = sim().with_measurements(m);
    let v = verify_dev(&sim.quote([9; 64]), &sim.dev_root_public_key()).unwrap();
    assert_eq!(v.quote.mrtd(), &m.mrtd);
    assert_eq!(v.quote.rtmrs(), &m.rtmr);
    assert_ne!(v.workload_id, {
        let d = Simulator::new([0x42; 32]).unwrap();
        verify_dev(&d.quote([9; 64]), &d.dev_root_public_key())
            .unwrap()
            .workload_id
    });
}

#[test]
fn wrong_root_is_refused() {
    let sim = sim();
    let other = Simulator::new([0x43; 32]).unwrap();
    let raw = sim.quote([0; 64]);
    assert!(matches!(
        verify_dev(&raw, &other.dev_root_public_key()),
        Err(TeeError::DevRootMismatch { .. })
    ));
    // A root that is not a curve point.
    assert!(matches!(
        verify_dev(&raw, &[0xff; 64]),
        Err(TeeError::DevRootMismatch { .. })
    ));
}

#[test]
fn substituted_parts_are_refused() {
    let a = sim();
    let b = Simulator::new([0x43; 32]).unwrap();
    let qa = a.quote([1; 64]);
    let qb = b.quote([1; 64]);
    let root = a.dev_root_public_key();

    // b's attestation key and quote signature in a's quote: the QE report no longer binds it.
    let mut q = qa.clone();
    q[636..764].copy_from_slice(&qb[636..764]);
    assert_eq!(
        verify_dev(&q, &root).unwrap_err(),
        TeeError::QeReportDataMismatch
    );
    // b's QE report and signature as well: b's PCK key is not certified by a's root... but the
    // certificate is a's, so the QE signature fails.
    q[770..1218].copy_from_slice(&qb[770..1218]);
    assert_eq!(
        verify_dev(&q, &root).unwrap_err(),
        TeeError::InvalidQeReportSignature
    );
    // A quote signature over other report data.
    let mut q = qa.clone();
    let other = a.quote([2; 64]);
    q[636..700].copy_from_slice(&other[636..700]);
    assert_eq!(
        verify_dev(&q, &root).unwrap_err(),
        TeeError::InvalidQuoteSignature
    );
}

#[test]
fn debug_td_is_refused() {
    let sim = sim();
    let mut q = sim.quote([0; 64]);
    q[168] |= 1;
    assert_eq!(
        verify_dev(&q, &sim.dev_root_public_key()).unwrap_err(),
        TeeError::DebugTd
    );
}

#[test]
fn zero_padding_is_accepted_and_checked() {
    let sim = sim();
    let mut q = sim.quote([5; 64]);
    let end = q.len();
    q.extend_from_slice(&[0u8; 70]);
    let v = verify_dev(&q, &sim.dev_root_public_key()).unwrap();
    assert_eq!(v.quote.auth_data_end(), end);
    q[end + 69] = 0x80;
    assert_eq!(
        verify_dev(&q, &sim.dev_root_public_key()).unwrap_err(),
        TeeError::TrailingData { offset: end + 69 }
    );
}

/// Flipping any single bit of a simulator quote (zero padding included) must make it fail.
#[test]
fn every_single_bit_flip_is_detected() {
    let sim = sim();
    let root = sim.dev_root_public_key();
    let mut q = sim.quote([0x5c; 64]);
    q.extend_from_slice(&[0u8; 16]);
    verify_dev(&q, &root).unwrap();
    for i in 0..q.len() {
        for bit in 0..8 {
            q[i] ^= 1 << bit;
            assert!(
                verify_dev(&q, &root).is_err(),
                "flip of bit {bit} of byte {i} accepted"
            );
            q[i] ^= 1 << bit;
        }
    }
    verify_dev(&q, &root).unwrap();
}

#[test]
fn truncation_and_extension_are_detected() {
    let sim = sim();
    let root = sim.dev_root_public_key();
    let q = sim.quote([0; 64]);
    for len in 0..q.len() {
        assert!(
            verify_dev(&q[..len], &root).is_err(),
            "prefix {len} accepted"
        );
    }
    let mut longer = q.clone();
    longer.push(1);
    assert!(verify_dev(&longer, &root).is_err());
}

/// The simulator quote the contracts register (`test/fixtures/sim`, made by `generate.sh` from
/// a Python computation of REPORTDATA v3): the Rust binding of the same inputs is exactly its
/// REPORTDATA, so Rust, Python and `SequencerAttestation` agree on the layout.
#[test]
fn contracts_simulator_fixture_binds_rust_report_data() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../test/fixtures/sim");
    let read_hex = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        hex::decode(text.trim()).unwrap()
    };
    let quote = read_hex("quote.hex");
    let root: [u8; 64] = read_hex("root.hex").try_into().unwrap();
    let verified = verify_dev(&quote, &root).unwrap();
    let label = |text: &str| keccak256(text.as_bytes());
    let binding = ReportDataBinding {
        sequencer: alloy_primitives::address!("0xd2E65a1a6C3151e2B2b4FA44B11372681Eb819A6"),
        mldsa_key_hash: label("QuantumAegis sim fixture: ML-DSA-87 public key"),
        slhdsa_key_hash: label("QuantumAegis sim fixture: SLH-DSA-256s public key"),
        encryption_key_hash: label("QuantumAegis sim fixture: ML-KEM encryption public key"),
        binding: label("QuantumAegis sim fixture: registration nonce 1"),
        domain: ReportDataDomain::on_chain(
            ReportDataPurpose::Registration,
            901,
            alloy_primitives::address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
        ),
    };
    assert!(binding.matches(&verified.report_data));
    assert_eq!(
        binding.commitment(),
        alloy_primitives::b256!(
            "0x4f2857ddb3922ab3f9a9999ce9e4383f1699d2c64a1457e7d38be9455fb08023"
        )
    );
}
