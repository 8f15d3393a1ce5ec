//! Property tests: the parser and the verifiers never panic, whatever the bytes.

use aegis_tee::{Quote, Simulator, verify_dcap, verify_dev};
use proptest::prelude::*;
use std::sync::LazyLock;

const TDX_QUOTE: &[u8] = include_bytes!("fixtures/tdx_quote");
const TDX_COLLATERAL: &[u8] = include_bytes!("fixtures/tdx_quote_collateral.json");

static SIM: LazyLock<Simulator> = LazyLock::new(|| Simulator::new([0x99; 32]).unwrap());
static SIM_QUOTE: LazyLock<Vec<u8>> = LazyLock::new(|| SIM.quote([0x31; 64]));

/// Offsets of the fields that steer parsing (sizes and types), plus the simulator quote's
/// inner header, so that mutations reach every branch.
const STRUCTURAL: &[usize] = &[0, 2, 4, 632, 764, 766, 1218, 1252, 1254];

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Le32(usize, u32),
    Truncate(usize),
    Extend(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        3 => (prop::sample::select(STRUCTURAL), any::<u32>(), 0usize..4)
            .prop_map(|(o, v, d)| Mutation::Le32(o + d, v)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Mutation::Extend),
    ]
}

fn apply(base: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut q = base.to_vec();
    for m in mutations {
        match m {
            Mutation::Set(i, b) if !q.is_empty() => {
                let i = i % q.len();
                q[i] = *b;
            }
            Mutation::Set(..) => {}
            Mutation::Le32(o, v) => {
                if let Some(s) = q.get_mut(*o..*o + 4) {
                    s.copy_from_slice(&v.to_le_bytes());
                }
            }
            Mutation::Truncate(n) => {
                let n = n % (q.len() + 1);
                q.truncate(n);
            }
            Mutation::Extend(bytes) => q.extend_from_slice(bytes),
        }
    }
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Quote::parse(&raw);
        let _ = verify_dev(&raw, &SIM.dev_root_public_key());
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes_behind_a_valid_header(
        tail in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut raw = SIM_QUOTE[..48].to_vec();
        raw.extend_from_slice(&tail);
        let _ = Quote::parse(&raw);
    }

    #[test]
    fn mutated_simulator_quotes(mutations in prop::collection::vec(mutation(), 1..6)) {
        let raw = apply(&SIM_QUOTE, &mutations);
        let parsed = Quote::parse(&raw);
        let verified = verify_dev(&raw, &SIM.dev_root_public_key());
        if let Ok(v) = &verified {
            // Only zero padding may differ from the original.
            prop_assert!(raw.starts_with(&SIM_QUOTE));
            prop_assert!(raw[SIM_QUOTE.len()..].iter().all(|b| *b == 0));
            prop_assert_eq!(v.report_data, [0x31; 64]);
        }
        if parsed.is_err() {
            prop_assert!(verified.is_err());
        }
    }

    #[test]
    fn mutated_real_quotes(mutations in prop::collection::vec(mutation(), 1..6)) {
        let raw = apply(TDX_QUOTE, &mutations);
        if let Ok(q) = Quote::parse(&raw) {
            // Whatever parses is self-consistent.
            prop_assert_eq!(q.as_bytes(), &raw[..]);
            prop_assert_eq!(q.signed_region().len(), 632);
            prop_assert!(q.auth_data_end() <= raw.len());
            let _ = serde_json::to_string(&q).unwrap();
        }
        let _ = verify_dev(&raw, &SIM.dev_root_public_key());
    }
}

proptest! {
    // dcap-qvl is slower (milliseconds per quote): fewer cases.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_quotes_never_verify(mutations in prop::collection::vec(mutation(), 1..4)) {
        let raw = apply(TDX_QUOTE, &mutations);
        let when = 1_751_328_000; // 2025-07-01T00:00:00Z
        if verify_dcap(&raw, TDX_COLLATERAL, when).is_ok() {
            // Everything up to the PCK chain is signed. The chain's PEM text is not
            // authenticated byte for byte (the certificates are): a separator newline may
            // become a NUL, for instance, and the same certificates are still read.
            prop_assert!(raw.starts_with(&TDX_QUOTE[..1220 + 32 + 6]));
            prop_assert_eq!(raw.len() >= 636 + 4300, true);
        }
    }
}
